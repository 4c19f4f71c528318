//! Rate limits against an edge with its production limits (`Edge::start_limited`): a loop of
//! conversation starts from one address is cut with 429 + `Retry-After`; a visitor flooding
//! messages is slowed down without losing one that was acknowledged; presence sockets, a
//! presence socket's page changes, wrong admin keys, wrong passwords, channel webhook posts,
//! page loads and file requests from one address are capped.

use beckon_shared::proto::v1::{ClientFrame, ErrorCode, ServerFrame};
use beckon_tests::api::{client_id, Api, Ws};
use beckon_tests::edge::Edge;
use beckon_tests::unique;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::Duration;

fn edge() -> &'static Edge {
    static EDGE: OnceLock<Edge> = OnceLock::new();
    EDGE.get_or_init(Edge::start_limited)
}

#[tokio::test]
async fn a_loop_of_conversation_starts_is_cut_with_retry_after() {
    // Its own edge: the loop uses up this address's allowance for the minute, which the
    // other tests here need.
    let own = Edge::start_limited();
    let api = Api::new(&own.url);
    let site = unique("lim-start");
    api.create_site(&site).await;
    let starts = Starts::run(&api, &site, 200).await;
    println!(
        "200 starts from one address: {} started, {} refused (429)",
        starts.started, starts.refused
    );
    // The window is aligned to the minute: a loop that straddles it gets a second allowance.
    assert!((20..=40).contains(&starts.started), "{starts:?}");
    assert!(starts.refused >= 160, "{starts:?}");
    assert_eq!(
        starts.messages,
        BTreeSet::from([
            "Too many conversations started from this address (at most 20 a minute); try again \
             shortly."
                .to_owned()
        ])
    );
}

/// What `n` conversation starts in a row from one address came to.
#[derive(Debug)]
struct Starts {
    started: usize,
    refused: usize,
    /// The refusals' messages (each refusal was `rate_limited` with `Retry-After: 60`).
    messages: BTreeSet<String>,
}

impl Starts {
    async fn run(api: &Api, site: &str, n: usize) -> Starts {
        let mut out = Starts {
            started: 0,
            refused: 0,
            messages: BTreeSet::new(),
        };
        for _ in 0..n {
            let r = api
                .http
                .post(format!("{}/api/v1/sites/{site}/conversations", api.base))
                .json(&serde_json::json!({"page_url": "https://shop.example/"}))
                .send()
                .await
                .unwrap();
            match r.status().as_u16() {
                201 => out.started += 1,
                429 => {
                    out.refused += 1;
                    assert_eq!(r.headers()["retry-after"], "60");
                    let body: serde_json::Value = r.json().await.unwrap();
                    assert_eq!(body["error"]["code"], "rate_limited");
                    out.messages
                        .insert(body["error"]["message"].as_str().unwrap().to_owned());
                }
                other => panic!("unexpected status {other}"),
            }
        }
        out
    }
}

