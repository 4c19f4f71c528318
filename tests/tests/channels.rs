//! Channel relays against the real edge (`wrangler dev`) and faithful loopback fakes of the
//! Telegram Bot API, Slack Web/Events API and WhatsApp Cloud API.

use beckon_shared::limits::MAX_MESSAGE_CHARS;
use beckon_shared::proto::v1::{ContactChannel, Role, StartedConversation};
use beckon_shared::ConversationId;
use beckon_tests::api::{Api, Reply, Ws};
use beckon_tests::edge::{self, Edge};
use beckon_tests::fakes::slack::FakeSlack;
use beckon_tests::fakes::telegram::FakeTelegram;
use beckon_tests::fakes::whatsapp::FakeWhatsapp;
use beckon_tests::fakes::{unix_now, Fault};
use beckon_tests::{eventually, unique};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
const CHAT: i64 = -1001234567890;
const TG_SECRET: &str = "tg_hook_secret-42_a8F3kq9ZrR1x7Lm2";
const SLACK_SIGNING: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const WA_APP_SECRET: &str = "test_app_secret";
const WA_VERIFY: &str = "meatyhamhock";
const AGENT_PHONE: &str = "16505551234";

async fn put_channel(api: &Api, site: &str, kind: &str, body: Value) -> Reply {
    api.send(
        api.admin(
            Method::PUT,
            &format!("/api/v1/admin/sites/{site}/channels/{kind}"),
        )
        .json(&body),
    )
    .await
}

