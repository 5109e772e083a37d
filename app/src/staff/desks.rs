//! The staff desks, a page each (R-SEC-1: each gated by its role's permission on the
//! server; a role without it gets "not found"): proof review, a doctor's desk, scheduling,
//! orders and refunds, the reconciliation, staff accounts.
use super::pages::{desk_title, role_name};
use crate::components::{CsrfField, FormAlerts, FormState, InputField, NotFound, with_viewer};
use crate::domain::Field;
use crate::domain::department::ALL_DEPARTMENTS;
use crate::domain::proof::ALL_REJECT_REASONS;
use crate::domain::staff::ALL_ROLES;
use crate::i18n::*;
use crate::localized::{fill, reject_reason_text};
use crate::page_data::{PageQuery, load};
use crate::staff::{
    Desk, DoctorDeskQuery, OrdersDeskQuery, ProofDeskQuery, ReconciliationDeskQuery,
    ScheduleDeskQuery, StaffAccounts, StaffAccountsQuery, StaffView,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// A desk's page: its title, the way back home, the form alerts, and `render` of what
/// the server answered to `query` (nothing: "not found").
fn desk_page<Q, V>(
    desk: Desk,
    query: Q,
    render: fn(Q::Answer, String, FormState) -> V,
) -> impl IntoView
where
    Q: PageQuery + Clone,
    Q::Answer: Clone + serde::Serialize + serde::de::DeserializeOwned + Sync,
    V: IntoView + 'static,
{
    let i18n = use_i18n();
    let state = FormState::from_query();
    let data = Resource::new(|| (), move |_| load(query.clone()));
    view! {
        <p class="breadcrumb"><a href="/staff">{t_string!(i18n, staff.back_home)}</a></p>
        <h1>{desk_title(desk)}</h1>
        <FormAlerts state=state.clone() />
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let (csrf, state) = (csrf.clone(), state.clone());
                        Suspend::new(async move {
                            match data.await {
                                Some(answer) => view! {
                                    <div class="desk-page">{render(answer, csrf, state)}</div>
                                }
                                .into_any(),
                                None => view! { <NotFound /> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

/// A value of this page's query string.
fn query_value(name: &'static str) -> Option<String> {
    use_query_map()
        .with_untracked(|q| q.get(name))
        .filter(|v| !v.is_empty())
}

#[component]
pub fn StaffProofsPage() -> impl IntoView {
    desk_page(Desk::Proofs, ProofDeskQuery, |d, csrf, _| {
        review_queue(d.queue, d.may_decide, csrf)
    })
}

#[component]
pub fn DoctorDeskPage() -> impl IntoView {
    desk_page(Desk::Doctor, DoctorDeskQuery, |d, csrf, _| {
        doctor_desk(d, csrf)
    })
}

#[component]
pub fn StaffSchedulePage() -> impl IntoView {
    desk_page(
        Desk::Schedule,
        ScheduleDeskQuery(query_value("doctor")),
        |s, csrf, _| scheduling(s, csrf),
    )
}

#[component]
pub fn StaffOrdersPage() -> impl IntoView {
    let status =
        query_value("order_status").and_then(|s| crate::domain::order::OrderStatus::parse(&s));
    desk_page(Desk::Orders, OrdersDeskQuery(status), |o, csrf, _| {
        staff_orders(o, csrf)
    })
}

#[component]
pub fn StaffReconciliationPage() -> impl IntoView {
    desk_page(
        Desk::Reconciliation,
        ReconciliationDeskQuery(query_value("reconcile_day")),
        |r, csrf, _| reconciliation(r, csrf),
    )
}

#[component]
pub fn StaffAccountsPage() -> impl IntoView {
    desk_page(
        Desk::Accounts,
        StaffAccountsQuery,
        |a: StaffAccounts, csrf, state| accounts(a.accounts, a.me.id, csrf, state),
    )
}

/// R-ELIG-2: proofs waiting, oldest first; open the files (each view is logged) and
/// approve, confirming code and department, or reject with a reason.
fn review_queue(
    queue: Vec<crate::proofs::ProofView>,
    may_decide: bool,
    csrf: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let english = locale == Locale::en;
    let count = fill(
        t_string!(i18n, staff.queue_count),
        &[("count", &queue.len().to_string())],
    );
    view! {
        <section class="card" aria-labelledby="queue-title">
            <h2 id="queue-title">{t_string!(i18n, staff.queue_title)}</h2>
            <p class="hint" data-testid="queue-count">{count}</p>
            {queue.into_iter().map(|p| {
                let hours = p.waiting_secs / 3600;
                let minutes = (p.waiting_secs % 3600) / 60;
                let waited = fill(t_string!(i18n, staff.waiting), &[("hours", &hours.to_string()), ("minutes", &minutes.to_string())]);
                let number = p.proof_number.clone();
                let files = p.files.iter().map(|f| {
                    let href = format!("/api/v1/staff/proofs/{}/files/{}", p.proof_number, f.position);
                    let label = fill(t_string!(i18n, staff.open_file), &[("n", &f.position.to_string()), ("kind", &f.kind)]);
                    view! { <a class="button button-secondary button-small" href=href target="_blank" rel="noopener">{label}</a> }
                }).collect_view();
                view! {
                    <article class="queue-item" data-testid="queue-item">
                        <div class="proof-head">
                            <strong>{format!("{} · {} ({})", p.person_name, p.diagnosis, p.icd10)}</strong>
                            <span class="badge">{waited}</span>
                        </div>
                        <p class="hint">{format!("{} · {} · {}", p.institution, p.diagnosed_on, p.department.name(english))}</p>
                        {(!p.note.is_empty()).then(|| view! { <p>{p.note.clone()}</p> })}
                        <div class="actions">{files}</div>
                        {may_decide.then(|| view! {
                            <div class="decide">
                                <form method="post" action=format!("/forms/staff/proofs/{number}/decision") class="inline-form">
                                    <CsrfField token=csrf.clone() />
                                    <input type="hidden" name="decision" value="approve" />
                                    <label for=format!("icd-{number}")>{t_string!(i18n, staff.confirm_code)}</label>
                                    <input id=format!("icd-{number}") name="icd10" value=p.icd10.clone() maxlength="16" required=true />
                                    <label for=format!("dept-{number}")>{t_string!(i18n, staff.confirm_department)}</label>
                                    <select id=format!("dept-{number}") name="department">
                                        {ALL_DEPARTMENTS.iter().map(|d| {
                                            let chosen = *d == p.department;
                                            view! { <option value=d.as_str() selected=chosen>{d.name(english)}</option> }
                                        }).collect_view()}
                                    </select>
                                    <button type="submit" class="button button-small">{t_string!(i18n, staff.approve)}</button>
                                </form>
                                <form method="post" action=format!("/forms/staff/proofs/{number}/decision") class="inline-form">
                                    <CsrfField token=csrf.clone() />
                                    <input type="hidden" name="decision" value="reject" />
                                    <label for=format!("reason-{number}")>{t_string!(i18n, staff.reason)}</label>
                                    <select id=format!("reason-{number}") name="reason">
                                        {ALL_REJECT_REASONS.iter().map(|r| view! { <option value=r.as_str()>{reject_reason_text(locale, *r)}</option> }).collect_view()}
                                    </select>
                                    <label for=format!("note-{number}")>{t_string!(i18n, staff.reject_note)}</label>
                                    <input id=format!("note-{number}") name="note" maxlength="200" />
                                    <button type="submit" class="button button-danger button-small">{t_string!(i18n, staff.reject)}</button>
                                </form>
                            </div>
                        })}
                    </article>
                }
            }).collect_view()}
        </section>
    }
}

/// R-SEC-1: every account; what one admin asks for, another approves (four eyes); the
/// first password is set by its owner with a code sent to their own phone.
fn accounts(all: Vec<StaffView>, me: i64, csrf: String, state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    view! {
        <section class="card" aria-labelledby="accounts-title">
            <h2 id="accounts-title">{t_string!(i18n, staff.accounts_title)}</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead><tr>
                        <th>{t_string!(i18n, staff.username)}</th>
                        <th>{t_string!(i18n, staff.display_name)}</th>
                        <th>{t_string!(i18n, staff.role)}</th>
                        <th></th>
                    </tr></thead>
                    <tbody>
                        {all.into_iter().map(|s| {
                            let status = if s.approval_requested_by.is_some() {
                                t_string!(i18n, staff.awaiting_approval)
                            } else if s.disabled {
                                t_string!(i18n, staff.disabled)
                            } else if s.awaiting_activation {
                                t_string!(i18n, staff.awaiting_activation)
                            } else if s.enrolled {
                                t_string!(i18n, staff.enrolled)
                            } else {
                                t_string!(i18n, staff.not_enrolled)
                            };
                            let (label, value) = if s.disabled {
                                (t_string!(i18n, staff.enable), "no")
                            } else {
                                (t_string!(i18n, staff.disable), "yes")
                            };
                            // Another admin's request is approved here; one's own is not.
                            let approvable = s.approval_requested_by.is_some_and(|by| by != me);
                            // Re-asking is pointless while a request waits.
                            let toggle = s.approval_requested_by.is_none() || !s.disabled;
                            let resend = s.awaiting_activation && s.approval_requested_by.is_none() && !s.disabled;
                            view! {
                                <tr class:row-disabled=s.disabled>
                                    <td>{s.username.clone()}{s.phone.clone().map(|p| view! { <br /><span class="hint">{p}</span> })}</td>
                                    <td>{s.display_name.clone()}</td>
                                    <td>{role_name(s.role)}<br /><span class="hint">{status}</span></td>
                                    <td class="actions">
                                        {approvable.then(|| view! {
                                            <form method="post" action=format!("/forms/staff/accounts/{}/approval", s.id)>
                                                <CsrfField token=csrf.clone() />
                                                <button type="submit" class="button button-small">{t_string!(i18n, staff.approve_account)}</button>
                                            </form>
                                        })}
                                        {resend.then(|| view! {
                                            <form method="post" action=format!("/forms/staff/accounts/{}/activation-code", s.id)>
                                                <CsrfField token=csrf.clone() />
                                                <button type="submit" class="button button-secondary button-small">{t_string!(i18n, staff.resend_activation)}</button>
                                            </form>
                                        })}
                                        {(s.id != me && toggle).then(|| view! {
                                            <form method="post" action=format!("/forms/staff/accounts/{}/disabled", s.id)>
                                                <CsrfField token=csrf.clone() />
                                                <input type="hidden" name="disabled" value=value />
                                                <button type="submit" class="button button-secondary button-small">{label}</button>
                                            </form>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <form method="post" action="/forms/staff/accounts" class="card form" aria-labelledby="create-title">
            <h2 id="create-title">{t_string!(i18n, staff.create_title)}</h2>
            <CsrfField token=csrf />
            <InputField field=Field::Username label=t_string!(i18n, staff.username).to_string()
                autocomplete="off" maxlength=32 state=state.clone() />
            <InputField field=Field::RealName label=t_string!(i18n, staff.display_name).to_string()
                autocomplete="off" maxlength=30 state=state.clone() />
            <InputField field=Field::Phone label=t_string!(i18n, staff.phone).to_string()
                input_type="tel" autocomplete="off" inputmode="numeric" maxlength=20 state=state.clone() />
            <div class="field">
                <label for="f-role">{t_string!(i18n, staff.role)}</label>
                <select id="f-role" name="role" required=true>
                    {ALL_ROLES.iter().map(|r| view! { <option value=r.as_str()>{role_name(*r)}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-department">{t_string!(i18n, staff.department)}</label>
                <select id="f-department" name="department">
                    <option value="">{t_string!(i18n, staff.none)}</option>
                    {ALL_DEPARTMENTS.iter().map(|d| view! { <option value=d.as_str()>{d.name(english)}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="button button-block">{t_string!(i18n, staff.create)}</button>
        </form>
    }
}

/// R-BOOK-1: a doctor's live queues: online or not per consult type, who waits, and
/// "call the next". Plain forms.
fn doctor_desk(desk: crate::booking::DoctorDesk, csrf: String) -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    view! {
        <section class="card" aria-labelledby="desk-title" data-testid="desk">
            <h2 id="desk-title">{t_string!(i18n, staff.desk_title)}</h2>
            {desk.queues.into_iter().map(|q| {
                let kind = q.consult_type.as_str();
                let count = fill(t_string!(i18n, staff.desk_waiting), &[("n", &q.waiting.len().to_string())]);
                view! {
                    <div class="desk-queue" data-testid=format!("desk-{kind}")>
                        <div class="proof-head">
                            <strong>{q.consult_type.name(english)}</strong>
                            <form method="post" action="/forms/staff/presence">
                                <CsrfField token=csrf.clone() />
                                <input type="hidden" name="consult_type" value=kind />
                                <input type="hidden" name="online" value=if q.online { "no" } else { "yes" } />
                                <button type="submit" class=if q.online { "button button-secondary button-small" } else { "button button-small" }>
                                    {if q.online { t_string!(i18n, staff.go_offline) } else { t_string!(i18n, staff.go_online) }}
                                </button>
                            </form>
                        </div>
                        {q.online.then(|| view! {
                            <p class="hint">{count}</p>
                            <ol class="desk-waiting">
                                {q.waiting.iter().map(|(name, icd10)| view! { <li>{format!("{name} · {icd10}")}</li> }).collect_view()}
                            </ol>
                            <form method="post" action="/forms/staff/queue/next">
                                <CsrfField token=csrf.clone() />
                                <input type="hidden" name="consult_type" value=kind />
                                <button type="submit" class="button" disabled=q.waiting.is_empty()>{t_string!(i18n, staff.call_next)}</button>
                            </form>
                        })}
                    </div>
                }
            }).collect_view()}
        </section>
        {schedule_card(ScheduleCard {
            title: t_string!(i18n, staff.schedule_title).to_owned(),
            empty: t_string!(i18n, staff.schedule_empty).to_owned(),
            doctor_number: None,
            schedule: desk.schedule,
        }, csrf)}
    }
}

/// Whose schedule a [`schedule_card`] shows, and how it is worded.
struct ScheduleCard {
    title: String,
    empty: String,
    /// `None`: the doctor's own (their desk); `Some`: an operator's choice.
    doctor_number: Option<String>,
    schedule: Vec<crate::booking::DeskSlot>,
}

/// R-BOOK-1, R-BOOK-4: the publish form and the published slots with who is booked;
/// a slot at least a day ahead can be cancelled. Plain forms.
fn schedule_card(card: ScheduleCard, csrf: String) -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    let target = card.doctor_number.clone().unwrap_or_default();
    let doctor_field = move || {
        card.doctor_number
            .clone()
            .map(|n| view! { <input type="hidden" name="doctor_number" value=n /> })
    };
    view! {
        <section class="card" aria-labelledby="schedule-title" data-testid="schedule">
            <h2 id="schedule-title">{card.title}</h2>
            <form method="post" action="/forms/staff/sessions" class="form inline-form">
                <CsrfField token=csrf.clone() />
                {doctor_field()}
                <div class="field"><label for="f-date">{t_string!(i18n, staff.session_date)}</label><input id="f-date" name="date" type="date" required=true /></div>
                <div class="field"><label for="f-start">{t_string!(i18n, staff.session_start)}</label><input id="f-start" name="start" type="time" value="09:00" required=true /></div>
                <div class="field"><label for="f-end">{t_string!(i18n, staff.session_end)}</label><input id="f-end" name="end" type="time" value="11:00" required=true /></div>
                <div class="field"><label for="f-type">{t_string!(i18n, staff.session_type)}</label>
                    <select id="f-type" name="consult_type">
                        {crate::domain::schedule::ALL_CONSULT_TYPES.iter().map(|t| view! { <option value=t.as_str()>{t.name(english)}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field"><label for="f-minutes">{t_string!(i18n, staff.session_minutes)}</label><input id="f-minutes" name="slot_minutes" type="number" min="5" max="120" value="20" required=true /></div>
                <button type="submit" class="button">{t_string!(i18n, staff.publish)}</button>
            </form>
            {if card.schedule.is_empty() {
                view! { <p class="hint">{card.empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="desk-schedule">
                        {card.schedule.into_iter().map(|s| {
                            let booked = format!("{}/{}", s.taken, s.capacity);
                            view! {
                                <li data-testid="scheduled-slot">
                                    <span><strong>{s.when}</strong>{format!(" · {} · {booked}", s.consult_type.name(english))}
                                        {(!s.patients.is_empty()).then(|| format!(" · {}", s.patients.join("、")))}</span>
                                    {s.may_cancel.then(|| view! {
                                        <form method="post" action="/forms/staff/slots/cancel">
                                            <CsrfField token=csrf.clone() />
                                            {(!target.is_empty()).then(|| view! { <input type="hidden" name="doctor_number" value=target.clone() /> })}
                                            <input type="hidden" name="slot_number" value=s.slot_number.clone() />
                                            <button type="submit" class="button button-secondary button-small">{t_string!(i18n, staff.cancel_slot)}</button>
                                        </form>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// Operators choose a listed doctor (a plain GET form) and publish or cancel
/// that doctor's sessions.
fn scheduling(s: crate::staff::Scheduling, csrf: String) -> impl IntoView {
    let i18n = use_i18n();
    let chosen_number = s
        .chosen
        .as_ref()
        .map(|c| c.number.clone())
        .unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="scheduling-title" data-testid="scheduling">
            <h2 id="scheduling-title">{t_string!(i18n, staff.scheduling_title)}</h2>
            <form method="get" action="/staff/schedule" class="form inline-form">
                <div class="field"><label for="f-doctor">{t_string!(i18n, staff.scheduling_doctor)}</label>
                    <select id="f-doctor" name="doctor" required=true>
                        <option value="">{t_string!(i18n, staff.scheduling_choose)}</option>
                        {s.doctors.into_iter().map(|(number, label)| {
                            let selected = number == chosen_number;
                            view! { <option value=number selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button button-secondary">{t_string!(i18n, staff.scheduling_show)}</button>
            </form>
        </section>
        {s.chosen.map(|c| schedule_card(ScheduleCard {
            title: fill(t_string!(i18n, staff.scheduling_of), &[("name", &c.name)]),
            empty: t_string!(i18n, staff.scheduling_empty).to_owned(),
            doctor_number: Some(c.number),
            schedule: c.schedule,
        }, csrf))}
    }
}

/// R-PAY-2: the newest orders, by status; a paid one is refunded here in full or in
/// part, with the reason.
fn staff_orders(o: crate::staff::StaffOrders, csrf: String) -> impl IntoView {
    use crate::domain::order::{ALL_ORDER_STATUSES, Fen, OrderStatus};
    use crate::localized::order_status_text;
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let chosen = o.status;
    let failed = o.failed_refunds;
    view! {
        {(!failed.is_empty()).then(|| {
            let csrf = csrf.clone();
            view! {
                <section class="card card-warning" aria-labelledby="failed-title" data-testid="failed-refunds">
                    <h2 id="failed-title">{t_string!(i18n, staff.failed_refunds_title)}</h2>
                    <p class="hint">{t_string!(i18n, staff.failed_refunds_lead)}</p>
                    <ul class="staff-orders">
                        {failed.into_iter().map(|r| view! {
                            <li class="staff-order" data-testid="failed-refund">
                                <div class="proof-head">
                                    <strong>{format!("{} · {}", r.amount, crate::localized::refund_reason_text(locale, r.reason))}</strong>
                                </div>
                                <p class="hint">{format!("{} · {} · {}", r.order_number, r.requested, r.error)}</p>
                                <form method="post" action=format!("/forms/staff/refunds/{}/retry", r.refund_number)>
                                    <CsrfField token=csrf.clone() />
                                    <button type="submit" class="button button-secondary" data-testid="retry-refund">{t_string!(i18n, staff.retry_refund)}</button>
                                </form>
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            }
        })}
        <section class="card" id="orders" aria-labelledby="orders-title" data-testid="staff-orders">
            <h2 id="orders-title">{t_string!(i18n, staff.orders_title)}</h2>
            <form method="get" action="/staff/orders" class="form inline-form">
                <div class="field"><label for="f-order-status">{t_string!(i18n, staff.orders_status)}</label>
                    <select id="f-order-status" name="order_status">
                        <option value="">{t_string!(i18n, staff.orders_all)}</option>
                        {ALL_ORDER_STATUSES.iter().map(|&st| view! {
                            <option value=st.as_str() selected=Some(st) == chosen>{order_status_text(locale, st)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button button-secondary">{t_string!(i18n, staff.orders_show)}</button>
            </form>
            {o.orders.is_empty().then(|| view! { <p class="hint">{t_string!(i18n, staff.orders_none)}</p> })}
            <ul class="staff-orders">
                {o.orders.into_iter().map(|order| {
                    let left = order.amount_fen - order.refunded_fen;
                    let refundable = matches!(order.status, OrderStatus::Paid | OrderStatus::Served) && left > 0;
                    let left_text = Fen::new(left).map(|f| f.yuan_text()).unwrap_or_default();
                    let n = order.order_number.clone();
                    let csrf = csrf.clone();
                    view! {
                        <li class="staff-order" data-testid="staff-order">
                            <div class="proof-head">
                                <strong>{format!("{} · {}", order.amount, order.description)}</strong>
                                <span class="badge">{order_status_text(locale, order.status)}</span>
                            </div>
                            <p class="hint">{format!("{} · {}", order.order_number, order.created)}</p>
                            {refundable.then(|| view! {
                                <form method="post" action=format!("/forms/staff/orders/{n}/refunds") class="form">
                                    <CsrfField token=csrf />
                                    <p class="hint">{fill(t_string!(i18n, staff.refundable), &[("amount", &left_text)])}</p>
                                    <div class="field"><label for=format!("f-amount-{n}")>{t_string!(i18n, staff.refund_amount)}</label>
                                        <input id=format!("f-amount-{n}") name="amount_yuan" inputmode="decimal" autocomplete="off" /></div>
                                    <div class="field"><label for=format!("f-reason-{n}")>{t_string!(i18n, staff.refund_reason)}</label>
                                        <input id=format!("f-reason-{n}") name="reason" required=true maxlength="500" /></div>
                                    <button type="submit" class="button button-secondary" data-testid="refund">{t_string!(i18n, staff.refund_submit)}</button>
                                </form>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// R-PAY-3: a day's reconciliation: run it, read the differences, resolve each with a
/// note.
fn reconciliation(r: crate::staff::Reconciliation, csrf: String) -> impl IntoView {
    use crate::domain::reconcile::LineKind;
    let i18n = use_i18n();
    let kind_text = move |k: LineKind| match k {
        LineKind::Matched => t_string!(i18n, staff.kind_matched),
        LineKind::OnlyOurs => t_string!(i18n, staff.kind_only_ours),
        LineKind::OnlyTheirs => t_string!(i18n, staff.kind_only_theirs),
        LineKind::AmountMismatch => t_string!(i18n, staff.kind_amount_mismatch),
    };
    let day = r.day.clone();
    view! {
        <section class="card" id="reconciliation" aria-labelledby="reconcile-title" data-testid="reconciliation">
            <h2 id="reconcile-title">{t_string!(i18n, staff.reconcile_title)}</h2>
            <form method="get" action="/staff/reconciliation" class="form inline-form">
                <div class="field"><label for="f-reconcile-day">{t_string!(i18n, staff.reconcile_day)}</label>
                    <input type="date" id="f-reconcile-day" name="reconcile_day" value=day.clone() required=true /></div>
                <button type="submit" class="button button-secondary">{t_string!(i18n, staff.reconcile_show)}</button>
            </form>
            <form method="post" action=format!("/forms/staff/reconciliation/{day}")>
                <CsrfField token=csrf.clone() />
                <button type="submit" class="button button-secondary" data-testid="reconcile-run">{t_string!(i18n, staff.reconcile_run)}</button>
            </form>
            {match r.report {
                None => view! { <p class="hint">{t_string!(i18n, staff.reconcile_not_run)}</p> }.into_any(),
                Some(report) => view! {
                    <p data-testid="reconcile-summary">{fill(t_string!(i18n, staff.reconcile_summary), &[
                        ("ran", &report.ran),
                        ("matched", &report.matched.to_string()),
                        ("differences", &report.differences.to_string()),
                    ])}</p>
                    <ul class="staff-orders">
                        {report.lines.into_iter().map(|l| {
                            let csrf = csrf.clone();
                            let day = day.clone();
                            let note_id = format!("f-note-{}", l.id);
                            view! {
                                <li class="staff-order" data-testid="difference">
                                    <div class="proof-head">
                                        <strong>{kind_text(l.kind)}</strong>
                                        <span class="hint">{l.order_number.clone().unwrap_or_default()}</span>
                                    </div>
                                    <p class="hint">{format!("{} · {} {} · {} {}", l.provider_ref,
                                        t_string!(i18n, staff.reconcile_ours), l.ours,
                                        t_string!(i18n, staff.reconcile_theirs), l.theirs)}</p>
                                    {match l.resolution {
                                        Some(note) => view! { <p class="hint">{fill(t_string!(i18n, staff.reconcile_resolved), &[("note", &note)])}</p> }.into_any(),
                                        None => view! {
                                            <form method="post" action="/forms/staff/reconciliation/resolve" class="form">
                                                <CsrfField token=csrf />
                                                <input type="hidden" name="day" value=day />
                                                <input type="hidden" name="line" value=l.id.to_string() />
                                                <div class="field"><label for=note_id.clone()>{t_string!(i18n, staff.reconcile_note)}</label>
                                                    <input id=note_id name="note" required=true maxlength="500" /></div>
                                                <button type="submit" class="button button-secondary">{t_string!(i18n, staff.reconcile_resolve)}</button>
                                            </form>
                                        }.into_any(),
                                    }}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}
