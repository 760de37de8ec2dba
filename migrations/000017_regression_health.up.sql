-- Scheduled regression test runs and org health over time.

CREATE TABLE regression_policies (
    org_id           bigint PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    enabled          boolean NOT NULL DEFAULT false,
    every_days       integer NOT NULL DEFAULT 7 CHECK (every_days BETWEEN 1 AND 90),
    on_upgrade       boolean NOT NULL DEFAULT true,
    last_api_version text NOT NULL DEFAULT '',
    next_at          timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

-- One sample a day or so: the API calls used of the daily allowance and
-- the org-wide Apex coverage.
CREATE TABLE org_health_samples (
    org_id     bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    api_used   integer NOT NULL,
    api_max    integer NOT NULL,
    coverage   integer, -- percent; null when the org would not say
    api_version text NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, at)
);
