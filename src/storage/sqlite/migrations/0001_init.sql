-- agentd schema, version 1. Every top-level object carries its tenant; JSON lives in TEXT
-- columns; timestamps are ms since the epoch.

CREATE TABLE assistants (
  assistant_id TEXT PRIMARY KEY,
  tenant       TEXT NOT NULL,
  graph_id     TEXT NOT NULL,
  name         TEXT NOT NULL,
  description  TEXT,
  config       TEXT NOT NULL,
  context      TEXT NOT NULL,
  metadata     TEXT NOT NULL,
  version      INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX assistants_tenant_created ON assistants (tenant, created_at);
CREATE INDEX assistants_tenant_graph ON assistants (tenant, graph_id);

CREATE TABLE assistant_versions (
  assistant_id TEXT NOT NULL REFERENCES assistants (assistant_id) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  graph_id     TEXT NOT NULL,
  name         TEXT NOT NULL,
  description  TEXT,
  config       TEXT NOT NULL,
  context      TEXT NOT NULL,
  metadata     TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (assistant_id, version)
);

CREATE TABLE threads (
  thread_id        TEXT PRIMARY KEY,
  tenant           TEXT NOT NULL,
  status           TEXT NOT NULL,
  metadata         TEXT NOT NULL,
  config           TEXT NOT NULL,
  thread_values    TEXT NOT NULL,
  interrupts       TEXT NOT NULL,
  error            TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  state_updated_at INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX threads_tenant_created ON threads (tenant, created_at);
CREATE INDEX threads_tenant_status ON threads (tenant, status);

CREATE TABLE runs (
  run_id             TEXT PRIMARY KEY,
  tenant             TEXT NOT NULL,
  thread_id          TEXT NOT NULL,
  assistant_id       TEXT NOT NULL,
  status             TEXT NOT NULL,
  metadata           TEXT NOT NULL,
  multitask_strategy TEXT NOT NULL,
  kwargs             TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
);
CREATE INDEX runs_thread_created ON runs (thread_id, created_at);
CREATE INDEX runs_assistant ON runs (assistant_id);

-- Checkpoints belong to a thread (no tenant of their own: the thread row decides access).
CREATE TABLE checkpoints (
  thread_id            TEXT NOT NULL,
  checkpoint_ns        TEXT NOT NULL,
  checkpoint_id        TEXT NOT NULL,
  parent_checkpoint_id TEXT,
  run_id               TEXT NOT NULL,
  metadata             TEXT NOT NULL,
  next                 TEXT NOT NULL,
  tasks                TEXT NOT NULL,
  channels             TEXT NOT NULL,
  message_count        INTEGER NOT NULL,
  created_at           INTEGER NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_id)
);
CREATE INDEX checkpoints_thread_ns ON checkpoints (thread_id, checkpoint_ns, checkpoint_id);

-- One row per message a checkpoint appended: a checkpoint write inserts only its own delta.
CREATE TABLE checkpoint_messages (
  thread_id     TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL,
  idx           INTEGER NOT NULL,
  message       TEXT NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_id, idx),
  FOREIGN KEY (thread_id, checkpoint_id)
    REFERENCES checkpoints (thread_id, checkpoint_id) ON DELETE CASCADE
);

-- Namespace labels contain no '.', so ns_path (labels joined by '.') is unambiguous and a
-- prefix search is a string test on it.
CREATE TABLE store_items (
  tenant      TEXT NOT NULL,
  ns_path     TEXT NOT NULL,
  ns_depth    INTEGER NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL DEFAULT 0,
  ttl_minutes REAL,
  PRIMARY KEY (tenant, ns_path, key)
);
CREATE INDEX store_items_tenant_updated ON store_items (tenant, updated_at);
