//! What a file really is, from its first bytes (never from its name or the sender's claim),
//! and, for images, its width and height. Pure; tested natively.

use beckon_shared::media::FileType;
use serde::{Deserialize, Serialize};

/// Why a file's bytes are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    /// HTML, SVG, XML: markup a browser could run.
    Markup,
    /// Bytes of no allowed kind (executables, archives, unknown binaries).
    NotAllowed(Option<&'static str>),
}

impl Refusal {
    pub fn describe(self) -> String {
        match self {
            Refusal::Empty => "The file is empty.".into(),
            Refusal::Markup => {
                "HTML, SVG and XML files are not accepted (they can carry scripts).".into()
            }
            Refusal::NotAllowed(Some(mime)) => format!(
                "Files of this type ({mime}) are not accepted: send images, videos, PDFs, text or Office documents."
            ),
            Refusal::NotAllowed(None) => {
                "This kind of file is not accepted: send images, videos, PDFs, text or Office documents.".into()
            }
        }
    }
}

/// What the bytes say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub file_type: FileType,
    /// The exact MIME type served for it.
    pub mime: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// What the bytes said, as a conversation records it (the MIME type follows from the type).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct SniffedFile {
    pub file_type: FileType,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl From<Sniffed> for SniffedFile {
    fn from(s: Sniffed) -> SniffedFile {
        SniffedFile {
            file_type: s.file_type,
            width: s.width,
            height: s.height,
        }
    }
}

