use crate::accounts::consent::document_title;
use crate::accounts::{PatientProfile, get_profile};
use crate::components::{CsrfField, FormAlerts, FormState, with_viewer};
use crate::domain::id_number::Sex;
use crate::i18n::*;
use crate::localized::fill;
use crate::viewer::Viewer;
use leptos::prelude::*;

/// The patient's profile (masked ID, derived age and sex), consents, and account actions.
#[component]
pub fn MePage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    // Personal data comes from its own call, so it is in this page's hydration data only.
    let profile = Resource::new(|| (), |_| async { get_profile().await.ok().flatten() });
    view! {
        <h1>{t_string!(i18n, me.title)}</h1>
        {with_viewer(move |v| {
            let state = state.clone();
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let (v, state) = (v.clone(), state.clone());
                        Suspend::new(async move { profile_view(v, state, profile.await).into_any() })
                    }}
                </Suspense>
            }
        })}
    }
}

fn profile_view(v: Viewer, state: FormState, profile: Option<PatientProfile>) -> impl IntoView {
    let i18n = use_i18n();
    let Some(p) = profile else {
        return view! {
            <div class="card empty">
                <p>{t_string!(i18n, me.not_logged_in)}</p>
                <div class="actions">
                    <a class="button" href="/login">{t_string!(i18n, home.cta_login)}</a>
                    <a class="button button-secondary" href="/register">{t_string!(i18n, home.cta_register)}</a>
                </div>
            </div>
        }.into_any();
    };
    let sex = match p.sex {
        Sex::Male => t_string!(i18n, sex.male),
        Sex::Female => t_string!(i18n, sex.female),
    };
    let years = p.age;
    let just_registered = state.notice.as_deref() == Some("registered");
    view! {
        <FormAlerts state=state.clone() />
        <section class="card" aria-labelledby="profile-title">
            <h2 id="profile-title">{t_string!(i18n, me.profile)}</h2>
            {just_registered.then(|| view! { <p class="hint">{t_string!(i18n, me.check_details)}</p> })}
            <dl class="profile">
                <dt>{t_string!(i18n, me.name)}</dt><dd data-testid="name">{p.real_name.clone()}</dd>
                <dt>{t_string!(i18n, me.patient_number)}</dt><dd>{p.patient_number.clone()}</dd>
                <dt>{t_string!(i18n, me.phone)}</dt><dd data-testid="phone">{p.phone_masked.clone()}</dd>
                <dt>{t_string!(i18n, me.id_number)}</dt><dd data-testid="id-number">{p.id_number_masked.clone()}</dd>
                <dt>{t_string!(i18n, me.birth_date)}</dt><dd data-testid="birth-date">{p.birth_date.clone()}</dd>
                <dt>{t_string!(i18n, me.sex)}</dt><dd data-testid="sex">{sex}</dd>
                <dt>{t_string!(i18n, me.age)}</dt><dd>{fill(t_string!(i18n, me.age_value), &[("years", &years.to_string())])}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="family-title">
            <h2 id="family-title">{t_string!(i18n, family.title)}</h2>
            <p class="hint">{t_string!(i18n, family.lead)}</p>
            <div class="actions">
                <a class="button button-secondary" href="/family">{t_string!(i18n, family.manage)}</a>
                <a class="button button-secondary" href="/proofs">{t_string!(i18n, proofs.title)}</a>
                <a class="button button-secondary" href="/orders" data-testid="my-orders">{t_string!(i18n, me.orders)}</a>
            </div>
        </section>
        <section class="card" aria-labelledby="consents-title">
            <h2 id="consents-title">{t_string!(i18n, me.consents_title)}</h2>
            <ul class="consent-list">
                {p.consents.iter().map(|c| {
                    let at = c.accepted_at.clone();
                    view! {
                        <li>
                            <a href=format!("/consent/{}", c.document.as_str())>{document_title(c.document)}</a>
                            <span class="hint">{fill(t_string!(i18n, me.accepted_at), &[("at", &at)])}</span>
                            <span class="hint version">{t_string!(i18n, me.version)}" "{c.version.chars().take(8).collect::<String>()}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
        <section class="card" aria-labelledby="security-title">
            <h2 id="security-title">{t_string!(i18n, me.security)}</h2>
            <div class="actions">
                <a class="button button-secondary" href="/me/password">{t_string!(i18n, me.change_password)}</a>
                <form method="post" action="/forms/logout">
                    <CsrfField token=v.csrf_token.clone() />
                    <button type="submit" class="button button-secondary">{t_string!(i18n, me.logout)}</button>
                </form>
                <form method="post" action="/forms/logout-all">
                    <CsrfField token=v.csrf_token.clone() />
                    <button type="submit" class="button button-secondary">{t_string!(i18n, me.logout_all)}</button>
                </form>
            </div>
        </section>
        <section class="card card-danger" aria-labelledby="withdraw-title">
            <h2 id="withdraw-title">{t_string!(i18n, me.withdraw_title)}</h2>
            <p>{t_string!(i18n, me.withdraw_body)}</p>
            <form method="post" action="/forms/consents/withdraw">
                <CsrfField token=v.csrf_token.clone() />
                <div class="check">
                    <input type="checkbox" id="withdraw-confirm" name="confirm" value="yes" required=true />
                    <label for="withdraw-confirm">{t_string!(i18n, me.withdraw_confirm)}</label>
                </div>
                <button type="submit" class="button button-danger">{t_string!(i18n, me.withdraw_button)}</button>
            </form>
        </section>
    }.into_any()
}
