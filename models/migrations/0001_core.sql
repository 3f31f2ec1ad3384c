-- Core CRM and add-in schema. Dialect tokens: {{ID}} {{TS}} {{BLOB}} {{TEXT}}.

CREATE TABLE crm_version_counter (
    id INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO crm_version_counter (id, value) VALUES (1, 0);

CREATE TABLE users (
    id {{ID}},
    username {{TEXT}} NOT NULL,
    display_name {{TEXT}} NOT NULL DEFAULT '',
    email {{TEXT}} NOT NULL DEFAULT '',
    password_hash {{TEXT}} NOT NULL DEFAULT '',
    role {{TEXT}} NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    time_zone {{TEXT}} NOT NULL DEFAULT 'UTC',
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_email_idx ON users (lower(email));

CREATE TABLE accounts (
    id {{ID}},
    owner_id BIGINT NOT NULL REFERENCES users (id),
    name {{TEXT}} NOT NULL,
    website {{TEXT}} NOT NULL DEFAULT '',
    industry {{TEXT}} NOT NULL DEFAULT '',
    phone {{TEXT}} NOT NULL DEFAULT '',
    addr_country {{TEXT}} NOT NULL DEFAULT '',
    addr_line1 {{TEXT}} NOT NULL DEFAULT '',
    addr_line2 {{TEXT}} NOT NULL DEFAULT '',
    addr_line3 {{TEXT}} NOT NULL DEFAULT '',
    addr_locality {{TEXT}} NOT NULL DEFAULT '',
    addr_dependent_locality {{TEXT}} NOT NULL DEFAULT '',
    addr_region {{TEXT}} NOT NULL DEFAULT '',
    addr_postal_code {{TEXT}} NOT NULL DEFAULT '',
    addr_sorting_code {{TEXT}} NOT NULL DEFAULT '',
    addr_formatted {{TEXT}} NOT NULL DEFAULT '',
    version BIGINT NOT NULL,
    origin {{TEXT}} NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'sync', 'import', 'merge')),
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    deleted_at {{TS}}
);
CREATE INDEX accounts_owner_idx ON accounts (owner_id);
CREATE INDEX accounts_version_idx ON accounts (version);
CREATE INDEX accounts_name_idx ON accounts (lower(name));

CREATE TABLE contacts (
    id {{ID}},
    owner_id BIGINT NOT NULL REFERENCES users (id),
    account_id BIGINT REFERENCES accounts (id),
    first_name {{TEXT}} NOT NULL DEFAULT '',
    last_name {{TEXT}} NOT NULL DEFAULT '',
    email {{TEXT}} NOT NULL DEFAULT '',
    email_norm {{TEXT}} NOT NULL DEFAULT '',
    phone {{TEXT}} NOT NULL DEFAULT '',
    mobile {{TEXT}} NOT NULL DEFAULT '',
    job_title {{TEXT}} NOT NULL DEFAULT '',
    department {{TEXT}} NOT NULL DEFAULT '',
    notes {{TEXT}} NOT NULL DEFAULT '',
    dup_key {{TEXT}} NOT NULL DEFAULT '',
    duplicate_reason {{TEXT}} NOT NULL DEFAULT '',
    addr_country {{TEXT}} NOT NULL DEFAULT '',
    addr_line1 {{TEXT}} NOT NULL DEFAULT '',
    addr_line2 {{TEXT}} NOT NULL DEFAULT '',
    addr_line3 {{TEXT}} NOT NULL DEFAULT '',
    addr_locality {{TEXT}} NOT NULL DEFAULT '',
    addr_dependent_locality {{TEXT}} NOT NULL DEFAULT '',
    addr_region {{TEXT}} NOT NULL DEFAULT '',
    addr_postal_code {{TEXT}} NOT NULL DEFAULT '',
    addr_sorting_code {{TEXT}} NOT NULL DEFAULT '',
    addr_formatted {{TEXT}} NOT NULL DEFAULT '',
    version BIGINT NOT NULL,
    origin {{TEXT}} NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'sync', 'import', 'merge')),
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    deleted_at {{TS}}
);
CREATE INDEX contacts_owner_idx ON contacts (owner_id);
CREATE INDEX contacts_account_idx ON contacts (account_id);
CREATE INDEX contacts_email_idx ON contacts (email_norm);
CREATE INDEX contacts_dup_idx ON contacts (dup_key);
CREATE INDEX contacts_version_idx ON contacts (version);

