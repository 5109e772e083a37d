//! The live part of a consult page (R-CONS-1): the consult connection, new entries as they
//! come, typing and read receipts, and the composer with its outbox. Without JavaScript the
//! same composer is a plain form that posts the message, and the page's list is the
//! conversation (refreshed by the reader).
//!
//! The outbox lives in the browser's local storage, keyed by consult: a message is kept
//! until the server acknowledges it, and sent again with the same id on every
//! reconnection, so a phone that loses its network loses nothing and repeats nothing.
use super::protocol::{Entry, EntryKind};
use crate::domain::consult::Side;
use crate::i18n::*;
use leptos::prelude::*;

/// A message written here that the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unsent {
    pub client_id: String,
    pub text: String,
}

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Link {
    Connecting,
    Live,
    Down,
}

/// The consult connection as the call panel uses it (nothing on the server's side).
#[derive(Clone, Copy)]
pub struct Wire {
    #[cfg(feature = "hydrate")]
    conn: browser::Conn,
}

#[cfg(feature = "hydrate")]
impl Wire {
    pub fn send(&self, f: super::protocol::ClientFrame) {
        self.conn.send(f);
    }

    /// Hands the call's frames, its log entries and the connection's state to `call`.
    pub fn on_call(&self, call: std::rc::Rc<dyn Fn(crate::call::browser::CallFrame)>) {
        self.conn.on_call(call);
    }
}

/// The live conversation and the composer. `socket` is the connection's path, `files`
/// the path the consult's files are read under, `last_seq` the last entry the page
/// shows, `action` where the plain form posts, `client_id` the plain form's message id.
/// Its code loads apart (`lazy`, with `cargo leptos build --split`): only a page that
/// shows a consult fetches it, so a first visit elsewhere does not.
#[island(lazy)]
#[allow(clippy::too_many_arguments)]
pub fn ChatLive(
    consult: String,
    viewer: Side,
    socket: String,
    files: String,
    last_seq: i64,
    action: String,
    client_id: String,
    csrf: String,
    english: bool,
    can_write: bool,
    /// A video consult's call panel, above the conversation.
    call: Option<crate::call::CallSetup>,
    /// Where the call panel's "go on in writing" leads.
    text_href: String,
) -> impl IntoView {
    let locale = if english { Locale::en } else { Locale::zh_CN };
    let (entries, set_entries) = signal(Vec::<Entry>::new());
    let (pending, set_pending) = signal(Vec::<Unsent>::new());
    let (link, set_link) = signal(Link::Connecting);
    let (typing, set_typing) = signal(false);
    let (other_read, set_other_read) = signal(0i64);
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    let text_ref = NodeRef::<leptos::html::Textarea>::new();

    #[cfg(feature = "hydrate")]
    let conn = browser::Conn::start(browser::Setup {
        consult: consult.clone(),
        socket: socket.clone(),
        last_seq,
        set_entries,
        set_pending,
        set_link,
        set_typing,
        set_other_read,
        locale,
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (
        &consult,
        &socket,
        last_seq,
        set_pending,
        set_link,
        set_typing,
        set_other_read,
        set_entries,
    );

    #[cfg(feature = "hydrate")]
    let wire = Wire { conn };
    #[cfg(not(feature = "hydrate"))]
    let wire = Wire {};
    let panel = call.map(|setup| {
        view! {
            <crate::call::CallPanel locale=locale viewer=viewer consult=consult.clone()
                setup=setup wire=wire text_href=text_href.clone() />
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            let Some(area) = text_ref.get_untracked() else {
                return;
            };
            let text = area.value();
            if text.trim().is_empty() {
                return;
            }
            ev.prevent_default();
            area.set_value("");
            conn.send_text(text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&ev, text_ref);
    };
    let on_input = move |_| {
        #[cfg(feature = "hydrate")]
        conn.typing();
    };
    let files_path = files.clone();
    let status = move || {
        match (ready.get(), link.get()) {
        (false, _) => ().into_any(),
        (true, Link::Down) => view! {
            <p class="chat-status alert alert-error" role="status">{td_string!(locale, chat.offline)}</p>
        }
        .into_any(),
        (true, _) => ().into_any(),
    }
    };
    view! {
        {panel}
        <ol class="chat-log chat-live" aria-live="polite" data-testid="chat-live">
            {move || {
                let files = files_path.clone();
                let read = other_read.get();
                let list = entries.get();
                let recalls: Vec<i64> = list.iter().filter_map(|e| e.recalls).collect();
                list.into_iter().map(|e| {
                    // Receipts under messages, not under the consult's events.
                    let mine = e.side == viewer && matches!(e.kind, EntryKind::Text | EntryKind::File);
                    let seq = e.seq;
                    let recalled = recalls.contains(&seq);
                    let drawn = super::view::entry_view(locale, e, viewer, &files, recalled);
                    let receipt = (mine && seq <= read).then(|| view! {
                        <li class="chat-receipt hint">{td_string!(locale, chat.read)}</li>
                    });
                    view! { {drawn}{receipt} }
                }).collect_view()
            }}
            {move || pending.get().into_iter().map(|u| view! {
                <li class="chat-message chat-mine chat-pending">
                    <span class="chat-who">{td_string!(locale, chat.you)}</span>
                    <p>{u.text}</p>
                    <span class="hint">{td_string!(locale, chat.pending)}</span>
                </li>
            }).collect_view()}
        </ol>
        <p class="hint chat-typing" aria-live="polite">
            {move || typing.get().then(|| td_string!(locale, chat.typing))}
        </p>
        {status}
        {can_write.then(|| view! {
            <form method="post" action=action class="card form chat-composer" on:submit=on_submit>
                <input type="hidden" name="csrf_token" value=csrf />
                <input type="hidden" name="client_id" value=client_id />
                <div class="field">
                    <label for="f-text">{match viewer {
                        Side::Doctor => td_string!(locale, chat.doctor_message_label),
                        _ => td_string!(locale, chat.message_label),
                    }}</label>
                    <textarea id="f-text" name="text" rows="3" maxlength="2000" required
                        placeholder=td_string!(locale, chat.message_placeholder)
                        node_ref=text_ref on:input=on_input></textarea>
                </div>
                <button type="submit" class="button button-block">{td_string!(locale, chat.send)}</button>
            </form>
        })}
    }
}

#[cfg(feature = "hydrate")]
mod browser;
