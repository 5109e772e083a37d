//! The consult connection's frames (docs/chat-protocol.md). One WebSocket per page
//! carries every consult the viewer takes part in; frames are JSON objects tagged by
//! `type`. The log is the database: each consult's entries are numbered (`seq`) without
//! gaps, so a client that knows its last `seq` can always resume, and a resend with the
//! same client id is answered with the seq it already has. Calls (video, voice) ride the
//! same connection: `call` frames move a call, `signal` frames carry its offers and
//! answers between the two browsers.
use crate::domain::call::{CallAction, CallMedia, CallNote, MediaSystem};
use crate::domain::consult::{ConsultStatus, Side};
use serde::{Deserialize, Serialize};

/// The largest frame either side sends, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Entries per replay page and per history page.
pub const PAGE: usize = 100;
/// Consults one `hello` may name.
pub const MAX_CONSULTS_PER_HELLO: usize = 50;
/// The longest session description a signal may carry, in bytes.
pub const MAX_SDP_BYTES: usize = 32 * 1024;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The consults this page shows, each with the last seq the client holds (0: none).
    /// The server replays what is missing, then sends each new entry live.
    Hello { consults: Vec<Resume> },
    /// A text message. `client_id` is the client's UUID for it: a resend after a drop
    /// carries the same one and gets the same seq back.
    Send {
        consult: String,
        client_id: String,
        text: String,
    },
    /// A file uploaded over HTTP (`POST …/files`), sent as a message.
    SendFile {
        consult: String,
        client_id: String,
        file: String,
    },
    /// Everything up to `seq` has been read.
    Read { consult: String, seq: i64 },
    /// The sender is typing (shown to the other side for a few seconds).
    Typing { consult: String },
    /// Recalls (撤回) one's own message with this seq, within 2 minutes; the original
    /// stays in the record.
    Recall {
        consult: String,
        client_id: String,
        seq: i64,
    },
    /// Starts, joins, leaves, ends or falls back from the consult's call.
    Call { consult: String, action: CallAction },
    /// An offer or answer for the other side of call `call` (the backup system, where
    /// the two browsers connect directly).
    Signal {
        consult: String,
        call: String,
        generation: u32,
        kind: SdpKind,
        sdp: String,
    },
}

/// What a session description is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpKind {
    Offer,
    Answer,
}

/// A STUN or TURN server for a call, as `RTCIceServer` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// A consult's call as one side sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallView {
    pub consult: String,
    pub call: String,
    pub system: MediaSystem,
    pub media: CallMedia,
    /// False once ended.
    pub live: bool,
    pub patient_in: bool,
    pub doctor_in: bool,
    /// Unix seconds.
    pub started_at: i64,
    /// Media only through the relay (TURN), so neither side learns the other's address.
    #[serde(default)]
    pub relay_only: bool,
    /// The STUN/TURN servers to use, with credentials for this call (none once ended).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ice_servers: Vec<IceServer>,
}

/// Where a client stands in one consult.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub consult: String,
    pub after: i64,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// One entry of a consult's log, in seq order per consult.
    Entry(Entry),
    /// The client's message is stored with this seq (also for a resend).
    Ack {
        consult: String,
        client_id: String,
        seq: i64,
    },
    /// The replay of this consult has reached its end: live from here.
    Live { consult: String, last_seq: i64 },
    /// The other side has read up to `seq`.
    Read {
        consult: String,
        side: Side,
        seq: i64,
    },
    /// The other side is typing.
    Typing { consult: String, side: Side },
    /// The consult's call, after every change and on `hello` while one runs.
    Call(CallView),
    /// An offer or answer from the other side of the call.
    Signal {
        consult: String,
        call: String,
        from: Side,
        generation: u32,
        kind: SdpKind,
        sdp: String,
    },
    /// A frame was refused; nothing changed. `client_id` names the message refused.
    Error {
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consult: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// The blocked words, for `text_blocked` (R-CONS-5).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        words: Vec<String>,
    },
}

/// One entry of a consult's log: a message, a file, a recall or a move of the consult.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Entry {
    pub consult: String,
    pub seq: i64,
    pub side: Side,
    pub kind: EntryKind,
    /// The text of a text message (none once recalled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    /// For a recall: the seq recalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalls: Option<i64>,
    /// For a move: the consult's new status, and the reason shown to the patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConsultStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a step of a call: which call, what happened, on which system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallNote>,
    /// The sender's own id for it (only on the sender's side's entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Text,
    File,
    Recall,
    /// The consult moved (opened, answered, ended), or its call did (`call`).
    Event,
}

impl EntryKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryKind::Text => "text",
            EntryKind::File => "file",
            EntryKind::Recall => "recall",
            EntryKind::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            EntryKind::Text,
            EntryKind::File,
            EntryKind::Recall,
            EntryKind::Event,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A file in a consult: fetched from `/api/v1/consults/{consult}/files/{number}` (and
/// `…/thumbnail` for images).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FileRef {
    pub number: String,
    /// `jpeg`, `png` or `pdf`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// WebSocket close codes (4000–4999 are the application's).
pub mod close {
    /// The session ended or was never there: log in and reconnect.
    pub const UNAUTHENTICATED: u16 = 4401;
    /// Too many connections for this account.
    pub const TOO_MANY: u16 = 4429;
    /// The client fell behind the live flow: reconnect and resume.
    pub const TOO_SLOW: u16 = 4408;
    /// Frames came too fast.
    pub const RATE: u16 = 4420;
    /// Nothing heard within the idle timeout.
    pub const IDLE: u16 = 4410;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_and_write_as_documented() {
        let hello: ClientFrame =
            serde_json::from_str(r#"{"type":"hello","consults":[{"consult":"CS1","after":3}]}"#)
                .expect("hello");
        assert_eq!(
            hello,
            ClientFrame::Hello {
                consults: vec![Resume {
                    consult: "CS1".into(),
                    after: 3
                }]
            }
        );
        let ack = ServerFrame::Ack {
            consult: "CS1".into(),
            client_id: "x".into(),
            seq: 4,
        };
        assert_eq!(
            serde_json::to_string(&ack).expect("json"),
            r#"{"type":"ack","consult":"CS1","client_id":"x","seq":4}"#
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout"}"#).is_err());
    }
}
