DROP INDEX accounts_email_domain_search;
DROP INDEX accounts_email_search;
CREATE INDEX accounts_email_search ON accounts ((lower(email) COLLATE "C"));
CREATE INDEX accounts_email_domain_search ON accounts ((lower(substr(email, strpos(email, '@') + 1)) COLLATE "C"));
