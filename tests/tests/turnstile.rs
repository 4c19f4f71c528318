//! Cloudflare Turnstile on conversation starts (per site), against the loopback fake of
//! Turnstile's script and siteverify API: the owner turns it on and off, the edge refuses a
//! start without a token that passes and creates nothing, and the widget loads the script on
//! the visitor's first send only, shows the challenge while it needs the visitor, and sends.

use beckon_tests::api::Api;
use beckon_tests::edge::Edge;
use beckon_tests::fakes::turnstile::{
    FakeTurnstile, FAILING_SECRET, FAILING_SITE_KEY, INTERACTIVE_SITE_KEY, PASSING_SECRET,
    PASSING_SITE_KEY,
};
use beckon_tests::unique;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const SITE_KEY: &str = "0x4AAAAAAAbeckonTestKey";
const SECRET: &str = "0x4AAAAAAAbeckonTestSecret_0123456789";

async fn set_turnstile(api: &Api, site: &str, body: Value) -> beckon_tests::api::Reply {
    api.send(
        api.admin(
            Method::PUT,
            &format!("/api/v1/admin/sites/{site}/turnstile"),
        )
        .json(&body),
    )
    .await
}

/// A start as the widget makes it, with `token` (if any).
async fn start(api: &Api, site: &str, token: Option<&str>) -> beckon_tests::api::Reply {
    let mut body = json!({"page_url": "https://shop.example/pricing"});
    if let Some(t) = token {
        body["turnstile_token"] = json!(t);
    }
    api.send(
        api.post(&format!("/api/v1/sites/{site}/conversations"))
            .json(&body),
    )
    .await
}