async fn telegram_channel(api: &Api, site: &str, fake: &FakeTelegram) {
    let r = put_channel(
        api,
        site,
        "telegram",
        json!({"settings": {"kind": "telegram", "chat_id": CHAT, "api_base": fake.base},
               "secrets": {"kind": "telegram", "bot_token": fake.token, "webhook_secret": TG_SECRET}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn slack_channel(api: &Api, site: &str, fake: &FakeSlack, signing: &str) {
    let r = put_channel(
        api,
        site,
        "slack",
        json!({"settings": {"kind": "slack", "channel_id": "C123ABC456", "api_base": fake.base},
               "secrets": {"kind": "slack", "bot_token": fake.token, "signing_secret": signing}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn whatsapp_channel(api: &Api, site: &str, fake: &FakeWhatsapp) {
    let r = put_channel(
        api,
        site,
        "whatsapp",
        json!({"settings": {"kind": "whatsapp", "phone_number_id": fake.phone_number_id, "agent_numbers": [AGENT_PHONE],
                            "template_name": "new_website_chat", "api_base": fake.base},
               "secrets": {"kind": "whatsapp", "access_token": fake.token, "app_secret": WA_APP_SECRET, "verify_token": WA_VERIFY}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// A visitor with an open, greeted WebSocket.
async fn visitor(api: &Api, site: &str) -> (StartedConversation, Ws) {
    let c = api.start_conversation(site, None).await;
    let ws = api.visitor_socket(&c).await;
    (c, ws)
}

/// A site relaying to a fresh fake Telegram.
async fn site_with_telegram(api: &Api, prefix: &str, token: &str) -> (String, FakeTelegram) {
    let site = unique(prefix);
    api.create_site(&site).await;
    let fake = FakeTelegram::start(token).await;
    telegram_channel(api, &site, &fake).await;
    (site, fake)
}

/// A site relaying to a fresh fake Telegram and a fresh fake Slack.
async fn site_with_telegram_and_slack(
    api: &Api,
    prefix: &str,
    tg_token: &str,
    slack_token: &str,
) -> (String, FakeTelegram, FakeSlack) {
    let site = unique(prefix);
    api.create_site(&site).await;
    let tg = FakeTelegram::start(tg_token).await;
    let sl = FakeSlack::start(slack_token, &["C123ABC456"]).await;
    telegram_channel(api, &site, &tg).await;
    slack_channel(api, &site, &sl, SLACK_SIGNING).await;
    (site, tg, sl)
}

/// Waits until a relay of `id` has `remote_id` on record (the edge maps a channel's message
/// id right after the channel accepted it; a fake sees the send a moment before).
async fn on_record(api: &Api, id: &ConversationId, remote_id: &str) {
    eventually(WAIT, "the relay on record", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations/{id}/relays"),
            ))
            .await;
        r.body.to_string().contains(remote_id).then_some(())
    })
    .await;
}

async fn agent_bodies(api: &Api, id: &ConversationId) -> Vec<String> {
    api.admin_messages(id)
        .await
        .messages
        .into_iter()
        .filter(|m| m.role == Role::Agent)
        .map(|m| m.body)
        .collect()
}

fn hook(api: &Api, kind: &str, site: &str) -> String {
    format!("{}/hooks/{kind}/{site}", api.base)
}

#[tokio::test]
async fn telegram_topics_carry_the_conversation_both_ways() {
    let api = Api::new(&edge::shared().url);
    let (site, fake) = site_with_telegram(&api, "tg", "123456:ABC-DEF").await;

    let (a, mut ws_a) = visitor(&api, &site).await;
    ws_a.say("Do you ship to <Canada>?").await;
    let first = eventually(WAIT, "the first relay", || async {
        fake.sent().into_iter().next()
    })
    .await;
    let topic = first.thread_id.expect("sent into a topic");
    assert_eq!(first.chat_id, CHAT);
    assert!(
        first.text.contains("Do you ship to &lt;Canada&gt;?"),
        "escaped for HTML: {}",
        first.text
    );
    assert!(
        first.text.contains("https://shop.example/pricing"),
        "names the page: {}",
        first.text
    );
    assert!(fake.topics(CHAT)[&topic].contains("shop.example/pricing"));

    ws_a.say("And to Mexico?").await;
    eventually(WAIT, "the second relay", || async {
        (fake.sent().len() == 2).then_some(())
    })
    .await;
    assert_eq!(fake.sent()[1].thread_id, Some(topic), "same topic");
    assert_eq!(fake.sent()[1].text, "<b>Visitor</b>: And to Mexico?");

    let (b, mut ws_b) = visitor(&api, &site).await;
    ws_b.say("Hello from B").await;
    let b_topic = eventually(WAIT, "B's relay", || async {
        fake.sent().get(2).and_then(|m| m.thread_id)
    })
    .await;
    assert_ne!(b_topic, topic, "one topic per conversation");

    // The agent answers in A's topic: it reaches A live and the inbox, never B.
    let update = fake.agent_update(CHAT, topic, "Alice", "Yes — 3 to 5 days.", false);
    assert_eq!(
        FakeTelegram::deliver(&hook(&api, "telegram", &site), Some(TG_SECRET), &update).await,
        200
    );
    let m = ws_a.agent_message(WAIT).await;
    assert_eq!(
        (m.body.as_str(), m.author.as_deref(), m.via.as_deref()),
        ("Yes — 3 to 5 days.", Some("Alice"), Some("telegram"))
    );
    assert_eq!(
        agent_bodies(&api, &a.conversation_id).await,
        ["Yes — 3 to 5 days."]
    );
    // Our own bot's messages in the topic are not routed back.
    let own = fake.agent_update(CHAT, topic, "Beckon Relay", "Visitor: echo", true);
    assert_eq!(
        FakeTelegram::deliver(&hook(&api, "telegram", &site), Some(TG_SECRET), &own).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(agent_bodies(&api, &a.conversation_id).await.len(), 1);
    assert!(
        agent_bodies(&api, &b.conversation_id).await.is_empty(),
        "nothing leaked into B"
    );
    // The agent's reply is not relayed back into Telegram itself.
    assert_eq!(fake.sent().len(), 3);
}

#[tokio::test]
async fn slack_threads_carry_the_conversation_both_ways() {
    let api = Api::new(&edge::shared().url);
    let site = unique("slack");
    api.create_site(&site).await;
    let fake = FakeSlack::start("xoxb-test-token", &["C123ABC456"]).await;
    slack_channel(&api, &site, &fake, SLACK_SIGNING).await;

    // Slack's URL verification handshake.
    let challenge = json!({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});
    assert_eq!(
        FakeSlack::deliver(
            &hook(&api, "slack", &site),
            SLACK_SIGNING,
            unix_now(),
            &challenge,
            None
        )
        .await,
        (
            200,
            "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into()
        )
    );

    let (a, mut ws_a) = visitor(&api, &site).await;
    ws_a.say("Is the Guji <!channel> in stock?").await;
    let posted = eventually(WAIT, "root and reply", || async {
        Some(fake.posted()).filter(|p| p.len() >= 2)
    })
    .await;
    let root = &posted[0];
    assert!(
        root.thread_ts.is_none() && root.text.contains("https://shop.example/pricing"),
        "{root:?}"
    );
    assert_eq!(posted[1].thread_ts.as_deref(), Some(root.ts.as_str()));
    assert_eq!(
        posted[1].text, "*Visitor*: Is the Guji &lt;!channel&gt; in stock?",
        "mentions are neutralised"
    );
    ws_a.say("Second question").await;
    eventually(WAIT, "second reply", || async {
        (fake.posted().len() >= 3).then_some(())
    })
    .await;
    assert_eq!(fake.posted().len(), 3, "{:#?}", fake.posted());
    assert_eq!(
        fake.posted()[2].thread_ts.as_deref(),
        Some(root.ts.as_str()),
        "same thread"
    );

    let (b, mut ws_b) = visitor(&api, &site).await;
    ws_b.say("B here").await;
    let b_root = eventually(WAIT, "B's root", || async { fake.posted().get(3).cloned() }).await;
    assert!(b_root.thread_ts.is_none());

    let event = fake.reply_event(
        "C123ABC456",
        &root.ts,
        "U2222222",
        "Yes &amp; we have 12 bags &lt;3",
    );
    assert_eq!(
        FakeSlack::deliver(
            &hook(&api, "slack", &site),
            SLACK_SIGNING,
            unix_now(),
            &event,
            None
        )
        .await
        .0,
        200
    );
    let m = ws_a.agent_message(WAIT).await;
    assert_eq!(
        (m.body.as_str(), m.via.as_deref()),
        ("Yes & we have 12 bags <3", Some("slack"))
    );
    assert!(
        agent_bodies(&api, &b.conversation_id).await.is_empty(),
        "nothing leaked into B"
    );
    let _ = a;
}

#[tokio::test]
async fn whatsapp_uses_the_template_outside_the_window_and_free_form_inside() {
    let api = Api::new(&edge::shared().url);
    let site = unique("wa");
    api.create_site(&site).await;
    let fake =
        FakeWhatsapp::start("EAAG-test-token", "106540352242922", &["new_website_chat"]).await;
    whatsapp_channel(&api, &site, &fake).await;
    let url = hook(&api, "whatsapp", &site);

    // The subscription handshake.
    let ok = api
        .http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={WA_VERIFY}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (ok.status().as_u16(), ok.text().await.unwrap()),
        (200, "1158201444".into())
    );
    let bad = api
        .http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 403);

    // Outside the window (the agent never wrote): the first relay is the template.
    let (a, mut ws_a) = visitor(&api, &site).await;
    ws_a.say("Do you ship to Canada?").await;
    let first = eventually(WAIT, "the template", || async {
        fake.sent().into_iter().next()
    })
    .await;
    assert_eq!(
        (
            first.kind.as_str(),
            first.to.as_str(),
            first.template.as_deref()
        ),
        ("template", AGENT_PHONE, Some("new_website_chat"))
    );
    assert!(
        first.text.contains("Do you ship to Canada?"),
        "{}",
        first.text
    );
    assert!(
        first.text.contains("https://shop.example/pricing"),
        "names the page: {}",
        first.text
    );

    // The agent swipe-replies to it (once it is on record, as a person would): the reply
    // reaches the visitor, and the window opens.
    on_record(&api, &a.conversation_id, &first.wamid).await;
    let (_, reply) = fake.message_event(AGENT_PHONE, "Yes, we do!", Some(&first.wamid));
    assert_eq!(
        FakeWhatsapp::deliver(&url, WA_APP_SECRET, &reply).await,
        200
    );
    let m = ws_a.agent_message(WAIT).await;
    assert_eq!(
        (m.body.as_str(), m.via.as_deref()),
        ("Yes, we do!", Some("whatsapp"))
    );

    // Inside the window: free-form text.
    ws_a.say("Great, how long does it take?").await;
    let second = eventually(WAIT, "the free-form relay", || async {
        fake.sent().get(1).cloned()
    })
    .await;
    assert_eq!(second.kind, "text");
    assert!(second.text.contains("Great, how long does it take?"));

    // 131047 on a free-form send: falls back to the template at once.
    fake.refuse_free_form(1);
    ws_a.say("Hello again?").await;
    let third = eventually(WAIT, "the fallback template", || async {
        fake.sent().get(2).cloned()
    })
    .await;
    assert_eq!(third.kind, "template");
    assert!(third.text.contains("Hello again?"));
    assert_eq!(
        fake.sent().len(),
        3,
        "the refused free-form was not counted as sent"
    );

    // A swipe-reply to B's message goes to B only.
    let (b, mut ws_b) = visitor(&api, &site).await;
    ws_b.say("I am B").await;
    let b_msg = eventually(WAIT, "B's relay", || async { fake.sent().get(3).cloned() }).await;
    on_record(&api, &b.conversation_id, &b_msg.wamid).await;
    let (_, reply_b) = fake.message_event(AGENT_PHONE, "Hi B!", Some(&b_msg.wamid));
    assert_eq!(
        FakeWhatsapp::deliver(&url, WA_APP_SECRET, &reply_b).await,
        200
    );
    assert_eq!(ws_b.agent_message(WAIT).await.body, "Hi B!");
    assert_eq!(agent_bodies(&api, &b.conversation_id).await, ["Hi B!"]);
    assert_eq!(
        agent_bodies(&api, &a.conversation_id).await,
        ["Yes, we do!"]
    );

    // Delivery statuses are recorded (out of order: read, then a late delivered).
    on_record(&api, &a.conversation_id, &second.wamid).await;
    for status in ["read", "delivered"] {
        let s = fake.status_event(&second.wamid, AGENT_PHONE, status, None);
        assert_eq!(FakeWhatsapp::deliver(&url, WA_APP_SECRET, &s).await, 200);
    }
    let relays = eventually(WAIT, "the read status", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations/{}/relays", a.conversation_id),
            ))
            .await;
        let text = r.body.to_string();
        text.contains("\"read\"").then_some(r.body)
    })
    .await;
    let statuses: Vec<&str> = relays["relays"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["deliveries"].as_array().unwrap())
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"read") && !statuses.contains(&"delivered"),
        "{statuses:?}"
    );
}

/// A fault sequence (429 with a hint, then a 500, then a hang past the client timeout): every
/// message is delivered exactly once, in order, and not before the hinted delay.
#[tokio::test]
async fn faults_are_retried_with_the_channel_hints_and_delivered_once_in_order() {
    let api = Api::new(&edge::shared().url);
    let (site, fake) = site_with_telegram(&api, "faults", "999:FAULTS").await;
    fake.inject(Fault::RateLimited {
        retry_after_secs: 2,
    });
    fake.inject(Fault::ServerError);
    fake.inject(Fault::Hang(Duration::from_secs(4)));

    let (_, mut ws) = visitor(&api, &site).await;
    for text in ["one", "two", "three"] {
        ws.say(text).await;
    }
    let sent = eventually(Duration::from_secs(40), "three relays", || async {
        Some(fake.sent()).filter(|s| s.len() >= 3)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent_after = fake.sent();
    assert_eq!(sent_after.len(), 3, "exactly once: {sent_after:?}");
    let bodies: Vec<&str> = sent
        .iter()
        .map(|m| m.text.rsplit(": ").next().unwrap())
        .collect();
    assert_eq!(bodies, ["one", "two", "three"], "in order");

    let calls = fake.faults.lock().unwrap().calls.clone();
    let limited = calls
        .iter()
        .find(|(_, c)| c.contains("RateLimited"))
        .expect("a 429 was served")
        .0;
    let next = calls
        .iter()
        .map(|(t, _)| *t)
        .find(|t| *t > limited)
        .expect("a retry");
    assert!(
        next - limited >= Duration::from_secs(2),
        "retried {:?} after a 2 s hint",
        next - limited
    );
    let outcomes: Vec<&str> = calls.iter().map(|(_, c)| c.as_str()).collect();
    assert!(
        outcomes[..3].iter().any(|c| c.contains("ServerError"))
            && outcomes[..3].iter().any(|c| c.contains("Hang")),
        "{outcomes:?}"
    );
}

/// A relay still waiting for its channel does not hold up the visitor's next message: that is
/// stored and acked at once (the first call hangs past the time the edge gives a channel), and
/// both reach the channel, once each, in order.
#[tokio::test]
async fn a_hanging_relay_does_not_hold_up_the_next_message() {
    let api = Api::new(&edge::shared().url);
    let (site, fake) = site_with_telegram(&api, "hang", "999:HANGS").await;
    fake.inject(Fault::Hang(Duration::from_secs(5)));

    let (_, mut ws) = visitor(&api, &site).await;
    ws.say("first").await;
    // The first relay's call is on its way (or about to be), and hangs.
    let t0 = Instant::now();
    ws.say("second").await;
    let waited = t0.elapsed();
    // Held up, it would wait until the first call is given up on (`RELAY_TIMEOUT`).
    assert!(
        waited < edge::RELAY_TIMEOUT / 2,
        "the second message waited {waited:?} for its ack, as long as the first's relay"
    );
    let sent = eventually(Duration::from_secs(40), "both relays", || async {
        Some(fake.sent()).filter(|s| s.len() >= 2)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.sent().len(), 2, "once each: {:?}", fake.sent());
    let bodies: Vec<&str> = sent
        .iter()
        .map(|m| m.text.rsplit(": ").next().unwrap())
        .collect();
    assert_eq!(bodies, ["first", "second"], "in order");
    let calls = fake.faults.lock().unwrap().calls.clone();
    assert!(
        calls.first().is_some_and(|(_, c)| c.contains("Hang")),
        "the first call hung: {calls:?}"
    );
}

/// Relays pending when the runtime stops are delivered after it restarts on the same state,
/// none twice.
#[tokio::test]
async fn pending_relays_survive_a_restart_of_the_runtime() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    let site = unique("restart");
    api.create_site(&site).await;
    let fake = FakeSlack::start("xoxb-restart", &["C123ABC456"]).await;
    slack_channel(&api, &site, &fake, SLACK_SIGNING).await;
    fake.break_with(Some("service_unavailable")); // retryable: relays stay pending
    let (c, mut ws) = visitor(&api, &site).await;
    ws.say("before the restart 1").await;
    ws.say("before the restart 2").await;
    eventually(WAIT, "a failed attempt", || async {
        (!fake.faults.lock().unwrap().calls.is_empty()).then_some(())
    })
    .await;
    ws.close().await;
    let state = edge.stop();
    assert!(fake.posted().is_empty());

    fake.break_with(None);
    let started = Instant::now();
    let edge = Edge::start(Some(state));
    let posted = eventually(
        Duration::from_secs(60),
        "relays after the restart",
        || async { Some(fake.posted()).filter(|p| p.len() >= 3) },
    )
    .await;
    println!("delivered {:?} after the restart", started.elapsed());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let posted_later = fake.posted();
    assert_eq!(
        posted_later.len(),
        3,
        "root + two replies, none twice: {posted_later:?}"
    );
    assert_eq!(posted[1].text, "*Visitor*: before the restart 1");
    assert_eq!(posted[2].text, "*Visitor*: before the restart 2");
    let api = Api::new(&edge.url);
    assert_eq!(
        api.admin_messages(&c.conversation_id).await.messages.len(),
        2
    );
}

#[tokio::test]
async fn forged_stale_misrouted_and_duplicate_webhooks() {
    let api = Api::new(&edge::shared().url);
    let site = unique("forge");
    api.create_site(&site).await;
    let tg = FakeTelegram::start("555:FORGE").await;
    let sl = FakeSlack::start("xoxb-forge", &["C123ABC456"]).await;
    let wa = FakeWhatsapp::start("EAAG-forge", "106540352242922", &["new_website_chat"]).await;
    telegram_channel(&api, &site, &tg).await;
    slack_channel(&api, &site, &sl, SLACK_SIGNING).await;
    whatsapp_channel(&api, &site, &wa).await;
    let (c, mut ws) = visitor(&api, &site).await;
    ws.say("Anyone there?").await;
    let topic = eventually(WAIT, "telegram relay", || async {
        tg.sent().first().and_then(|m| m.thread_id)
    })
    .await;
    let root = eventually(WAIT, "slack root", || async {
        sl.posted().first().map(|p| p.ts.clone())
    })
    .await;
    let wamid = eventually(WAIT, "whatsapp relay", || async {
        wa.sent().first().map(|s| s.wamid.clone())
    })
    .await;

    // Telegram: missing or wrong secret token.
    let update = tg.agent_update(CHAT, topic, "Mallory", "forged", false);
    assert_eq!(
        FakeTelegram::deliver(&hook(&api, "telegram", &site), None, &update).await,
        401
    );
    assert_eq!(
        FakeTelegram::deliver(
            &hook(&api, "telegram", &site),
            Some("wrong-secret"),
            &update
        )
        .await,
        401
    );
    // Slack: bad signature, stale timestamp (replay).
    let event = sl.reply_event("C123ABC456", &root, "U2222222", "forged");
    assert_eq!(
        FakeSlack::deliver(
            &hook(&api, "slack", &site),
            "not-the-secret",
            unix_now(),
            &event,
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        FakeSlack::deliver(
            &hook(&api, "slack", &site),
            SLACK_SIGNING,
            unix_now() - 400,
            &event,
            None
        )
        .await
        .0,
        401
    );
    // WhatsApp: bad signature.
    let (_, forged) = wa.message_event(AGENT_PHONE, "forged", Some(&wamid));
    assert_eq!(
        FakeWhatsapp::deliver(&hook(&api, "whatsapp", &site), "wrong-app-secret", &forged).await,
        401
    );
    // Wrong site: a site whose Slack has another signing secret, and one without Slack at all.
    let other = unique("other");
    api.create_site(&other).await;
    slack_channel(&api, &other, &sl, "another-signing-secret").await;
    assert_eq!(
        FakeSlack::deliver(
            &hook(&api, "slack", &other),
            SLACK_SIGNING,
            unix_now(),
            &event,
            None
        )
        .await
        .0,
        401
    );
    let bare = unique("bare");
    api.create_site(&bare).await;
    assert_eq!(
        FakeSlack::deliver(
            &hook(&api, "slack", &bare),
            SLACK_SIGNING,
            unix_now(),
            &event,
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        FakeTelegram::deliver(&hook(&api, "telegram", &bare), Some(TG_SECRET), &update).await,
        403
    );
    let r = api
        .http
        .post(hook(&api, "fax", &site))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        agent_bodies(&api, &c.conversation_id).await.is_empty(),
        "nothing forged was delivered"
    );

    // Valid deliveries, each sent twice (a retry): applied once.
    let real_tg = tg.agent_update(CHAT, topic, "Alice", "from telegram", false);
    let real_slack = sl.reply_event("C123ABC456", &root, "U2222222", "from slack");
    let (_, real_wa) = wa.message_event(AGENT_PHONE, "from whatsapp", Some(&wamid));
    for attempt in 0..2 {
        assert_eq!(
            FakeTelegram::deliver(&hook(&api, "telegram", &site), Some(TG_SECRET), &real_tg).await,
            200
        );
        let retry = (attempt > 0).then_some(attempt);
        assert_eq!(
            FakeSlack::deliver(
                &hook(&api, "slack", &site),
                SLACK_SIGNING,
                unix_now(),
                &real_slack,
                retry
            )
            .await
            .0,
            200
        );
        assert_eq!(
            FakeWhatsapp::deliver(&hook(&api, "whatsapp", &site), WA_APP_SECRET, &real_wa).await,
            200
        );
    }
    let mut bodies = eventually(WAIT, "three agent replies", || async {
        Some(agent_bodies(&api, &c.conversation_id).await).filter(|b| b.len() >= 3)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        agent_bodies(&api, &c.conversation_id).await.len(),
        3,
        "each applied once"
    );
    bodies.sort();
    assert_eq!(bodies, ["from slack", "from telegram", "from whatsapp"]);

    // First responder wins, the others see it: the Telegram reply was relayed to Slack's thread.
    eventually(WAIT, "the telegram answer in slack", || async {
        sl.posted()
            .iter()
            .any(|p| p.text.contains("Alice (via telegram)") && p.text.contains("from telegram"))
            .then_some(())
    })
    .await;
}

/// The longest message a visitor may send reaches Telegram and Slack whole or visibly cut to
/// the channel's limit — never refused (the fakes enforce the limits as the real APIs do).
#[tokio::test]
async fn longest_messages_fit_every_channel() {
    let api = Api::new(&edge::shared().url);
    let (site, tg, sl) = site_with_telegram_and_slack(&api, "long", "777:LONG", "xoxb-long").await;
    // A long page URL makes the first relay's header long too.
    let page = format!("https://shop.example/{}", "p".repeat(1900));
    let started = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/conversations"))
                .json(&json!({ "page_url": page })),
        )
        .await;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let c: StartedConversation = serde_json::from_value(started.body).unwrap();
    let mut ws = api.visitor_socket(&c).await;
    let longest = "<b>&".repeat(MAX_MESSAGE_CHARS / 4);
    ws.say(&longest).await;
    ws.say(&longest).await;
    let sent = eventually(WAIT, "both relays in telegram", || async {
        let s = tg.sent();
        (s.len() == 2).then_some(s)
    })
    .await;
    assert!(
        sent[0].text.ends_with('…'),
        "the first relay, under its header, is cut"
    );
    assert!(
        sent[1]
            .text
            .ends_with(&"&lt;b&gt;&amp;".repeat(MAX_MESSAGE_CHARS / 4)),
        "the next one arrives whole and escaped"
    );
    let states = eventually(WAIT, "all four relays done", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations/{}/relays", c.conversation_id),
            ))
            .await;
        let states: Vec<String> = r.body["relays"]
            .as_array()?
            .iter()
            .filter(|r| r["channel"] == "telegram" || r["channel"] == "slack")
            .map(|r| format!("{}:{}", r["channel"], r["state"].as_str().unwrap_or("")))
            .collect();
        (states.len() == 4 && !states.iter().any(|s| s.ends_with(":pending"))).then_some(states)
    })
    .await;
    assert!(states.iter().all(|s| s.ends_with(":sent")), "{states:?}");
    assert!(sl
        .posted()
        .iter()
        .any(|p| p.text.contains("&lt;b&gt;&amp;")));
}

#[tokio::test]
async fn channel_settings_hide_secrets_and_failing_channels_are_surfaced() {
    let api = Api::new(&edge::shared().url);
    let (site, tg, sl) =
        site_with_telegram_and_slack(&api, "settings", "777:SETTINGS", "xoxb-settings-secret")
            .await;

    let listed = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/channels")))
        .await;
    let text = listed.body.to_string();
    for secret in [
        "777:SETTINGS",
        "xoxb-settings-secret",
        SLACK_SIGNING,
        TG_SECRET,
    ] {
        assert!(!text.contains(secret), "the API returned a secret: {text}");
    }
    assert_eq!(listed.body["channels"].as_array().unwrap().len(), 2);
    assert_eq!(listed.body["channels"][0]["has_secrets"], true);
    assert!(listed.body["channels"][0]["webhook_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/hooks/slack/{site}")));

    // Send a test message through the real (fake) API.
    let t = api
        .send(api.admin(
            Method::POST,
            &format!("/api/v1/admin/sites/{site}/channels/slack/test"),
        ))
        .await;
    assert_eq!(t.body["ok"], true, "{:?}", t.body);
    assert!(sl.posted()[0].text.starts_with("Test message from Beckon"));

    // Bad input is refused clearly.
    let bad = put_channel(
        &api,
        &site,
        "telegram",
        json!({"settings": {"kind": "telegram", "chat_id": 42}}),
    )
    .await;
    assert_eq!((bad.status, bad.error_code()), (400, "bad_request"));
    let mismatch = put_channel(
        &api,
        &site,
        "slack",
        json!({"settings": {"kind": "telegram", "chat_id": CHAT}}),
    )
    .await;
    assert_eq!(mismatch.status, 400);
    let new_without_secrets = put_channel(
        &api,
        &unique("none"),
        "slack",
        json!({"settings": {"kind": "slack", "channel_id": "C1"}}),
    )
    .await;
    assert_eq!(new_without_secrets.status, 404, "unknown site");
    let fresh = unique("fresh");
    api.create_site(&fresh).await;
    let r = put_channel(
        &api,
        &fresh,
        "slack",
        json!({"settings": {"kind": "slack", "channel_id": "C1"}}),
    )
    .await;
    assert_eq!((r.status, r.error_code()), (400, "bad_request"));
    // Stored secrets never follow a changed API base (they would leak to that host).
    let moved = put_channel(
        &api,
        &site,
        "slack",
        json!({"settings": {"kind": "slack", "channel_id": "C123ABC456", "api_base": "http://127.0.0.1:9/api"}}),
    )
    .await;
    assert_eq!((moved.status, moved.error_code()), (400, "bad_request"));
    assert!(moved.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("API base"));

    // Slack's token is revoked: its relays fail and it is reported failing; Telegram is unaffected.
    sl.break_with(Some("invalid_auth"));
    let (c, mut ws) = visitor(&api, &site).await;
    ws.say("Hello?").await;
    eventually(WAIT, "telegram still delivers", || async {
        (!tg.sent().is_empty()).then_some(())
    })
    .await;
    let failing = eventually(WAIT, "slack reported failing", || async {
        let l = api
            .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/channels")))
            .await;
        l.body["channels"]
            .as_array()?
            .iter()
            .find(|c| c["kind"] == "slack" && c["status"] == "failing")
            .cloned()
    })
    .await;
    assert_eq!(failing["last_error"], "slack: invalid_auth");
    let relays = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations/{}/relays", c.conversation_id),
        ))
        .await;
    let slack_relay = relays.body["relays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["channel"] == "slack")
        .unwrap()
        .clone();
    assert_eq!(slack_relay["state"], "pending");
    assert!(slack_relay["attempts"].as_i64().unwrap() >= 1);

    // Fixing the channel (settings only: the stored secrets are kept) clears the status.
    sl.break_with(None);
    slack_channel_keep_secrets(&api, &site, &sl).await;
    let t = api
        .send(api.admin(
            Method::POST,
            &format!("/api/v1/admin/sites/{site}/channels/slack/test"),
        ))
        .await;
    assert_eq!(t.body["ok"], true, "{:?}", t.body);
    let ok = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/channels")))
        .await;
    assert!(
        ok.body["channels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "ok"),
        "{}",
        ok.body
    );
    let gone = api
        .send(api.admin(
            Method::DELETE,
            &format!("/api/v1/admin/sites/{site}/channels/telegram"),
        ))
        .await;
    assert_eq!(gone.status, 204);
}

async fn slack_channel_keep_secrets(api: &Api, site: &str, fake: &FakeSlack) {
    let r = put_channel(
        api,
        site,
        "slack",
        json!({"settings": {"kind": "slack", "channel_id": "C123ABC456", "api_base": fake.base}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// "Start new conversation" with a known contact on their own channel: WhatsApp through the
/// approved template; their replies come back as the visitor's messages, and the business's
/// next message goes out free-form inside the window their reply opened.
#[tokio::test]
async fn business_writes_first_to_a_known_contact_on_whatsapp() {
    let api = Api::new(&edge::shared().url);
    let site = unique("contact");
    api.create_site(&site).await;
    let fake = FakeWhatsapp::start("EAAG-contact", "106540352242922", &["new_website_chat"]).await;
    let contact_phone = "4915112345678";

    // A visitor who chatted, identified by the site's page.
    let v = api.start_conversation(&site, None).await;
    let identify = |body: Value| {
        api.post(&format!("/api/v1/sites/{site}/identify"))
            .bearer_auth(&v.visitor_token)
            .json(&body)
    };
    let bad = api.send(identify(json!({"email": "not-an-address"}))).await;
    assert_eq!((bad.status, bad.error_code()), (400, "bad_request"));
    let unauth = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/identify"))
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(unauth.status, 401);
    assert_eq!(
        api.send(identify(
            json!({"name": "Ana", "email": "Ana@Example.com", "phone": "+49 151 12345678"})
        ))
        .await
        .status,
        200
    );
    let contacts = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/contacts")))
        .await;
    assert_eq!(
        contacts.body["contacts"][0],
        json!({"visitor_id": v.visitor_id.as_str(), "name": "Ana", "email": "ana@example.com", "phone": contact_phone,
               "last_seen_at": contacts.body["contacts"][0]["last_seen_at"], "verified": false})
    );
    let outreach = |body: Value| {
        api.admin(
            Method::POST,
            &format!(
                "/api/v1/admin/sites/{site}/contacts/{}/conversations",
                v.visitor_id
            ),
        )
        .json(&body)
    };
    let not_set_up = api
        .send(outreach(json!({"channel": "whatsapp", "body": "Hi"})))
        .await;
    assert_eq!(
        (not_set_up.status, not_set_up.error_code()),
        (409, "conflict")
    );
    whatsapp_channel(&api, &site, &fake).await;

    // A name the inbox could not show is refused before anything is opened or sent in it.
    let listed = || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}"),
            ))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["conversations"].as_array().unwrap().len()
    };
    let before = listed().await;
    let long = "M".repeat(200);
    for author in ["M\u{7}aya", long.as_str()] {
        let bad = api
            .send(outreach(
                json!({"channel": "whatsapp", "body": "Hi", "author": author}),
            ))
            .await;
        assert_eq!((bad.status, bad.error_code()), (400, "invalid_text"));
    }
    assert!(fake.sent().is_empty(), "{:?}", fake.sent());
    assert_eq!(
        listed().await,
        before,
        "a refused outreach left a conversation"
    );

    let started = api
        .send(outreach(json!({"channel": "whatsapp", "body": "Hi Ana, your beans shipped today. Any questions?", "author": "Maya"})))
        .await;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let id = ConversationId::parse(started.body["conversation_id"].as_str().unwrap()).unwrap();
    // The browser that claimed the number cannot read the WhatsApp conversation.
    let peek = api
        .send(
            api.get(&format!("/api/v1/conversations/{id}/messages"))
                .bearer_auth(&v.visitor_token),
        )
        .await;
    assert_eq!((peek.status, peek.error_code()), (403, "forbidden"));
    let first = eventually(WAIT, "the template to the contact", || async {
        fake.sent().into_iter().find(|s| s.to == contact_phone)
    })
    .await;
    assert_eq!(
        (first.kind.as_str(), first.template.as_deref()),
        ("template", Some("new_website_chat"))
    );
    assert!(
        first.text.contains("Hi Ana, your beans shipped today."),
        "{}",
        first.text
    );
    let summary = api.admin_summary(&id).await;
    assert_eq!(
        serde_json::to_value(&summary.origin).unwrap(),
        json!({"kind": "agent", "author": "Maya"})
    );
    assert_eq!(summary.contact, Some(ContactChannel::Whatsapp));

    // The contact answers on WhatsApp (twice delivered): one visitor message.
    let (_, reply) = fake.message_event(contact_phone, "Thanks! When will it arrive?", None);
    for _ in 0..2 {
        assert_eq!(
            FakeWhatsapp::deliver(&hook(&api, "whatsapp", &site), WA_APP_SECRET, &reply).await,
            200
        );
    }
    let visitor_said = eventually(WAIT, "the contact's reply", || async {
        let m = api.admin_messages(&id).await.messages;
        let v: Vec<String> = m
            .iter()
            .filter(|m| m.role == Role::Visitor)
            .map(|m| m.body.clone())
            .collect();
        (!v.is_empty()).then_some(v)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(visitor_said, ["Thanks! When will it arrive?"]);
    assert_eq!(
        api.admin_messages(&id)
            .await
            .messages
            .iter()
            .filter(|m| m.role == Role::Visitor)
            .count(),
        1,
        "applied once"
    );

    // Inside the window the contact's reply opened: the agent's answer goes free-form.
    api.agent_reply(&id, "Tomorrow before noon.").await;
    let answer = eventually(WAIT, "the free-form answer", || async {
        fake.sent()
            .into_iter()
            .find(|s| s.to == contact_phone && s.text.contains("Tomorrow before noon."))
    })
    .await;
    assert_eq!(answer.kind, "text");

    // A number that is neither an agent nor a contact is ignored.
    let (_, stranger) = fake.message_event("15555550100", "who is this?", None);
    assert_eq!(
        FakeWhatsapp::deliver(&hook(&api, "whatsapp", &site), WA_APP_SECRET, &stranger).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        api.admin_messages(&id)
            .await
            .messages
            .iter()
            .filter(|m| m.role == Role::Visitor)
            .count(),
        1
    );
}

/// "Start new conversation" on Telegram: a person who started the site's bot is a contact the
/// business can write to in their private chat; their answers come back as the visitor's
/// messages, the agents' topic carries the conversation, and an answer there reaches them.
/// Someone who writes to the bot unprompted opens a conversation of their own.
#[tokio::test]
async fn business_writes_first_to_a_telegram_contact_who_started_the_bot() {
    let api = Api::new(&edge::shared().url);
    let site = unique("tgcontact");
    api.create_site(&site).await;
    let fake = FakeTelegram::start("777001:tg-contact").await;
    let url = hook(&api, "telegram", &site);
    let maria = 5550001_i64;
    let contacts = || async {
        api.send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/contacts")))
            .await
            .body["contacts"]
            .as_array()
            .cloned()
            .unwrap()
    };

    // Before Telegram is set up for the site, its webhook refuses everything.
    let start = fake.private_update(maria, "Maria", Some("maria_l"), "/start");
    assert_eq!(
        FakeTelegram::deliver(&url, Some(TG_SECRET), &start).await,
        403
    );
    telegram_channel(&api, &site, &fake).await;
    // A wrong secret token: refused, nobody recorded.
    assert_eq!(
        FakeTelegram::deliver(&url, Some("wrong"), &start).await,
        401
    );
    assert_eq!(contacts().await, Vec::<Value>::new());
    // Maria presses Start (delivered twice): one contact.
    for _ in 0..2 {
        assert_eq!(
            FakeTelegram::deliver(&url, Some(TG_SECRET), &start).await,
            200
        );
    }
    let listed = contacts().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (&listed[0]["name"], &listed[0]["telegram"]),
        (&json!("Maria"), &json!("@maria_l"))
    );
    let maria_id = listed[0]["visitor_id"].as_str().unwrap().to_owned();
    // The bot greets her once (the redelivered Start greets nobody twice).
    let welcome = eventually(WAIT, "the welcome in Maria's chat", || async {
        fake.private_messages(maria).into_iter().next()
    })
    .await;
    assert_eq!(
        welcome.text,
        format!("Hi! You are connected to <b>Test site {site}</b>. Write here any time; we answer in this chat.")
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sent().len(), 1, "one welcome, nothing else");
    // Pressing Start is not a message: no conversation yet.
    let list = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations?site={site}"),
        ))
        .await;
    assert_eq!(list.body["conversations"], json!([]));

    let outreach = |visitor: &str, body: Value| {
        api.admin(
            Method::POST,
            &format!("/api/v1/admin/sites/{site}/contacts/{visitor}/conversations"),
        )
        .json(&body)
    };
    // A web visitor who never started the bot cannot be written to there.
    let web = api.start_conversation(&site, None).await;
    let r = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/identify"))
                .bearer_auth(&web.visitor_token)
                .json(&json!({"name": "Ana"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let refused = api
        .send(outreach(
            web.visitor_id.as_str(),
            json!({"channel": "telegram", "body": "Hi"}),
        ))
        .await;
    assert_eq!((refused.status, refused.error_code()), (409, "conflict"));
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("has not started your Telegram bot"),
        "{:?}",
        refused.body
    );

    // Write first to Maria, in her private chat with the bot.
    let started = api
        .send(outreach(
            &maria_id,
            json!({"channel": "telegram", "body": "Hi Maria, your <b>beans</b> shipped today.", "author": "Maya"}),
        ))
        .await;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let id = ConversationId::parse(started.body["conversation_id"].as_str().unwrap()).unwrap();
    let first = eventually(WAIT, "the message in Maria's private chat", || async {
        fake.private_messages(maria).into_iter().nth(1)
    })
    .await;
    assert_eq!(
        (first.text.as_str(), first.parse_mode.as_deref()),
        (
            format!("<b>Maya (Test site {site})</b>: Hi Maria, your &lt;b&gt;beans&lt;/b&gt; shipped today.").as_str(),
            Some("HTML")
        )
    );
    let summary = api.admin_summary(&id).await;
    assert_eq!(
        (
            serde_json::to_value(&summary.origin).unwrap(),
            summary.contact
        ),
        (
            json!({"kind": "agent", "author": "Maya"}),
            Some(ContactChannel::Telegram)
        )
    );

    // Maria answers (delivered twice): one visitor message, also relayed to the agents' topic.
    let answer = fake.private_update(
        maria,
        "Maria",
        Some("maria_l"),
        "Great! Can I change the address?",
    );
    for _ in 0..2 {
        assert_eq!(
            FakeTelegram::deliver(&url, Some(TG_SECRET), &answer).await,
            200
        );
    }
    let in_topic = eventually(WAIT, "Maria's answer in the agents' topic", || async {
        fake.sent()
            .into_iter()
            .find(|s| s.chat_id == CHAT && s.text.contains("Can I change the address?"))
    })
    .await;
    let visitor_said = |id: ConversationId| {
        let api = &api;
        async move {
            api.admin_messages(&id)
                .await
                .messages
                .into_iter()
                .filter(|m| m.role == Role::Visitor)
                .map(|m| m.body)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        visitor_said(id.clone()).await,
        ["Great! Can I change the address?"]
    );

    // An agent answers in that topic: it reaches Maria's private chat.
    let topic = in_topic.thread_id.expect("a topic message");
    let reply = fake.agent_update(CHAT, topic, "Lee", "Sure, send me the new one.", false);
    assert_eq!(
        FakeTelegram::deliver(&url, Some(TG_SECRET), &reply).await,
        200
    );
    eventually(WAIT, "the agent's answer in Maria's chat", || async {
        fake.private_messages(maria).into_iter().find(|s| {
            s.text == "<b>Lee (Test site ".to_owned() + &site + ")</b>: Sure, send me the new one."
        })
    })
    .await;
    assert_eq!(
        fake.private_messages(maria).len(),
        3,
        "welcome, outreach, answer: her own message is not echoed back to her"
    );

    // Jo writes to the bot unprompted, two messages at once and the first one redelivered:
    // a contact now, with one conversation of their own holding both messages once.
    let jo = 5550002_i64;
    let question = fake.private_update(jo, "Jo", None, "Do you ship to Canada?");
    let more = fake.private_update(jo, "Jo", None, "And to Mexico?");
    let (a, b, c) = tokio::join!(
        FakeTelegram::deliver(&url, Some(TG_SECRET), &question),
        FakeTelegram::deliver(&url, Some(TG_SECRET), &more),
        FakeTelegram::deliver(&url, Some(TG_SECRET), &question),
    );
    assert_eq!((a, b, c), (200, 200, 200));
    let unprompted = || async {
        let list = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}"),
            ))
            .await;
        list.body["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["origin"]["kind"] == "visitor" && c["contact"] == "telegram")
            .filter_map(|c| ConversationId::parse(c["id"].as_str()?).ok())
            .collect::<Vec<_>>()
    };
    let jo_conversation = eventually(WAIT, "Jo's conversation", || async {
        unprompted().await.into_iter().next()
    })
    .await;
    let mut said = visitor_said(jo_conversation.clone()).await;
    said.sort();
    assert_eq!(said, ["And to Mexico?", "Do you ship to Canada?"]);
    assert_eq!(
        unprompted().await,
        std::slice::from_ref(&jo_conversation),
        "one conversation"
    );
    assert_ne!(jo_conversation, id);
    assert!(contacts()
        .await
        .iter()
        .any(|c| c["name"] == "Jo" && c["telegram"] == "Jo"));
    // The inbox answers Jo: it goes to Jo's chat, never to Maria's.
    api.agent_reply(&jo_conversation, "Yes, 5-8 days.").await;
    eventually(WAIT, "the answer in Jo's chat", || async {
        fake.private_messages(jo)
            .into_iter()
            .find(|s| s.text.ends_with(": Yes, 5-8 days."))
    })
    .await;
    assert_eq!(fake.private_messages(maria).len(), 3);
    assert_eq!(
        fake.private_messages(jo).len(),
        1,
        "no welcome without Start"
    );
    assert_eq!(
        visitor_said(id.clone()).await,
        ["Great! Can I change the address?"]
    );

    // Maria blocks the bot: the next message to her fails alone (the inbox shows why); the
    // site's Telegram channel stays healthy and the agents' topic still gets it.
    fake.block(maria);
    let posted = api.agent_reply(&id, "Did the new address arrive?").await;
    let relay = eventually(WAIT, "the failed relay to Maria", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations/{id}/relays"),
            ))
            .await;
        r.body["relays"]
            .as_array()?
            .iter()
            .find(|r| {
                r["seq"] == json!(posted.message.seq)
                    && r["channel"] == "contact:telegram"
                    && r["state"] != "pending"
            })
            .cloned()
    })
    .await;
    assert_eq!(relay["state"], "failed", "{relay}");
    assert_eq!(
        relay["last_error"],
        "telegram 403: Forbidden: bot was blocked by the user"
    );
    eventually(WAIT, "the message in the agents' topic", || async {
        fake.sent()
            .into_iter()
            .find(|s| s.chat_id == CHAT && s.text.contains("Did the new address arrive?"))
    })
    .await;
    let channels = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/channels")))
        .await;
    assert_eq!(
        channels.body["channels"][0]["status"], "ok",
        "{}",
        channels.body
    );
}

