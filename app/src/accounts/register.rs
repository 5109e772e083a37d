use crate::components::{CsrfField, FormAlerts, FormState, InputField, with_viewer};
use crate::domain::age::{parse_ymd, registrant_age_ok};
use crate::domain::consent::ConsentDocument;
use crate::domain::id_number::{IdNumber, Sex};
use crate::domain::normalize::normalize_identifier;
use crate::domain::{ErrorCode, Field};
use crate::i18n::*;
use crate::localized::{error_message, fill};
use leptos::prelude::*;
use time::Date;

/// R-REG-1/2/3/7: phone and SMS code, password, real name and ID, three explicit consents.
/// The purpose of the data is shown before the first input (R-REG-3).
#[component]
pub fn RegisterPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, register.title)}</h1>
        <p class="lead">{t_string!(i18n, register.lead)}</p>
        <PurposeNotice />
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
                            {t_string!(i18n, register.send_code)}
                        </button>
                    </InputField>
                    <InputField field=Field::Code label=t_string!(i18n, register.code_label).to_string()
                        hint=t_string!(i18n, register.code_hint).to_string()
                        autocomplete="one-time-code" inputmode="numeric" maxlength=10 state=s.clone() />
                    <InputField field=Field::Password label=t_string!(i18n, register.password_label).to_string()
                        hint=t_string!(i18n, register.password_hint).to_string()
                        input_type="password" autocomplete="new-password" maxlength=128 state=s.clone() />
                    <InputField field=Field::RealName label=t_string!(i18n, register.real_name_label).to_string()
                        hint=t_string!(i18n, register.real_name_hint).to_string()
                        autocomplete="name" maxlength=30 state=s.clone() />
                    <IdNumberField today=v.today.clone() state=s.clone() />
                    <fieldset class="consents">
                        <legend>{t_string!(i18n, register.consents_title)}</legend>
                        <ConsentCheckbox document=ConsentDocument::ServiceAgreement version=v.current_version(ConsentDocument::ServiceAgreement)
                            label=t_string!(i18n, register.agree_service).to_string() />
                        <ConsentCheckbox document=ConsentDocument::InformedConsent version=v.current_version(ConsentDocument::InformedConsent)
                            label=t_string!(i18n, register.agree_informed).to_string() />
                        <ConsentCheckbox document=ConsentDocument::SensitiveInfo version=v.current_version(ConsentDocument::SensitiveInfo)
                            label=t_string!(i18n, register.agree_sensitive).to_string() />
                        {s.message_for(Field::Consent).map(|e| view! { <p class="field-error">{e}</p> })}
                    </fieldset>
                    <button type="submit" class="button button-block">{t_string!(i18n, register.submit)}</button>
                    <p class="form-footer"><a href="/login">{t_string!(i18n, register.have_account)}</a></p>
                </form>
            }
        })}
    }
}

/// R-REG-3: why we ask for the phone, the real name and the ID number, and how they
/// are protected, shown before anything is collected.
#[component]
fn PurposeNotice() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="purpose" aria-labelledby="purpose-title">
            <h2 id="purpose-title">{t_string!(i18n, register.purpose_title)}</h2>
            <p>{t_string!(i18n, register.purpose_phone)}</p>
            <p>{t_string!(i18n, register.purpose_identity)}</p>
            <p>{t_string!(i18n, register.purpose_protect)}</p>
            <p>
                <a href=format!("/consent/{}", ConsentDocument::SensitiveInfo.as_str()) target="_blank">
                    {t_string!(i18n, register.purpose_link)}
                </a>
            </p>
        </section>
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
            <a class="read-link" href=format!("/consent/{}", document.as_str()) target="_blank">{t_string!(i18n, register.read)}</a>
        </div>
    }
}

/// What the live ID check shows for a complete number.
#[derive(Debug, Clone, PartialEq)]
struct IdFeedback {
    /// Birth date (`YYYY-MM-DD`) and sex derived from a valid number.
    derived: Option<(String, Sex)>,
    /// What is wrong: the number itself, or (R-REG-7) the registrant's age.
    error: Option<ErrorCode>,
}

/// The live check, with the same domain rules the server applies: nothing until 18
/// characters are typed (after normalisation, so `１１０…` and spaces count right);
/// then the parse error, or the derived birth date and sex plus the under-18 refusal.
fn id_feedback(input: &str, today: Date) -> Option<IdFeedback> {
    if normalize_identifier(input).chars().count() < 18 {
        return None;
    }
    Some(match IdNumber::parse(input, today) {
        Ok(id) => IdFeedback {
            derived: Some((id.birth_date().to_string(), id.sex())),
            error: registrant_age_ok(&id, today).err().map(|e| e.code),
        },
        Err(e) => IdFeedback {
            derived: None,
            error: Some(e.code),
        },
    })
}

