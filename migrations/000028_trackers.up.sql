-- Work trackers: one connection per project (Jira, Azure DevOps, GitHub),
-- its status mapping, and the links between Trellis records and issues.
CREATE TABLE tracker_connections (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     bigint NOT NULL UNIQUE REFERENCES projects (id) ON DELETE CASCADE,
    kind           text NOT NULL,
    base_url       text NOT NULL,
    scope          text NOT NULL,
    username       text NOT NULL DEFAULT '',
    token          text NOT NULL,   -- sealed
    webhook_secret text NOT NULL,   -- sealed
    import_as      text NOT NULL DEFAULT 'work_item',
    status         text NOT NULL DEFAULT 'ok', -- ok, error
    error          text NOT NULL DEFAULT '',
    checked_at     timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- Tracker status ↔ Trellis status, per record type.
CREATE TABLE tracker_status_map (
    connection_id bigint NOT NULL REFERENCES tracker_connections (id) ON DELETE CASCADE,
    entity        text NOT NULL, -- requirement, work_item
    remote        text NOT NULL,
    local         text NOT NULL,
    PRIMARY KEY (connection_id, entity, remote)
);

CREATE TABLE tracker_links (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id  bigint NOT NULL REFERENCES tracker_connections (id) ON DELETE CASCADE,
    entity_type    text NOT NULL, -- requirement, work_item
    entity_id      bigint NOT NULL,
    remote_key     text NOT NULL,
    remote_url     text NOT NULL DEFAULT '',
    remote_status  text NOT NULL DEFAULT '',
    -- The field values both sides last agreed on: a side whose value
    -- differs changed it since.
    synced         jsonb NOT NULL DEFAULT '{}',
    state          text NOT NULL DEFAULT 'ok', -- ok, warning, error, deleted
    error          text NOT NULL DEFAULT '',
    synced_at      timestamptz,
    -- One sync of a link at a time, across workers and replicas, without
    -- holding a connection: a lease that lapses if its worker dies.
    lease_until    timestamptz,
    lease_owner    bigint,         -- the job holding it: rescued, it takes it back at once
    created_at     timestamptz NOT NULL,
    UNIQUE (connection_id, remote_key),
    UNIQUE (entity_type, entity_id)
);

-- Comments mirrored either way, so none is copied twice or echoed back.
CREATE TABLE tracker_comments (
    link_id   bigint NOT NULL REFERENCES tracker_links (id) ON DELETE CASCADE,
    remote_id text NOT NULL,
    local_ref text NOT NULL, -- comment:<id>, timeline:<id> or event:<id>
    PRIMARY KEY (link_id, remote_id),
    UNIQUE (link_id, local_ref)
);

-- Delivery events (promoted, deployed, rolled back, delivered) to post on
-- a link's issue, in the order they happened, each once.
CREATE TABLE tracker_deliveries (
    link_id   bigint NOT NULL REFERENCES tracker_links (id) ON DELETE CASCADE,
    event_id  bigint NOT NULL,
    kind      text NOT NULL,
    summary   text NOT NULL,
    remote_id text,
    posted_at timestamptz,
    PRIMARY KEY (link_id, event_id)
);
CREATE INDEX tracker_deliveries_pending_idx ON tracker_deliveries (link_id, event_id) WHERE posted_at IS NULL;

-- Where the tracker dispatcher has read the event outbox up to.
CREATE TABLE tracker_cursor (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_id bigint NOT NULL
);
INSERT INTO tracker_cursor (last_id) SELECT coalesce(max(id), 0) FROM webhook_events;

-- Events a tracker sync itself caused are not sent back (no echo).
ALTER TABLE webhook_events ADD COLUMN origin text NOT NULL DEFAULT '';
