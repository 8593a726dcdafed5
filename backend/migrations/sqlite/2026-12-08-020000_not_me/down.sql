CREATE TABLE email_tokens_old (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    email TEXT,
    password_fingerprint TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
INSERT INTO email_tokens_old
    SELECT token_hash, account_id, purpose, email, password_fingerprint, created_at, expires_at, used_at
    FROM email_tokens WHERE purpose <> 'not_me';
DROP TABLE email_tokens;
ALTER TABLE email_tokens_old RENAME TO email_tokens;
CREATE INDEX email_tokens_account ON email_tokens (account_id);
ALTER TABLE accounts DROP COLUMN password_sign_in_blocked_at;
