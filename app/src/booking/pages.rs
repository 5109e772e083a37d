//! A hold or booking (R-BOOK-2, R-BOOK-3, R-PAY-1): the hold's countdown, paying (the
//! ways that work in this browser, then the provider's page; back here, the result shows
//! by itself once the provider has told us), cancelling; and the 问诊 tab's list of
//! upcoming and past bookings. Plain forms; the countdown is the one live part.
use crate::booking::{BookingList, BookingState, BookingView};
use crate::booking::{BookingQuery, BookingsQuery};
use crate::components::{CsrfField, FormAlerts, FormState, with_viewer};
use crate::domain::doctor::fee_text;
use crate::i18n::*;
use crate::localized::fill;
use crate::page_data::load;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

fn state_text(state: BookingState) -> &'static str {
    let i18n = use_i18n();
    match state {
        BookingState::Held => t_string!(i18n, booking.held),
        BookingState::Confirmed => t_string!(i18n, booking.confirmed),
        BookingState::Cancelled => t_string!(i18n, booking.cancelled),
        BookingState::Expired => t_string!(i18n, booking.expired),
    }
}

fn state_class(state: BookingState) -> &'static str {
    match state {
        BookingState::Held => "badge status-submitted",
        BookingState::Confirmed => "badge status-approved",
        BookingState::Cancelled | BookingState::Expired => "badge status-withdrawn",
    }
}

#[component]
pub fn BookingPage() -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    let number = use_params_map().with_untracked(|p| p.get("number").unwrap_or_default());
    let data = Resource::new(move || number.clone(), |n| load(BookingQuery(n)));
    let state = FormState::from_query();
    // Back from the provider's page: the result is on its way.
    let returned = use_query_map().with_untracked(|q| q.get("paying").is_some());
    view! {
        <h1>{t_string!(i18n, booking.title)}</h1>
        <FormAlerts state=state />
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            match data.await {
                                Some(b) => booking_detail(b, csrf, english, returned).into_any(),
                                None => view! { <crate::components::NotFound /> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

fn booking_detail(b: BookingView, csrf: String, english: bool, returned: bool) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    // Waiting for the provider's answer: the page asks again every few seconds (a meta
    // refresh works without JavaScript and in WeChat's browser alike).
    let waiting = b.state == BookingState::Held && b.paying && returned;
    let number = b.booking_number.clone();
    let fee = b.fee_fen.map(fee_text);
    let pay_label = match (&fee, b.fee_fen) {
        (Some(f), Some(fen)) if fen > 0 => fill(t_string!(i18n, booking.pay), &[("fee", f)]),
        _ => t_string!(i18n, booking.pay_free).to_owned(),
    };
    let active = matches!(b.state, BookingState::Held | BookingState::Confirmed) && b.upcoming;
    let by_doctor = b.cancel_reason.as_deref() == Some("doctor");
    view! {
        {(returned && b.state == BookingState::Confirmed).then(|| view! {
            <p class="alert alert-notice" role="status" data-testid="paid">{t_string!(i18n, notice.booking_confirmed)}</p>
        })}
        <article class="card booking" data-testid="booking">
            <div class="proof-head">
                <strong>{b.when.clone()}</strong>
                <span class=state_class(b.state) data-testid="booking-state">{state_text(b.state)}</span>
            </div>
            <dl class="profile">
                <dt>{t_string!(i18n, booking.doctor)}</dt>
                <dd><a href=format!("/doctors/{}", b.doctor_number)>{b.doctor_name.clone()}</a>{format!(" · {}", b.department.name(english))}</dd>
                <dt>{t_string!(i18n, booking.consult_type)}</dt>
                <dd>{b.consult_type.name(english)}</dd>
                <dt>{t_string!(i18n, booking.person)}</dt>
                <dd>{b.person_name.clone()}</dd>
                <dt>{t_string!(i18n, booking.diagnosis)}</dt>
                <dd>{b.diagnosis.clone()}</dd>
                {fee.clone().map(|f| view! { <dt>{t_string!(i18n, booking.fee)}</dt><dd>{f}</dd> })}
                {b.order_number.clone().map(|n| view! { <dt>{t_string!(i18n, booking.order)}</dt><dd><a href=format!("/orders/{n}") data-testid="order-number">{n.clone()}</a></dd> })}
            </dl>
            {by_doctor.then(|| view! { <p class="alert alert-error">{t_string!(i18n, booking.cancelled_by_doctor)}</p> })}
            {b.refund_due.then(|| view! { <p class="hint">{t_string!(i18n, booking.refund_due)}</p> })}
        </article>
        {waiting.then(|| view! {
            <leptos_meta::Meta http_equiv="refresh" content="3" />
            <div class="card paying" role="status" data-testid="paying">
                <p class="countdown-left">{t_string!(i18n, booking.paying)}</p>
                <p class="hint">{t_string!(i18n, booking.paying_hint)}</p>
            </div>
        })}
        {(b.state == BookingState::Held).then(|| {
            let methods = b.methods.iter().map(|m| {
                let id = format!("pm-{}", m.method.as_str());
                let off = m.unavailable.is_some();
                view! {
                    <label class=if off { "method method-off" } else { "method" } for=id>
                        <input type="radio" name="payment_method" id=id.clone() value=m.method.as_str()
                            disabled=off checked=m.default />
                        <span>
                            {crate::localized::payment_method_text(locale, m.method)}
                            {m.unavailable.map(|why| view! {
                                <small class="hint" data-testid="method-unavailable">{crate::localized::unavailable_text(locale, why)}</small>
                            })}
                            {(m.scan_elsewhere && m.unavailable.is_none()).then(|| view! {
                                <small class="hint" data-testid="method-scan-elsewhere">{td_string!(locale, pay.scan_elsewhere)}</small>
                            })}
                        </span>
                    </label>
                }
            }).collect_view();
            view! {
                <div class="card">
                    <HoldCountdown seconds_left=b.seconds_left ends_clock=b.hold_ends_clock.clone() english />
                    {(b.paying && !waiting).then(|| view! { <p class="hint">{t_string!(i18n, booking.paying_started)}</p> })}
                    <form method="post" action=format!("/forms/bookings/{number}/payment")>
                        <CsrfField token=csrf.clone() />
                        {(b.fee_fen.unwrap_or(0) > 0).then(|| view! {
                            <fieldset class="methods">
                                <legend>{t_string!(i18n, booking.method)}</legend>
                                {methods}
                            </fieldset>
                        })}
                        <button type="submit" class="button button-block" data-testid="pay">{pay_label}</button>
                    </form>
                </div>
            }
        })}
        {active.then(|| view! {
            <form method="post" action=format!("/forms/bookings/{}/cancel", b.booking_number)>
                <CsrfField token=csrf />
                <button type="submit" class="button button-secondary button-block">{t_string!(i18n, booking.cancel)}</button>
            </form>
        })}
    }
}

/// The hold's time left, counting down in the browser; without JavaScript the page
/// states the clock time it ends at.
#[island]
fn HoldCountdown(seconds_left: i64, ends_clock: String, english: bool) -> impl IntoView {
    let locale = if english { Locale::en } else { Locale::zh_CN };
    let (left, set_left) = signal(seconds_left);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let handle = leptos::prelude::set_interval_with_handle(
                move || set_left.update(|s| *s = (*s - 1).max(0)),
                std::time::Duration::from_secs(1),
            );
            on_cleanup(move || {
                if let Ok(h) = handle {
                    h.clear();
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = set_left;
    });
    let pay_by = fill(
        td_string!(locale, booking.pay_by),
        &[("clock", &ends_clock)],
    );
    view! {
        <div class="countdown" role="timer" aria-live="off" data-testid="countdown">
            {move || {
                let s = left.get();
                if s > 0 {
                    let text = format!("{:02}:{:02}", s / 60, s % 60);
                    view! { <p class="countdown-left">{fill(td_string!(locale, booking.countdown), &[("left", &text)])}</p> }.into_any()
                } else {
                    view! { <p class="alert alert-error">{td_string!(locale, booking.hold_over)}</p> }.into_any()
                }
            }}
            <p class="hint">{pay_by}</p>
        </div>
    }
}

/// The 问诊 tab: upcoming bookings, then past ones.
#[component]
pub fn BookingListSection() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| load(BookingsQuery));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = data.await.unwrap_or_default();
                booking_lists(list).into_any()
            })}
        </Suspense>
        <p><a class="button button-secondary button-block" href="/doctors?mine=1">{t_string!(i18n, booking.choose_doctor)}</a></p>
    }
}

