-- Maintain: scheduled metadata backups with retention, drift alerts with
-- routing, and end-user feedback.

-- A backup schedule per org: daily by default, keeping one snapshot a day
-- for keep_daily days and one a week for keep_weekly weeks.
CREATE TABLE backup_policies (
    org_id      bigint PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    enabled     boolean NOT NULL DEFAULT true,
    every_hours integer NOT NULL DEFAULT 24 CHECK (every_hours BETWEEN 1 AND 168),
    keep_daily  integer NOT NULL DEFAULT 14 CHECK (keep_daily BETWEEN 1 AND 366),
    keep_weekly integer NOT NULL DEFAULT 8 CHECK (keep_weekly BETWEEN 0 AND 520),
    next_at     timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
INSERT INTO backup_policies (org_id, next_at, updated_at) SELECT id, now(), now() FROM orgs;

-- backup: taken by the schedule (retention prunes only these).
-- drift_checked_at and diff_*: compared with the org's previous snapshot.
ALTER TABLE snapshots ADD COLUMN backup boolean NOT NULL DEFAULT false;
ALTER TABLE snapshots ADD COLUMN drift_checked_at timestamptz;
ALTER TABLE snapshots ADD COLUMN diff_new integer;
ALTER TABLE snapshots ADD COLUMN diff_changed integer;
ALTER TABLE snapshots ADD COLUMN diff_deleted integer;
CREATE INDEX snapshots_org_backup_idx ON snapshots (org_id, id DESC) WHERE backup;

-- A restore is a deployment of a snapshot's versions.
ALTER TABLE deployments ADD COLUMN restore_of bigint REFERENCES snapshots (id) ON DELETE SET NULL;

-- Alerts: drift, failed backups, new test failures. details holds what
-- the page shows (the drifted components, who changed them).
CREATE TABLE alerts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL,
    severity       text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    org_id         bigint REFERENCES orgs (id) ON DELETE CASCADE,
    title          text NOT NULL,
    body           text NOT NULL DEFAULT '',
    details        jsonb NOT NULL DEFAULT '{}',
    snapshot_id    bigint REFERENCES snapshots (id) ON DELETE SET NULL,
    previous_id    bigint REFERENCES snapshots (id) ON DELETE SET NULL,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    work_item_id   bigint REFERENCES work_items (id) ON DELETE SET NULL,
    resolved_label text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX alerts_open_idx ON alerts (status, id DESC);
CREATE INDEX alerts_org_idx ON alerts (org_id, id DESC);

-- Where alerts go: a kind ('*' for any) at or above a severity, to an
-- email address or a chat webhook (sealed: webhook URLs carry secrets).
CREATE TABLE alert_routes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    min_severity text NOT NULL CHECK (min_severity IN ('info', 'warning', 'critical')),
    channel      text NOT NULL CHECK (channel IN ('email', 'webhook')),
    target       text NOT NULL, -- sealed with the keyring
    target_hint  text NOT NULL,
    created_label text NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE alert_deliveries (
    alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    route_id bigint NOT NULL REFERENCES alert_routes (id) ON DELETE CASCADE,
    status   text NOT NULL,
    error    text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL,
    PRIMARY KEY (alert_id, route_id)
);

-- End-user feedback and its triage.
CREATE TABLE feedback (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('problem', 'suggestion')),
    title           text NOT NULL,
    body            text NOT NULL DEFAULT '',
    where_seen      text NOT NULL DEFAULT '',
    component_type  text NOT NULL DEFAULT '',
    component_name  text NOT NULL DEFAULT '',
    screenshot      bytea,
    screenshot_type text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'converted', 'declined')),
    triage_note     text NOT NULL DEFAULT '',
    requirement_id  bigint REFERENCES requirements (id) ON DELETE SET NULL,
    work_item_id    bigint REFERENCES work_items (id) ON DELETE SET NULL,
    release_id      bigint REFERENCES releases (id) ON DELETE SET NULL,
    submitted_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    submitted_label text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX feedback_project_idx ON feedback (project_id, status, id DESC);
