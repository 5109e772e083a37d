//! Per-address request limits on the endpoints that send SMS, judge a password or a code,
//! or create an account. A cheap in-memory first line (GCRA, per server instance) that
//! turns a flood away before it costs a hash or a database write; the database counters
//! behind it stay the exact limits shared by every instance.
use super::client::ClientIp;
use super::client::TrustedProxies;
use super::error::ApiError;
use super::forms::{back_with_error, is_browser_form};
use app::domain::ErrorCode;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Addresses remembered before stale ones are forgotten (bounds the memory a spoofing
/// flood can take: the key is the socket address unless a trusted proxy says otherwise).
const FORGET_ABOVE: usize = 100_000;

#[derive(Clone)]
pub struct Throttle(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl Throttle {
    /// `per_minute` requests a minute, in bursts of up to a quarter of it. Carrier-grade
    /// NAT puts many patients behind one address: keep this generous.
    pub fn per_minute(per_minute: u32) -> Self {
        let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new((per_minute / 4).max(1)).unwrap_or(NonZeroU32::MIN);
        Self(Arc::new(RateLimiter::keyed(
            Quota::per_minute(rate).allow_burst(burst),
        )))
    }

    /// `Err(seconds to wait)` when this address is over its rate.
    fn check(&self, ip: IpAddr) -> Result<(), i64> {
        if self.0.len() > FORGET_ABOVE {
            self.0.retain_recent();
        }
        self.0.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            i64::try_from(wait.as_secs()).unwrap_or(60) + 1
        })
    }
}

/// The layer: 429 `rate_limited` with `Retry-After` for the API, back to the page with
/// `?error=rate_limited` for a browser form.
pub async fn limit(
    State(throttle): State<Throttle>,
    State(proxies): State<TrustedProxies>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(ClientIp(ip)) = ClientIp::from_request_parts(&mut parts, &proxies).await;
    if let Err(retry_after_secs) = throttle.check(ip) {
        tracing::info!(%ip, path = %parts.uri.path(), "throttled");
        if is_browser_form(&parts.headers) {
            return back_with_error(&parts.headers, ErrorCode::RateLimited);
        }
        let mut error = ApiError::new(ErrorCode::RateLimited, None);
        error.retry_after_secs = Some(retry_after_secs);
        return error.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_address_waits_and_others_do_not() {
        let throttle = Throttle::per_minute(8); // burst of 2
        let a: IpAddr = [203, 0, 113, 7].into();
        let b: IpAddr = [203, 0, 113, 8].into();
        assert!(throttle.check(a).is_ok());
        assert!(throttle.check(a).is_ok());
        let wait = throttle.check(a).expect_err("third in the burst");
        assert!((1..=9).contains(&wait), "{wait}");
        assert!(
            throttle.check(b).is_ok(),
            "another address has its own budget"
        );
    }
}
