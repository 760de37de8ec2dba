-- Each running serve or worker process, by its River client id, with a
-- heartbeat: a running job whose process stopped beating is taken back
-- within a minute instead of after River's stuck-job timeout, while a job
-- that is merely long (a deploy waiting on Salesforce) is left alone.
CREATE TABLE trellis_processes (
    client_id    text PRIMARY KEY,
    kind         text NOT NULL,   -- serve or worker
    host         text NOT NULL,
    pid          integer NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);
