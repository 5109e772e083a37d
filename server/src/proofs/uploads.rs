//! Turns an uploaded file into what is stored (OWASP file-upload rules, R-ELIG-2):
//! the kind by magic bytes, a size limit, images decoded only after their header's
//! dimensions pass and with allocation limits, then re-encoded (which drops EXIF and
//! GPS, after applying the photo's orientation) with a thumbnail; PDFs checked and kept.
use crate::error::AppError;
use app::domain::upload::{FileKind, MAX_IMAGE_SIDE, THUMBNAIL_SIDE, dimensions_ok, sniff};
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

/// Checks and re-encodes one upload; CPU-heavy, so run on the blocking pool.
pub async fn process(bytes: Vec<u8>, max_bytes: usize) -> Result<Processed, AppError> {
    if bytes.len() > max_bytes {
        return Err(FieldError::new(ErrorCode::FileTooLarge, Field::Files).into());
    }
    tokio::task::spawn_blocking(move || process_now(&bytes))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("upload worker: {e}")))?
}

fn damaged() -> AppError {
    FieldError::new(ErrorCode::FileDamaged, Field::Files).into()
}

fn process_now(bytes: &[u8]) -> Result<Processed, AppError> {
    let kind = sniff(bytes)?;
    let sha256 = crate::crypto::sha256_hex_bytes(bytes);
    let format = match kind {
        FileKind::Pdf => {
            return Ok(Processed {
                kind,
                data: bytes.to_vec(),
                thumbnail: None,
                width: None,
                height: None,
                sha256,
            });
        }
        FileKind::Jpeg => ImageFormat::Jpeg,
        FileKind::Png => ImageFormat::Png,
        FileKind::Webp => ImageFormat::WebP,
    };
    // The header first: a 30,000 x 30,000 image in a small file stops here.
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| damaged())?;
    dimensions_ok(w, h)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| damaged())?;
    let orientation = decoder.orientation().map_err(|_| damaged())?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| damaged())?;
    img.apply_orientation(orientation);
    let (stored_kind, data) = match kind {
        FileKind::Png => (FileKind::Png, encode(&img, ImageFormat::Png)?),
        _ => (FileKind::Jpeg, encode(&img, ImageFormat::Jpeg)?),
    };
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

    #[tokio::test]
    async fn a_photo_is_re_encoded_with_a_thumbnail() {
        let p = process(jpeg(800, 600), 10_000_000).await.unwrap();
        assert_eq!(p.kind, FileKind::Jpeg);
        assert_eq!((p.width, p.height), (Some(800), Some(600)));
        let thumb = image::load_from_memory(p.thumbnail.as_ref().unwrap()).unwrap();
        assert!(thumb.width() <= THUMBNAIL_SIDE && thumb.height() <= THUMBNAIL_SIDE);
    }

    #[tokio::test]
    async fn bad_files_are_refused() {
        let code = |r: Result<Processed, AppError>| r.err().map(|e| e.code());
        assert_eq!(
            code(process(jpeg(10, 10), 100).await),
            Some(ErrorCode::FileTooLarge)
        );
        let mut truncated = jpeg(400, 300);
        truncated.truncate(truncated.len() / 3);
        assert_eq!(
            code(process(truncated, 10_000_000).await),
            Some(ErrorCode::FileDamaged)
        );
        assert_eq!(
            code(process(b"MZ\x90\0not an image".to_vec(), 10_000_000).await),
            Some(ErrorCode::FileTypeRefused)
        );
    }
}
