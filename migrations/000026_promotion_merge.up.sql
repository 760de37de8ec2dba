-- A promotion in a git-backed project is a merge: what it merges into
-- which branch, the merge commit waiting for its deploy, and whether that
-- commit has reached the repository.
ALTER TABLE promotions ADD COLUMN git_into text NOT NULL DEFAULT '';
ALTER TABLE promotions ADD COLUMN git_from text NOT NULL DEFAULT '';
ALTER TABLE promotions ADD COLUMN git_base text NOT NULL DEFAULT '';   -- the stage branch before the merge
ALTER TABLE promotions ADD COLUMN git_commit text NOT NULL DEFAULT ''; -- what the deploy carries
-- '' (not a merge), conflicts, merged (waiting for its deploy), pushing,
-- pushed, push_failed.
ALTER TABLE promotions ADD COLUMN git_state text NOT NULL DEFAULT '';
ALTER TABLE promotions ADD COLUMN git_message text NOT NULL DEFAULT '';
ALTER TABLE promotions ADD COLUMN pr_url text NOT NULL DEFAULT '';
ALTER TABLE promotions ADD COLUMN pr_number integer NOT NULL DEFAULT 0;
-- A promotion waiting for its conflicts to be settled has no build yet.
ALTER TABLE promotions ALTER COLUMN build_id DROP NOT NULL;
ALTER TABLE promotions ADD COLUMN work_item_id bigint REFERENCES work_items (id) ON DELETE SET NULL;

-- A build made from a branch (a push made outside Trellis deployed as its
-- own promotion) belongs to its project rather than a release or work item.
ALTER TABLE release_builds ADD COLUMN project_id bigint REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE release_builds ADD COLUMN git_commit text NOT NULL DEFAULT '';
ALTER TABLE release_builds DROP CONSTRAINT release_builds_owner_check;
ALTER TABLE release_builds ADD CONSTRAINT release_builds_owner_check CHECK (num_nonnulls(release_id, work_item_id, project_id) = 1);

-- The files a promotion's merge could not settle, and how each was settled.
CREATE TABLE merge_conflicts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    promotion_id  bigint NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    path          text NOT NULL,
    elements      jsonb NOT NULL DEFAULT '[]',
    base          bytea,
    ours          bytea,
    theirs        bytea,
    marked        bytea,
    resolution    text NOT NULL DEFAULT '' CHECK (resolution IN ('', 'ours', 'theirs', 'both', 'mixed', 'edited')),
    resolved      bytea,
    resolved_label text NOT NULL DEFAULT '',
    resolved_at   timestamptz,
    UNIQUE (promotion_id, path)
);

-- What each stage's org last received from git: the commit deployed.
-- The stage branch ahead of it is "branch ahead of org".
CREATE TABLE stage_commits (
    project_id   bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    stage_name   text NOT NULL,
    commit       text NOT NULL,
    promotion_id bigint REFERENCES promotions (id) ON DELETE SET NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (project_id, stage_name)
);

ALTER TABLE projects ADD COLUMN back_propagate boolean NOT NULL DEFAULT true;

-- Who last changed each component of an org snapshot, and when (the org's
-- lastModifiedBy/Date), for picking a work item's changes from a sandbox.
CREATE TABLE snapshot_modified (
    snapshot_id bigint NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    type        text NOT NULL,
    name        text NOT NULL,
    by_name     text NOT NULL,
    at          timestamptz,
    PRIMARY KEY (snapshot_id, type, name)
);

-- The git host's pull-request API for a repository: '' tells it from the
-- URL (github.com, gitlab.com, bitbucket.org, dev.azure.com), 'none'
-- opens no pull requests; host_api is the API base of a self-hosted one.
ALTER TABLE repositories ADD COLUMN host_kind text NOT NULL DEFAULT '' CHECK (host_kind IN ('', 'none', 'github', 'gitlab', 'bitbucket', 'azure'));
ALTER TABLE repositories ADD COLUMN host_api text NOT NULL DEFAULT '';
