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

/// `Content-Disposition` for `name`: an ASCII fallback and the exact UTF-8 name.
pub fn disposition(file_type: FileType, name: &str) -> String {
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

/// A `Range: bytes=…` header as (offset, length) within a file of `size` bytes; `None` when
/// absent or not satisfiable as one range (the whole file is then served).
pub fn range(header: Option<&str>, size: u64) -> Option<(u64, u64)> {
    let spec = header?.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (s, "") => (s.parse().ok()?, size - 1),
        (s, e) => (s.parse().ok()?, e.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then(|| (start, end - start + 1))
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
    fn file_names_are_quoted_safely() {
        assert_eq!(
            disposition(FileType::Pdf, "Quote \"May\" €.pdf"),
            "inline; filename=\"Quote _May_ _.pdf\"; filename*=UTF-8''Quote%20%22May%22%20%E2%82%AC.pdf"
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(range(Some("bytes=0-99"), 1000), Some((0, 100)));
        assert_eq!(range(Some("bytes=900-"), 1000), Some((900, 100)));
        assert_eq!(range(Some("bytes=-100"), 1000), Some((900, 100)));
        assert_eq!(range(Some("bytes=990-2000"), 1000), Some((990, 10)));
        assert_eq!(range(Some("bytes=1000-"), 1000), None);
        assert_eq!(range(Some("bytes=5-1"), 1000), None);
        assert_eq!(range(Some("bytes=0-1,5-6"), 1000), None);
        assert_eq!(range(Some("items=0-1"), 1000), None);
        assert_eq!(range(None, 1000), None);
    }
}
