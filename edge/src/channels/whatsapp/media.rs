//! Files on WhatsApp (CHANNELS.md §1.2–1.4, §1.7), sans-IO. Inside the window a file goes as
//! an `image` (JPEG, PNG ≤ 5 MB), `video` (MP4 ≤ 16 MB) or `document` (PDF, text, Office ≤
//! 100 MB, with its filename) message, by the id of a multipart upload to `/media`; any other
//! file (or one WhatsApp refuses) is a line with a link in the text. Agents' images, videos
//! and documents are fetched by media id: `GET /{media-id}` gives a URL valid for five
//! minutes, downloaded with the same bearer token.

use super::api::{messages_url, Addressee};
use crate::channels::api::{ApiRequest, ApiResponse, Failure, RelayFile};
use crate::channels::multipart::Form;
use beckon_shared::media::FileType;
use serde::Deserialize;
use serde_json::json;

/// WhatsApp's media message kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Image,
    Video,
    Document,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Document => "document",
        }
    }
}

/// How `file` can go as a media message, if it can (WhatsApp's kinds and limits).
pub fn kind(file: &RelayFile) -> Option<Kind> {
    const MB: u64 = 1024 * 1024;
    let a = file.attachment;
    match a.kind {
        FileType::Jpeg | FileType::Png if a.size <= 5 * MB => Some(Kind::Image),
        FileType::Mp4 if a.size <= 16 * MB => Some(Kind::Video),
        FileType::Pdf | FileType::Text | FileType::Csv | FileType::Office if a.size <= 100 * MB => {
            Some(Kind::Document)
        }
        _ => None,
    }
}

/// The multipart upload of `file` to the business number's `/media`.
pub fn upload(t: &Addressee, file: &RelayFile) -> ApiRequest {
    let a = file.attachment;
    Form::new()
        .field("messaging_product", "whatsapp")
        .field("type", &a.mime)
        .with_file(
            format!("{}/{}/{}/media", t.api_base, t.version, t.phone_number_id),
            vec![("authorization", format!("Bearer {}", t.access_token))],
            ("file", &a.name, &a.mime),
            (&file.key, a.size),
        )
}

#[derive(Deserialize)]
struct Uploaded {
    #[serde(default)]
    id: Option<String>,
}

/// `/media`'s answer → the media id. An error is this file's alone (`Rejected`) unless it is
/// a throttle, a server error or the token.
pub fn parse_upload(resp: &ApiResponse) -> Result<String, Failure> {
    match serde_json::from_str::<Uploaded>(&resp.body) {
        Ok(Uploaded { id: Some(id) }) if resp.status < 300 => Ok(id),
        _ => match super::api::parse_sent(resp) {
            Err(Failure::Permanent { reason }) if resp.status != 401 => {
                Err(Failure::Rejected { reason })
            }
            Err(f) => Err(f),
            Ok(_) => Err(Failure::Rejected {
                reason: "whatsapp: no media id".into(),
            }),
        },
    }
}

/// The media message for an uploaded file, with `caption` (and the filename for documents).
pub fn send(
    t: &Addressee,
    kind: Kind,
    media_id: &str,
    file: &RelayFile,
    caption: &str,
) -> ApiRequest {
    let mut object = json!({ "id": media_id });
    if !caption.is_empty() {
        object["caption"] = caption.into();
    }
    if kind == Kind::Document {
        object["filename"] = file.attachment.name.as_str().into();
    }
    let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": t.to,
                          "type": kind.as_str()});
    body[kind.as_str()] = object;
    ApiRequest::json(
        messages_url(t.api_base, t.version, t.phone_number_id),
        Some(t.access_token),
        &body,
    )
}

/// `GET /{media-id}`: where an inbound file is.
pub fn locate(api_base: &str, version: &str, token: &str, media_id: &str) -> ApiRequest {
    ApiRequest::get(format!("{api_base}/{version}/{media_id}"), Some(token))
}

#[derive(Deserialize)]
struct Located {
    #[serde(default)]
    url: Option<String>,
}

