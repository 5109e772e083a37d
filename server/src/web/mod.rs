//! HTTP: the JSON API, the HTML form handlers, security middleware and the viewer.
pub mod api;
pub mod client;
pub mod error;
pub mod forms;
pub mod openapi;
pub mod security;
pub mod sessions;
pub mod viewer;
