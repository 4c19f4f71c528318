//! Files in conversations against the real runtime (`wrangler dev`: workerd with a local R2
//! bucket): uploads in parts that resume, types decided from the bytes, signed downloads with
//! safe headers, and every kind of bad input refused with nothing stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use beckon_shared::media::{FileType, PART_BYTES};
use beckon_shared::proto::v1::{ClientFrame, ServerFrame, Upload};
use beckon_shared::{AttachmentId, ConversationId};
use beckon_tests::api::{client_id, Api};
use beckon_tests::files::{self, Uploader};
use beckon_tests::{edge, unique, ADMIN_KEY, TOKEN_SECRET};
use hmac::Mac;
use serde_json::json;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn api() -> Api {
    Api::new(&edge::shared().url)
}

/// A new site and a visitor's conversation there; the visitor's uploader.
async fn visitor<'a>(
    api: &'a Api,
    prefix: &str,
) -> (Uploader<'a>, beckon_shared::proto::v1::StartedConversation) {
    let site = unique(prefix);
    api.create_site(&site).await;
    let started = api.start_conversation(&site, None).await;
    let up = Uploader::visitor(api, &started);
    (up, started)
}

#[tokio::test]
async fn a_photo_goes_on_a_message_and_downloads_with_safe_headers() {
    let api = api();
    let (up, started) = visitor(&api, "files-photo").await;
    let bytes = files::png(640, 480, 150_000);
    let done = up
        .upload(
            "shot-1",
            "Screenshot 2026-11-30.png",
            &bytes,
            Some("image/png"),
        )
        .await
        .expect("upload");
    let att = done
        .attachment
        .clone()
        .expect("completed upload has its attachment");
    assert_eq!(att.kind, FileType::Png);
    assert_eq!(att.mime, "image/png");
    assert_eq!((att.width, att.height), (Some(640), Some(480)));
    assert_eq!(att.size, bytes.len() as u64);

    // Sent on a message with no text; every socket of the conversation sees it with a URL.
    let mut ws = api.visitor_socket(&started).await;
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("with-photo"),
        body: String::new(),
        attachments: vec![att.id.clone()],
    })
    .await;
    let ServerFrame::Message { message } = ws
        .recv_until(T, |f| matches!(f, ServerFrame::Message { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(message.body, "");
    assert_eq!(message.attachments.len(), 1);
    let shown = &message.attachments[0];
    assert_eq!(
        (shown.id.clone(), shown.kind, shown.width),
        (att.id.clone(), FileType::Png, Some(640))
    );
    assert!(
        shown.url.contains("/attachments/") && shown.url.contains("&s="),
        "{}",
        shown.url
    );

    let resp = up.download(&shown.url, None).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .ends_with("sandbox"));
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline;"));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // The agent sees it in the history (with its own fresh URL), once.
    let page = api.admin_messages(&started.conversation_id).await;
    let stored: Vec<_> = page
        .messages
        .iter()
        .filter(|m| !m.attachments.is_empty())
        .collect();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].attachments[0].url.is_empty());

    // Retrying the same upload key is the same file: nothing new is stored.
    let again = up
        .create("shot-1", "Screenshot 2026-11-30.png", bytes.len(), None)
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["id"], json!(att.id.as_str()));
    assert!(again.body["attachment"].is_object(), "{:?}", again.body);
}

