//! Files through the channels, both ways, against the real edge and the loopback fakes: a
//! visitor's photo, document and video reach the conversation's Telegram topic as
//! `sendPhoto` / `sendDocument` / `sendVideo` uploads with the same bytes, name and kind; a
//! file Telegram refuses arrives as a link that downloads it; agents' photos, videos and
//! documents posted in the topic arrive in the conversation, downloadable by the visitor. On
//! WhatsApp, inside the window, files go as image / video / document messages by the id of a
//! `/media` upload (kinds WhatsApp does not carry as links in the text), outside it as links
//! in the template; agents' swipe-replied media comes back by media id.

use beckon_shared::proto::v1::{ClientFrame, Role, ServerFrame, StartedConversation};
use beckon_shared::AttachmentId;
use beckon_tests::api::{client_id, Api, Ws};
use beckon_tests::edge;
use beckon_tests::fakes::telegram::{FakeTelegram, Sent};
use beckon_tests::fakes::whatsapp::FakeWhatsapp;
use beckon_tests::files::{jpeg, mp4, pdf, png, sha256, Uploader};
use beckon_tests::{eventually, unique};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const CHAT: i64 = -1001234567890;
const TG_SECRET: &str = "tg_hook_secret-42_a8F3kq9ZrR1x7Lm2";

