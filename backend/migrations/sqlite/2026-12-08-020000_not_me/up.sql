-- "This wasn't me": since when signing in with the password is refused, after the holder
-- confirmed a link from a security notice. A password reset through the verified address, or
-- support's unlock, clears it.
ALTER TABLE accounts ADD COLUMN password_sign_in_blocked_at TIMESTAMP;

-- The not-me link every security notice carries is one more kind of mailed single-use link.
-- SQLite cannot change a CHECK constraint: the table is made again with the wider one.
CREATE TABLE email_tokens_new (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'not_me')),
    email TEXT,
    password_fingerprint TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
INSERT INTO email_tokens_new
    SELECT token_hash, account_id, purpose, email, password_fingerprint, created_at, expires_at, used_at
    FROM email_tokens;
DROP TABLE email_tokens;
ALTER TABLE email_tokens_new RENAME TO email_tokens;
CREATE INDEX email_tokens_account ON email_tokens (account_id);
