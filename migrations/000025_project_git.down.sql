ALTER TABLE work_items DROP COLUMN branch_base;
ALTER TABLE work_items DROP COLUMN branch;
ALTER TABLE projects DROP COLUMN branching;
ALTER TABLE projects DROP COLUMN repository_id;
