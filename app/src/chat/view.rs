//! One entry of a consult's conversation as both the server's page and the live island
//! draw it.
use super::protocol::{Entry, EntryKind};
use crate::domain::call::{CallMedia, CallNote, CallStep, Fallback};
use crate::domain::consult::{ConsultStatus, Side};
use crate::i18n::*;
use leptos::prelude::*;

/// What a move of the consult says, in the reader's language.
pub fn event_text(locale: Locale, status: ConsultStatus) -> &'static str {
    match status {
        ConsultStatus::Waiting => td_string!(locale, chat.event_waiting),
        ConsultStatus::InProgress => td_string!(locale, chat.event_in_progress),
        ConsultStatus::Completed => td_string!(locale, chat.event_completed),
        ConsultStatus::Referred => td_string!(locale, chat.event_referred),
        ConsultStatus::Unanswered => td_string!(locale, chat.event_unanswered),
        ConsultStatus::Cancelled => td_string!(locale, chat.event_cancelled),
    }
}

/// What a step of a call says (R-CONS-4: who and when), in the reader's language.
pub fn call_text(locale: Locale, note: &CallNote, side: Side, viewer: Side) -> String {
    let who = match (side == viewer, side) {
        (true, _) => td_string!(locale, chat.you),
        (false, Side::Doctor) => td_string!(locale, chat.doctor),
        (false, Side::Patient) => td_string!(locale, chat.patient),
        (false, Side::System) => "",
    };
    let media = match note.media {
        CallMedia::Video => td_string!(locale, call.video),
        CallMedia::Voice => td_string!(locale, call.voice),
    };
    let template = match (note.step, note.to) {
        (CallStep::Started, _) => td_string!(locale, call.event_started),
        (CallStep::Joined, _) => td_string!(locale, call.event_joined),
        (CallStep::Left, _) => td_string!(locale, call.event_left),
        (CallStep::Ended, _) => td_string!(locale, call.event_ended),
        (CallStep::FellBack, Some(Fallback::Voice)) => td_string!(locale, call.event_to_voice),
        (CallStep::FellBack, Some(Fallback::Text)) => td_string!(locale, call.event_to_text),
        (CallStep::FellBack, _) => td_string!(locale, call.event_backup),
    };
    crate::localized::fill(template, &[("who", who), ("media", media)])
}

/// `HH:MM` in China time, from Unix seconds (no date library in the browser's build).
pub fn clock(at: i64) -> String {
    let local = at + 8 * 3600;
    let minutes = local.rem_euclid(86_400) / 60;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// One entry: `viewer` is the side reading; `files` the path its files are read under
/// (`/api/v1/consults/{n}/files` or the staff one). A recall entry draws nothing (the
/// recalled message shows it).
pub fn entry_view(locale: Locale, e: Entry, viewer: Side, files: &str, recalled: bool) -> AnyView {
    let id = format!("m{}", e.seq);
    let time = clock(e.at);
    match e.kind {
        EntryKind::Recall => ().into_any(),
        EntryKind::Event => {
            let text = match &e.call {
                Some(note) => call_text(locale, note, e.side, viewer),
                None => e
                    .status
                    .map(|s| event_text(locale, s))
                    .unwrap_or_default()
                    .to_owned(),
            };
            let reason = e.reason.map(|r| format!("：{r}"));
            view! {
                <li class="chat-event" id=id data-seq=e.seq>
                    <span>{text}{reason}</span>
                    <time class="hint">{time}</time>
                </li>
            }
            .into_any()
        }
        EntryKind::Text | EntryKind::File => {
            let mine = e.side == viewer;
            let who = match (mine, e.side) {
                (true, _) => td_string!(locale, chat.you),
                (false, Side::Doctor) => td_string!(locale, chat.doctor),
                _ => td_string!(locale, chat.patient),
            };
            let body = if recalled || (e.text.is_none() && e.file.is_none()) {
                view! { <p class="chat-recalled">{td_string!(locale, chat.recalled)}</p> }
                    .into_any()
            } else if let Some(f) = e.file {
                let url = format!("{files}/{}", f.number);
                if f.kind == "pdf" {
                    view! { <p><a href=url rel="noopener">{td_string!(locale, chat.pdf)}</a></p> }
                        .into_any()
                } else {
                    let thumb = format!("{url}?thumbnail=true");
                    view! {
                        <a href=url class="chat-image" rel="noopener">
                            <img src=thumb alt=td_string!(locale, chat.image) loading="lazy" />
                        </a>
                    }
                    .into_any()
                }
            } else {
                view! { <p>{e.text.unwrap_or_default()}</p> }.into_any()
            };
            view! {
                <li class="chat-message" class:chat-mine=mine id=id data-seq=e.seq>
                    <span class="chat-who">{who}</span>
                    {body}
                    <time class="hint">{time}</time>
                </li>
            }
            .into_any()
        }
    }
}

/// The conversation so far, oldest first.
pub fn conversation(locale: Locale, entries: Vec<Entry>, viewer: Side, files: &str) -> AnyView {
    let recalled: Vec<i64> = entries.iter().filter_map(|e| e.recalls).collect();
    let files = files.to_owned();
    view! {
        <ol class="chat-log" id="chat-log" aria-live="polite">
            {entries.into_iter().map(|e| {
                let r = recalled.contains(&e.seq);
                entry_view(locale, e, viewer, &files, r)
            }).collect_view()}
        </ol>
    }
    .into_any()
}
