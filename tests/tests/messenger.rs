//! Messenger and Instagram against the real edge and a faithful loopback fake of the
//! Messenger Platform: people who write to the Page or its Instagram account become contacts
//! with a conversation each (their files downloaded into it); the business's answers go back
//! through the Send API within Meta's windows (`RESPONSE` within 24 hours, `HUMAN_AGENT`
//! within 7 days, refused with the reason after), files as attachments Meta fetches from their
//! signed links; webhooks are verified over the raw body and applied once.

use beckon_shared::proto::v1::{ClientFrame, ServerFrame};
use beckon_shared::proto::v1::{ContactChannel, Role};
use beckon_shared::ConversationId;
use beckon_tests::api::{client_id, Api, Reply, Ws};
use beckon_tests::edge;
use beckon_tests::fakes::messenger::{App, FakeMessenger};
use beckon_tests::fakes::Fault;
use beckon_tests::files::{jpeg, pdf, sha256, Uploader};
use beckon_tests::{eventually, unique, ADMIN_KEY};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const APP_SECRET: &str = "meta_app_secret_41";
const VERIFY: &str = "beckon-verify-7";
const PAGE: &str = "104000000000001";
const INSTAGRAM: &str = "17841400000000001";

async fn messenger_site(api: &Api, fake: &FakeMessenger) -> String {
    let site = unique("fb");
    api.create_site(&site).await;
    put_messenger(api, &site, fake).await;
    site
}

