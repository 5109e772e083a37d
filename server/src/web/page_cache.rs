//! Pages for visitors who are not logged in, rendered and compressed once a second
//! instead of once a request.
//!
//! Such a page differs between visitors only in two secrets: the CSP nonce of its
//! scripts and the CSRF token of its forms. It is rendered with placeholders in their
//! place, compressed once into a [`Spliced`] template, and each response is that
//! template with the visitor's own nonce and token written into the holes. The
//! language is part of the key; anything personal (a session cookie, any cookie but the
//! CSRF and language ones) makes the request pass by untouched. A page lives
//! [`MAX_AGE`]; then one request renders it again while the others are served the old
//! one, so the directory's "online now" and free slots are about a second stale on top
//! of the directory snapshot's own age. The key must cover everything an anonymous page
//! reads from its request: the path, the query and the language.
use super::client::{LOCALE_COOKIE, locale_of};
use super::compress::{accepts_br, encoder_params};
use super::cookies::CookieNames;
use super::csrf::CsrfToken;
use super::spliced::Spliced;
use app::app::CspNonce;
use app::viewer::Viewer;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a rendered page is served before it is rendered again.
pub const MAX_AGE: Duration = Duration::from_secs(1);
/// Pages kept at most (path, query and language); past it the cache starts over, so
/// made-up query strings cost a render each, as without a cache, and no memory.
const MAX_PAGES: usize = 512;
/// Pages are small; anything larger is not ours to keep.
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    path_and_query: String,
    locale: app::i18n::Locale,
}

pub(super) struct Page {
    pub(super) made: Instant,
    headers: HeaderMap,
    body: Spliced,
    /// A request is rendering this page again; the others are served this one meanwhile.
    refreshing: AtomicBool,
}

/// A page past [`MAX_AGE`] is served to others while one request renders it again, for
/// this long at most (a render that keeps failing then stops holding pages back).
const STALE_LIMIT: Duration = Duration::from_secs(5);

enum Lookup {
    Serve(Arc<Page>),
    /// Render the page; the page being replaced, if this request is its refresher.
    Render(Option<Arc<Page>>),
}

/// Lets the others render too if this refresher gives up without a new page.
struct Refresher(Option<Arc<Page>>);

impl Drop for Refresher {
    fn drop(&mut self) {
        if let Some(page) = &self.0 {
            page.refreshing.store(false, Ordering::Release);
        }
    }
}

/// Responses served from a kept page, and pages rendered to be kept.
#[derive(Default)]
pub struct Counts {
    served: AtomicU64,
    rendered: AtomicU64,
}

impl Counts {
    pub fn get(&self) -> (u64, u64) {
        (
            self.served.load(Ordering::Relaxed),
            self.rendered.load(Ordering::Relaxed),
        )
    }
    pub(super) fn served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn rendered(&self) {
        self.rendered.fetch_add(1, Ordering::Relaxed);
    }
}

/// The cache, shared by every clone.
#[derive(Clone, Default)]
pub struct PageCache(Arc<Pages>);

impl std::ops::Deref for PageCache {
    type Target = Pages;
    fn deref(&self) -> &Pages {
        &self.0
    }
}

#[derive(Default)]
pub struct Pages {
    pages: RwLock<HashMap<Key, Arc<Page>>>,
    pub counts: Counts,
}

impl Pages {
    /// A fresh page; else one request at a time renders it again while the others are
    /// served the previous one, so expiry does not send every request to render at once.
    fn lookup(&self, key: &Key) -> Lookup {
        let page = {
            let pages = self.pages.read().unwrap_or_else(|e| e.into_inner());
            pages.get(key).cloned()
        };
        let Some(page) = page else {
            return Lookup::Render(None);
        };
        let age = page.made.elapsed();
        if age < MAX_AGE {
            Lookup::Serve(page)
        } else if age >= STALE_LIMIT {
            Lookup::Render(None)
        } else if page.refreshing.swap(true, Ordering::AcqRel) {
            Lookup::Serve(page)
        } else {
            Lookup::Render(Some(page))
        }
    }

    fn put(&self, key: Key, page: Arc<Page>) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        pages.insert(key, page);
    }
}

