//! Integration tests: the real server on port 0, driven over HTTP, on SQLite and (when
//! `TEST_DATABASE_URL` is set) on PostgreSQL, each test in its own database.

mod helpers;

mod limits;
mod lockouts;

mod account;
mod api_tokens;
mod auth;
mod edge;
mod email;
mod errors;
mod openapi;
mod passkeys;
mod signed_in;
mod support;
mod two_factor;
