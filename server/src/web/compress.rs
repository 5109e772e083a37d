//! Brotli for the pages and JSON we make per request. Pages are small (5–20 KB) and
//! built whole before they are sent, so they are compressed in one go with a window
//! fitted to their size: the general-purpose encoder sets up (and zeroes) a 4 MB window
//! for every response, which cost more CPU than rendering the doctor list. Streams
//! (server-sent events), files and anything already encoded pass through untouched;
//! clients without `br` get gzip from the layer outside this one.
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Below this, compressing saves less than the header costs.
const MIN_BYTES: usize = 512;
/// Per-request responses larger than this are not ours to buffer.
const MAX_BYTES: usize = 4 * 1024 * 1024;

pub(crate) fn accepts_br(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or_default().trim();
            let refused = it.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("br") && !refused
        })
}

fn compressible(res: &Response) -> bool {
    if res.headers().contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html") || t.starts_with("application/json"))
}

/// Quality 2: quality 5 was seven times slower, and quality 1 (measured with perf under
/// wrk) cost as much CPU for pages 2–4 % larger. A window just large enough for the
/// page (64 KB at least, 1 MB at most).
pub(crate) fn encoder_params(len: usize) -> brotli::enc::BrotliEncoderParams {
    brotli::enc::BrotliEncoderParams {
        quality: 2,
        lgwin: (usize::BITS - len.leading_zeros()).clamp(16, 20) as i32,
        size_hint: len,
        ..Default::default()
    }
}

pub async fn brotli_pages(req: Request, next: Next) -> Response {
    let wants = accepts_br(&req);
    let res = next.run(req).await;
    if !wants || !compressible(&res) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BYTES).await else {
        // Too large to buffer or broken mid-way: nothing sensible can follow.
        return Response::from_parts(parts, Body::empty());
    };
    if bytes.len() < MIN_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let params = encoder_params(bytes.len());
    let mut out = Vec::with_capacity(bytes.len() / 3);
    if brotli::BrotliCompress(&mut bytes.as_ref(), &mut out, &params).is_err() {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(out))
}

#[cfg(test)]
mod tests {
    #[test]
    fn brotli_output_decodes_to_the_page() {
        let page = "<!DOCTYPE html><p>复诊 follow-up</p>".repeat(200);
        let params = super::encoder_params(page.len());
        let mut out = Vec::new();
        brotli::BrotliCompress(&mut page.as_bytes(), &mut out, &params).unwrap();
        assert!(out.len() < page.len() / 10);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut out.as_slice(), &mut back).unwrap();
        assert_eq!(back, page.as_bytes());
    }
}
