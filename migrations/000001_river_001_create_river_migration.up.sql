-- River's schema, version 1 (create river migration), from riverqueue/river v0.51.2 (rivermigrate).
-- Kept in our migrations so one tool owns the whole schema; the river_migration
-- row keeps River's own migrator and River UI in step with what is applied.

CREATE TABLE river_migration(
  id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  version bigint NOT NULL,
  CONSTRAINT version CHECK (version >= 1)
);

CREATE UNIQUE INDEX ON river_migration USING btree(version);

INSERT INTO river_migration (version) VALUES (1);
