DROP INDEX accounts_email_domain_search;
DROP INDEX accounts_email_search;
DROP INDEX accounts_username_search;
