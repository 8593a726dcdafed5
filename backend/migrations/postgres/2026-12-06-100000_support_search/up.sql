-- The support search (`GET /support/customers?query=`) matches the start of the username, of
-- the e-mail address, or of its domain. These indexes serve the three as ranges (`x >= q AND
-- x < successor(q)`, see db/accounts.rs `search_customers`), so a search reads a few index
-- entries however many accounts there are. The "C" collation orders by code point whatever the
-- database's default, so a range is exactly a prefix. (Trigram indexes were tried: a query
-- like `scale-0123` shares common trigrams with every account and read ~1 s at a million.)
-- The expressions must stay exactly those of the query.
CREATE INDEX accounts_username_search ON accounts ((username_key COLLATE "C"));
CREATE INDEX accounts_email_search ON accounts ((lower(email) COLLATE "C"));
CREATE INDEX accounts_email_domain_search ON accounts ((lower(substr(email, strpos(email, '@') + 1)) COLLATE "C"));
