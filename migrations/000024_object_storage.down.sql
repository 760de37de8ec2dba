-- Only possible once `trellis blobs migrate --to db` has brought every
-- object back: the NOT NULL constraints fail otherwise, on purpose.
DROP INDEX deployment_components_previous_hash;
DROP INDEX deployment_components_hash;
DROP INDEX build_components_hash;
DROP INDEX work_item_components_base_hash;
DROP INDEX work_item_components_hash;
DROP INDEX data_backup_chunks_key;
ALTER TABLE data_backup_chunks DROP CONSTRAINT data_backup_chunks_data_somewhere;
ALTER TABLE data_backup_chunks DROP COLUMN key;
ALTER TABLE data_backup_chunks ALTER COLUMN data SET NOT NULL;
DROP INDEX deployments_artifact_key;
ALTER TABLE deployments DROP COLUMN artifact_key;
DROP INDEX release_builds_artifact_key;
ALTER TABLE release_builds DROP CONSTRAINT release_builds_artifact_somewhere;
ALTER TABLE release_builds DROP COLUMN artifact_bytes;
ALTER TABLE release_builds DROP COLUMN artifact_key;
ALTER TABLE release_builds ALTER COLUMN artifact SET NOT NULL;
DROP TABLE objects;
DROP INDEX blobs_doomed;
ALTER TABLE blobs DROP COLUMN doomed_at;
ALTER TABLE blobs DROP COLUMN object_bytes;
ALTER TABLE blobs DROP COLUMN stored;
ALTER TABLE blobs ALTER COLUMN data SET NOT NULL;
