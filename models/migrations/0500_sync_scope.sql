-- A link whose Outlook item left the sync scope (its category was removed)
-- is kept, so the pair resumes without a twin when the item comes back.
ALTER TABLE sync_links ADD COLUMN out_of_scope BOOLEAN NOT NULL DEFAULT FALSE;
-- "Why didn't this record sync": latest decisions per record.
CREATE INDEX sync_record_events_graph_idx ON sync_record_events (user_id, object_type, graph_id);
-- A user's own conflict policy ('server', 'client' or 'user'), honoured
-- only when the administrator allows user override.
CREATE TABLE sync_user_prefs (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    conflict_policy {{TEXT}} NOT NULL DEFAULT '' CHECK (conflict_policy IN ('', 'server', 'client', 'user')),
    updated_at {{TS}} NOT NULL
);
-- An item this server created in Outlook after the delta token of its run:
-- the next delta must report it; if it does not, the user deleted it.
ALTER TABLE sync_links ADD COLUMN awaiting_delta BOOLEAN NOT NULL DEFAULT FALSE;
-- The Outlook container a cursor reads (the To Do list id), so an
-- unchanged run costs one delta request, and the appointment window the
-- delta link was opened with (a new day moves the window: resync).
ALTER TABLE sync_cursors ADD COLUMN container_id {{TEXT}} NOT NULL DEFAULT '';
ALTER TABLE sync_cursors ADD COLUMN window_start {{TEXT}} NOT NULL DEFAULT '';