/// The ID number, checked as it is typed (the server checks again); the derived
/// birth date and sex are shown back for the patient to confirm, and a minor is told
/// at once that a guardian must register (R-REG-7).
#[component]
fn IdNumberField(today: String, state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    view! {
        <IdLiveCheck today english>
            // Room for the spaces or hyphens people type between the groups.
            <InputField field=Field::IdNumber label=t_string!(i18n, register.id_number_label).to_string()
                hint=t_string!(i18n, register.id_number_hint).to_string()
                autocomplete="off" maxlength=24 state=state />
        </IdLiveCheck>
    }
}

/// The live part of [`IdNumberField`]: the one piece of the page that runs in the
/// browser. Its props come from the server, as it cannot read the page's context.
#[island]
fn IdLiveCheck(today: String, english: bool, children: Children) -> impl IntoView {
    let locale = if english { Locale::en } else { Locale::zh_CN };
    let today = parse_ymd(&today);
    let (feedback, set_feedback) = signal(None::<IdFeedback>);
    let on_input = move |ev| {
        let value: String = event_target_value(&ev);
        let Some(today) = today else { return };
        set_feedback.set(id_feedback(&value, today));
    };
    let live = move || {
        feedback.get().map(|f| {
            let derived = f.derived.map(|(birth, sex)| {
                let sex = match sex {
                    Sex::Male => td_string!(locale, sex.male),
                    Sex::Female => td_string!(locale, sex.female),
                };
                view! { <p class="derived" role="status">{fill(td_string!(locale, register.derived), &[("birth", &birth), ("sex", sex)])}</p> }
            });
            let error = f.error.map(|code| {
                view! { <p class="field-error" role="status">{error_message(locale, code)}</p> }
            });
            view! { {derived}{error} }
        })
    };
    view! {
        // `input` events bubble from the field to this wrapper.
        <div class="id-check" on:input=on_input>
            {children()}
            <div class="live" aria-live="polite">{live}</div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 22);

    // R-REG-1: nothing is judged until a whole number is typed.
    #[test]
    fn live_check_waits_for_eighteen_characters() {
        assert_eq!(id_feedback("", TODAY), None);
        assert_eq!(id_feedback("11010519491231002", TODAY), None);
        // Six full-width digits are 18 bytes but only 6 characters.
        assert_eq!(id_feedback("１１０１０５", TODAY), None);
        assert_eq!(id_feedback("110105 19491231 00", TODAY), None);
    }

    // R-REG-1: a valid adult number shows its birth date and sex and no error.
    #[test]
    fn live_check_shows_derived_birth_date_and_sex() {
        for input in [
            "11010519491231002X",
            "１１０１０５ １９４９１２３１ ００２ｘ",
        ] {
            assert_eq!(
                id_feedback(input, TODAY),
                Some(IdFeedback {
                    derived: Some(("1949-12-31".into(), Sex::Female)),
                    error: None
                }),
                "{input}"
            );
        }
    }

    // R-REG-1: an invalid number shows the same error the server would give.
    #[test]
    fn live_check_shows_the_parse_error() {
        assert_eq!(
            id_feedback("110105194912310021", TODAY),
            Some(IdFeedback {
                derived: None,
                error: Some(ErrorCode::IdNumberCheckDigit)
            })
        );
        assert_eq!(
            id_feedback("83000019491231002X", TODAY).and_then(|f| f.error),
            Some(ErrorCode::IdNumberRegion)
        );
    }

    // R-REG-7: under 18 (the 18th birthday itself included) the page says a guardian
    // must register, using the same domain rule as the server.
    #[test]
    fn live_check_refuses_a_minor() {
        let on_birthday = crate::domain::id_number::with_check_digit("11010520081122001");
        let f = id_feedback(&on_birthday, TODAY).expect("complete number");
        assert_eq!(f.derived, Some(("2008-11-22".into(), Sex::Male)));
        assert_eq!(f.error, Some(ErrorCode::MinorNeedsGuardian));
        let adult = crate::domain::id_number::with_check_digit("11010520081121001");
        assert_eq!(id_feedback(&adult, TODAY).and_then(|f| f.error), None);
    }
}
