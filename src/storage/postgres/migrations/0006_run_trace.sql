-- A run's trace (docs/console.md, "Run traces"): the JSON the trace endpoint answers, written
-- when the run ends; NULL for runs that never executed and every run stored before this
-- migration. Text, not jsonb: it is stored and served as is, never queried.
ALTER TABLE runs ADD COLUMN trace TEXT;
