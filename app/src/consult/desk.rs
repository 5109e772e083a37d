//! The doctor's consult pages (R-CONS-2, R-EMR-1, R-ELIG-4): the desk (waiting consults by
//! time left to the promised answer, those in progress, today's video appointments, the
//! quick replies), and a consult with the patient's brief, the conversation, the record
//! and the referral. Plain forms throughout; the live island takes over the chat where
//! WebAssembly runs. Works on a phone and on a desktop (two columns when wide).
use super::pages::{consult_notes, status_class, status_text, when};
use super::{ConsultDesk, ConsultDeskQuery, DeskItem, DoctorConsultData, DoctorConsultQuery};
use crate::chat::live::ChatLive;
use crate::chat::view::conversation;
use crate::components::{FormAlerts, FormState, NotFound, with_viewer};
use crate::domain::Field;
use crate::domain::consult::Side;
use crate::domain::record::RecordStatus;
use crate::i18n::*;
use crate::localized::fill;
use crate::page_data::load;
use crate::records::RecordView;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// "1:05" from seconds.
fn span(secs: i64) -> String {
    let m = secs.abs() / 60;
    format!("{}:{:02}", m / 60, m % 60)
}

fn desk_row(locale: Locale, item: DeskItem) -> impl IntoView {
    let english = locale == Locale::en;
    let c = item.consult;
    let left = if item.answer_left_secs >= 0 {
        fill(
            td_string!(locale, desk.left),
            &[("time", &span(item.answer_left_secs))],
        )
    } else {
        fill(
            td_string!(locale, desk.late),
            &[("time", &span(item.answer_left_secs))],
        )
    };
    let late = item.answer_left_secs < 0;
    let age = fill(
        td_string!(locale, desk.age_sex),
        &[
            ("age", &item.age.to_string()),
            ("sex", &crate::localized::sex_name(locale, &item.sex)),
        ],
    );
    view! {
        <li>
            <a class="card booking-row" href=format!("/staff/consults/{}", c.consult_number) data-testid="desk-row">
                <span>
                    <strong>{c.person_name.clone()}</strong>
                    {format!(" · {age} · {} · {}", c.consult_type.name(english), c.icd10)}
                </span>
                <span class="hint" class:late=late>{left}</span>
                {(c.unread > 0).then(|| view! {
                    <span class="badge status-submitted">{fill(td_string!(locale, chat.unread_count), &[("count", &c.unread.to_string())])}</span>
                })}
            </a>
        </li>
    }
}

fn desk_section(locale: Locale, title: &'static str, items: Vec<DeskItem>) -> impl IntoView {
    view! {
        <h2>{title}</h2>
        {if items.is_empty() {
            view! { <p class="hint">{td_string!(locale, desk.none)}</p> }.into_any()
        } else {
            view! { <ul class="booking-list">{items.into_iter().map(|i| desk_row(locale, i)).collect_view()}</ul> }.into_any()
        }}
    }
}