/// `GET /{media-id}`'s answer → the download (its URL verbatim, with the bearer token).
pub fn download(resp: &ApiResponse, token: &str) -> Result<ApiRequest, Failure> {
    match serde_json::from_str::<Located>(&resp.body) {
        Ok(Located { url: Some(url) }) if resp.status < 300 => {
            Ok(ApiRequest::get(url, Some(token)))
        }
        _ if resp.status >= 500 || resp.status == 429 => {
            Err(Failure::from_status(resp.status, None, "whatsapp media"))
        }
        _ => Err(Failure::Rejected {
            reason: format!("whatsapp media: HTTP {}", resp.status),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::proto::v1::Attachment;
    use beckon_shared::AttachmentId;

    fn attachment(name: &str, kind: FileType, size: u64) -> Attachment {
        Attachment {
            id: AttachmentId::parse("a_0123456789abcdef0123456789abcdef").unwrap(),
            name: name.into(),
            kind,
            mime: "application/pdf".into(),
            size,
            width: None,
            height: None,
            url: String::new(),
            held_in: None,
        }
    }

    fn file(a: &Attachment) -> RelayFile<'_> {
        RelayFile {
            attachment: a,
            key: "c/c_x/a_y".into(),
            link: None,
        }
    }

    const TO: Addressee = Addressee {
        api_base: "http://wa",
        version: "v25.0",
        phone_number_id: "106540352242922",
        access_token: "TOKEN",
        to: "16505551234",
    };

    #[test]
    fn kinds_follow_whatsapps_limits() {
        let mb = 1024 * 1024;
        let k = |t, size| kind(&file(&attachment("f", t, size)));
        assert_eq!(k(FileType::Jpeg, 5 * mb), Some(Kind::Image));
        assert_eq!(k(FileType::Png, 5 * mb + 1), None);
        assert_eq!(k(FileType::Webp, 1000), None);
        assert_eq!(k(FileType::Mp4, 16 * mb), Some(Kind::Video));
        assert_eq!(k(FileType::Quicktime, 1000), None);
        assert_eq!(k(FileType::Pdf, 25 * mb), Some(Kind::Document));
    }

    #[test]
    fn uploads_then_sends_by_id() {
        let a = attachment("quote.pdf", FileType::Pdf, 2048);
        let up = upload(&TO, &file(&a));
        assert_eq!(up.url, "http://wa/v25.0/106540352242922/media");
        assert!(up
            .body
            .contains("name=\"messaging_product\"\r\n\r\nwhatsapp\r\n"));
        assert!(up.body.contains("name=\"type\"\r\n\r\napplication/pdf\r\n"));
        assert!(up
            .body
            .contains("name=\"file\"; filename=\"quote.pdf\"\r\nContent-Type: application/pdf"));
        assert!(up
            .headers
            .contains(&("authorization", "Bearer TOKEN".to_owned())));
        let ok = ApiResponse {
            status: 200,
            retry_after: None,
            body: r#"{"id":"4490709327384033"}"#.into(),
        };
        assert_eq!(parse_upload(&ok).unwrap(), "4490709327384033");
        let bad = ApiResponse {
            status: 400,
            retry_after: None,
            body: r#"{"error":{"message":"(#131053) Media upload error","type":"OAuthException","code":131053}}"#.into(),
        };
        assert!(matches!(parse_upload(&bad), Err(Failure::Rejected { .. })));
        let s = send(
            &TO,
            Kind::Document,
            "4490709327384033",
            &file(&a),
            "Visitor",
        );
        let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
        assert_eq!(
            body["document"],
            json!({"id": "4490709327384033", "caption": "Visitor", "filename": "quote.pdf"})
        );
        assert_eq!(body["type"], "document");
    }

    #[test]
    fn inbound_media_is_located_then_downloaded() {
        let l = locate("http://wa", "v25.0", "TOKEN", "2621233374848975");
        assert_eq!(
            (l.method, l.url.as_str()),
            ("GET", "http://wa/v25.0/2621233374848975")
        );
        let found = ApiResponse {
            status: 200,
            retry_after: None,
            body: r#"{"messaging_product":"whatsapp","url":"http://wa/media-bytes/1","mime_type":"image/jpeg","sha256":"x","file_size":"303833","id":"1"}"#.into(),
        };
        let d = download(&found, "TOKEN").unwrap();
        assert_eq!(d.url, "http://wa/media-bytes/1");
        assert!(d
            .headers
            .contains(&("authorization", "Bearer TOKEN".to_owned())));
    }
}
