//! The patient's consult pages (R-CONS-1, R-CONS-3, R-ELIG-4): the consults on the 问诊
//! tab, and a consult with its answer times, the conversation, and the forms that write
//! to it (plain forms; the live island takes them over where WebAssembly runs).
use super::{ConsultPageData, ConsultQuery, ConsultView, ConsultsQuery};
use crate::chat::live::ChatLive;
use crate::chat::view::conversation;
use crate::components::{FormAlerts, FormState, NotFound, with_viewer};
use crate::domain::consult::{ConsultStatus, Side};
use crate::domain::schedule::ConsultType;
use crate::i18n::*;
use crate::localized::{error_message, fill};
use crate::page_data::load;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// `MM-DD HH:MM` in China time, from Unix seconds.
pub(crate) fn when(at: i64) -> String {
    let day = crate::domain::china_time::day(at);
    format!(
        "{:02}-{:02} {}",
        u8::from(day.month()),
        day.day(),
        crate::domain::china_time::clock(at)
    )
}

pub(crate) fn status_text(locale: Locale, s: ConsultStatus) -> &'static str {
    match s {
        ConsultStatus::Waiting => td_string!(locale, chat.status_waiting),
        ConsultStatus::InProgress => td_string!(locale, chat.status_in_progress),
        ConsultStatus::Completed => td_string!(locale, chat.status_completed),
        ConsultStatus::Referred => td_string!(locale, chat.status_referred),
        ConsultStatus::Unanswered => td_string!(locale, chat.status_unanswered),
        ConsultStatus::Cancelled => td_string!(locale, chat.status_cancelled),
    }
}

pub(crate) fn status_class(s: ConsultStatus) -> &'static str {
    match s {
        ConsultStatus::Waiting => "badge status-submitted",
        ConsultStatus::InProgress | ConsultStatus::Completed => "badge status-approved",
        _ => "badge status-withdrawn",
    }
}

/// The account's consults, newest first, with their unread counts.
#[component]
pub fn ConsultListSection() -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let english = locale == Locale::en;
    let data = Resource::new(|| (), |_| load(ConsultsQuery));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = data.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <h2>{td_string!(locale, chat.my_consults)}</h2>
                    <ul class="booking-list">
                        {list.into_iter().map(|c| {
                            let unread = (c.unread > 0).then(|| view! {
                                <span class="badge status-submitted" data-testid="consult-unread">
                                    {fill(td_string!(locale, chat.unread_count), &[("count", &c.unread.to_string())])}
                                </span>
                            });
                            view! {
                                <li>
                                    <a class="card booking-row" href=format!("/consults/{}", c.consult_number) data-testid="consult-row">
                                        <span>
                                            <strong>{c.doctor_name.clone()}</strong>
                                            {format!(" · {} · {}", c.consult_type.name(english), c.person_name)}
                                        </span>
                                        <span class=status_class(c.status)>{status_text(locale, c.status)}</span>
                                        {unread}
                                    </a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })
            })}
        </Suspense>
    }
}

/// The answer times and the end, as the patient reads them (R-CONS-3, R-ELIG-4).
pub(crate) fn consult_notes(locale: Locale, c: &ConsultView) -> AnyView {
    let note = |text: String| view! { <p class="hint">{text}</p> }.into_any();
    match c.status {
        ConsultStatus::Waiting => view! {
            <p class="hint" data-testid="promised">{fill(td_string!(locale, chat.promised), &[("time", &when(c.answer_promised_by))])}</p>
            <p class="hint">{fill(td_string!(locale, chat.closes), &[("time", &when(c.closes_unanswered_at))])}</p>
        }
        .into_any(),
        ConsultStatus::InProgress => match c.patient_writes_until {
            Some(until) => note(fill(td_string!(locale, chat.writes_until), &[("time", &when(until))])),
            None => ().into_any(),
        },
        ConsultStatus::Referred => view! {
            <p class="alert alert-error" role="status" data-testid="referred">
                {fill(td_string!(locale, chat.referred), &[("reason", c.end_reason.as_deref().unwrap_or_default())])}
            </p>
        }
        .into_any(),
        ConsultStatus::Unanswered => view! {
            <p class="alert alert-notice" role="status">{td_string!(locale, chat.unanswered)}</p>
        }
        .into_any(),
        ConsultStatus::Completed => view! {
            <p class="alert alert-notice" role="status">{td_string!(locale, chat.completed)}</p>
            {c.record_number.clone().map(|n| view! {
                <p><a class="button button-secondary button-block" href=format!("/records/{n}") data-testid="read-record">{td_string!(locale, chat.read_record)}</a></p>
            })}
        }
        .into_any(),
        ConsultStatus::Cancelled => note(td_string!(locale, chat.cancelled).to_owned()),
    }
}

