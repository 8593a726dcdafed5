-- The support search (`GET /support/customers?query=`) matches the start of the username, of
-- the e-mail address, or of its domain. These indexes serve the three as ranges (`x >= q AND
-- x < successor(q)`, see db/accounts.rs `search_customers`), so a search reads a few index
-- entries however many accounts there are; the username already has its unique index.
-- The expressions must stay exactly those of the query.
CREATE INDEX accounts_email_search ON accounts (lower(email));
CREATE INDEX accounts_email_domain_search ON accounts (lower(substr(email, instr(email, '@') + 1)));
