-- Side-panel search on SQLite: one FTS5 table with the trigram tokenizer
-- over the names of accounts, contacts, leads and opportunities, kept in
-- step by triggers. The rowid encodes the record: id * 4 + type, with
-- account 0, contact 1, lead 2, opportunity 3, so a trigger removes an
-- entry by rowid without scanning.
CREATE VIRTUAL TABLE search_names USING fts5(name, tokenize = "trigram remove_diacritics 1");

INSERT INTO search_names (rowid, name) SELECT id * 4 + 0, name FROM accounts WHERE deleted_at IS NULL;
INSERT INTO search_names (rowid, name) SELECT id * 4 + 1, trim(first_name || ' ' || last_name) FROM contacts WHERE deleted_at IS NULL;
INSERT INTO search_names (rowid, name) SELECT id * 4 + 2, name FROM leads WHERE deleted_at IS NULL;
INSERT INTO search_names (rowid, name) SELECT id * 4 + 3, name FROM opportunities WHERE deleted_at IS NULL;

CREATE TRIGGER accounts_search_ai AFTER INSERT ON accounts WHEN NEW.deleted_at IS NULL BEGIN
    INSERT INTO search_names (rowid, name) VALUES (NEW.id * 4 + 0, NEW.name);
END;
CREATE TRIGGER accounts_search_au AFTER UPDATE ON accounts BEGIN
    DELETE FROM search_names WHERE rowid = OLD.id * 4 + 0;
    INSERT INTO search_names (rowid, name) SELECT NEW.id * 4 + 0, NEW.name WHERE NEW.deleted_at IS NULL;
END;
CREATE TRIGGER accounts_search_ad AFTER DELETE ON accounts BEGIN
    DELETE FROM search_names WHERE rowid = OLD.id * 4 + 0;
END;

CREATE TRIGGER contacts_search_ai AFTER INSERT ON contacts WHEN NEW.deleted_at IS NULL BEGIN
    INSERT INTO search_names (rowid, name) VALUES (NEW.id * 4 + 1, trim(NEW.first_name || ' ' || NEW.last_name));
END;
CREATE TRIGGER contacts_search_au AFTER UPDATE ON contacts BEGIN
    DELETE FROM search_names WHERE rowid = OLD.id * 4 + 1;
    INSERT INTO search_names (rowid, name) SELECT NEW.id * 4 + 1, trim(NEW.first_name || ' ' || NEW.last_name) WHERE NEW.deleted_at IS NULL;
END;
CREATE TRIGGER contacts_search_ad AFTER DELETE ON contacts BEGIN
    DELETE FROM search_names WHERE rowid = OLD.id * 4 + 1;
END;

CREATE TRIGGER leads_search_ai AFTER INSERT ON leads WHEN NEW.deleted_at IS NULL BEGIN
    INSERT INTO search_names (rowid, name) VALUES (NEW.id * 4 + 2, NEW.name);
END;
CREATE TRIGGER leads_search_au AFTER UPDATE ON leads BEGIN
    DELETE FROM search_names WHERE rowid = OLD.id * 4 + 2;
    INSERT INTO search_names (rowid, name) SELECT NEW.id * 4 + 2, NEW.name WHERE NEW.deleted_at IS NULL;
END;
CREATE TRIGGER leads_search_ad AFTER DELETE ON leads BEGIN
    DELETE FROM search_names WHERE rowid = OLD.id * 4 + 2;
END;

CREATE TRIGGER opportunities_search_ai AFTER INSERT ON opportunities WHEN NEW.deleted_at IS NULL BEGIN
    INSERT INTO search_names (rowid, name) VALUES (NEW.id * 4 + 3, NEW.name);
END;
CREATE TRIGGER opportunities_search_au AFTER UPDATE ON opportunities BEGIN
    DELETE FROM search_names WHERE rowid = OLD.id * 4 + 3;
    INSERT INTO search_names (rowid, name) SELECT NEW.id * 4 + 3, NEW.name WHERE NEW.deleted_at IS NULL;
END;
CREATE TRIGGER opportunities_search_ad AFTER DELETE ON opportunities BEGIN
    DELETE FROM search_names WHERE rowid = OLD.id * 4 + 3;
END;

-- Exact phone search (numbers are stored in E.164) and context lookups.
CREATE INDEX contacts_phone_idx ON contacts (phone) WHERE phone <> '';
CREATE INDEX contacts_mobile_idx ON contacts (mobile) WHERE mobile <> '';
CREATE INDEX accounts_phone_idx ON accounts (phone) WHERE phone <> '';
CREATE INDEX leads_phone_idx ON leads (phone) WHERE phone <> '';
CREATE INDEX activity_participants_email_idx ON activity_participants (email);
CREATE INDEX opportunities_contact_open_idx ON opportunities (contact_id, updated_at) WHERE status = 'open' AND deleted_at IS NULL;
CREATE INDEX opportunities_account_open_idx ON opportunities (account_id, updated_at) WHERE status = 'open' AND deleted_at IS NULL;
CREATE INDEX favorites_user_idx ON favorites (user_id, created_at);