CREATE TABLE leads (
    id {{ID}},
    owner_id BIGINT NOT NULL REFERENCES users (id),
    account_id BIGINT REFERENCES accounts (id),
    contact_id BIGINT REFERENCES contacts (id),
    name {{TEXT}} NOT NULL,
    company {{TEXT}} NOT NULL DEFAULT '',
    email {{TEXT}} NOT NULL DEFAULT '',
    email_norm {{TEXT}} NOT NULL DEFAULT '',
    phone {{TEXT}} NOT NULL DEFAULT '',
    status {{TEXT}} NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'qualified', 'disqualified')),
    source {{TEXT}} NOT NULL DEFAULT '',
    version BIGINT NOT NULL,
    origin {{TEXT}} NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'sync', 'import', 'merge')),
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    deleted_at {{TS}}
);
CREATE INDEX leads_owner_idx ON leads (owner_id);
CREATE INDEX leads_account_idx ON leads (account_id);
CREATE INDEX leads_contact_idx ON leads (contact_id);
CREATE INDEX leads_email_idx ON leads (email_norm);

CREATE TABLE opportunities (
    id {{ID}},
    owner_id BIGINT NOT NULL REFERENCES users (id),
    account_id BIGINT REFERENCES accounts (id),
    contact_id BIGINT REFERENCES contacts (id),
    name {{TEXT}} NOT NULL,
    stage {{TEXT}} NOT NULL DEFAULT 'prospecting',
    status {{TEXT}} NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    amount_cents BIGINT NOT NULL DEFAULT 0,
    currency {{TEXT}} NOT NULL DEFAULT 'USD',
    close_date {{TS}},
    version BIGINT NOT NULL,
    origin {{TEXT}} NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'sync', 'import', 'merge')),
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    deleted_at {{TS}}
);
CREATE INDEX opportunities_owner_idx ON opportunities (owner_id);
CREATE INDEX opportunities_account_idx ON opportunities (account_id);
CREATE INDEX opportunities_contact_idx ON opportunities (contact_id);

CREATE TABLE activity_types (
    code {{TEXT}} PRIMARY KEY,
    name {{TEXT}} NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    subtypes {{TEXT}} NOT NULL DEFAULT '[]',
    updated_at {{TS}} NOT NULL
);

CREATE TABLE activities (
    id {{ID}},
    type_code {{TEXT}} NOT NULL REFERENCES activity_types (code),
    subtype {{TEXT}} NOT NULL DEFAULT '',
    subject {{TEXT}} NOT NULL DEFAULT '',
    body_html {{TEXT}} NOT NULL DEFAULT '',
    body_text {{TEXT}} NOT NULL DEFAULT '',
    start_at {{TS}},
    end_at {{TS}},
    due_at {{TS}},
    time_zone {{TEXT}} NOT NULL DEFAULT '',
    all_day BOOLEAN NOT NULL DEFAULT FALSE,
    status {{TEXT}} NOT NULL DEFAULT '',
    importance {{TEXT}} NOT NULL DEFAULT 'normal',
    private BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    location {{TEXT}} NOT NULL DEFAULT '',
    internet_message_id {{TEXT}},
    ical_uid {{TEXT}},
    conversation_id {{TEXT}} NOT NULL DEFAULT '',
    outlook_item_id {{TEXT}} NOT NULL DEFAULT '',
    source {{TEXT}} NOT NULL DEFAULT 'manual',
    extra {{TEXT}} NOT NULL DEFAULT '{}',
    version BIGINT NOT NULL,
    origin {{TEXT}} NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'sync', 'import', 'merge')),
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    deleted_at {{TS}}
);
CREATE UNIQUE INDEX activities_imid_key ON activities (internet_message_id) WHERE internet_message_id IS NOT NULL;
CREATE UNIQUE INDEX activities_icaluid_key ON activities (type_code, ical_uid) WHERE ical_uid IS NOT NULL;
CREATE INDEX activities_owner_idx ON activities (owner_id, start_at);
CREATE INDEX activities_version_idx ON activities (version);
CREATE INDEX activities_type_idx ON activities (type_code);

