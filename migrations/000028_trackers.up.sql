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

-- Where the tracker dispatcher has read the event outbox up to.
CREATE TABLE tracker_cursor (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_id bigint NOT NULL
);
INSERT INTO tracker_cursor (last_id) SELECT coalesce(max(id), 0) FROM webhook_events;

-- Events a tracker sync itself caused are not sent back (no echo).
ALTER TABLE webhook_events ADD COLUMN origin text NOT NULL DEFAULT '';
