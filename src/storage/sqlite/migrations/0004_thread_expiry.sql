-- The TTL sweeper asks for threads whose expires_at has passed; only threads with a TTL
-- (expires_at <> 0) are indexed, so threads without one cost nothing.
CREATE INDEX IF NOT EXISTS threads_expires_at ON threads (expires_at) WHERE expires_at <> 0;
