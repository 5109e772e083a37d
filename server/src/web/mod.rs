//! The web layer: route groups, extractors, layers. Features do the work.
pub mod api;
pub mod client;
pub mod compress;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod forms;
pub mod openapi;
pub mod page_cache;
pub mod pages;
pub mod parts;
pub mod reply;
pub mod security;
pub mod spliced;
pub mod throttle;
