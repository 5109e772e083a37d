use crate::components::{CsrfField, FormAlerts, FormState, InputField, with_viewer};
use crate::domain::Field;
use crate::i18n::*;
use leptos::prelude::*;

/// R-REG-5: recover the password with an SMS code.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, reset.title)}</h1>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/password-reset" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <input type="hidden" name="purpose" value="reset_password" />
                    <input type="hidden" name="back" value="/password/reset" />
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
                    <InputField field=Field::NewPassword label=t_string!(i18n, reset.new_password_label).to_string()
                        hint=t_string!(i18n, register.password_hint).to_string()
                        input_type="password" autocomplete="new-password" maxlength=128 state=s.clone() />
                    <button type="submit" class="button button-block">{t_string!(i18n, reset.submit)}</button>
                </form>
            }
        })}
    }
}

/// R-REG-5: change the password while logged in.
#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, password.title)}</h1>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/password" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <InputField field=Field::Password label=t_string!(i18n, password.current).to_string()
                        input_type="password" autocomplete="current-password" maxlength=128 state=s.clone() />
                    <InputField field=Field::NewPassword label=t_string!(i18n, password.new).to_string()
                        hint=t_string!(i18n, register.password_hint).to_string()
                        input_type="password" autocomplete="new-password" maxlength=128 state=s.clone() />
                    <button type="submit" class="button button-block">{t_string!(i18n, password.submit)}</button>
                </form>
            }
        })}
    }
}