CREATE TABLE activity_participants (
    id {{ID}},
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    role {{TEXT}} NOT NULL CHECK (role IN ('from', 'to', 'cc', 'organizer', 'attendee')),
    contact_id BIGINT REFERENCES contacts (id),
    user_id BIGINT REFERENCES users (id),
    email {{TEXT}} NOT NULL DEFAULT '',
    name {{TEXT}} NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX activity_participants_key ON activity_participants (activity_id, role, email);
CREATE INDEX activity_participants_contact_idx ON activity_participants (contact_id);
CREATE INDEX activity_participants_user_idx ON activity_participants (user_id);

CREATE TABLE activity_associations (
    id {{ID}},
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    object_type {{TEXT}} NOT NULL CHECK (object_type IN ('account', 'contact', 'lead', 'opportunity')),
    object_id BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at {{TS}} NOT NULL
);
CREATE UNIQUE INDEX activity_associations_key ON activity_associations (activity_id, object_type, object_id);
CREATE INDEX activity_associations_object_idx ON activity_associations (object_type, object_id);

-- One row per sales user who shared an item: the "owner link" of a share.
CREATE TABLE activity_shares (
    id {{ID}},
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    outlook_item_id {{TEXT}} NOT NULL DEFAULT '',
    source {{TEXT}} NOT NULL DEFAULT 'pane',
    created_at {{TS}} NOT NULL
);
CREATE UNIQUE INDEX activity_shares_key ON activity_shares (activity_id, user_id);

CREATE TABLE favorites (
    user_id BIGINT NOT NULL REFERENCES users (id),
    object_type {{TEXT}} NOT NULL CHECK (object_type IN ('account', 'contact', 'lead', 'opportunity')),
    object_id BIGINT NOT NULL,
    created_at {{TS}} NOT NULL,
    PRIMARY KEY (user_id, object_type, object_id)
);

CREATE TABLE recent_views (
    user_id BIGINT NOT NULL REFERENCES users (id),
    object_type {{TEXT}} NOT NULL CHECK (object_type IN ('account', 'contact', 'lead', 'opportunity', 'activity')),
    object_id BIGINT NOT NULL,
    action {{TEXT}} NOT NULL DEFAULT 'viewed' CHECK (action IN ('viewed', 'created', 'shared', 'edited')),
    at {{TS}} NOT NULL,
    PRIMARY KEY (user_id, object_type, object_id)
);
CREATE INDEX recent_views_at_idx ON recent_views (user_id, at);

CREATE TABLE admin_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data {{TEXT}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    updated_by BIGINT
);

CREATE TABLE audit_log (
    id {{ID}},
    actor_id BIGINT,
    action {{TEXT}} NOT NULL,
    target {{TEXT}} NOT NULL DEFAULT '',
    old_value {{TEXT}} NOT NULL DEFAULT '',
    new_value {{TEXT}} NOT NULL DEFAULT '',
    at {{TS}} NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE registrations (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    application_id {{TEXT}} NOT NULL DEFAULT '',
    name {{TEXT}} NOT NULL DEFAULT '',
    application_key_enc {{BLOB}},
    updated_at {{TS}} NOT NULL,
    updated_by BIGINT
);

CREATE TABLE user_mappings (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    ms_email {{TEXT}} NOT NULL,
    ms_email_norm {{TEXT}} NOT NULL,
    ms_object_id {{TEXT}} NOT NULL DEFAULT '',
    ms_tenant_id {{TEXT}} NOT NULL DEFAULT '',
    ms_home_account_id {{TEXT}} NOT NULL DEFAULT '',
    authorized BOOLEAN NOT NULL DEFAULT TRUE,
    auth_error {{TEXT}} NOT NULL DEFAULT '',
    sync_state {{TEXT}} NOT NULL DEFAULT 'active' CHECK (sync_state IN ('active', 'suspended', 'disabled', 'needs_review')),
    last_connect_at {{TS}},
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL
);
CREATE UNIQUE INDEX user_mappings_user_key ON user_mappings (user_id);
CREATE UNIQUE INDEX user_mappings_email_key ON user_mappings (ms_email_norm);

CREATE TABLE connect_attempts (
    id {{TEXT}} PRIMARY KEY,
    state_hash {{TEXT}} NOT NULL,
    trusted BOOLEAN NOT NULL DEFAULT FALSE,
    user_id BIGINT REFERENCES users (id),
    verifier_enc {{BLOB}},
    redirect_uri {{TEXT}} NOT NULL DEFAULT '',
    browser_hash {{TEXT}} NOT NULL DEFAULT '',
    expires_at {{TS}} NOT NULL,
    used_at {{TS}},
    created_at {{TS}} NOT NULL
);
CREATE UNIQUE INDEX connect_attempts_state_key ON connect_attempts (state_hash);
CREATE INDEX connect_attempts_expires_idx ON connect_attempts (expires_at);

CREATE TABLE handoff_codes (
    code_hash {{TEXT}} PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    trusted BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at {{TS}} NOT NULL,
    used_at {{TS}},
    created_at {{TS}} NOT NULL
);
CREATE INDEX handoff_codes_expires_idx ON handoff_codes (expires_at);

CREATE TABLE sessions (
    id {{TEXT}} PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    trusted BOOLEAN NOT NULL DEFAULT FALSE,
    kind {{TEXT}} NOT NULL DEFAULT 'pane' CHECK (kind IN ('pane', 'admin')),
    expires_at {{TS}} NOT NULL,
    revoked_at {{TS}},
    last_seen_at {{TS}},
    created_at {{TS}} NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE refresh_tokens (
    id {{ID}},
    session_id {{TEXT}} NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash {{TEXT}} NOT NULL,
    expires_at {{TS}} NOT NULL,
    rotated_at {{TS}},
    created_at {{TS}} NOT NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE token_caches (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    cache_enc {{BLOB}} NOT NULL,
    updated_at {{TS}} NOT NULL
);

CREATE TABLE sync_links (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    object_type {{TEXT}} NOT NULL CHECK (object_type IN ('contact', 'appointment', 'task')),
    crm_id BIGINT NOT NULL,
    graph_id {{TEXT}} NOT NULL DEFAULT '',
    change_key {{TEXT}} NOT NULL DEFAULT '',
    crm_version BIGINT NOT NULL DEFAULT 0,
    crm_snapshot {{TEXT}} NOT NULL DEFAULT '{}',
    graph_snapshot {{TEXT}} NOT NULL DEFAULT '{}',
    state {{TEXT}} NOT NULL DEFAULT 'linked' CHECK (state IN ('pending', 'linked', 'held')),
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL
);
CREATE UNIQUE INDEX sync_links_crm_key ON sync_links (user_id, object_type, crm_id);
CREATE UNIQUE INDEX sync_links_graph_key ON sync_links (user_id, object_type, graph_id) WHERE graph_id <> '';

CREATE TABLE sync_cursors (
    user_id BIGINT NOT NULL REFERENCES users (id),
    object_type {{TEXT}} NOT NULL CHECK (object_type IN ('contact', 'appointment', 'task')),
    delta_link {{TEXT}} NOT NULL DEFAULT '',
    crm_watermark BIGINT NOT NULL DEFAULT 0,
    first_sync_done BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at {{TS}} NOT NULL,
    PRIMARY KEY (user_id, object_type)
);

CREATE TABLE sync_runs (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    trigger_kind {{TEXT}} NOT NULL DEFAULT 'standard' CHECK (trigger_kind IN ('standard', 'instant', 'manual', 'push', 'monitor')),
    status {{TEXT}} NOT NULL DEFAULT 'in_progress' CHECK (status IN ('queued', 'in_progress', 'succeeded', 'succeeded_with_conflicts', 'failed')),
    started_at {{TS}} NOT NULL,
    finished_at {{TS}},
    graph_ms BIGINT NOT NULL DEFAULT 0,
    crm_ms BIGINT NOT NULL DEFAULT 0,
    counts {{TEXT}} NOT NULL DEFAULT '{}',
    error {{TEXT}} NOT NULL DEFAULT '',
    lease_until {{TS}}
);
CREATE INDEX sync_runs_user_idx ON sync_runs (user_id, started_at);
-- At most one unfinished run per user, across every worker process.
CREATE UNIQUE INDEX sync_runs_active_key ON sync_runs (user_id) WHERE status IN ('queued', 'in_progress');

CREATE TABLE sync_record_events (
    id {{ID}},
    run_id BIGINT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    object_type {{TEXT}} NOT NULL,
    crm_id BIGINT,
    graph_id {{TEXT}} NOT NULL DEFAULT '',
    direction {{TEXT}} NOT NULL DEFAULT '' CHECK (direction IN ('', 'to_crm', 'to_o365')),
    outcome {{TEXT}} NOT NULL,
    message {{TEXT}} NOT NULL DEFAULT '',
    at {{TS}} NOT NULL
);
CREATE INDEX sync_record_events_run_idx ON sync_record_events (run_id);
CREATE INDEX sync_record_events_crm_idx ON sync_record_events (user_id, object_type, crm_id);

CREATE TABLE sync_conflicts (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    link_id BIGINT NOT NULL REFERENCES sync_links (id) ON DELETE CASCADE,
    object_type {{TEXT}} NOT NULL,
    crm_id BIGINT NOT NULL,
    fields {{TEXT}} NOT NULL DEFAULT '{}',
    status {{TEXT}} NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at {{TS}} NOT NULL,
    resolved_at {{TS}}
);
CREATE UNIQUE INDEX sync_conflicts_open_key ON sync_conflicts (link_id) WHERE status = 'open';
CREATE INDEX sync_conflicts_user_idx ON sync_conflicts (user_id, status);

CREATE TABLE usage_events (
    user_id BIGINT NOT NULL REFERENCES users (id),
    day {{TEXT}} NOT NULL,
    kind {{TEXT}} NOT NULL,
    count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day, kind)
);

INSERT INTO activity_types (code, name, enabled, subtypes, updated_at) VALUES
    ('EMAIL', 'Email', TRUE, '[]', CURRENT_TIMESTAMP),
    ('APPOINTMENT', 'Appointment', TRUE, '[]', CURRENT_TIMESTAMP),
    ('TASK', 'Task', TRUE, '[]', CURRENT_TIMESTAMP),
    ('CALL_REPORT', 'Call Report', TRUE, '[]', CURRENT_TIMESTAMP);
