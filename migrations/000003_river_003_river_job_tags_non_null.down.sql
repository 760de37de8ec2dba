-- River's schema, version 3 (river job tags non null), from riverqueue/river v0.51.2 (rivermigrate).
-- Kept in our migrations so one tool owns the whole schema; the river_migration
-- row keeps River's own migrator and River UI in step with what is applied.

DELETE FROM river_migration WHERE version = 3;

ALTER TABLE river_job
    ALTER COLUMN tags DROP NOT NULL,
    ALTER COLUMN tags DROP DEFAULT;
