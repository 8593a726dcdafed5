DELETE FROM email_tokens WHERE purpose = 'not_me';
ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check;
ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password'));
ALTER TABLE accounts DROP COLUMN password_sign_in_blocked_at;
