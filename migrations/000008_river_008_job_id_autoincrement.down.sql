-- River's schema, version 8 (job id autoincrement), from riverqueue/river v0.51.2 (rivermigrate).
-- Kept in our migrations so one tool owns the whole schema; the river_migration
-- row keeps River's own migrator and River UI in step with what is applied.

DELETE FROM river_migration WHERE line = 'main' AND version = 8;

-- No-op. Postgres sequences already prevent automatically generated job IDs
-- from being reused.
SELECT 1;