/// The doctor's consult desk.
#[component]
pub fn ConsultDeskPage() -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let data = Resource::new(|| (), |_| load(ConsultDeskQuery));
    view! {
        <p class="breadcrumb"><a href="/staff">{t_string!(i18n, staff.back_home)}</a></p>
        <h1>{td_string!(locale, desk.title)}</h1>
        <FormAlerts state=FormState::from_query() />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Some(d) => desk(locale, d).into_any(),
                    None => view! { <NotFound /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn desk(locale: Locale, d: ConsultDesk) -> impl IntoView {
    view! {
        {desk_section(locale, td_string!(locale, desk.waiting), d.waiting)}
        {desk_section(locale, td_string!(locale, desk.in_progress), d.in_progress)}
        {desk_section(locale, td_string!(locale, desk.video_today), d.video_today)}
    }
}

/// One of the doctor's consults.
#[component]
pub fn DoctorConsultPage() -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let number = use_params_map().with_untracked(|p| p.get("number").unwrap_or_default());
    let data = Resource::new(move || number.clone(), |n| load(DoctorConsultQuery(n)));
    let state = FormState::from_query();
    view! {
        <p class="breadcrumb"><a href="/staff/consults">{td_string!(locale, desk.back)}</a></p>
        <FormAlerts state=state.clone() />
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let csrf = csrf.clone();
                        let state = state.clone();
                        Suspend::new(async move {
                            match data.await {
                                Some(page) => doctor_consult(locale, page, csrf, state).into_any(),
                                None => view! { <NotFound /> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

fn brief(locale: Locale, p: super::PatientBrief) -> impl IntoView {
    let age = fill(
        td_string!(locale, desk.age_sex),
        &[
            ("age", &p.age.to_string()),
            ("sex", &crate::localized::sex_name(locale, &p.sex)),
        ],
    );
    let guardian = p
        .guardian_name
        .clone()
        .map(|g| fill(td_string!(locale, desk.guardian), &[("name", &g)]));
    view! {
        <section class="card" aria-labelledby="brief-title" data-testid="patient-brief">
            <h2 id="brief-title">{td_string!(locale, desk.patient_brief)}</h2>
            <p><strong>{p.person_name}</strong>{format!(" · {age} · {}", p.person_number)}</p>
            {guardian.map(|g| view! { <p class="hint">{g}</p> })}
            <h3>{td_string!(locale, desk.diagnoses)}</h3>
            <ul>
                {p.diagnoses.into_iter().map(|d| view! {
                    <li>{format!("{} · {} · ", d.icd10, d.diagnosed_on)}{fill(td_string!(locale, desk.proof), &[("number", &d.proof_number)])}</li>
                }).collect_view()}
            </ul>
            <h3>{td_string!(locale, desk.past)}</h3>
            {if p.past.is_empty() {
                view! { <p class="hint">{td_string!(locale, desk.no_past)}</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {p.past.into_iter().map(|c| view! {
                            <li>{format!("{} · {} · {} · {}", when(c.at), c.icd10, c.doctor_name, status_text(locale, c.status))}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

fn doctor_consult(
    locale: Locale,
    page: DoctorConsultData,
    csrf: String,
    state: FormState,
) -> impl IntoView {
    let english = locale == Locale::en;
    let brief = brief(locale, page.consult.patient.clone());
    let c = page.consult.consult.clone();
    let number = c.consult_number.clone();
    let files = format!("/api/v1/staff/consults/{number}/files");
    let open = c.status.is_open();
    let last_seq = page.entries.last().map_or(0, |e| e.seq);
    let approved: Vec<String> = page
        .consult
        .patient
        .diagnoses
        .iter()
        .map(|d| d.icd10.clone())
        .collect();
    let record = record_section(
        locale,
        &number,
        page.record.clone(),
        approved,
        open,
        &csrf,
        state,
    );
    let quick = page.quick_replies.clone();
    view! {
        <h1>{c.person_name.clone()}</h1>
        <div class="consult-columns">
            <div>
                {brief}
                <section class="card consult-head">
                    <p>
                        <span class=status_class(c.status) data-testid="consult-status">{status_text(locale, c.status)}</span>
                        {format!(" {} · {}", c.consult_type.name(english), c.icd10)}
                    </p>
                    {consult_notes(locale, &c)}
                </section>
                {crate::call::calls_section(locale, page.calls.clone(), format!("/api/v1/staff/consults/{number}/recordings"))}
                {conversation(locale, page.entries, Side::Doctor, &files)}
                <ChatLive
                    consult=number.clone()
                    viewer=Side::Doctor
                    socket="/api/v1/staff/consults/socket".to_owned()
                    files=files.clone()
                    last_seq=last_seq
                    action=format!("/forms/staff/consults/{number}/messages")
                    client_id=page.client_id.clone()
                    csrf=csrf.clone()
                    english=english
                    can_write=open
                    call=page.call_check.clone().filter(|_| open).map(|ice_servers| crate::call::CallSetup { ice_servers, csrf: csrf.clone() })
                    text_href=format!("/staff/consults/{number}")
                />
                {(open && !quick.is_empty()).then(|| view! {
                    <section class="card" aria-labelledby="quick-title">
                        <h2 id="quick-title">{td_string!(locale, desk.quick_replies)}</h2>
                        {quick.into_iter().map(|q| view! {
                            <form method="post" action=format!("/forms/staff/consults/{number}/messages") class="quick-reply">
                                <input type="hidden" name="csrf_token" value=csrf.clone() />
                                <input type="hidden" name="client_id" value=page.client_id.clone() />
                                <input type="hidden" name="text" value=q.clone() />
                                <button type="submit" class="button button-secondary">{q}</button>
                            </form>
                        }).collect_view()}
                    </section>
                })}
                {open.then(|| view! {
                    <form method="post" enctype="multipart/form-data" class="card form"
                        action=format!("/forms/staff/consults/{number}/files?csrf_token={csrf}")>
                        <input type="hidden" name="upload_key" value=page.upload_key.clone() />
                        <input type="hidden" name="client_id" value=page.file_client_id.clone() />
                        <div class="field">
                            <label for="f-file">{td_string!(locale, chat.photo_label)}</label>
                            <input id="f-file" name="file" type="file" accept="image/jpeg,image/png,image/webp,application/pdf" required />
                        </div>
                        <button type="submit" class="button button-secondary button-block">{td_string!(locale, chat.send_photo)}</button>
                    </form>
                })}
                <p><a class="button button-secondary button-block" href=format!("/staff/consults/{number}")>{td_string!(locale, chat.refresh)}</a></p>
            </div>
            <div>
                {record}
                {open.then(|| view! {
                    <form method="post" action=format!("/forms/staff/consults/{number}/referral") class="card form" data-testid="referral">
                        <input type="hidden" name="csrf_token" value=csrf.clone() />
                        <div class="field">
                            <label for="f-reason">{td_string!(locale, desk.refer_reason)}</label>
                            <textarea id="f-reason" name="reason" rows="2" maxlength="500" required></textarea>
                        </div>
                        <button type="submit" class="button button-danger button-block">{td_string!(locale, desk.refer)}</button>
                    </form>
                })}
            </div>
        </div>
    }
}

/// A labelled text area of the record form.
fn area(
    label: &'static str,
    field: Field,
    value: String,
    rows: u8,
    state: &FormState,
) -> impl IntoView {
    let name = field.as_str();
    let id = format!("f-{name}");
    let error = state.message_for(field);
    let invalid = error.is_some();
    view! {
        <div class="field" class:field-invalid=invalid>
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows=rows.to_string()>{value}</textarea>
            {error.map(|e| view! { <p class="field-error">{e}</p> })}
        </div>
    }
}

fn record_section(
    locale: Locale,
    number: &str,
    record: Option<RecordView>,
    approved: Vec<String>,
    open: bool,
    csrf: &str,
    state: FormState,
) -> AnyView {
    if let Some(r) = record
        .as_ref()
        .filter(|r| r.status == RecordStatus::Archived)
    {
        return view! {
            <section class="card" id="record" data-testid="record">
                <h2>{td_string!(locale, desk.record)}" · "{td_string!(locale, desk.archived)}</h2>
                {crate::records::record_body(locale, r)}
                <form method="post" action=format!("/forms/staff/consults/{number}/record/addenda") class="form">
                    <input type="hidden" name="csrf_token" value=csrf.to_owned() />
                    <div class="field">
                        <label for="f-body">{td_string!(locale, desk.addendum)}</label>
                        <textarea id="f-body" name="body" rows="2" maxlength="2000" required></textarea>
                    </div>
                    <button type="submit" class="button button-secondary button-block">{td_string!(locale, desk.add_addendum)}</button>
                </form>
            </section>
        }
        .into_any();
    }
    if !open {
        return ().into_any();
    }
    let (revision, text) = record.map(|r| (r.revision, r.text)).unwrap_or_default();
    let chosen = text.icd10.clone();
    view! {
        <form method="post" action=format!("/forms/staff/consults/{number}/record") class="card form" id="record" data-testid="record-form">
            <h2>{td_string!(locale, desk.record)}
                {(revision > 0).then(|| view! { <span class="hint">{format!(" · {}", fill(td_string!(locale, desk.revision), &[("n", &revision.to_string())]))}</span> })}
            </h2>
            <input type="hidden" name="csrf_token" value=csrf.to_owned() />
            <input type="hidden" name="revision" value=revision.to_string() />
            {area(td_string!(locale, desk.chief_complaint), Field::ChiefComplaint, text.chief_complaint, 2, &state)}
            {area(td_string!(locale, desk.present_illness), Field::PresentIllness, text.present_illness, 4, &state)}
            <div class="field">
                <label for="f-icd10">{td_string!(locale, desk.record_diagnosis)}</label>
                <select id="f-icd10" name="icd10">
                    {approved.into_iter().map(|code| {
                        let selected = code == chosen;
                        view! { <option value=code.clone() selected=selected>{code.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
            {area(td_string!(locale, desk.advice), Field::Advice, text.advice, 4, &state)}
            {area(td_string!(locale, desk.follow_up), Field::FollowUp, text.follow_up, 2, &state)}
            <button type="submit" class="button button-secondary button-block">{td_string!(locale, desk.save_draft)}</button>
            <p class="hint">{td_string!(locale, desk.complete_hint)}</p>
            <button type="submit" class="button button-block" formaction=format!("/forms/staff/consults/{number}/completion") data-testid="complete">
                {td_string!(locale, desk.complete)}
            </button>
        </form>
    }
    .into_any()
}
