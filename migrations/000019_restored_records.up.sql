-- Records a data restore created again, by the id they had in the backup:
-- a later restore (or the same one run twice) finds them under their new
-- id and updates them instead of creating duplicates, and lookups to them
-- from other restored records point at the new id. Keyed by the 15-character
-- id, which both the 15- and 18-character forms share.
CREATE TABLE restored_records (
    org_id     bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    old_id     text NOT NULL,
    object     text NOT NULL,
    new_id     text NOT NULL,
    restore_id bigint REFERENCES data_restores (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, old_id)
);
