DROP TABLE throttle_entries;
CREATE TABLE ip_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ip TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX ip_failures_ip_at ON ip_failures (ip, at);
ALTER TABLE otp_challenges DROP COLUMN known_device_id;
DROP TABLE known_devices;
