DROP TABLE outbox;
DROP TABLE email_tokens;
ALTER TABLE accounts DROP COLUMN pending_email;
ALTER TABLE accounts DROP COLUMN email_verified_at;