async fn put_messenger(api: &Api, site: &str, fake: &FakeMessenger) {
    let r = api
        .send(
            api.admin(
                Method::PUT,
                &format!("/api/v1/admin/sites/{site}/channels/messenger"),
            )
            .json(&json!({
                "settings": {"kind": "messenger", "page_id": PAGE, "instagram_id": INSTAGRAM, "api_base": fake.base},
                "secrets": {"kind": "messenger", "page_access_token": fake.token, "app_secret": APP_SECRET, "verify_token": VERIFY}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

fn hook(api: &Api, site: &str) -> String {
    format!("{}/hooks/messenger/{site}", api.base)
}

async fn conversations(api: &Api, site: &str) -> Vec<Value> {
    api.send(api.admin(
        Method::GET,
        &format!("/api/v1/admin/conversations?site={site}"),
    ))
    .await
    .body["conversations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn contacts(api: &Api, site: &str) -> Vec<Value> {
    api.send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/contacts")))
        .await
        .body["contacts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The conversation held on `channel`, once there is one.
async fn conversation_on(api: &Api, site: &str, channel: &str) -> ConversationId {
    let c = eventually(WAIT, "the person's conversation", || async {
        conversations(api, site)
            .await
            .into_iter()
            .find(|c| c["contact"] == json!(channel))
    })
    .await;
    ConversationId::parse(c["id"].as_str().unwrap()).unwrap()
}

async fn visitor_bodies(api: &Api, id: &ConversationId) -> Vec<(String, usize)> {
    api.admin_messages(id)
        .await
        .messages
        .into_iter()
        .filter(|m| m.role == Role::Visitor)
        .map(|m| (m.body, m.attachments.len()))
        .collect()
}

async fn reply(api: &Api, id: &ConversationId, body: Value) -> Reply {
    api.send(
        api.admin(
            Method::POST,
            &format!("/api/v1/admin/conversations/{id}/messages"),
        )
        .json(&body),
    )
    .await
}

/// The relay of the conversation's latest message to the contact: (state, last error).
async fn contact_relay(api: &Api, id: &ConversationId) -> Option<(String, String)> {
    let r = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations/{id}/relays"),
        ))
        .await;
    let relays = r.body["relays"].as_array()?;
    let last = relays
        .iter()
        .filter(|r| {
            r["channel"]
                .as_str()
                .is_some_and(|c| c.starts_with("contact:"))
        })
        .max_by_key(|r| r["seq"].as_i64())?;
    Some((
        last["state"].as_str()?.to_owned(),
        last["last_error"].as_str().unwrap_or_default().to_owned(),
    ))
}

#[tokio::test]
async fn people_who_write_to_the_page_or_instagram_get_conversations_and_answers_within_the_windows(
) {
    let api = Api::new(&edge::shared().url);
    let fake = FakeMessenger::start("EAAG-page-token", PAGE, INSTAGRAM).await;
    let site = messenger_site(&api, &fake).await;
    let url = hook(&api, &site);

    // Ana writes to the Page with a photo (delivered twice, as Meta may): one contact, one
    // conversation, one message carrying the photo's bytes.
    let photo = jpeg(40_000);
    let (_, wrote) = fake.message_event(
        App::Messenger,
        ("6100000000000001", "Ana Lima"),
        Some("Hi! Do you ship to Lyon?"),
        &[("image", "lyon.jpg", photo.clone())],
        0,
    );
    for _ in 0..2 {
        assert_eq!(FakeMessenger::deliver(&url, APP_SECRET, &wrote).await, 200);
    }
    let ana = conversation_on(&api, &site, "messenger").await;
    let said = eventually(WAIT, "Ana's message", || async {
        Some(visitor_bodies(&api, &ana).await).filter(|m| !m.is_empty())
    })
    .await;
    assert_eq!(said, vec![("Hi! Do you ship to Lyon?".to_owned(), 1)]);
    let stored = api.admin_messages(&ana).await.messages;
    let file = &stored[0].attachments[0];
    assert_eq!(
        (file.name.as_str(), file.size),
        ("lyon.jpg", photo.len() as u64)
    );
    let listed = contacts(&api, &site).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (&listed[0]["name"], &listed[0]["meta"]),
        (&json!("Ana Lima"), &json!(["messenger"]))
    );
    assert_eq!(conversations(&api, &site).await.len(), 1);

    // The business answers with text and a PDF: a RESPONSE text, then a `file` attachment
    // Meta fetched from its signed link (the same bytes).
    let quote = pdf(30_000);
    let up = Uploader {
        api: &api,
        conversation: ana.clone(),
        bearer: ADMIN_KEY.into(),
    };
    let att = up
        .upload("fb-quote", "quote.pdf", &quote, None)
        .await
        .expect("uploaded");
    let r = reply(
        &api,
        &ana,
        json!({"body": "Yes, in 2 days. Here is the price list.", "author": "Maya", "attachments": [att.id]}),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let sent = eventually(WAIT, "the answer and its file", || async {
        Some(fake.sent_to("6100000000000001")).filter(|s| s.len() == 2)
    })
    .await;
    assert_eq!(
        (
            sent[0].messaging_type.as_str(),
            sent[0].tag.as_deref(),
            sent[0].text.as_deref()
        ),
        (
            "RESPONSE",
            None,
            Some("Maya: Yes, in 2 days. Here is the price list.")
        )
    );
    let (kind, bytes) = sent[1].attachment.clone().expect("an attachment");
    assert_eq!((kind.as_str(), sha256(&bytes)), ("file", sha256(&quote)));

    // Bo wrote on Instagram two days ago: the answer goes tagged HUMAN_AGENT, and the PDF
    // (which Instagram does not take as an attachment) as a link in the text.
    let (_, bo_wrote) = fake.message_event(
        App::Instagram,
        ("9900000000000002", "Bo Berg"),
        Some("Is the blue one back?"),
        &[],
        48,
    );
    assert_eq!(
        FakeMessenger::deliver(&url, APP_SECRET, &bo_wrote).await,
        200
    );
    let bo = conversation_on(&api, &site, "instagram").await;
    let up = Uploader {
        api: &api,
        conversation: bo.clone(),
        bearer: ADMIN_KEY.into(),
    };
    let att = up
        .upload("ig-quote", "sizes.pdf", &quote, None)
        .await
        .expect("uploaded");
    // An automated message (posted through the API) may not use the 7-day window.
    let r = reply(&api, &bo, json!({"body": "Our newsletter is out!"})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let (_, error) = eventually(WAIT, "the refused automated message", || async {
        contact_relay(&api, &bo)
            .await
            .filter(|(state, _)| state == "failed")
    })
    .await;
    assert!(error.contains("within 24 hours"), "{error}");
    // A person answers from the inbox: tagged HUMAN_AGENT.
    let mut inbox = Ws::connect(&api.agent_ws_url(&bo).await, Some(&api.base))
        .await
        .expect("the inbox socket");
    inbox.hello(0).await;
    inbox
        .send(&ClientFrame::Send {
            client_msg_id: client_id("bo-answer"),
            body: "It is!".into(),
            attachments: vec![att.id],
        })
        .await;
    inbox
        .recv_until(WAIT, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let sent = eventually(WAIT, "the answer on Instagram", || async {
        fake.sent_to("9900000000000002").into_iter().next()
    })
    .await;
    assert_eq!(
        (sent.messaging_type.as_str(), sent.tag.as_deref()),
        ("MESSAGE_TAG", Some("HUMAN_AGENT"))
    );
    let text = sent.text.unwrap();
    assert!(text.starts_with("Ana: It is!\n📎 sizes.pdf"), "{text}");
    let link = text.rsplit(": ").next().unwrap();
    let downloaded = reqwest::get(link).await.unwrap();
    assert_eq!(downloaded.status(), 200);
    assert_eq!(sha256(&downloaded.bytes().await.unwrap()), sha256(&quote));
    assert_eq!(fake.sent_to("9900000000000002").len(), 1);
    let listed = contacts(&api, &site).await;
    let bo_contact = listed.iter().find(|c| c["name"] == "Bo Berg").unwrap();
    assert_eq!(bo_contact["meta"], json!(["instagram"]));

    // Cy wrote eight days ago: nothing may reach him. Writing first is refused with the
    // rule, and an answer in his conversation fails with it (Meta is never called).
    let (_, cy_wrote) = fake.message_event(
        App::Messenger,
        ("6100000000000003", "Cy Dana"),
        Some("Ping"),
        &[],
        8 * 24,
    );
    assert_eq!(
        FakeMessenger::deliver(&url, APP_SECRET, &cy_wrote).await,
        200
    );
    let cy_contact = eventually(WAIT, "Cy as a contact", || async {
        contacts(&api, &site)
            .await
            .into_iter()
            .find(|c| c["name"] == "Cy Dana")
    })
    .await;
    let visitor = cy_contact["visitor_id"].as_str().unwrap();
    let refused = api
        .send(
            api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/contacts/{visitor}/conversations"),
            )
            .json(&json!({"channel": "messenger", "body": "Hello again"})),
        )
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    let reason = refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("within 7 days"), "{reason}");
    let not_there = api
        .send(
            api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/contacts/{visitor}/conversations"),
            )
            .json(&json!({"channel": "instagram", "body": "Hello"})),
        )
        .await;
    assert_eq!(not_there.status, 409, "{:?}", not_there.body);
    let cy = eventually(WAIT, "Cy's conversation", || async {
        conversations(&api, &site)
            .await
            .into_iter()
            .find(|c| c["contact"] == json!("messenger") && c["id"].as_str() != Some(ana.as_str()))
    })
    .await;
    let cy = ConversationId::parse(cy["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        reply(&api, &cy, json!({"body": "Sorry for the wait"}))
            .await
            .status,
        201
    );
    let (state, error) = eventually(WAIT, "the refused answer", || async {
        contact_relay(&api, &cy)
            .await
            .filter(|(state, _)| state == "failed")
    })
    .await;
    assert!(error.contains("within 7 days"), "{state}: {error}");
    assert!(fake.sent_to("6100000000000003").is_empty());

    // Ed wrote 23 hours ago, but Meta's clock sees 25: the inbox answer, refused as a
    // RESPONSE, goes again as a person's answer (HUMAN_AGENT), once.
    let (_, ed_wrote) = fake.message_event(
        App::Messenger,
        ("6100000000000004", "Ed Ward"),
        Some("Still open?"),
        &[],
        23,
    );
    assert_eq!(
        FakeMessenger::deliver(&url, APP_SECRET, &ed_wrote).await,
        200
    );
    fake.age("6100000000000004", 2);
    let ed = eventually(WAIT, "Ed's conversation", || async {
        conversations(&api, &site).await.into_iter().find(|c| {
            c["contact"] == json!("messenger")
                && ![ana.as_str(), cy.as_str()].contains(&c["id"].as_str().unwrap_or_default())
        })
    })
    .await;
    let ed = ConversationId::parse(ed["id"].as_str().unwrap()).unwrap();
    let mut inbox = Ws::connect(&api.agent_ws_url(&ed).await, Some(&api.base))
        .await
        .expect("the inbox socket");
    inbox.hello(0).await;
    inbox
        .send(&ClientFrame::Send {
            client_msg_id: client_id("ed-answer"),
            body: "Until 6 pm".into(),
            attachments: Vec::new(),
        })
        .await;
    let to_ed = eventually(WAIT, "the answer to Ed", || async {
        fake.sent_to("6100000000000004").into_iter().next()
    })
    .await;
    assert_eq!(
        (to_ed.messaging_type.as_str(), to_ed.tag.as_deref()),
        ("MESSAGE_TAG", Some("HUMAN_AGENT"))
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.sent_to("6100000000000004").len(), 1);

    // Ana writes first again within her window: throttled twice, the answer lands once.
    fake.inject(Fault::RateLimited {
        retry_after_secs: 1,
    });
    fake.inject(Fault::ServerError);
    let r = api
        .send(
            api.admin(
                Method::POST,
                &format!(
                    "/api/v1/admin/sites/{site}/contacts/{}/conversations",
                    listed
                        .iter()
                        .find(|c| c["name"] == "Ana Lima")
                        .unwrap()["visitor_id"]
                        .as_str()
                        .unwrap()
                ),
            )
            .json(&json!({"channel": "messenger", "body": "Your parcel left today", "author": "Maya"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let landed = eventually(Duration::from_secs(60), "the outreach", || async {
        fake.sent_to("6100000000000001")
            .into_iter()
            .find(|s| s.text.as_deref() == Some("Maya: Your parcel left today"))
    })
    .await;
    assert_eq!(landed.messaging_type, "RESPONSE");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let copies = fake
        .sent_to("6100000000000001")
        .iter()
        .filter(|s| s.text.as_deref() == Some("Maya: Your parcel left today"))
        .count();
    assert_eq!(copies, 1);
    let faults_served = fake
        .faults
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(_, c)| c.contains("RateLimited") || c.contains("ServerError"))
        .count();
    assert_eq!(
        faults_served, 2,
        "both faults were met before the outreach landed"
    );
}

#[tokio::test]
async fn forged_foreign_echoed_and_unsubscribed_webhooks_change_nothing() {
    let api = Api::new(&edge::shared().url);
    let fake = FakeMessenger::start("EAAG-other-token", PAGE, INSTAGRAM).await;
    let site = unique("fbhooks");
    api.create_site(&site).await;
    let url = hook(&api, &site);
    let (_, wrote) = fake.message_event(
        App::Messenger,
        ("6100000000000009", "Di"),
        Some("hello"),
        &[],
        0,
    );
    // Before Messenger is set up for the site, its hook refuses everything.
    assert_eq!(FakeMessenger::deliver(&url, APP_SECRET, &wrote).await, 403);
    put_messenger(&api, &site, &fake).await;

    // The subscription handshake answers the challenge for the right token only.
    let get = |token: &str| {
        reqwest::Client::new().get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        ))
    };
    let ok = get(VERIFY).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    assert_eq!(get("wrong").send().await.unwrap().status(), 403);

    // Forged (other secret), unsigned and tampered payloads are refused.
    assert_eq!(
        FakeMessenger::deliver(&url, "other_secret", &wrote).await,
        401
    );
    let unsigned = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(wrote.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let signature = {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
        mac.update(wrote.to_string().as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let tampered = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(wrote.to_string().replace("hello", "HELLO"))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);
    // Another Page's event (one Meta app may serve several Pages through one callback):
    // acknowledged, and nothing is made of it.
    let foreign = fake.foreign_event("104000000000999", "6100000000000009");
    assert_eq!(
        FakeMessenger::deliver(&url, APP_SECRET, &foreign).await,
        200
    );
    // The echo of the Page's own message: accepted and ignored.
    let echo = fake.echo_event("6100000000000009", "our own words");
    assert_eq!(FakeMessenger::deliver(&url, APP_SECRET, &echo).await, 200);
    // Not a Messenger payload at all.
    let other = json!({"object": "whatsapp_business_account", "entry": []});
    assert_eq!(FakeMessenger::deliver(&url, APP_SECRET, &other).await, 400);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(conversations(&api, &site).await, Vec::<Value>::new());
    assert_eq!(contacts(&api, &site).await, Vec::<Value>::new());

    // The genuine one, in a batch with another Page's entry, makes one conversation on
    // Messenger; a second message of the same new person handled at the same moment joins
    // it (one contact, one conversation).
    let mut mixed = wrote.clone();
    let other_entry = foreign["entry"][0].clone();
    mixed["entry"].as_array_mut().unwrap().push(other_entry);
    let (_, again) = fake.message_event(
        App::Messenger,
        ("6100000000000009", "Di"),
        Some("are you there?"),
        &[],
        0,
    );
    let (a, b) = tokio::join!(
        FakeMessenger::deliver(&url, APP_SECRET, &mixed),
        FakeMessenger::deliver(&url, APP_SECRET, &again)
    );
    assert_eq!((a, b), (200, 200));
    let id = conversation_on(&api, &site, "messenger").await;
    let both = eventually(WAIT, "both messages in one conversation", || async {
        Some(visitor_bodies(&api, &id).await).filter(|m| m.len() == 2)
    })
    .await;
    let mut texts: Vec<&str> = both.iter().map(|(b, _)| b.as_str()).collect();
    texts.sort();
    assert_eq!(texts, vec!["are you there?", "hello"]);
    assert_eq!(contacts(&api, &site).await.len(), 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(conversations(&api, &site).await.len(), 1);
    assert_eq!(
        api.admin_summary(&id).await.contact,
        Some(ContactChannel::Messenger)
    );

    // The settings' test has nobody to reach on Messenger: it says so.
    let test = api
        .send(api.admin(
            Method::POST,
            &format!("/api/v1/admin/sites/{site}/channels/messenger/test"),
        ))
        .await;
    assert!(
        test.body.to_string().contains("write to the Page")
            || test.body.to_string().contains("Write to the Page"),
        "{} {:?}",
        test.status,
        test.body
    );
}

/// A broadcast file uploaded for `site`; its attachment id.
async fn broadcast_file(api: &Api, site: &str, name: &str, bytes: Vec<u8>) -> String {
    let r = api
        .send(
            api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/broadcast-files?name={name}"),
            )
            .body(bytes),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["attachment"]["id"].as_str().unwrap().to_owned()
}

async fn post_broadcast(api: &Api, site: &str, body: Value) -> Value {
    let r = api
        .send(
            api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/broadcasts"),
            )
            .json(&body),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn broadcasts_reach_people_who_wrote_within_24_hours_and_stop_on_stop() {
    const ANA: &str = "6100000000000011";
    const BO: &str = "9900000000000012";
    const CY: &str = "6100000000000013";
    let api = Api::new(&edge::shared().url);
    let fake = FakeMessenger::start("EAAG-cast-token", PAGE, INSTAGRAM).await;
    let site = messenger_site(&api, &fake).await;
    let url = hook(&api, &site);
    // Ana wrote to the Page just now, Bo on Instagram 3 hours ago, Cy to the Page 30 hours
    // ago (a person may still answer him; nothing automated may).
    for (app, who, hours) in [
        (App::Messenger, (ANA, "Ana Lima"), 0),
        (App::Instagram, (BO, "Bo Berg"), 3),
        (App::Messenger, (CY, "Cy Dana"), 30),
    ] {
        let (_, wrote) = fake.message_event(app, who, Some("Hello!"), &[], hours);
        assert_eq!(FakeMessenger::deliver(&url, APP_SECRET, &wrote).await, 200);
    }
    eventually(WAIT, "three contacts", || async {
        (contacts(&api, &site).await.len() == 3).then_some(())
    })
    .await;
    let reach = api.audience_count(&site, &json!({})).await;
    assert_eq!(
        (
            &reach["contacts"],
            &reach["messenger"],
            &reach["instagram"],
            &reach["unreachable"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(1)),
        "{reach}"
    );

    // A photo, a link and a reply button: each gets the photo, then the text with the link
    // and the quick reply, as an UPDATE; Cy gets nothing.
    let photo = jpeg(30_000);
    let file = broadcast_file(&api, &site, "sale.jpg", photo.clone()).await;
    let input = |name: &str| {
        json!({"name": name, "channels": ["messenger", "instagram"], "files": [file],
               "text": "Hi {{first_name|there}}, the spring sale starts today.",
               "buttons": [{"label": "Shop now", "action": "link", "url": "https://shop.example/sale"},
                           {"label": "Stop", "action": "reply"}]})
    };
    let preview = api
        .send(
            api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/broadcast-previews"),
            )
            .json(&input("Spring")),
        )
        .await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(
        preview.body["previews"][0]["form"],
        json!("a Messenger message (to people who wrote in the last 24 hours) with JPEG image sale.jpg"),
        "{:?}",
        preview.body
    );
    let count = &preview.body["count"];
    assert_eq!(
        (
            &count["messenger"],
            &count["instagram"],
            &count["unreachable"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{count}"
    );
    let created = post_broadcast(&api, &site, input("Spring")).await;
    assert_eq!(created["total"]["recipients"], json!(2), "{created}");
    for (who, first) in [(ANA, "Ana"), (BO, "Bo")] {
        let sent = eventually(WAIT, "the photo and the text", || async {
            Some(fake.sent_to(who)).filter(|s| s.len() == 2)
        })
        .await;
        assert!(sent
            .iter()
            .all(|s| s.messaging_type == "UPDATE" && s.tag.is_none()));
        let (kind, bytes) = sent[0].attachment.clone().expect("the photo first");
        assert_eq!((kind.as_str(), sha256(&bytes)), ("image", sha256(&photo)));
        assert_eq!(
            sent[1].text.as_deref(),
            Some(
                format!(
                    "Hi {first}, the spring sale starts today.\n\nShop now: https://shop.example/sale"
                )
                .as_str()
            )
        );
        assert_eq!(sent[1].quick_replies, vec!["Stop".to_owned()]);
    }
    assert!(
        fake.sent_to(CY).is_empty(),
        "nothing to who wrote 30 hours ago"
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let done = eventually(WAIT, "the broadcast done", || async {
        let b = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/sites/{site}/broadcasts/{id}"),
            ))
            .await
            .body;
        (b["status"] == "done").then_some(b)
    })
    .await;
    let mut channels: Vec<(String, u64)> = done["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["channel"].as_str().unwrap().to_owned(),
                c["funnel"]["recipients"].as_u64().unwrap(),
            )
        })
        .collect();
    channels.sort();
    assert_eq!(
        channels,
        vec![("instagram".to_owned(), 1), ("messenger".to_owned(), 1)],
        "{done}"
    );

    // Ana taps Stop (delivered twice, as Meta may): one confirmation, and the next broadcast
    // reaches only Bo.
    let (_, stop) = fake.message_event(App::Messenger, (ANA, "Ana Lima"), Some("Stop"), &[], 0);
    for _ in 0..2 {
        assert_eq!(FakeMessenger::deliver(&url, APP_SECRET, &stop).await, 200);
    }
    let confirmation = eventually(WAIT, "the confirmation", || async {
        fake.sent_to(ANA).into_iter().nth(2)
    })
    .await;
    assert_eq!(confirmation.messaging_type, "RESPONSE");
    assert!(
        confirmation
            .text
            .as_deref()
            .is_some_and(|t| t.starts_with("You will not get more messages like this")),
        "{confirmation:?}"
    );
    let reach = api.audience_count(&site, &json!({})).await;
    assert_eq!(
        (&reach["messenger"], &reach["opted_out"]),
        (&json!(0), &json!(1)),
        "{reach}"
    );
    let again = post_broadcast(&api, &site, input("Summer")).await;
    assert_eq!(
        (
            &again["total"]["recipients"],
            &again["channels"][0]["channel"]
        ),
        (&json!(1), &json!("instagram")),
        "{again}"
    );
    eventually(WAIT, "Bo's second broadcast", || async {
        (fake.sent_to(BO).len() == 4).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.sent_to(ANA).len(), 3, "nothing more to who said stop");
}
