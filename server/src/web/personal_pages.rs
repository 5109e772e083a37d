//! Personal pages kept, per session, for as long as everything they show is unchanged.
//!
//! Rendering and compressing `/me` costs more CPU than reading what it shows (two
//! statements), yet it is asked for again and again with nothing changed: the 我的 tab,
//! WeChat's webview reloading, the back button. A page that opts in here names all it
//! reads: the viewer (who is logged in, consents, unread count, today's date) and its
//! own data (for `/me`, the profile). The digest of those inputs, with the path, query
//! and language, is the key together with the session's id, so a page is served again
//! only to the same session and only while a render would give the same bytes: a new
//! message, a consent withdrawn, a changed phone number or the next day is another key
//! and a fresh render. The data is read on every request (it is the key), so logging
//! out, or a session expiring, ends the page at once.
//!
//! Like the anonymous cache, the page is kept compressed, with holes for each response's
//! CSP nonce and CSRF token ([`super::page_cache::render_template`]), once it is asked
//! for a second time unchanged. Pages are kept only in memory, for [`MAX_AGE`] at most,
//! [`MAX_PAGES`] in all.
use super::auth::{ConsentedPatient, patient_context};
use super::client::locale_of;
use super::compress::accepts_br;
use super::csrf::CsrfToken;
use super::page_cache::{Counts, Page, render_template, respond};
use crate::services::accounts;
use crate::state::AppState;
use app::app::CspNonce;
use app::viewer::{PatientProfile, Viewer};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tower_sessions::Session;

/// A kept page is dropped this long after it was rendered, even if still valid: personal
/// data stays in memory no longer than this after the page was last rendered.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Pages kept at most (about 4 KB each); past it, expired pages go, then all.
const MAX_PAGES: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    session: tower_sessions::session::Id,
    inputs: [u8; 32],
}

/// Making a template (compressing around the holes, then decoding it once to check it)
/// costs about as much again as the render: a page is kept only once it is asked for a
/// second time unchanged, so a page seen once costs no more than without this.
enum Entry {
    Seen(Instant),
    Kept(Arc<Page>),
}

impl Entry {
    fn made(&self) -> Instant {
        match self {
            Entry::Seen(at) => *at,
            Entry::Kept(page) => page.made,
        }
    }
}

enum Lookup {
    Serve(Arc<Page>),
    /// Asked for before: render it to keep.
    Keep,
    /// First seen now: render it as usual.
    Pass,
}

#[derive(Default)]
pub struct PersonalPages {
    pages: RwLock<HashMap<Key, Entry>>,
    pub counts: Counts,
}

impl PersonalPages {
    fn lookup(&self, key: &Key) -> Lookup {
        {
            let pages = self.pages.read().unwrap_or_else(|e| e.into_inner());
            match pages.get(key) {
                Some(e) if e.made().elapsed() >= MAX_AGE => {}
                Some(Entry::Kept(page)) => return Lookup::Serve(page.clone()),
                Some(Entry::Seen(_)) => return Lookup::Keep,
                None => {}
            }
        }
        self.put(*key, Entry::Seen(Instant::now()));
        Lookup::Pass
    }

    fn put(&self, key: Key, entry: Entry) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_PAGES {
            pages.retain(|_, e| e.made().elapsed() < MAX_AGE);
            if pages.len() >= MAX_PAGES {
                pages.clear();
            }
        }
        pages.insert(key, entry);
    }
}

/// The profile `/me` shows, as read for the key: the page renders this one, so what is
/// kept is exactly what the key describes (not a second reading a moment later).
#[derive(Clone)]
pub struct KnownProfile(pub Arc<PatientProfile>);

/// What a kept page may depend on: its own data, read for this request.
enum PageInputs {
    Me(Arc<PatientProfile>),
}

impl PageInputs {
    /// The pages that opt in, and how their data is read. A page is added here only
    /// with every input it renders from; anything left out would be served stale.
    async fn read(
        path: &str,
        state: &AppState,
        parts: &mut Parts,
        now: OffsetDateTime,
    ) -> Option<PageInputs> {
        match path {
            "/me" => {
                let patient = ConsentedPatient::from_request_parts(parts, state)
                    .await
                    .ok()?;
                let found = patient_context(parts, state, patient.id).await.ok()??;
                let (profile, _) = accounts::profile_of(state, &found, now).ok()?;
                let profile = Arc::new(profile);
                parts.extensions.insert(KnownProfile(profile.clone()));
                Some(PageInputs::Me(profile))
            }
            _ => None,
        }
    }

    fn digest_into(&self, hash: &mut Sha256) -> Option<()> {
        match self {
            PageInputs::Me(profile) => {
                hash.update(b"me\0");
                hash.update(serde_json::to_vec(profile.as_ref()).ok()?);
            }
        }
        Some(())
    }
}

