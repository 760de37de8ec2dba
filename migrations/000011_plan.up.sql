-- Plan: projects, requirements with their discussion and spec history,
-- work items, releases. These tables start the lineage spine
-- requirement → work item → (later) component change → release build →
-- promotion → deployment → org; every link is indexed both ways.

CREATE TABLE projects (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text NOT NULL UNIQUE CHECK (key ~ '^[A-Z][A-Z0-9]{1,9}$'),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    req_seq     integer NOT NULL DEFAULT 0,
    item_seq    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE project_members (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL,
    added_at   timestamptz NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user_idx ON project_members (user_id);

CREATE TABLE releases (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         text NOT NULL,
    version      text NOT NULL DEFAULT '',
    target_date  date,
    status       text NOT NULL DEFAULT 'planning',
    notes        text NOT NULL DEFAULT '',
    notes_edited boolean NOT NULL DEFAULT false,
    rev          integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE requirements (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id        bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number            integer NOT NULL,
    key               text NOT NULL UNIQUE,
    title             text NOT NULL,
    description       text NOT NULL DEFAULT '',
    business_goal     text NOT NULL DEFAULT '',
    priority          text NOT NULL DEFAULT 'medium',
    status            text NOT NULL DEFAULT 'draft',
    requester_id      bigint REFERENCES users (id),
    owner_id          bigint REFERENCES users (id),
    labels            text[] NOT NULL DEFAULT '{}',
    target_release_id bigint REFERENCES releases (id) ON DELETE SET NULL,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    search            tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', key), 'A') ||
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', business_goal), 'B') ||
        setweight(to_tsvector('english', description), 'C')) STORED,
    UNIQUE (project_id, number)
);
CREATE INDEX requirements_project_status_idx ON requirements (project_id, status, number DESC);
CREATE INDEX requirements_project_number_idx ON requirements (project_id, number DESC);
CREATE INDEX requirements_owner_idx ON requirements (owner_id);
CREATE INDEX requirements_release_idx ON requirements (target_release_id);
CREATE INDEX requirements_labels_idx ON requirements USING gin (labels);
CREATE INDEX requirements_search_idx ON requirements USING gin (search);

CREATE TABLE acceptance_criteria (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requirement_id bigint NOT NULL REFERENCES requirements (id) ON DELETE CASCADE,
    position       integer NOT NULL,
    text           text NOT NULL,
    met            boolean NOT NULL DEFAULT false,
    met_by         bigint REFERENCES users (id),
    met_at         timestamptz
);
CREATE INDEX acceptance_criteria_req_idx ON acceptance_criteria (requirement_id, position);

-- The spec as it stood after each change: version 1 is the first save.
CREATE TABLE requirement_versions (
    requirement_id  bigint NOT NULL REFERENCES requirements (id) ON DELETE CASCADE,
    version         integer NOT NULL,
    title           text NOT NULL,
    description     text NOT NULL,
    business_goal   text NOT NULL,
    criteria        text[] NOT NULL DEFAULT '{}',
    edited_by       bigint REFERENCES users (id),
    edited_by_label text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL,
    PRIMARY KEY (requirement_id, version)
);

CREATE TABLE comments (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requirement_id       bigint NOT NULL REFERENCES requirements (id) ON DELETE CASCADE,
    parent_id            bigint REFERENCES comments (id) ON DELETE CASCADE,
    kind                 text NOT NULL,
    state                text NOT NULL DEFAULT '',
    body                 text NOT NULL,
    proposed_title       text NOT NULL DEFAULT '',
    proposed_description text NOT NULL DEFAULT '',
    author_id            bigint REFERENCES users (id),
    author_label         text NOT NULL,
    resolved_by          bigint REFERENCES users (id),
    resolved_by_label    text NOT NULL DEFAULT '',
    resolved_at          timestamptz,
    created_at           timestamptz NOT NULL
);
CREATE INDEX comments_requirement_idx ON comments (requirement_id, created_at);
CREATE INDEX comments_open_idx ON comments (requirement_id) WHERE state = 'open';

CREATE TABLE work_items (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number           integer NOT NULL,
    key              text NOT NULL UNIQUE,
    kind             text NOT NULL DEFAULT 'story',
    title            text NOT NULL,
    description      text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'backlog',
    assignee_id      bigint REFERENCES users (id),
    estimate         integer,
    labels           text[] NOT NULL DEFAULT '{}',
    approach         text NOT NULL DEFAULT '',
    maintenance_note text NOT NULL DEFAULT '',
    release_id       bigint REFERENCES releases (id) ON DELETE SET NULL,
    -- The linked requirements' keys, kept with work_item_requirements in the
    -- same transaction: boards and lists show them without a join per card.
    requirement_keys text[] NOT NULL DEFAULT '{}',
    rank             double precision NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    search           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', key), 'A') ||
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', description), 'C')) STORED,
    UNIQUE (project_id, number)
);
CREATE INDEX work_items_board_idx ON work_items (project_id, status, rank);
CREATE INDEX work_items_project_number_idx ON work_items (project_id, number DESC);
CREATE INDEX work_items_assignee_idx ON work_items (assignee_id);
CREATE INDEX work_items_release_idx ON work_items (release_id);
CREATE INDEX work_items_labels_idx ON work_items USING gin (labels);
CREATE INDEX work_items_search_idx ON work_items USING gin (search);

CREATE TABLE work_item_requirements (
    work_item_id   bigint NOT NULL REFERENCES work_items (id) ON DELETE CASCADE,
    requirement_id bigint NOT NULL REFERENCES requirements (id) ON DELETE CASCADE,
    PRIMARY KEY (work_item_id, requirement_id)
);
CREATE INDEX work_item_requirements_req_idx ON work_item_requirements (requirement_id, work_item_id);

-- What happened to each record, for its page; the audit log keeps the
-- same events for the whole installation.
CREATE TABLE timeline (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    entity_type text NOT NULL,
    entity_id   bigint NOT NULL,
    at          timestamptz NOT NULL,
    actor_id    bigint REFERENCES users (id),
    actor_label text NOT NULL,
    kind        text NOT NULL,
    summary     text NOT NULL
);
CREATE INDEX timeline_entity_idx ON timeline (entity_type, entity_id, at DESC, id DESC);
CREATE INDEX timeline_project_idx ON timeline (project_id, at DESC, id DESC);

-- Board column counts, kept by statement triggers so that the board of a
-- project with tens of thousands of work items reads seven rows instead of
-- counting them all. Rows are locked in (project, status) order, so two
-- moves in opposite directions cannot deadlock.
CREATE TABLE work_item_counts (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status     text NOT NULL,
    items      integer NOT NULL DEFAULT 0,
    points     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, status)
);

CREATE FUNCTION work_item_counts_apply(deltas jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO work_item_counts AS c (project_id, status, items, points)
    SELECT (d->>'project_id')::bigint, d->>'status', sum((d->>'items')::int), sum((d->>'points')::bigint)
    FROM jsonb_array_elements(deltas) d
    GROUP BY 1, 2
    HAVING sum((d->>'items')::int) <> 0 OR sum((d->>'points')::bigint) <> 0
    ORDER BY 1, 2
    ON CONFLICT (project_id, status) DO UPDATE SET items = c.items + EXCLUDED.items, points = c.points + EXCLUDED.points;
$$;

CREATE FUNCTION work_item_counts_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM work_item_counts_apply(coalesce((SELECT jsonb_agg(jsonb_build_object('project_id', project_id, 'status', status, 'items', 1, 'points', coalesce(estimate, 0))) FROM new_rows), '[]'));
    RETURN NULL;
END $$;

CREATE FUNCTION work_item_counts_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM work_item_counts_apply(coalesce((SELECT jsonb_agg(jsonb_build_object('project_id', project_id, 'status', status, 'items', -1, 'points', -coalesce(estimate, 0))) FROM old_rows), '[]'));
    RETURN NULL;
END $$;

CREATE FUNCTION work_item_counts_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM work_item_counts_apply(coalesce((SELECT jsonb_agg(d) FROM (
        SELECT jsonb_build_object('project_id', project_id, 'status', status, 'items', 1, 'points', coalesce(estimate, 0)) AS d FROM new_rows
        UNION ALL
        SELECT jsonb_build_object('project_id', project_id, 'status', status, 'items', -1, 'points', -coalesce(estimate, 0)) FROM old_rows) x), '[]'));
    RETURN NULL;
END $$;

CREATE TRIGGER work_item_counts_ins AFTER INSERT ON work_items REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION work_item_counts_ins();
CREATE TRIGGER work_item_counts_upd AFTER UPDATE ON work_items REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION work_item_counts_upd();
CREATE TRIGGER work_item_counts_del AFTER DELETE ON work_items REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION work_item_counts_del();
