use crate::domain::{ErrorCode, Field};
use crate::i18n::*;
use crate::localized::{error_message, locked_message, notice_message};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// What a redirect after a form post says: `?error=<code>&field=<name>&notice=<key>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FormState {
    pub error: Option<ErrorCode>,
    pub field: Option<String>,
    pub notice: Option<String>,
    pub retry_minutes: Option<i64>,
}

impl FormState {
    pub fn from_query() -> Self {
        let query = use_query_map();
        query.with_untracked(|q| FormState {
            error: q.get("error").and_then(|c| ErrorCode::parse(&c)),
            field: q.get("field"),
            notice: q.get("notice"),
            retry_minutes: q.get("retry").and_then(|m| m.parse().ok()),
        })
    }

    /// The localized message for `field`, if the error is about it.
    pub fn message_for(&self, field: Field) -> Option<String> {
        let code = self.error?;
        (self.field.as_deref() == Some(field.as_str())).then(|| self.message(code))
    }

    fn message(&self, code: ErrorCode) -> String {
        let locale = use_i18n().get_locale_untracked();
        match (code, self.retry_minutes) {
            (ErrorCode::AccountLocked, Some(m)) => locked_message(locale, m),
            _ => error_message(locale, code),
        }
    }
}

/// The banner at the top of a form: an error summary (focusable, announced) or a notice.
#[component]
pub fn FormAlerts(state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let error = state.error.map(|code| state.message(code));
    let notice = state
        .notice
        .as_deref()
        .and_then(|k| notice_message(i18n.get_locale_untracked(), k));
    view! {
        {error.map(|message| view! {
            <div class="alert alert-error" role="alert" tabindex="-1" id="form-error">
                <strong>{t_string!(i18n, errors.title)}</strong>
                <p>{message}</p>
            </div>
        })}
        {notice.map(|message| view! { <div class="alert alert-notice" role="status">{message}</div> })}
    }
}

#[component]
pub fn CsrfField(token: String) -> impl IntoView {
    view! { <input type="hidden" name="csrf_token" value=token /> }
}

/// A labelled input with its hint and, after a failed post, its error.
#[component]
pub fn InputField(
    field: Field,
    label: String,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] hint: Option<String>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional)] value: Option<String>,
    #[prop(default = true)] required: bool,
    state: FormState,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let name = field.as_str();
    let id = format!("f-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let error = state.message_for(field);
    let invalid = error.is_some();
    let described = [
        hint.as_ref().map(|_| hint_id.clone()),
        error.as_ref().map(|_| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    view! {
        <div class="field" class:field-invalid=invalid>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=input_type
                autocomplete=autocomplete
                inputmode=inputmode
                maxlength=maxlength
                value=value
                required=required
                aria-invalid=invalid.then_some("true")
                aria-describedby=(!described.is_empty()).then_some(described)
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            {error.map(|e| view! { <p class="field-error" id=error_id>{e}</p> })}
            {children.map(|c| c())}
        </div>
    }
}
