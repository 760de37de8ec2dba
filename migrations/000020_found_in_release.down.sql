ALTER TABLE work_items DROP COLUMN found_in_release_id;
