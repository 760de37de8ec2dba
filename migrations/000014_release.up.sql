-- A work item's change set can be built on its own, to promote it into the
-- first stage before it joins a release.
ALTER TABLE release_builds ALTER COLUMN release_id DROP NOT NULL;
ALTER TABLE release_builds ADD COLUMN work_item_id bigint REFERENCES work_items (id) ON DELETE CASCADE;
ALTER TABLE release_builds DROP CONSTRAINT release_builds_release_id_number_key;
CREATE UNIQUE INDEX release_builds_release_number_idx ON release_builds (release_id, number) WHERE release_id IS NOT NULL;
CREATE UNIQUE INDEX release_builds_item_number_idx ON release_builds (work_item_id, number) WHERE work_item_id IS NOT NULL;
ALTER TABLE release_builds ADD CONSTRAINT release_builds_owner_check CHECK ((release_id IS NULL) <> (work_item_id IS NULL));


-- The stage policy can block promotions on static check findings.
ALTER TABLE pipeline_stages ADD COLUMN block_checks text NOT NULL DEFAULT '';

-- A work item sent back to development says why until it moves on.
ALTER TABLE work_items ADD COLUMN returned_reason text NOT NULL DEFAULT '';

-- Announcements when a release reaches production, per project.
ALTER TABLE projects ADD COLUMN announce_emails text[] NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN announce_webhooks text[] NOT NULL DEFAULT '{}';
ALTER TABLE releases ADD COLUMN notes_final_at timestamptz;

-- A promotion moves one build into one stage. The stage's policy is read
-- when it matters (a freeze set later still blocks); the stage is named by
-- position and name because pipelines are saved whole.
CREATE TABLE promotions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    build_id       bigint NOT NULL REFERENCES release_builds (id),
    stage_position integer NOT NULL,
    stage_name     text NOT NULL,
    org_id         bigint NOT NULL REFERENCES orgs (id),
    status         text NOT NULL DEFAULT 'open',
    reason         text NOT NULL DEFAULT '',
    created_by     bigint REFERENCES users (id),
    created_label  text NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    revision       integer NOT NULL DEFAULT 1
);
CREATE INDEX promotions_project_idx ON promotions (project_id, id DESC);
CREATE INDEX promotions_build_idx ON promotions (build_id);
CREATE INDEX promotions_status_idx ON promotions (status) WHERE status IN ('open', 'deploying');

-- Approvals and rejections; a new build resets them (reset_at), and they
-- lapse at expires_at.
CREATE TABLE promotion_decisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    promotion_id bigint NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    build_id     bigint NOT NULL REFERENCES release_builds (id),
    user_id      bigint NOT NULL REFERENCES users (id),
    user_label   text NOT NULL,
    role         text NOT NULL,
    decision     text NOT NULL, -- approved, rejected
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    reset_at     timestamptz
);
CREATE INDEX promotion_decisions_idx ON promotion_decisions (promotion_id, id);

CREATE TABLE promotion_comments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    promotion_id bigint NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    user_label   text NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX promotion_comments_idx ON promotion_comments (promotion_id, id);

-- UAT sign-off per work item of a promotion; "returned" sends it back.
CREATE TABLE signoffs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    promotion_id bigint NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    work_item    text NOT NULL,
    decision     text NOT NULL, -- signed_off, returned
    note         text NOT NULL DEFAULT '',
    user_label   text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX signoffs_idx ON signoffs (promotion_id, work_item, id DESC);

-- A deployment into an org: a promotion's deploy, or a rollback of one.
-- deploy_id is stored before anything waits on it and submitted_at before
-- the deploy is sent, so a worker that dies resumes the deploy it started
-- (or finds it in the org) instead of deploying twice.
CREATE TABLE deployments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    promotion_id     bigint REFERENCES promotions (id) ON DELETE CASCADE,
    org_id           bigint NOT NULL REFERENCES orgs (id),
    build_id         bigint REFERENCES release_builds (id),
    kind             text NOT NULL, -- deploy, quick_deploy, rollback
    rollback_of      bigint REFERENCES deployments (id),
    test_level       text NOT NULL,
    status           text NOT NULL DEFAULT 'queued', -- queued, snapshotting, deploying, succeeded, failed, canceled
    phase            text NOT NULL DEFAULT '',
    done             integer NOT NULL DEFAULT 0,
    total            integer NOT NULL DEFAULT 0,
    artifact         bytea,        -- a rollback's own zip; deploys use the build's
    checksum         text NOT NULL DEFAULT '',
    validation_id    bigint REFERENCES validations (id),
    submitted_at     timestamptz,
    deploy_id        text NOT NULL DEFAULT '',
    cancel_requested boolean NOT NULL DEFAULT false,
    result           jsonb NOT NULL DEFAULT '{}',
    error            text NOT NULL DEFAULT '',
    override_label   text NOT NULL DEFAULT '',
    started_label    text NOT NULL,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz
);
CREATE INDEX deployments_promotion_idx ON deployments (promotion_id, id DESC);
CREATE INDEX deployments_org_idx ON deployments (org_id, id DESC);

-- What a deployment changed in its org: the lineage link component →
-- deployment → build → work items → requirements, and the pre-deploy
-- version a rollback puts back (existed false: the deploy added it).
CREATE TABLE deployment_components (
    deployment_id bigint NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    type          text NOT NULL,
    name          text NOT NULL,
    change        text NOT NULL, -- new, changed, deleted
    hash          text REFERENCES blobs (hash),
    previous_hash text REFERENCES blobs (hash),
    existed       boolean,       -- null until the pre-deploy snapshot ran
    work_item     text NOT NULL DEFAULT '',
    PRIMARY KEY (deployment_id, type, name)
);
CREATE INDEX deployment_components_component_idx ON deployment_components (type, lower(name));
