//! What the message centre shows: a notice rendered in the reader's language.
use crate::domain::message::MessageKind;
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    pub kind: MessageKind,
    pub title: String,
    pub body: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub sent_at: String,
    pub read: bool,
}

/// The list page's data.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    pub messages: Vec<MessageView>,
    pub unread: u32,
}
