//! `make split-profile`: records which functions of the chat app and the inbox a usual session
//! runs, and writes them as the apps' keep lists (`widget/split-keep.txt`,
//! `console/split-keep.txt`), which `scripts/build-wasm-app.sh` splits by (tools/wasm-split).
//!
//! It expects the apps built as profiling builds (`BECKON_SPLIT=instrument`): each function
//! reports its index to `self.__beckonSplitHits`, and the build wrote the index → name list
//! beside the wasm-bindgen output. The session: a visitor (on a desktop, then on a phone with
//! touch and a 4× slower CPU) opens the chat, writes, types, gets an answer live, reloads,
//! closes and opens the panel — on the demo page, answered by an agent in the inbox, and on a
//! shop's page on another origin with a new site's defaults.

use beckon_shared::ids::ConversationId;
use beckon_tests::api::Api;
use beckon_tests::{browser, edge, host_page, repo_root, tap};
use fantoccini::{Client, Locator};
use std::collections::BTreeSet;
use std::time::Duration;

/// The functions (by index) a page's app has run so far.
async fn hits(c: &Client) -> BTreeSet<usize> {
    let v = c
        .execute("return Array.from(self.__beckonSplitHits || [])", vec![])
        .await
        .expect("reading the profile");
    serde_json::from_value(v).expect("a list of indices")
}

/// Who answers the visitor: an agent in the inbox (the demo site), or the admin API (any site).
enum Answer<'a> {
    Inbox(&'a Client),
    Api(&'a Api, &'a str),
}

impl Answer<'_> {
    async fn reply(&self, question: &str, reply: &str) {
        match self {
            Answer::Inbox(agent) => {
                browser::open_conversation_showing(agent, question).await;
                browser::wait_for_log(agent, &[question]).await;
                browser::send_message(agent, reply).await;
            }
            Answer::Api(api, site) => {
                let found = api.conversation_ending_with(site, question).await;
                let id: ConversationId =
                    serde_json::from_value(found["id"].clone()).expect("a conversation id");
                api.agent_reply(&id, reply).await;
            }
        }
    }
}

/// A visitor's session on `page` in a `width` × `height` browser (a phone's: touch, 2× pixels,
/// CPU 4× slower — as the tap bench's); what the chat app ran.
async fn visitor_session(page: &str, phone: bool, answer: Answer<'_>) -> BTreeSet<usize> {
    let visitor = if phone {
        let c = browser::open(375, 667).await;
        tap::emulate_phone(&c).await;
        c
    } else {
        browser::open(1280, 800).await
    };
    visitor.goto(page).await.unwrap();
    // Intent first (the pointer over the launcher starts the app), then the tap; on the demo
    // site a rule's wake-up starts it before (its teaser waits for the second part, which
    // never comes here).
    let launcher = browser::launcher(&visitor).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // An event for the rules (`Beckon.trigger`; the loader hands it to the app once it runs).
    visitor
        .execute("Beckon.trigger('profiled')", vec![])
        .await
        .unwrap();
    if !phone {
        browser::hover(&visitor, &launcher).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    browser::open_chat(&visitor).await;
    let question = format!("Do you ship to Canada? #{}", beckon_tests::free_port());
    browser::send_message(&visitor, &question).await;
    browser::wait_for_log(&visitor, &[&question]).await;

    let reply = format!("Yes, in 3 to 5 days. #{}", beckon_tests::free_port());
    answer.reply(&question, &reply).await;
    browser::wait_for_log(&visitor, &[&question, &reply]).await;

    // Typing (the agent sees it), a second message, the Seen state.
    visitor
        .find(Locator::Css("textarea[aria-label='Message']"))
        .await
        .unwrap()
        .send_keys("And to Mexico")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    browser::click(&visitor, "button[aria-label='Send']").await;
    browser::wait_for_log(&visitor, &[&question, &reply, "And to Mexico"]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut seen = hits(&visitor).await;

    // A returning visitor: the history after a reload, the panel closed and opened again.
    visitor.enter_parent_frame().await.unwrap();
    visitor.refresh().await.unwrap();
    browser::open_chat(&visitor).await;
    browser::wait_for_log(&visitor, &[&question, &reply, "And to Mexico"]).await;
    browser::press(&visitor, fantoccini::key::Key::Escape).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    visitor.enter_parent_frame().await.unwrap();
    browser::open_chat(&visitor).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    seen.extend(hits(&visitor).await);
    visitor.close().await.unwrap();
    seen
}

/// Kept whatever a profile saw: what runs by how many, not by what a session does. yew's
/// listener registry (elements by id, each element's listeners by event) grows at whatever
/// count of elements with listeners a page first shows — in a rule's wake-up, in the first
/// render — and that growth must not wait for the second part.
fn kept_always(name: &str) -> bool {
    name.starts_with("<hashbrown::raw::RawTable<")
        && name.contains("yew::dom_bundle::subtree_root::EventDescriptor")
        && (name.contains(">>::reserve_rehash::")
            || name.contains(">>::find_or_find_insert_index::"))
}

/// Writes `app`'s keep list: the names of the functions it ran, sorted, once each, and those
/// [`kept_always`].
fn write_keep_list(app: &str, lib: &str, seen: &BTreeSet<usize>) {
    let root = repo_root();
    let names_file = root.join(format!("build/wasm-bindgen/{lib}/names.txt"));
    let names = std::fs::read_to_string(&names_file).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (build the profiling app first)",
            names_file.display()
        )
    });
    let names: Vec<&str> = names.lines().collect();
    let kept: BTreeSet<&str> = seen
        .iter()
        .map(|&i| *names.get(i).expect("an index the profiling build wrote"))
        .chain(names.iter().copied().filter(|n| kept_always(n)))
        .filter(|n| !n.is_empty())
        .collect();
    let mut out = String::from(
        "# The functions a usual session runs, by name: `make split-profile` writes this list\n\
         # (tests/src/bin/split_profile.rs) and the build keeps them in the first module.\n",
    );
    for n in &kept {
        out.push_str(n);
        out.push('\n');
    }
    let path = root.join(format!("{app}/split-keep.txt"));
    std::fs::write(&path, out).unwrap();
    println!(
        "{}: {} of {} functions ran",
        path.display(),
        kept.len(),
        names.len()
    );
}

