-- The support search (`GET /support/customers?query=`) matches the start of the username, of
-- the e-mail address, or of its domain: `LIKE 'q%'` and `LIKE '%@q%'` with a bound pattern
-- (see db/accounts.rs `search_customers`). Trigram indexes serve both under any collation and
-- with generic plans, where a B-tree would need `text_pattern_ops` and a literal pattern.
-- pg_trgm ships with PostgreSQL and is a trusted extension (13+): the database owner may
-- create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX accounts_username_search ON accounts USING gin (username_key gin_trgm_ops);
CREATE INDEX accounts_email_search ON accounts USING gin (lower(email) gin_trgm_ops);
