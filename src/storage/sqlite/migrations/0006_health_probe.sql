-- One row the storage thread rewrites after writes failed (disk full, I/O errors): storage is
-- reported writable again (/ready) only once such a test write commits.
CREATE TABLE IF NOT EXISTS health_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  probed_at INTEGER NOT NULL
);