#[tokio::test]
async fn an_agent_answers_with_a_document_through_the_admin_api() {
    let api = api();
    let (_, started) = visitor(&api, "files-agent").await;
    let agent = Uploader {
        api: &api,
        conversation: started.conversation_id.clone(),
        bearer: ADMIN_KEY.into(),
    };
    let bytes = files::pdf(40_000);
    let done = agent
        .upload("quote-7", "Quote №7.pdf", &bytes, None)
        .await
        .expect("upload");
    let att = done.attachment.unwrap();
    assert_eq!(att.kind, FileType::Pdf);
    let mut ws = api.visitor_socket(&started).await;
    let r = api
        .send(
            api.admin(
                reqwest::Method::POST,
                &format!(
                    "/api/v1/admin/conversations/{}/messages",
                    started.conversation_id
                ),
            )
            .json(&json!({"body": "Here is your quote", "author": "Ana", "attachments": [att.id]})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let ServerFrame::Message { message } = ws
        .recv_until(T, |f| matches!(f, ServerFrame::Message { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(message.attachments[0].name, "Quote №7.pdf");
    let resp = agent.download(&message.attachments[0].url, None).await;
    assert_eq!(resp.status(), 200);
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("filename*=UTF-8''Quote%20%E2%84%967.pdf"),
        "{disposition}"
    );
    assert_eq!(resp.bytes().await.unwrap().len(), bytes.len());

    // A visitor cannot attach the agent's upload to their own message.
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("steal"),
        body: "mine".into(),
        attachments: vec![att.id.clone()],
    })
    .await;
    let f = ws
        .recv_until(T, |f| matches!(f, ServerFrame::Error { .. }))
        .await;
    assert!(matches!(f, ServerFrame::Error { .. }));
}

#[tokio::test]
async fn a_large_video_resumes_after_dropped_parts_and_is_byte_identical() {
    let api = api();
    let (up, _) = visitor(&api, "files-video").await;
    let bytes = files::mp4(12 * 1024 * 1024 + 321);
    let r = up
        .create("clip", "train.mp4", bytes.len(), Some("video/mp4"))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let first: Upload = serde_json::from_value(r.body).unwrap();
    assert_eq!((first.parts, first.part_bytes), (3, PART_BYTES));
    let part = |n: usize| {
        let start = (n - 1) * PART_BYTES as usize;
        bytes[start..(start + PART_BYTES as usize).min(bytes.len())].to_vec()
    };
    assert_eq!(up.put_part(&first.id, 1, part(1)).await.status, 200);
    // The connection drops in the middle of part 2: a short body is refused, nothing kept.
    let cut = up.put_part(&first.id, 2, part(2)[..1000].to_vec()).await;
    assert_eq!(cut.status, 400, "{:?}", cut.body);
    assert_eq!(up.put_part(&first.id, 3, part(3)).await.status, 200);
    // The client comes back: the same key answers where the upload stands.
    let resumed = up
        .create("clip", "train.mp4", bytes.len(), Some("video/mp4"))
        .await;
    assert_eq!(resumed.body["received"], json!([1, 3]));
    assert_eq!(up.put_part(&first.id, 2, part(2)).await.status, 200);
    let done = up.complete(&first.id).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    let done: Upload = serde_json::from_value(done.body).unwrap();
    let att = done.attachment.unwrap();
    assert_eq!((att.kind, att.size), (FileType::Mp4, bytes.len() as u64));
    let resp = up.download(&att.url, None).await;
    assert_eq!(resp.status(), 200);
    let got = resp.bytes().await.unwrap();
    assert_eq!(files::sha256(&got), files::sha256(&bytes));
    // A video player's range request.
    let resp = up.download(&att.url, Some("bytes=5242880-5242899")).await;
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 5242880-5242899/{}", bytes.len()).as_str()
    );
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        &bytes[5_242_880..5_242_900]
    );
    // One past the end: 416, with the size; several ranges: the whole file.
    let past = format!("bytes={}-", bytes.len());
    let resp = up.download(&att.url, Some(&past)).await;
    assert_eq!(resp.status(), 416);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes */{}", bytes.len()).as_str()
    );
    let resp = up.download(&att.url, Some("bytes=0-1,5-6")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().len(), bytes.len());
}

