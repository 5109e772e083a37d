//! Turns an uploaded file into what is stored (OWASP file-upload rules, R-ELIG-2):
//! the kind by magic bytes, a size limit, images decoded only after their header's
//! dimensions pass and with allocation limits, then re-encoded (which drops EXIF and
//! GPS, after applying the photo's orientation) with a thumbnail; PDFs rewritten without
//! their active content ([`super::pdf`]).
use super::decodes::{AbandonOnDrop, Abandoned, Decodes};
use crate::error::AppError;
use app::domain::upload::{
    FileKind, MAX_DECODED_BYTES, MAX_IMAGE_SIDE, THUMBNAIL_SIDE, decode_cost_mib, decoded_size_ok,
    dimensions_ok, sniff,
};
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::Multipart;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

/// The text fields of an upload, as received.
#[derive(Debug, Default, Clone)]
pub struct ProofInput {
    pub institution: String,
    pub diagnosed_on: String,
    pub icd10: String,
    pub note: String,
    /// Made by the client per upload; a retry sends the same one.
    pub idempotency_key: String,
}

/// A file ready to store.
#[derive(Debug)]
pub struct Processed {
    /// The stored kind: JPEG for photos (JPEG and WebP in), PNG for PNG, PDF for PDF.
    pub kind: FileKind,
    pub data: Vec<u8>,
    pub thumbnail: Option<Vec<u8>>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sha256: String,
}

/// Checks and re-encodes one upload. The header is read here (cheap); the decode runs
/// on the blocking pool once the decoding budget has room for it ([`Decodes`]).
pub async fn process(
    decodes: &Decodes,
    bytes: Vec<u8>,
    max_bytes: usize,
) -> Result<Processed, AppError> {
    if bytes.len() > max_bytes {
        return Err(FieldError::new(ErrorCode::FileTooLarge, Field::Files).into());
    }
    let kind = sniff(&bytes)?;
    let Some(format) = image_format(kind) else {
        // A PDF is rewritten without its active content, through the same pool.
        let reserved = decodes
            .reserve(PDF_COST_MIB)
            .await
            .map_err(|_| AppError::retry(FieldError::general(ErrorCode::Busy), 5))?;
        return tokio::task::spawn_blocking(move || {
            let _reserved = reserved;
            let sha256 = crate::crypto::sha256_hex_bytes(&bytes);
            let data = super::pdf::without_active_content(&bytes)?;
            Ok(Processed {
                kind,
                data,
                thumbnail: None,
                width: None,
                height: None,
                sha256,
            })
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("upload worker: {e}")))?;
    };
    let decoded_bytes = header_checked(&bytes, format)?;
    let reserved = decodes
        .reserve(decode_cost_mib(decoded_bytes))
        .await
        .map_err(|_| AppError::retry(FieldError::general(ErrorCode::Busy), 5))?;
    let abandoned = Abandoned::default();
    let _mark = AbandonOnDrop(abandoned.clone());
    tokio::task::spawn_blocking(move || {
        // The room stays reserved until the decode's memory is given back.
        let _reserved = reserved;
        decode_now(&bytes, kind, format, &abandoned)
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("upload worker: {e}")))?
}

/// What rewriting a PDF reserves of the decoding budget: its streams expand to at most
/// 16 MiB each while it is loaded.
const PDF_COST_MIB: u32 = 64;

fn damaged() -> AppError {
    FieldError::new(ErrorCode::FileDamaged, Field::Files).into()
}

fn image_format(kind: FileKind) -> Option<ImageFormat> {
    match kind {
        FileKind::Pdf => None,
        FileKind::Jpeg => Some(ImageFormat::Jpeg),
        FileKind::Png => Some(ImageFormat::Png),
        FileKind::Webp => Some(ImageFormat::WebP),
    }
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    reader
}

/// From the header alone: the dimensions and the decoded size are within bounds (a
/// 30,000 x 30,000 image, or a 16-bit RGBA one of 60 MP, in a small file stops here).
/// Returns the decoded size in bytes.
fn header_checked(bytes: &[u8], format: ImageFormat) -> Result<u64, AppError> {
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| damaged())?;
    dimensions_ok(w, h)?;
    let decoder = reader(bytes, format)
        .into_decoder()
        .map_err(|_| damaged())?;
    let total = decoder.total_bytes();
    decoded_size_ok(total)?;
    Ok(total)
}

