-- Typo-tolerant search on PostgreSQL without trigram scans of the record
-- tables. With a million contacts, `name % query` over the names matched
-- tens of thousands of index candidates that each had to be fetched and
-- rechecked (about a second per search). Instead, as pg_trgm's
-- documentation suggests for spelling correction, the distinct words of
-- all record names are kept in search_words (tens of thousands of rows);
-- a search first finds the words similar to each query word there, then
-- matches records through the existing full-text indexes.
CREATE TABLE search_words (
    word TEXT PRIMARY KEY
);
-- GiST, not GIN: the lookup takes the nearest words by trigram distance
-- (ORDER BY word <-> q LIMIT n), which only GiST serves from the index.
CREATE INDEX search_words_trgm ON search_words USING gist (word gist_trgm_ops);

-- The words of a name: the lexemes the full-text indexes hold. Inserted in
-- order so that concurrent writers lock new words in the same order.
CREATE FUNCTION search_words_add(name TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_words (word)
    SELECT w FROM (SELECT DISTINCT w FROM unnest(tsvector_to_array(to_tsvector('simple', name))) w) d
    WHERE length(w) BETWEEN 2 AND 64
    ORDER BY w
    ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION search_words_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'contacts' THEN
        PERFORM search_words_add(NEW.first_name || ' ' || NEW.last_name);
    ELSE
        PERFORM search_words_add(NEW.name);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_search_words AFTER INSERT OR UPDATE OF name ON accounts
    FOR EACH ROW EXECUTE FUNCTION search_words_trigger();
CREATE TRIGGER contacts_search_words AFTER INSERT OR UPDATE OF first_name, last_name ON contacts
    FOR EACH ROW EXECUTE FUNCTION search_words_trigger();
CREATE TRIGGER leads_search_words AFTER INSERT OR UPDATE OF name ON leads
    FOR EACH ROW EXECUTE FUNCTION search_words_trigger();
CREATE TRIGGER opportunities_search_words AFTER INSERT OR UPDATE OF name ON opportunities
    FOR EACH ROW EXECUTE FUNCTION search_words_trigger();

-- Fills search_words from every record (existing data now; bulk loads that
-- bypass triggers call it again). Words of deleted or renamed records stay:
-- they only cost a lookup that finds no record.
CREATE FUNCTION search_words_refill() RETURNS bigint LANGUAGE sql AS $$
    WITH ins AS (
        INSERT INTO search_words (word)
        SELECT DISTINCT w
        FROM (SELECT name FROM accounts
              UNION ALL SELECT first_name || ' ' || last_name FROM contacts
              UNION ALL SELECT name FROM leads
              UNION ALL SELECT name FROM opportunities) n,
             unnest(tsvector_to_array(to_tsvector('simple', n.name))) w
        WHERE length(w) BETWEEN 2 AND 64
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT count(*) FROM ins
$$;
SELECT search_words_refill();
