//! What every request of a logged-in patient reads before anything else, in one
//! statement: the account row, the consents in force (R-REG-2) and how many notices are
//! unread. The viewer, the consent gate, the profile and the eligibility rule share it,
//! so a page view costs one round trip: read with the session itself
//! ([`load_with_session`], used by the session store), or alone ([`load`]).
use crate::accounts::consent_rows;
use crate::db::{consent_record, patient, session};
use crate::error::AppError;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, Iterable, JoinType,
    QueryOrder, QueryResult, QuerySelect, QueryTrait, SelectA, SelectB,
};

/// The logged-in patient as this request found them.
#[derive(Clone)]
pub struct PatientContext {
    pub patient: patient::Model,
    /// Each document's latest accept (not withdrawn), as [`crate::accounts::consents::effective`] says.
    pub consents: Vec<consent_record::Model>,
    /// Notices in the message centre not yet opened.
    pub unread: u32,
    /// The doctors' messages in open consults the patient has not read (the 问诊 tab).
    pub unread_consult: u32,
}

/// Only the ids: the row holds the password hash, the phone and the ID ciphertext, which
/// must never reach a log.
impl std::fmt::Debug for PatientContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientContext")
            .field("patient_id", &self.patient.id)
            .field("consents", &self.consents.len())
            .field("unread", &self.unread)
            .finish_non_exhaustive()
    }
}

const UNREAD: &str = "unread";
const UNREAD_CONSULT: &str = "unread_consult";

/// How many doctor messages in the patient's open consults lie past their read mark.
fn unread_consult(patient_id: Expr) -> sea_orm::sea_query::SelectStatement {
    use crate::db::{consult, consult_message};
    Query::select()
        .expr(Func::count(Expr::col((
            consult_message::Entity,
            consult_message::Column::Id,
        ))))
        .from(consult_message::Entity)
        .inner_join(
            consult::Entity,
            Expr::col((consult::Entity, consult::Column::Id))
                .equals((consult_message::Entity, consult_message::Column::ConsultId)),
        )
        .and_where(Expr::col((consult::Entity, consult::Column::PatientId)).eq(patient_id))
        .and_where(
            Expr::col((consult::Entity, consult::Column::Status)).is_in(["waiting", "in_progress"]),
        )
        .and_where(
            Expr::col((consult_message::Entity, consult_message::Column::Seq)).gt(Expr::col((
                consult::Entity,
                consult::Column::PatientReadSeq,
            ))),
        )
        .and_where(Expr::col((consult_message::Entity, consult_message::Column::Side)).eq("doctor"))
        .and_where(
            Expr::col((consult_message::Entity, consult_message::Column::Kind))
                .is_in(["text", "file"]),
        )
        .to_owned()
}

/// The patient, their consent records and their unread count: one left join, newest
/// consent record first; `None` when the account does not exist.
pub async fn load(
    db: &impl ConnectionTrait,
    patient_id: i64,
) -> Result<Option<PatientContext>, AppError> {
    use crate::db::notice;
    let unread = Query::select()
        .expr(Func::count(Expr::col(notice::Column::Id)))
        .from(notice::Entity)
        .and_where(notice::Column::PatientId.eq(patient_id))
        .and_where(notice::Column::ReadAt.is_null())
        .to_owned();
    let stmt = patient::Entity::find_by_id(patient_id)
        .select_also(consent_record::Entity)
        .join_rev(
            JoinType::LeftJoin,
            consent_record::Entity::belongs_to(patient::Entity)
                .from(consent_record::Column::PatientId)
                .to(patient::Column::Id)
                .into(),
        )
        .expr_as(Expr::SubQuery(None, Box::new(unread.into())), UNREAD)
        .expr_as(
            Expr::SubQuery(None, Box::new(unread_consult(Expr::val(patient_id)).into())),
            UNREAD_CONSULT,
        )
        .order_by_desc(consent_record::Column::Id)
        .build(db.get_database_backend());
    let rows = db.query_all_raw(stmt).await?;
    from_rows(&rows, SelectA.as_str(), SelectB.as_str())
}