/// The cache key, if this request may be answered from (and fill) the cache: a GET for a
/// brotli page that opted in (`app::app::KEPT_FOR_ANONYMOUS`) by someone who is not
/// logged in.
fn cacheable(req: &Request, csrf_cookie: &str) -> Option<Key> {
    if req.method() != Method::GET
        || !accepts_br(req)
        || !app::app::kept_for_anonymous(req.uri().path())
    {
        return None;
    }
    let only_anonymous_cookies = req.headers().get_all(header::COOKIE).iter().all(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .all(|(name, _)| name == csrf_cookie || name == LOCALE_COOKIE)
        })
    });
    if !only_anonymous_cookies {
        return None;
    }
    Some(Key {
        path_and_query: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| req.uri().path().to_owned()),
        locale: locale_of(req.headers()),
    })
}

/// A random placeholder in (part of) the value's alphabet, letters only, in which no
/// four characters occur twice: the encoder then finds no match inside it. (A match
/// there would change how the rest of the page decodes; the template check refuses
/// that, and new placeholders are tried.)
fn placeholder(len: usize, alphabet: &[u8]) -> String {
    let mut random = vec![0u8; len];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<u8> = Vec::with_capacity(len);
    for r in random {
        let start = r as usize % alphabet.len();
        let pick = (0..alphabet.len())
            .map(|k| alphabet[(start + k) % alphabet.len()])
            .find(|&c| {
                out.len() < 3
                    || !seen.contains(&[
                        out[out.len() - 3],
                        out[out.len() - 2],
                        out[out.len() - 1],
                        c,
                    ])
            })
            .unwrap_or(alphabet[start]);
        if out.len() >= 3 {
            seen.insert([
                out[out.len() - 3],
                out[out.len() - 2],
                out[out.len() - 1],
                pick,
            ]);
        }
        out.push(pick);
    }
    out.into_iter().map(char::from).collect()
}

/// Hex letters, for the token (hex).
const TOKEN_MARK: &[u8] = b"abcdef";
/// Upper-case letters, for the nonce (URL-safe base64).
const NONCE_MARK: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Placeholder pairs tried before a page is served uncached.
const TRIES: usize = 4;

