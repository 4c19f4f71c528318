//! Files in Slack (CHANNELS.md §3.2–3.3), sans-IO. A message's files are shared into the
//! conversation's thread with the external upload flow: `files.getUploadURLExternal` per file,
//! the bytes to each `upload_url` (pre-signed: no token), then one
//! `files.completeUploadExternal` with the message as its comment. Agents' files arrive on
//! `file_share` message events and are downloaded from `url_private_download` with the bot
//! token.

use super::api::{answer, escape};
use crate::channels::api::{ApiRequest, ApiResponse, Failure, FileSplice, Relay, RelayFile};
use serde_json::json;

/// `files.getUploadURLExternal` for `file`.
pub fn get_upload_url(api_base: &str, token: &str, file: &RelayFile) -> ApiRequest {
    let a = file.attachment;
    ApiRequest::form(
        format!("{api_base}/files.getUploadURLExternal"),
        token,
        &[("filename", &a.name), ("length", &a.size.to_string())],
    )
}

/// Its answer → (`upload_url`, `file_id`).
pub fn parse_upload_url(resp: &ApiResponse) -> Result<(String, String), Failure> {
    let v = answer(resp)?;
    match (v["upload_url"].as_str(), v["file_id"].as_str()) {
        (Some(url), Some(id)) => Ok((url.to_owned(), id.to_owned())),
        _ => Err(Failure::Permanent {
            reason: "slack: no upload_url".into(),
        }),
    }
}

/// The bytes of `file`, raw, to its pre-signed `upload_url`.
pub fn upload(upload_url: &str, file: &RelayFile) -> ApiRequest {
    ApiRequest {
        method: "POST",
        url: upload_url.to_owned(),
        headers: vec![("content-type", "application/octet-stream".to_owned())],
        body: String::new(),
        file: Some(FileSplice {
            key: file.key.clone(),
            size: file.attachment.size,
            tail: String::new(),
        }),
    }
}

/// The upload's answer: 200 (plain text, not parsed); a 4xx is this file's alone.
pub fn check_uploaded(resp: &ApiResponse) -> Result<(), Failure> {
    match resp.status {
        200..=299 => Ok(()),
        429 | 500.. => Err(Failure::from_status(
            resp.status,
            resp.retry_after.as_deref(),
            "slack upload",
        )),
        status => Err(Failure::Rejected {
            reason: format!("slack upload: HTTP {status}"),
        }),
    }
}

/// `files.completeUploadExternal`: the uploaded files (id, title) into the thread, with the
/// relay line as their comment.
pub fn complete(
    (api_base, token): (&str, &str),
    (channel, thread_ts): (&str, &str),
    files: &[(String, String)],
    relay: &Relay,
) -> ApiRequest {
    let files: Vec<_> = files
        .iter()
        .map(|(id, title)| json!({"id": id, "title": title}))
        .collect();
    let mut comment = format!("*{}*", escape(&relay.speaker()));
    if !relay.body.is_empty() {
        comment.push_str(&format!(": {}", escape(relay.body)));
    }
    ApiRequest::json(
        format!("{api_base}/files.completeUploadExternal"),
        Some(token),
        &json!({"files": files, "channel_id": channel, "thread_ts": thread_ts, "initial_comment": comment}),
    )
}

/// Its answer → the first file's id (the relay's remote id).
pub fn parse_completed(resp: &ApiResponse) -> Result<String, Failure> {
    let v = answer(resp)?;
    v["files"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or(Failure::Permanent {
            reason: "slack: no file in the answer".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::media::FileType;
    use beckon_shared::proto::v1::{Attachment, Role};
    use beckon_shared::AttachmentId;

    #[test]
    fn the_external_upload_flow() {
        let a = Attachment {
            id: AttachmentId::parse("a_0123456789abcdef0123456789abcdef").unwrap(),
            name: "in voice.pdf".into(),
            kind: FileType::Pdf,
            mime: "application/pdf".into(),
            size: 53072,
            width: None,
            height: None,
            url: String::new(),
            held_in: None,
        };
        let f = RelayFile {
            attachment: &a,
            key: "c/x/a".into(),
            link: None,
        };
        let r = get_upload_url("http://sl/api", "xoxb-1", &f);
        assert_eq!(r.url, "http://sl/api/files.getUploadURLExternal");
        assert_eq!(r.body, "filename=in+voice.pdf&length=53072");
        let ok = ApiResponse {
            status: 200,
            retry_after: None,
            body: r#"{"ok":true,"upload_url":"http://sl/upload/v1/ABC","file_id":"F123"}"#.into(),
        };
        assert_eq!(
            parse_upload_url(&ok).unwrap(),
            ("http://sl/upload/v1/ABC".into(), "F123".into())
        );
        let up = upload("http://sl/upload/v1/ABC", &f);
        assert_eq!(
            (up.body.as_str(), up.file.as_ref().unwrap().size),
            ("", 53072)
        );
        assert!(up.headers.iter().all(|(k, _)| *k != "authorization"));
        assert!(matches!(
            check_uploaded(&ApiResponse {
                status: 413,
                retry_after: None,
                body: String::new()
            }),
            Err(Failure::Rejected { .. })
        ));
        let relay = Relay {
            site_name: "Acme",
            conversation_id: "c_1",
            page_url: None,
            role: Role::Visitor,
            author: None,
            via: None,
            body: "see <this>",
            files: vec![],
        };
        let c = complete(
            ("http://sl/api", "xoxb-1"),
            ("C1", "1.0001"),
            &[("F123".into(), "in voice.pdf".into())],
            &relay,
        );
        let body: serde_json::Value = serde_json::from_str(&c.body).unwrap();
        assert_eq!(
            body,
            json!({"files": [{"id": "F123", "title": "in voice.pdf"}], "channel_id": "C1", "thread_ts": "1.0001",
                   "initial_comment": "*Visitor*: see &lt;this&gt;"})
        );
    }
}