async fn conversations(api: &Api, site: &str) -> usize {
    let r = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations?site={site}&limit=100"),
        ))
        .await;
    r.body["conversations"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_site_with_turnstile_starts_only_conversations_whose_token_passes() {
    let fake = FakeTurnstile::start().await;
    fake.widget(SITE_KEY, SECRET);
    let edge = Edge::start_with_vars(None, &[("TURNSTILE_ORIGIN", &fake.base)]);
    let api = Api::new(&edge.url);
    let site = unique("ts");
    api.create_site(&site).await;

    // Bad settings are refused, with the reason.
    for (body, why) in [
        (json!({"site_key": SITE_KEY}), "secret is required"),
        (
            json!({"site_key": "has space", "secret": SECRET}),
            "site_key must be",
        ),
        (
            json!({"site_key": SITE_KEY, "secret": "x/y"}),
            "secret must be",
        ),
        (json!({"secret": SECRET}), "needs its site_key"),
        (
            json!({"site_key": SITE_KEY, "secret": SECRET, "extra": 1}),
            "unknown field",
        ),
    ] {
        let r = set_turnstile(&api, &site, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        let message = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{body}: {message}");
    }
    assert_eq!(
        set_turnstile(&api, "no-such-site", json!({"site_key": null}))
            .await
            .status,
        404
    );

    // On: the secret is never shown again.
    let on = set_turnstile(&api, &site, json!({"site_key": SITE_KEY, "secret": SECRET})).await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    assert_eq!(on.body, json!({"site_key": SITE_KEY}));
    let settings = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}")))
        .await;
    assert!(!settings.body.to_string().contains(SECRET));

    // The widget's page carries the challenge and allows exactly its origin.
    let frame = api
        .get(&format!("/frame/{site}?host=https://shop.example"))
        .send()
        .await
        .unwrap();
    let csp = frame
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let html = frame.text().await.unwrap();
    // Our scripts, wasm, the frame's one inline script (by its hash) and the challenge's.
    let script_src: Vec<&str> = csp
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("script-src "))
        .unwrap_or_default()
        .split(' ')
        .collect();
    assert!(
        script_src.len() == 4
            && script_src[..2] == ["'self'", "'wasm-unsafe-eval'"]
            && script_src[2].starts_with("'sha256-")
            && script_src[3] == fake.base
            && csp.contains(&format!("frame-src {};", fake.base)),
        "{csp}"
    );
    let script_url = format!("{}/turnstile/v0/api.js?render=explicit", fake.base);
    assert!(
        html.contains(SITE_KEY) && html.contains(&script_url),
        "{html}"
    );

    // Refused, and nothing created: no token, a made-up one, one of another widget, one made
    // for another action.
    let refused = [
        None,
        Some("XXXX.DUMMY.TOKEN.XXXX".to_owned()),
        Some(format!("{INTERACTIVE_SITE_KEY}.start.{}", unique("t"))),
        Some(format!("{SITE_KEY}.login.{}", unique("t"))),
    ];
    let mut messages = Vec::new();
    for token in &refused {
        let r = start(&api, &site, token.as_deref()).await;
        assert_eq!(r.status, 403, "{token:?}: {:?}", r.body);
        assert_eq!(r.error_code(), "challenge_failed");
        messages.push(r.body["error"]["message"].as_str().unwrap().to_owned());
    }
    assert!(
        messages[0].contains("turnstile_token is missing"),
        "{messages:?}"
    );
    assert!(messages[3].contains("another page or form"), "{messages:?}");
    // A malformed token is a bad request before Cloudflare is asked.
    let r = start(&api, &site, Some(&"x".repeat(2049))).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(conversations(&api, &site).await, 0);

    // A token the widget got passes once; the same token again is refused.
    let token = format!("{SITE_KEY}.start.{}", unique("t"));
    let first = start(&api, &site, Some(&token)).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let again = start(&api, &site, Some(&token)).await;
    assert_eq!(again.status, 403);
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("used already"),
        "{:?}",
        again.body
    );
    assert_eq!(conversations(&api, &site).await, 1);
    let checks = fake.verifications();
    // The missing token never reached Cloudflare; the visitor's address never does.
    assert_eq!(checks.len(), refused.len() - 1 + 2, "{checks:?}");
    assert!(checks.iter().all(|c| !c.had_remoteip));
    // Cloudflare passed two: the one made for another action (the edge refused it) and the one
    // that started the conversation.
    assert_eq!(checks.iter().filter(|c| c.success).count(), 2, "{checks:?}");

    // Cloudflare's testing secret behaves as documented (always passes).
    let r = set_turnstile(
        &api,
        &site,
        json!({"site_key": "1x00000000000000000000AA", "secret": PASSING_SECRET}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        start(&api, &site, Some("XXXX.DUMMY.TOKEN.XXXX"))
            .await
            .status,
        201
    );

    // Off: starts need no token, the page no longer allows Turnstile.
    let off = set_turnstile(&api, &site, json!({"site_key": null})).await;
    assert_eq!(off.body, json!({"site_key": null}));
    assert_eq!(start(&api, &site, None).await.status, 201);
    let frame = api
        .get(&format!("/frame/{site}?host=https://shop.example"))
        .send()
        .await
        .unwrap();
    let csp = frame.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !csp.contains("frame-src") && !csp.contains(&fake.base),
        "{csp}"
    );
    assert!(!frame.text().await.unwrap().contains("turnstile"));
    println!(
        "turnstile: 4 starts refused (403 challenge_failed), 1 malformed (400), 1 passed, its replay refused; {} siteverify calls, none with the visitor's address",
        checks.len()
    );
}

