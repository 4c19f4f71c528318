//! Files in Telegram (CHANNELS.md §2.2), sans-IO. A message's files go into the topic (or the
//! contact's chat) by multipart upload — `sendPhoto` for JPEG, PNG and WebP, `sendVideo` for
//! MP4, `sendDocument` for everything else —, the first carrying the message as its caption
//! (at most [`MAX_CAPTION_CHARS`] visible characters; the rest follows as a text message). A
//! file Telegram refuses is sent as a line with a link instead. Agents' files come back
//! through `getFile` and the file endpoint (a bot may download up to
//! [`MAX_DOWNLOAD_BYTES`]).

use super::api::{escape_html, result, url, MAX_TEXT_CHARS};
use crate::channels::api::{clip, ApiRequest, ApiResponse, Failure};
use crate::channels::multipart::Form;
use crate::channels::RelayFile;
use beckon_shared::media::FileType;
use serde_json::json;

/// Telegram's limit on a caption, counted after entity parsing.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// The largest file a bot may download.
pub const MAX_DOWNLOAD_BYTES: u64 = 20 * 1024 * 1024;

/// Whether a bot can send `a` to a broadcast's recipients (photos up to 10 MB, other files up
/// to 50 MB); `Err` says why not.
pub fn broadcast_check(a: &beckon_shared::proto::v1::Attachment) -> Result<(), String> {
    const MB: u64 = 1024 * 1024;
    let max = match method(a.kind).0 {
        "sendPhoto" => 10 * MB,
        _ => 50 * MB,
    };
    if a.size > max {
        return Err(format!(
            "{} is {} MB: too large for Telegram (a bot sends {} of at most {} MB)",
            a.name,
            a.size.div_ceil(MB),
            if max == 10 * MB { "photos" } else { "files" },
            max / MB
        ));
    }
    Ok(())
}

/// One send of a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Send<'a> {
    Text(String),
    File {
        file: &'a RelayFile<'a>,
        caption: Option<String>,
        /// What is sent instead if Telegram refuses the file.
        fallback: String,
    },
}

/// A send and its name in the delivery ledger (a retry skips the sends already made).
#[derive(Debug, PartialEq, Eq)]
pub struct Step<'a> {
    pub key: String,
    pub send: Send<'a>,
}

/// The sends of a message: `head` (HTML, `head_chars` visible characters — who speaks, and on
/// a first message the site and page) then `body`; with files, one send per file, the first
/// captioned.
pub fn plan<'a>(
    (head, head_chars): (&str, usize),
    body: &str,
    files: &'a [RelayFile<'a>],
) -> Vec<Step<'a>> {
    let Some((first, rest)) = files.split_first() else {
        let text = format!(
            "{head}{}",
            escape_html(&clip(body, MAX_TEXT_CHARS.saturating_sub(head_chars)))
        );
        return vec![Step {
            key: "text".into(),
            send: Send::Text(text),
        }];
    };
    let (captioned, overflow) = split_at_chars(body, MAX_CAPTION_CHARS.saturating_sub(head_chars));
    let caption = if body.is_empty() {
        head.trim_end_matches(": ").to_owned()
    } else {
        format!("{head}{}", escape_html(captioned))
    };
    let line = |f: &RelayFile| escape_html(&f.line());
    let mut steps = vec![Step {
        key: format!("file:{}", first.attachment.id),
        send: Send::File {
            file: first,
            fallback: format!("{caption}\n{}", line(first)),
            caption: Some(caption),
        },
    }];
    steps.extend(rest.iter().map(|f| Step {
        key: format!("file:{}", f.attachment.id),
        send: Send::File {
            file: f,
            caption: None,
            fallback: format!("{}{}", head, line(f)),
        },
    }));
    if !overflow.is_empty() {
        steps.push(Step {
            key: "text".into(),
            send: Send::Text(escape_html(&clip(overflow, MAX_TEXT_CHARS))),
        });
    }
    steps
}

/// `s` cut after at most `max` characters — at the last space of the second half if there is
/// one — and the rest, without its leading space.
fn split_at_chars(s: &str, max: usize) -> (&str, &str) {
    let Some((cut, _)) = s.char_indices().nth(max) else {
        return (s, "");
    };
    let half = s.char_indices().nth(max / 2).map_or(0, |(i, _)| i);
    let at = s[..cut].rfind(' ').filter(|&i| i > half).unwrap_or(cut);
    (&s[..at], s[at..].trim_start())
}

/// The method and field a file is sent with.
fn method(t: FileType) -> (&'static str, &'static str) {
    match t {
        FileType::Jpeg | FileType::Png | FileType::Webp => ("sendPhoto", "photo"),
        FileType::Mp4 => ("sendVideo", "video"),
        _ => ("sendDocument", "document"),
    }
}

