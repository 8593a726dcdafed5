-- custadmin as an OpenID Connect provider: the registered relying parties ("clients"), the
-- authorization requests waiting for the customer in the SPA, the single-use codes, the grants
-- a redeemed code opens (with their rotating refresh tokens), and the consents customers gave.
-- Every secret (client secrets, request ids, codes, refresh tokens) is stored as its SHA-256.

CREATE TABLE oidc_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- NULL for a public client (it proves itself with PKCE alone).
    secret_hash TEXT,
    -- JSON arrays of exact URIs.
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    require_two_factor BOOLEAN NOT NULL DEFAULT FALSE,
    offer_two_factor_setup BOOLEAN NOT NULL DEFAULT FALSE,
    id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256'
        CHECK (id_token_signed_response_alg IN ('RS256', 'EdDSA')),
    created_at TIMESTAMP NOT NULL,
    secret_rotated_at TIMESTAMP
);

CREATE TABLE oidc_authorization_requests (
    id_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    -- Space-separated, normalised.
    scope TEXT NOT NULL,
    state TEXT,
    nonce TEXT,
    code_challenge TEXT,
    prompt TEXT,
    max_age BIGINT,
    login_hint TEXT,
    ui_locales TEXT,
    -- The strongest acr the request or the client requires, if any.
    acr TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);
CREATE INDEX oidc_authorization_requests_expiry ON oidc_authorization_requests (expires_at);

CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    session_id TEXT NOT NULL,
    auth_time TIMESTAMP NOT NULL,
    -- Space-separated RFC 8176 methods, as on sessions.
    amr TEXT NOT NULL,
    acr TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    -- The grant the first redemption opened: a replayed code revokes it.
    grant_id TEXT
);
CREATE INDEX oidc_codes_expiry ON oidc_codes (expires_at);

CREATE TABLE oidc_grants (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    session_id TEXT NOT NULL,
    auth_time TIMESTAMP NOT NULL,
    amr TEXT NOT NULL,
    acr TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    revoked_reason TEXT
);
CREATE INDEX oidc_grants_account ON oidc_grants (account_id, client_id);
CREATE INDEX oidc_grants_session ON oidc_grants (session_id);

CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens (grant_id);

CREATE TABLE oidc_consents (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    -- Space-separated scopes the customer allowed.
    scope TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
CREATE INDEX oidc_consents_client ON oidc_consents (client_id);
