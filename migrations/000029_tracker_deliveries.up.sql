-- IF NOT EXISTS: an early build of migration 28 made some of this already.
-- One sync of a link at a time, across workers and replicas, without
-- holding a connection: a lease that lapses if its worker dies, naming
-- the job that holds it (rescued, that job takes it back at once).
ALTER TABLE tracker_links ADD COLUMN IF NOT EXISTS lease_until timestamptz;
ALTER TABLE tracker_links ADD COLUMN IF NOT EXISTS lease_owner bigint;

-- Delivery events (promoted, deployed, rolled back, delivered) to post on
-- a link's issue, in the order they happened, each once.
CREATE TABLE IF NOT EXISTS tracker_deliveries (
    link_id   bigint NOT NULL REFERENCES tracker_links (id) ON DELETE CASCADE,
    event_id  bigint NOT NULL,
    kind      text NOT NULL,
    summary   text NOT NULL,
    remote_id text,
    posted_at timestamptz,
    PRIMARY KEY (link_id, event_id)
);
CREATE INDEX IF NOT EXISTS tracker_deliveries_pending_idx ON tracker_deliveries (link_id, event_id) WHERE posted_at IS NULL;