#[tokio::test]
async fn the_widget_loads_turnstile_on_the_first_send_and_the_visitor_passes_it() {
    use beckon_tests::browser;
    use fantoccini::Locator;
    let fake = FakeTurnstile::start().await;
    fake.widget(INTERACTIVE_SITE_KEY, SECRET);
    let edge = Edge::start_with_vars(None, &[("TURNSTILE_ORIGIN", &fake.base)]);
    let api = Api::new(&edge.url);
    // The demo site (the edge's own page embeds it), with a challenge that needs the visitor.
    let on = set_turnstile(
        &api,
        "demo",
        json!({"site_key": INTERACTIVE_SITE_KEY, "secret": SECRET}),
    )
    .await;
    assert_eq!(on.status, 200, "{:?}", on.body);

    let c = browser::open(1280, 800).await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    browser::open_chat(&c).await;
    // Nothing of Turnstile before the visitor sends.
    let loaded = "return [typeof window.turnstile, document.querySelectorAll('script[src*=\"turnstile\"]').length]";
    assert_eq!(
        c.execute(loaded, vec![]).await.unwrap(),
        json!(["undefined", 0])
    );
    browser::send_message(&c, "Do you ship to Jakarta?").await;
    let check = beckon_tests::eventually(Duration::from_secs(20), "the challenge", || async {
        c.find(Locator::Css(
            ".challenge input[aria-label='Verify you are human']",
        ))
        .await
        .ok()
    })
    .await;
    assert_eq!(
        c.execute(loaded, vec![]).await.unwrap(),
        json!(["object", 1])
    );
    browser::screenshot(&c, "turnstile-challenge").await;
    let violations = browser::axe(&c).await;
    println!(
        "axe-core, the challenge shown: {} violations",
        violations.len()
    );
    assert!(violations.is_empty(), "{violations:#?}");
    c.set_window_size(375, 667).await.unwrap();
    browser::screenshot(&c, "turnstile-challenge-375").await;
    // Nothing is created until it passes.
    assert_eq!(conversations(&api, "demo").await, 0);
    // With the keyboard: focus the box, Space.
    check.send_keys(" ").await.unwrap();
    let stored =
        beckon_tests::eventually(Duration::from_secs(30), "the message stored", || async {
            let r = api
                .send(api.admin(Method::GET, "/api/v1/admin/conversations?site=demo&limit=5"))
                .await;
            let id = r.body["conversations"][0]["id"].as_str()?.to_owned();
            let id = beckon_shared::ConversationId::parse(&id).ok()?;
            let page = api.admin_messages(&id).await;
            page.messages
                .into_iter()
                .map(|m| m.body)
                .find(|b| b.contains("Jakarta"))
        })
        .await;
    assert_eq!(stored, "Do you ship to Jakarta?");
    // The challenge is gone from the panel, and the one check passed.
    beckon_tests::eventually(Duration::from_secs(10), "the challenge removed", || async {
        c.find(Locator::Css(".challenge"))
            .await
            .is_err()
            .then_some(())
    })
    .await;
    browser::screenshot(&c, "turnstile-passed-375").await;
    let checks = fake.verifications();
    assert_eq!(checks.iter().filter(|c| c.success).count(), 1, "{checks:?}");

    // A challenge that fails (Cloudflare's testing key that always does): the visitor is
    // told, nothing is created, the message waits to be sent again.
    let failing = set_turnstile(
        &api,
        "demo",
        json!({"site_key": FAILING_SITE_KEY, "secret": PASSING_SECRET}),
    )
    .await;
    assert_eq!(failing.status, 200);
    c.execute("localStorage.clear()", vec![]).await.unwrap();
    c.enter_parent_frame().await.unwrap();
    c.execute("localStorage.clear()", vec![]).await.unwrap();
    c.refresh().await.unwrap();
    browser::open_chat(&c).await;
    browser::send_message(&c, "Is the Ethiopian in stock?").await;
    let notice_with = |what: &'static str| {
        let c = &c;
        async move {
            beckon_tests::eventually(Duration::from_secs(20), what, || async {
                let text = c
                    .find(Locator::Css(".notice"))
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?;
                text.contains(what).then_some(text)
            })
            .await
        }
    };
    let failed = notice_with("did not complete").await;
    browser::screenshot(&c, "turnstile-failed-375").await;
    // The message is kept, waiting.
    assert_eq!(
        browser::log_bodies(&c).await,
        vec!["Is the Ethiopian in stock?".to_owned()]
    );

    // A check the page passes but siteverify refuses (the testing secret that always fails):
    // the edge says why, nothing is created, both messages wait (they survived a reload).
    let refusing = set_turnstile(
        &api,
        "demo",
        json!({"site_key": PASSING_SITE_KEY, "secret": FAILING_SECRET}),
    )
    .await;
    assert_eq!(refusing.status, 200);
    c.enter_parent_frame().await.unwrap();
    c.refresh().await.unwrap();
    browser::open_chat(&c).await;
    browser::send_message(&c, "Or the Kenyan?").await;
    let refused = notice_with("did not pass").await;
    assert_eq!(conversations(&api, "demo").await, 1);
    assert_eq!(
        browser::log_bodies(&c).await,
        vec![
            "Is the Ethiopian in stock?".to_owned(),
            "Or the Kenyan?".to_owned()
        ]
    );
    println!(
        "turnstile in the widget: loaded on the first send, passed with the keyboard, message stored; {} siteverify call; a failing challenge says {failed:?}; a refused token says {refused:?}",
        checks.len()
    );
    c.close().await.ok();
}