/// The multipart upload of `file` into `chat_id` (a topic if `thread_id`), with its caption.
pub fn send_file(
    (api_base, token): (&str, &str),
    (chat_id, thread_id): (i64, Option<i64>),
    file: &RelayFile,
    (caption, markup): (Option<&str>, Option<&serde_json::Value>),
) -> ApiRequest {
    let a = file.attachment;
    let (method, field) = method(a.kind);
    let mut form = Form::new().field("chat_id", &chat_id.to_string());
    if let Some(t) = thread_id {
        form = form.field("message_thread_id", &t.to_string());
    }
    if let Some(c) = caption.filter(|c| !c.is_empty()) {
        form = form.field("caption", c).field("parse_mode", "HTML");
    }
    if let Some(m) = markup {
        form = form.field("reply_markup", &m.to_string());
    }
    if field == "video" {
        form = form.field("supports_streaming", "true");
        if let (Some(w), Some(h)) = (a.width, a.height) {
            form = form
                .field("width", &w.to_string())
                .field("height", &h.to_string());
        }
    }
    form.with_file(
        url(api_base, token, method),
        Vec::new(),
        (field, &a.name, &a.mime),
        (&file.key, a.size),
    )
}

/// The send of `file` by the `file_id` Telegram gave it before: no upload.
pub fn send_file_by_id(
    (api_base, token): (&str, &str),
    (chat_id, thread_id): (i64, Option<i64>),
    (file, file_id): (&RelayFile, &str),
    (caption, markup): (Option<&str>, Option<&serde_json::Value>),
) -> ApiRequest {
    let (method, field) = method(file.attachment.kind);
    let mut body = json!({ "chat_id": chat_id, field: file_id });
    if let Some(t) = thread_id {
        body["message_thread_id"] = t.into();
    }
    if let Some(c) = caption.filter(|c| !c.is_empty()) {
        body["caption"] = c.into();
        body["parse_mode"] = "HTML".into();
    }
    if let Some(m) = markup {
        body["reply_markup"] = m.clone();
    }
    if field == "video" {
        body["supports_streaming"] = true.into();
    }
    ApiRequest::json(url(api_base, token, method), None, &body)
}

/// The file_id of the file a send's answer carries (a photo's largest size).
pub fn sent_file_id(resp: &ApiResponse) -> Option<String> {
    let r = result(resp).ok()?;
    let photo = r["photo"].as_array().and_then(|p| p.last());
    let file = photo.or(r.get("video")).or(r.get("document"))?;
    file["file_id"].as_str().map(str::to_owned)
}

/// `getFile`: where an inbound file can be downloaded.
pub fn get_file(api_base: &str, token: &str, file_id: &str) -> ApiRequest {
    ApiRequest::json(
        url(api_base, token, "getFile"),
        None,
        &json!({ "file_id": file_id }),
    )
}

