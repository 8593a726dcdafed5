DROP TABLE webauthn_ceremonies;
DROP TABLE passkeys;
ALTER TABLE accounts DROP COLUMN two_factor_enabled_at;
