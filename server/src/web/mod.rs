//! The web layer: route groups, extractors, layers. Services do the work.
pub mod acting_for;
pub mod api;
pub mod auth;
pub mod client;
pub mod compress;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod forms;
pub mod openapi;
pub mod page_cache;
pub mod security;
pub mod spliced;
pub mod staff_auth;
pub mod staff_forms;
pub mod throttle;
pub mod viewer;
