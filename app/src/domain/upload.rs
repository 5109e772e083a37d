//! What a diagnosis proof upload may be (R-ELIG-2, OWASP file-upload rules): the kind
//! is told by the content's magic bytes, never by the name or the declared type; sizes
//! and pixel counts are bounded before anything is decoded.
use super::{ErrorCode, Field, FieldError};

/// Files per proof.
pub const MAX_FILES: usize = 5;
/// Default limit per file (configurable): 10 MB.
pub const DEFAULT_MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Largest side of an image we decode.
pub const MAX_IMAGE_SIDE: u32 = 12_000;
/// Most pixels an image may have (a phone photo is 12–50 MP): against decompression bombs.
pub const MAX_IMAGE_PIXELS: u64 = 60_000_000;
/// Most bytes one decoded image may take (width x height x bytes per pixel): a
/// 7,740 x 7,740 16-bit RGBA PNG is under the pixel limit but decodes to 480 MB. A
/// 60 MP 8-bit RGB photo (180 MB) passes.
pub const MAX_DECODED_BYTES: u64 = 192 * 1024 * 1024;
/// A decode holds up to this many copies of the image at once (the decoded pixels, the
/// turned photo, the 8-bit copy the encoder takes), so it reserves this much of the
/// decoding budget.
pub const DECODE_COPIES: u64 = 3;
/// Files one account may upload in a day (R-ELIG-2 needs a handful per proof).
pub const FILES_PER_ACCOUNT_PER_DAY: i64 = 30;
/// Files one address may upload in an hour, by default (`FUZHEN_UPLOADS_PER_ADDRESS_PER_HOUR`):
/// high enough for a hospital's or a carrier's NAT, where many patients share one address,
/// low enough that many accounts on one machine cannot make the server decode without end.
pub const FILES_PER_ADDRESS_PER_HOUR: i64 = 600;
/// Proofs one account may have waiting for review at once.
pub const PROOFS_WAITING_PER_ACCOUNT: u64 = 5;
/// Thumbnails fit in this square.
pub const THUMBNAIL_SIDE: u32 = 320;

/// The kinds accepted, by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl FileKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
            FileKind::Pdf => "pdf",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [FileKind::Jpeg, FileKind::Png, FileKind::Webp, FileKind::Pdf]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub const fn content_type(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Webp => "image/webp",
            FileKind::Pdf => "application/pdf",
        }
    }

    pub const fn extension(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
            FileKind::Pdf => "pdf",
        }
    }

    pub const fn is_image(self) -> bool {
        !matches!(self, FileKind::Pdf)
    }
}

/// The kind of `bytes` by their magic numbers; anything else (an executable, HTML, a
/// ZIP, a HEIC the phone did not convert) is refused.
pub fn sniff(bytes: &[u8]) -> Result<FileKind, FieldError> {
    let refused = || FieldError::new(ErrorCode::FileTypeRefused, Field::Files);
    if bytes.is_empty() {
        return Err(FieldError::new(ErrorCode::FileEmpty, Field::Files));
    }
    let damaged = || FieldError::new(ErrorCode::FileDamaged, Field::Files);
    // Decoders fill in what is missing, so a cut-off file is caught by its end marker.
    let trimmed = {
        let end = bytes
            .iter()
            .rposition(|b| *b != 0 && !b.is_ascii_whitespace());
        &bytes[..end.map_or(0, |e| e + 1)]
    };
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        if trimmed.ends_with(&[0xFF, 0xD9]) {
            Ok(FileKind::Jpeg)
        } else {
            Err(damaged())
        }
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        let tail = &trimmed[trimmed.len().saturating_sub(16)..];
        if tail.windows(4).any(|w| w == b"IEND") {
            Ok(FileKind::Png)
        } else {
            Err(damaged())
        }
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok(FileKind::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        // A PDF ends with an end-of-file marker (possibly followed by whitespace).
        let tail = &bytes[bytes.len().saturating_sub(1024)..];
        if tail.windows(5).any(|w| w == b"%%EOF") {
            Ok(FileKind::Pdf)
        } else {
            Err(damaged())
        }
    } else {
        Err(refused())
    }
}

