//! Email against the real edge (`wrangler dev`, its email handler at `/cdn-cgi/handler/email`)
//! and a faithful loopback fake of the email API: each conversation is one thread to the
//! support address (same subject, `In-Reply-To` the thread's root, files attached by link);
//! agents' replies from three mail clients in two languages arrive as just their new text
//! (files included), once; auto-replies, bounces, forged addresses and strangers change
//! nothing; throttling is waited out and nothing is sent twice.

use beckon_shared::proto::v1::Role;
use beckon_shared::proto::v1::{ClientFrame, ServerFrame};
use beckon_shared::ConversationId;
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

/// The bodies of the visitor's (or contact's) messages in `conversation`, once there are any.
async fn visitor_messages(
    api: &Api,
    conversation: &ConversationId,
    what: &str,
) -> Vec<beckon_shared::proto::v1::Message> {
    eventually(WAIT, what, || async {
        let m: Vec<_> = api
            .admin_messages(conversation)
            .await
            .messages
            .into_iter()
            .filter(|m| m.role == Role::Visitor)
            .collect();
        Some(m).filter(|m| !m.is_empty())
    })
    .await
}

/// Sets up `site`'s email channel: relays to [`SUPPORT`] through `fake`.
async fn email_channel(api: &Api, site: &str, fake: &FakeEmail) {
    put_email_channel(api, site, fake, true).await;
}

