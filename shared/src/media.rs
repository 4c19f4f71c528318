//! Files in conversations: which kinds are allowed, how large each may be, what a file name may
//! contain, and how an upload is cut into parts. Shared so the widget and the inbox refuse what
//! the edge would refuse (before any byte is sent); the edge decides the real type from the
//! file's bytes, never from a name or a claim.

crate::named! {
/// The kinds of file a conversation carries, as the edge decided them from the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType: other Unknown {
    Jpeg = "jpeg",
    Png = "png",
    Gif = "gif",
    Webp = "webp",
    Heic = "heic",
    Mp4 = "mp4",
    Webm = "webm",
    Quicktime = "quicktime",
    Pdf = "pdf",
    Text = "text",
    Csv = "csv",
    /// Word, Excel, PowerPoint (OOXML or the older binary formats).
    Office = "office",
    /// A type this client version does not know (shown as a download).
    Unknown = "unknown",
}
}

/// How a file is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Image,
    Video,
    Document,
}

/// Largest image, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// Largest video, in bytes.
pub const MAX_VIDEO_BYTES: u64 = 50 * 1024 * 1024;
/// Largest document (PDF, text, Office), in bytes.
pub const MAX_DOCUMENT_BYTES: u64 = 25 * 1024 * 1024;
/// Largest file of any kind: what an upload may announce before its bytes say what it is.
pub const MAX_FILE_BYTES: u64 = MAX_VIDEO_BYTES;
/// Most bytes one conversation may hold in files.
pub const MAX_CONVERSATION_BYTES: u64 = 500 * 1024 * 1024;
/// Most uploads one conversation may start per [`UPLOAD_WINDOW_MS`].
pub const MAX_UPLOADS_PER_WINDOW: u32 = 30;
pub const UPLOAD_WINDOW_MS: i64 = 10 * 60 * 1000;
/// Most files on one message.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;
/// Longest file name, in bytes (UTF-8).
pub const MAX_NAME_BYTES: usize = 200;
/// A person's photo: at most this large (a photo for a 22 px circle needs far less)…
pub const MAX_AVATAR_BYTES: usize = 512 * 1024;
/// …and this many pixels wide and high, at least and at most.
pub const AVATAR_PX: std::ops::RangeInclusive<u32> = 32..=2048;
/// An upload is sent in parts of this size (the last may be smaller); a dropped connection
/// costs at most one part. R2 needs every part but the last to be at least 5 MiB.
pub const PART_BYTES: u64 = 5 * 1024 * 1024;
/// An upload not completed within this long is aborted and forgotten.
pub const UPLOAD_TTL_MS: i64 = 24 * 60 * 60 * 1000;

impl FileType {
    /// The type named `s` ([`FileType::Unknown`] for any other name).
    pub fn parse(s: &str) -> FileType {
        FileType::named(s).unwrap_or(FileType::Unknown)
    }

    pub fn family(self) -> Family {
        match self {
            FileType::Jpeg | FileType::Png | FileType::Gif | FileType::Webp | FileType::Heic => {
                Family::Image
            }
            FileType::Mp4 | FileType::Webm | FileType::Quicktime => Family::Video,
            _ => Family::Document,
        }
    }

    /// Largest file of this type, in bytes.
    pub fn max_bytes(self) -> u64 {
        match self.family() {
            Family::Image => MAX_IMAGE_BYTES,
            Family::Video => MAX_VIDEO_BYTES,
            Family::Document => MAX_DOCUMENT_BYTES,
        }
    }

    /// Whether browsers may show it inline (image, video or PDF viewer); everything else is
    /// served as a download. HEIC is an image most browsers cannot draw: a download.
    pub fn inline(self) -> bool {
        matches!(
            self,
            FileType::Jpeg
                | FileType::Png
                | FileType::Gif
                | FileType::Webp
                | FileType::Mp4
                | FileType::Webm
                | FileType::Quicktime
                | FileType::Pdf
        )
    }

    /// A readable name for error messages and document cards.
    pub fn label(self) -> &'static str {
        match self {
            FileType::Jpeg => "JPEG image",
            FileType::Png => "PNG image",
            FileType::Gif => "GIF image",
            FileType::Webp => "WebP image",
            FileType::Heic => "HEIC image",
            FileType::Mp4 => "MP4 video",
            FileType::Webm => "WebM video",
            FileType::Quicktime => "QuickTime video",
            FileType::Pdf => "PDF",
            FileType::Text => "text file",
            FileType::Csv => "CSV file",
            FileType::Office => "Office document",
            FileType::Unknown => "file",
        }
    }
}

/// What the browser says a file is (`File.type`), mapped to the largest size its kind allows:
/// a first check before uploading. `None`: a type Beckon does not take.
pub fn claimed_limit(mime: &str) -> Option<u64> {
    let mime = mime.to_ascii_lowercase();
    let (top, sub) = mime.split_once('/')?;
    match (top, sub) {
        ("image", "jpeg" | "png" | "gif" | "webp" | "heic" | "heif") => Some(MAX_IMAGE_BYTES),
        ("video", "mp4" | "webm" | "quicktime") => Some(MAX_VIDEO_BYTES),
        ("application", "pdf") | ("text", "plain" | "csv") => Some(MAX_DOCUMENT_BYTES),
        ("application", s)
            if s.starts_with("vnd.openxmlformats-officedocument.")
                || matches!(s, "msword" | "vnd.ms-excel" | "vnd.ms-powerpoint") =>
        {
            Some(MAX_DOCUMENT_BYTES)
        }
        _ => None,
    }
}

