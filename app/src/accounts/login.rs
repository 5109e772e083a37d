use crate::components::{CsrfField, FormAlerts, FormState, InputField, with_viewer};
use crate::domain::Field;
use crate::i18n::*;
use leptos::prelude::*;

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, login.title)}</h1>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/login" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <InputField field=Field::Phone label=t_string!(i18n, login.phone_label).to_string()
                        input_type="tel" autocomplete="username" inputmode="numeric" maxlength=20 state=s.clone() />
                    <InputField field=Field::Password label=t_string!(i18n, login.password_label).to_string()
                        input_type="password" autocomplete="current-password" maxlength=128 state=s.clone() />
                    <button type="submit" class="button button-block">{t_string!(i18n, login.submit)}</button>
                    <p class="form-footer">
                        <a href="/login/sms">{t_string!(i18n, login.by_sms)}</a>
                        <a href="/password/reset">{t_string!(i18n, login.forgot)}</a>
                    </p>
                    <p class="form-footer"><a href="/register">{t_string!(i18n, login.no_account)}</a></p>
                </form>
            }
        })}
    }
}

#[component]
pub fn SmsLoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, login.sms_title)}</h1>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/login-sms" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <input type="hidden" name="purpose" value="login" />
                    <input type="hidden" name="back" value="/login/sms" />
                    <InputField field=Field::Phone label=t_string!(i18n, login.phone_label).to_string()
                        input_type="tel" autocomplete="tel-national" inputmode="numeric" maxlength=20
                        value=v.code_phone.clone().unwrap_or_default() state=s.clone()>
                        <button type="submit" class="button button-secondary button-inline"
                            formaction="/forms/sms-code" formnovalidate=true>
                            {t_string!(i18n, login.send_code)}
                        </button>
                    </InputField>
                    <InputField field=Field::Code label=t_string!(i18n, login.code_label).to_string()
                        autocomplete="one-time-code" inputmode="numeric" maxlength=10 state=s.clone() />
                    <button type="submit" class="button button-block">{t_string!(i18n, login.submit)}</button>
                    <p class="form-footer"><a href="/login">{t_string!(i18n, login.by_password)}</a></p>
                </form>
            }
        })}
    }
}
