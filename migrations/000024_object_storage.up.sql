-- Content that grows (snapshot blobs, build and rollback artifacts, data
-- backup chunks) may live in an S3-compatible object store instead of a
-- bytea column: the row then keeps no data and names its object.

-- A blob row is the blob's ledger entry wherever its bytes are: data null
-- means the object blobs/<hh>/<hash>. stored is false while a writer is
-- still putting the object; doomed_at is when garbage collection found
-- nothing referring to it (a writer that needs it again clears it).
ALTER TABLE blobs ALTER COLUMN data DROP NOT NULL;
ALTER TABLE blobs ADD COLUMN stored boolean NOT NULL DEFAULT true;
ALTER TABLE blobs ADD COLUMN object_bytes integer;
ALTER TABLE blobs ADD COLUMN doomed_at timestamptz;
CREATE INDEX blobs_doomed ON blobs (doomed_at) WHERE doomed_at IS NOT NULL;

-- The ledger of the other objects (artifacts/<sha256>, data/<sha256>),
-- shared by every row holding the same content; same states as blobs.
CREATE TABLE objects (
    key        text PRIMARY KEY,
    size       bigint NOT NULL,
    stored     boolean NOT NULL DEFAULT false,
    doomed_at  timestamptz,
    created_at timestamptz NOT NULL
);

ALTER TABLE release_builds ALTER COLUMN artifact DROP NOT NULL;
ALTER TABLE release_builds ADD COLUMN artifact_key text;
ALTER TABLE release_builds ADD COLUMN artifact_bytes integer NOT NULL DEFAULT 0;
ALTER TABLE release_builds ADD CONSTRAINT release_builds_artifact_somewhere CHECK (artifact IS NOT NULL OR artifact_key IS NOT NULL);
CREATE INDEX release_builds_artifact_key ON release_builds (artifact_key) WHERE artifact_key IS NOT NULL;

ALTER TABLE deployments ADD COLUMN artifact_key text;
CREATE INDEX deployments_artifact_key ON deployments (artifact_key) WHERE artifact_key IS NOT NULL;

ALTER TABLE data_backup_chunks ALTER COLUMN data DROP NOT NULL;
ALTER TABLE data_backup_chunks ADD COLUMN key text;
ALTER TABLE data_backup_chunks ADD CONSTRAINT data_backup_chunks_data_somewhere CHECK (data IS NOT NULL OR key IS NOT NULL);
CREATE INDEX data_backup_chunks_key ON data_backup_chunks (key) WHERE key IS NOT NULL;

-- Garbage collection asks, blob by blob, whether anything still refers to
-- it (and deleting a blob makes PostgreSQL check the same foreign keys).
CREATE INDEX work_item_components_hash ON work_item_components (hash) WHERE hash IS NOT NULL;
CREATE INDEX work_item_components_base_hash ON work_item_components (base_hash) WHERE base_hash IS NOT NULL;
CREATE INDEX build_components_hash ON build_components (hash) WHERE hash IS NOT NULL;
CREATE INDEX deployment_components_hash ON deployment_components (hash) WHERE hash IS NOT NULL;
CREATE INDEX deployment_components_previous_hash ON deployment_components (previous_hash) WHERE previous_hash IS NOT NULL;