/// Why a file name is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    /// `/`, `\` or a `..` component: a name, not a path.
    Path,
    /// Control characters (including newlines and NUL), and the line and paragraph
    /// separators.
    Control,
    /// Bidirectional overrides and isolates, which can make `gpj.exe` read as `exe.jpg`.
    Bidi,
    /// Characters drawn as nothing (zero-width space, word joiner, BOM, soft hyphen, fillers),
    /// which can hide part of a name or make two names look alike. (The zero-width joiner and
    /// non-joiner are allowed: emoji and several scripts need them.)
    Invisible,
}

impl NameError {
    pub fn describe(self) -> &'static str {
        match self {
            NameError::Empty => "The file name is empty.",
            NameError::TooLong => "The file name is too long (at most 200 bytes).",
            NameError::Path => "The file name must not contain / or \\ or \"..\".",
            NameError::Control => "The file name contains control characters.",
            NameError::Bidi => "The file name contains text-direction override characters.",
            NameError::Invisible => "The file name contains invisible characters.",
        }
    }
}

/// Checks a file name as given by the sender; returns it trimmed.
pub fn check_name(name: &str) -> Result<&str, NameError> {
    let name = name.trim();
    if name.is_empty() || name == "." {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong);
    }
    if name.contains(['/', '\\']) || name.contains("..") {
        return Err(NameError::Path);
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err(NameError::Control);
    }
    if name
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'))
    {
        return Err(NameError::Bidi);
    }
    if name.chars().any(|c| {
        matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{2060}'..='\u{2064}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        )
    }) {
        return Err(NameError::Invisible);
    }
    Ok(name)
}

/// How many parts an upload of `size` bytes has.
pub fn part_count(size: u64) -> u32 {
    size.div_ceil(PART_BYTES).max(1) as u32
}

/// The exact length part `n` (1-based) of an upload of `size` bytes must have.
pub fn part_len(size: u64, n: u32) -> Option<u64> {
    if n == 0 || n > part_count(size) {
        return None;
    }
    let start = (n as u64 - 1) * PART_BYTES;
    Some((size - start).min(PART_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check_name("  quote 2026.pdf "), Ok("quote 2026.pdf"));
        assert_eq!(check_name("фото.jpg"), Ok("фото.jpg"));
        // Joiners stay: an emoji family, and Persian's non-joiner.
        assert!(check_name("\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}.jpg").is_ok());
        assert!(check_name("\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0645}.pdf").is_ok());
        for (bad, why) in [
            ("", NameError::Empty),
            ("   ", NameError::Empty),
            ("../etc/passwd", NameError::Path),
            ("a/b.png", NameError::Path),
            ("a\\b.png", NameError::Path),
            ("report..pdf", NameError::Path),
            ("line\nbreak.txt", NameError::Control),
            ("nul\0.png", NameError::Control),
            ("a\u{2028}b.pdf", NameError::Control),
            ("invoice\u{202E}gpj.exe", NameError::Bidi),
            ("x\u{2066}y.pdf", NameError::Bidi),
            ("invoice\u{200B}.pdf", NameError::Invisible),
            ("\u{FEFF}report.pdf", NameError::Invisible),
            ("pay\u{00AD}ment.pdf", NameError::Invisible),
            ("\u{3164}.png", NameError::Invisible),
        ] {
            assert_eq!(check_name(bad), Err(why), "{bad:?}");
        }
        assert_eq!(check_name(&"a".repeat(201)), Err(NameError::TooLong));
        assert!(check_name(&"a".repeat(200)).is_ok());
    }

    #[test]
    fn parts() {
        assert_eq!(part_count(1), 1);
        assert_eq!(part_count(PART_BYTES), 1);
        assert_eq!(part_count(PART_BYTES + 1), 2);
        assert_eq!(part_count(30 * 1024 * 1024), 6);
        assert_eq!(part_len(PART_BYTES + 7, 1), Some(PART_BYTES));
        assert_eq!(part_len(PART_BYTES + 7, 2), Some(7));
        assert_eq!(part_len(PART_BYTES + 7, 3), None);
        assert_eq!(part_len(10, 0), None);
    }

    #[test]
    fn kinds_and_limits() {
        assert_eq!(FileType::Heic.family(), Family::Image);
        assert!(!FileType::Heic.inline());
        assert!(FileType::Pdf.inline());
        assert!(!FileType::Office.inline() && !FileType::Text.inline());
        assert_eq!(FileType::Mp4.max_bytes(), MAX_VIDEO_BYTES);
        assert_eq!(claimed_limit("IMAGE/PNG"), Some(MAX_IMAGE_BYTES));
        assert_eq!(claimed_limit("image/svg+xml"), None);
        assert_eq!(claimed_limit("text/html"), None);
        assert_eq!(
            claimed_limit(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ),
            Some(MAX_DOCUMENT_BYTES)
        );
        let json = serde_json::to_string(&FileType::Quicktime).unwrap();
        assert_eq!(json, "\"quicktime\"");
        assert_eq!(
            serde_json::from_str::<FileType>("\"hologram\"").unwrap(),
            FileType::Unknown
        );
    }

    #[test]
    fn file_type_names_match_the_wire() {
        for &t in FileType::ALL {
            let wire = serde_json::to_value(t).unwrap();
            assert_eq!(wire.as_str(), Some(t.as_str()));
            assert_eq!(FileType::parse(t.as_str()), t);
        }
        assert_eq!(FileType::parse("exe"), FileType::Unknown);
    }
}
