-- Sign-in attempts, counted per IP and per username for the abuse limits of
-- the connect sign-in and the admin password sign-in. Kept in the database
-- so the limit holds across every replica.
CREATE TABLE signin_attempts (
    id {{ID}},
    key_hash {{TEXT}} NOT NULL,
    at {{TS}} NOT NULL
);
CREATE INDEX signin_attempts_key_idx ON signin_attempts (key_hash, at);
CREATE INDEX signin_attempts_at_idx ON signin_attempts (at);
