//! Email against the real edge (`wrangler dev`, its email handler at `/cdn-cgi/handler/email`)
//! and a faithful loopback fake of the email API: each conversation is one thread to the
//! support address (same subject, `In-Reply-To` the thread's root, files attached by link);
//! agents' replies from three mail clients in two languages arrive as just their new text
//! (files included), once; auto-replies, bounces, forged addresses and strangers change
//! nothing; throttling is waited out and nothing is sent twice.

use beckon_shared::proto::v1::Role;
use beckon_shared::proto::v1::{ClientFrame, ServerFrame};
use beckon_tests::api::{Api, Ws};
use beckon_tests::edge;
use beckon_tests::fakes::email::{FakeEmail, Mail};
use beckon_tests::fakes::Fault;
use beckon_tests::files::{pdf, sha256, Uploader};
use beckon_tests::{eventually, unique};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const SUPPORT: &str = "support@shop.example";

async fn mails(fake: &FakeEmail, n: usize) -> Vec<Mail> {
    eventually(WAIT, &format!("{n} emails"), || async {
        Some(fake.sent()).filter(|s| s.len() >= n)
    })
    .await
}

#[tokio::test]
async fn conversations_go_to_the_support_inbox_and_replies_come_back_as_just_the_new_text() {
    let api = Api::new(&edge::shared().url);
    let fake = FakeEmail::start("re_test_0123456789").await;
    let site = unique("mail");
    api.create_site(&site).await;
    let r = api
        .send(
            api.admin(Method::PUT, &format!("/api/v1/admin/sites/{site}/channels/email"))
                .json(&json!({
                    "settings": {"kind": "email", "to": [SUPPORT], "from": "chat@notify.shop.example",
                                 "reply_domain": "inbound.shop.example", "api_base": fake.base},
                    "secrets": {"kind": "email", "api_key": fake.key}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // The first message opens the thread; a 429 (with its hint) and a 500 are waited out,
    // and the email is sent once.
    fake.inject(Fault::RateLimited {
        retry_after_secs: 1,
    });
    fake.inject(Fault::ServerError);
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("Do you ship to Lyon?").await;
    let first = mails(&fake, 1).await.remove(0);
    assert_eq!(first.to, vec![SUPPORT.to_owned()]);
    assert_eq!(
        first.from,
        format!("\"Test site {site}\" <chat@notify.shop.example>")
    );
    assert!(first.subject.starts_with("[Chat "), "{}", first.subject);
    assert!(
        first.text.starts_with("Visitor: Do you ship to Lyon?"),
        "{}",
        first.text
    );
    assert!(
        first.text.contains("Reply to this email to answer"),
        "{}",
        first.text
    );
    let reply_to = first.reply_to.clone().unwrap();
    assert!(
        reply_to.starts_with(&format!("reply+{}.", c.conversation_id))
            && reply_to.ends_with("@inbound.shop.example"),
        "{reply_to}"
    );
    assert_eq!(first.header("Auto-Submitted"), Some("auto-generated"));
    let root = first.header("Message-ID").unwrap().to_owned();

    // A follow-up with a PDF: the same thread, the file attached (fetched from its link).
    let quote = pdf(20_000);
    let up = Uploader {
        api: &api,
        conversation: c.conversation_id.clone(),
        bearer: c.visitor_token.clone(),
    };
    let att = up
        .upload("mail-q", "order.pdf", &quote, None)
        .await
        .expect("uploaded");
    ws.send(&ClientFrame::Send {
        client_msg_id: beckon_tests::api::client_id("mail-second"),
        body: "Here is my order".into(),
        attachments: vec![att.id],
    })
    .await;
    ws.recv_until(WAIT, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let second = mails(&fake, 2).await.remove(1);
    assert_eq!(second.subject, format!("Re: {}", first.subject));
    assert_eq!(second.header("In-Reply-To"), Some(root.as_str()));
    assert_eq!(second.attachments.len(), 1);
    assert_eq!(
        (
            second.attachments[0].0.as_str(),
            sha256(&second.attachments[0].1)
        ),
        ("order.pdf", sha256(&quote))
    );
    assert_eq!(fake.sent().len(), 2, "nothing sent twice");

    let agent_said = || async {
        api.admin_messages(&c.conversation_id)
            .await
            .messages
            .into_iter()
            .filter(|m| m.role != Role::Visitor)
            .map(|m| (m.body, m.author.unwrap_or_default(), m.attachments.len()))
            .collect::<Vec<_>>()
    };
    let edge_url = &api.base;
    // Gmail, English, to the reply address (delivered twice): just the new text, once.
    let gmail = FakeEmail::fixture("gmail_en.eml", "ana@shop.example", &first);
    for _ in 0..2 {
        assert_eq!(
            FakeEmail::receive(edge_url, "ana@shop.example", &reply_to, &gmail).await,
            200
        );
    }
    let said = eventually(WAIT, "the Gmail reply", || async {
        Some(agent_said().await).filter(|s| !s.is_empty())
    })
    .await;
    assert_eq!(
        said,
        vec![(
            "Yes, we ship to Lyon: it takes 2 days.".to_owned(),
            "Ana Lima".to_owned(),
            0
        )]
    );
    let live = ws.agent_message(WAIT).await;
    assert_eq!(live.body, "Yes, we ship to Lyon: it takes 2 days.");

    // Outlook, German, quoted-printable Latin-1, found by In-Reply-To alone (sent to another
    // address of the reply domain's catch-all): the text without the quoted original and the
    // greeting.
    let outlook = FakeEmail::fixture("outlook_de.eml", "juergen@shop.example", &second);
    let status = FakeEmail::receive(
        edge_url,
        "juergen@shop.example",
        "chat@inbound.shop.example",
        &outlook,
    )
    .await;
    assert_eq!(status, 200);
    let said = eventually(WAIT, "the Outlook reply", || async {
        Some(agent_said().await).filter(|s| s.len() == 2)
    })
    .await;
    assert_eq!(
        said[1],
        (
            "Grüß Gott! Die Lieferung nach München dauert 3 Tage.".to_owned(),
            "Jürgen Müller".to_owned(),
            0
        )
    );

    // Apple Mail, Spanish, with a photo: the new text and the file.
    let apple = FakeEmail::fixture("apple_es.eml", "lucia@shop.example", &first);
    assert_eq!(
        FakeEmail::receive(edge_url, "lucia@shop.example", &reply_to, &apple).await,
        200
    );
    let said = eventually(WAIT, "the Apple Mail reply", || async {
        Some(agent_said().await).filter(|s| s.len() == 3)
    })
    .await;
    assert_eq!(
        said[2],
        (
            "¡Claro! Aquí tienes la foto del modelo azul.".to_owned(),
            "Lucia Ortega".to_owned(),
            1
        )
    );

    // An auto-reply and a bounce (from the support domain itself) are accepted and dropped:
    // refusing them would bounce back and loop.
    let ooo = FakeEmail::fixture("autoreply.eml", "ana@shop.example", &first);
    assert_eq!(
        FakeEmail::receive(edge_url, "ana@shop.example", &reply_to, &ooo).await,
        200
    );
    let bounce = FakeEmail::fixture("bounce.eml", "ana@shop.example", &first);
    let status =
        FakeEmail::receive(edge_url, "MAILER-DAEMON@shop.example", &reply_to, &bounce).await;
    assert_eq!(status, 200);
    // A forged tag, a stranger with the right address, and a reply whose receiving server
    // found it failing DKIM (a "pass" the sender wrote further down changes nothing): refused.
    let forged_to = format!(
        "reply+{}.0123456789abcdef@inbound.shop.example",
        c.conversation_id
    );
    let forged = FakeEmail::fixture("gmail_en.eml", "ana@shop.example", &first)
        .replace(&root, "<none@example>")
        .replace("CAGmail0001", "CAGmail0002")
        .replace(&reply_to, &forged_to);
    assert_eq!(
        FakeEmail::receive(edge_url, "ana@shop.example", &forged_to, &forged).await,
        400
    );
    let stranger = FakeEmail::fixture("gmail_en.eml", "mallory@attacker.example", &first)
        .replace("CAGmail0001", "CAGmail0003");
    assert_eq!(
        FakeEmail::receive(edge_url, "mallory@attacker.example", &reply_to, &stranger).await,
        400
    );
    let spoofed = FakeEmail::fixture("gmail_en.eml", "ana@shop.example", &first)
        .replace("CAGmail0001", "CAGmail0004")
        .replace(
            "Authentication-Results: mx.cloudflare.net; dkim=pass header.d=shop.example; spf=pass smtp.mailfrom=shop.example; dmarc=pass",
            "Authentication-Results: mx.cloudflare.net; dkim=fail header.d=shop.example; spf=fail smtp.mailfrom=shop.example; dmarc=fail\r\nAuthentication-Results: forged.example; dmarc=pass",
        );
    assert_eq!(
        FakeEmail::receive(edge_url, "ana@shop.example", &reply_to, &spoofed).await,
        400
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(agent_said().await.len(), 3, "{:?}", agent_said().await);

    // The visitor, back later, sees the whole thread.
    ws.close().await;
    let url = api
        .visitor_ws_url(&c.conversation_id, &c.visitor_token)
        .await;
    let mut back = Ws::connect(&url, None).await.expect("visitor socket");
    let history = back.hello(0).await;
    let bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies.len(), 5, "{bodies:?}");
    assert_eq!(
        fake.sent().len(),
        2,
        "replies are not relayed back to email"
    );
}

/// The inbox's Channels page sets up email and Messenger & Instagram: the forms take what the
/// README's set-up steps name, and Messenger (which has no agents' side) offers no test
/// message. Screenshots at desktop and 375 px.
#[tokio::test]
async fn the_inbox_sets_up_email_and_messenger() {
    use beckon_tests::browser;
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = unique("mailui");
    api.create_site(&site).await;
    let fake = FakeEmail::start("re_ui_0123456789").await;
    let agent = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Channels").await;
    let card_text = |kind: &'static str, want: String| {
        let agent = agent.clone();
        async move {
            let card = browser::channel_card_with(&agent, kind, &want).await?;
            card.text().await.ok()
        }
    };
    let to = format!("{SUPPORT}, sales@shop.example");
    browser::save_channel_card(
        &agent,
        "email",
        &[
            ("to", &to),
            ("from", "chat@notify.shop.example"),
            ("reply_domain", "inbound.shop.example"),
            ("api_key", &fake.key),
            ("api_base", &fake.base),
        ],
    )
    .await;
    let saved = eventually(WAIT, "the saved email channel", || {
        card_text("email", "Saved.".into())
    })
    .await;
    assert!(
        !saved.contains("/hooks/email"),
        "email has no webhook: {saved}"
    );
    let stored = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/channels")))
        .await;
    let email = stored.body["channels"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["kind"] == "email").cloned())
        .expect("email listed");
    assert_eq!(
        email["settings"]["to"],
        json!([SUPPORT, "sales@shop.example"])
    );
    assert_eq!(email["has_secrets"], json!(true));
    browser::save_channel_card(
        &agent,
        "messenger",
        &[
            ("page_id", "104000000000001"),
            ("instagram_id", "17841400000000001"),
            ("page_access_token", "EAAG-ui"),
            ("app_secret", "meta_app_secret"),
            ("verify_token", "verify-me"),
        ],
    )
    .await;
    let messenger = eventually(WAIT, "the saved Messenger channel", || {
        card_text("messenger", format!("/hooks/messenger/{site}"))
    })
    .await;
    assert!(!messenger.contains("Send test message"), "{messenger}");
    assert!(
        messenger.contains("Take messages sent here into the inbox"),
        "{messenger}"
    );
    let scroll = |kind: &'static str| {
        let agent = agent.clone();
        async move {
            agent
                .execute(
                    &format!("document.querySelector('form[aria-labelledby={kind}-h]').scrollIntoView({{block: 'start'}})"),
                    vec![],
                )
                .await
                .unwrap();
        }
    };
    scroll("messenger").await;
    browser::screenshot(&agent, "inbox-channels-messenger-email").await;
    agent.set_window_size(375, 812).await.unwrap();
    scroll("email").await;
    agent
        .execute("window.scrollBy(0, -320)", vec![])
        .await
        .unwrap();
    browser::screenshot(&agent, "inbox-channels-email-375").await;
    scroll("messenger").await;
    browser::screenshot(&agent, "inbox-channels-messenger-375").await;
}
