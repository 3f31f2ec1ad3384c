-- Side-panel search on PostgreSQL: trigram (pg_trgm) indexes for
-- substring and typo-tolerant matching and full-text indexes for word
-- prefixes, on the names of accounts, contacts, leads and opportunities.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX accounts_name_trgm ON accounts USING gin (lower(name) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX contacts_name_trgm ON contacts USING gin (lower(trim(first_name || ' ' || last_name)) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX leads_name_trgm ON leads USING gin (lower(name) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_name_trgm ON opportunities USING gin (lower(name) gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE INDEX accounts_name_fts ON accounts USING gin (to_tsvector('simple', name)) WHERE deleted_at IS NULL;
CREATE INDEX contacts_name_fts ON contacts USING gin (to_tsvector('simple', first_name || ' ' || last_name)) WHERE deleted_at IS NULL;
CREATE INDEX leads_name_fts ON leads USING gin (to_tsvector('simple', name)) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_name_fts ON opportunities USING gin (to_tsvector('simple', name)) WHERE deleted_at IS NULL;

-- Exact phone search (numbers are stored in E.164) and context lookups.
CREATE INDEX contacts_phone_idx ON contacts (phone) WHERE phone <> '';
CREATE INDEX contacts_mobile_idx ON contacts (mobile) WHERE mobile <> '';
CREATE INDEX accounts_phone_idx ON accounts (phone) WHERE phone <> '';
CREATE INDEX leads_phone_idx ON leads (phone) WHERE phone <> '';
CREATE INDEX activity_participants_email_idx ON activity_participants (email);
CREATE INDEX opportunities_contact_open_idx ON opportunities (contact_id, updated_at) WHERE status = 'open' AND deleted_at IS NULL;
CREATE INDEX opportunities_account_open_idx ON opportunities (account_id, updated_at) WHERE status = 'open' AND deleted_at IS NULL;
CREATE INDEX favorites_user_idx ON favorites (user_id, created_at);
