-- Cluster mode (N agentd instances on one database, storage.hpp RunLeases): every active run
-- is owned by one instance under a lease that instance renews; another instance adopts the
-- run once the lease expired. Lease times are the database's clock (now()).
ALTER TABLE runs
  ADD COLUMN owner            TEXT,
  ADD COLUMN lease_expires_at TIMESTAMPTZ,
  -- "interrupt" | "rollback" once someone asked to cancel the run (any instance); the owner
  -- sees it through pub/sub at once, or at its next lease renewal at the latest.
  ADD COLUMN cancel_action    TEXT;

-- At most one running run per thread, whatever the number of instances.
CREATE UNIQUE INDEX runs_one_running_per_thread ON runs (thread_id) WHERE status = 'running';
-- Whose turn it is: the thread's active runs in id (= creation) order.
CREATE INDEX runs_active_by_thread ON runs (thread_id, run_id)
  WHERE status IN ('pending', 'running');
-- Adoption scans active runs by lease expiry; renewal and hand-over by owner.
CREATE INDEX runs_active_by_lease ON runs (lease_expires_at)
  WHERE status IN ('pending', 'running');
CREATE INDEX runs_active_by_owner ON runs (owner) WHERE status IN ('pending', 'running');
