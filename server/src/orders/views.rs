//! Orders as their pages and the API show them.
use crate::db::{order, refund};
use crate::error::AppError;
use crate::state::State;
use app::domain::order::{Fen, OrderStatus, RefundReason, SubjectKind};
use app::domain::payment_method::PaymentMethod;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// One of the patient's orders.
pub async fn own_order(
    db: &impl ConnectionTrait,
    patient_id: i64,
    order_number: &str,
) -> Result<Option<order::Model>, AppError> {
    Ok(order::Entity::find()
        .filter(order::Column::OrderNumber.eq(order_number))
        .filter(order::Column::PatientId.eq(patient_id))
        .one(db)
        .await?)
}

/// Orders as their pages and the API show them, with their refunds, and a consult's
/// booking number (the API's `booking_number`) asked of its subject.
async fn views(
    state: &State,
    rows: Vec<order::Model>,
) -> Result<Vec<app::orders::OrderView>, AppError> {
    let db = &state.db;
    use app::orders::{OrderView, RefundView};
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let refunds = refund::Entity::find()
        .filter(refund::Column::OrderId.is_in(ids.clone()))
        .order_by_asc(refund::Column::Id)
        .all(db)
        .await?;
    let consult_ids: Vec<i64> = rows
        .iter()
        .filter(|o| o.kind == SubjectKind::Consult.as_str())
        .map(|o| o.subject_id)
        .collect();
    let bookings = state
        .subjects
        .get(SubjectKind::Consult)?
        .numbers(db, &consult_ids)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for o in rows {
        let Some(status) = OrderStatus::parse(&o.status) else {
            continue;
        };
        out.push(OrderView {
            amount: Fen::new(o.amount_fen).unwrap_or(Fen::ZERO).yuan_text(),
            status,
            amount_fen: o.amount_fen,
            refunded_fen: o.refunded_fen,
            currency: o.currency.clone(),
            method: o.method.as_deref().and_then(PaymentMethod::parse),
            created: app::domain::china_time::local(o.created_at),
            paid: o.paid_at.map(app::domain::china_time::local),
            booking_number: bookings
                .iter()
                .filter(|_| o.kind == SubjectKind::Consult.as_str())
                .find(|(id, _)| *id == o.subject_id)
                .map(|(_, number)| number.clone()),
            refunds: refunds
                .iter()
                .filter(|r| r.order_id == o.id)
                .filter_map(|r| {
                    Some(RefundView {
                        refund_number: r.refund_number.clone(),
                        amount_fen: r.amount_fen,
                        amount: Fen::new(r.amount_fen)?.yuan_text(),
                        reason: RefundReason::parse(&r.reason)?,
                        status: r.status.clone(),
                        requested: app::domain::china_time::local(r.requested_at),
                        settled: r.settled_at.map(app::domain::china_time::local),
                    })
                })
                .collect(),
            order_number: o.order_number,
            description: o.description,
        });
    }
    Ok(out)
}

/// The patient's orders, newest first.
pub async fn list_for_patient(
    state: &State,
    patient_id: i64,
) -> Result<Vec<app::orders::OrderView>, AppError> {
    let rows = order::Entity::find()
        .filter(order::Column::PatientId.eq(patient_id))
        .order_by_desc(order::Column::Id)
        .limit(200)
        .all(&state.db)
        .await?;
    views(state, rows).await
}

/// One of the patient's orders (its receipt); `None` for anyone else's.
pub async fn view_for_patient(
    state: &State,
    patient_id: i64,
    order_number: &str,
) -> Result<Option<app::orders::OrderView>, AppError> {
    let Some(o) = own_order(&state.db, patient_id, order_number).await? else {
        return Ok(None);
    };
    Ok(views(state, vec![o]).await?.pop())
}

/// Every order, newest first, optionally in one status, a page of `per_page`.
pub async fn list_for_staff(
    state: &State,
    status: Option<OrderStatus>,
    page: u64,
    per_page: u64,
) -> Result<Vec<app::orders::OrderView>, AppError> {
    let mut q = order::Entity::find().order_by_desc(order::Column::Id);
    if let Some(s) = status {
        q = q.filter(order::Column::Status.eq(s.as_str()));
    }
    let rows = q
        .offset(page.saturating_sub(1).saturating_mul(per_page))
        .limit(per_page)
        .all(&state.db)
        .await?;
    views(state, rows).await
}
