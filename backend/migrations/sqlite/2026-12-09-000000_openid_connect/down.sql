DROP TABLE oidc_consents;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_grants;
DROP TABLE oidc_codes;
DROP TABLE oidc_authorization_requests;
DROP TABLE oidc_clients;
