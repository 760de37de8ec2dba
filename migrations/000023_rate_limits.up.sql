-- Sign-in attempts per client address, as token buckets every replica
-- shares: an address gets the same allowance whichever replica it asks.
CREATE TABLE rate_limits (
    key        text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL
);
