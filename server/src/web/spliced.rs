//! A brotli stream with holes: a page compressed once, into which every response writes
//! its own secret bytes (its CSP nonce, its CSRF token) without compressing the page
//! again.
//!
//! The page is compressed with a flush before and after each placeholder, so each
//! placeholder's compressed bytes stand alone between two byte-aligned meta-block
//! boundaries. Serving a response puts, in place of each, an uncompressed meta-block
//! (RFC 7932 §9.2) holding that response's value, which has the placeholder's length,
//! so every later distance still lands where the encoder meant. What this relies on
//! (nothing after a hole copies bytes out of it; a hole's meta-blocks leave the
//! distance cache alone; literal context does not reach across) is checked when the
//! template is made: it is filled with a value unlike the placeholder in every byte and
//! decoded, and a template that does not decode to exactly that page is refused.
use brotli::enc::BrotliEncoderParams;
use bytes::Bytes;
use std::io::Write;

/// The longest value a hole takes (one uncompressed meta-block, four length nibbles).
const MAX_HOLE: usize = 1 << 16;

#[derive(Debug, Clone)]
enum Part {
    Brotli(Bytes),
    /// Filled with `values[i]`.
    Hole(usize),
}

/// A compressed page with holes; see the module documentation.
#[derive(Debug, Clone)]
pub struct Spliced {
    parts: Vec<Part>,
    /// The length of the value each hole takes.
    lengths: Vec<usize>,
    /// About what a filled response weighs, to size its buffer.
    size: usize,
}

impl Spliced {
    /// Compresses `page`, leaving a hole wherever one of `placeholders` occurs (hole `i`
    /// for `placeholders[i]`). `None` if a placeholder is empty, too long or overlaps
    /// another occurrence, or if the template does not decode back to the page.
    pub fn build(
        page: &[u8],
        placeholders: &[&[u8]],
        params: &BrotliEncoderParams,
    ) -> Option<Spliced> {
        if placeholders
            .iter()
            .any(|p| p.is_empty() || p.len() > MAX_HOLE)
        {
            return None;
        }
        let mut holes: Vec<(usize, usize)> = Vec::new();
        for (i, p) in placeholders.iter().enumerate() {
            holes.extend(memchr::memmem::find_iter(page, p).map(|at| (at, i)));
        }
        holes.sort_unstable();
        let mut writer = brotli::CompressorWriter::with_params(Vec::new(), 4096, params);
        let mut parts = Vec::with_capacity(holes.len() * 2 + 1);
        let (mut cursor, mut kept_from) = (0usize, 0usize);
        for &(at, i) in &holes {
            if at < cursor {
                return None; // overlapping occurrences
            }
            let len = placeholders[i].len();
            writer.write_all(&page[cursor..at]).ok()?;
            writer.flush().ok()?;
            let before = writer.get_ref().len();
            writer.write_all(&page[at..at + len]).ok()?;
            writer.flush().ok()?;
            let after = writer.get_ref().len();
            let out = writer.get_ref();
            parts.push(Part::Brotli(Bytes::copy_from_slice(
                &out[kept_from..before],
            )));
            parts.push(Part::Hole(i));
            kept_from = after;
            cursor = at + len;
        }
        writer.write_all(&page[cursor..]).ok()?;
        let out = writer.into_inner();
        parts.push(Part::Brotli(Bytes::copy_from_slice(&out[kept_from..])));
        let spliced = Spliced {
            size: out.len(),
            parts,
            lengths: placeholders.iter().map(|p| p.len()).collect(),
        };
        spliced.decodes_to(page, placeholders).then_some(spliced)
    }

    /// How many holes the page has.
    pub fn holes(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| matches!(p, Part::Hole(_)))
            .count()
    }

    /// The compressed page with `values[i]` in every hole `i`; `None` if a value's
    /// length differs from its placeholder's.
    pub fn fill(&self, values: &[&[u8]]) -> Option<Vec<u8>> {
        if values.len() != self.lengths.len()
            || values.iter().zip(&self.lengths).any(|(v, n)| v.len() != *n)
        {
            return None;
        }
        let mut out = Vec::with_capacity(self.size + 64 * self.parts.len());
        for part in &self.parts {
            match part {
                Part::Brotli(b) => out.extend_from_slice(b),
                Part::Hole(i) => uncompressed_meta_block(&mut out, values[*i]),
            }
        }
        Some(out)
    }

    /// Filled with values unlike the placeholders in every byte, the template decodes to
    /// the page with those values in place.
    fn decodes_to(&self, page: &[u8], placeholders: &[&[u8]]) -> bool {
        let probes: Vec<Vec<u8>> = placeholders
            .iter()
            .map(|p| {
                p.iter()
                    .map(|&b| if b == b'0' { b'1' } else { b'0' })
                    .collect()
            })
            .collect();
        let probe_refs: Vec<&[u8]> = probes.iter().map(Vec::as_slice).collect();
        let Some(filled) = self.fill(&probe_refs) else {
            return false;
        };
        let mut expected = page.to_vec();
        for (p, probe) in placeholders.iter().zip(&probes) {
            for at in memchr::memmem::find_iter(page, p).collect::<Vec<_>>() {
                expected[at..at + p.len()].copy_from_slice(probe);
            }
        }
        let mut decoded = Vec::with_capacity(page.len());
        brotli::BrotliDecompress(&mut filled.as_slice(), &mut decoded).is_ok()
            && decoded == expected
    }
}

