//! Payment events in, exactly once (R-PAY-4): a delivery is stored under its provider's
//! event id by one insert that does nothing when the id is already there, so a second
//! delivery (a retry, a replay, two servers at once) finds it and changes nothing.
use crate::db::payment_event;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

/// A verified delivery, as it is stored.
pub struct Delivery<'a> {
    pub provider: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub signed_at: i64,
    pub payload: &'a str,
}

/// Stores the delivery; `true` when this was its first arrival.
pub async fn record(db: &impl ConnectionTrait, d: &Delivery<'_>, now: i64) -> Result<bool, DbErr> {
    let row = payment_event::ActiveModel {
        provider: Set(d.provider.to_owned()),
        event_id: Set(d.event_id.to_owned()),
        event_type: Set(d.event_type.to_owned()),
        signed_at: Set(d.signed_at),
        received_at: Set(now),
        payload: Set(d.payload.to_owned()),
        processed_at: Set(None),
        outcome: Set(None),
        ..Default::default()
    };
    let inserted = payment_event::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                payment_event::Column::Provider,
                payment_event::Column::EventId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The stored event's row id, by its provider's id.
pub async fn find(
    db: &impl ConnectionTrait,
    provider: &str,
    event_id: &str,
) -> Result<Option<i64>, crate::error::AppError> {
    Ok(payment_event::Entity::find()
        .select_only()
        .column(payment_event::Column::Id)
        .filter(payment_event::Column::Provider.eq(provider))
        .filter(payment_event::Column::EventId.eq(event_id))
        .into_tuple()
        .one(db)
        .await?)
}
