-- A project backed by a git repository: its pipeline's stages name
-- branches, and its work items get branches of their own.
ALTER TABLE projects ADD COLUMN repository_id bigint REFERENCES repositories (id) ON DELETE SET NULL;
-- environment: a branch per stage, merged forward; trunk: one main branch
-- whose commits the stages deploy.
ALTER TABLE projects ADD COLUMN branching text NOT NULL DEFAULT 'environment' CHECK (branching IN ('environment', 'trunk'));
ALTER TABLE work_items ADD COLUMN branch text NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN branch_base text NOT NULL DEFAULT '';
