-- A bug filed from end-user feedback names the release that last changed
-- the component it is about (found in), apart from the release that will
-- carry its fix (release_id).
ALTER TABLE work_items ADD COLUMN found_in_release_id bigint REFERENCES releases (id) ON DELETE SET NULL;
