-- Per-user settings: a user's own conflict policy, honoured only while the
-- administrator allows users to override the default.
CREATE TABLE user_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    conflict_policy {{TEXT}} NOT NULL DEFAULT '' CHECK (conflict_policy IN ('', 'server_wins', 'client_wins', 'user_selected')),
    updated_at {{TS}} NOT NULL
);

CREATE INDEX audit_log_action_idx ON audit_log (action, at);
CREATE INDEX sync_runs_started_idx ON sync_runs (started_at);
CREATE INDEX usage_events_day_idx ON usage_events (day);
