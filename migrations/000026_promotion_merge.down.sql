ALTER TABLE repositories DROP COLUMN host_kind, DROP COLUMN host_api;
DROP TABLE snapshot_modified;
ALTER TABLE projects DROP COLUMN back_propagate;
DROP TABLE stage_commits;
DROP TABLE merge_conflicts;
DELETE FROM promotions WHERE build_id IS NULL;
ALTER TABLE promotions ALTER COLUMN build_id SET NOT NULL;
ALTER TABLE promotions DROP COLUMN work_item_id, DROP COLUMN git_into, DROP COLUMN git_from, DROP COLUMN git_base, DROP COLUMN git_commit,
    DROP COLUMN git_state, DROP COLUMN git_message, DROP COLUMN pr_url, DROP COLUMN pr_number;
DELETE FROM release_builds WHERE project_id IS NOT NULL;
ALTER TABLE release_builds DROP CONSTRAINT release_builds_owner_check;
ALTER TABLE release_builds ADD CONSTRAINT release_builds_owner_check CHECK ((release_id IS NULL) <> (work_item_id IS NULL));
ALTER TABLE release_builds DROP COLUMN git_commit, DROP COLUMN project_id;
