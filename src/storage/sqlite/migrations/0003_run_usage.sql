-- Token usage of a finished run ({"input_tokens", "output_tokens", "total_tokens"}); '{}'
-- until the run ends, and for every run stored before this migration.
ALTER TABLE runs ADD COLUMN usage TEXT NOT NULL DEFAULT '{}';
