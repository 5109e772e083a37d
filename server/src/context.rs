//! The request as a change records it: who asks, for whom, from where and when
//! (R-SEC-2). A handler takes [`Ctx<C>`], where `C` is the extractor that proved who is
//! asking ([`Caller`]); services take the plain [`RequestContext`], and every audit row
//! is made from it ([`RequestContext::audit`]), so none forgets the address or the
//! family member.
use crate::audit::{Actor, AuditAction, AuditEvent};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::client::ClientIp;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::ops::Deref;
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

/// An extractor that proves who is asking.
pub trait Caller: FromRequestParts<AppState, Rejection: IntoResponse> + Send {
    fn actor(&self) -> Actor;

    /// The family member this caller acts for in this request.
    fn acting_for(
        &self,
        _parts: &mut Parts,
        _state: &AppState,
    ) -> impl Future<Output = Result<Option<i64>, AppError>> + Send {
        async { Ok(None) }
    }
}

/// The caller as proved by `C`, and the request's context.
pub struct Ctx<C> {
    pub caller: C,
    pub context: RequestContext,
}

impl<C> Deref for Ctx<C> {
    type Target = RequestContext;
    fn deref(&self) -> &RequestContext {
        &self.context
    }
}

impl<C: Caller> FromRequestParts<AppState> for Ctx<C> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = C::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let acting_for = caller
            .acting_for(parts, state)
            .await
            .map_err(|e| crate::web::error::ApiError::from(e).into_response())?;
        Ok(Ctx {
            context: RequestContext {
                actor: caller.actor(),
                acting_for,
                ip: ip.to_string(),
                now: OffsetDateTime::now_utc(),
            },
            caller,
        })
    }
}

/// Nobody has proved who they are (registration, login, a provider's webhook).
#[derive(Debug, Clone, Copy)]
pub struct Anonymous;

impl<S: Send + Sync> FromRequestParts<S> for Anonymous {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Anonymous)
    }
}

impl Caller for Anonymous {
    fn actor(&self) -> Actor {
        Actor::Anonymous
    }
}
