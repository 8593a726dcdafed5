-- A passwordless sign-in keeps no row while the browser answers: its ceremony state travels
-- sealed in the state token. What makes the token single use is this record of the
-- challenges already answered, each kept until its token has expired. The primary key decides
-- which of concurrent answers with one token proceeds (exactly one, on any instance).
CREATE TABLE used_passwordless_challenges (
    -- base64url of the WebAuthn challenge (the state token's `jti`).
    challenge TEXT PRIMARY KEY NOT NULL,
    -- When the token naming it expires; housekeeping removes the row after that.
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX used_passwordless_challenges_expiry ON used_passwordless_challenges (expires_at);

-- Passwordless ceremonies are no longer stored; the tokens naming these expire within
-- 5 minutes and are refused by the new check anyway.
DELETE FROM webauthn_ceremonies WHERE ceremony_key LIKE 'passwordless:%';
