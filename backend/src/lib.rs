//! custadmin: customer administration with two-factor login.
//!
//! Layers, outside in: `routes` (thin HTTP handlers) → `service` (use cases, no HTTP) →
//! `auth` (primitives) and `db` (all SQL). `domain` holds parse-once input types.

pub mod auth;
pub mod backup;
pub mod breached_passwords;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod monitoring;
pub mod openapi;
pub mod routes;
pub mod service;
pub mod startup;
pub mod telemetry;

#[cfg(test)]
mod import_graph;
