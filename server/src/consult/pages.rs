//! What the consult pages load: the patient's list and consult page, the doctor's desk
//! and consult page.
use super::access::{self, Participant};
use super::views;
use crate::chat::log;
use crate::db::{consult, quick_reply};
use crate::error::AppError;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::pages::PageAnswers;
use app::chat::protocol::Entry;
use app::consult::{
    ConsultDeskQuery, ConsultPageData, ConsultQuery, ConsultsQuery, DoctorConsultData,
    DoctorConsultQuery,
};
use app::domain::consult::Side;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

/// The most entries a page shows at once (the newest); the rest by the history API.
const PAGE_ENTRIES: u64 = 500;

/// The consult's newest entries, oldest first, as `viewer` sees them.
pub(crate) async fn conversation(
    db: &impl ConnectionTrait,
    c: &consult::Model,
    viewer: Side,
) -> Result<Vec<Entry>, AppError> {
    let after = (c.last_seq - PAGE_ENTRIES as i64).max(0);
    let rows = log::after(db, c.id, after, PAGE_ENTRIES).await?;
    crate::chat::service::views(db, c, &rows, viewer).await
}

/// Marks the conversation read up to its last entry, and tells the other side.
async fn read_all(state: &AppState, c: &consult::Model, side: Side) -> Result<(), AppError> {
    if crate::chat::service::mark_read(&state.db, c.id, side, c.last_seq).await? {
        let what = crate::chat::hub::What::Read {
            side,
            seq: c.last_seq,
        };
        crate::chat::news(
            state,
            crate::chat::hub::News {
                consult_id: c.id,
                what,
                fresh: None,
            },
        );
    }
    Ok(())
}

/// Fresh ids for the text form's message, the photo form's upload and its message.
fn ids() -> (String, String, String) {
    (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::new_v4().simple().to_string(),
        uuid::Uuid::now_v7().to_string(),
    )
}

async fn doctor_of(state: &AppState, parts: &mut Parts) -> Option<(StaffMember, Participant)> {
    let member = StaffMember::from_request_parts(parts, state).await.ok()?;
    let who = Participant::doctor(&state.db, &member).await.ok()?;
    Some((member, who))
}

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(|state, _parts, patient, _: ConsultsQuery| async move {
        views::list_for_patient(&state.db, patient.id)
            .await
            .map(Some)
    });
    pages.answer_consented(|state, _parts, patient, ConsultQuery(number)| async move {
        let who = Participant::patient(&patient);
        let Ok(c) = access::find(&state.db, who, &number).await else {
            return Ok(None);
        };
        let consult = views::view(&state.db, who, &number).await?;
        let entries = conversation(&state.db, &c, Side::Patient).await?;
        // The page shows everything so far: read (the doctor sees the receipt).
        read_all(&state, &c, Side::Patient).await?;
        let write_refused = crate::chat::service::window(&c)?
            .may_write(Side::Patient, OffsetDateTime::now_utc().unix_timestamp())
            .err()
            .map(|r| crate::chat::service::refused(r).code());
        let (client_id, upload_key, file_client_id) = ids();
        let call_check = check_ice(&state, &c);
        let calls = crate::call::recording::of_consult(&state.db, c.id).await?;
        Ok(Some(ConsultPageData {
            calls,
            consult,
            entries,
            client_id,
            upload_key,
            file_client_id,
            write_refused,
            call_check,
        }))
    });
    pages.answer(|state, mut parts, _: ConsultDeskQuery| async move {
        let Some((_, Participant::Doctor { doctor_id, .. })) = doctor_of(&state, &mut parts).await
        else {
            return Ok(None);
        };
        views::desk(&state, doctor_id, OffsetDateTime::now_utc())
            .await
            .map(Some)
    });
    pages.answer(|state, mut parts, DoctorConsultQuery(number)| async move {
        let Some((member, who)) = doctor_of(&state, &mut parts).await else {
            return Ok(None);
        };
        let Ok(c) = access::find(&state.db, who, &number).await else {
            return Ok(None);
        };
        let Ok(crate::web::client::ClientIp(ip)) =
            crate::web::client::ClientIp::from_request_parts(&mut parts, &state).await;
        let cx = crate::context::RequestContext {
            actor: crate::audit::Actor::Staff(member.id),
            acting_for: None,
            ip: ip.to_string(),
            now: OffsetDateTime::now_utc(),
        };
        let consult = views::for_doctor(&state, who, &number, &cx).await?;
        let entries = conversation(&state.db, &c, Side::Doctor).await?;
        read_all(&state, &c, Side::Doctor).await?;
        let record = match crate::records::service::of_consult(&state.db, c.id).await? {
            Some(r) => Some(crate::records::views::record_view(&state.db, &r, &number).await?),
            None => None,
        };
        let quick_replies = quick_reply::Entity::find()
            .filter(quick_reply::Column::StaffId.eq(member.id))
            .order_by_asc(quick_reply::Column::Id)
            .all(&state.db)
            .await?
            .into_iter()
            .map(|q| q.body)
            .collect();
        let (client_id, upload_key, file_client_id) = ids();
        let call_check = check_ice(&state, &c);
        let calls = crate::call::recording::of_consult(&state.db, c.id).await?;
        Ok(Some(DoctorConsultData {
            calls,
            consult,
            entries,
            client_id,
            upload_key,
            file_client_id,
            record,
            quick_replies,
            call_check,
        }))
    });
}

/// A video consult's STUN/TURN for the network check before a call (credentials of
/// their own; each call brings its own).
fn check_ice(
    state: &crate::state::State,
    c: &crate::db::consult::Model,
) -> Option<Vec<app::chat::protocol::IceServer>> {
    if c.consult_type != "video" {
        return None;
    }
    let parts = state.parts.get::<crate::call::CallParts>().ok()?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Some(
        parts
            .media
            .ice_servers(&format!("check-{}", c.consult_number), now, now),
    )
}
