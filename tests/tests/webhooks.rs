//! Outbound webhooks against the real edge (`wrangler dev`) and a consumer written from the
//! Standard Webhooks specification (`fakes::webhook`, which also runs the spec's official
//! library on every event): signatures, the timestamp tolerance against replays, retries
//! without duplicates, the delivery log and its replay, secret rotation, replies from the
//! business's system, and files both ways.

use beckon_shared::proto::v1::{ClientFrame, ServerFrame, WebhookDeliveries, WebhookDelivery};
use beckon_tests::api::{client_id, Api};
use beckon_tests::edge::Edge;
use beckon_tests::fakes::webhook::{self as spec, Answer, Consumer};
use beckon_tests::files::{pdf, png, sha256, Uploader};
use beckon_tests::{eventually, unique};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
/// The specification's own example secret (24 bytes), and a second one (32 bytes).
const SECRET_A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET_B: &str = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3";

/// This binary's edge: one for all its tests, with the production default for a channel's
/// (here: a file host's) answer, 10 s. The endless file below is read up to the 50 MB cap
/// in about half a second on an idle machine, but the tests' 1.5 s ran out first on a loaded
/// one — a timeout, which the webhook answers with a retry (500), not a refusal.
fn edge() -> &'static Edge {
    static EDGE: OnceLock<Edge> = OnceLock::new();
    EDGE.get_or_init(|| Edge::start_with_vars(None, &[("RELAY_TIMEOUT_MS", "10000")]))
}

async fn put_webhook(
    api: &Api,
    site: &str,
    url: &str,
    secret: Option<&str>,
) -> beckon_tests::api::Reply {
    let mut body = json!({"settings": {"kind": "webhook", "url": url}});
    if let Some(s) = secret {
        body["secrets"] = json!({"kind": "webhook", "secret": s});
    }
    api.send(
        api.admin(
            Method::PUT,
            &format!("/api/v1/admin/sites/{site}/channels/webhook"),
        )
        .json(&body),
    )
    .await
}

