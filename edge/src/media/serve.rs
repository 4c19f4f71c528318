//! The headers of a file download: the type decided at upload, `inline` only for what
//! browsers display (image, video, PDF), `attachment` for everything else; `nosniff` and a
//! sandboxing CSP on every response, so no file ever runs as a page of this origin.

use beckon_shared::media::FileType;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters kept as they are in `filename*` (RFC 5987 `attr-char`).
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Nothing loads, nothing runs; a displayable file is shown by the browser itself.
pub const CSP: &str =
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/// The MIME type served for a file type.
pub fn mime(file_type: FileType) -> &'static str {
    match file_type {
        FileType::Jpeg => "image/jpeg",
        FileType::Png => "image/png",
        FileType::Gif => "image/gif",
        FileType::Webp => "image/webp",
        FileType::Heic => "image/heic",
        FileType::Mp4 => "video/mp4",
        FileType::Webm => "video/webm",
        FileType::Quicktime => "video/quicktime",
        FileType::Pdf => "application/pdf",
        FileType::Text => "text/plain; charset=utf-8",
        FileType::Csv => "text/csv; charset=utf-8",
        // The exact Office type is not kept: a generic download.
        FileType::Office | FileType::Unknown => "application/octet-stream",
    }
}

/// The extensions a file of a type may be named with; the first is the one it gets when its
/// name has none of them.
fn extensions(file_type: FileType) -> &'static [&'static str] {
    match file_type {
        FileType::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
        FileType::Png => &["png"],
        FileType::Gif => &["gif"],
        FileType::Webp => &["webp"],
        FileType::Heic => &["heic", "heif"],
        FileType::Mp4 => &["mp4", "m4v"],
        FileType::Webm => &["webm"],
        FileType::Quicktime => &["mov", "qt"],
        FileType::Pdf => &["pdf"],
        FileType::Text => &["txt", "text", "log", "md"],
        FileType::Csv => &["csv"],
        // Which of them it is is not kept: a name that says none gets the neutral one.
        FileType::Office => &["bin", "docx", "doc", "xlsx", "xls", "pptx", "ppt"],
        FileType::Unknown => &["bin"],
    }
}

/// `name` with an extension that says what the file is: as it is if its extension is one
/// its type allows, else with the type's own added (plain text named `invoice.hta` is
/// `invoice.hta.txt`; an archive Office files are made of, named `tool.jar`, is `tool.jar.bin`).
/// The type comes from the bytes; a name claiming another — a script, a page, a program —
/// must not decide what opens the file once it is downloaded. Within
/// [`MAX_NAME_BYTES`](beckon_shared::media::MAX_NAME_BYTES).
pub fn fitting_name(file_type: FileType, name: &str) -> String {
    let allowed = extensions(file_type);
    let fits = name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && allowed.iter().any(|a| ext.eq_ignore_ascii_case(a))
    });
    if fits {
        return name.to_owned();
    }
    let ext = allowed[0];
    let mut stem = name.trim_end_matches(['.', ' ']);
    let room = beckon_shared::media::MAX_NAME_BYTES.saturating_sub(ext.len() + 1);
    if stem.len() > room {
        let mut end = room;
        while !stem.is_char_boundary(end) {
            end -= 1;
        }
        // (A cut may end on a dot or a space too.)
        stem = stem[..end].trim_end_matches(['.', ' ']);
    }
    if stem.is_empty() {
        stem = "file";
    }
    format!("{stem}.{ext}")
}

/// `Content-Disposition` for `name` ([`fitting_name`] of it): an ASCII fallback and the exact
/// UTF-8 name.
pub fn disposition(file_type: FileType, name: &str) -> String {
    let name = &fitting_name(file_type, name);
    let kind = if file_type.inline() {
        "inline"
    } else {
        "attachment"
    };
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR)
    )
}

/// Every header of a download but its length and range.
pub fn headers(file_type: FileType, name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", mime(file_type).to_owned()),
        ("content-disposition", disposition(file_type, name)),
        ("x-content-type-options", "nosniff".into()),
        ("content-security-policy", CSP.into()),
        ("cross-origin-resource-policy", "cross-origin".into()),
        ("accept-ranges", "bytes".into()),
        // The URL is signed and stable within its window: cache until it expires.
        ("cache-control", "private, max-age=1800".into()),
    ]
}

/// What a request's `Range` header asks of a file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Wanted {
    /// The whole file: no header, or one served whole (several ranges, another unit, a
    /// malformed one — which a server may ignore).
    Whole,
    /// `length` bytes from `offset` (206).
    Part { offset: u64, length: u64 },
    /// A range that starts past the end of the file (416, with `Content-Range: bytes */size`).
    Unsatisfiable,
}