/// `getFile`'s answer → the download of the file (`{BASE}/file/bot<token>/<file_path>`).
pub fn download(api_base: &str, token: &str, resp: &ApiResponse) -> Result<ApiRequest, Failure> {
    let r = result(resp).map_err(|f| match f {
        // "file is too big" (over 20 MB) or an expired id: that file only.
        Failure::Permanent { reason } => Failure::Rejected { reason },
        other => other,
    })?;
    let path = r["file_path"].as_str().ok_or(Failure::Rejected {
        reason: "telegram: no file_path".into(),
    })?;
    Ok(ApiRequest::get(
        format!("{api_base}/file/bot{token}/{path}"),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::proto::v1::Attachment;
    use beckon_shared::AttachmentId;

    fn attachment(name: &str, kind: FileType) -> Attachment {
        Attachment {
            id: AttachmentId::parse("a_0123456789abcdef0123456789abcdef").unwrap(),
            name: name.into(),
            kind,
            mime: "image/png".into(),
            size: 2048,
            width: Some(4),
            height: Some(3),
            url: String::new(),
            held_in: None,
        }
    }

    fn file(a: &Attachment) -> RelayFile<'_> {
        RelayFile {
            attachment: a,
            key: "c/c_x/a_y".into(),
            link: Some("https://edge.example/f?s=1".into()),
        }
    }

    #[test]
    fn text_alone_is_one_message() {
        let steps = plan(("<b>Visitor</b>: ", 9), "a < b", &[]);
        assert_eq!(
            steps,
            vec![Step {
                key: "text".into(),
                send: Send::Text("<b>Visitor</b>: a &lt; b".into())
            }]
        );
    }

    #[test]
    fn the_first_file_carries_the_caption_and_long_text_follows() {
        let (png, pdf) = (
            attachment("shot.png", FileType::Png),
            attachment("quote.pdf", FileType::Pdf),
        );
        let files = [file(&png), file(&pdf)];
        let short = plan(("<b>Visitor</b>: ", 9), "see this", &files);
        assert_eq!(short.len(), 2);
        let Send::File { caption, .. } = &short[0].send else {
            panic!("a file first")
        };
        assert_eq!(caption.as_deref(), Some("<b>Visitor</b>: see this"));
        assert!(matches!(&short[1].send, Send::File { caption: None, .. }));

        let long = "word ".repeat(400);
        let steps = plan(("<b>Visitor</b>: ", 9), long.trim(), &files);
        assert_eq!(steps.len(), 3);
        let Send::File { caption, .. } = &steps[0].send else {
            panic!("a file first")
        };
        let caption = caption.as_deref().unwrap();
        assert!(caption.chars().count() - "<b></b>".len() <= MAX_CAPTION_CHARS);
        let Send::Text(rest) = &steps[2].send else {
            panic!("the rest as text")
        };
        // Nothing lost: caption + rest is the whole body.
        let caption_body = caption.trim_start_matches("<b>Visitor</b>: ");
        assert_eq!(format!("{caption_body} {rest}"), long.trim());

        // Files alone: the caption names who sent them.
        let alone = plan(("<b>Visitor</b>: ", 9), "", &files[..1]);
        let Send::File {
            caption, fallback, ..
        } = &alone[0].send
        else {
            panic!("a file")
        };
        assert_eq!(caption.as_deref(), Some("<b>Visitor</b>"));
        assert_eq!(
            fallback,
            "<b>Visitor</b>\n📎 shot.png (2 KB): https://edge.example/f?s=1"
        );
    }

    #[test]
    fn files_go_by_their_kind_with_name_and_type() {
        let (mp4, heic) = (
            attachment("clip.mp4", FileType::Mp4),
            attachment("IMG.heic", FileType::Heic),
        );
        let r = send_file(
            ("http://tg", "T"),
            (-100, Some(7)),
            &file(&mp4),
            (Some("hi"), None),
        );
        assert_eq!(r.url, "http://tg/botT/sendVideo");
        assert!(r.body.contains("name=\"message_thread_id\"\r\n\r\n7\r\n"));
        assert!(r.body.contains("name=\"caption\"\r\n\r\nhi\r\n"));
        assert!(r.body.contains("name=\"video\"; filename=\"clip.mp4\""));
        assert_eq!(r.file.as_ref().map(|f| f.size), Some(2048));
        let r = send_file(("http://tg", "T"), (5, None), &file(&heic), (None, None));
        assert_eq!(r.url, "http://tg/botT/sendDocument");
        assert!(!r.body.contains("caption") && !r.body.contains("message_thread_id"));
    }

    #[test]
    fn a_file_telegram_holds_goes_by_its_id_and_a_send_tells_its_id() {
        let photo = attachment("sale.png", FileType::Png);
        let markup =
            serde_json::json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "r:0"}]]});
        let r = send_file_by_id(
            ("http://tg", "T"),
            (5, None),
            (&file(&photo), "AgACAgIAAx"),
            (Some("<b>Sale</b>"), Some(&markup)),
        );
        assert_eq!(r.url, "http://tg/botT/sendPhoto");
        assert!(r.file.is_none(), "no upload");
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            (&body["photo"], &body["caption"], &body["reply_markup"]),
            (&"AgACAgIAAx".into(), &"<b>Sale</b>".into(), &markup)
        );
        let sent = |result: &str| ApiResponse {
            status: 200,
            retry_after: None,
            body: format!(r#"{{"ok":true,"result":{result}}}"#),
        };
        assert_eq!(
            sent_file_id(&sent(
                r#"{"message_id":1,"photo":[{"file_id":"small"},{"file_id":"big"}]}"#
            )),
            Some("big".into())
        );
        assert_eq!(
            sent_file_id(&sent(r#"{"message_id":2,"document":{"file_id":"D"}}"#)),
            Some("D".into())
        );
        assert_eq!(sent_file_id(&sent(r#"{"message_id":3,"text":"hi"}"#)), None);
    }

    #[test]
    fn get_file_then_download() {
        let ok = ApiResponse {
            status: 200,
            retry_after: None,
            body: r#"{"ok":true,"result":{"file_id":"F","file_unique_id":"U","file_size":9,"file_path":"photos/file_1.jpg"}}"#.into(),
        };
        let r = download("http://tg", "T", &ok).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("GET", "http://tg/file/botT/photos/file_1.jpg")
        );
        let big = ApiResponse {
            status: 400,
            retry_after: None,
            body: r#"{"ok":false,"error_code":400,"description":"Bad Request: file is too big"}"#
                .into(),
        };
        assert!(matches!(
            download("http://tg", "T", &big),
            Err(Failure::Rejected { .. })
        ));
    }
}
