//! The consult's conversation: the frames the consult connection carries (shared by the
//! server and the browser), how an entry is drawn, and the live island.
pub mod live;
pub mod protocol;
pub mod view;
