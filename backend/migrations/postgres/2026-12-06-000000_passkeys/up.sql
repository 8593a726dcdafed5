-- Two-factor is on while the account has any second factor: TOTP, passkeys, or both.
ALTER TABLE accounts ADD COLUMN two_factor_enabled_at TIMESTAMP;
UPDATE accounts SET two_factor_enabled_at = COALESCE(totp_enabled_at, CURRENT_TIMESTAMP)
    WHERE totp_secret_ciphertext IS NOT NULL;

-- WebAuthn credentials (passkeys and security keys). Public keys only: nothing here is secret.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- base64url of the authenticator's credential id; one account per credential.
    credential_id TEXT NOT NULL UNIQUE,
    -- webauthn-rs's `Passkey` as JSON: public key, algorithm, flags.
    credential TEXT NOT NULL,
    -- The highest signature counter seen in an assertion (0 until then), advanced atomically.
    sign_count BIGINT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE INDEX passkeys_account ON passkeys (account_id);

-- A WebAuthn ceremony between its two requests (5 minutes, single use), kept here so any
-- instance can finish what another started. `ceremony_key` names what it belongs to:
-- `register:<session>`, `sign_in:<challenge>`, `passwordless:<id>` or `reauth:<session>`.
CREATE TABLE webauthn_ceremonies (
    ceremony_key TEXT PRIMARY KEY NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    -- webauthn-rs's ceremony state as JSON (the challenge, the allowed credentials).
    state TEXT NOT NULL,
    -- The name a registration will give its passkey.
    passkey_name TEXT,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
