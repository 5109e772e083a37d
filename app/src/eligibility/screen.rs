//! The emergency screen before a consult and the go-to-hospital page (R-ELIG-4). Plain
//! forms and links: both work without JavaScript, on the worst connection.
use crate::components::{CsrfField, FormAlerts, FormState, with_viewer};
use crate::domain::Field;
use crate::domain::emergency::{ALL_RED_FLAGS, RedFlag};
use crate::i18n::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

pub fn question(flag: RedFlag) -> &'static str {
    let i18n = use_i18n();
    match flag {
        RedFlag::ChestPain => t_string!(i18n, screen.q_chest_pain),
        RedFlag::BreathingDifficulty => t_string!(i18n, screen.q_breathing_difficulty),
        RedFlag::HeavyBleeding => t_string!(i18n, screen.q_heavy_bleeding),
        RedFlag::LostConsciousness => t_string!(i18n, screen.q_lost_consciousness),
        RedFlag::StrokeSigns => t_string!(i18n, screen.q_stroke_signs),
        RedFlag::Seizure => t_string!(i18n, screen.q_seizure),
        RedFlag::SevereAllergy => t_string!(i18n, screen.q_severe_allergy),
        RedFlag::Poisoning => t_string!(i18n, screen.q_poisoning),
        RedFlag::InfantHighFever => t_string!(i18n, screen.q_infant_high_fever),
        RedFlag::SelfHarm => t_string!(i18n, screen.q_self_harm),
    }
}

#[component]
pub fn ScreenPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    // The diagnosis chosen on the start page, passed on to the consult's notice.
    let choice = use_query_map()
        .with_untracked(|q| q.get("choice"))
        .unwrap_or_default();
    view! {
        <h1>{t_string!(i18n, screen.title)}</h1>
        <p class="lead">{t_string!(i18n, screen.lead)}</p>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/consult/screen" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <input type="hidden" name="choice" value=choice.clone() />
                    {ALL_RED_FLAGS.iter().map(|flag| {
                        let name = flag.as_str();
                        let (yes, no) = (format!("q-{name}-yes"), format!("q-{name}-no"));
                        view! {
                            <fieldset class="question">
                                <legend>{question(*flag)}</legend>
                                <div class="yes-no">
                                    <input type="radio" id=yes.clone() name=name value="yes" required=true />
                                    <label for=yes>{t_string!(i18n, screen.yes)}</label>
                                    <input type="radio" id=no.clone() name=name value="no" required=true />
                                    <label for=no>{t_string!(i18n, screen.no)}</label>
                                </div>
                            </fieldset>
                        }
                    }).collect_view()}
                    // R-ELIG-5: not a red flag, but the hospital's rule may refuse it.
                    <fieldset class="question">
                        <legend>{t_string!(i18n, screen.q_critical)}</legend>
                        <div class="yes-no">
                            <input type="radio" id="q-critical-yes" name="critical" value="yes" required=true />
                            <label for="q-critical-yes">{t_string!(i18n, screen.yes)}</label>
                            <input type="radio" id="q-critical-no" name="critical" value="no" required=true />
                            <label for="q-critical-no">{t_string!(i18n, screen.no)}</label>
                        </div>
                    </fieldset>
                    {s.message_for(Field::Screen).map(|e| view! { <p class="field-error">{e}</p> })}
                    <button type="submit" class="button button-block">{t_string!(i18n, screen.submit)}</button>
                </form>
            }
        })}
    }
}

/// Stop: call 120 or go to a hospital now. Open to anyone, so a link to it always works.
#[component]
pub fn EmergencyPage() -> impl IntoView {
    let i18n = use_i18n();
    let self_harm = use_query_map().with_untracked(|q| {
        q.get("flags")
            .is_some_and(|f| f.split(',').any(|c| c == RedFlag::SelfHarm.as_str()))
    });
    view! {
        <section class="emergency" aria-labelledby="emergency-title">
            <h1 id="emergency-title">{t_string!(i18n, screen.emergency_title)}</h1>
            <p class="lead">{t_string!(i18n, screen.emergency_lead)}</p>
            <a class="button button-danger button-block button-call" href="tel:120">{t_string!(i18n, screen.call_120)}</a>
            <p>{t_string!(i18n, screen.go_now)}</p>
            <p class="hint">{t_string!(i18n, screen.nearest)}</p>
            {self_harm.then(|| view! {
                <div class="card card-warning" data-testid="self-harm">
                    <p>{t_string!(i18n, screen.self_harm)}</p>
                    <a class="button button-secondary" href="tel:12356">"12356"</a>
                </div>
            })}
            <p><a href="/">{t_string!(i18n, screen.back)}</a></p>
        </section>
    }
}
