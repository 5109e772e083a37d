//! The doctor directory (R-DOC-1): search by name, specialty or condition (Chinese or
//! pinyin initials), by department, or only the doctors who may follow up the approved
//! diagnoses of the person the patient acts for (R-ELIG-3). Server-rendered, paged, a
//! GET form: it works without JavaScript and each page has its own address.
use crate::booking::{QueueChoice, SlotDay};
use crate::components::{CsrfField, FormAlerts, FormState};
use crate::doctors::DoctorQuery;
use crate::doctors::{DirectoryQuery, DoctorCard, DoctorProfile};
use crate::domain::department::{ALL_DEPARTMENTS, Department};
use crate::domain::doctor::fee_text;
use crate::i18n::*;
use crate::localized::fill;
use crate::page_data::load;
use crate::viewer::current_viewer;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

fn directory_query() -> DirectoryQuery {
    use_query_map().with_untracked(|q| DirectoryQuery {
        department: q.get("department").and_then(|d| Department::parse(&d)),
        q: q.get("q").unwrap_or_default(),
        mine: q.get("mine").as_deref() == Some("1"),
        page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
    })
}

/// The query string of a directory page, for the paging links.
fn page_href(query: &DirectoryQuery, page: u64) -> String {
    let mut parts = vec![format!("page={page}")];
    if let Some(d) = query.department {
        parts.push(format!("department={}", d.as_str()));
    }
    if !query.q.is_empty() {
        parts.push(format!("q={}", encode(&query.q)));
    }
    if query.mine {
        parts.push("mine=1".into());
    }
    format!("/doctors?{}", parts.join("&"))
}

