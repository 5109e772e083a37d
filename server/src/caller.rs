//! Who asks, as a handler states it: [`Ctx<C>`], where `C` is the extractor that proved
//! who is asking ([`Caller`]), with the request's [`RequestContext`].
use crate::audit::Actor;
use crate::context::RequestContext;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::client::ClientIp;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::ops::Deref;
use time::OffsetDateTime;

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
        let acting_for = match caller.acting_for(parts, state).await {
            Ok(member) => member,
            Err(e) => {
                let Ok(reply) = crate::web::reply::Reply::from_request_parts(parts, state).await;
                return Err(
                    reply.answer::<()>(Err(e), axum::http::StatusCode::OK, |_| String::new())
                );
            }
        };
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
