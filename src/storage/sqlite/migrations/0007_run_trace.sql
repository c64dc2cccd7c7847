-- A run's trace (docs/console.md, "Run traces"): the JSON the trace endpoint answers, written
-- when the run ends; NULL for runs that never executed and every run stored before this
-- migration. Last column, so scans of the other columns never read its overflow pages.
ALTER TABLE runs ADD COLUMN trace TEXT;