#[tokio::test]
async fn a_rule_opened_conversation_reaches_channels_only_when_the_visitor_writes() {
    let api = Api::new(&edge::shared().url);
    let (site, fake) = site_with_telegram(&api, "tg-rule", "123456:RULE").await;
    let rule = json!({"id": "promo", "name": "Promo", "when": {"if": "exit_intent"}, "frequency": {},
                      "message": {"text": "Leaving? 10% off today.", "buttons": []}});
    let r = api
        .send(
            api.admin(Method::POST, &format!("/api/v1/admin/sites/{site}/rules"))
                .json(&rule),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // Ten conversations opened from the teaser, nobody writes: nothing reaches Telegram.
    let mut opened = Vec::new();
    for _ in 0..10 {
        let r = api
            .send(
                api.post(&format!("/api/v1/sites/{site}/conversations"))
                    .json(&json!({"page_url": "https://shop.example/", "origin": {"kind": "rule", "rule_id": "promo"}})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        opened.push(serde_json::from_value::<StartedConversation>(r.body).unwrap());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(fake.sent().is_empty(), "{:?}", fake.sent());
    assert!(fake.topics(CHAT).is_empty());
    // One visitor answers: the teaser goes first, then what they wrote, in one topic.
    let mut ws = api.visitor_socket(&opened[3]).await;
    ws.say("What is the code?").await;
    assert_eq!(fake.wait_for(2, WAIT).await, 2);
    let sent = fake.sent();
    assert!(
        sent[0].text.ends_with("Leaving? 10% off today."),
        "{}",
        sent[0].text
    );
    assert!(
        sent[1].text.ends_with("What is the code?"),
        "{}",
        sent[1].text
    );
    assert_eq!(sent[0].thread_id, sent[1].thread_id);
    ws.say("Thanks").await;
    assert_eq!(
        fake.wait_for(3, WAIT).await,
        3,
        "the teaser is relayed once"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sent().len(), 3);
    assert_eq!(fake.topics(CHAT).len(), 1);
}

#[tokio::test]
async fn whatsapp_replays_do_not_reopen_the_window_and_other_numbers_are_refused() {
    let api = Api::new(&edge::shared().url);
    let site = unique("wa-replay");
    api.create_site(&site).await;
    let fake =
        FakeWhatsapp::start("EAAG-test-token", "106540352242922", &["new_website_chat"]).await;
    whatsapp_channel(&api, &site, &fake).await;
    let url = hook(&api, "whatsapp", &site);

    // A genuine (signed) message the agent sent 25 hours ago, delivered again now.
    let (_, mut old) = fake.message_event(AGENT_PHONE, "old news", None);
    let then = (unix_now() - 25 * 3600).to_string();
    old["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = json!(then);
    assert_eq!(FakeWhatsapp::deliver(&url, WA_APP_SECRET, &old).await, 200);
    let (_, mut out) = visitor(&api, &site).await;
    out.say("Anyone there?").await;
    let first = eventually(WAIT, "the relay", || async {
        fake.sent().into_iter().next()
    })
    .await;
    assert_eq!(
        first.kind, "template",
        "the window stayed closed: {first:?}"
    );

    // A payload for another business number of the same app: refused, nothing applied.
    let other = FakeWhatsapp::start("EAAG-test-token", "999000111222333", &[]).await;
    let (_, foreign) = other.message_event(AGENT_PHONE, "hi", None);
    assert_eq!(
        FakeWhatsapp::deliver(&url, WA_APP_SECRET, &foreign).await,
        403
    );
}

#[tokio::test]
async fn relayed_page_addresses_carry_no_query_or_fragment() {
    let api = Api::new(&edge::shared().url);
    let (site, tg, sl) =
        site_with_telegram_and_slack(&api, "privacy", "123456:PRIV", "xoxb-priv").await;
    let r = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/conversations")).json(&json!({
                "page_url": "https://shop.example/reset?token=s3cret&utm_source=news&email=ana%40example.com#step=2"
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let c: StartedConversation = serde_json::from_value(r.body).unwrap();
    let mut ws = api.visitor_socket(&c).await;
    ws.say("I cannot reset my password").await;
    let first = eventually(WAIT, "the Telegram relay", || async {
        tg.sent().into_iter().next()
    })
    .await;
    let root = eventually(WAIT, "the Slack root", || async {
        sl.posted().into_iter().next()
    })
    .await;
    for (channel, text) in [("telegram", first.text), ("slack", root.text)] {
        assert!(
            text.contains("https://shop.example/reset?utm_source=news"),
            "{channel}: {text}"
        );
        assert!(
            !text.contains("s3cret") && !text.contains("email") && !text.contains("step=2"),
            "{channel}: {text}"
        );
    }
    let summary = api.admin_summary(&c.conversation_id).await;
    assert_eq!(
        summary.page_url.as_deref(),
        Some("https://shop.example/reset?utm_source=news")
    );
}