/// Percent-encodes a query value (UTF-8 bytes outside the unreserved set).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn DoctorsPage() -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    let query = directory_query();
    let signed_in = current_viewer().signed_in.is_some();
    let asked = query.clone();
    let data = Resource::new(move || asked.clone(), load);
    let (q, department, mine) = (query.q.clone(), query.department, query.mine);
    let alerts = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, doctors.title)}</h1>
        <FormAlerts state=alerts />
        <form method="get" action="/doctors" class="card form directory-search" role="search">
            <div class="field">
                <label for="f-q">{t_string!(i18n, doctors.search)}</label>
                <input id="f-q" name="q" type="search" value=q maxlength="30" enterkeyhint="search"
                    placeholder=t_string!(i18n, doctors.search_placeholder) />
            </div>
            <div class="field">
                <label for="f-department">{t_string!(i18n, doctors.department)}</label>
                <select id="f-department" name="department">
                    <option value="">{t_string!(i18n, doctors.all_departments)}</option>
                    {ALL_DEPARTMENTS.iter().map(|d| view! {
                        <option value=d.as_str() selected=department == Some(*d)>{d.name(english)}</option>
                    }).collect_view()}
                </select>
            </div>
            {signed_in.then(|| view! {
                <div class="check">
                    <input type="checkbox" id="f-mine" name="mine" value="1" checked=mine />
                    <label for="f-mine">{t_string!(i18n, doctors.mine)}</label>
                </div>
            })}
            <button type="submit" class="button button-block">{t_string!(i18n, doctors.submit)}</button>
        </form>
        <Suspense fallback=|| ()>
            {move || {
                let query = query.clone();
                Suspend::new(async move {
                    let Some(page) = data.await else { return ().into_any() };
                    let list = page.list;
                    if list.doctors.is_empty() {
                        return view! { <div class="card empty" data-testid="no-doctors"><p>{t_string!(i18n, doctors.none)}</p></div> }.into_any();
                    }
                    let summary = fill(t_string!(i18n, doctors.found), &[("n", &list.total.to_string())]);
                    let for_whom = page.person_name.filter(|_| query.mine).map(|name| {
                        fill(t_string!(i18n, doctors.mine_for), &[("name", &name)])
                    });
                    let prev = (list.page > 1).then(|| page_href(&query, list.page - 1));
                    let next = (list.page < list.pages).then(|| page_href(&query, list.page + 1));
                    let position = fill(t_string!(i18n, doctors.page_of), &[("page", &list.page.to_string()), ("pages", &list.pages.to_string())]);
                    view! {
                        <p class="lead" role="status">{summary}{for_whom.map(|w| format!(" {w}"))}</p>
                        <ul class="doctor-list">
                            {list.doctors.into_iter().map(|d| view! { <li>{doctor_card(d, english)}</li> }).collect_view()}
                        </ul>
                        <nav class="pager" aria-label=t_string!(i18n, doctors.pages)>
                            {prev.map(|href| view! { <a class="button button-secondary" rel="prev" href=href>{t_string!(i18n, doctors.prev)}</a> })}
                            <span>{position}</span>
                            {next.map(|href| view! { <a class="button button-secondary" rel="next" href=href>{t_string!(i18n, doctors.next)}</a> })}
                        </nav>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

fn rating_line(card: &DoctorCard) -> String {
    let i18n = use_i18n();
    match card.rating {
        Some(r) => fill(
            t_string!(i18n, doctors.rating),
            &[
                (
                    "stars",
                    &format!("{}.{}", r.average_tenths / 10, r.average_tenths % 10),
                ),
                ("good", &r.good_percent.to_string()),
                ("n", &r.reviews.to_string()),
            ],
        ),
        None => t_string!(i18n, doctors.not_rated).to_owned(),
    }
}

fn fees_line(card: &DoctorCard, english: bool) -> String {
    card.fees
        .iter()
        .map(|f| format!("{} {}", f.consult_type.name(english), fee_text(f.fen)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn photo(card: &DoctorCard, class: &'static str) -> impl IntoView + use<> {
    let src = card
        .has_photo
        .then(|| format!("/api/v1/doctors/{}/photo", card.doctor_number));
    let initial = card.name.chars().next().unwrap_or('医').to_string();
    match src {
        Some(src) => view! { <img class=class src=src alt="" loading="lazy" width="64" height="64" /> }.into_any(),
        None => view! { <span class=format!("{class} photo-initial") aria-hidden="true">{initial}</span> }.into_any(),
    }
}

fn doctor_card(card: DoctorCard, english: bool) -> impl IntoView {
    let i18n = use_i18n();
    let years = fill(
        t_string!(i18n, doctors.years),
        &[("n", &card.practice_years.to_string())],
    );
    let href = format!("/doctors/{}", card.doctor_number);
    view! {
        <a class="card doctor-card" href=href data-testid="doctor">
            {photo(&card, "doctor-photo")}
            <div class="doctor-facts">
                <p class="doctor-name"><strong>{card.name.clone()}</strong>" "<span class="hint">{card.title.name(english)}</span></p>
                <p class="hint">{format!("{} · {years}", card.department.name(english))}</p>
                <p class="doctor-specialties">{card.specialties.clone()}</p>
                <p class="hint">{rating_line(&card)}</p>
                <p class="doctor-fees">{fees_line(&card, english)}</p>
            </div>
        </a>
    }
}

#[component]
pub fn DoctorPage() -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    let number = use_params_map().with_untracked(|p| p.get("number").unwrap_or_default());
    let data = Resource::new(move || number.clone(), |n| load(DoctorQuery(n)));
    let state = FormState::from_query();
    let csrf = current_viewer().csrf_token;
    view! {
        <FormAlerts state=state />
        <Suspense fallback=|| ()>
            {move || {
                let csrf = csrf.clone();
                Suspend::new(async move {
                    match data.await {
                        Some(page) => {
                            let online = page.profile.card.may_consult_online;
                            let number = page.profile.card.doctor_number.clone();
                            let queues = (online && !page.queues.is_empty())
                                .then(|| queue_card(number, page.queues, csrf.clone(), english));
                            view! {
                                {profile_view(page.profile, english)}
                                {queues}
                                {online.then(|| slot_days(page.days, csrf, english))}
                            }.into_any()
                        }
                        None => view! { <crate::components::NotFound /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// R-BOOK-1: the doctor is online now: join their queue, with the wait in plain words.
fn queue_card(
    number: String,
    queues: Vec<QueueChoice>,
    csrf: String,
    english: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card card-online" aria-labelledby="queue-title" data-testid="queues">
            <h2 id="queue-title"><span class="online-dot" aria-hidden="true"></span>{t_string!(i18n, queue.online)}</h2>
            {queues.into_iter().map(|q| {
                let line = fill(t_string!(i18n, queue.waiting), &[("n", &q.waiting.to_string()), ("m", &q.wait_minutes.to_string())]);
                view! {
                    <form method="post" action="/forms/queue" class="queue-choice">
                        <CsrfField token=csrf.clone() />
                        <input type="hidden" name="doctor_number" value=number.clone() />
                        <input type="hidden" name="consult_type" value=q.consult_type.as_str() />
                        <div>
                            <strong>{q.consult_type.name(english)}</strong>
                            <p class="hint">{line}</p>
                        </div>
                        <button type="submit" class="button button-small" data-testid="join">{t_string!(i18n, queue.join)}</button>
                    </form>
                }
            }).collect_view()}
        </section>
    }
}

/// R-BOOK-1: the free slots of the coming two weeks, by day; each is a one-tap form.
fn slot_days(days: Vec<SlotDay>, csrf: String, english: bool) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" aria-labelledby="slots-title" data-testid="slots">
            <h2 id="slots-title">{t_string!(i18n, booking.slots_title)}</h2>
            {if days.is_empty() {
                view! { <p class="hint">{t_string!(i18n, booking.no_slots)}</p> }.into_any()
            } else {
                days.into_iter().map(|d| {
                    let csrf = csrf.clone();
                    view! {
                        <h3 class="slot-day">{d.day}</h3>
                        <div class="slot-grid">
                            {d.slots.into_iter().map(|s| view! {
                                <form method="post" action="/forms/holds">
                                    <CsrfField token=csrf.clone() />
                                    <input type="hidden" name="slot_number" value=s.slot_number.clone() />
                                    <button type="submit" class="slot" data-testid="slot">
                                        <strong>{s.clock}</strong>
                                        <span>{s.consult_type.name(english)}</span>
                                        {(s.free > 1).then(|| view! { <span class="hint">{fill(t_string!(i18n, booking.places), &[("n", &s.free.to_string())])}</span> })}
                                    </button>
                                </form>
                            }).collect_view()}
                        </div>
                    }
                }).collect_view().into_any()
            }}
        </section>
    }
}

fn profile_view(p: DoctorProfile, english: bool) -> impl IntoView {
    let i18n = use_i18n();
    let card = p.card;
    let years = fill(
        t_string!(i18n, doctors.years),
        &[("n", &card.practice_years.to_string())],
    );
    let licence = fill(
        t_string!(i18n, doctors.licence),
        &[("number", &p.licence_number)],
    );
    view! {
        <article class="card doctor-profile" data-testid="doctor-profile">
            <div class="doctor-head">
                {photo(&card, "doctor-photo doctor-photo-large")}
                <div>
                    <h1>{card.name.clone()}</h1>
                    <p>{card.title.name(english)}" · "{card.department.name(english)}</p>
                    <p class="hint">{years}</p>
                </div>
            </div>
            <p class="hint" data-testid="licence">{licence}</p>
            <h2>{t_string!(i18n, doctors.specialties)}</h2>
            <p>{card.specialties.clone()}</p>
            {(!p.bio.is_empty()).then(|| view! { <p>{p.bio.clone()}</p> })}
            <h2>{t_string!(i18n, doctors.reviews)}</h2>
            <p>{rating_line(&card)}</p>
            <h2>{t_string!(i18n, doctors.fees)}</h2>
            {if card.fees.is_empty() {
                view! { <p class="hint">{t_string!(i18n, doctors.no_fees)}</p> }.into_any()
            } else {
                view! {
                    <ul class="fee-list">
                        {card.fees.iter().map(|f| view! {
                            <li><span>{f.consult_type.name(english)}</span><strong>{fee_text(f.fen)}</strong></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </article>
        {(!card.may_consult_online).then(|| view! {
            <p class="card card-warning" role="note" data-testid="not-online">{t_string!(i18n, doctors.too_new)}</p>
        })}
    }
}
