//! People's photos, drawn beside their messages: a JPEG, PNG or WebP of 32 to 2,048 px a side
//! and at most 512 KiB, decided from its bytes; one per person in R2 under `avatars/{person}`,
//! served at [`paths::AVATAR`] to anyone (a widget on any site shows it). A message keeps its
//! author's photo address, which always serves their current photo (a removed one is 404 and
//! the initial shows); the `v` in it, the photo's digest, only makes a new photo a new address
//! for browsers' caches. Pure; the HTTP shells are in `routes/people.rs` (set, remove) and
//! `routes/public.rs` (serve).

use super::sniff;
use crate::error::{Error, Result};
use beckon_shared::media::{FileType, AVATAR_PX, MAX_AVATAR_BYTES};
use beckon_shared::proto::v1::{paths, ErrorCode};
use sha2::{Digest, Sha256};

/// A photo that passed: what it is and its digest (its version).
#[derive(Debug, PartialEq, Eq)]
pub struct Photo {
    pub file_type: FileType,
    pub digest: String,
}

/// Checks an uploaded photo: its size, its kind from its bytes, its dimensions.
pub fn check(bytes: &[u8]) -> Result<Photo> {
    if bytes.len() > MAX_AVATAR_BYTES {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("a photo is at most {} KiB", MAX_AVATAR_BYTES / 1024),
        ));
    }
    let refused = || {
        Error::new(
            ErrorCode::UnsupportedFile,
            "a photo must be a JPEG, PNG or WebP image",
        )
    };
    let s = sniff::sniff(bytes, "").map_err(|r| match r {
        sniff::Refusal::Empty => Error::bad_request("the photo is empty"),
        _ => refused(),
    })?;
    if !matches!(s.file_type, FileType::Jpeg | FileType::Png | FileType::Webp) {
        return Err(refused());
    }
    match (s.width, s.height) {
        (Some(w), Some(h)) if AVATAR_PX.contains(&w) && AVATAR_PX.contains(&h) => {}
        (Some(w), Some(h)) => {
            return Err(Error::bad_request(format!(
                "the photo is {w}×{h} px; each side must be {} to {} px",
                AVATAR_PX.start(),
                AVATAR_PX.end()
            )))
        }
        _ => return Err(Error::bad_request("the photo's size cannot be read")),
    }
    Ok(Photo {
        file_type: s.file_type,
        digest: hex::encode(Sha256::digest(bytes)),
    })
}

/// The R2 key of a person's photo.
pub fn object_key(person: &str) -> String {
    format!("avatars/{person}")
}

/// The address of a person's photo, at the version with this digest.
pub fn path(person: &str, digest: &str) -> String {
    format!(
        "{}?v={}",
        paths::fill(paths::AVATAR, &[person]),
        &digest[..digest.len().min(12)]
    )
}

/// A stored photo's kind, from the type it was stored with.
pub fn stored_type(mime: Option<&str>) -> Option<FileType> {
    [FileType::Jpeg, FileType::Png, FileType::Webp]
        .into_iter()
        .find(|t| Some(super::serve::mime(*t)) == mime)
}

/// The headers of a photo: its type, cached five minutes (a removed photo is gone from every
/// page within that), and never run as anything else.
pub fn headers(file_type: FileType) -> [(&'static str, &'static str); 5] {
    [
        ("content-type", super::serve::mime(file_type)),
        ("cache-control", "public, max-age=300"),
        ("x-content-type-options", "nosniff"),
        ("content-security-policy", super::serve::CSP),
        ("cross-origin-resource-policy", "cross-origin"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG's first bytes with the given dimensions (the check reads no further).
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn a_photo_is_a_jpeg_png_or_webp_of_a_sensible_size() {
        let ok = check(&png(96, 96)).unwrap();
        assert_eq!(ok.file_type, FileType::Png);
        assert_eq!(ok.digest.len(), 64);
        assert_eq!(ok.digest, check(&png(96, 96)).unwrap().digest, "by content");
        assert_ne!(ok.digest, check(&png(97, 96)).unwrap().digest);
        assert_eq!(
            path("pp_0123456789abcdef", &ok.digest),
            format!("/api/v1/avatars/pp_0123456789abcdef?v={}", &ok.digest[..12])
        );
        let message = |bytes: &[u8]| check(bytes).unwrap_err().to_string();
        assert!(
            message(&png(16, 96)).contains("16×96 px"),
            "{}",
            message(&png(16, 96))
        );
        assert!(message(&png(96, 4096)).contains("32 to 2048 px"));
        assert!(message(b"<svg xmlns='http://www.w3.org/2000/svg'/>").contains("JPEG, PNG or WebP"));
        assert!(message(b"GIF89a\x60\0\x60\0").contains("JPEG, PNG or WebP"));
        assert!(message(b"%PDF-1.7\n").contains("JPEG, PNG or WebP"));
        assert!(message(b"").contains("empty"));
        let mut big = png(96, 96);
        big.resize(MAX_AVATAR_BYTES + 1, 0);
        assert!(message(&big).contains("512 KiB"));
    }

    #[test]
    fn a_photo_is_served_as_what_it_is_and_never_runs() {
        let h = headers(FileType::Webp);
        assert!(h.contains(&("content-type", "image/webp")));
        assert!(h.contains(&("x-content-type-options", "nosniff")));
        assert!(h.contains(&("cache-control", "public, max-age=300")));
        assert!(h
            .iter()
            .any(|(k, v)| *k == "content-security-policy" && v.contains("sandbox")));
        assert_eq!(stored_type(Some("image/png")), Some(FileType::Png));
        assert_eq!(stored_type(Some("image/svg+xml")), None);
        assert_eq!(stored_type(None), None);
    }
}