fn booking_lists(list: BookingList) -> impl IntoView {
    let i18n = use_i18n();
    if list.upcoming.is_empty() && list.past.is_empty() {
        return view! { <div class="card empty"><p>{t_string!(i18n, booking.none)}</p></div> }
            .into_any();
    }
    let row = |b: BookingView| {
        view! {
            <li>
                <a class="card booking-row" href=format!("/bookings/{}", b.booking_number) data-testid="booking-row">
                    <span><strong>{b.when.clone()}</strong>{format!(" · {} · {}", b.doctor_name, b.person_name)}</span>
                    <span class=state_class(b.state)>{state_text(b.state)}</span>
                </a>
            </li>
        }
    };
    view! {
        {(!list.upcoming.is_empty()).then(|| view! {
            <h2>{t_string!(i18n, booking.upcoming)}</h2>
            <ul class="booking-list">{list.upcoming.into_iter().map(row).collect_view()}</ul>
        })}
        {(!list.past.is_empty()).then(|| view! {
            <h2>{t_string!(i18n, booking.past)}</h2>
            <ul class="booking-list">{list.past.into_iter().map(row).collect_view()}</ul>
        })}
    }
    .into_any()
}

/// The consults tab: start a consult, and the bookings made.
#[component]
pub fn ConsultsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h1>{t_string!(i18n, consults.title)}</h1>
        <crate::components::FormAlerts state=crate::components::FormState::from_query() />
        <p><a class="button button-block" href="/consult/start">{t_string!(i18n, screen.start)}</a></p>
        <crate::consult::ConsultListSection />
        <BookingListSection />
    }
}
