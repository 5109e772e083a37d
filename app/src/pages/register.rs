use crate::components::{CsrfField, FormAlerts, FormState, InputField, with_viewer};
use crate::domain::Field;
use crate::domain::consent::ConsentDocument;
use crate::domain::id_number::{IdNumber, Sex};
use crate::i18n::*;
use crate::messages::{error_message, fill};
use leptos::prelude::*;

/// R-REG-1/2/3: phone and SMS code, password, real name and ID, three explicit consents.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t!(i18n, register.title)}</h1>
        <p class="lead">{t!(i18n, register.lead)}</p>
        {with_viewer(move |v| {
            let state = state.clone();
            let s = state.clone();
            view! {
                <form method="post" action="/forms/register" class="card form">
                    <FormAlerts state=state.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <input type="hidden" name="purpose" value="register" />
                    <input type="hidden" name="back" value="/register" />
                    <InputField field=Field::Phone label=t_string!(i18n, register.phone_label).to_string()
                        input_type="tel" autocomplete="tel-national" inputmode="numeric" maxlength=20
                        value=v.code_phone.clone().unwrap_or_default() state=s.clone()>
                        <button type="submit" class="button button-secondary button-inline"
                            formaction="/forms/sms-code" formnovalidate=true>
                            {t!(i18n, register.send_code)}
                        </button>
                    </InputField>
                    <InputField field=Field::Code label=t_string!(i18n, register.code_label).to_string()
                        hint=t_string!(i18n, register.code_hint).to_string()
                        autocomplete="one-time-code" inputmode="numeric" maxlength=6 state=s.clone() />
                    <InputField field=Field::Password label=t_string!(i18n, register.password_label).to_string()
                        hint=t_string!(i18n, register.password_hint).to_string()
                        input_type="password" autocomplete="new-password" maxlength=128 state=s.clone() />
                    <p class="purpose">{t!(i18n, register.purpose)}</p>
                    <InputField field=Field::RealName label=t_string!(i18n, register.real_name_label).to_string()
                        hint=t_string!(i18n, register.real_name_hint).to_string()
                        autocomplete="name" maxlength=30 state=s.clone() />
                    <IdNumberField today=v.today.clone() state=s.clone() />
                    <fieldset class="consents">
                        <legend>{t!(i18n, register.consents_title)}</legend>
                        <ConsentCheckbox document=ConsentDocument::ServiceAgreement version=v.current_version(ConsentDocument::ServiceAgreement)
                            label=t_string!(i18n, register.agree_service).to_string() />
                        <ConsentCheckbox document=ConsentDocument::InformedConsent version=v.current_version(ConsentDocument::InformedConsent)
                            label=t_string!(i18n, register.agree_informed).to_string() />
                        <ConsentCheckbox document=ConsentDocument::SensitiveInfo version=v.current_version(ConsentDocument::SensitiveInfo)
                            label=t_string!(i18n, register.agree_sensitive).to_string() />
                        {s.message_for(Field::Consent).map(|e| view! { <p class="field-error">{e}</p> })}
                    </fieldset>
                    <button type="submit" class="button button-block">{t!(i18n, register.submit)}</button>
                    <p class="form-footer"><a href="/login">{t!(i18n, register.have_account)}</a></p>
                </form>
            }
        })}
    }
}

/// A tick box whose value is the version of the text the patient saw.
#[component]
pub fn ConsentCheckbox(document: ConsentDocument, version: String, label: String) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("consent-{}", document.as_str());
    view! {
        <div class="check">
            <input type="checkbox" id=id.clone() name=format!("consent_{}", document.as_str()) value=version required=true />
            <label for=id>{label}</label>
            <a class="read-link" href=format!("/consent/{}", document.as_str()) target="_blank">{t!(i18n, register.read)}</a>
        </div>
    }
}

/// The ID number, checked as it is typed (the server checks again); the derived
/// birth date and sex are shown back for the patient to confirm.
#[component]
fn IdNumberField(today: String, state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let today = time::Date::parse(
        &today,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok();
    let (feedback, set_feedback) = signal(None::<Result<(String, Sex), crate::domain::ErrorCode>>);
    let on_input = move |ev| {
        let value: String = event_target_value(&ev);
        let Some(today) = today else { return };
        let trimmed = value.trim();
        set_feedback.set(if trimmed.len() < 18 {
            None
        } else {
            Some(
                IdNumber::parse(trimmed, today)
                    .map(|id| (id.birth_date().to_string(), id.sex()))
                    .map_err(|e| e.code),
            )
        });
    };
    let live = move || {
        feedback.get().map(|result| match result {
            Ok((birth, sex)) => {
                let sex = match sex {
                    Sex::Male => t_string!(i18n, sex.male),
                    Sex::Female => t_string!(i18n, sex.female),
                };
                view! { <p class="derived" role="status">{fill(t_string!(i18n, register.derived), &[("birth", &birth), ("sex", sex)])}</p> }.into_any()
            }
            Err(code) => view! { <p class="field-error" role="status">{error_message(i18n.get_locale(), code)}</p> }.into_any(),
        })
    };
    view! {
        // `input` events bubble from the field to this wrapper.
        <div on:input=on_input>
            <InputField field=Field::IdNumber label=t_string!(i18n, register.id_number_label).to_string()
                hint=t_string!(i18n, register.id_number_hint).to_string()
                autocomplete="off" maxlength=18 state=state>
                <div class="live" aria-live="polite">{live}</div>
            </InputField>
        </div>
    }
}
