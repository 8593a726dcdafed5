-- What "Where you're signed in" shows: when a session was last used (updated at most once a
-- minute), from where, and the known device it was opened from.
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMP;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN device_id TEXT;

-- "Don't ask for a code on this device": until then, the right password alone signs in from
-- this device (amr pwd mfa). Cleared whenever a factor, the password or the recovery codes
-- change.
ALTER TABLE known_devices ADD COLUMN trusted_until TIMESTAMP;
