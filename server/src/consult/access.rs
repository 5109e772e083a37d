//! Who takes part in a consult: the patient's account (for the person or the family
//! member it acts for) and the consult's doctor. Anyone else's consult answers exactly
//! like one that does not exist. Each time a doctor opens a patient's consult it is
//! logged (R-EMR-2), and the patient can see it.
use crate::accounts::auth::ConsentedPatient;
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{consult, record_access};
use crate::error::AppError;
use crate::staff::auth::StaffMember;
use app::domain::consult::Side;
use app::domain::staff::Permission;
use app::domain::{ErrorCode, FieldError};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

/// A side of a consult, as the request proved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Participant {
    Patient { id: i64 },
    Doctor { staff_id: i64, doctor_id: i64 },
}

impl Participant {
    pub fn side(self) -> Side {
        match self {
            Participant::Patient { .. } => Side::Patient,
            Participant::Doctor { .. } => Side::Doctor,
        }
    }

    /// The id stored as a message's author.
    pub fn author_id(self) -> i64 {
        match self {
            Participant::Patient { id } => id,
            Participant::Doctor { staff_id, .. } => staff_id,
        }
    }

    /// The account the connection limit counts against.
    pub fn account_key(self) -> String {
        match self {
            Participant::Patient { id } => format!("p:{id}"),
            Participant::Doctor { staff_id, .. } => format!("s:{staff_id}"),
        }
    }

    pub fn patient(p: &ConsentedPatient) -> Self {
        Participant::Patient { id: p.id }
    }

    /// A doctor with a directory entry; any other staff member is refused.
    pub async fn doctor(db: &impl ConnectionTrait, staff: &StaffMember) -> Result<Self, AppError> {
        staff.require(Permission::Consult)?;
        let d = crate::booking::queue::doctor_of_staff(db, staff.id).await?;
        Ok(Participant::Doctor {
            staff_id: staff.id,
            doctor_id: d.id,
        })
    }

    pub fn may_see(self, c: &consult::Model) -> bool {
        match self {
            Participant::Patient { id } => c.patient_id == id,
            Participant::Doctor { doctor_id, .. } => c.doctor_id == doctor_id,
        }
    }
}

fn not_found() -> AppError {
    FieldError::general(ErrorCode::NotFound).into()
}

/// The consult with this number, if `who` takes part in it; otherwise "not found".
pub async fn find(
    db: &impl ConnectionTrait,
    who: Participant,
    number: &str,
) -> Result<consult::Model, AppError> {
    let c = consult::Entity::find()
        .filter(consult::Column::ConsultNumber.eq(number))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if who.may_see(&c) {
        Ok(c)
    } else {
        Err(not_found())
    }
}

/// What a staff member did with a patient's consult or record (R-EMR-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Print,
    Copy,
}

impl Access {
    pub const fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Print => "print",
            Access::Copy => "copy",
        }
    }
}

/// Logs a staff member's access to a consult or its record, in the access log the patient
/// reads and in the audit chain.
pub async fn log_access(
    db: &impl ConnectionTrait,
    c: &consult::Model,
    staff_id: i64,
    access: Access,
    reason: Option<String>,
    cx: &RequestContext,
) -> Result<(), AppError> {
    record_access::ActiveModel {
        patient_id: Set(c.patient_id),
        family_member_id: Set(c.family_member_id),
        consult_id: Set(c.id),
        staff_id: Set(staff_id),
        action: Set(access.as_str().to_owned()),
        reason: Set(reason),
        at: Set(cx.now.unix_timestamp()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        cx.audit(AuditAction::ConsultViewed)
            .on("consult", &c.consult_number)
            .about_member(c.family_member_id)
            .detail(serde_json::json!({ "access": access.as_str() })),
    )
    .await?;
    Ok(())
}