/// Decides the type of a file from `head` (its first bytes: at least a few KB when the file
/// is that large); `name` only chooses between plain text and CSV for text.
pub fn sniff(head: &[u8], name: &str) -> Result<Sniffed, Refusal> {
    if head.is_empty() {
        return Err(Refusal::Empty);
    }
    let found = infer::get(head).map(|t| t.mime_type());
    let (file_type, mime) = match found {
        Some("image/jpeg") => (FileType::Jpeg, "image/jpeg"),
        Some("image/png") => (FileType::Png, "image/png"),
        Some("image/gif") => (FileType::Gif, "image/gif"),
        Some("image/webp") => (FileType::Webp, "image/webp"),
        Some("image/heif") => (FileType::Heic, "image/heic"),
        Some("video/mp4" | "video/x-m4v") => (FileType::Mp4, "video/mp4"),
        Some("video/webm") => (FileType::Webm, "video/webm"),
        Some("video/quicktime") => (FileType::Quicktime, "video/quicktime"),
        Some("application/pdf") => (FileType::Pdf, "application/pdf"),
        Some(
            m @ ("application/msword"
            | "application/vnd.ms-excel"
            | "application/vnd.ms-powerpoint"
            | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            | "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ) => (FileType::Office, m),
        Some(m) if m.contains("html") || m.contains("xml") => return Err(Refusal::Markup),
        Some(other) => return Err(Refusal::NotAllowed(Some(other))),
        None => text(head, name)?,
    };
    let (width, height) = match file_type.family() {
        beckon_shared::media::Family::Image => imagesize::blob_size(head)
            .ok()
            .map(|s| (u32::try_from(s.width).ok(), u32::try_from(s.height).ok()))
            .unwrap_or((None, None)),
        _ => (None, None),
    };
    Ok(Sniffed {
        file_type,
        mime,
        width,
        height,
    })
}

/// Plain text or CSV: UTF-8 (a character cut at the end of `head` is fine) without NUL or
/// other control characters than tab, CR, LF and form feed, and not markup.
fn text(head: &[u8], name: &str) -> Result<(FileType, &'static str), Refusal> {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return Err(Refusal::NotAllowed(None)),
    };
    let text = valid.trim_start_matches('\u{feff}');
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n' | '\u{c}'))
    {
        return Err(Refusal::NotAllowed(None));
    }
    if text.trim_start().starts_with('<') {
        return Err(Refusal::Markup);
    }
    if name.to_ascii_lowercase().ends_with(".csv") {
        Ok((FileType::Csv, "text/csv; charset=utf-8"))
    } else {
        Ok((FileType::Text, "text/plain; charset=utf-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
    ];

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0x18, b'f', b't', b'y', b'p'];
        v.extend_from_slice(brand);
        v.extend_from_slice(&[0, 0, 0, 0]);
        v.extend_from_slice(brand);
        v.extend_from_slice(b"isom");
        v
    }

    #[test]
    fn images_with_dimensions() {
        let s = sniff(PNG_1X1, "x.bin").unwrap();
        assert_eq!((s.file_type, s.mime), (FileType::Png, "image/png"));
        assert_eq!((s.width, s.height), (Some(3), Some(2)));
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        assert_eq!(sniff(&jpeg, "a.png").unwrap().file_type, FileType::Jpeg);
        assert_eq!(
            sniff(b"GIF89a\x01\x00\x01\x00", "g").unwrap().file_type,
            FileType::Gif
        );
        assert_eq!(
            sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 ", "w")
                .unwrap()
                .file_type,
            FileType::Webp
        );
        assert_eq!(
            sniff(&ftyp(b"heic"), "h").unwrap().file_type,
            FileType::Heic
        );
    }

    #[test]
    fn videos_and_documents() {
        assert_eq!(sniff(&ftyp(b"isom"), "v").unwrap().file_type, FileType::Mp4);
        assert_eq!(
            sniff(&ftyp(b"qt  "), "v").unwrap().file_type,
            FileType::Quicktime
        );
        let webm = [
            0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, b'w', b'e',
            b'b', b'm',
        ];
        let mut webm = webm.to_vec();
        webm.resize(512, 0);
        assert_eq!(sniff(&webm, "v").unwrap().file_type, FileType::Webm);
        let pdf = sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "q.pdf").unwrap();
        assert_eq!(
            (pdf.file_type, pdf.mime),
            (FileType::Pdf, "application/pdf")
        );
    }

    #[test]
    fn text_and_csv() {
        assert_eq!(
            sniff(b"hello\nworld\n", "notes").unwrap().file_type,
            FileType::Text
        );
        let csv = sniff("name;price\nFlat white;3,50 €\n".as_bytes(), "Prices.CSV").unwrap();
        assert_eq!(
            (csv.file_type, csv.mime),
            (FileType::Csv, "text/csv; charset=utf-8")
        );
        // A multi-byte character cut by the end of the head is still text.
        let cut = &"prix: 3 €".as_bytes()[..10];
        assert_eq!(sniff(cut, "t.txt").unwrap().file_type, FileType::Text);
    }

    #[test]
    fn refusals() {
        assert_eq!(sniff(b"", "e.png"), Err(Refusal::Empty));
        // An executable renamed .png (and claimed as image/png by its sender).
        let elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
        assert!(matches!(sniff(elf, "cat.png"), Err(Refusal::NotAllowed(_))));
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert!(matches!(
            sniff(exe, "photo.png"),
            Err(Refusal::NotAllowed(_))
        ));
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(sniff(svg, "logo.png"), Err(Refusal::Markup));
        let html = b"\n  <!doctype html><html><script>alert(1)</script>";
        assert_eq!(sniff(html, "quote.pdf"), Err(Refusal::Markup));
        assert_eq!(
            sniff(b"\xef\xbb\xbf<?xml version=\"1.0\"?>", "x.txt"),
            Err(Refusal::Markup)
        );
        assert!(matches!(
            sniff(b"PK\x03\x04\x14\x00\x00\x00", "a.zip"),
            Err(Refusal::NotAllowed(_))
        ));
        assert!(matches!(
            sniff(b"bin\x00ary", "a.txt"),
            Err(Refusal::NotAllowed(None))
        ));
        assert!(Refusal::NotAllowed(Some("application/x-executable"))
            .describe()
            .contains("not accepted"));
    }
}
