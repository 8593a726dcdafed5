-- Clients that completed a full sign-in: their own failure counter, exempt from the
-- account-wide ceiling. The token is stored only as its SHA-256.
CREATE TABLE known_devices (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    user_agent TEXT
);
CREATE INDEX known_devices_account ON known_devices (account_id);

-- The known device a challenge's password step came from, so the code step can refresh it.
ALTER TABLE otp_challenges ADD COLUMN known_device_id TEXT;

-- Entries of windowed limits ("N in the last M minutes"): failures per client network and per
-- username (the ceiling), and support actions per agent. One row per counted attempt; a row is
-- deleted again when its attempt turns out not to count.
DROP TABLE ip_failures;
CREATE TABLE throttle_entries (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX throttle_entries_subject_at ON throttle_entries (subject, at);
