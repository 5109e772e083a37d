//! The Fuzhen server: configuration, state, the REST API, HTML form handlers and
//! server-side rendering of the Leptos app.
pub mod audit;
pub mod conditions;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
mod demo_doctors;
pub mod files;
pub mod identity;
pub mod payments;
pub mod services;
pub mod session_store;
pub mod sms;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod words;
