-- Nothing to do on SQLite: its FTS5 trigram table (0200) already matches
-- typos without scanning the record tables. The PostgreSQL side adds the
-- search_words table.
SELECT 1;
