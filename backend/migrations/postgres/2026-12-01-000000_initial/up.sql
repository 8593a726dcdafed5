CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    -- Lower-cased username: uniqueness and look-ups are case-insensitive.
    username_key TEXT NOT NULL UNIQUE,
    email TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('customer', 'support')),
    created_at TIMESTAMP NOT NULL,
    -- Active TOTP secret, encrypted (base64 of nonce || ciphertext); NULL while two-factor is off.
    totp_secret_ciphertext TEXT,
    totp_enabled_at TIMESTAMP,
    -- Highest TOTP time step accepted; a code for this step or an earlier one is a replay.
    totp_last_used_step BIGINT NOT NULL DEFAULT 0,
    -- Secret of an enrolment that is not confirmed yet.
    totp_pending_ciphertext TEXT,
    totp_pending_created_at TIMESTAMP
);

-- Failure counters per subject: "login:<lower-cased username>" for sign-ins, whether or not
-- such an account exists (so throttling tells nothing about existence), and
-- "reauth:<account id>" for proofs offered by a signed-in caller.
CREATE TABLE login_throttles (
    subject TEXT PRIMARY KEY NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE ip_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ip TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX ip_failures_ip_at ON ip_failures (ip, at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    auth_time TIMESTAMP NOT NULL,
    -- Space-separated RFC 8176 methods used to open the session: "pwd" or "pwd otp".
    amr TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_reason TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token; the token itself is never stored.
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE otp_challenges (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    password_verified_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    consumed_at TIMESTAMP
);
CREATE INDEX otp_challenges_account ON otp_challenges (account_id);

CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- HMAC-SHA-256 of the normalised code under the server's secret key.
    code_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE security_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    ip TEXT,
    user_agent TEXT,
    detail TEXT
);
CREATE INDEX security_events_account ON security_events (account_id, id);
