-- agentd schema for PostgreSQL, version 1. Same shape as sqlite/migrations (0001 + 0002):
-- every top-level object carries its tenant; timestamps are ms since the epoch (bigint).
-- Searched JSON (metadata, thread values, item values) is JSONB with GIN jsonb_path_ops indexes
-- for containment (@>); JSON that is only stored and returned stays text, byte for byte.
-- Identifiers and names sort bytewise (COLLATE "C"), as SQLite does, whatever the database's
-- locale; `seq` is the insertion order that breaks sort ties (SQLite's rowid).

CREATE TABLE assistants (
  seq          BIGSERIAL,
  assistant_id TEXT COLLATE "C" PRIMARY KEY,
  tenant       TEXT NOT NULL,
  graph_id     TEXT COLLATE "C" NOT NULL,
  name         TEXT COLLATE "C" NOT NULL,
  description  TEXT,
  config       TEXT NOT NULL,
  context      TEXT NOT NULL,
  metadata     JSONB NOT NULL,
  version      BIGINT NOT NULL,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);
CREATE INDEX assistants_tenant_created ON assistants (tenant, created_at);
CREATE INDEX assistants_tenant_graph ON assistants (tenant, graph_id);
CREATE INDEX assistants_metadata ON assistants USING GIN (metadata jsonb_path_ops);

CREATE TABLE assistant_versions (
  assistant_id TEXT COLLATE "C" NOT NULL REFERENCES assistants (assistant_id) ON DELETE CASCADE,
  version      BIGINT NOT NULL,
  graph_id     TEXT NOT NULL,
  name         TEXT NOT NULL,
  description  TEXT,
  config       TEXT NOT NULL,
  context      TEXT NOT NULL,
  metadata     JSONB NOT NULL,
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (assistant_id, version)
);

CREATE TABLE threads (
  seq              BIGSERIAL,
  thread_id        TEXT COLLATE "C" PRIMARY KEY,
  tenant           TEXT NOT NULL,
  status           TEXT COLLATE "C" NOT NULL,
  metadata         JSONB NOT NULL,
  config           TEXT NOT NULL,
  thread_values    JSONB NOT NULL,
  interrupts       TEXT NOT NULL,
  error            TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  state_updated_at BIGINT NOT NULL,
  expires_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX threads_tenant_created ON threads (tenant, created_at);
CREATE INDEX threads_tenant_status_updated ON threads (tenant, status, updated_at);
CREATE INDEX threads_metadata ON threads USING GIN (metadata jsonb_path_ops);
CREATE INDEX threads_values ON threads USING GIN (thread_values jsonb_path_ops);

CREATE TABLE runs (
  seq                BIGSERIAL,
  run_id             TEXT COLLATE "C" PRIMARY KEY,
  tenant             TEXT NOT NULL,
  thread_id          TEXT COLLATE "C" NOT NULL,
  assistant_id       TEXT COLLATE "C" NOT NULL,
  status             TEXT NOT NULL,
  metadata           JSONB NOT NULL,
  multitask_strategy TEXT NOT NULL,
  kwargs             TEXT NOT NULL,
  created_at         BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL,
  -- Crash recovery: how many times the run was started (a resumed run is attempt 2, 3, ...).
  attempt            BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX runs_thread_created ON runs (thread_id, created_at);
CREATE INDEX runs_assistant ON runs (assistant_id);
CREATE INDEX runs_status_created ON runs (status, created_at);

-- Checkpoints belong to a thread (no tenant of their own: the thread row decides access).
CREATE TABLE checkpoints (
  thread_id            TEXT COLLATE "C" NOT NULL,
  checkpoint_ns        TEXT COLLATE "C" NOT NULL,
  checkpoint_id        TEXT COLLATE "C" NOT NULL,
  parent_checkpoint_id TEXT COLLATE "C",
  run_id               TEXT NOT NULL,
  metadata             JSONB NOT NULL,
  next                 TEXT NOT NULL,
  tasks                TEXT NOT NULL,
  channels             TEXT NOT NULL,
  message_count        BIGINT NOT NULL,
  created_at           BIGINT NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_id)
);
CREATE INDEX checkpoints_thread_ns ON checkpoints (thread_id, checkpoint_ns, checkpoint_id);

-- One row per message a checkpoint appended: a checkpoint write inserts only its own delta.
CREATE TABLE checkpoint_messages (
  thread_id     TEXT COLLATE "C" NOT NULL,
  checkpoint_id TEXT COLLATE "C" NOT NULL,
  idx           BIGINT NOT NULL,
  message       TEXT NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_id, idx),
  FOREIGN KEY (thread_id, checkpoint_id)
    REFERENCES checkpoints (thread_id, checkpoint_id) ON DELETE CASCADE
);

-- Namespace labels contain no '.', so ns_path (labels joined by '.') is unambiguous and a prefix
-- search is a range scan on the btree: ns_path >= 'a.b.' AND ns_path < 'a.b/' ('/' follows '.').
CREATE TABLE store_items (
  seq         BIGSERIAL,
  tenant      TEXT NOT NULL,
  ns_path     TEXT COLLATE "C" NOT NULL,
  ns_depth    BIGINT NOT NULL,
  key         TEXT COLLATE "C" NOT NULL,
  value       JSONB NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL DEFAULT 0,
  ttl_minutes DOUBLE PRECISION,
  PRIMARY KEY (tenant, ns_path, key)
);
CREATE INDEX store_items_tenant_updated ON store_items (tenant, updated_at);
CREATE INDEX store_items_value ON store_items USING GIN (value jsonb_path_ops);
