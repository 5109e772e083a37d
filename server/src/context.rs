//! The request as a change records it: who asks, for whom, from where and when
//! (R-SEC-2). Services take the [`RequestContext`], and every audit row is made from it
//! ([`RequestContext::audit`]), so none forgets the address or the family member. A
//! handler gets it with its caller from [`crate::caller::Ctx`].
use crate::audit::{Actor, AuditAction, AuditEvent};
use time::OffsetDateTime;

/// Who asks, for whom, from where, when.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub actor: Actor,
    /// The family member (`family_member.id`) a guardian acts for (R-REG-7); none when
    /// patients act for themselves.
    pub acting_for: Option<i64>,
    /// The client's address; empty for the server's own work.
    pub ip: String,
    pub now: OffsetDateTime,
}

impl RequestContext {
    /// The server's own work (a job, a provider's news): no person, no address.
    pub fn system(now: OffsetDateTime) -> Self {
        Self {
            actor: Actor::System,
            acting_for: None,
            ip: String::new(),
            now,
        }
    }

    /// This context for `actor` (a patient a staff member's call concerns keeps the
    /// staff member as actor; this is for work done in someone's name).
    pub fn as_actor(&self, actor: Actor) -> Self {
        Self {
            actor,
            ..self.clone()
        }
    }

    /// The audit row for `action` done in this request: its actor, the member acted
    /// for, the address and the time. Name the record with [`AuditEvent::on`].
    pub fn audit(&self, action: AuditAction) -> AuditEvent {
        AuditEvent {
            actor: self.actor,
            on_behalf_of: self.acting_for,
            action,
            entity: None,
            ip: self.ip.clone(),
            at: self.now,
            detail: None,
        }
    }
}

impl AuditEvent {
    /// The record concerned: (table, id).
    pub fn on(mut self, table: &'static str, id: impl ToString) -> Self {
        self.entity = Some((table, id.to_string()));
        self
    }

    /// The family member the record is about, when it is not the one the caller acts
    /// for (a doctor calling a child from the queue).
    pub fn about_member(mut self, member: Option<i64>) -> Self {
        self.on_behalf_of = member;
        self
    }

    /// Extra facts (never personal data: the log cannot be corrected).
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}