/// Turns `site`'s email channel on or off (its secret set anew, or kept).
async fn put_email_channel(api: &Api, site: &str, fake: &FakeEmail, enabled: bool) {
    let mut body = json!({
        "settings": {"kind": "email", "to": [SUPPORT], "from": "chat@notify.shop.example",
                     "reply_domain": "inbound.shop.example", "api_base": fake.base},
        "enabled": enabled});
    if enabled {
        body["secrets"] = json!({"kind": "email", "api_key": fake.key});
    }
    let r = api
        .send(
            api.admin(
                Method::PUT,
                &format!("/api/v1/admin/sites/{site}/channels/email"),
            )
            .json(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// The emails `fake` sent to `to`, once there are `n`.
async fn mails_to(fake: &FakeEmail, to: &str, n: usize) -> Vec<Mail> {
    eventually(WAIT, &format!("{n} emails to {to}"), || async {
        let list: Vec<Mail> = fake
            .sent()
            .into_iter()
            .filter(|m| m.to == [to.to_owned()])
            .collect();
        Some(list).filter(|l| l.len() >= n)
    })
    .await
}

#[tokio::test]
async fn conversations_go_to_the_support_inbox_and_replies_come_back_as_just_the_new_text() {
    let api = Api::new(&edge::shared().url);
    let fake = FakeEmail::start("re_test_0123456789").await;
    let site = unique("mail");
    api.create_site(&site).await;
    email_channel(&api, &site, &fake).await;

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
    let up = Uploader::visitor(&api, &c);
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

/// Acceptance: a visitor leaves an email while nobody is online and closes the tab; the agent
/// answers in the inbox; the email fake receives the answer (to the visitor, in a thread whose
/// reply address is bound to them); their reply — and only theirs — lands in the same
/// conversation; when they come back the widget shows the whole thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_who_left_an_email_gets_the_answer_there_and_replies_into_the_conversation() {
    use beckon_tests::{browser, host_page};
    use fantoccini::Locator;
    const VISITOR: &str = "ana.visitor@example.net";
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = unique("away");
    api.create_site(&site).await;
    let fake = FakeEmail::start("re_away_0123456789").await;
    email_channel(&api, &site, &fake).await;
    let host = host_page::serve(base, &site, None).await;

    // Nobody has the inbox open: once the visitor wrote, the widget asks for an address.
    let visitor = browser::open(1280, 800).await;
    visitor.goto(&host.url).await.unwrap();
    browser::open_chat(&visitor).await;
    let question = unique("Do you have the trail shoes in size 42?");
    browser::send_message(&visitor, &question).await;
    browser::wait_for_log(&visitor, &[&question]).await;
    let input = visitor
        .wait()
        .for_element(Locator::Css("form.away input[type=email]"))
        .await
        .unwrap();
    let label = visitor
        .find(Locator::Css("form.away label[for=away-email]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(label.contains("Leave your email"), "{label}");
    browser::screenshot(&visitor, "widget-away-form-desktop").await;
    visitor.set_window_size(375, 667).await.unwrap();
    browser::screenshot(&visitor, "widget-away-form-375").await;
    // By keyboard: a malformed address is held back by the browser, Enter sends a good one.
    input.send_keys("not-an-address\u{E007}").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        visitor.find(Locator::Css("form.away")).await.is_ok(),
        "a malformed address is not taken"
    );
    let confirmation = |address: &'static str| {
        let visitor = &visitor;
        async move {
            eventually(WAIT, "the confirmation", || async {
                let t = visitor
                    .find(Locator::Css("p.announce"))
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?;
                t.contains(address).then_some(t)
            })
            .await
        }
    };
    // A typo, changed: the form comes back and takes the right address.
    input.clear().await.unwrap();
    input
        .send_keys("ana.visitr@example.net\u{E007}")
        .await
        .unwrap();
    confirmation("ana.visitr@example.net").await;
    visitor
        .find(Locator::XPath(
            "//p[contains(@class,'announce')]/button[.='Change']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let input = visitor
        .wait()
        .for_element(Locator::Css("form.away input[type=email]"))
        .await
        .unwrap();
    input
        .send_keys(&format!("{VISITOR}\u{E007}"))
        .await
        .unwrap();
    let confirmed = confirmation(VISITOR).await;
    assert!(confirmed.contains("we'll answer at"), "{confirmed}");
    browser::screenshot(&visitor, "widget-away-left-375").await;
    let conversation = eventually(WAIT, "the visitor's conversation", || async {
        let list = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}&limit=10"),
            ))
            .await;
        list.body["conversations"].as_array()?.first()?["id"]
            .as_str()
            .and_then(|id| ConversationId::parse(id).ok())
    })
    .await;
    // The address is on the visitor's record: a contact reachable by email.
    eventually(WAIT, "the address on the contact", || async {
        let contacts = api
            .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/contacts")))
            .await;
        (contacts.body["contacts"][0]["email"] == json!(VISITOR)).then_some(())
    })
    .await;
    // While the tab is open, an answer shows there and no email goes out.
    let checking = "Let me check the stock.";
    api.agent_reply(&conversation, checking).await;
    browser::wait_for_log(&visitor, &[&question, checking]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The visitor closes the tab (another tab of the browser stays, with its storage).
    let first_tab = visitor.window().await.unwrap();
    let other = visitor.new_window(true).await.unwrap();
    visitor.close_window().await.unwrap();
    visitor.switch_to_window(other.handle).await.unwrap();
    let _ = first_tab;
    // Their question and the first answer reached the support inbox; nothing went to them
    // while they were there.
    mails_to(&fake, SUPPORT, 2).await;
    assert!(
        fake.sent()
            .iter()
            .all(|m| !m.to.iter().any(|t| t.starts_with("ana."))),
        "no email to the visitor while their tab was open"
    );

    // The agent answers in the inbox.
    let agent = browser::open(1280, 800).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Conversations").await;
    // The list shows each conversation's newest message: the first answer.
    browser::open_conversation_showing(&agent, checking).await;
    browser::wait_for_log(&agent, &[&question, checking]).await;
    let answer = "Yes, we have it in 42. Shall I put one aside?";
    browser::send_message(&agent, answer).await;

    // The fake gets the answer, to the visitor, answerable.
    let mail = mails_to(&fake, VISITOR, 1).await.remove(0);
    assert_eq!(
        mail.subject,
        format!("Your conversation with Test site {site}")
    );
    assert!(mail.text.starts_with(answer), "{}", mail.text);
    assert!(
        mail.text.contains(&format!("— Ana, Test site {site}")),
        "{}",
        mail.text
    );
    let reply_to = mail.reply_to.clone().unwrap();
    assert!(
        reply_to.starts_with(&format!("reply+{conversation}.")),
        "{reply_to}"
    );
    assert_ne!(
        reply_to,
        mails_to(&fake, SUPPORT, 1).await[0]
            .reply_to
            .clone()
            .unwrap(),
        "the visitor's reply address is not the agents'"
    );

    // Someone else answering with that address changes nothing.
    let forged = FakeEmail::fixture("gmail_visitor.eml", "eve@example.net", &mail);
    let status = FakeEmail::receive(base, "eve@example.net", &reply_to, &forged).await;
    assert_ne!(status, 200, "mail from another address is refused");
    // Their reply (delivered twice) lands once, as theirs, without the quote or the signature.
    let reply = FakeEmail::fixture("gmail_visitor.eml", VISITOR, &mail);
    for _ in 0..2 {
        assert_eq!(
            FakeEmail::receive(base, VISITOR, &reply_to, &reply).await,
            200
        );
    }
    let said = "Great, one pair in 42 please. Can you ship it to Porto?";
    let thread = eventually(WAIT, "the emailed reply in the conversation", || async {
        let bodies: Vec<(Role, String)> = api
            .admin_messages(&conversation)
            .await
            .messages
            .into_iter()
            .map(|m| (m.role, m.body))
            .collect();
        Some(bodies).filter(|b| b.len() >= 4)
    })
    .await;
    assert_eq!(
        thread,
        vec![
            (Role::Visitor, question.clone()),
            (Role::Agent, checking.to_owned()),
            (Role::Agent, answer.to_owned()),
            (Role::Visitor, said.to_owned()),
        ]
    );
    browser::wait_for_log(&agent, &[&question, checking, answer, said]).await;
    browser::screenshot(&agent, "inbox-away-email-thread").await;
    // The agents' copy of the visitor's reply goes to the support thread.
    let support = mails_to(&fake, SUPPORT, 4).await;
    assert!(
        support.iter().any(|m| m.text.contains(said)),
        "{support:#?}"
    );

    // The visitor comes back: the whole thread, once.
    visitor.set_window_size(1280, 800).await.unwrap();
    visitor.goto(&host.url).await.unwrap();
    browser::open_chat(&visitor).await;
    browser::wait_for_log(&visitor, &[&question, checking, answer, said]).await;
    browser::screenshot(&visitor, "widget-away-returned-desktop").await;
    assert_eq!(
        fake.sent()
            .iter()
            .filter(|m| m.to == [VISITOR.to_owned()])
            .count(),
        1,
        "one email to the visitor"
    );
    visitor.close().await.unwrap();
    agent.close().await.unwrap();
}

/// Writing first by email: a contact the page identified with an address gets the business's
/// message in a thread of their own, under an identity no browser holds (anyone can claim any
/// address); their reply comes back into that conversation, once; a contact without an
/// address is refused with the reason.
#[tokio::test]
async fn the_business_writes_first_by_email_and_the_reply_comes_back() {
    const BO: &str = "bo@example.org";
    let api = Api::new(&edge::shared().url);
    let fake = FakeEmail::start("re_first_0123456789").await;
    let site = unique("mailfirst");
    api.create_site(&site).await;
    email_channel(&api, &site, &fake).await;
    let claimed = api.start_conversation(&site, None).await;
    let identify = |who: serde_json::Value, token: String| {
        let api = &api;
        let site = &site;
        async move {
            api.send(
                api.post(&format!("/api/v1/sites/{site}/identify"))
                    .bearer_auth(token)
                    .json(&who),
            )
            .await
        }
    };
    let r = identify(
        json!({"name": "Bo Berg", "email": "Bo@Example.org"}),
        claimed.visitor_token.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let no_address = api.start_conversation(&site, None).await;
    let r = identify(json!({"name": "Cy Chan"}), no_address.visitor_token.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let contacts = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/contacts")))
        .await;
    let id_of = |name: &str| {
        contacts.body["contacts"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["name"] == json!(name)))
            .and_then(|c| c["visitor_id"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{name} listed: {:?}", contacts.body))
    };
    let write = |visitor: String, body: &'static str| {
        let api = &api;
        let site = &site;
        async move {
            api.send(
                api.admin(
                    Method::POST,
                    &format!("/api/v1/admin/sites/{site}/contacts/{visitor}/conversations"),
                )
                .json(&json!({"channel": "email", "body": body, "author": "Dana"})),
            )
            .await
        }
    };
    let refused = write(id_of("Cy Chan"), "Hello Cy").await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no email address"),
        "{:?}",
        refused.body
    );
    let started = write(id_of("Bo Berg"), "Hi Bo, your order shipped today.").await;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let conversation =
        ConversationId::parse(started.body["conversation_id"].as_str().unwrap()).unwrap();
    assert_ne!(conversation, claimed.conversation_id);

    let mail = mails_to(&fake, BO, 1).await.remove(0);
    assert_eq!(
        mail.subject,
        format!("Your conversation with Test site {site}")
    );
    assert!(
        mail.text
            .starts_with("Hi Bo, your order shipped today.\n\n— Dana, Test site"),
        "{}",
        mail.text
    );
    assert!(mail.header("In-Reply-To").is_none());
    let reply_to = mail.reply_to.clone().unwrap();
    assert!(
        reply_to.starts_with(&format!("reply+{conversation}.")),
        "{reply_to}"
    );

    // Bo answers (Apple Mail, Spanish, with a file): just the new text and the file, once, as
    // the contact's; the claiming browser's own conversation gets nothing.
    let raw = FakeEmail::fixture("apple_es.eml", BO, &mail);
    for _ in 0..2 {
        assert_eq!(
            FakeEmail::receive(&api.base, BO, &reply_to, &raw).await,
            200
        );
    }
    let theirs = visitor_messages(&api, &conversation, "Bo's reply").await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert!(!theirs[0].body.contains('>'), "{:?}", theirs[0].body);
    assert_eq!(theirs[0].attachments.len(), 1, "{:?}", theirs[0]);
    assert!(api
        .admin_messages(&claimed.conversation_id)
        .await
        .messages
        .is_empty());

    // The next message continues Bo's thread.
    api.agent_reply(&conversation, "It arrives on Friday.")
        .await;
    let next = mails_to(&fake, BO, 2).await.remove(1);
    assert_eq!(next.subject, format!("Re: {}", mail.subject));
    assert_eq!(next.header("In-Reply-To"), mail.header("Message-ID"));
    assert_eq!(next.reply_to, mail.reply_to);
}

/// Email broadcasts: contacts who opted in (an import's `email_opt_in`) get the broadcast,
/// each once, with RFC 8058 one-click unsubscribe headers and the link in the text; the others
/// do not. Visiting the link only asks; one click (a POST) unsubscribes, twice changes nothing,
/// a bent token is refused, and the next broadcast skips them. A reply to a broadcast comes
/// back into that contact's conversation, as theirs.
#[tokio::test]
async fn email_broadcasts_reach_who_opted_in_and_one_click_unsubscribes() {
    const ANA: &str = "ana.lima@example.net";
    const CY: &str = "cy.chan@example.net";
    let api = Api::new(&edge::shared().url);
    let fake = FakeEmail::start("re_cast_0123456789").await;
    let site = unique("mailcast");
    api.create_site(&site).await;
    email_channel(&api, &site, &fake).await;
    let csv = format!(
        "name,email,email_opt_in\nAna Lima,{ANA},yes\nBo Berg,bo.berg@example.net,no\nCy Chan,{CY},yes\n"
    );
    let r = api
        .send(
            api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/contact-imports"),
            )
            .header("content-type", "text/csv")
            .body(csv),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["rejected"], json!([]), "{:?}", r.body);
    let broadcast = |name: &'static str| {
        let (api, site) = (&api, &site);
        async move {
            let r = api
                .send(
                    api.admin(Method::POST, &format!("/api/v1/admin/sites/{site}/broadcasts"))
                        .json(&json!({"name": name, "channels": ["email"],
                                      "text": format!("Hi {{{{first_name|there}}}}, {name} beans are in.")})),
                )
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.body
        }
    };
    broadcast("Winter").await;
    let ana = mails_to(&fake, ANA, 1).await.remove(0);
    mails_to(&fake, CY, 1).await;
    assert_eq!(
        ana.subject,
        format!("Test site {site}: Hi Ana, Winter beans are in.")
    );
    let link = ana
        .header("List-Unsubscribe")
        .and_then(|v| v.strip_prefix('<'))
        .and_then(|v| v.strip_suffix('>'))
        .expect("a List-Unsubscribe link")
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/unsubscribe/", api.base)),
        "{link}"
    );
    assert_eq!(
        ana.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(
        ana.text.starts_with("Hi Ana, Winter beans are in.")
            && ana.text.ends_with(&format!("Unsubscribe: {link}")),
        "{}",
        ana.text
    );
    assert!(
        fake.sent().iter().all(|m| m.to != ["bo.berg@example.net"]),
        "no email to who did not opt in"
    );

    // Ana answers the broadcast: her conversation, as hers.
    let reply_to = ana.reply_to.clone().unwrap();
    let conversation = reply_to
        .strip_prefix("reply+")
        .and_then(|r| r.split('.').next())
        .and_then(|c| ConversationId::parse(c).ok())
        .expect("the reply address names the conversation");
    let reply = FakeEmail::fixture("gmail_visitor.eml", ANA, &ana);
    assert_eq!(
        FakeEmail::receive(&api.base, ANA, &reply_to, &reply).await,
        200
    );
    let hers: Vec<String> = visitor_messages(&api, &conversation, "Ana's reply")
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(
        hers,
        ["Great, one pair in 42 please. Can you ship it to Porto?"]
    );

    // Visiting the link asks; a bent token is refused; one click unsubscribes (twice: once).
    let http = reqwest::Client::new();
    // A link checker's HEAD is answered like the page (and changes nothing either).
    assert_eq!(http.head(&link).send().await.unwrap().status(), 200);
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "Stop emails like this from Test site {site} to {ANA}?"
        )),
        "{html}"
    );
    assert!(html.contains(r#"<form method="post""#), "{html}");
    let bent = format!(
        "{}x",
        link.trim_end_matches(|c: char| c.is_ascii_alphanumeric())
    );
    assert_eq!(http.post(&bent).send().await.unwrap().status(), 403);
    for _ in 0..2 {
        let done = http
            .post(&link)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        assert!(done
            .text()
            .await
            .unwrap()
            .contains("will get no more emails"));
    }
    let reach = api.audience_count(&site, &json!({})).await;
    assert_eq!(
        (reach["email"].as_u64(), reach["opted_out"].as_u64()),
        (Some(1), Some(1)),
        "{reach:?}"
    );
    broadcast("Spring").await;
    let cy = mails_to(&fake, CY, 2).await;
    assert!(cy[1].subject.contains("Spring"), "{}", cy[1].subject);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        fake.sent()
            .iter()
            .filter(|m| m.to == [ANA.to_owned()])
            .count(),
        1,
        "nothing more to who unsubscribed"
    );
}