#[tokio::test]
async fn bad_files_are_refused_with_clear_errors_and_nothing_is_stored() {
    let api = api();
    let (up, started) = visitor(&api, "files-bad").await;
    let refused = |r: &beckon_tests::api::Reply, status: u16, code: &str| {
        assert_eq!((r.status, r.error_code()), (status, code), "{:?}", r.body);
        assert!(!r.body["error"]["message"].as_str().unwrap_or("").is_empty());
    };

    // Bytes decide, not names or claims: an executable as photo.png claiming image/png, an
    // SVG with a script, HTML claiming to be a PDF.
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend(files::filler(4000, 1));
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#
            .to_vec();
    let html = b"<!doctype html><html><body><script>alert(1)</script></body></html>".to_vec();
    for (key, name, bytes, claim) in [
        ("exe", "photo.png", elf, "image/png"),
        ("svg", "logo.svg.png", svg, "image/png"),
        ("html", "quote.pdf", html, "application/pdf"),
    ] {
        let r = up.create(key, name, bytes.len(), Some(claim)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let id = AttachmentId::parse(r.body["id"].as_str().unwrap()).unwrap();
        let r = up.put_part(&id, 1, bytes).await;
        refused(&r, 415, "unsupported_file");
        // The upload is gone: nothing to complete, nothing to download.
        assert_eq!(up.state(&id).await.status, 404, "{name}");
        assert_eq!(up.complete(&id).await.status, 404, "{name}");
    }
    // An image bigger than images may be (announced without a type, found out from part 1).
    let big = 11 * 1024 * 1024;
    let r = up.create("big", "huge.png", big, None).await;
    let id = AttachmentId::parse(r.body["id"].as_str().unwrap()).unwrap();
    refused(
        &up.put_part(&id, 1, files::png(10, 10, PART_BYTES as usize))
            .await,
        413,
        "payload_too_large",
    );
    // An oversize video, refused before any byte; an empty file; a type claimed but not taken.
    refused(
        &up.create("huge", "film.mp4", 60 * 1024 * 1024, Some("video/mp4"))
            .await,
        413,
        "payload_too_large",
    );
    refused(
        &up.create("empty", "empty.txt", 0, None).await,
        400,
        "bad_request",
    );
    refused(
        &up.create("zip", "a.zip", 10, Some("application/zip")).await,
        415,
        "unsupported_file",
    );
    // Names that are paths, or carry control, direction-override or invisible characters.
    for name in [
        "../../etc/passwd.png",
        "a\u{7}b.png",
        "invoice\u{202E}gnp.exe",
        "x\\y.pdf",
        "invoice\u{200B}.pdf",
    ] {
        refused(&up.create("name", name, 10, None).await, 400, "bad_request");
    }
    // Into someone else's conversation.
    let (other, _) = visitor(&api, "files-other").await;
    let intruder = Uploader {
        api: &api,
        conversation: started.conversation_id.clone(),
        bearer: other.bearer.clone(),
    };
    let r = intruder.create("in", "a.png", 10, None).await;
    assert!(r.status == 403, "{:?}", r.body);
    // A message naming an upload that never completed.
    let r = up.create("half", "half.png", 100, None).await;
    let half = r.body["id"].as_str().unwrap().to_owned();
    let mut ws = api.visitor_socket(&started).await;
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("half"),
        body: "see attached".into(),
        attachments: vec![AttachmentId::parse(&half).unwrap()],
    })
    .await;
    assert!(matches!(
        ws.recv_until(T, |f| matches!(f, ServerFrame::Error { .. }))
            .await,
        ServerFrame::Error { .. }
    ));
    // Nothing was stored or relayed as a message.
    assert!(api
        .admin_messages(&started.conversation_id)
        .await
        .messages
        .is_empty());
}

