-- Develop: connected orgs, content-addressed blobs, snapshots.

CREATE TABLE orgs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    kind            text NOT NULL,
    login_url       text NOT NULL,
    instance_url    text NOT NULL DEFAULT '',
    api_version     text NOT NULL,
    username        text NOT NULL DEFAULT '',
    sf_org_id       text NOT NULL DEFAULT '',
    sf_user_id      text NOT NULL DEFAULT '',
    auth_kind       text NOT NULL,
    client_id       text NOT NULL DEFAULT '',
    -- Sealed with the installation's key (internal/secret): a refresh
    -- token or a JWT private key. Never selected into pages or logs.
    credentials     text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'connected',
    last_error      text NOT NULL DEFAULT '',
    last_checked_at timestamptz,
    connected_by    bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- Component content, addressed by the metadata engine's canonical hash and
-- shared by every snapshot of every org. data is gzip-compressed by
-- Trellis, so PostgreSQL is told not to compress it again.
CREATE TABLE blobs (
    hash       text PRIMARY KEY,
    size       integer NOT NULL,
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL
);
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;

-- Git repositories holding SFDX projects, mirrored in the data dir.
CREATE TABLE repositories (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    url             text NOT NULL,
    auth_kind       text NOT NULL DEFAULT 'none', -- none, token or ssh
    credentials     text NOT NULL DEFAULT '',     -- sealed token or SSH key
    default_branch  text NOT NULL DEFAULT '',
    mirror          text NOT NULL,                -- directory under the data dir
    last_fetched_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);

CREATE TABLE snapshots (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         text NOT NULL,           -- org or git
    org_id         bigint REFERENCES orgs (id) ON DELETE CASCADE,
    repo_id        bigint REFERENCES repositories (id) ON DELETE CASCADE,
    ref            text NOT NULL DEFAULT '', -- the git ref or commit
    label          text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'queued',
    phase          text NOT NULL DEFAULT '',
    done           integer NOT NULL DEFAULT 0,
    total          integer NOT NULL DEFAULT 0,
    warnings       jsonb NOT NULL DEFAULT '[]',
    error          text NOT NULL DEFAULT '',
    components     integer NOT NULL DEFAULT 0,
    -- The manifest: full, or a delta against base_id (depth counts the
    -- deltas down to a full one, kept short so reading stays cheap).
    base_id        bigint REFERENCES snapshots (id),
    depth          integer NOT NULL DEFAULT 0,
    manifest       bytea,
    manifest_bytes integer NOT NULL DEFAULT 0,
    new_blob_bytes bigint NOT NULL DEFAULT 0,
    started_by     bigint REFERENCES users (id),
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz
);
CREATE INDEX snapshots_org_idx ON snapshots (org_id, id DESC);
CREATE INDEX snapshots_repo_idx ON snapshots (repo_id, id DESC);
CREATE INDEX snapshots_base_idx ON snapshots (base_id);

-- Components captured onto a work item: its change set, a link of the
-- lineage (requirement → work item → component change → release build…).
-- Capturing a component again supersedes the older row, which stays as
-- history.
CREATE TABLE work_item_components (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_item_id   bigint NOT NULL REFERENCES work_items (id) ON DELETE CASCADE,
    type           text NOT NULL,
    name           text NOT NULL,
    change         text NOT NULL,          -- new, changed or deleted
    hash           text REFERENCES blobs (hash),  -- the captured content; null for a deletion
    base_hash      text REFERENCES blobs (hash),  -- what it replaced, for its diff
    from_snapshot  bigint REFERENCES snapshots (id),
    to_snapshot    bigint REFERENCES snapshots (id),
    dependency_of  text NOT NULL DEFAULT '', -- set when added as a dependency
    captured_by    bigint REFERENCES users (id),
    captured_label text NOT NULL,
    captured_at    timestamptz NOT NULL,
    superseded_at  timestamptz
);
CREATE UNIQUE INDEX work_item_components_current_idx ON work_item_components (work_item_id, type, lower(name)) WHERE superseded_at IS NULL;
CREATE INDEX work_item_components_item_idx ON work_item_components (work_item_id, captured_at DESC);
CREATE INDEX work_item_components_component_idx ON work_item_components (type, lower(name));

-- A project's pipeline: ordered stages, each bound to an org (and
-- optionally a branch) with the policy promotions into it must meet.
CREATE TABLE pipeline_stages (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    position            integer NOT NULL,
    name                text NOT NULL,
    org_id              bigint REFERENCES orgs (id) ON DELETE SET NULL,
    branch              text NOT NULL DEFAULT '',
    approvals_required  integer NOT NULL DEFAULT 0,
    approver_roles      text[] NOT NULL DEFAULT '{}',
    no_self_approval    boolean NOT NULL DEFAULT true,
    validation_required boolean NOT NULL DEFAULT false,
    test_level          text NOT NULL DEFAULT 'RunLocalTests',
    coverage_threshold  integer NOT NULL DEFAULT 75,
    change_windows      text NOT NULL DEFAULT '',
    frozen              boolean NOT NULL DEFAULT false,
    freeze_reason       text NOT NULL DEFAULT '',
    UNIQUE (project_id, position),
    UNIQUE (project_id, name)
);
CREATE INDEX pipeline_stages_org_idx ON pipeline_stages (org_id);

-- Comparisons people made, kept so they can be found and linked again.
-- Snapshots never change, so the result itself is recomputed on demand.
CREATE TABLE comparisons (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    a_snapshot    bigint NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    b_snapshot    bigint NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    new           integer NOT NULL,
    changed       integer NOT NULL,
    deleted       integer NOT NULL,
    unchanged     integer NOT NULL,
    created_label text NOT NULL,
    created_at    timestamptz NOT NULL,
    UNIQUE (a_snapshot, b_snapshot)
);
