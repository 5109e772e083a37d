//! Starting a follow-up consult (R-ELIG-1, R-ELIG-3): for the person the patient acts
//! for, choose an approved diagnosis; the server says yes (then the emergency screen)
//! or why not, in plain words. A GET form: it changes nothing and works without JS.
use crate::eligibility::ConsultStartQuery;
use crate::i18n::*;
use crate::localized::fill;
use crate::page_data::load;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ConsultStartPage() -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    // `choice` is `<ICD-10>:<department>`: one radio carries both.
    let asked = use_query_map().with_untracked(|q| {
        q.get("choice")
            .and_then(|c| c.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())))
    });
    let next = asked
        .as_ref()
        .map(|(icd10, department)| format!("/consult/screen?choice={icd10}:{department}"));
    let data = Resource::new(
        move || asked.clone(),
        |asked| load(ConsultStartQuery(asked)),
    );
    view! {
        <h1>{t_string!(i18n, start.title)}</h1>
        <crate::components::FormAlerts state=crate::components::FormState::from_query() />
        <Suspense fallback=|| ()>
            {move || { let next = next.clone(); Suspend::new(async move {
                let Some(page) = data.await else {
                    return ().into_any();
                };
                let who = fill(t_string!(i18n, start.for_whom), &[("name", &page.person_name)]);
                view! {
                    <p class="lead">{who}" "<a href="/family">{t_string!(i18n, start.switch)}</a></p>
                    {page.refusal.map(|r| view! {
                        <div class="card card-warning" role="alert" data-testid="refusal">
                            <h2>{t_string!(i18n, start.refused)}</h2>
                            <p>{r}</p>
                            <p class="hint">{t_string!(i18n, start.proof_hint)}</p>
                            <a class="button button-secondary" href="/proofs/new">{t_string!(i18n, proofs.add)}</a>
                        </div>
                    })}
                    {page.eligible_proof.map(|_| view! {
                        <div class="card" role="status" data-testid="eligible">
                            <p>{t_string!(i18n, start.eligible)}</p>
                            <a class="button button-block" href=next.unwrap_or_default()>{t_string!(i18n, start.next)}</a>
                        </div>
                    })}
                    {(!page.diagnoses.is_empty()).then(|| view! {
                        <form method="get" action="/consult/start" class="card form">
                            <fieldset class="consents">
                                <legend>{t_string!(i18n, start.choose)}</legend>
                                {page.diagnoses.into_iter().enumerate().map(|(i, d)| {
                                    let id = format!("dx-{i}");
                                    let label = format!("{} ({}) · {}", d.name, d.icd10, d.department.name(english));
                                    view! {
                                        <div class="check">
                                            <input type="radio" id=id.clone() name="choice" value=format!("{}:{}", d.icd10, d.department.as_str()) required=true />
                                            <label for=id>{label}</label>
                                        </div>
                                    }
                                }).collect_view()}
                            </fieldset>
                            <button type="submit" class="button button-block">{t_string!(i18n, start.check)}</button>
                        </form>
                    })}
                }.into_any()
            })}}
        </Suspense>
    }
}