async fn telegram_site(api: &Api, fake: &FakeTelegram) -> String {
    let site = unique("tgm");
    api.create_site(&site).await;
    let r = api
        .send(
            api.admin(
                Method::PUT,
                &format!("/api/v1/admin/sites/{site}/channels/telegram"),
            )
            .json(&json!({"settings": {"kind": "telegram", "chat_id": CHAT, "api_base": fake.base},
                          "secrets": {"kind": "telegram", "bot_token": fake.token, "webhook_secret": TG_SECRET}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    site
}

/// Uploads `files` as the visitor and sends them with `text`; waits for the ack.
async fn send_files(
    up: &Uploader<'_>,
    ws: &mut Ws,
    text: &str,
    files: &[(&str, &[u8])],
) -> Vec<AttachmentId> {
    let mut ids = Vec::new();
    for (name, bytes) in files {
        let key = format!("k{}-{}", name.len(), beckon_tests::free_port());
        let done = up.upload(&key, name, bytes, None).await.expect("uploaded");
        ids.push(done.id);
    }
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id(&format!("m{}", beckon_tests::free_port())),
        body: text.into(),
        attachments: ids.clone(),
    })
    .await;
    ws.recv_until(WAIT, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    ids
}

fn file_of(s: &Sent) -> (&str, &str, &str, String) {
    let (method, f) = s.file.as_ref().expect("a file");
    (
        method.as_str(),
        f.filename.as_deref().unwrap_or_default(),
        f.content_type.as_deref().unwrap_or_default(),
        sha256(&f.bytes),
    )
}

#[tokio::test]
async fn telegram_carries_photos_videos_and_documents_both_ways() {
    let api = Api::new(&edge::shared().url);
    let fake = FakeTelegram::start("123456:ABC-DEF").await;
    let site = telegram_site(&api, &fake).await;
    let c: StartedConversation = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    let up = Uploader::visitor(&api, &c);

    // Out: a screenshot and a PDF with a question, then a video alone.
    let (shot, quote, clip) = (png(1280, 800, 40_000), pdf(60_000), mp4(300_000));
    send_files(
        &up,
        &mut ws,
        "Here is the error <and> my invoice",
        &[("screen.png", &shot), ("invoice.pdf", &quote)],
    )
    .await;
    send_files(&up, &mut ws, "", &[("clip.mp4", &clip)]).await;
    assert_eq!(fake.wait_for(3, WAIT).await, 3, "{:?}", fake.sent());
    let sent = fake.sent();
    let topic = sent[0].thread_id.expect("into the conversation's topic");
    assert!(sent
        .iter()
        .all(|s| s.chat_id == CHAT && s.thread_id == Some(topic)));
    assert_eq!(
        file_of(&sent[0]),
        ("sendphoto", "screen.png", "image/png", sha256(&shot))
    );
    assert!(
        sent[0].text.starts_with("New chat on")
            && sent[0]
                .text
                .ends_with("<b>Visitor</b>: Here is the error &lt;and&gt; my invoice"),
        "the first file carries the message as its caption: {}",
        sent[0].text
    );
    assert_eq!(
        file_of(&sent[1]),
        (
            "senddocument",
            "invoice.pdf",
            "application/pdf",
            sha256(&quote)
        )
    );
    assert_eq!(sent[1].text, "", "only the first file has a caption");
    assert_eq!(
        file_of(&sent[2]),
        ("sendvideo", "clip.mp4", "video/mp4", sha256(&clip))
    );
    assert_eq!(sent[2].text, "<b>Visitor</b>");

    // A long text with a photo: the caption is cut at Telegram's 1024, the rest follows.
    let long = "Please look at the shelf in this photo. ".repeat(40);
    let photo = jpeg(30_000);
    send_files(&up, &mut ws, long.trim(), &[("shelf.jpg", &photo)]).await;
    assert_eq!(fake.wait_for(5, WAIT).await, 5);
    let sent = fake.sent();
    assert_eq!(file_of(&sent[3]).0, "sendphoto");
    assert!(sent[3].file.is_some() && sent[4].file.is_none());
    let caption = sent[3].text.trim_start_matches("<b>Visitor</b>: ");
    assert!(caption.chars().count() <= 1024 - "Visitor: ".len());
    assert_eq!(
        format!("{caption} {}", sent[4].text),
        long.trim(),
        "nothing lost"
    );

    // A photo Telegram refuses (too wide) arrives as a line with a link that downloads it.
    let wide = png(12_000, 100, 20_000);
    send_files(&up, &mut ws, "", &[("wide.png", &wide)]).await;
    assert_eq!(fake.wait_for(6, WAIT).await, 6);
    let fallback = &fake.sent()[5];
    assert!(fallback.file.is_none(), "sent as text");
    assert!(
        fallback.text.contains("📎 wide.png (20 KB): "),
        "{}",
        fallback.text
    );
    let link = fallback
        .text
        .split(": ")
        .last()
        .unwrap()
        .replace("&amp;", "&");
    let got = reqwest::get(&link).await.unwrap();
    assert_eq!(got.status(), 200, "{link}");
    assert_eq!(sha256(&got.bytes().await.unwrap()), sha256(&wide));
    // Nothing was sent twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sent().len(), 6);

    // In: the agent's photo (with a caption), video and document, each downloadable.
    let hook = format!("{}/hooks/telegram/{site}", api.base);
    let (their_photo, their_video, their_doc) = (jpeg(50_000), mp4(200_000), pdf(80_000));
    let photo_update = fake.agent_file_update(
        (CHAT, topic),
        "Alice",
        ("photo", their_photo.clone(), None),
        Some("Our shop"),
    );
    for update in [
        photo_update.clone(),
        fake.agent_file_update(
            (CHAT, topic),
            "Alice",
            ("video", their_video.clone(), Some("demo.mp4")),
            None,
        ),
        fake.agent_file_update(
            (CHAT, topic),
            "Alice",
            ("document", their_doc.clone(), Some("quote.pdf")),
            None,
        ),
        // Redelivered: stored once.
        photo_update,
    ] {
        assert_eq!(
            FakeTelegram::deliver(&hook, Some(TG_SECRET), &update).await,
            200
        );
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(ws.agent_message(WAIT).await);
    }
    let expect = [
        ("Our shop", "photo.jpg", &their_photo),
        ("", "demo.mp4", &their_video),
        ("", "quote.pdf", &their_doc),
    ];
    for (m, (text, name, bytes)) in got.iter().zip(expect) {
        assert_eq!(
            (m.body.as_str(), m.via.as_deref()),
            (text, Some("telegram"))
        );
        assert_eq!(m.attachments.len(), 1, "{m:?}");
        let a = &m.attachments[0];
        assert_eq!((a.name.as_str(), a.size), (name, bytes.len() as u64));
        let r = up.download(&a.url, None).await;
        assert_eq!(r.status(), 200);
        assert_eq!(sha256(&r.bytes().await.unwrap()), sha256(bytes), "{name}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let agent_messages = api
        .admin_messages(&c.conversation_id)
        .await
        .messages
        .into_iter()
        .filter(|m| m.role == Role::Agent)
        .count();
    assert_eq!(agent_messages, 3, "the redelivered photo is stored once");

    // A "PDF" that is an executable: the message arrives with a note, the file is not kept.
    let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff".to_vec();
    exe.extend(vec![0u8; 4000]);
    let update = fake.agent_file_update(
        (CHAT, topic),
        "Alice",
        ("document", exe, Some("invoice.pdf")),
        Some("see attached"),
    );
    assert_eq!(
        FakeTelegram::deliver(&hook, Some(TG_SECRET), &update).await,
        200
    );
    let m = ws.agent_message(WAIT).await;
    assert!(m.attachments.is_empty());
    assert!(
        m.body
            .starts_with("see attached\n[invoice.pdf was not relayed: "),
        "{}",
        m.body
    );

    // A photo into a conversation whose files fill its total (here by uploads begun and not
    // sent): noted in the message, and not kept in storage — deleting the visitor's data later
    // finds no file of theirs (it once stayed, counted by no limit).
    let c2: StartedConversation = api.start_conversation(&site, None).await;
    let mut ws2 = api.visitor_socket(&c2).await;
    ws2.send(&ClientFrame::Send {
        client_msg_id: client_id("full-hello"),
        body: "A full conversation".into(),
        attachments: Vec::new(),
    })
    .await;
    ws2.recv_until(WAIT, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let topic2 = eventually(WAIT, "its topic", || async {
        fake.sent()
            .iter()
            .find(|s| s.text.contains("A full conversation"))
            .and_then(|s| s.thread_id)
    })
    .await;
    assert_ne!(topic2, topic);
    let up2 = Uploader::visitor(&api, &c2);
    let fifty_mb = 50 * 1024 * 1024;
    for i in 0..10 {
        let r = up2
            .create(&format!("fill-{i}"), "big.mp4", fifty_mb, Some("video/mp4"))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let r = up2
        .create("fill-more", "more.mp4", 1, Some("video/mp4"))
        .await;
    assert_eq!(r.status, 413, "full: {:?}", r.body);
    let update = fake.agent_file_update(
        (CHAT, topic2),
        "Alice",
        ("photo", jpeg(50_000), None),
        Some("Too much"),
    );
    assert_eq!(
        FakeTelegram::deliver(&hook, Some(TG_SECRET), &update).await,
        200
    );
    let m = ws2.agent_message(WAIT).await;
    assert!(m.attachments.is_empty(), "{m:?}");
    assert_eq!(
        m.body,
        "Too much\n[file was not relayed: the conversation is full]"
    );
    assert_eq!(api.erase_visitor(&site, c2.visitor_id.as_str()).await, 0);
}

const WA_APP_SECRET: &str = "test_app_secret";
const AGENT_PHONE: &str = "16505551234";

/// The file link in a relayed text → its bytes' hash.
async fn fetched(text: &str) -> String {
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("http") && w.contains("/attachments/"))
        .expect("a link to the file");
    let got = reqwest::get(link).await.unwrap();
    assert_eq!(got.status(), 200, "{link}");
    sha256(&got.bytes().await.unwrap())
}

#[tokio::test]
async fn whatsapp_carries_files_by_media_id_inside_the_window_and_links_outside() {
    let api = Api::new(&edge::shared().url);
    let fake =
        FakeWhatsapp::start("EAAG-test-token", "106540352242922", &["new_website_chat"]).await;
    let site = unique("wam");
    api.create_site(&site).await;
    let r = api
        .send(
            api.admin(Method::PUT, &format!("/api/v1/admin/sites/{site}/channels/whatsapp"))
                .json(&json!({"settings": {"kind": "whatsapp", "phone_number_id": fake.phone_number_id, "agent_numbers": [AGENT_PHONE],
                                           "template_name": "new_website_chat", "api_base": fake.base},
                              "secrets": {"kind": "whatsapp", "access_token": fake.token, "app_secret": WA_APP_SECRET, "verify_token": "v"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let hook = format!("{}/hooks/whatsapp/{site}", api.base);
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    let up = Uploader::visitor(&api, &c);

    // Outside the window (the agent never wrote): the template, naming the file with a link.
    let first_pdf = pdf(30_000);
    send_files(&up, &mut ws, "My order form", &[("form.pdf", &first_pdf)]).await;
    let template = eventually(WAIT, "the template", || async {
        fake.sent().into_iter().next()
    })
    .await;
    assert_eq!(template.kind, "template");
    assert!(
        template
            .text
            .contains("My order form 📎 form.pdf (30 KB): http"),
        "{}",
        template.text
    );
    assert_eq!(fetched(&template.text).await, sha256(&first_pdf));

    // The agent writes: the window is open. Text, a photo, a video, a PDF and a WebP (which
    // WhatsApp does not take as an image: linked in the text).
    let (_, hello) = fake.message_event(AGENT_PHONE, "I am here", None);
    assert_eq!(
        FakeWhatsapp::deliver(&hook, WA_APP_SECRET, &hello).await,
        200
    );
    let (photo, clip, quote) = (jpeg(40_000), mp4(90_000), pdf(50_000));
    let mut webp = b"RIFF\x10\0\0\0WEBPVP8 ".to_vec();
    webp.extend(vec![7u8; 3000]);
    send_files(
        &up,
        &mut ws,
        "Photo and quote attached",
        &[
            ("shelf.jpg", &photo),
            ("unboxing.mp4", &clip),
            ("quote.pdf", &quote),
            ("sticker.webp", &webp),
        ],
    )
    .await;
    let sent = eventually(WAIT, "text, image, video and document", || async {
        let s = fake.sent();
        (s.len() >= 5).then_some(s)
    })
    .await;
    let (text, image, video, document) = (&sent[1], &sent[2], &sent[3], &sent[4]);
    assert_eq!(text.kind, "text");
    assert!(
        text.text
            .contains("Visitor: Photo and quote attached\n📎 sticker.webp"),
        "{}",
        text.text
    );
    assert!(
        !text.text.contains("shelf.jpg")
            && !text.text.contains("unboxing.mp4")
            && !text.text.contains("quote.pdf")
    );
    let media = |s: &beckon_tests::fakes::whatsapp::Sent| {
        let (kind, f, filename) = s.media.clone().expect("a media message");
        (
            kind,
            f.content_type.unwrap_or_default(),
            sha256(&f.bytes),
            filename,
            s.text.clone(),
        )
    };
    assert_eq!(
        media(image),
        (
            "image".into(),
            "image/jpeg".into(),
            sha256(&photo),
            None,
            "Visitor".into()
        )
    );
    assert_eq!(
        media(video),
        (
            "video".into(),
            "video/mp4".into(),
            sha256(&clip),
            None,
            "Visitor".into()
        )
    );
    assert_eq!(
        media(document),
        (
            "document".into(),
            "application/pdf".into(),
            sha256(&quote),
            Some("quote.pdf".into()),
            "Visitor".into()
        )
    );
    assert_eq!(fetched(&text.text).await, sha256(&webp));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sent().len(), 5, "each sent once");

    // The agent swipe-replies to the photo with a photo, a video and a document: all arrive.
    let (their_photo, their_video, their_doc) = (jpeg(60_000), mp4(120_000), pdf(70_000));
    for event in [
        fake.media_event(
            AGENT_PHONE,
            ("image", "image/jpeg", their_photo.clone(), None),
            Some("This one"),
            &image.wamid,
        )
        .1,
        fake.media_event(
            AGENT_PHONE,
            ("video", "video/mp4", their_video.clone(), None),
            Some("How to mount it"),
            &image.wamid,
        )
        .1,
        fake.media_event(
            AGENT_PHONE,
            (
                "document",
                "application/pdf",
                their_doc.clone(),
                Some("manual.pdf"),
            ),
            None,
            &image.wamid,
        )
        .1,
    ] {
        assert_eq!(
            FakeWhatsapp::deliver(&hook, WA_APP_SECRET, &event).await,
            200
        );
    }
    for (text, name, bytes) in [
        ("This one", "photo.jpg", &their_photo),
        ("How to mount it", "video.mp4", &their_video),
        ("", "manual.pdf", &their_doc),
    ] {
        let m = ws.agent_message(WAIT).await;
        assert_eq!(
            (m.body.as_str(), m.via.as_deref()),
            (text, Some("whatsapp"))
        );
        assert_eq!(m.attachments[0].name, name);
        let r = up.download(&m.attachments[0].url, None).await;
        assert_eq!(sha256(&r.bytes().await.unwrap()), sha256(bytes), "{name}");
    }
}

const SLACK_SIGNING: &str = "8f742231b10e8888abcd99yyyzzz85a5";

#[tokio::test]
async fn slack_shares_files_into_the_thread_and_takes_agents_files_back() {
    use beckon_tests::fakes::slack::FakeSlack;
    let api = Api::new(&edge::shared().url);
    let fake = FakeSlack::start("xoxb-test-token", &["C123ABC456"]).await;
    let site = unique("slm");
    api.create_site(&site).await;
    let r = api
        .send(
            api.admin(Method::PUT, &format!("/api/v1/admin/sites/{site}/channels/slack"))
                .json(&json!({"settings": {"kind": "slack", "channel_id": "C123ABC456", "api_base": fake.base},
                              "secrets": {"kind": "slack", "bot_token": fake.token, "signing_secret": SLACK_SIGNING}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    let up = Uploader::visitor(&api, &c);

    // A screenshot, a video and a PDF with a line: the root, then the files shared into its
    // thread with the line as their comment.
    let (shot, clip, quote) = (png(800, 600, 25_000), mp4(80_000), pdf(45_000));
    send_files(
        &up,
        &mut ws,
        "Broken <here>",
        &[
            ("screen.png", &shot),
            ("noise.mp4", &clip),
            ("quote.pdf", &quote),
        ],
    )
    .await;
    let posted = eventually(WAIT, "root and files", || async {
        Some(fake.posted()).filter(|p| p.len() >= 2)
    })
    .await;
    let (root, shared) = (&posted[0], &posted[1]);
    assert!(root.thread_ts.is_none());
    assert_eq!(shared.thread_ts.as_deref(), Some(root.ts.as_str()));
    assert_eq!(shared.text, "*Visitor*: Broken &lt;here&gt;");
    let files: Vec<(String, String)> = shared
        .files
        .iter()
        .map(|(t, b)| (t.clone(), sha256(b)))
        .collect();
    assert_eq!(
        files,
        [
            ("screen.png".to_owned(), sha256(&shot)),
            ("noise.mp4".to_owned(), sha256(&clip)),
            ("quote.pdf".to_owned(), sha256(&quote))
        ]
    );

    // The agent answers in the thread with a photo, a video and a document.
    let (photo, howto, manual) = (jpeg(33_000), mp4(64_000), pdf(21_000));
    let event = fake.file_share_event(
        ("C123ABC456", &root.ts),
        "U2222222",
        "Here you go",
        &[
            ("shop.jpg", "image/jpeg", photo.clone()),
            ("howto.mp4", "video/mp4", howto.clone()),
            ("manual.pdf", "application/pdf", manual.clone()),
        ],
    );
    let hook = format!("{}/hooks/slack/{site}", api.base);
    let (status, _) = FakeSlack::deliver(
        &hook,
        SLACK_SIGNING,
        beckon_tests::fakes::unix_now(),
        &event,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let m = ws.agent_message(WAIT).await;
    assert_eq!(
        (m.body.as_str(), m.via.as_deref()),
        ("Here you go", Some("slack"))
    );
    let names: Vec<&str> = m.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["shop.jpg", "howto.mp4", "manual.pdf"]);
    let kinds: Vec<&str> = m.attachments.iter().map(|a| a.mime.as_str()).collect();
    assert_eq!(kinds, ["image/jpeg", "video/mp4", "application/pdf"]);
    for (a, bytes) in m.attachments.iter().zip([&photo, &howto, &manual]) {
        let r = up.download(&a.url, None).await;
        assert_eq!(
            sha256(&r.bytes().await.unwrap()),
            sha256(bytes),
            "{}",
            a.name
        );
    }
}
