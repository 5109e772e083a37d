//! What the message centre shows: a notice rendered in the reader's language.
mod pages;

pub use pages::{MessagePage, MessagesPage};

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

/// The message centre's list.
pub struct MessagesQuery;
impl crate::page_data::PageQuery for MessagesQuery {
    type Answer = MessageList;
}

/// One notice, marked read; `None` for anyone else's.
pub struct MessageQuery(pub i64);
impl crate::page_data::PageQuery for MessageQuery {
    type Answer = MessageView;
}