/// A visitor on the demo site who wrote and is online, their presence socket open as the chat
/// app opens it (once its second part is in, which never comes in a profiling build): the inbox
/// shows them in "Online now" and, once their conversation is open, the page they are on.
/// Online until the socket is dropped.
async fn visitor_online(agent: &Client, base: &str) -> Online {
    use futures_util::{SinkExt, StreamExt};
    let api = Api::new(base);
    let started = api.start_conversation("demo", None).await;
    let question = format!("Is it in stock? #{}", beckon_tests::free_port());
    let mut chat = api.visitor_socket(&started).await;
    chat.say(&question).await;
    let url = format!(
        "{}/api/v1/sites/demo/presence",
        base.replacen("http", "ws", 1)
    );
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("presence socket");
    let (mut sink, stream) = ws.split();
    let here = serde_json::json!({
        "type": "here",
        "url": "https://shop.example/pricing",
        "title": "Pricing",
        "since": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
        "token": started.visitor_token,
    });
    sink.send(tokio_tungstenite::tungstenite::Message::text(
        here.to_string(),
    ))
    .await
    .expect("saying where the visitor is");
    // What the hub sends (agent counts) is drained; the socket lives as long as the task.
    let online = tokio::spawn(async move {
        let _sink = sink;
        stream.for_each(|_| async {}).await;
    });
    browser::open_conversation_showing(agent, &question).await;
    browser::wait_for_log(agent, &[&question]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    Online(online)
}

/// Aborts the task holding a socket open when dropped.
struct Online(tokio::task::JoinHandle<()>);

impl Drop for Online {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let base = &edge::shared().url;
    let agent = browser::open(1280, 800).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    let _online = visitor_online(&agent, base).await;

    // The demo page (the edge's own origin, a site with rules; here also with the page's title,
    // a chime and notifications offered: `attention.js` tells the app whether it may notify),
    // answered from the inbox; then a
    // shop's page on another origin with a new site's defaults, answered through the API.
    let demo = format!("{base}/");
    let api = Api::new(base);
    let attention =
        serde_json::json!({"attention": {"title": true, "sound": true, "notify": true}});
    let r = api.patch_site("demo", attention).await;
    assert_eq!(r.status, 200, "turning attention on: {:?}", r.body);
    let rule = serde_json::json!({"id": "profiled", "name": "After a second",
        "when": {"if": "active_time", "secs": 1}, "frequency": {},
        "message": {"text": "Can we help?", "buttons": []}});
    let r = api
        .send(
            api.admin(reqwest::Method::POST, "/api/v1/admin/sites/demo/rules")
                .json(&rule),
        )
        .await;
    assert_eq!(r.status, 201, "a rule that wakes the app: {:?}", r.body);
    let mut widget = visitor_session(&demo, false, Answer::Inbox(&agent)).await;
    widget.extend(visitor_session(&demo, true, Answer::Inbox(&agent)).await);
    let site = "profile";
    api.create_site(site).await;
    let shop = host_page::serve(base, site, None).await;
    for phone in [false, true] {
        widget.extend(visitor_session(&shop.url, phone, Answer::Api(&api, site)).await);
    }
    let inbox = hits(&agent).await;
    agent.close().await.unwrap();

    for (app, seen) in [("chat app", &widget), ("inbox", &inbox)] {
        assert!(
            !seen.is_empty(),
            "no profile of the {app}: build it with BECKON_SPLIT=instrument first"
        );
    }
    write_keep_list("widget", "beckon_widget", &widget);
    write_keep_list("console", "beckon_console", &inbox);
}
