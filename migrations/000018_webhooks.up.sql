-- Webhooks out: an outbox of events written with the change they report,
-- fanned out to subscribed endpoints as signed, retried deliveries.
CREATE TABLE webhooks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url           text NOT NULL,   -- sealed: endpoint paths often carry tokens
    url_hint      text NOT NULL,
    secret        text NOT NULL,   -- sealed HMAC key
    events        text[] NOT NULL, -- kinds by prefix: work_item, promotion, deployment, alert, … or *
    active        boolean NOT NULL DEFAULT true,
    created_label text NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE TABLE webhook_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    project_id    bigint,
    entity_type   text NOT NULL,
    entity_id     bigint NOT NULL,
    summary       text NOT NULL,
    at            timestamptz NOT NULL,
    dispatched_at timestamptz
);
CREATE INDEX webhook_events_pending_idx ON webhook_events (id) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        bigint NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'queued', -- queued, delivered, failed
    attempts        integer NOT NULL DEFAULT 0,
    response_status integer NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_hook_idx ON webhook_deliveries (webhook_id, id DESC);

-- Webhooks in: a git host signs push events with the repository's secret.
ALTER TABLE repositories ADD COLUMN hook_secret text NOT NULL DEFAULT '';