pub async fn anonymous_pages(
    State(cache): State<PageCache>,
    State(cookies): State<CookieNames>,
    req: Request,
    next: Next,
) -> Response {
    let Some(key) = cacheable(&req, cookies.csrf_name()) else {
        return next.run(req).await;
    };
    let (Some(nonce), Some(token)) = (
        req.extensions().get::<CspNonce>().map(|n| n.0.clone()),
        req.extensions().get::<CsrfToken>().map(|t| t.0.clone()),
    ) else {
        return next.run(req).await;
    };
    let _refresher = match cache.lookup(&key) {
        Lookup::Serve(page) => {
            if let Some(res) = respond(&page, &nonce, &token) {
                cache.counts.served();
                return res;
            }
            Refresher(None)
        }
        Lookup::Render(old) => Refresher(old),
    };
    match render_template(req, next, &nonce, &token).await {
        Ok(page) => {
            cache.put(key, page.clone());
            cache.counts.rendered();
            // The template was made for secrets of these lengths: always `Some`.
            respond(&page, &nonce, &token)
                .unwrap_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Err(res) => res,
    }
}

/// Renders the page behind `next` with placeholders in place of this request's CSP
/// nonce and CSRF token (in the request's extensions, and in its viewer if it has one),
/// and compresses it into a template with a hole for each. `Err` is a response that is
/// not to be kept (not a plain 200 HTML page, or one that sets a cookie), as rendered,
/// with this request's own secrets put back.
pub(super) async fn render_template(
    mut req: Request,
    next: Next,
    nonce: &str,
    token: &str,
) -> Result<Arc<Page>, Response> {
    let nonce_mark = placeholder(nonce.len(), NONCE_MARK);
    let token_mark = placeholder(token.len(), TOKEN_MARK);
    req.extensions_mut().insert(CspNonce(nonce_mark.clone()));
    req.extensions_mut().insert(CsrfToken(token_mark.clone()));
    if let Some(viewer) = req.extensions_mut().get_mut::<Viewer>() {
        viewer.csrf_token = token_mark.clone();
    }
    let res = next.run(req).await;
    let (parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BYTES).await else {
        return Err(Response::from_parts(parts, Body::empty()));
    };
    let keep = parts.status == StatusCode::OK
        && !parts.headers.contains_key(header::SET_COOKIE)
        && !parts.headers.contains_key(header::CONTENT_ENCODING)
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
    let mut marks = (nonce_mark, token_mark);
    let mut page = bytes.to_vec();
    for _ in 0..if keep { TRIES } else { 0 } {
        if let Some(template) = Spliced::build(
            &page,
            &[marks.0.as_bytes(), marks.1.as_bytes()],
            &encoder_params(page.len()),
        ) {
            let mut headers = parts.headers.clone();
            headers.remove(header::CONTENT_LENGTH);
            return Ok(Arc::new(Page {
                made: Instant::now(),
                headers,
                body: template,
                refreshing: AtomicBool::new(false),
            }));
        }
        // The encoder found a match in a placeholder: the same page with new ones.
        let fresh = (
            placeholder(marks.0.len(), NONCE_MARK),
            placeholder(marks.1.len(), TOKEN_MARK),
        );
        page = replace_all(
            &page,
            &[marks.0.as_bytes(), marks.1.as_bytes()],
            &[fresh.0.as_bytes(), fresh.1.as_bytes()],
        );
        marks = fresh;
    }
    // Not kept: the page as rendered, with this request's own secrets put back.
    let page = replace_all(
        &page,
        &[marks.0.as_bytes(), marks.1.as_bytes()],
        &[nonce.as_bytes(), token.as_bytes()],
    );
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Err(Response::from_parts(parts, Body::from(page)))
}

/// The cached page with this request's nonce and token, brotli-encoded.
pub(super) fn respond(page: &Page, nonce: &str, token: &str) -> Option<Response> {
    let body = page.body.fill(&[nonce.as_bytes(), token.as_bytes()])?;
    let mut res = Response::new(Body::from(body));
    *res.headers_mut() = page.headers.clone();
    res.headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Some(res)
}

fn replace_all(page: &[u8], marks: &[&[u8]], values: &[&[u8]]) -> Vec<u8> {
    let mut out = page.to_vec();
    for (mark, value) in marks.iter().zip(values) {
        let found: Vec<usize> = memchr::memmem::find_iter(page, mark).collect();
        for at in found {
            out[at..at + mark.len()].copy_from_slice(value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_the_alphabet_and_length() {
        let t = placeholder(64, TOKEN_MARK);
        assert_eq!(t.len(), 64);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        let n = placeholder(22, NONCE_MARK);
        assert_eq!(n.len(), 22);
        assert!(n.bytes().all(|b| b.is_ascii_uppercase()));
        assert_ne!(placeholder(22, NONCE_MARK), n);
        // No four letters twice, even from an alphabet of six.
        for _ in 0..100 {
            let t = placeholder(64, TOKEN_MARK).into_bytes();
            let grams: std::collections::HashSet<&[u8]> = t.windows(4).collect();
            assert_eq!(grams.len(), 61);
        }
    }

    fn cache_with_page(age: Duration) -> (PageCache, Key) {
        let cache = PageCache::default();
        let key = Key {
            path_and_query: "/doctors".into(),
            locale: app::i18n::Locale::zh_CN,
        };
        let html = b"<!DOCTYPE html><p>doctors</p>";
        let page = Page {
            made: Instant::now() - age,
            headers: HeaderMap::new(),
            body: Spliced::build(html, &[b"NONCE"], &encoder_params(html.len())).unwrap(),
            refreshing: AtomicBool::new(false),
        };
        cache.put(key.clone(), Arc::new(page));
        (cache, key)
    }

    #[test]
    fn one_request_renders_an_expired_page_while_the_others_are_served() {
        let (cache, key) = cache_with_page(Duration::ZERO);
        assert!(matches!(cache.lookup(&key), Lookup::Serve(_)));

        let (cache, key) = cache_with_page(MAX_AGE + Duration::from_millis(10));
        let Lookup::Render(Some(old)) = cache.lookup(&key) else {
            panic!("the first request after expiry renders");
        };
        assert!(
            matches!(cache.lookup(&key), Lookup::Serve(_)),
            "the others are served"
        );
        assert!(matches!(cache.lookup(&key), Lookup::Serve(_)));
        // A refresher that gives up lets the next request try.
        drop(Refresher(Some(old)));
        assert!(matches!(cache.lookup(&key), Lookup::Render(Some(_))));

        let (cache, key) = cache_with_page(STALE_LIMIT);
        assert!(
            matches!(cache.lookup(&key), Lookup::Render(None)),
            "too old to serve"
        );
        let other = Key {
            path_and_query: "/register".into(),
            ..key
        };
        assert!(matches!(cache.lookup(&other), Lookup::Render(None)));
    }

    #[test]
    fn secrets_are_put_back_where_the_marks_were() {
        let out = replace_all(
            b"<a n=\"MMMM\" t=\"TT\">MMMM</a>",
            &[b"MMMM", b"TT"],
            &[b"nnnn", b"tt"],
        );
        assert_eq!(out, b"<a n=\"nnnn\" t=\"tt\">nnnn</a>");
    }
}
