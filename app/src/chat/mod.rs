//! The consult's conversation: the frames the consult connection carries (shared by the
//! server and the browser) and the views of its messages.
pub mod protocol;
