-- A sign-up's verification mail that the address's (or account's) mail allowance held back:
-- since when it is owed. Housekeeping sends it once the allowance frees up, and forgets it
-- after a day (the customer can ask again from Account Settings).
ALTER TABLE accounts ADD COLUMN verification_mail_owed_at TIMESTAMP;
CREATE INDEX accounts_verification_mail_owed ON accounts (verification_mail_owed_at)
    WHERE verification_mail_owed_at IS NOT NULL;
