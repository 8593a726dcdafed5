//! Integration tests: the real server on port 0, driven over HTTP, on SQLite and (when
//! `TEST_DATABASE_URL` is set) on PostgreSQL, each test in its own database.

mod helpers;

mod limits;
mod lockouts;

mod account;
mod api_tokens;
mod auth;
mod brand;
mod credential_changes;
mod device_names;
mod edge;
mod email;
mod errors;
mod events;
mod key_rotation;
mod not_me;
mod oidc;
mod oidc_discovery;
mod openapi;
mod passkeys;
mod password_policy;
mod required_two_factor;
mod reset_with_passkey;
mod signed_in;
mod support;
mod token_networks;
mod trust_ends;
mod two_factor;