/// Before decoding: the dimensions read from the header are within bounds.
pub fn dimensions_ok(width: u32, height: u32) -> Result<(), FieldError> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 {
        return Err(FieldError::new(ErrorCode::FileDamaged, Field::Files));
    }
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || pixels > MAX_IMAGE_PIXELS {
        return Err(FieldError::new(ErrorCode::ImageTooLarge, Field::Files));
    }
    Ok(())
}

/// Before decoding: the decoded image (as its header describes it) fits the byte bound.
pub fn decoded_size_ok(total_bytes: u64) -> Result<(), FieldError> {
    if total_bytes > MAX_DECODED_BYTES {
        return Err(FieldError::new(ErrorCode::ImageTooLarge, Field::Files));
    }
    Ok(())
}

/// What a decode reserves of the decoding budget, in whole MiB (at least one).
pub fn decode_cost_mib(total_bytes: u64) -> u32 {
    let bytes = total_bytes.saturating_mul(DECODE_COPIES);
    u32::try_from(bytes.div_ceil(1024 * 1024).max(1)).unwrap_or(u32::MAX)
}

/// How many files a proof may have.
pub fn count_ok(n: usize) -> Result<(), FieldError> {
    match n {
        0 => Err(FieldError::new(ErrorCode::FilesMissing, Field::Files)),
        n if n > MAX_FILES => Err(FieldError::new(ErrorCode::FilesTooMany, Field::Files)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    // Security review item 2: the bound is on bytes, not only pixels.
    #[test]
    fn decoded_images_are_bounded_by_bytes() {
        let bomb = 7_740u64 * 7_740 * 8; // 16-bit RGBA
        assert!(
            dimensions_ok(7_740, 7_740).is_ok(),
            "passes the pixel check"
        );
        assert_eq!(
            decoded_size_ok(bomb).unwrap_err().code,
            ErrorCode::ImageTooLarge
        );
        let photo = 60_000_000u64 * 3; // 60 MP, 8-bit RGB
        assert!(decoded_size_ok(photo).is_ok());
        assert!(decoded_size_ok(MAX_DECODED_BYTES).is_ok());
        assert!(decoded_size_ok(MAX_DECODED_BYTES + 1).is_err());
        assert_eq!(decode_cost_mib(0), 1);
        assert_eq!(decode_cost_mib(1024 * 1024), 3);
        assert_eq!(decode_cost_mib(1024 * 1024 + 1), 4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-ELIG-2 / OWASP: the content decides, not the name.
    #[test]
    fn kinds_are_told_by_content() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xD9]),
            Ok(FileKind::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR...\0\0\0\0IEND\xaeB`\x82"),
            Ok(FileKind::Png)
        );
        // Cut off before the end marker.
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).map_err(|e| e.code),
            Err(ErrorCode::FileDamaged)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").map_err(|e| e.code),
            Err(ErrorCode::FileDamaged)
        );
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(FileKind::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n...\n%%EOF\n"), Ok(FileKind::Pdf));
        for bad in [
            &b"MZ\x90\0executable"[..],
            b"\x7fELF\x02\x01",
            b"<html><script>",
            b"PK\x03\x04zip",
            b"\0\0\0\x18ftypheic",
        ] {
            assert_eq!(
                sniff(bad).map_err(|e| e.code),
                Err(ErrorCode::FileTypeRefused)
            );
        }
        assert_eq!(sniff(b"").map_err(|e| e.code), Err(ErrorCode::FileEmpty));
        assert_eq!(
            sniff(b"%PDF-1.7\ntruncated").map_err(|e| e.code),
            Err(ErrorCode::FileDamaged)
        );
    }

    // Decompression bombs: 30,000 x 30,000 is refused before decoding.
    #[test]
    fn huge_images_are_refused_from_their_header() {
        assert!(dimensions_ok(4032, 3024).is_ok());
        assert!(dimensions_ok(12_000, 5_000).is_ok());
        for (w, h) in [(30_000, 30_000), (12_001, 10), (10_000, 10_000), (0, 10)] {
            assert!(dimensions_ok(w, h).is_err(), "{w}x{h}");
        }
    }

    #[test]
    fn one_to_five_files() {
        assert!(count_ok(0).is_err());
        assert!(count_ok(1).is_ok() && count_ok(5).is_ok());
        assert_eq!(
            count_ok(6).map_err(|e| e.code),
            Err(ErrorCode::FilesTooMany)
        );
    }
}
