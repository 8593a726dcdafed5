-- When `email` was proven to reach the account holder; NULL while unverified.
ALTER TABLE accounts ADD COLUMN email_verified_at TIMESTAMP;
-- A new address asked for but not verified yet; `email` stays in use until then.
ALTER TABLE accounts ADD COLUMN pending_email TEXT;

-- Single-use links sent by mail (verify an address, reset the password), stored hashed.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    -- The address a verification link proves.
    email TEXT,
    -- SHA-256 of the password hash when a reset link was made: any password change voids it.
    password_fingerprint TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX email_tokens_account ON email_tokens (account_id);

-- Mails waiting to be delivered, written in the transaction of the change they report and
-- delivered by every `serve` process: claimed with a lease, retried with back-off for 24 h.
-- The body is encrypted (it may carry a single-use link) and wiped once sent.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_ciphertext TEXT,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until TIMESTAMP,
    sent_at TIMESTAMP,
    failed_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);
