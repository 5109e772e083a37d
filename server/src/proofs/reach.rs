//! Which proofs a staff member may see (R-EMR-2, R-SEC-1: least privilege). Operators
//! and auditors work the whole review queue; a doctor sees only the proofs of their own
//! department's queue and of their own patients (those who booked them or queued for
//! them). Anything outside the reach answers "not found", as a proof that does not exist.
use crate::db::{booking, diagnosis_proof, doctor, queue_entry, slot};
use crate::error::AppError;
use crate::staff::auth::StaffMember;
use app::domain::staff::Role;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

#[derive(Debug, Clone)]
pub enum ProofReach {
    All,
    Doctor {
        staff_id: i64,
        /// The doctor's department, if their account names one.
        department: Option<String>,
    },
}

impl ProofReach {
    pub fn of(member: &StaffMember) -> Self {
        match member.role() {
            Role::Doctor => ProofReach::Doctor {
                staff_id: member.id,
                department: member.view.department.map(|d| d.as_str().to_owned()),
            },
            _ => ProofReach::All,
        }
    }

    /// The condition on `diagnosis_proof` rows within reach.
    pub fn condition(&self) -> Condition {
        let ProofReach::Doctor {
            staff_id,
            department,
        } = self
        else {
            return Condition::all();
        };
        let booked = Query::select()
            .column((booking::Entity, booking::Column::ProofId))
            .from(booking::Entity)
            .inner_join(
                slot::Entity,
                Expr::col((slot::Entity, slot::Column::Id))
                    .equals((booking::Entity, booking::Column::SlotId)),
            )
            .inner_join(
                doctor::Entity,
                Expr::col((doctor::Entity, doctor::Column::Id))
                    .equals((slot::Entity, slot::Column::DoctorId)),
            )
            .and_where(Expr::col((doctor::Entity, doctor::Column::StaffId)).eq(*staff_id))
            .to_owned();
        let queued = Query::select()
            .column((queue_entry::Entity, queue_entry::Column::ProofId))
            .from(queue_entry::Entity)
            .inner_join(
                doctor::Entity,
                Expr::col((doctor::Entity, doctor::Column::Id))
                    .equals((queue_entry::Entity, queue_entry::Column::DoctorId)),
            )
            .and_where(Expr::col((doctor::Entity, doctor::Column::StaffId)).eq(*staff_id))
            .to_owned();
        let mut any = Condition::any()
            .add(diagnosis_proof::Column::Id.in_subquery(booked))
            .add(diagnosis_proof::Column::Id.in_subquery(queued));
        if let Some(department) = department {
            any = any.add(diagnosis_proof::Column::Department.eq(department.as_str()));
        }
        any
    }

    /// Whether the proof is within reach.
    pub async fn admits(
        &self,
        db: &impl ConnectionTrait,
        proof: &diagnosis_proof::Model,
    ) -> Result<bool, AppError> {
        if matches!(self, ProofReach::All) {
            return Ok(true);
        }
        Ok(diagnosis_proof::Entity::find()
            .filter(diagnosis_proof::Column::Id.eq(proof.id))
            .filter(self.condition())
            .count(db)
            .await?
            > 0)
    }
}
