DROP INDEX accounts_email_domain_search;
DROP INDEX accounts_email_search;
CREATE INDEX accounts_email_search ON accounts (lower(email));
CREATE INDEX accounts_email_domain_search ON accounts (lower(substr(email, instr(email, '@') + 1)));
