-- Data backups: chosen objects' records, a full run then incremental ones
-- (SystemModstamp), stored as gzip'd CSV pages.

CREATE TABLE data_backup_policies (
    org_id      bigint PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    enabled     boolean NOT NULL DEFAULT false,
    objects     text[] NOT NULL DEFAULT '{}', -- empty: custom objects and the key standard ones
    api_share   real NOT NULL DEFAULT 0.1 CHECK (api_share > 0 AND api_share <= 1),
    churn_alert real NOT NULL DEFAULT 0.05 CHECK (churn_alert > 0 AND churn_alert <= 1),
    every_hours integer NOT NULL DEFAULT 24 CHECK (every_hours BETWEEN 1 AND 168),
    next_at     timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE data_backup_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('full', 'incremental')),
    status      text NOT NULL DEFAULT 'queued', -- queued, running, done, partial, failed
    phase       text NOT NULL DEFAULT '',
    objects     jsonb NOT NULL DEFAULT '[]',    -- per object: records, changed, deleted, bytes
    records     bigint NOT NULL DEFAULT 0,
    changed     bigint NOT NULL DEFAULT 0,
    deleted     bigint NOT NULL DEFAULT 0,
    bytes       bigint NOT NULL DEFAULT 0,
    api_calls   integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    started_label text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX data_backup_runs_org_idx ON data_backup_runs (org_id, id DESC);

CREATE TABLE data_backup_chunks (
    run_id  bigint NOT NULL REFERENCES data_backup_runs (id) ON DELETE CASCADE,
    object  text NOT NULL,
    seq     integer NOT NULL,
    records integer NOT NULL,
    data    bytea NOT NULL,
    PRIMARY KEY (run_id, object, seq)
);

-- Where each object's incremental runs start.
CREATE TABLE data_backup_state (
    org_id    bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    object    text NOT NULL,
    watermark timestamptz NOT NULL,
    records   bigint NOT NULL DEFAULT 0, -- live records after the last run
    PRIMARY KEY (org_id, object)
);

CREATE TABLE data_restores (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    as_of_run   bigint REFERENCES data_backup_runs (id) ON DELETE SET NULL,
    status      text NOT NULL DEFAULT 'queued',
    request     jsonb NOT NULL,
    results     jsonb NOT NULL DEFAULT '[]', -- per record: object, old id, new id, action, error
    created     integer NOT NULL DEFAULT 0,
    updated     integer NOT NULL DEFAULT 0,
    failed      integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    started_label text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);
