-- Assistant TTL: expires_at (ms since the epoch; 0 = no TTL), like threads. The sweeper asks
-- for assistants whose expires_at has passed; only those with a TTL are indexed.
ALTER TABLE assistants ADD COLUMN IF NOT EXISTS expires_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS assistants_expires_at ON assistants (expires_at) WHERE expires_at <> 0;
