//! Fuzhen's shared crate: pure domain rules, the pages, and the one server function
//! the pages read their per-request state through.
#![recursion_limit = "256"]

// The build.rs code generator would pull ICU's source data into every build; the macro
// form is deprecated but generates the same module.
#[expect(deprecated)]
mod i18n_module {
    leptos_i18n::load_locales!();
}
pub use i18n_module::i18n;

pub mod accounts;
pub mod app;
pub mod assets;
pub mod booking;
pub mod call;
pub mod chat;
pub mod components;
pub mod consult;
pub mod doctors;
pub mod domain;
pub mod eligibility;
pub mod family;
pub mod home;
pub mod localized;
pub mod notices;
pub mod orders;
pub mod page_data;
pub mod proofs;
pub mod records;
pub mod staff;
pub mod viewer;

pub use app::{App, shell};
