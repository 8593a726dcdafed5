ALTER TABLE known_devices DROP COLUMN trusted_until;
ALTER TABLE sessions DROP COLUMN device_id;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN ip;
ALTER TABLE sessions DROP COLUMN last_used_at;