fn decode_now(
    bytes: &[u8],
    kind: FileKind,
    format: ImageFormat,
    abandoned: &Abandoned,
) -> Result<Processed, AppError> {
    let gone = || AppError::Internal(anyhow::anyhow!("the upload's request went away"));
    let sha256 = crate::crypto::sha256_hex_bytes(bytes);
    let mut decoder = reader(bytes, format)
        .into_decoder()
        .map_err(|_| damaged())?;
    let orientation = decoder.orientation().map_err(|_| damaged())?;
    if abandoned.is_set() {
        return Err(gone());
    }
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| damaged())?;
    if abandoned.is_set() {
        return Err(gone());
    }
    img.apply_orientation(orientation);
    let (stored_kind, data) = match kind {
        FileKind::Png => (FileKind::Png, encode(&img, ImageFormat::Png)?),
        _ => (FileKind::Jpeg, encode(&img, ImageFormat::Jpeg)?),
    };
    if abandoned.is_set() {
        return Err(gone());
    }
    let thumb = img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    Ok(Processed {
        kind: stored_kind,
        width: Some(img.width()),
        height: Some(img.height()),
        data,
        thumbnail: Some(encode(&thumb, ImageFormat::Jpeg)?),
        sha256,
    })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, AppError> {
    let mut out = Cursor::new(Vec::new());
    let result = match format {
        // JPEG has no alpha: flatten to RGB.
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(img.to_rgb8()).write_to(&mut out, format),
        _ => img.write_to(&mut out, format),
    };
    result.map_err(|e| AppError::Internal(anyhow::anyhow!("re-encoding failed: {e}")))?;
    Ok(out.into_inner())
}

/// Reads the parts, refusing a file over the limit as soon as it passes it.
pub(crate) async fn read_upload(
    mut multipart: Multipart,
    max_bytes: usize,
) -> Result<(ProofInput, Vec<Vec<u8>>), AppError> {
    let bad = || AppError::from(FieldError::new(ErrorCode::InvalidForm, Field::Body));
    let mut input = ProofInput::default();
    let mut files = Vec::new();
    while let Some(mut part) = multipart.next_field().await.map_err(|_| bad())? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "files" {
            if files.len() >= app::domain::upload::MAX_FILES {
                return Err(FieldError::new(ErrorCode::FilesTooMany, Field::Files).into());
            }
            let mut data = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(|_| bad())? {
                if data.len() + chunk.len() > max_bytes {
                    return Err(FieldError::new(ErrorCode::FileTooLarge, Field::Files).into());
                }
                data.extend_from_slice(&chunk);
            }
            files.push(data);
            continue;
        }
        let text = part.text().await.map_err(|_| bad())?;
        match name.as_str() {
            "institution" => input.institution = text,
            "diagnosed_on" => input.diagnosed_on = text,
            "icd10" => input.icd10 = text,
            "note" => input.note = text,
            "idempotency_key" => input.idempotency_key = text,
            _ => {}
        }
    }
    Ok((input, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        encode(&DynamicImage::new_rgb8(w, h), ImageFormat::Jpeg).unwrap()
    }

    fn pool() -> Decodes {
        Decodes::new(64, 4)
    }

    #[tokio::test]
    async fn a_photo_is_re_encoded_with_a_thumbnail() {
        let p = process(&pool(), jpeg(800, 600), 10_000_000).await.unwrap();
        assert_eq!(p.kind, FileKind::Jpeg);
        assert_eq!((p.width, p.height), (Some(800), Some(600)));
        let thumb = image::load_from_memory(p.thumbnail.as_ref().unwrap()).unwrap();
        assert!(thumb.width() <= THUMBNAIL_SIDE && thumb.height() <= THUMBNAIL_SIDE);
    }

    #[tokio::test]
    async fn bad_files_are_refused() {
        let code = |r: Result<Processed, AppError>| r.err().map(|e| e.code());
        assert_eq!(
            code(process(&pool(), jpeg(10, 10), 100).await),
            Some(ErrorCode::FileTooLarge)
        );
        let mut truncated = jpeg(400, 300);
        truncated.truncate(truncated.len() / 3);
        assert_eq!(
            code(process(&pool(), truncated, 10_000_000).await),
            Some(ErrorCode::FileDamaged)
        );
        assert_eq!(
            code(process(&pool(), b"MZ\x90\0not an image".to_vec(), 10_000_000).await),
            Some(ErrorCode::FileTypeRefused)
        );
    }
}