#[tokio::test]
async fn a_site_with_a_higher_rate_tier_lets_one_address_start_more() {
    // Its own edge: a fresh count for this address.
    let own = Edge::start_limited();
    let api = Api::new(&own.url);
    let site = unique("lim-tier");
    api.create_site(&site).await;
    let patch = |body: serde_json::Value| api.patch_site(&site, body);
    let r = patch(serde_json::json!({"rate_tier": "huge"})).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    // The tier is the operator's to give: an owner of this site alone may not raise it.
    let r = api
        .send(
            api.admin(reqwest::Method::POST, "/api/v1/admin/keys").json(
                &serde_json::json!({"label": "site owner", "role": "owner", "sites": [site]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let owner = r.body["key"].as_str().unwrap().to_owned();
    let as_owner = |body: serde_json::Value| {
        api.send(
            api.http
                .patch(format!("{}/api/v1/admin/sites/{site}", api.base))
                .bearer_auth(&owner)
                .json(&body),
        )
    };
    let r = as_owner(serde_json::json!({"rate_tier": "highest"})).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = as_owner(serde_json::json!({"greeting": "Hi!", "rate_tier": "standard"})).await;
    assert_eq!(r.status, 200, "unchanged is allowed: {:?}", r.body);
    let r = patch(serde_json::json!({"rate_tier": "high"})).await;
    assert_eq!(
        (r.status, &r.body["rate_tier"]),
        (200, &serde_json::json!("high"))
    );
    let began = std::time::Instant::now();
    let starts = Starts::run(&api, &site, 250).await;
    println!(
        "250 starts from one address on a high-tier site: {} started, {} refused ({:?}) in {:?}",
        starts.started,
        starts.refused,
        starts.messages,
        began.elapsed()
    );
    // 5 × 20 a minute (twice that if the loop crossed a window's edge, which a loop shorter
    // than a minute crosses at most once).
    assert!(starts.started >= 100, "{starts:?}");
    if began.elapsed() < Duration::from_secs(60) {
        assert!(starts.started <= 200, "{starts:?}");
    }
    assert!(starts.refused >= 1, "{starts:?}");
    assert_eq!(
        starts.messages,
        BTreeSet::from([
            "Too many conversations started from this address (at most 100 a minute); try \
             again shortly."
                .to_owned()
        ])
    );
}

#[tokio::test]
async fn a_flooding_visitor_is_slowed_and_loses_nothing() {
    let api = Api::new(&edge().url);
    let site = unique("lim-flood");
    api.create_site(&site).await;
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    let ids: Vec<String> = (0..30).map(|n| format!("flood-{n}")).collect();
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    let mut refusals = 0;
    let mut round = 0;
    // Like the widget: send everything not acknowledged, wait, send the rest again.
    while acked.len() < ids.len() {
        round += 1;
        assert!(round <= 30, "not all acknowledged after {round} rounds");
        let outstanding: Vec<&String> = ids.iter().filter(|i| !acked.contains_key(*i)).collect();
        for id in &outstanding {
            ws.send(&ClientFrame::Send {
                client_msg_id: client_id(id),
                body: format!("message {id}"),
                attachments: vec![],
            })
            .await;
        }
        for _ in 0..outstanding.len() {
            match ws
                .recv_until(Duration::from_secs(10), |f| {
                    matches!(f, ServerFrame::Ack { .. } | ServerFrame::Error { .. })
                })
                .await
            {
                ServerFrame::Ack {
                    client_msg_id, seq, ..
                } => {
                    let before = acked.insert(client_msg_id.as_str().to_owned(), seq.0);
                    assert!(before.is_none_or(|s| s == seq.0), "one seq per message");
                }
                ServerFrame::Error { code, .. } => {
                    assert_eq!(code, ErrorCode::RateLimited);
                    refusals += 1;
                }
                _ => unreachable!(),
            }
        }
        if acked.len() < ids.len() {
            tokio::time::sleep(Duration::from_millis(2_500)).await;
        }
    }
    println!("30 messages at once: {refusals} refusals over {round} rounds, all 30 stored");
    assert!(refusals >= 10, "the burst is 20: {refusals} refusals");
    let seqs: BTreeSet<u64> = acked.values().copied().collect();
    assert_eq!(seqs.len(), 30, "each stored once");
    let history = api.admin_messages(&c.conversation_id).await.messages;
    assert_eq!(history.len(), 30);
}

#[tokio::test]
async fn a_presence_socket_flooding_its_page_is_told_only_within_its_allowance() {
    // Its own edge: the test beside it uses up this address's presence sockets.
    let own = Edge::start_limited();
    let api = Api::new(&own.url);
    let site = unique("lim-here");
    api.create_site(&site).await;
    let url = format!(
        "{}/api/v1/sites/{site}/presence",
        api.base.replacen("http", "ws", 1)
    );
    let mut ws = Ws::connect(&url, Some("https://shop.example"))
        .await
        .expect("presence socket");
    ws.next_text(Duration::from_secs(10))
        .await
        .expect("the hub's welcome");
    let here = |page: &str| {
        json!({"type": "here", "url": format!("https://shop.example/{page}")}).to_string()
    };
    for n in 0..40 {
        ws.send_raw(&here(&format!("p{n}"))).await;
    }
    let online = format!("/api/v1/admin/sites/{site}/presence");
    let shown = || async {
        let r = api.send(api.admin(reqwest::Method::GET, &online)).await;
        r.body["visitors"][0]["url"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // The burst's allowance (20, as a visitor's messages) is told; the rest is dropped.
    let told = beckon_tests::eventually(Duration::from_secs(10), "the burst told", || async {
        let url = shown().await;
        (url == "/p19").then_some(url)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(shown().await, told, "nothing past the allowance");
    // Once the allowance grew back, the next page is told again.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    ws.send_raw(&here("later")).await;
    beckon_tests::eventually(Duration::from_secs(10), "the next page", || async {
        (shown().await == "/later").then_some(())
    })
    .await;
}

#[tokio::test]
async fn presence_sockets_and_wrong_admin_keys_from_one_address_are_capped() {
    let api = Api::new(&edge().url);
    let site = unique("lim-presence");
    api.create_site(&site).await;
    let url = format!(
        "{}/api/v1/sites/{site}/presence",
        api.base.replace("http", "ws")
    );
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((ws, _)) => open.push(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), 429);
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    println!(
        "300 presence sockets from one address: {} opened, {refused} refused",
        open.len()
    );
    assert!((30..=60).contains(&open.len()), "{} opened", open.len());

    let mut statuses = BTreeMap::new();
    for _ in 0..15 {
        let r = api
            .http
            .get(format!("{}/api/v1/admin/sites", api.base))
            .bearer_auth("bk_wrong-key")
            .send()
            .await
            .unwrap();
        *statuses.entry(r.status().as_u16()).or_insert(0) += 1;
    }
    println!("15 wrong admin keys: {statuses:?}");
    assert!(statuses.get(&429).is_some_and(|n| *n >= 5), "{statuses:?}");
    // The right key still works.
    let ok = api
        .send(api.admin(reqwest::Method::GET, "/api/v1/admin/sites"))
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn the_widget_tells_a_flooding_visitor_and_sends_everything_in_the_end() {
    use beckon_tests::browser;
    // Its own edge: the presence and admin-key test beside it uses up this address's limits.
    let own = Edge::start_limited();
    let base = &own.url;
    let c = browser::open(1280, 800).await;
    c.goto(&format!("{base}/")).await.unwrap();
    browser::open_chat(&c).await;
    // Every notice the widget shows, as it shows it.
    c.execute(
        "window.__notices = []; new MutationObserver(() => document.querySelectorAll('.notice')
           .forEach(n => window.__notices.push(n.textContent))).observe(document.body, {childList: true, subtree: true});",
        vec![],
    )
    .await
    .unwrap();
    // A first message, delivered: the conversation exists and its socket is open, so how long
    // a loaded machine takes to start it does not change what the flood below meets.
    let api = Api::new(base);
    browser::send_message(&c, "first").await;
    let visitor_bodies = || async {
        let list = api
            .send(api.admin(
                reqwest::Method::GET,
                "/api/v1/admin/conversations?site=demo&limit=50",
            ))
            .await;
        let id = list.body["conversations"][0]["id"].as_str()?.to_owned();
        let id = beckon_shared::ConversationId::parse(&id).ok()?;
        let bodies: Vec<String> = api
            .admin_messages(&id)
            .await
            .messages
            .into_iter()
            .filter(|m| m.role == beckon_shared::proto::v1::Role::Visitor)
            .map(|m| m.body)
            .collect();
        Some(bodies)
    };
    beckon_tests::eventually(
        Duration::from_secs(60),
        "the first message stored",
        || async { visitor_bodies().await.filter(|b| !b.is_empty()) },
    )
    .await;
    let texts: Vec<String> = (1..=40).map(|n| format!("line {n}")).collect();
    // Typed and sent as fast as a script can: 40 at once, over the burst of 20. The widget's
    // frames are held back and then put on the wire together (as when the socket reopens after
    // the visitor wrote offline): the refusals may be the last frames the edge answers, with
    // nothing after them to repaint the panel. The notice must show all the same.
    let held: usize = serde_json::from_value(
        c.execute_async(
            "const [texts, done] = arguments;
             const original = WebSocket.prototype.send;
             const held = [];
             WebSocket.prototype.send = function (data) { held.push([this, data]); };
             const input = document.querySelector(\"textarea[aria-label='Message']\");
             const send = document.querySelector(\"button[aria-label='Send']\");
             const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
             const tick = (ms) => new Promise(r => setTimeout(r, ms || 0));
             const sends = () => held.filter(([, d]) => d.includes('client_msg_id')).length;
             (async () => {
               for (const t of texts) {
                 setter.call(input, t);
                 input.dispatchEvent(new Event('input', {bubbles: true}));
                 await tick();
                 send.click();
                 await tick();
               }
               for (let waited = 0; sends() < texts.length && waited < 20000; waited += 100) {
                 await tick(100);
               }
               WebSocket.prototype.send = original;
               for (const [ws, data] of held) original.call(ws, data);
               done(sends());
             })();",
            vec![serde_json::json!(texts)],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(held, texts.len(), "every message went to the socket");
    let seen = || async {
        let v = c.execute("return window.__notices", vec![]).await.ok()?;
        serde_json::from_value::<Vec<String>>(v).ok()
    };
    let notice = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Some(n) = seen()
                .await
                .and_then(|s| s.into_iter().find(|t| t.contains("Too many messages")))
            {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let Ok(notice) = notice else {
        panic!(
            "no notice in 30 s; notices seen: {:?}; stored so far: {:?}",
            seen().await,
            visitor_bodies().await
        );
    };
    println!("the widget says: {notice:?}");
    browser::screenshot(&c, "limits-flood-notice").await;
    // The same at phone width (the panel goes full screen).
    c.set_window_size(375, 667).await.unwrap();
    browser::screenshot(&c, "limits-flood-notice-375").await;
    // Everything goes out on its own, in order, each once.
    let stored = beckon_tests::eventually(Duration::from_secs(120), "all 41 stored", || async {
        visitor_bodies().await.filter(|b| b.len() > texts.len())
    })
    .await;
    let mut expected = vec!["first".to_owned()];
    expected.extend(texts);
    assert_eq!(stored, expected);
    browser::wait_for_log(&c, &expected.iter().map(String::as_str).collect::<Vec<_>>()).await;
    c.close().await.ok();
}

/// A flood of posts to channel hooks from one address is cut at 6,000 a minute with 429 +
/// `Retry-After` before anything is looked up — whichever site the posts name (a flooder
/// cannot get a fresh allowance by changing the site key).
#[tokio::test]
async fn a_flood_of_webhook_posts_from_one_address_is_cut() {
    const LIMIT: usize = 6_000;
    const POSTS: usize = 6_400;
    let api = Api::new(&edge().url);
    let (site, other) = (unique("lim-hook"), unique("lim-hook-b"));
    api.create_site(&site).await;
    api.create_site(&other).await;
    let post = |site: String| {
        let http = api.http.clone();
        let url = format!("{}/hooks/telegram/{site}", api.base);
        async move {
            let r = http
                .post(url)
                .json(&serde_json::json!({"update_id": 1}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, retry)
        }
    };
    // The window is aligned to the minute: start at the beginning of one, so the flood falls
    // in a single window.
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let started = second();
    if started % 60 > 20 {
        tokio::time::sleep(Duration::from_secs(60 - started % 60)).await;
    }
    let minute = second() / 60;
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for _ in 0..POSTS / 16 {
        let batch = futures_util::future::join_all((0..16).map(|_| post(site.clone()))).await;
        for (status, retry) in batch {
            if status == 429 {
                assert_eq!(retry.as_deref(), Some("60"));
            }
            *statuses.entry(status).or_default() += 1;
        }
    }
    let windows = (second() / 60 - minute + 1) as usize;
    println!(
        "{POSTS} posts to one site's hook from one address in {windows} window(s): {statuses:?}"
    );
    // Telegram is not set up there: 403 while within the limit.
    let taken = statuses.get(&403).copied().unwrap_or(0);
    let refused = statuses.get(&429).copied().unwrap_or(0);
    assert_eq!(taken + refused, POSTS, "{statuses:?}");
    assert!(taken <= LIMIT * windows, "{statuses:?}");
    assert!(taken >= LIMIT.min(POSTS), "{statuses:?}");
    if windows == 1 {
        assert_eq!(refused, POSTS - LIMIT, "{statuses:?}");
        let (status, _) = post(other).await;
        assert_eq!(status, 429, "another site key gets no fresh allowance");
    }
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_rate_limited() {
    // Its own edge: wrong admin keys in the test beside it count against the same address.
    let own = Edge::start_limited();
    let api = Api::new(&own.url);
    let site = unique("lim-signin");
    api.create_site(&site).await;
    let email = format!("ana.{site}@shop.example");
    let invited = api
        .send(
            api.admin(reqwest::Method::POST, "/api/v1/admin/invitations")
                .json(&serde_json::json!({"email": email, "sites": [site]})),
        )
        .await;
    assert_eq!(invited.status, 201, "{:?}", invited.body);
    let joined = api
        .send(api.post("/api/v1/auth/accept").json(&serde_json::json!({
            "token": invited.body["token"], "name": "Ana", "password": "ana's long password"})))
        .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    let sign_in = |password: &'static str| {
        let (api, email) = (&api, &email);
        async move {
            api.send(
                api.post("/api/v1/auth/sign-in")
                    .json(&serde_json::json!({"email": email, "password": password})),
            )
            .await
        }
    };
    // The window is aligned to the minute: not near its end, so the attempts fall in one.
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second > 40 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    let mut statuses = BTreeMap::new();
    for _ in 0..12 {
        let r = sign_in("guess number n").await;
        *statuses.entry(r.status).or_insert(0) += 1;
    }
    println!("12 wrong passwords from one address: {statuses:?}");
    assert_eq!(statuses, BTreeMap::from([(401, 10), (429, 2)]));
    // The account takes no more sign-ins this minute, from anywhere: not even the right
    // password is checked (a guesser cannot tell).
    let right = sign_in("ana's long password").await;
    assert_eq!((right.status, right.error_code()), (429, "rate_limited"));
}

/// Page loads (a site's config, boot script and frame) are cut at 600 a minute per address,
/// and file requests (parts, an upload's status, downloads with a link that is not valid) at
/// 1,200 — each with 429 + `Retry-After` before anything is looked up.
#[tokio::test]
async fn page_loads_and_file_requests_from_one_address_are_cut() {
    // Its own edge: the counts are exact only with nothing else from this address.
    let own = Edge::start_limited();
    let api = Api::new(&own.url);
    let site = unique("lim-pages");
    api.create_site(&site).await;
    let other = unique("lim-pages-b");
    api.create_site(&other).await;
    let c = api.start_conversation(&site, None).await;
    let base = api.base.clone();
    let pages = [
        format!("{base}/api/v1/sites/{site}/config"),
        format!("{base}/api/v1/sites/{site}/boot.js"),
        format!("{base}/api/v1/sites/{site}/beckon.js"),
        format!("{base}/frame/{site}?host={base}"),
    ];
    let attachment = format!("a_{}", "0".repeat(32));
    let conversation = &c.conversation_id;
    let files = [
        format!("{base}/api/v1/conversations/{conversation}/attachments/{attachment}?e=1&s=x"),
        format!("{base}/api/v1/conversations/{conversation}/uploads/{attachment}"),
    ];
    let get = |url: String, token: String| {
        let http = api.http.clone();
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), retry)
        }
    };
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    // One window (aligned to the minute) for both floods.
    if second() % 60 > 15 {
        tokio::time::sleep(Duration::from_secs(60 - second() % 60)).await;
    }
    let minute = second() / 60;
    let flood = |urls: Vec<String>, n: usize| {
        let get = &get;
        let token = c.visitor_token.clone();
        async move {
            let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
            for batch in (0..n).collect::<Vec<_>>().chunks(16) {
                let answers = futures_util::future::join_all(
                    batch
                        .iter()
                        .map(|i| get(urls[i % urls.len()].clone(), token.clone())),
                )
                .await;
                for (status, retry) in answers {
                    if status == 429 {
                        assert_eq!(retry.as_deref(), Some("60"));
                    }
                    *statuses.entry(status).or_default() += 1;
                }
            }
            statuses
        }
    };
    let page_statuses = flood(pages.to_vec(), 650).await;
    let file_statuses = flood(files.to_vec(), 1_250).await;
    // Another site's pages get no fresh allowance from this address.
    let (other_status, _) = get(format!("{base}/api/v1/sites/{other}/config"), String::new()).await;
    let one_window = second() / 60 == minute;
    println!(
        "650 page loads from one address: {page_statuses:?}; 1,250 file requests: {file_statuses:?} (one window: {one_window})"
    );
    let refused = |s: &BTreeMap<u16, usize>| s.get(&429).copied().unwrap_or(0);
    // Within the limit: the pages answer (the frame too, for its own origin); a download
    // with a bad signature and an upload that does not exist are refused (4xx).
    assert!(
        page_statuses.keys().all(|s| [200, 429].contains(s)),
        "{page_statuses:?}"
    );
    assert!(
        file_statuses.keys().all(|s| (400..500).contains(s)),
        "{file_statuses:?}"
    );
    if one_window {
        assert_eq!(refused(&page_statuses), 50, "{page_statuses:?}");
        assert_eq!(refused(&file_statuses), 50, "{file_statuses:?}");
    } else {
        assert!(refused(&page_statuses) <= 50 && refused(&file_statuses) <= 50);
    }
    if one_window {
        assert_eq!(other_status, 429, "another site");
    }
}