/// The digest of everything the page renders from, except the two per-response secrets.
fn inputs_digest(
    path_and_query: &str,
    locale: app::i18n::Locale,
    viewer: &Viewer,
    inputs: &PageInputs,
) -> Option<[u8; 32]> {
    let mut hash = Sha256::new();
    hash.update(path_and_query.as_bytes());
    hash.update(b"\0");
    hash.update(format!("{locale:?}").as_bytes());
    hash.update(b"\0");
    let viewer = Viewer {
        csrf_token: String::new(),
        ..viewer.clone()
    };
    hash.update(serde_json::to_vec(&viewer).ok()?);
    hash.update(b"\0");
    inputs.digest_into(&mut hash)?;
    Some(hash.finalize().into())
}

pub async fn personal_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET || !accepts_br(&req) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Some((key, nonce, token)) = keyed(&state, &mut parts).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    match state.personal_pages.lookup(&key) {
        Lookup::Serve(page) => {
            if let Some(res) = respond(&page, &nonce, &token) {
                state.personal_pages.counts.served();
                return res;
            }
        }
        Lookup::Keep => {}
        Lookup::Pass => return next.run(Request::from_parts(parts, body)).await,
    }
    match render_template(Request::from_parts(parts, body), next, &nonce, &token).await {
        Ok(page) => {
            state.personal_pages.put(key, Entry::Kept(page.clone()));
            state.personal_pages.counts.rendered();
            // The template was made for secrets of these lengths: always `Some`.
            respond(&page, &nonce, &token)
                .unwrap_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Err(res) => res,
    }
}

/// The key of this request's page, with its nonce and CSRF token; `None` if the page is
/// not one that opts in, or nobody with all consents in force is logged in.
async fn keyed(state: &AppState, parts: &mut Parts) -> Option<(Key, String, String)> {
    let viewer = parts.extensions.get::<Viewer>()?.clone();
    if viewer.signed_in.is_none() || !viewer.consents_outstanding.is_empty() {
        return None;
    }
    let session = parts.extensions.get::<Session>()?.id()?;
    let nonce = parts.extensions.get::<CspNonce>()?.0.clone();
    let token = parts.extensions.get::<CsrfToken>()?.0.clone();
    let path = parts.uri.path().to_owned();
    let inputs = PageInputs::read(&path, state, parts, OffsetDateTime::now_utc()).await?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or(path.as_str(), |p| p.as_str());
    let inputs = inputs_digest(path_and_query, locale_of(&parts.headers), &viewer, &inputs)?;
    Some((Key { session, inputs }, nonce, token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::id_number::Sex;
    use app::i18n::Locale;

    fn profile() -> PatientProfile {
        PatientProfile {
            patient_number: "P0000001".into(),
            real_name: "张三".into(),
            phone_masked: "138****0000".into(),
            id_number_masked: "**************1233".into(),
            birth_date: "1990-03-07".into(),
            sex: Sex::Male,
            age: 36,
            consents: Vec::new(),
        }
    }

    fn digest(path: &str, locale: Locale, viewer: &Viewer, p: PatientProfile) -> [u8; 32] {
        inputs_digest(path, locale, viewer, &PageInputs::Me(Arc::new(p))).unwrap()
    }

    // The key covers everything /me shows, and not the per-response CSRF token.
    #[test]
    fn the_key_changes_with_anything_the_page_shows() {
        let viewer = Viewer {
            csrf_token: "a".repeat(64),
            today: "2026-12-06".into(),
            ..Viewer::default()
        };
        let base = digest("/me", Locale::zh_CN, &viewer, profile());
        let other_token = Viewer {
            csrf_token: "b".repeat(64),
            ..viewer.clone()
        };
        assert_eq!(digest("/me", Locale::zh_CN, &other_token, profile()), base);

        let unread = Viewer {
            unread_messages: 1,
            ..viewer.clone()
        };
        let tomorrow = Viewer {
            today: "2026-12-07".into(),
            ..viewer.clone()
        };
        let older = PatientProfile {
            age: 37,
            ..profile()
        };
        let phone = PatientProfile {
            phone_masked: "139****0000".into(),
            ..profile()
        };
        for changed in [
            digest("/me", Locale::zh_CN, &unread, profile()),
            digest("/me", Locale::zh_CN, &tomorrow, profile()),
            digest("/me", Locale::zh_CN, &viewer, older),
            digest("/me", Locale::zh_CN, &viewer, phone),
            digest("/me", Locale::en, &viewer, profile()),
            digest("/me?notice=registered", Locale::zh_CN, &viewer, profile()),
        ] {
            assert_ne!(changed, base);
        }
    }
}
