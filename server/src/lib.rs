//! The Fuzhen server: one folder per feature (its service, REST routes, forms, page data
//! and jobs), and the shared parts they are assembled with.
pub mod accounts;
pub mod audit;
pub mod booking;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
mod demo_doctors;
pub mod doctors;
pub mod eligibility;
pub mod error;
pub mod family;
pub mod features;
pub mod files;
pub mod identity;
pub mod notices;
pub mod orders;
pub mod proofs;
pub mod sms;
pub mod staff;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod words;
