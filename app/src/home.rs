use crate::components::with_viewer;
use crate::i18n::*;
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="hero">
            <h1>{t_string!(i18n, home.title)}</h1>
            <p class="lead">{t_string!(i18n, home.lead)}</p>
            {with_viewer(move |v| {
                if v.signed_in.is_some() {
                    view! {
                        <div class="actions">
                            <a class="button" href="/me">{t_string!(i18n, home.cta_me)}</a>
                            <a class="button button-secondary" href="/doctors">{t_string!(i18n, home.find_doctor)}</a>
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <div class="actions">
                            <a class="button" href="/register">{t_string!(i18n, home.cta_register)}</a>
                            <a class="button button-secondary" href="/login">{t_string!(i18n, home.cta_login)}</a>
                            <a class="button button-secondary" href="/doctors">{t_string!(i18n, home.find_doctor)}</a>
                        </div>
                    }.into_any()
                }
            })}
        </section>
        <section class="card card-warning" aria-labelledby="emergency-title">
            <h2 id="emergency-title">{t_string!(i18n, home.emergency_title)}</h2>
            <p>{t_string!(i18n, home.emergency_body)}</p>
        </section>
        <section class="card" aria-labelledby="follow-up-title">
            <h2 id="follow-up-title">{t_string!(i18n, home.follow_up_title)}</h2>
            <p>{t_string!(i18n, home.follow_up_body)}</p>
        </section>
        <section class="card" aria-labelledby="steps-title">
            <h2 id="steps-title">{t_string!(i18n, home.steps_title)}</h2>
            <ol class="steps">
                <li>{t_string!(i18n, home.step1)}</li>
                <li>{t_string!(i18n, home.step2)}</li>
                <li>{t_string!(i18n, home.step3)}</li>
                <li>{t_string!(i18n, home.step4)}</li>
            </ol>
        </section>
    }
}
