//! PDF proofs lose their active content before they are stored (security review item
//! 5). A PDF is parsed with `lopdf` (each compressed stream bounded while loading) and
//! written out again without what can act on a reader's machine: document and page
//! actions (`/OpenAction`, `/AA`), JavaScript, launch, URI, form-submission and other
//! actions that leave the document, embedded files, rich media and XFA forms. Links
//! within the document and named page moves stay. Objects left without a reference
//! are dropped. We strip rather than rasterise: a rasteriser needs a PDF renderer
//! (pdfium, poppler: C libraries with their own history of memory bugs) in the server,
//! while stripping keeps the text selectable for the reviewer and needs none; the file
//! is still only ever served as an attachment under a sandbox policy.
use app::domain::{ErrorCode, Field, FieldError};
use lopdf::{Document, LoadOptions, Object};

/// The most one compressed stream may expand to while the PDF is loaded.
const MAX_STREAM_BYTES: usize = 16 * 1024 * 1024;

/// Keys whose value is active content, wherever they appear.
const ACTIVE_KEYS: &[&[u8]] = &[
    b"OpenAction",
    b"AA",
    b"JS",
    b"JavaScript",
    b"EmbeddedFiles",
    b"EF",
    b"XFA",
    b"RichMediaContent",
    b"RichMediaSettings",
    b"Movie",
    b"Sound",
];

/// Actions that may run code or reach outside the document.
const ACTIVE_ACTIONS: &[&[u8]] = &[
    b"JavaScript",
    b"Launch",
    b"URI",
    b"SubmitForm",
    b"ImportData",
    b"ResetForm",
    b"GoToR",
    b"GoToE",
    b"RichMediaExecute",
    b"Rendition",
    b"Sound",
    b"Movie",
    b"Hide",
    b"SetOCGState",
    b"GoTo3DView",
];

fn damaged() -> FieldError {
    FieldError::new(ErrorCode::FileDamaged, Field::Files)
}

/// The PDF rewritten without active content. Unreadable or encrypted: `file_damaged`.
pub fn without_active_content(bytes: &[u8]) -> Result<Vec<u8>, FieldError> {
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        ..LoadOptions::default()
    };
    let mut doc = Document::load_mem_with_options(bytes, options).map_err(|_| damaged())?;
    // A locked PDF cannot be checked (nor read by the reviewer).
    if doc.trailer.has(b"Encrypt") {
        return Err(damaged());
    }
    for object in doc.objects.values_mut() {
        strip(object);
    }
    strip_dictionary(&mut doc.trailer);
    doc.prune_objects();
    let mut out = Vec::with_capacity(bytes.len());
    doc.save_to(&mut out).map_err(|_| damaged())?;
    Ok(out)
}

fn strip(object: &mut Object) {
    match object {
        Object::Dictionary(d) => strip_dictionary(d),
        Object::Stream(s) => {
            if is_name(s.dict.get(b"Type").ok(), b"EmbeddedFile") {
                s.dict = lopdf::Dictionary::new();
                s.set_plain_content(Vec::new());
            }
            strip_dictionary(&mut s.dict);
        }
        Object::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

fn strip_dictionary(d: &mut lopdf::Dictionary) {
    for key in ACTIVE_KEYS {
        d.remove(key);
    }
    if ACTIVE_ACTIONS.iter().any(|a| is_name(d.get(b"S").ok(), a)) {
        // An action that acts outside the document becomes an empty one.
        *d = lopdf::Dictionary::new();
        return;
    }
    for (_, value) in d.iter_mut() {
        strip(value);
    }
}

fn is_name(object: Option<&Object>, name: &[u8]) -> bool {
    matches!(object, Some(Object::Name(n)) if n.as_slice() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Stream, dictionary};

    /// A one-page PDF that runs JavaScript when opened, launches a program from a link,
    /// and carries an embedded file.
    pub(crate) fn active_pdf() -> Vec<u8> {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let file = doc.add_object(Stream::new(
            dictionary! { "Type" => "EmbeddedFile" },
            b"MZ evil program".to_vec(),
        ));
        let js = doc.add_object(dictionary! {
            "Type" => "Action", "S" => "JavaScript",
            "JS" => Object::string_literal("app.alert('owned')"),
        });
        let link = doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Link",
            "Rect" => vec![0.into(), 0.into(), 100.into(), 100.into()],
            "A" => dictionary! { "S" => "Launch", "F" => Object::string_literal("calc.exe") },
        });
        let content = doc.add_object(Stream::new(dictionary! {}, b"BT ET".to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Annots" => vec![link.into()],
            "AA" => dictionary! { "O" => js },
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            }),
        );
        let catalog = doc.add_object(dictionary! {
            "Type" => "Catalog", "Pages" => pages_id, "OpenAction" => js,
            "Names" => dictionary! {
                "EmbeddedFiles" => dictionary! {
                    "Names" => vec![Object::string_literal("a.exe"), dictionary! {
                        "Type" => "Filespec", "F" => Object::string_literal("a.exe"),
                        "EF" => dictionary! { "F" => file },
                    }.into()],
                },
                "JavaScript" => dictionary! {
                    "Names" => vec![Object::string_literal("x"), js.into()],
                },
            },
        });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    // Security review item 5: what acts is gone; the page stays.
    #[test]
    fn active_content_is_stripped_and_the_page_kept() {
        let input = active_pdf();
        for needle in [
            &b"JavaScript"[..],
            b"Launch",
            b"app.alert",
            b"MZ evil",
            b"OpenAction",
        ] {
            assert!(input.windows(needle.len()).any(|w| w == needle));
        }
        let output = without_active_content(&input).unwrap();
        for needle in [
            &b"JavaScript"[..],
            b"Launch",
            b"app.alert",
            b"MZ evil",
            b"OpenAction",
            b"/AA",
            b"calc.exe",
        ] {
            assert!(
                !output.windows(needle.len()).any(|w| w == needle),
                "{}",
                String::from_utf8_lossy(needle)
            );
        }
        let doc = Document::load_mem(&output).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn unreadable_pdfs_are_damaged() {
        assert!(without_active_content(b"%PDF-1.4\nnot really\n%%EOF").is_err());
    }
}