/// An uncompressed, not-last meta-block holding `bytes` (1 to 65,536 of them): ISLAST 0,
/// MNIBBLES 4 (coded 0), MLEN − 1 in 16 bits, ISUNCOMPRESSED 1, padding to the byte,
/// then the bytes themselves.
fn uncompressed_meta_block(out: &mut Vec<u8>, bytes: &[u8]) {
    debug_assert!(!bytes.is_empty() && bytes.len() <= MAX_HOLE);
    let header = (((bytes.len() - 1) as u32) << 3) | (1 << 19);
    out.extend_from_slice(&header.to_le_bytes()[..3]);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(len: usize) -> BrotliEncoderParams {
        super::super::compress::encoder_params(len)
    }

    fn decode(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &b[..], &mut out).expect("a valid brotli stream");
        out
    }

    const NONCE: &[u8] = b"PLACEHOLDERnonce123abc";
    const TOKEN: &[u8] = b"f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed";

    fn page() -> Vec<u8> {
        let nonce = std::str::from_utf8(NONCE).unwrap();
        let token = std::str::from_utf8(TOKEN).unwrap();
        let mut html = format!(
            "<!DOCTYPE html><html lang=\"zh-CN\"><head><script nonce=\"{nonce}\">boot()</script></head><body>"
        );
        for i in 0..40 {
            html.push_str(&format!(
                "<form method=\"post\" action=\"/forms/{i}\"><input type=\"hidden\" name=\"csrf_token\" value=\"{token}\"><button>复诊 预约 {i}</button></form>"
            ));
        }
        html.push_str(&format!(
            "</body></html><script nonce=\"{nonce}\">done()</script>"
        ));
        html.into_bytes()
    }

    // Each response carries its own nonce and token; the rest is compressed once.
    #[test]
    fn every_fill_decodes_to_the_page_with_its_own_values() {
        let page = page();
        let t = Spliced::build(&page, &[NONCE, TOKEN], &params(page.len())).expect("template");
        assert_eq!(t.holes(), 42);
        for (nonce, token) in [
            (b"AAAAAAAAAAAAAAAAAAAAAA".as_slice(), [b'9'; 64]),
            (b"x-_y0123456789abcdefgh".as_slice(), [b'a'; 64]),
        ] {
            let filled = t.fill(&[nonce, &token]).expect("same lengths");
            let expected = String::from_utf8(page.clone())
                .unwrap()
                .replace(
                    std::str::from_utf8(NONCE).unwrap(),
                    std::str::from_utf8(nonce).unwrap(),
                )
                .replace(
                    std::str::from_utf8(TOKEN).unwrap(),
                    std::str::from_utf8(&token).unwrap(),
                );
            assert_eq!(decode(&filled), expected.as_bytes());
            // Still compressed: each hole costs its raw value and a few bytes of framing
            // over compressing the page whole (a meta-block of its own, about 20 bytes).
            let mut whole = Vec::new();
            brotli::BrotliCompress(&mut page.as_slice(), &mut whole, &params(page.len())).unwrap();
            let raw: usize = 2 * nonce.len() + 40 * token.len();
            assert!(
                filled.len() <= whole.len() + raw + 42 * 24,
                "{} bytes; whole page {}, raw values {raw}",
                filled.len(),
                whole.len()
            );
        }
    }

    #[test]
    fn a_page_without_placeholders_is_just_compressed() {
        let page = b"<!DOCTYPE html><p>no secrets here</p>".repeat(50);
        let t = Spliced::build(&page, &[NONCE, TOKEN], &params(page.len())).expect("template");
        assert_eq!(t.holes(), 0);
        let filled = t.fill(&[NONCE, TOKEN]).unwrap();
        assert_eq!(decode(&filled), page);
    }

    #[test]
    fn values_of_the_wrong_length_are_refused() {
        let page = page();
        let t = Spliced::build(&page, &[NONCE, TOKEN], &params(page.len())).unwrap();
        assert!(t.fill(&[b"short", TOKEN]).is_none());
        assert!(t.fill(&[NONCE]).is_none());
    }

    #[test]
    fn overlapping_or_empty_placeholders_are_refused() {
        let page = b"<p>abcabc</p>".to_vec();
        assert!(Spliced::build(&page, &[b"abca", b"cabc"], &params(page.len())).is_none());
        assert!(Spliced::build(&page, &[b""], &params(page.len())).is_none());
    }

    #[test]
    fn the_uncompressed_meta_block_header_is_the_rfc_layout() {
        let mut out = Vec::new();
        uncompressed_meta_block(&mut out, b"x");
        // MLEN − 1 = 0, ISUNCOMPRESSED at bit 19.
        assert_eq!(&out[..3], &[0x00, 0x00, 0x08]);
        let mut out = Vec::new();
        uncompressed_meta_block(&mut out, &[b'y'; 64]);
        // 63 << 3 = 0x1F8.
        assert_eq!(&out[..3], &[0xF8, 0x01, 0x08]);
        assert_eq!(out.len(), 3 + 64);
    }
}
