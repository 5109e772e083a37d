//! The patient's record pages (R-EMR-2, R-EMR-4): the records, one record to read and
//! print (the page prints cleanly: the print stylesheet drops the bars), and who viewed
//! them.
use super::{AccessLogQuery, RecordQuery, RecordView, RecordsQuery};
use crate::components::NotFound;
use crate::i18n::*;
use crate::page_data::load;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The record's fields, its one patient number, and its addenda.
pub fn record_body(locale: Locale, r: &RecordView) -> impl IntoView {
    let archived = r.archived_at.map(crate::domain::china_time::local);
    view! {
        <dl class="record">
            <dt>{td_string!(locale, records.person_number)}</dt><dd data-testid="person-number">{r.person_number.clone()}</dd>
            <dt>{td_string!(locale, chat.person)}</dt><dd>{r.person_name.clone()}</dd>
            <dt>{td_string!(locale, records.doctor)}</dt><dd>{r.doctor_name.clone()}</dd>
            <dt>{td_string!(locale, desk.chief_complaint)}</dt><dd>{r.text.chief_complaint.clone()}</dd>
            <dt>{td_string!(locale, desk.present_illness)}</dt><dd>{r.text.present_illness.clone()}</dd>
            <dt>{td_string!(locale, desk.record_diagnosis)}</dt><dd>{r.text.icd10.clone()}</dd>
            <dt>{td_string!(locale, desk.advice)}</dt><dd data-testid="record-advice">{r.text.advice.clone()}</dd>
            <dt>{td_string!(locale, desk.follow_up)}</dt><dd>{r.text.follow_up.clone()}</dd>
            {archived.map(|a| view! { <dt>{td_string!(locale, records.archived_at)}</dt><dd>{a}</dd> })}
            {r.content_hash.clone().map(|h| view! {
                <dt>{td_string!(locale, desk.content_hash)}</dt><dd class="hash">{h}</dd>
            })}
        </dl>
        {(!r.addenda.is_empty()).then(|| view! {
            <h3>{td_string!(locale, records.addenda)}</h3>
            <ul class="addenda">
                {r.addenda.iter().map(|a| view! {
                    <li><p>{a.body.clone()}</p><p class="hint">{format!("{} · {}", a.author_name, crate::domain::china_time::local(a.at))}</p></li>
                }).collect_view()}
            </ul>
        })}
    }
}

/// The account's records, newest first.
#[component]
pub fn RecordsPage() -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let data = Resource::new(|| (), |_| load(RecordsQuery));
    view! {
        <h1>{td_string!(locale, records.title)}</h1>
        <p><a href="/records/access">{td_string!(locale, records.access_link)}</a></p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = data.await.unwrap_or_default();
                if list.is_empty() {
                    return view! { <div class="card empty"><p>{td_string!(locale, records.empty)}</p></div> }.into_any();
                }
                view! {
                    <ul class="booking-list">
                        {list.into_iter().map(|r| view! {
                            <li>
                                <a class="card booking-row" href=format!("/records/{}", r.record_number) data-testid="record-row">
                                    <span><strong>{r.text.icd10.clone()}</strong>{format!(" · {} · {}", r.doctor_name, r.person_name)}</span>
                                    <span class="hint">{r.archived_at.map(crate::domain::china_time::local)}</span>
                                </a>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </Suspense>
    }
}

/// One record, to read and print.
#[component]
pub fn RecordPage() -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let number = use_params_map().with_untracked(|p| p.get("number").unwrap_or_default());
    let data = Resource::new(move || number.clone(), |n| load(RecordQuery(n)));
    view! {
        <p class="breadcrumb no-print"><a href="/records">{td_string!(locale, records.title)}</a></p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Some(r) => view! {
                        <h1>{td_string!(locale, records.record_title)}</h1>
                        <article class="card">{record_body(locale, &r)}</article>
                        <p class="hint no-print">{td_string!(locale, records.print)}</p>
                        <p class="no-print"><a href=format!("/consults/{}", r.consult_number)>{td_string!(locale, records.consult)}</a></p>
                    }.into_any(),
                    None => view! { <NotFound /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Who viewed my record (R-EMR-2): staff, role, what, when, why.
#[component]
pub fn AccessLogPage() -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let data = Resource::new(|| (), |_| load(AccessLogQuery));
    view! {
        <p class="breadcrumb"><a href="/records">{td_string!(locale, records.title)}</a></p>
        <h1>{td_string!(locale, records.access_title)}</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = data.await.unwrap_or_default();
                if list.is_empty() {
                    return view! { <div class="card empty"><p>{td_string!(locale, records.access_empty)}</p></div> }.into_any();
                }
                view! {
                    <ul class="card notices" data-testid="access-log">
                        {list.into_iter().map(|a| {
                            let action = match a.action.as_str() {
                                "print" => td_string!(locale, records.action_print),
                                "copy" => td_string!(locale, records.action_copy),
                                _ => td_string!(locale, records.action_read),
                            };
                            let role = crate::domain::staff::Role::parse(&a.staff_role)
                                .map(|r| crate::staff::role_name(r).to_owned())
                                .unwrap_or_else(|_| a.staff_role.clone());
                            view! {
                                <li class="notice">
                                    <strong>{format!("{} · {role} · {action}", a.staff_name)}</strong>
                                    <span class="hint">{format!("{} · {}", crate::domain::china_time::local(a.at), a.consult_number)}</span>
                                    {a.reason.map(|r| view! { <span class="hint">{r}</span> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </Suspense>
    }
}
