//! The last step before a consult is requested (R-REG-6): the risk notice for this
//! consult, confirmed. Before it, the emergency screen for the same person (R-ELIG-4);
//! the eligibility is asked again here with the screen's answers (R-ELIG-5). A plain
//! form: it works without JavaScript.
use crate::accounts::consent::render_plain_text;
use crate::components::{CsrfField, FormAlerts, FormState, with_viewer};
use crate::domain::Field;
use crate::eligibility::ConsultConsentQuery;
use crate::eligibility::ConsultConsentStep;
use crate::i18n::*;
use crate::localized::fill;
use crate::page_data::load;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ConsultConsentPage() -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    let choice = use_query_map().with_untracked(|q| q.get("choice"));
    let state = FormState::from_query();
    let data = Resource::new(
        move || choice.clone(),
        |choice| async move { load(ConsultConsentQuery(choice?)).await },
    );
    view! {
        <h1>{t_string!(i18n, consult_consent.title)}</h1>
        {with_viewer(move |v| {
            let (csrf, state) = (v.csrf_token, state.clone());
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let (csrf, s) = (csrf.clone(), state.clone());
                        Suspend::new(async move {
                            let Some(page) = data.await else {
                                return view! {
                                    <div class="card">
                                        <p>{t_string!(i18n, consult_consent.choose_first)}</p>
                                        <a class="button button-block" href="/consult/start">{t_string!(i18n, start.title)}</a>
                                    </div>
                                }.into_any();
                            };
                            let who = fill(t_string!(i18n, start.for_whom), &[("name", &page.person_name)]);
                            let screen = format!("/consult/screen?choice={}", page.choice);
                            let step = match page.step {
                                ConsultConsentStep::ScreenFirst => view! {
                                    <div class="card" role="status" data-testid="screen-first">
                                        <p>{t_string!(i18n, consult_consent.screen_first)}</p>
                                        <a class="button button-block" href=screen>{t_string!(i18n, screen.title)}</a>
                                    </div>
                                }.into_any(),
                                ConsultConsentStep::Refused(reason) => view! {
                                    <div class="card card-warning" role="alert" data-testid="refusal">
                                        <h2>{t_string!(i18n, start.refused)}</h2>
                                        <p>{reason}</p>
                                    </div>
                                }.into_any(),
                                ConsultConsentStep::Notice { text, version, guardian_and_specialist_present } => view! {
                                    <article class="card document" data-testid="consult-notice">{render_plain_text(&text)}</article>
                                    {guardian_and_specialist_present.then(|| view! {
                                        <p class="card card-warning" role="note">{t_string!(i18n, consult_consent.under_six)}</p>
                                    })}
                                    <form method="post" action="/forms/consult/consent" class="card form">
                                        <FormAlerts state=s.clone() />
                                        <CsrfField token=csrf />
                                        <input type="hidden" name="choice" value=page.choice />
                                        <input type="hidden" name="version" value=version />
                                        <div class="check">
                                            <input type="checkbox" id="f-accept" name="accept" value="yes" required=true />
                                            <label for="f-accept">{t_string!(i18n, consult_consent.accept)}</label>
                                        </div>
                                        {s.message_for(Field::Consent).map(|e| view! { <p class="field-error">{e}</p> })}
                                        <button type="submit" class="button button-block">{t_string!(i18n, consult_consent.submit)}</button>
                                    </form>
                                }.into_any(),
                            };
                            view! {
                                <p class="lead">{who}</p>
                                <div class="card consult-summary" data-testid="consult-summary">
                                    <p><strong>{page.diagnosis}</strong></p>
                                    <p class="hint">{page.department.name(english)}</p>
                                </div>
                                {step}
                            }.into_any()
                        })
                    }}
                </Suspense>
            }
        })}
    }
}
