-- "This wasn't me": since when signing in with the password is refused, after the holder
-- confirmed a link from a security notice. A password reset through the verified address, or
-- support's unlock, clears it.
ALTER TABLE accounts ADD COLUMN password_sign_in_blocked_at TIMESTAMP;

-- The not-me link every security notice carries is one more kind of mailed single-use link.
ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check;
ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password', 'not_me'));
