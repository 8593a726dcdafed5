ALTER TABLE accounts DROP COLUMN language;
DROP TABLE throttle_entries;
CREATE TABLE ip_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ip TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX ip_failures_ip_at ON ip_failures (ip, at);
DROP INDEX refresh_tokens_parent;
ALTER TABLE refresh_tokens DROP COLUMN superseded_at;
ALTER TABLE refresh_tokens DROP COLUMN parent_hash;
ALTER TABLE otp_challenges DROP COLUMN device_token_hash;
DROP TABLE known_devices;
