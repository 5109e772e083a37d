//! The sandbox's checkout (dev only, R-PAY-1): it looks like a provider's payment page
//! and says plainly that no money moves; the tester chooses how the payment ends. Plain
//! forms, so it works without JavaScript as a real provider's redirect page must.
use crate::components::{CsrfField, FormAlerts, FormState, with_viewer};
use crate::i18n::*;
use crate::localized::payment_method_text;
use crate::orders::SandboxCheckout;
use crate::orders::SandboxCheckoutQuery;
use crate::page_data::load;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn SandboxCheckoutPage() -> impl IntoView {
    let i18n = use_i18n();
    let order = use_params_map().with_untracked(|p| p.get("order").unwrap_or_default());
    let method = use_query_map().with_untracked(|q| q.get("method").unwrap_or_default());
    let data = Resource::new(
        move || (order.clone(), method.clone()),
        |(order, method)| load(SandboxCheckoutQuery(order, method)),
    );
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, pay.sandbox_title)}</h1>
        <FormAlerts state=state />
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            match data.await {
                                Some(c) => checkout(c, csrf).into_any(),
                                None => view! { <crate::components::NotFound /> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

fn checkout(c: SandboxCheckout, csrf: String) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let action = format!("/forms/pay/sandbox/{}", c.order_number);
    let button = move |choice: &'static str, label: &'static str, class: &'static str| {
        let action = action.clone();
        let csrf = csrf.clone();
        view! {
            <form method="post" action=action>
                <CsrfField token=csrf />
                <input type="hidden" name="choice" value=choice />
                <button type="submit" class=class data-testid=format!("sandbox-{choice}")>{label}</button>
            </form>
        }
    };
    view! {
        <p class="alert alert-notice" data-testid="sandbox-note">{t_string!(i18n, pay.sandbox_note)}</p>
        <article class="card checkout" data-testid="checkout">
            <p class="checkout-amount" data-testid="checkout-amount">{c.amount.clone()}</p>
            <dl class="profile">
                <dt>{t_string!(i18n, pay.item)}</dt>
                <dd>{c.description.clone()}</dd>
                <dt>{t_string!(i18n, pay.order)}</dt>
                <dd>{c.order_number.clone()}</dd>
                <dt>{t_string!(i18n, pay.method)}</dt>
                <dd>{payment_method_text(locale, c.method)}</dd>
            </dl>
        </article>
        <div class="stack">
            {button("succeed", t_string!(i18n, pay.succeed), "button button-block")}
            {button("fail", t_string!(i18n, pay.fail), "button button-secondary button-block")}
            {button("abandon", t_string!(i18n, pay.abandon), "button button-secondary button-block")}
        </div>
    }
}
