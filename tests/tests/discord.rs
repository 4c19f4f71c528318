//! Discord against the real edge (`wrangler dev`) and a faithful loopback Discord: a thread
//! per conversation in a forum channel through its webhook, files attached, rate limits and
//! deleted threads, and agents' `/reply` interactions verified with Ed25519.

use beckon_shared::proto::v1::{ClientFrame, ServerFrame};
use beckon_tests::api::{client_id, Api};
use beckon_tests::edge;
use beckon_tests::fakes::discord::{self, FakeDiscord};
use beckon_tests::fakes::Fault;
use beckon_tests::files::{pdf, png, sha256, Uploader};
use beckon_tests::{eventually, unique};
use ed25519_dalek::SigningKey;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const HOOK_ID: &str = "1240000000000000001";
const HOOK_TOKEN: &str = "Xk3_wEbHoOk-ToKeN_9aZ";

async fn site_with_discord(api: &Api, prefix: &str, public_key: bool) -> (String, FakeDiscord) {
    let site = unique(prefix);
    api.create_site(&site).await;
    let fake = FakeDiscord::start(HOOK_ID, HOOK_TOKEN).await;
    let mut settings = json!({"kind": "discord", "webhook_id": HOOK_ID, "api_base": fake.base});
    if public_key {
        settings["public_key"] = json!(discord::public_key());
    }
    let r = api
        .send(
            api.admin(Method::PUT, &format!("/api/v1/admin/sites/{site}/channels/discord"))
                .json(&json!({"settings": settings, "secrets": {"kind": "discord", "webhook_token": HOOK_TOKEN}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    (site, fake)
}

async fn posts(fake: &FakeDiscord, n: usize) -> Vec<discord::Posted> {
    eventually(WAIT, &format!("{n} posts"), || async {
        let p = fake.posted();
        (p.len() >= n).then_some(p)
    })
    .await
}

fn hook(api: &Api, site: &str) -> String {
    format!("{}/hooks/discord/{site}", api.base)
}

#[tokio::test]
async fn each_conversation_is_a_thread_and_agents_answer_with_reply() {
    let api = Api::new(&edge::shared().url);
    let (site, fake) = site_with_discord(&api, "dc", true).await;
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("Do you ship **free**? @everyone [deal](https://evil.example)")
        .await;
    let first = posts(&fake, 1).await.remove(0);
    let name = first
        .thread_name
        .clone()
        .expect("the first post opens the thread");
    assert!(name.starts_with("Website chat "), "{name}");
    assert!(
        first.content.contains("New website chat on"),
        "{}",
        first.content
    );
    assert!(
        first.content.contains("\\*\\*free\\*\\*")
            && first.content.contains("\\[deal\\](https\\://evil.example)"),
        "visitor markdown shown literally: {}",
        first.content
    );
    assert_eq!(
        first.allowed_mentions,
        json!({"parse": []}),
        "nobody is pinged"
    );

    ws.say("second").await;
    api.agent_reply(&c.conversation_id, "We do!").await;
    assert_eq!(ws.agent_message(WAIT).await.body, "We do!");
    let all = posts(&fake, 3).await;
    assert!(all[1..]
        .iter()
        .all(|p| p.thread_id == first.thread_id && p.thread_name.is_none()));
    assert!(
        all[2].content.contains("Ana (via api)"),
        "{}",
        all[2].content
    );

    // Discord checks the endpoint: a PING with a good signature gets a PONG; bad or old
    // signatures are refused.
    let key = discord::signing_key();
    assert_eq!(
        FakeDiscord::interact(&hook(&api, &site), &key, &json!({"type": 1}), 0).await,
        (200, json!({"type": 1}))
    );
    let wrong = SigningKey::from_bytes(&[1u8; 32]);
    assert_eq!(
        FakeDiscord::interact(&hook(&api, &site), &wrong, &json!({"type": 1}), 0)
            .await
            .0,
        401
    );
    assert_eq!(
        FakeDiscord::interact(&hook(&api, &site), &key, &json!({"type": 1}), 600)
            .await
            .0,
        401
    );

    // An agent's /reply in the thread reaches the visitor, once however often it is sent.
    let reply = discord::reply(
        "1300000000000000001",
        &first.thread_id,
        "Ana",
        "Free over $50.",
        None,
    );
    let (status, answer) = FakeDiscord::interact(&hook(&api, &site), &key, &reply, 0).await;
    assert_eq!(status, 200);
    assert_eq!(answer["type"], 4);
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .contains("Free over $50."),
        "{answer}"
    );
    assert_eq!(
        answer["data"]["flags"],
        Value::Null,
        "the thread sees what was sent"
    );
    let m = ws.agent_message(WAIT).await;
    assert_eq!(
        (m.body.as_str(), m.author.as_deref(), m.via.as_deref()),
        ("Free over $50.", Some("Ana"), Some("discord"))
    );
    assert_eq!(
        FakeDiscord::interact(&hook(&api, &site), &key, &reply, 0)
            .await
            .0,
        200
    );
    let page = api.admin_messages(&c.conversation_id).await;
    assert_eq!(
        page.messages
            .iter()
            .filter(|m| m.via.as_deref() == Some("discord"))
            .count(),
        1
    );

    // Outside a conversation's thread nothing is sent, and only the agent is told.
    let stray = discord::reply(
        "1300000000000000002",
        "1999999999999999999",
        "Ana",
        "hello",
        None,
    );
    let (status, answer) = FakeDiscord::interact(&hook(&api, &site), &key, &stray, 0).await;
    assert_eq!(
        (status, answer["data"]["flags"].as_u64()),
        (200, Some(64)),
        "{answer}"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        fake.posted().len(),
        3,
        "the reply is not relayed back to Discord"
    );
}

#[tokio::test]
async fn rate_limits_and_deleted_threads_lose_nothing_and_duplicate_nothing() {
    let api = Api::new(&edge::shared().url);
    let (site, fake) = site_with_discord(&api, "dcr", false).await;
    fake.faults.lock().unwrap().push(Fault::RateLimited {
        retry_after_secs: 1,
    });
    fake.faults.lock().unwrap().push(Fault::ServerError);
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.say("one").await;
    let first = posts(&fake, 1).await.remove(0);
    assert!(first.content.contains("one"));
    fake.delete_thread(&first.thread_id);
    ws.say("two").await;
    let all = posts(&fake, 2).await;
    assert_ne!(
        all[1].thread_id, first.thread_id,
        "a new thread replaces the deleted one"
    );
    assert!(
        all[1].thread_name.is_some() && all[1].content.contains("New website chat"),
        "{}",
        all[1].content
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let all = fake.posted();
    assert_eq!(all.len(), 2, "each message posted once: {all:?}");
    assert!(all[1].content.ends_with("two"), "{}", all[1].content);
    // Without a public key, replies are off: the endpoint says so.
    let (status, _) = FakeDiscord::interact(
        &hook(&api, &site),
        &discord::signing_key(),
        &json!({"type": 1}),
        0,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn files_are_attached_both_ways() {
    let api = Api::new(&edge::shared().url);
    let (site, fake) = site_with_discord(&api, "dcf", true).await;
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    let up = Uploader::visitor(&api, &c);
    let photo = png(320, 200, 30_000);
    let done = up
        .upload("dc-photo", "scratch.png", &photo, None)
        .await
        .expect("uploaded");
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("dc-photo-msg"),
        body: "Scratched on arrival".into(),
        attachments: vec![done.id.clone()],
    })
    .await;
    ws.recv_until(WAIT, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let p = posts(&fake, 1).await.remove(0);
    assert_eq!(p.files.len(), 1);
    assert_eq!(p.files[0].filename.as_deref(), Some("scratch.png"));
    assert_eq!(p.files[0].content_type.as_deref(), Some("image/png"));
    assert_eq!(sha256(&p.files[0].bytes), sha256(&photo));
    assert!(
        p.content.contains("Scratched on arrival") && p.thread_name.is_some(),
        "{}",
        p.content
    );

    let quote = pdf(25_000);
    let url = fake.serve_attachment("quote.pdf", quote.clone());
    let reply = discord::reply(
        "1300000000000000009",
        &p.thread_id,
        "Ana",
        "Replacement quote",
        Some((&url, "quote.pdf", quote.len() as u64)),
    );
    assert_eq!(
        FakeDiscord::interact(&hook(&api, &site), &discord::signing_key(), &reply, 0)
            .await
            .0,
        200
    );
    let m = ws.agent_message(WAIT).await;
    assert_eq!(m.attachments.len(), 1, "{m:?}");
    assert_eq!(m.attachments[0].name, "quote.pdf");
    let got = up
        .download(&m.attachments[0].url, None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha256(&got), sha256(&quote));
}