/// A site whose webhook endpoint is a fresh consumer trusting `SECRET_A`.
async fn site_with_consumer(api: &Api, prefix: &str) -> (String, Consumer) {
    let site = unique(prefix);
    api.create_site(&site).await;
    let consumer = Consumer::start(SECRET_A).await;
    let r = put_webhook(api, &site, &consumer.url(), Some(SECRET_A)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    (site, consumer)
}

/// Waits until the consumer has accepted `n` events; returns them.
async fn accepted(consumer: &Consumer, n: usize) -> Vec<spec::Event> {
    eventually(WAIT, &format!("{n} events accepted"), || async {
        let a = consumer.accepted();
        (a.len() >= n).then_some(a)
    })
    .await
}

async fn deliveries(api: &Api, site: &str, query: &str) -> Vec<WebhookDelivery> {
    let r = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/sites/{site}/webhook/deliveries{query}"),
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    serde_json::from_value::<WebhookDeliveries>(r.body)
        .unwrap()
        .deliveries
}

fn hook(api: &Api, site: &str) -> String {
    format!("{}/hooks/webhook/{site}", api.base)
}

#[tokio::test]
async fn every_event_verifies_and_an_old_replay_is_refused() {
    let api = Api::new(&edge().url);
    let (site, consumer) = site_with_consumer(&api, "wh").await;
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("Do you ship to Canada?").await;
    api.agent_reply(&c.conversation_id, "Yes, in 5 days.").await;

    let events = accepted(&consumer, 3).await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["conversation.started", "message.created", "message.created"]
    );
    let conv = c.conversation_id.as_str();
    assert_eq!(events[0].id, format!("evt_{conv}_started"));
    for e in &events {
        assert_eq!(e.body["data"]["conversation_id"], conv);
        assert_eq!(e.body["data"]["site"], site.as_str());
        assert_eq!(e.signatures.len(), 1, "one secret, one signature");
        assert!(e.id.starts_with("evt_"), "{}", e.id);
        assert!((e.timestamp - beckon_tests::fakes::unix_now()).abs() < 60);
        assert!(e.body["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(e.raw.body.len() < 20 * 1024, "payloads stay under 20 KB");
    }
    let (visitor, agent) = (&events[1].body["data"], &events[2].body["data"]);
    assert_eq!(
        (
            visitor["role"].as_str(),
            visitor["text"].as_str(),
            visitor["seq"].as_u64()
        ),
        (Some("visitor"), Some("Do you ship to Canada?"), Some(1))
    );
    assert_eq!(
        (
            agent["role"].as_str(),
            agent["author"].as_str(),
            agent["via"].as_str(),
            agent["text"].as_str()
        ),
        (
            Some("agent"),
            Some("Ana"),
            Some("api"),
            Some("Yes, in 5 days.")
        )
    );
    assert!(
        consumer.log().iter().all(|(_, status, _)| *status == 204),
        "nothing refused, the official library agreed on every event: {:?}",
        consumer.log()
    );

    // An attacker replays a captured delivery: at once it is a duplicate the consumer
    // ignores; tampered, its signature fails; ten minutes later its timestamp is refused.
    let captured = events[1].raw.clone();
    assert_eq!(consumer.replay(&captured).await, 200);
    assert_eq!(consumer.accepted().len(), 3, "deduped on webhook-id");
    let mut tampered = captured.clone();
    tampered.body = captured
        .body
        .to_vec()
        .iter()
        .map(|b| if *b == b'C' { b'X' } else { *b })
        .collect::<Vec<u8>>()
        .into();
    assert_eq!(consumer.replay(&tampered).await, 401);
    consumer.advance_clock(10 * 60);
    assert_eq!(consumer.replay(&captured).await, 401);
    let log = consumer.log();
    let reasons: Vec<&str> = log.iter().rev().take(2).map(|l| l.2.as_str()).collect();
    assert_eq!(reasons, ["TimestampOutOfTolerance", "NoValidSignature"]);
    assert_eq!(
        spec::verify(
            &[SECRET_A.to_owned()],
            &captured,
            beckon_tests::fakes::unix_now() + 301
        ),
        Err(spec::Refusal::TimestampOutOfTolerance)
    );

    // The delivery log holds each event once, delivered on the first attempt.
    let log = deliveries(&api, &site, "").await;
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log
        .iter()
        .all(|d| d.attempts == 1 && d.response_status == Some(204)));
    assert_eq!(log[2].event_type, "conversation.started", "newest first");
}

#[tokio::test]
async fn the_business_system_replies_into_the_conversation_once() {
    let api = Api::new(&edge().url);
    let (site, consumer) = site_with_consumer(&api, "whr").await;
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("Where is my order 1042?").await;
    accepted(&consumer, 2).await;

    let conv = c.conversation_id.as_str();
    let reply = json!({"type": "message.create",
        "data": {"conversation_id": conv, "text": "Order 1042 ships Monday.", "author": "Shop CRM"}});
    let hook = hook(&api, &site);
    assert_eq!(
        Consumer::post_to(&hook, SECRET_A, "evt_crm_1", 0, &reply)
            .await
            .0,
        200
    );
    let m = ws.agent_message(WAIT).await;
    assert_eq!(
        (m.body.as_str(), m.author.as_deref(), m.via.as_deref()),
        (
            "Order 1042 ships Monday.",
            Some("Shop CRM"),
            Some("webhook")
        )
    );

    // A redelivery of the same webhook-id is a no-op; so are refused ones.
    assert_eq!(
        Consumer::post_to(&hook, SECRET_A, "evt_crm_1", 0, &reply)
            .await
            .0,
        200
    );
    let (status, body) = Consumer::post_to(&hook, SECRET_A, "evt_crm_2", 6 * 60, &reply).await;
    assert_eq!(status, 401, "an old timestamp: {body}");
    assert!(body.contains("5 minutes"), "{body}");
    assert_eq!(
        Consumer::post_to(&hook, SECRET_B, "evt_crm_3", 0, &reply)
            .await
            .0,
        401
    );
    let unsigned = reqwest::Client::new()
        .post(&hook)
        .json(&reply)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    // Only conversations whose events went to this endpoint can be answered.
    let elsewhere = api.start_conversation(&site, None).await;
    let other = json!({"type": "message.create",
        "data": {"conversation_id": elsewhere.conversation_id.as_str(), "text": "hi"}});
    let (status, body) = Consumer::post_to(&hook, SECRET_A, "evt_crm_4", 0, &other).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        Consumer::post_to(
            &hook,
            SECRET_A,
            "evt_crm_5",
            0,
            &json!({"type": "message.create", "data": {"conversation_id": conv, "text": " "}})
        )
        .await
        .0,
        400
    );
    let page = api.admin_messages(&c.conversation_id).await;
    let replies = page
        .messages
        .iter()
        .filter(|m| m.via.as_deref() == Some("webhook"))
        .count();
    assert_eq!(replies, 1, "stored once");
    // The reply is not sent back to the endpoint it came from: the visitor's next message is
    // the next event (events of a conversation go out in order).
    ws.say("Thanks!").await;
    let events = accepted(&consumer, 3).await;
    assert_eq!(
        events[2].body["data"]["text"],
        "Thanks!",
        "{:?}",
        consumer.log()
    );

    // A new endpoint URL starts over: the old conversations are not its to answer until it
    // has been sent their start; old events are not replayed to it.
    let other = Consumer::start(SECRET_A).await;
    let r = put_webhook(&api, &site, &other.url(), None).await;
    assert_eq!(r.status, 400, "secrets are required again for a new URL");
    let r = put_webhook(&api, &site, &other.url(), Some(SECRET_A)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let reply = json!({"type": "message.create", "data": {"conversation_id": conv, "text": "from the new one"}});
    assert_eq!(
        Consumer::post_to(&hook, SECRET_A, "evt_new_1", 0, &reply)
            .await
            .0,
        404
    );
    let old_event = &events[1].id;
    let r = api
        .send(api.admin(
            Method::POST,
            &format!("/api/v1/admin/sites/{site}/webhook/deliveries/{old_event}/replay"),
        ))
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    ws.say("Still there?").await;
    let fresh = accepted(&other, 2).await;
    assert_eq!(fresh[0].body["type"], "conversation.started");
    assert_eq!(fresh[1].body["data"]["text"], "Still there?");
    assert_eq!(
        Consumer::post_to(&hook, SECRET_A, "evt_new_2", 0, &reply)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn failures_are_retried_without_duplicates_logged_and_replayable() {
    let api = Api::new(&edge().url);
    let (site, consumer) = site_with_consumer(&api, "whf").await;
    consumer.push_fault(Answer::Status(503));
    consumer.push_fault(Answer::RateLimited {
        retry_after_secs: 2,
    });
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("first").await;
    let events = accepted(&consumer, 2).await;
    let started = &events[0];
    let tries: Vec<(u16, String)> = consumer
        .log()
        .into_iter()
        .filter(|(id, _, _)| *id == started.id)
        .map(|(_, s, why)| (s, why))
        .collect();
    assert_eq!(
        tries.iter().map(|t| t.0).collect::<Vec<_>>(),
        [503, 429, 204],
        "the same id on every attempt: {tries:?}"
    );
    let log = deliveries(&api, &site, "").await;
    let logged = log.iter().find(|d| d.event_id == started.id).unwrap();
    assert_eq!((logged.attempts, logged.response_status), (3, Some(204)));
    assert_eq!(
        logged.payload.as_bytes(),
        &started.raw.body[..],
        "the log holds the exact body"
    );

    // A replay sends the same event (id and body) with a fresh timestamp and signature.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let replay = |id: String| {
        let api = &api;
        let site = site.clone();
        async move {
            api.send(api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/webhook/deliveries/{id}/replay"),
            ))
            .await
        }
    };
    let r = replay(events[1].id.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let after: WebhookDelivery = serde_json::from_value(r.body).unwrap();
    assert_eq!((after.attempts, after.response_status), (2, Some(200)));
    let again = consumer
        .duplicates()
        .pop()
        .expect("verified, then deduped by the consumer");
    assert_eq!(again.id, events[1].id);
    assert_eq!(again.raw.body, events[1].raw.body, "the same body");
    assert!(again.timestamp > events[1].timestamp, "a fresh timestamp");
    assert_eq!(replay("evt_nope".into()).await.status, 404);
    assert_eq!(replay("nope".into()).await.status, 400);
    let bad_filter = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/sites/{site}/webhook/deliveries?status=lost"),
        ))
        .await;
    assert_eq!(bad_filter.status, 400);

    // 410 Gone turns webhooks off: the event stays in the log as failing, nothing more is
    // queued; saved again, the channel is on and the event can be replayed.
    consumer.push_fault(Answer::Status(410));
    ws.say("second").await;
    let channel = eventually(WAIT, "webhooks turned off", || async {
        let r = api
            .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/channels")))
            .await;
        let ch = r.body["channels"][0].clone();
        (ch["enabled"] == false).then_some(ch)
    })
    .await;
    assert!(
        channel["last_error"].as_str().unwrap().contains("410"),
        "{channel}"
    );
    let failing = deliveries(&api, &site, "?status=failing").await;
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert_eq!(
        (failing[0].response_status, failing[0].attempts),
        (Some(410), 1)
    );
    assert_eq!(
        replay(failing[0].event_id.clone()).await.status,
        409,
        "off: no replay"
    );
    ws.say("third").await;
    let r = put_webhook(&api, &site, &consumer.url(), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = replay(failing[0].event_id.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    ws.say("fourth").await;
    let events = accepted(&consumer, 4).await;
    let texts: Vec<&str> = events[2..]
        .iter()
        .map(|e| e.body["data"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["second", "fourth"],
        "third was sent while webhooks were off"
    );
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one() {
    let api = Api::new(&edge().url);
    let (site, consumer) = site_with_consumer(&api, "whk").await;
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("one").await;
    accepted(&consumer, 2).await;

    // Bad input is refused with the reason.
    let r = put_webhook(&api, &site, &consumer.url(), Some("whsec_c2hvcnQ=")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.to_string().contains("24 to 64"), "{:?}", r.body);
    for private in [
        "https://10.0.0.7/hook",
        "https://127.1/hook",
        "https://user@10.0.0.7/hook",
    ] {
        let r = put_webhook(&api, &site, private, Some(SECRET_B)).await;
        assert_eq!(r.status, 400, "{private}: {:?}", r.body);
        assert!(r.body.to_string().contains("public host"), "{:?}", r.body);
    }

    // The consumer still trusts only the old secret: events verify with it.
    let r = put_webhook(&api, &site, &consumer.url(), Some(SECRET_B)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(
        !r.body.to_string().contains("whsec_"),
        "secrets are never returned"
    );
    ws.say("two").await;
    let e = accepted(&consumer, 3).await.pop().unwrap();
    assert_eq!(e.body["data"]["text"], "two");
    assert_eq!(
        e.signatures,
        [
            spec::sign(SECRET_B, &e.id, e.timestamp, &e.raw.body),
            spec::sign(SECRET_A, &e.id, e.timestamp, &e.raw.body)
        ]
    );
    // Switched to the new secret: events still verify.
    consumer.trust(&[SECRET_B]);
    ws.say("three").await;
    let e = accepted(&consumer, 4).await.pop().unwrap();
    assert_eq!(e.body["data"]["text"], "three");
    // Replies signed with either secret are taken during the rotation.
    let conv = c.conversation_id.as_str();
    for (n, secret) in [SECRET_A, SECRET_B].into_iter().enumerate() {
        let reply = json!({"type": "message.create", "data": {"conversation_id": conv, "text": format!("reply {n}")}});
        assert_eq!(
            Consumer::post_to(&hook(&api, &site), secret, &format!("evt_r{n}"), 0, &reply)
                .await
                .0,
            200
        );
    }
    // Saving the settings again without secrets keeps both.
    let r = put_webhook(&api, &site, &consumer.url(), None).await;
    assert_eq!(r.status, 200);
    consumer.trust(&[SECRET_A]);
    ws.say("four").await;
    assert_eq!(
        accepted(&consumer, 5).await.pop().unwrap().body["data"]["text"],
        "four"
    );
}

#[tokio::test]
async fn files_go_out_as_signed_links_and_come_back_from_the_endpoint() {
    let api = Api::new(&edge().url);
    let (site, consumer) = site_with_consumer(&api, "whm").await;
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    let up = Uploader::visitor(&api, &c);
    let photo = png(640, 480, 40_000);
    let done = up
        .upload("wh-photo", "broken.png", &photo, None)
        .await
        .expect("uploaded");
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("wh-photo-msg"),
        body: "It arrived broken".into(),
        attachments: vec![done.id.clone()],
    })
    .await;
    ws.recv_until(WAIT, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let e = accepted(&consumer, 2).await.pop().unwrap();
    let file: &Value = &e.body["data"]["attachments"][0];
    assert_eq!(
        (
            file["name"].as_str(),
            file["kind"].as_str(),
            file["size"].as_u64()
        ),
        (Some("broken.png"), Some("png"), Some(photo.len() as u64))
    );
    assert_eq!(
        (file["width"].as_u64(), file["height"].as_u64()),
        (Some(640), Some(480))
    );
    let link = file["url"].as_str().expect("a signed link");
    let bytes = reqwest::get(link).await.unwrap().bytes().await.unwrap();
    assert_eq!(sha256(&bytes), sha256(&photo), "the link serves the file");

    // The business's system answers with a PDF it hosts.
    let quote = pdf(30_000);
    let url = consumer.serve_file("quote.pdf", quote.clone());
    let reply = json!({"type": "message.create", "data": {"conversation_id": c.conversation_id.as_str(),
        "text": "Here is a replacement quote", "attachments": [{"url": url, "name": "quote.pdf"}]}});
    assert_eq!(
        Consumer::post_to(&hook(&api, &site), SECRET_A, "evt_file_1", 0, &reply)
            .await
            .0,
        200
    );
    let m = ws.agent_message(WAIT).await;
    assert_eq!(m.attachments.len(), 1, "{m:?}");
    assert_eq!(
        (
            m.attachments[0].name.as_str(),
            m.attachments[0].mime.as_str()
        ),
        ("quote.pdf", "application/pdf")
    );
    let got = up
        .download(&m.attachments[0].url, None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha256(&got), sha256(&quote));

    // A file that never ends, with no declared length: read only up to the largest file's
    // size, then refused — the message says so, and the webhook is answered at once (had the
    // edge read on, the download would have run into its timeout, or the isolate's memory).
    let reply = json!({"type": "message.create", "data": {"conversation_id": c.conversation_id.as_str(),
        "text": "And the video", "attachments": [{"url": consumer.endless_file(), "name": "endless.mp4"}]}});
    let started = std::time::Instant::now();
    let (status, answer) =
        Consumer::post_to(&hook(&api, &site), SECRET_A, "evt_file_2", 0, &reply).await;
    println!("an endless file refused in {:?}", started.elapsed());
    assert_eq!(status, 200, "{answer}");
    let m = ws.agent_message(WAIT).await;
    assert!(m.attachments.is_empty(), "{m:?}");
    assert_eq!(
        m.body,
        "And the video\n[endless.mp4 was not relayed: it could not be downloaded]"
    );
}

/// The inbox's Webhooks card: set up through the form, the delivery log shows a failing
/// event, and "Replay failing" delivers it once the endpoint is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_sets_up_webhooks_shows_deliveries_and_replays_failing_ones() {
    use beckon_tests::browser;
    use fantoccini::Locator;
    let base = &edge().url;
    let api = Api::new(base);
    let site = unique("whui");
    api.create_site(&site).await;
    let consumer = Consumer::start(SECRET_A).await;

    let agent = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Channels").await;
    let url = consumer.url();
    browser::save_channel_card(&agent, "webhook", &[("url", &url), ("secret", SECRET_A)]).await;
    let card_text = |want: String| {
        let agent = agent.clone();
        async move { browser::channel_card_with(&agent, "webhook", &want).await }
    };
    eventually(WAIT, "the saved endpoint", || {
        card_text(format!("/hooks/webhook/{site}"))
    })
    .await;

    // The endpoint is down while a visitor writes.
    for _ in 0..200 {
        consumer.push_fault(Answer::Status(503));
    }
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("Is anyone there?").await;
    // Several attempts in, the next automatic retry is seconds away: the replay below is
    // the one that delivers.
    eventually(
        Duration::from_secs(90),
        "a failing delivery, tried 5 times",
        || async {
            let d = deliveries(&api, &site, "?status=failing").await;
            d.iter().any(|d| d.attempts >= 5).then_some(())
        },
    )
    .await;
    let click = |label: &'static str| {
        let agent = agent.clone();
        async move {
            agent
                .find(Locator::XPath(&format!(
                    "//form[@aria-labelledby='webhook-h']//button[.='{label}']"
                )))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
    };
    click("Recent deliveries").await;
    eventually(WAIT, "the log in the card", || {
        card_text("conversation.started evt_".into())
    })
    .await;
    let text = card_text("failing, HTTP 503".into())
        .await
        .expect("the failing event shown");
    let shown = text.text().await.unwrap();
    assert!(
        shown.contains(&format!("evt_{}_started", c.conversation_id)),
        "{shown}"
    );
    browser::screenshot(&agent, "inbox-webhook-deliveries").await;

    consumer.clear_faults();
    click("Replay failing").await;
    eventually(WAIT, "the replay's outcome", || {
        card_text(format!(
            "evt_{}_started: delivered, HTTP 204",
            c.conversation_id
        ))
    })
    .await;
    let events = accepted(&consumer, 2).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.body["type"] == "conversation.started")
            .count(),
        1,
        "delivered once, however many times it was tried: {:?}",
        consumer.log()
    );
    agent.set_window_size(375, 812).await.unwrap();
    click("Recent deliveries").await;
    eventually(WAIT, "the log at 375 px", || {
        card_text("message.created evt_".into())
    })
    .await;
    browser::screenshot(&agent, "inbox-webhook-deliveries-375").await;
    agent.close().await.unwrap();
}

/// The site's own events reach the endpoint and verify like every other: a contact identified
/// (`contact.updated`, with the record — once, though the page identified twice), a visitor
/// muting and unmuting broadcasts (`contact.consent_changed`, a repeated mute is no change),
/// and a broadcast from start to finish (`broadcast.started`, `broadcast.finished`) — each
/// once, under its own id.
#[tokio::test]
async fn contact_and_broadcast_events_reach_the_endpoint() {
    let api = Api::new(&edge().url);
    let (site, consumer) = site_with_consumer(&api, "whev").await;
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("Hello, any news?").await;
    // A page identifies its visitor on every load: one event for what did not change.
    for _ in 0..2 {
        let r = api
            .send(
                api.post(&format!("/api/v1/sites/{site}/identify"))
                    .bearer_auth(&c.visitor_token)
                    .json(&json!({"name": "Ana Lima", "email": "ana@example.com"})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    // Muted twice (the second changes nothing), then unmuted: two changes.
    for muted in [true, true, false] {
        let r = api
            .send(
                api.http
                    .put(format!("{}/api/v1/sites/{site}/announcements", api.base))
                    .bearer_auth(&c.visitor_token)
                    .json(&json!({ "muted": muted })),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    // Once the conversation is indexed, she is reachable in the widget: a broadcast to her.
    eventually(WAIT, "the web contact reachable", || async {
        (api.audience_count(&site, &json!({})).await["web"] == json!(1)).then_some(())
    })
    .await;
    let r = api
        .send(
            api.admin(Method::POST, &format!("/api/v1/admin/sites/{site}/broadcasts"))
                .json(&json!({"name": "Winter news", "text": "Winter beans are in, {{first_name|friend}}.",
                              "channels": ["web"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let broadcast = r.body["id"].as_str().unwrap().to_owned();

    let of_kind = |kind: &'static str| {
        let consumer = &consumer;
        async move {
            eventually(WAIT, kind, || async {
                let found: Vec<spec::Event> = consumer
                    .accepted()
                    .into_iter()
                    .filter(|e| e.body["type"] == kind)
                    .collect();
                Some(found).filter(|f| !f.is_empty())
            })
            .await
        }
    };
    // Everything before it was queued first: the broadcast's end comes last.
    let finished = of_kind("broadcast.finished").await;
    let updated = of_kind("contact.updated").await;
    assert_eq!(updated.len(), 1, "{updated:?}");
    let data = &updated[0].body["data"];
    assert_eq!(
        (
            data["site"].as_str(),
            data["source"].as_str(),
            data["contact"]["name"].as_str(),
            data["contact"]["email"].as_str(),
            data["contact"]["visitor_id"].as_str(),
        ),
        (
            Some(site.as_str()),
            Some("identify"),
            Some("Ana Lima"),
            Some("ana@example.com"),
            Some(c.visitor_id.as_str()),
        )
    );
    let consent = eventually(WAIT, "both consent changes", || async {
        let found: Vec<String> = consumer
            .accepted()
            .into_iter()
            .filter(|e| e.body["type"] == "contact.consent_changed")
            .map(|e| {
                let d = &e.body["data"];
                format!("{} {} {}", d["channel"], d["status"], d["source"])
            })
            .collect();
        Some(found).filter(|f| f.len() >= 2)
    })
    .await;
    let mut consent = consent;
    consent.sort();
    assert_eq!(
        consent,
        [
            "\"web\" \"in\" \"widget\"".to_owned(),
            "\"web\" \"out\" \"widget\"".to_owned()
        ]
    );
    let started = of_kind("broadcast.started").await;
    for e in [&started, &finished] {
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].body["data"]["broadcast_id"], json!(broadcast));
        assert_eq!(e[0].body["data"]["name"], json!("Winter news"));
    }
    assert!(started[0].timestamp <= finished[0].timestamp);
    // Every event verified (the consumer checks each), none delivered twice.
    assert!(
        consumer.duplicates().is_empty(),
        "{:?}",
        consumer.duplicates()
    );
    let logged = deliveries(&api, &site, "").await;
    assert!(
        logged.iter().any(|d| d.event_type == "broadcast.finished"),
        "site events are in the delivery log: {logged:?}"
    );

    // Paused before its time and resumed: it waits for its time again (it has not started);
    // then cancelled. Three events, and no `broadcast.started`.
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 3_600_000;
    let r = api
        .send(
            api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/broadcasts"),
            )
            .json(
                &json!({"name": "Spring news", "text": "Soon.", "channels": ["web"],
                              "schedule": {"at": at}}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let later = r.body["id"].as_str().unwrap().to_owned();
    for (action, status) in [
        ("pause", "paused"),
        ("resume", "scheduled"),
        ("cancel", "cancelled"),
    ] {
        let r = api
            .send(api.admin(
                Method::POST,
                &format!("/api/v1/admin/sites/{site}/broadcasts/{later}/{action}"),
            ))
            .await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some(status)));
    }
    let heard = eventually(WAIT, "the scheduled broadcast's events", || async {
        let mut found: Vec<String> = consumer
            .accepted()
            .into_iter()
            .filter(|e| e.body["data"]["broadcast_id"] == json!(later))
            .map(|e| e.body["type"].as_str().unwrap_or_default().to_owned())
            .collect();
        found.sort();
        Some(found).filter(|f| f.len() >= 3)
    })
    .await;
    assert_eq!(
        heard,
        [
            "broadcast.cancelled",
            "broadcast.paused",
            "broadcast.resumed"
        ]
    );
}
