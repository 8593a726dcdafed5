-- Clients that completed a full sign-in: their own failure counter, exempt from the
-- account-wide ceiling. The token is stored only as its SHA-256; one browser holds one token,
-- which becomes known to every account fully signed in with it.
CREATE TABLE known_devices (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    user_agent TEXT
);
CREATE UNIQUE INDEX known_devices_account_token ON known_devices (account_id, token_hash);
CREATE INDEX known_devices_token ON known_devices (token_hash);

-- The device token presented at a challenge's password step (hashed), for the code step.
ALTER TABLE otp_challenges ADD COLUMN device_token_hash TEXT;

-- Refresh tokens minted from the same token (a rotation and its grace re-issues) are
-- siblings: once one of them is used, the others are superseded, so a replay within the
-- grace cannot fork the session into two live chains.
ALTER TABLE refresh_tokens ADD COLUMN parent_hash TEXT;
ALTER TABLE refresh_tokens ADD COLUMN superseded_at TIMESTAMP;
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_hash);

-- Entries of windowed limits ("N in the last M minutes"): failures per client network and per
-- username (the ceiling), and support actions per agent. One row per counted attempt; a row is
-- deleted again when its attempt turns out not to count.
DROP TABLE ip_failures;
CREATE TABLE throttle_entries (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    -- FALSE while its attempt is still being checked (it may yet be given back).
    settled BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX throttle_entries_subject_at ON throttle_entries (subject, at);

-- The language the customer chose in the SPA (a tag it ships: en, cs); NULL until chosen.
-- Other channels (mails) speak it too.
ALTER TABLE accounts ADD COLUMN language TEXT;
