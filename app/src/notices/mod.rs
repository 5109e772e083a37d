//! What the message centre shows: a notice rendered in the reader's language.
mod pages;

pub use pages::{NoticePage, NoticesPage};

use crate::domain::notice::NoticeKind;
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeView {
    pub id: i64,
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub sent_at: String,
    pub read: bool,
}

/// The list page's data.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeList {
    pub messages: Vec<NoticeView>,
    pub unread: u32,
}

/// The message centre's list.
pub struct NoticesQuery;
impl crate::page_data::PageQuery for NoticesQuery {
    type Answer = NoticeList;
}

/// One notice, marked read; `None` for anyone else's.
pub struct NoticeQuery(pub i64);
impl crate::page_data::PageQuery for NoticeQuery {
    type Answer = NoticeView;
}
