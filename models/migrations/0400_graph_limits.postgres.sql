-- Per-mailbox Microsoft Graph limits shared by every worker process
-- (addin/graph DBLimiter).
-- graph_limit_leases: one row per in-flight slot of a mailbox (4 by default).
-- A slot is free when expires_at (unix ms) is in the past, so a process that
-- dies holding one loses it after the lease TTL.
-- graph_limit_budget: requests charged per mailbox per time bucket (unix
-- minute by default), summed over the last window to keep each mailbox under
-- Graph's 10,000 requests per 10 minutes.
CREATE TABLE graph_limit_leases (
    mailbox    TEXT    NOT NULL,
    slot       INTEGER NOT NULL,
    holder     TEXT    NOT NULL DEFAULT '',
    expires_at BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox, slot)
);

CREATE TABLE graph_limit_budget (
    mailbox  TEXT    NOT NULL,
    bucket   BIGINT  NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox, bucket)
);

CREATE INDEX graph_limit_budget_bucket_idx ON graph_limit_budget (bucket);