/// Acceptance (issue 13, point 5): outside the site's opening hours — the edge's test clock on a
/// Saturday — the widget says when the site opens next, even with an agent's inbox open, and
/// asks a visitor who wrote for an address (a malformed one held back); on Monday morning with
/// the inbox open it gives the usual reply time, still so with the inbox closed while the email
/// channel relays, and with that off too it says that nobody is there. Bad hours are refused
/// with a reason; axe-core finds nothing in any of these states.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_opening_hours_the_widget_says_when_the_site_opens_and_asks_for_an_address() {
    use beckon_tests::edge::Edge;
    use beckon_tests::{browser, host_page};
    use fantoccini::Locator;
    // Saturday 2026-12-05 12:00 UTC (13:00 in Berlin); Monday 08:00 UTC is 09:00 there.
    const SATURDAY: i64 = 1_796_472_000_000;
    const MONDAY_OPENS: i64 = SATURDAY + 44 * 3_600_000;
    let edge = Edge::start_with_vars(None, &[("TEST_CLOCK", "on")]);
    let api = Api::new(&edge.url);
    let site = unique("hours");
    api.create_site(&site).await;
    let patch = |body: serde_json::Value| {
        let (api, path) = (&api, format!("/api/v1/admin/sites/{site}"));
        async move { api.send(api.admin(Method::PATCH, &path).json(&body)).await }
    };
    let weekdays = json!(["mon", "tue", "wed", "thu", "fri"]);
    for (bad, why) in [
        (
            json!({"tz": "Mars/Base", "shifts": [{"days": ["mon"], "open": "09:00", "close": "17:00"}]}),
            "unknown time zone",
        ),
        (
            json!({"tz": "Europe/Berlin", "shifts": [{"days": weekdays, "open": "9am", "close": "17:00"}]}),
            "times like 09:00",
        ),
        (
            json!({"tz": "Europe/Berlin", "shifts": []}),
            "between 1 and 14 shifts",
        ),
    ] {
        let r = patch(json!({ "hours": bad })).await;
        assert_eq!(r.status, 400, "{:?}", r.body);
        let message = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{message}");
        println!("hours refused: {message}");
    }
    let hours = json!({"tz": "Europe/Berlin", "shifts": [{"days": weekdays, "open": "09:00", "close": "17:00"}]});
    let r = patch(json!({ "hours": hours })).await;
    assert_eq!((r.status, &r.body["hours"]), (200, &hours), "{:?}", r.body);
    let fake = FakeEmail::start("re_hours_0123456789").await;
    email_channel(&api, &site, &fake).await;
    let clock = |now: i64| {
        let api = &api;
        async move {
            let r = api
                .send(
                    api.admin(Method::PUT, "/api/v1/admin/test-clock")
                        .json(&json!({ "now": now })),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    };
    clock(SATURDAY).await;
    // An agent has the inbox open; the hours still say nobody answers before Monday.
    let feed = Ws::connect(&api.feed_ws_url(&site).await, None)
        .await
        .expect("feed");
    let host = host_page::serve(&edge.url, &site, None).await;
    let visitor = browser::open(1280, 800).await;
    visitor.goto(&host.url).await.unwrap();
    browser::open_chat(&visitor).await;
    let status = || async {
        visitor
            .find(Locator::Css(".head .status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    // The weekday and time as this browser writes them in English, in its own time zone.
    let opens = visitor
        .execute(
            &format!(
                "return new Date({MONDAY_OPENS}).toLocaleTimeString('en', \
                 {{weekday: 'short', hour: 'numeric', minute: '2-digit'}});"
            ),
            vec![],
        )
        .await
        .unwrap();
    let opens = opens.as_str().unwrap();
    assert!(opens.starts_with("Mon"), "{opens}");
    assert_eq!(status().await, format!("Away · back {opens}"));
    let mut seen = Vec::new();
    browser::axe_view(&visitor, "the panel outside opening hours", &mut seen).await;
    browser::screenshot(&visitor, "widget-closed-desktop").await;
    // Having written, the visitor is asked for an address; a malformed one is held back.
    browser::send_message(&visitor, "Do you ship to Vienna?").await;
    browser::wait_for_log(&visitor, &["Do you ship to Vienna?"]).await;
    let input = visitor
        .wait()
        .for_element(Locator::Css("form.away input[type=email]"))
        .await
        .unwrap();
    input.send_keys("ana@localhost\u{E007}").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let invalid = visitor
        .execute(
            "return document.querySelector('form.away input').validity.valid;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(invalid, json!(false), "ana@localhost is not an address");
    assert!(visitor.find(Locator::Css("form.away")).await.is_ok());
    browser::axe_view(&visitor, "the away form outside opening hours", &mut seen).await;
    visitor.set_window_size(375, 667).await.unwrap();
    browser::screenshot(&visitor, "widget-closed-form-375").await;
    input.clear().await.unwrap();
    input.send_keys("ana@example.net\u{E007}").await.unwrap();
    eventually(WAIT, "the confirmation", || async {
        let t = visitor.find(Locator::Css("p.announce")).await.ok()?;
        t.text()
            .await
            .ok()?
            .contains("ana@example.net")
            .then_some(())
    })
    .await;
    eventually(WAIT, "the address on the contact", || async {
        let contacts = api
            .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/contacts")))
            .await;
        (contacts.body["contacts"][0]["email"] == json!("ana@example.net")).then_some(())
    })
    .await;

    // Monday 10:00 in Berlin, the inbox open: the usual reply time, no form.
    clock(MONDAY_OPENS + 3_600_000).await;
    visitor.set_window_size(1280, 800).await.unwrap();
    visitor.goto(&host.url).await.unwrap();
    browser::open_chat(&visitor).await;
    eventually(WAIT, "the usual reply time", || async {
        (status().await == "We typically reply in a few minutes").then_some(())
    })
    .await;
    assert!(visitor.find(Locator::Css("form.away")).await.is_err());
    browser::axe_view(&visitor, "the panel in opening hours", &mut seen).await;
    // The last inbox closes: the email channel still brings the agents every message.
    feed.close().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(status().await, "We typically reply in a few minutes");
    // With it off too, nobody is there: said on the next page.
    put_email_channel(&api, &site, &fake, false).await;
    visitor.goto(&host.url).await.unwrap();
    browser::open_chat(&visitor).await;
    let nobody = "Nobody's here right now · we'll reply as soon as we can";
    eventually(WAIT, "nobody there", || async {
        (status().await == nobody).then_some(())
    })
    .await;
    browser::axe_view(&visitor, "the panel with nobody there", &mut seen).await;
    browser::screenshot(&visitor, "widget-nobody-desktop").await;
    for (view, violations) in &seen {
        assert!(violations.is_empty(), "{view}: {violations:?}");
    }
    edge.stop();
}
