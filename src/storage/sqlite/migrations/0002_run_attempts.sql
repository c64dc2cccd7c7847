-- Crash recovery: how many times a run was started (a run resumed after a restart is attempt
-- 2, 3, ...), and an index for finding the runs a previous process left pending/running.
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
CREATE INDEX runs_status_created ON runs (status, created_at);