/// A download URL signed with the test edge's secret, as the edge would sign it.
fn signed(conv: &ConversationId, att: &AttachmentId, t: &str, name: &str, expires: i64) -> String {
    let payload = format!("{conv}\n{att}\n{t}\n{name}\n{expires}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(TOKEN_SECRET.as_bytes()).unwrap();
    mac.update(b"file\n");
    mac.update(payload.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!(
        "/api/v1/conversations/{conv}/attachments/{att}?t={t}&n={}&e={expires}&s={sig}",
        URL_SAFE_NO_PAD.encode(name)
    )
}

#[tokio::test]
async fn signed_urls_expire_and_are_bound_to_their_conversation() {
    let api = api();
    let (up, _) = visitor(&api, "files-urls").await;
    let done = up
        .upload("u", "a.png", &files::png(4, 4, 2000), None)
        .await
        .unwrap();
    let att = done.attachment.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Correctly signed, but expired a minute ago.
    let expired = signed(&up.conversation, &att.id, "png", "a.png", now - 60_000);
    let r = up.download(&expired, None).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("expired"));
    // The same signature presented for another conversation, or served as another type.
    let (other, _) = visitor(&api, "files-urls2").await;
    let moved = att
        .url
        .replace(up.conversation.as_str(), other.conversation.as_str());
    assert_eq!(up.download(&moved, None).await.status(), 403);
    let retyped = att.url.replace("t=png", "t=text");
    assert_eq!(up.download(&retyped, None).await.status(), 403);
    // Valid for a while.
    let fresh = signed(&up.conversation, &att.id, "png", "a.png", now + 60_000);
    assert_eq!(up.download(&fresh, None).await.status(), 200);
}

#[tokio::test]
async fn deleting_a_conversation_deletes_its_files_and_messages() {
    let api = api();
    let (up, started) = visitor(&api, "files-delete").await;
    let done = up
        .upload("d1", "receipt.pdf", &files::pdf(20_000), None)
        .await
        .unwrap();
    let att = done.attachment.unwrap();
    // An upload left half-way is aborted too.
    let open = up.create("d2", "half.png", 6 * 1024 * 1024, None).await;
    assert_eq!(open.status, 200);
    let mut ws = api.visitor_socket(&started).await;
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("with-receipt"),
        body: "my receipt".into(),
        attachments: vec![att.id.clone()],
    })
    .await;
    ws.recv_until(T, |f| matches!(f, ServerFrame::Message { .. }))
        .await;
    assert_eq!(up.download(&att.url, None).await.status(), 200);

    let conv = started.conversation_id.clone();
    let path = format!("/api/v1/admin/conversations/{conv}");
    let r = api.send(api.admin(reqwest::Method::DELETE, &path)).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    // The file is gone even through a link signed before; the conversation is gone everywhere.
    let gone = up.download(&att.url, None).await;
    assert_eq!(gone.status(), 404);
    assert!(gone.text().await.unwrap().contains("no longer exists"));
    assert_eq!(
        api.send(api.admin(reqwest::Method::GET, &path))
            .await
            .status,
        404
    );
    let history = api
        .send(
            api.get(&format!("/api/v1/conversations/{conv}/messages"))
                .bearer_auth(&started.visitor_token),
        )
        .await;
    assert_eq!(history.status, 404, "{:?}", history.body);
    let list = api
        .send(api.admin(
            reqwest::Method::GET,
            "/api/v1/admin/conversations?limit=200",
        ))
        .await;
    assert_eq!(list.status, 200);
    assert!(
        !list.body.to_string().contains(conv.as_str()),
        "still listed: {:?}",
        list.body
    );
    // The socket was closed.
    let closed = loop {
        match ws.next_event(T).await {
            beckon_tests::api::WsEvent::Frame(_) => continue,
            other => break other,
        }
    };
    assert!(
        matches!(
            closed,
            beckon_tests::api::WsEvent::Closed {
                code: Some(4404),
                ..
            }
        ),
        "{closed:?}"
    );
    // Deleting again: not found.
    assert_eq!(
        api.send(api.admin(reqwest::Method::DELETE, &path))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn deleting_a_visitor_deletes_all_their_conversations_and_files() {
    let api = api();
    let site = unique("files-forget");
    api.create_site(&site).await;
    let first = api.start_conversation(&site, None).await;
    let second = api
        .start_conversation(&site, Some(&first.visitor_token))
        .await;
    assert_eq!(
        first.visitor_id, second.visitor_id,
        "one visitor, two conversations"
    );
    let other = api.start_conversation(&site, None).await;
    let mut links = Vec::new();
    for c in [&first, &second, &other] {
        let up = Uploader::visitor(&api, c);
        let done = up
            .upload("f1", "id-card.png", &files::png(300, 200, 9_000), None)
            .await
            .unwrap();
        let url = done.attachment.unwrap().url;
        assert_eq!(up.download(&url, None).await.status(), 200);
        links.push((up, url));
    }

    let path = format!("/api/v1/admin/sites/{site}/contacts/{}", first.visitor_id);
    let r = api.send(api.admin(reqwest::Method::DELETE, &path)).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    // Both of their conversations and files are gone; the other visitor's are not.
    for (up, url) in &links[..2] {
        assert_eq!(up.download(url, None).await.status(), 404);
    }
    assert_eq!(links[2].0.download(&links[2].1, None).await.status(), 200);
    for c in [&first, &second] {
        let gone = api
            .send(api.admin(
                reqwest::Method::GET,
                &format!("/api/v1/admin/conversations/{}", c.conversation_id),
            ))
            .await;
        assert_eq!(gone.status, 404);
    }
    // Their token opens nothing new: the visitor no longer exists.
    let again = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/conversations"))
                .bearer_auth(&first.visitor_token)
                .json(&serde_json::json!({"page_url": "https://shop.example/"})),
        )
        .await;
    assert_ne!(
        again.body["visitor_id"],
        serde_json::json!(first.visitor_id.as_str())
    );
    assert_eq!(
        api.send(api.admin(reqwest::Method::DELETE, &path))
            .await
            .status,
        404,
        "deleting again"
    );
}