/// What a `Range: bytes=…` header asks of a file of `size` bytes.
pub fn range(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Wanted::Whole;
    };
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => match suffix.parse::<u64>() {
            Ok(0) => return Wanted::Unsatisfiable,
            Ok(_) if size == 0 => return Wanted::Whole,
            Ok(n) => (size.saturating_sub(n), size - 1),
            Err(_) => return Wanted::Whole,
        },
        (s, e) => {
            let Ok(start) = s.parse::<u64>() else {
                return Wanted::Whole;
            };
            let end = match e {
                "" => u64::MAX,
                e => match e.parse::<u64>() {
                    Ok(end) if end >= start => end,
                    _ => return Wanted::Whole,
                },
            };
            if start >= size {
                return Wanted::Unsatisfiable;
            }
            (start, end.min(size - 1))
        }
    };
    Wanted::Part {
        offset: start,
        length: end - start + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_only_what_browsers_display() {
        assert!(disposition(FileType::Png, "a.png").starts_with("inline;"));
        assert!(disposition(FileType::Pdf, "q.pdf").starts_with("inline;"));
        for t in [
            FileType::Heic,
            FileType::Text,
            FileType::Csv,
            FileType::Office,
            FileType::Unknown,
        ] {
            assert!(disposition(t, "x").starts_with("attachment;"), "{t:?}");
        }
        let h = headers(FileType::Text, "notes.txt");
        assert!(h.contains(&("x-content-type-options", "nosniff".into())));
        assert!(h
            .iter()
            .any(|(k, v)| *k == "content-security-policy" && v.ends_with("sandbox")));
        assert_eq!(mime(FileType::Office), "application/octet-stream");
    }

    #[test]
    fn a_file_is_named_for_what_its_bytes_are() {
        // Names that fit their type stay as they are, whatever the case of the extension.
        for (t, name) in [
            (FileType::Jpeg, "IMG_0001.JPG"),
            (FileType::Pdf, "Quote May.pdf"),
            (FileType::Text, "notes.txt"),
            (FileType::Csv, "prices.csv"),
            (FileType::Office, "offer.docx"),
            (FileType::Quicktime, "clip.MOV"),
        ] {
            assert_eq!(fitting_name(t, name), name, "{t:?}");
        }
        // Names that claim something else get the type's own extension added.
        for (t, name, served) in [
            (FileType::Text, "invoice.hta", "invoice.hta.txt"),
            (FileType::Text, "update.bat", "update.bat.txt"),
            (FileType::Text, "run.ps1", "run.ps1.txt"),
            (FileType::Text, "quote.html", "quote.html.txt"),
            (FileType::Csv, "list.exe", "list.exe.csv"),
            (FileType::Office, "invoice.zip", "invoice.zip.bin"),
            (FileType::Office, "tool.jar", "tool.jar.bin"),
            (FileType::Png, "photo", "photo.png"),
            (FileType::Png, ".png", ".png.png"),
            (FileType::Pdf, "quote.pdf.", "quote.pdf.pdf"),
            (FileType::Unknown, "x.pdf", "x.pdf.bin"),
        ] {
            assert_eq!(fitting_name(t, name), served, "{t:?} {name}");
        }
        // A cut never leaves `..` or a space before the extension.
        let dotted = "a".repeat(195) + ".exe";
        assert_eq!(
            fitting_name(FileType::Text, &dotted),
            "a".repeat(195) + ".txt"
        );
        let spaced = "a".repeat(194) + " .exe";
        assert_eq!(
            fitting_name(FileType::Text, &spaced),
            "a".repeat(194) + ".txt"
        );
        // Still within the longest name, cut between characters.
        let long = "é".repeat(100) + ".exe";
        let named = fitting_name(FileType::Text, &long);
        assert!(
            named.len() <= beckon_shared::media::MAX_NAME_BYTES,
            "{}",
            named.len()
        );
        assert!(named.ends_with("é.txt"), "{named}");
        // And in the download's header.
        assert!(disposition(FileType::Text, "run.ps1").contains("filename=\"run.ps1.txt\""));
    }

    #[test]
    fn file_names_are_quoted_safely() {
        assert_eq!(
            disposition(FileType::Pdf, "Quote \"May\" €.pdf"),
            "inline; filename=\"Quote _May_ _.pdf\"; filename*=UTF-8''Quote%20%22May%22%20%E2%82%AC.pdf"
        );
    }

    #[test]
    fn ranges() {
        let part = |offset, length| Wanted::Part { offset, length };
        assert_eq!(range(Some("bytes=0-99"), 1000), part(0, 100));
        assert_eq!(range(Some("bytes=900-"), 1000), part(900, 100));
        assert_eq!(range(Some("bytes=-100"), 1000), part(900, 100));
        assert_eq!(range(Some("bytes=-5000"), 1000), part(0, 1000));
        assert_eq!(range(Some("bytes=990-2000"), 1000), part(990, 10));
        // Past the end: 416.
        assert_eq!(range(Some("bytes=1000-"), 1000), Wanted::Unsatisfiable);
        assert_eq!(range(Some("bytes=2000-3000"), 1000), Wanted::Unsatisfiable);
        assert_eq!(range(Some("bytes=-0"), 1000), Wanted::Unsatisfiable);
        assert_eq!(range(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
        // Malformed, several, another unit, none: the whole file.
        assert_eq!(range(Some("bytes=5-1"), 1000), Wanted::Whole);
        assert_eq!(range(Some("bytes=0-1,5-6"), 1000), Wanted::Whole);
        assert_eq!(range(Some("bytes=x-1"), 1000), Wanted::Whole);
        assert_eq!(range(Some("items=0-1"), 1000), Wanted::Whole);
        assert_eq!(range(None, 1000), Wanted::Whole);
    }
}