/// A consult, for the patient.
#[component]
pub fn ConsultPage() -> impl IntoView {
    consult_route(false)
}

/// A video consult's call, for the patient: the check, the call, and the conversation
/// beside it.
#[component]
pub fn ConsultCallPage() -> impl IntoView {
    consult_route(true)
}

fn consult_route(call: bool) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let number = use_params_map().with_untracked(|p| p.get("number").unwrap_or_default());
    let data = Resource::new(move || number.clone(), |n| load(ConsultQuery(n)));
    let state = FormState::from_query();
    view! {
        <p class="breadcrumb"><a href="/consults">{t_string!(i18n, consults.title)}</a></p>
        <FormAlerts state=state />
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            match data.await {
                                Some(page) => consult_page(locale, page, csrf, call).into_any(),
                                None => view! { <NotFound /> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

fn consult_page(locale: Locale, page: ConsultPageData, csrf: String, call: bool) -> impl IntoView {
    let english = locale == Locale::en;
    let c = page.consult;
    let number = c.consult_number.clone();
    let files = format!("/api/v1/consults/{number}/files");
    let notes = consult_notes(locale, &c);
    let can_write = page.write_refused.is_none();
    let refused = page.write_refused.map(|code| error_message(locale, code));
    let photos = c.consult_type != ConsultType::Text && can_write;
    let last_seq = page.entries.last().map_or(0, |e| e.seq);
    let open = c.status.is_open();
    // The call page carries the call panel; the consult page leads to it.
    let call_setup = page
        .call_check
        .clone()
        .filter(|_| call && open)
        .map(|ice_servers| crate::call::CallSetup {
            ice_servers,
            csrf: csrf.clone(),
        });
    let enter_call = (page.call_check.is_some() && open && !call).then(|| view! {
        <p><a class="button button-block" href=format!("/consults/{number}/call") data-testid="enter-call">{td_string!(locale, chat.enter_video)}</a></p>
    });
    view! {
        <h1>{c.doctor_name.clone()}</h1>
        <section class="card consult-head" aria-label=td_string!(locale, chat.diagnosis)>
            <p>
                <span class=status_class(c.status) data-testid="consult-status">{status_text(locale, c.status)}</span>
                {format!(" {} · {} · {}", c.consult_type.name(english), c.person_name, c.icd10)}
            </p>
            {notes}
        </section>
        {enter_call}
        {crate::call::calls_section(locale, page.calls, format!("/api/v1/consults/{number}/recordings"))}
        {conversation(locale, page.entries, Side::Patient, &files)}
        <ChatLive
            consult=number.clone()
            viewer=Side::Patient
            socket="/api/v1/consults/socket".to_owned()
            files=files.clone()
            last_seq=last_seq
            action=format!("/forms/consults/{number}/messages")
            client_id=page.client_id
            csrf=csrf.clone()
            english=english
            can_write=can_write
            call=call_setup
            text_href=format!("/consults/{number}")
        />
        {refused.map(|m| view! { <p class="hint" data-testid="write-refused">{m}</p> })}
        {photos.then(|| view! {
            <form method="post" enctype="multipart/form-data" class="card form"
                action=format!("/forms/consults/{number}/files?csrf_token={csrf}")>
                <input type="hidden" name="upload_key" value=page.upload_key />
                <input type="hidden" name="client_id" value=page.file_client_id />
                <div class="field">
                    <label for="f-file">{td_string!(locale, chat.photo_label)}</label>
                    <input id="f-file" name="file" type="file" accept="image/jpeg,image/png,image/webp,application/pdf" required />
                </div>
                <button type="submit" class="button button-secondary button-block">{td_string!(locale, chat.send_photo)}</button>
            </form>
        })}
        <p><a class="button button-secondary button-block" href=format!("/consults/{number}") data-testid="refresh">{td_string!(locale, chat.refresh)}</a></p>
    }
}
