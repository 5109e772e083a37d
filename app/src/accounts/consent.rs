use crate::accounts::register::ConsentCheckbox;
use crate::components::{CsrfField, FormAlerts, FormState, with_viewer};
use crate::domain::Field;
use crate::domain::consent::ConsentDocument;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

pub fn document_title(document: ConsentDocument) -> &'static str {
    let i18n = use_i18n();
    match document {
        ConsentDocument::ServiceAgreement => t_string!(i18n, docs.service_agreement),
        ConsentDocument::InformedConsent => t_string!(i18n, docs.informed_consent),
        ConsentDocument::SensitiveInfo => t_string!(i18n, docs.sensitive_info),
    }
}

/// R-REG-2: when a text changed (or consent was withdrawn) the patient agrees again
/// before anything else; the server sends every other page here until then.
#[component]
pub fn ConsentPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, consent.title)}</h1>
        {with_viewer(move |v| {
            let s = state.clone();
            let docs = if v.consents_outstanding.is_empty() { v.current_consents.clone() } else { v.consents_outstanding.clone() };
            let withdrawn = v.signed_in.as_ref().is_some_and(|s| s.consents_withdrawn);
            view! {
                <form method="post" action="/forms/consents" class="card form">
                    <FormAlerts state=s.clone() />
                    <p>{if withdrawn { t_string!(i18n, consent.stopped) } else if v.consents_outstanding.is_empty() { t_string!(i18n, consent.lead) } else { t_string!(i18n, consent.updated) }}</p>
                    <CsrfField token=v.csrf_token.clone() />
                    <fieldset class="consents">
                        <legend>{t_string!(i18n, register.consents_title)}</legend>
                        {docs.into_iter().map(|d| {
                            let label = format!("{} 《{}》", t_string!(i18n, consent.agree), document_title(d.document));
                            view! { <ConsentCheckbox document=d.document version=d.version label /> }
                        }).collect_view()}
                        {s.message_for(Field::Consent).map(|e| view! { <p class="field-error">{e}</p> })}
                    </fieldset>
                    <button type="submit" class="button button-block">{t_string!(i18n, consent.submit)}</button>
                </form>
            }
        })}
    }
}

/// The full text of one document, readable before registering.
#[component]
pub fn ConsentDocumentPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let document =
        params.with_untracked(|p| p.get("document").and_then(|d| ConsentDocument::parse(&d)));
    let english = i18n.get_locale_untracked() == Locale::en;
    match document.map(|d| consent_text(d, english)) {
        Some(text) => {
            view! { <article class="card document">{render_plain_text(&text)}</article> }.into_any()
        }
        None => view! { <crate::components::NotFound /> }.into_any(),
    }
}

/// One document's text in the page's language. The texts are compiled into the server
/// only: pages render there (islands mode), so the browser's code never holds them.
fn consent_text(document: ConsentDocument, english: bool) -> String {
    #[cfg(feature = "ssr")]
    {
        document.text(english).to_owned()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (document, english);
        String::new()
    }
}

/// Our texts use only `# title` and paragraphs, one per line (a numbered point is a
/// line of its own); rendered as text, never as HTML.
pub(crate) fn render_plain_text(text: &str) -> impl IntoView + use<> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| match line.strip_prefix("# ") {
            Some(title) => view! { <h1>{title.to_owned()}</h1> }.into_any(),
            None => view! { <p>{line.to_owned()}</p> }.into_any(),
        })
        .collect_view()
}
