-- Sharing: administrator layouts of mandatory fields for shared emails and
-- appointments (Advanced Sharing Mode), and the instant sync job's state
-- per user (watermarks of tagged mail and meetings, and a lease so that two
-- runs for one user never overlap).

CREATE TABLE share_layouts (
    object_type {{TEXT}} PRIMARY KEY CHECK (object_type IN ('email', 'appointment')),
    mandatory_fields {{TEXT}} NOT NULL DEFAULT '[]',
    updated_at {{TS}} NOT NULL,
    updated_by BIGINT
);

CREATE TABLE share_sync_states (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    messages_since {{TS}},
    events_delta_link {{TEXT}} NOT NULL DEFAULT '',
    last_run_at {{TS}},
    last_error {{TEXT}} NOT NULL DEFAULT '',
    shared_count BIGINT NOT NULL DEFAULT 0,
    lease_until {{TS}},
    updated_at {{TS}} NOT NULL
);
