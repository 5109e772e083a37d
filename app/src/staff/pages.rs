//! Staff pages (R-SEC-1, R-SEC-3): login, the second factor, enrolment, and the home
//! with the desks this role works at (each desk a page of its own: `desks.rs`).
//! Desktop-first, usable on a phone; plain forms that work without JavaScript.
use crate::components::{CsrfField, FormAlerts, FormState, InputField, with_viewer};
use crate::domain::Field;
use crate::domain::staff::Role;
use crate::i18n::*;
use crate::localized::fill;
use crate::page_data::load;
use crate::staff::{Desk, EnrolmentQuery, StaffHome, StaffHomeQuery};
use leptos::prelude::*;

pub fn role_name(role: Role) -> &'static str {
    let i18n = use_i18n();
    match role {
        Role::Operator => t_string!(i18n, staff.role_operator),
        Role::Doctor => t_string!(i18n, staff.role_doctor),
        Role::Pharmacist => t_string!(i18n, staff.role_pharmacist),
        Role::Auditor => t_string!(i18n, staff.role_auditor),
        Role::Admin => t_string!(i18n, staff.role_admin),
    }
}

#[component]
pub fn StaffLoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, staff.login_title)}</h1>
        <p class="lead">{t_string!(i18n, staff.login_lead)}</p>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/staff/login" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <InputField field=Field::Username label=t_string!(i18n, staff.username).to_string()
                        autocomplete="username" maxlength=32 state=s.clone() />
                    <InputField field=Field::Password label=t_string!(i18n, staff.password).to_string()
                        input_type="password" autocomplete="current-password" maxlength=128 state=s.clone() />
                    <button type="submit" class="button button-block">{t_string!(i18n, staff.login)}</button>
                    <p class="form-footer"><a href="/staff/activate">{t_string!(i18n, staff.first_time)}</a></p>
                </form>
            }
        })}
    }
}

/// A new staff member's first step (R-SEC-1): the one-time code from the SMS on their
/// own phone and a password only they know; then the authenticator.
#[component]
pub fn StaffActivatePage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, staff.activate_title)}</h1>
        <p class="lead">{t_string!(i18n, staff.activate_lead)}</p>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/staff/activate" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <InputField field=Field::Username label=t_string!(i18n, staff.username).to_string()
                        autocomplete="username" maxlength=32 state=s.clone() />
                    <InputField field=Field::Code label=t_string!(i18n, staff.activation_code).to_string()
                        autocomplete="one-time-code" maxlength=16 state=s.clone() />
                    <InputField field=Field::Password label=t_string!(i18n, staff.new_password).to_string()
                        input_type="password" autocomplete="new-password" maxlength=128 state=s.clone() />
                    <button type="submit" class="button button-block">{t_string!(i18n, staff.activate)}</button>
                </form>
            }
        })}
    }
}

#[component]
pub fn StaffSecondFactorPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, staff.second_title)}</h1>
        <p class="lead">{t_string!(i18n, staff.second_lead)}</p>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/staff/second-factor" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <InputField field=Field::Code label=t_string!(i18n, staff.code).to_string()
                        autocomplete="one-time-code" maxlength=12 state=s.clone() />
                    <button type="submit" class="button button-block">{t_string!(i18n, staff.verify)}</button>
                </form>
            }
        })}
    }
}

#[component]
pub fn StaffEnrolPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    let enrolment = Resource::new(|| (), |_| load(EnrolmentQuery));
    view! {
        <h1>{t_string!(i18n, staff.enrol_title)}</h1>
        <p class="lead">{t_string!(i18n, staff.enrol_lead)}</p>
        {with_viewer(move |v| {
            let (state, csrf) = (state.clone(), v.csrf_token);
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let (s, csrf) = (state.clone(), csrf.clone());
                        Suspend::new(async move {
                            let Some(e) = enrolment.await else {
                                // Already enrolled: the code is asked for instead.
                                return view! { <leptos_router::components::Redirect path="/staff/second-factor" /> }.into_any();
                            };
                            view! {
                                <form method="post" action="/forms/staff/enrol" class="card form">
                                    <FormAlerts state=s.clone() />
                                    // The SVG is made by the server from the otpauth URL; it holds no script.
                                    <div class="qr" inner_html=e.qr_svg></div>
                                    <p class="hint">{t_string!(i18n, staff.secret)}": "<code data-testid="totp-secret">{e.secret}</code></p>
                                    <CsrfField token=csrf />
                                    <InputField field=Field::Code label=t_string!(i18n, staff.code).to_string()
                                        autocomplete="one-time-code" inputmode="numeric" maxlength=12 state=s.clone() />
                                    <button type="submit" class="button button-block">{t_string!(i18n, staff.enrol)}</button>
                                </form>
                            }.into_any()
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

/// The home: who is logged in, the recovery codes once after enrolment, and the desks.
#[component]
pub fn StaffHomePage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    let data = Resource::new(|| (), |_| load(StaffHomeQuery));
    view! {
        <h1>{t_string!(i18n, staff.home_title)}</h1>
        <FormAlerts state=state />
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            match data.await {
                                Some(home) => staff_home(home, csrf).into_any(),
                                None => view! { <leptos_router::components::Redirect path="/staff/login" /> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

/// A desk's name, as its link and its page's title say it.
pub fn desk_title(desk: Desk) -> &'static str {
    let i18n = use_i18n();
    match desk {
        Desk::Proofs => t_string!(i18n, staff.queue_title),
        Desk::Doctor => t_string!(i18n, staff.desk_title),
        Desk::Schedule => t_string!(i18n, staff.scheduling_title),
        Desk::Orders => t_string!(i18n, staff.orders_title),
        Desk::Reconciliation => t_string!(i18n, staff.reconcile_title),
        Desk::Accounts => t_string!(i18n, staff.accounts_title),
        Desk::Consults => t_string!(i18n, desk.title),
    }
}

fn staff_home(home: StaffHome, csrf: String) -> impl IntoView {
    let i18n = use_i18n();
    let hello = fill(
        t_string!(i18n, staff.hello),
        &[("name", &home.me.display_name)],
    );
    let codes = home.recovery_codes;
    view! {
        <section class="card" aria-labelledby="me-title">
            <h2 id="me-title">{hello}</h2>
            <p>{t_string!(i18n, staff.role)}": "<strong data-testid="staff-role">{role_name(home.me.role)}</strong></p>
            <form method="post" action="/forms/staff/logout">
                <CsrfField token=csrf />
                <button type="submit" class="button button-secondary">{t_string!(i18n, staff.logout)}</button>
            </form>
        </section>
        {(!codes.is_empty()).then(|| view! {
            <section class="card card-warning" aria-labelledby="codes-title">
                <h2 id="codes-title">{t_string!(i18n, staff.recovery_title)}</h2>
                <p>{t_string!(i18n, staff.recovery_lead)}</p>
                <ul class="codes" data-testid="recovery-codes">
                    {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                </ul>
            </section>
        })}
        <nav class="card" aria-labelledby="desks-title" data-testid="desks">
            <h2 id="desks-title">{t_string!(i18n, staff.desks_title)}</h2>
            <ul class="desk-links">
                {home.desks.into_iter().map(|d| view! {
                    <li><a class="button button-secondary button-block" href=d.path()>{desk_title(d)}</a></li>
                }).collect_view()}
            </ul>
        </nav>
    }
}
