-- River's schema, version 3 (river job tags non null), from riverqueue/river v0.51.2 (rivermigrate).
-- Kept in our migrations so one tool owns the whole schema; the river_migration
-- row keeps River's own migrator and River UI in step with what is applied.

ALTER TABLE river_job ALTER COLUMN tags SET DEFAULT '{}';
UPDATE river_job SET tags = '{}' WHERE tags IS NULL;
ALTER TABLE river_job ALTER COLUMN tags SET NOT NULL;

INSERT INTO river_migration (version) VALUES (3);
