-- The support search reads an address or a domain one value at a time, in username order,
-- and stops at its limit (db/accounts.rs `search_customers`): these indexes hold each value's
-- accounts by username, so a domain of a thousand customers answers fifty without a sort. They
-- serve the prefix ranges too, so they replace the single-column ones. Both columns compare in
-- the "C" collation, as the query does. The expressions must stay exactly those of the query.
DROP INDEX accounts_email_search;
DROP INDEX accounts_email_domain_search;
CREATE INDEX accounts_email_search ON accounts ((lower(email) COLLATE "C"), (username_key COLLATE "C"));
CREATE INDEX accounts_email_domain_search ON accounts ((lower(substr(email, strpos(email, '@') + 1)) COLLATE "C"), (username_key COLLATE "C"));
