-- Release builds: immutable artifacts promoted unchanged through every
-- stage. A change to the release means a new build.
CREATE TABLE release_builds (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    release_id    bigint NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    number        integer NOT NULL,
    api_version   text NOT NULL,
    checksum      text NOT NULL,
    artifact      bytea NOT NULL,
    components    integer NOT NULL,
    deletes       integer NOT NULL,
    created_by    bigint REFERENCES users (id),
    created_label text NOT NULL,
    created_at    timestamptz NOT NULL,
    UNIQUE (release_id, number)
);

-- What each build holds, and from which work item: the lineage link
-- component change → release build.
CREATE TABLE build_components (
    build_id  bigint NOT NULL REFERENCES release_builds (id) ON DELETE CASCADE,
    type      text NOT NULL,
    name      text NOT NULL,
    change    text NOT NULL,
    hash      text REFERENCES blobs (hash),
    work_item text NOT NULL,
    PRIMARY KEY (build_id, type, name)
);
CREATE INDEX build_components_component_idx ON build_components (type, lower(name));

-- Check-only deploys of a build into an org: the validation a stage's
-- policy asks for, and what a quick deploy reuses. deploy_id is stored
-- before polling, so a worker that dies resumes instead of deploying again.
CREATE TABLE validations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    build_id      bigint NOT NULL REFERENCES release_builds (id) ON DELETE CASCADE,
    org_id        bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    test_level    text NOT NULL,
    status        text NOT NULL DEFAULT 'queued',
    deploy_id     text NOT NULL DEFAULT '',
    result        jsonb NOT NULL DEFAULT '{}',
    error         text NOT NULL DEFAULT '',
    started_label text NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz
);
CREATE INDEX validations_build_idx ON validations (build_id, id DESC);

-- Apex test runs on an org, on demand, with their results kept as history.
CREATE TABLE test_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    classes       text[] NOT NULL DEFAULT '{}',
    suites        text[] NOT NULL DEFAULT '{}',
    test_level    text NOT NULL,
    status        text NOT NULL DEFAULT 'queued',
    async_id      text NOT NULL DEFAULT '',
    passed        integer NOT NULL DEFAULT 0,
    failed        integer NOT NULL DEFAULT 0,
    results       jsonb NOT NULL DEFAULT '[]',
    error         text NOT NULL DEFAULT '',
    started_label text NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz
);
CREATE INDEX test_runs_org_idx ON test_runs (org_id, id DESC);
