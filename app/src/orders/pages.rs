//! The patient's orders and receipts (R-PAY-1, R-PAY-2): what was paid, when, how, and
//! every refund with its reason and state. The receipt is a plain page that prints well.
use crate::components::with_viewer;
use crate::i18n::*;
use crate::localized::{
    order_status_text, payment_method_text, refund_reason_text, refund_state_text,
};
use crate::orders::OrderView;
use crate::orders::{OrderQuery, OrdersQuery};
use crate::page_data::load;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

fn status_class(o: &OrderView) -> &'static str {
    use crate::domain::order::OrderStatus::*;
    match o.status {
        Pending | Refunding => "badge status-submitted",
        Paid | Served | Closed => "badge status-approved",
        Refunded | Expired => "badge status-withdrawn",
    }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| load(OrdersQuery));
    view! {
        <h1>{t_string!(i18n, orders.title)}</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = data.await.unwrap_or_default();
                order_list(list).into_any()
            })}
        </Suspense>
    }
}

fn order_list(list: Vec<OrderView>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    if list.is_empty() {
        return view! { <div class="card empty"><p>{t_string!(i18n, orders.none)}</p></div> }
            .into_any();
    }
    view! {
        <ul class="booking-list">
            {list.into_iter().map(|o| view! {
                <li>
                    <a class="card booking-row" href=format!("/orders/{}", o.order_number) data-testid="order-row">
                        <span><strong>{o.amount.clone()}</strong>{format!(" · {}", o.description)}<small class="hint order-when">{o.created.clone()}</small></span>
                        <span class=status_class(&o)>{order_status_text(locale, o.status)}</span>
                    </a>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let number = use_params_map().with_untracked(|p| p.get("number").unwrap_or_default());
    let data = Resource::new(move || number.clone(), |n| load(OrderQuery(n)));
    with_viewer(move |_| {
        view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match data.await {
                        Some(o) => receipt(o).into_any(),
                        None => view! { <crate::components::NotFound /> }.into_any(),
                    }
                })}
            </Suspense>
        }
    })
}

fn receipt(o: OrderView) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let refunded = crate::domain::order::Fen::new(o.refunded_fen)
        .map(|f| f.yuan_text())
        .unwrap_or_default();
    view! {
        <h1>{t_string!(i18n, orders.receipt_title)}</h1>
        <article class="card receipt" data-testid="receipt">
            <p class="receipt-hospital">{t_string!(i18n, orders.hospital)}</p>
            <p class="checkout-amount" data-testid="receipt-amount">{o.amount.clone()}</p>
            <dl class="profile">
                <dt>{t_string!(i18n, orders.status)}</dt>
                <dd><span class=status_class(&o) data-testid="order-status">{order_status_text(locale, o.status)}</span></dd>
                <dt>{t_string!(i18n, orders.item)}</dt>
                <dd>{o.description.clone()}</dd>
                <dt>{t_string!(i18n, orders.order)}</dt>
                <dd>{o.order_number.clone()}</dd>
                <dt>{t_string!(i18n, orders.created_at)}</dt>
                <dd>{o.created.clone()}</dd>
                {o.paid.clone().map(|p| view! { <dt>{t_string!(i18n, orders.paid_at)}</dt><dd>{p}</dd> })}
                {o.method.map(|m| view! { <dt>{t_string!(i18n, orders.method)}</dt><dd>{payment_method_text(locale, m)}</dd> })}
                {(o.refunded_fen > 0).then(|| view! { <dt>{t_string!(i18n, orders.refunded)}</dt><dd data-testid="refunded">{refunded}</dd> })}
                {o.booking_number.clone().map(|b| view! {
                    <dt>{t_string!(i18n, orders.booking)}</dt>
                    <dd><a href=format!("/bookings/{b}")>{b.clone()}</a></dd>
                })}
            </dl>
        </article>
        {(!o.refunds.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="refunds-title">
                <h2 id="refunds-title">{t_string!(i18n, orders.refunds)}</h2>
                <ul class="refund-list">
                    {o.refunds.iter().map(|r| view! {
                        <li data-testid="refund">
                            <strong>{r.amount.clone()}</strong>
                            {format!(" · {} · {}", refund_reason_text(locale, r.reason), refund_state_text(locale, &r.status))}
                            <small class="hint">{r.settled.clone().unwrap_or_else(|| r.requested.clone())}</small>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        <p class="hint no-print">{t_string!(i18n, orders.print_hint)}</p>
        <p class="no-print"><a class="button button-secondary button-block" href="/orders">{t_string!(i18n, orders.back)}</a></p>
    }
}