/// A cancel that races its upload's completion (sent with it, or a few milliseconds after,
/// while R2 completes): one of them wins — completed (the cancel refused, 409: it is complete)
/// or cancelled (204; the completion refused, 404: it is gone) — and storage holds exactly
/// the files completed: deleting the visitor's data finds no other (a cancel that came while R2
/// completed once left a file no limit counted).
#[tokio::test]
async fn a_cancel_racing_its_completion_has_one_outcome_and_leaves_no_stray_file() {
    let api = api();
    let site = unique("files-race");
    api.create_site(&site).await;
    let started = api.start_conversation(&site, None).await;
    let up = Uploader::visitor(&api, &started);
    // Two parts: the completion's R2 call takes a moment.
    let bytes = files::mp4(PART_BYTES as usize + 200_000);
    let mut completed = 0;
    for i in 0..4 {
        let r = up
            .create(&format!("race-{i}"), "clip.mp4", bytes.len(), None)
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let u: Upload = serde_json::from_value(r.body).unwrap();
        for (n, chunk) in bytes.chunks(u.part_bytes as usize).enumerate() {
            let r = up.put_part(&u.id, n as u32 + 1, chunk.to_vec()).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        let later = Duration::from_millis(5 * i);
        let cancel = async {
            tokio::time::sleep(later).await;
            up.cancel(&u.id).await
        };
        let (done, cancelled) = tokio::join!(up.complete(&u.id), cancel);
        match (done.status, cancelled.status) {
            (200, 409) => completed += 1,
            (404, 204) => {}
            other => panic!(
                "complete and cancel at once: {other:?}\n{:?}\n{:?}",
                done.body, cancelled.body
            ),
        }
    }
    println!("of 4 races, {completed} completed first");
    let found = api.erase_visitor(&site, started.visitor_id.as_str()).await;
    assert_eq!(found, completed);
}
