DROP INDEX accounts_email_search;
DROP INDEX accounts_username_search;
-- The extension stays: other objects may have come to use it.
