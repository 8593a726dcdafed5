DROP INDEX accounts_verification_mail_owed;
ALTER TABLE accounts DROP COLUMN verification_mail_owed_at;