/// The patient (columns prefixed `prefix_patient`), their consent records
/// (`prefix_consent`) and the unread count, from the rows of a left join; `None` when
/// there is no patient in them.
fn from_rows(
    rows: &[QueryResult],
    prefix_patient: &str,
    prefix_consent: &str,
) -> Result<Option<PatientContext>, AppError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let Some(patient) = patient::Model::from_query_result_optional(first, prefix_patient)? else {
        return Ok(None);
    };
    let unread: i64 = first.try_get("", UNREAD)?;
    let unread_consult: i64 = first.try_get("", UNREAD_CONSULT)?;
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(r) = consent_record::Model::from_query_result_optional(row, prefix_consent)? {
            records.push(r);
        }
    }
    Ok(Some(PatientContext {
        patient,
        consents: consent_rows::latest_accepts(records),
        unread: u32::try_from(unread).unwrap_or(u32::MAX),
        unread_consult: u32::try_from(unread_consult).unwrap_or(u32::MAX),
    }))
}

/// Prefixes of the session-anchored statement's columns.
const SESSION: &str = "S_";
const PATIENT: &str = "P_";
const CONSENT: &str = "C_";

/// A session row not yet expired at `now`, and with it, when it is a patient's, that
/// patient's context: the same read as [`load`], in the same statement as the session
/// (a logged-in request then costs one round trip before its own work, not two).
pub async fn load_with_session(
    db: &impl ConnectionTrait,
    stored_session_id: &str,
    now: i64,
) -> Result<Option<(session::Model, Option<PatientContext>)>, AppError> {
    use crate::db::notice;
    let mut q = Query::select();
    for c in session::Column::iter() {
        q.expr_as(
            Expr::col((session::Entity, c)),
            Alias::new(format!("{SESSION}{}", c.as_str())),
        );
    }
    for c in patient::Column::iter() {
        q.expr_as(
            Expr::col((patient::Entity, c)),
            Alias::new(format!("{PATIENT}{}", c.as_str())),
        );
    }
    for c in consent_record::Column::iter() {
        q.expr_as(
            Expr::col((consent_record::Entity, c)),
            Alias::new(format!("{CONSENT}{}", c.as_str())),
        );
    }
    let unread = Query::select()
        .expr(Func::count(Expr::col((notice::Entity, notice::Column::Id))))
        .from(notice::Entity)
        .and_where(
            Expr::col((notice::Entity, notice::Column::PatientId))
                .equals((session::Entity, session::Column::PatientId)),
        )
        .and_where(Expr::col((notice::Entity, notice::Column::ReadAt)).is_null())
        .to_owned();
    let consult_unread = unread_consult(Expr::col((session::Entity, session::Column::PatientId)));
    q.expr_as(
        Expr::SubQuery(None, Box::new(unread.into())),
        Alias::new(UNREAD),
    )
    .expr_as(
        Expr::SubQuery(None, Box::new(consult_unread.into())),
        Alias::new(UNREAD_CONSULT),
    )
    .from(session::Entity)
    .left_join(
        patient::Entity,
        Expr::col((patient::Entity, patient::Column::Id))
            .equals((session::Entity, session::Column::PatientId)),
    )
    .left_join(
        consent_record::Entity,
        Expr::col((consent_record::Entity, consent_record::Column::PatientId))
            .equals((patient::Entity, patient::Column::Id)),
    )
    .and_where(Expr::col((session::Entity, session::Column::Id)).eq(stored_session_id))
    .and_where(Expr::col((session::Entity, session::Column::ExpiresAt)).gt(now))
    .order_by(
        (consent_record::Entity, consent_record::Column::Id),
        Order::Desc,
    );
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(backend.build(&q)).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let session = session::Model::from_query_result(first, SESSION)?;
    Ok(Some((session, from_rows(&rows, PATIENT, CONSENT)?)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn example() -> PatientContext {
        PatientContext {
            patient: patient::Model {
                id: 7,
                patient_number: "FZ1".into(),
                phone: "13800138000".into(),
                password_hash: "$argon2id$secret".into(),
                real_name: "张三".into(),
                id_number_cipher: "v1:cipher".into(),
                id_number_hmac: "hmac".into(),
                id_number_masked: "**************002X".into(),
                birth_date: "1949-12-31".into(),
                sex: "female".into(),
                failed_logins: 0,
                locked_until: None,
                dependant_count: 0,
                created_at: 0,
            },
            consents: Vec::new(),
            unread: 2,
            unread_consult: 0,
        }
    }

    #[test]
    fn debug_shows_no_personal_field() {
        let found = example();
        let shown = format!("{found:?}");
        assert!(shown.contains("patient_id: 7"), "{shown}");
        for secret in [
            "13800138000",
            "argon2id",
            "张三",
            "cipher",
            "hmac",
            "002X",
            "1949",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
