-- River's schema, version 6 (bulk unique), from riverqueue/river v0.51.2 (rivermigrate).
-- Kept in our migrations so one tool owns the whole schema; the river_migration
-- row keeps River's own migrator and River UI in step with what is applied.

DELETE FROM river_migration WHERE line = 'main' AND version = 6;

--
-- Drop `river_job.unique_states` and its index.
--

DROP INDEX river_job_unique_idx;

ALTER TABLE river_job
    DROP COLUMN unique_states;

CREATE UNIQUE INDEX IF NOT EXISTS river_job_kind_unique_key_idx ON river_job (kind, unique_key) WHERE unique_key IS NOT NULL;

--
-- Drop `river_job_state_in_bitmask` function.
--
DROP FUNCTION river_job_state_in_bitmask;
