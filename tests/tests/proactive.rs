//! Proactive conversations, end to end in a real Chromium against the real edge: rules fire
//! their teasers on the demo page at the right moment and not before, caps and dismissals
//! hold across reloads, custom events fire rules, a reply starts a conversation whose origin
//! is the rule, the funnel metrics count exactly what happened, and an agent can start a
//! conversation with a visitor who is on the site.
//!
//! The scenarios change the demo site's rules, so they run one at a time (a lock), each in a
//! fresh browser profile.

use beckon_tests::api::Api;
use beckon_tests::browser::{self, eventually};
use beckon_tests::edge;
use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Replaces every rule of the demo site.
async fn set_rules(api: &Api, rules: &[Value]) {
    let list = api
        .send(api.admin(Method::GET, "/api/v1/admin/sites/demo/rules"))
        .await;
    for r in list.body["rules"].as_array().cloned().unwrap_or_default() {
        let id = r["id"].as_str().unwrap();
        let d = api
            .send(api.admin(
                Method::DELETE,
                &format!("/api/v1/admin/sites/demo/rules/{id}"),
            ))
            .await;
        assert_eq!(d.status, 204);
    }
    for r in rules {
        let c = api
            .send(
                api.admin(Method::POST, "/api/v1/admin/sites/demo/rules")
                    .json(r),
            )
            .await;
        assert_eq!(c.status, 201, "{:?}", c.body);
    }
}

fn rule(id: &str, when: Value, frequency: Value) -> Value {
    json!({"id": id, "name": format!("Rule {id}"), "when": when, "frequency": frequency,
           "message": {"text": format!("Teaser of {id}: can we help?"), "buttons": []}})
}

/// What the host page has loaded and stored so far.
async fn footprint(c: &Client) -> Value {
    c.execute(
        r#"const root = document.querySelector('#beckon-root');
           const frame = root && root.shadowRoot ? root.shadowRoot.querySelector('iframe') : null;
           return {
             wasm: performance.getEntriesByType('resource').filter(r => r.name.includes('.wasm')).length,
             frames: document.querySelectorAll('iframe').length + (frame ? 1 : 0),
             frame_class: frame ? frame.className : null,
             local: localStorage.length, session: sessionStorage.length, cookie: document.cookie,
           };"#,
        vec![],
    )
    .await
    .unwrap()
}

async fn assert_untouched(c: &Client, when: &str) {
    let f = footprint(c).await;
    assert_eq!(
        (
            f["wasm"].as_u64(),
            f["frames"].as_u64(),
            f["local"].as_u64(),
            f["session"].as_u64(),
            f["cookie"].as_str()
        ),
        (Some(0), Some(0), Some(0), Some(0), Some("")),
        "{when}: the host page must have no wasm, no iframe, no storage: {f}"
    );
}

async fn scroll_to(c: &Client, percent: u32) {
    c.execute(
        "const h = document.documentElement.scrollHeight - innerHeight; window.scrollTo(0, Math.round(h * arguments[0] / 100));",
        vec![json!(percent)],
    )
    .await
    .unwrap();
}

/// The teaser's text, looked up inside the iframe; leaves the browser at the top level.
async fn teaser_text(c: &Client) -> Option<String> {
    let frame = browser::frame(c).await?;
    let class = frame.attr("class").await.ok()??;
    if !class.split(' ').any(|k| k == "t") {
        return None;
    }
    frame.enter_frame().await.ok()?;
    let text = c
        .execute("const t = document.querySelector('#teaser .teaser-text'); return t ? t.textContent : null;", vec![])
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    c.enter_parent_frame().await.ok()?;
    text
}

/// Waits for a teaser; checks the app has linked its second part and never had to load it
/// synchronously (`self.__beckonSplitOnDemand`, set by the glue): a rule's teaser waits for
/// it (the rules are read there), and nothing a teaser needs may call into it before.
async fn wait_teaser(c: &Client, what: &str) -> String {
    let text = eventually(WAIT, what, || teaser_text(c)).await;
    let frame = browser::frame(c).await.expect("the app's frame");
    frame.enter_frame().await.unwrap();
    let split = c
        .execute(
            "return [self.__beckonSplit || null, !!self.__beckonSplitOnDemand]",
            vec![],
        )
        .await
        .unwrap();
    c.enter_parent_frame().await.unwrap();
    assert_eq!(
        split,
        json!(["linked", false]),
        "{what}: the app's second part"
    );
    text
}

/// Asserts no teaser shows for `secs`.
async fn no_teaser_for(c: &Client, secs: u64, why: &str) {
    for _ in 0..secs * 4 {
        assert_eq!(teaser_text(c).await, None, "{why}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn open_demo(c: &Client) {
    c.goto(&format!("{}/", edge::shared().url)).await.unwrap();
    browser::launcher(c).await;
}

/// Acceptance: a "30 % scroll" rule shows its teaser only after scrolling; before a wake-up
/// threshold is crossed the host page has no wasm, no iframe and no storage; a rule capped
/// "once per visitor" does not show again after a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scroll_rule_wakes_only_past_its_threshold_and_once_per_visitor_holds() {
    let _serial = SERIAL.lock().await;
    let api = Api::new(&edge::shared().url);
    set_rules(
        &api,
        &[rule(
            "scroll30",
            json!({"if": "scroll", "percent": 30}),
            json!({"once_per_visitor": true}),
        )],
    )
    .await;
    let c = browser::open(1280, 800).await;
    open_demo(&c).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_untouched(&c, "before scrolling").await;
    scroll_to(&c, 15).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_untouched(&c, "at 15 %").await;

    scroll_to(&c, 45).await;
    let text = wait_teaser(&c, "the scroll teaser").await;
    assert_eq!(text, "Teaser of scroll30: can we help?");
    browser::screenshot(&c, "teaser-scroll-desktop").await;
    let f = footprint(&c).await;
    assert_eq!(f["frames"], 1, "the threshold loaded the app: {f}");

    // Reload: the app wakes again past the threshold, but the cap holds.
    c.refresh().await.unwrap();
    browser::launcher(&c).await;
    scroll_to(&c, 60).await;
    eventually(WAIT, "the app after the reload", || async {
        browser::frame(&c).await
    })
    .await;
    no_teaser_for(&c, 3, "once per visitor: not again after a reload").await;
    c.close().await.unwrap();
}

/// On a 375 px phone the teaser (with an image and buttons) stays inside the screen, beside the
/// launcher, and answering it opens the full-screen panel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teaser_fits_a_phone_screen() {
    let _serial = SERIAL.lock().await;
    let api = Api::new(&edge::shared().url);
    let mut r = rule("phone", json!({"if": "scroll", "percent": 20}), json!({}));
    r["message"] = json!({"text": "Ordering for an office? We do bulk discounts from 5 kg — ask us.",
        "buttons": [{"label": "Ask about bulk", "action": "reply"}, {"label": "Prices", "action": "link", "url": "/#beans"}]});
    set_rules(&api, &[r]).await;
    let c = browser::open(375, 740).await;
    open_demo(&c).await;
    scroll_to(&c, 40).await;
    wait_teaser(&c, "the teaser on a phone").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rect = c
        .execute(
            "const f = document.getElementById('beckon-root').shadowRoot.querySelector('iframe').getBoundingClientRect();
             return [f.left, f.top, f.right, f.bottom, innerWidth, innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let v: Vec<f64> = serde_json::from_value(rect).unwrap();
    assert!(
        v[0] >= 0.0 && v[1] >= 0.0 && v[2] <= v[4] && v[3] <= v[5],
        "teaser frame {v:?} must lie inside the 375 px screen"
    );
    browser::screenshot(&c, "teaser-mobile").await;
    c.close().await.unwrap();
}

/// Acceptance: a time rule after the configured seconds; a dismissed teaser stays dismissed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_rule_fires_after_its_seconds_and_dismissed_stays_dismissed() {
    let _serial = SERIAL.lock().await;
    let api = Api::new(&edge::shared().url);
    set_rules(
        &api,
        &[rule(
            "after3s",
            json!({"if": "active_time", "secs": 3}),
            json!({}),
        )],
    )
    .await;
    let c = browser::open(1280, 800).await;
    let started = std::time::Instant::now();
    open_demo(&c).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_untouched(&c, "one second in").await;
    let text = wait_teaser(&c, "the time teaser").await;
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "shown after {:?}",
        started.elapsed()
    );
    assert_eq!(text, "Teaser of after3s: can we help?");

    // Dismiss it with the keyboard-reachable button.
    let frame = browser::frame(&c).await.unwrap();
    frame.enter_frame().await.unwrap();
    c.find(Locator::Css("button[aria-label='Dismiss message']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.enter_parent_frame().await.unwrap();
    eventually(WAIT, "the teaser gone", || async {
        teaser_text(&c).await.is_none().then_some(())
    })
    .await;

    // No frequency cap on this rule, yet a dismissal is for good.
    c.refresh().await.unwrap();
    browser::launcher(&c).await;
    eventually(WAIT, "the app after the reload", || async {
        browser::frame(&c).await
    })
    .await;
    no_teaser_for(&c, 5, "dismissed stays dismissed").await;
    c.close().await.unwrap();
}

/// Acceptance: exit intent fires when the pointer leaves through the top edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_intent_fires_when_the_pointer_leaves_the_top_edge() {
    let _serial = SERIAL.lock().await;
    let api = Api::new(&edge::shared().url);
    set_rules(
        &api,
        &[rule(
            "leaving",
            json!({"if": "exit_intent"}),
            json!({"once_per_session": true}),
        )],
    )
    .await;
    let c = browser::open(1280, 800).await;
    open_demo(&c).await;
    // The pointer moves around the page: nothing happens.
    let heading = c.find(Locator::Css("h1")).await.unwrap();
    browser::hover(&c, &heading).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_untouched(&c, "pointer inside the page").await;
    // It leaves through the top edge: the browser fires mouseout on the root with no related
    // target and clientY ≤ 0 (WebDriver cannot move a pointer outside the viewport).
    c.execute(
        "document.documentElement.dispatchEvent(new MouseEvent('mouseout', {bubbles: true, clientX: 400, clientY: -3, relatedTarget: null}));",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(
        wait_teaser(&c, "the exit-intent teaser").await,
        "Teaser of leaving: can we help?"
    );
    c.close().await.unwrap();
}

/// Acceptance: `Beckon.trigger('pricing_viewed')` fires its rule; replying to the teaser
/// creates a conversation whose origin is the rule; after impression → open → reply →
/// `track('purchase')` the metrics API returns exactly those counts for the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggered_rule_reply_and_goal_are_counted_exactly() {
    let _serial = SERIAL.lock().await;
    let api = Api::new(&edge::shared().url);
    let mut r = rule(
        "pricing",
        json!({"if": "event", "name": "pricing_viewed"}),
        json!({"once_per_session": true}),
    );
    r["message"]["text"] = json!("Comparing plans? I can help you pick one.");
    set_rules(&api, &[r]).await;

    let c = browser::open(1280, 800).await;
    open_demo(&c).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_untouched(&c, "before the event").await;
    c.execute("Beckon.trigger('pricing_viewed')", vec![])
        .await
        .unwrap();
    assert_eq!(
        wait_teaser(&c, "the triggered teaser").await,
        "Comparing plans? I can help you pick one."
    );

    // Open it (Reply), answer, and the conversation starts from the rule.
    let frame = browser::frame(&c).await.unwrap();
    frame.enter_frame().await.unwrap();
    c.find(Locator::Css("#teaser .teaser-reply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the chat panel", || async {
        c.find(Locator::Css("textarea[aria-label='Message']"))
            .await
            .ok()
    })
    .await;
    assert_eq!(
        c.find(Locator::Css("[role=log] li.greeting .body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Comparing plans? I can help you pick one.",
        "the teaser is the first message"
    );
    browser::send_message(&c, "Yes please, which plan for two people?").await;
    browser::wait_for_log(
        &c,
        &[
            "Comparing plans? I can help you pick one.",
            "Yes please, which plan for two people?",
        ],
    )
    .await;
    c.enter_parent_frame().await.unwrap();

    let conv = eventually(WAIT, "the conversation", || async {
        let l = api
            .send(api.admin(
                Method::GET,
                "/api/v1/admin/conversations?site=demo&limit=200",
            ))
            .await;
        l.body["conversations"]
            .as_array()?
            .iter()
            .find(|c| c["last_message"]["body"] == "Yes please, which plan for two people?")
            .cloned()
    })
    .await;
    assert_eq!(
        conv["origin"],
        json!({"kind": "rule", "rule_id": "pricing"})
    );
    let id = beckon_shared::ConversationId::parse(conv["id"].as_str().unwrap()).unwrap();
    let messages = api.admin_messages(&id).await.messages;
    assert_eq!(messages[0].role, beckon_shared::proto::v1::Role::Bot);
    assert_eq!(
        messages[0].body,
        "Comparing plans? I can help you pick one."
    );

    // An agent answers (first response), then the visitor buys.
    api.agent_reply(&id, "The Duo plan: two bags a month.")
        .await;
    let frame = browser::frame(&c).await.unwrap();
    frame.enter_frame().await.unwrap();
    browser::wait_for_log(
        &c,
        &[
            "Comparing plans? I can help you pick one.",
            "Yes please, which plan for two people?",
            "The Duo plan: two bags a month.",
        ],
    )
    .await;
    c.enter_parent_frame().await.unwrap();
    // A repeated goal (a reload of the thank-you page) is credited once.
    for _ in 0..2 {
        c.execute("Beckon.track('purchase', {value: 49})", vec![])
            .await
            .unwrap();
    }
    let funnel = || async {
        let m = api
            .send(api.admin(Method::GET, "/api/v1/admin/metrics?site=demo"))
            .await;
        m.body["rules"]
            .as_array()?
            .iter()
            .find(|f| f["rule_id"] == "pricing")
            .cloned()
    };
    eventually(WAIT, "the goal in the metrics", || async {
        funnel().await.filter(|f| f["totals"]["goals"] == 1)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let metrics = funnel().await.unwrap();
    let t = &metrics["totals"];
    assert_eq!(
        (
            t["impressions"].as_u64(),
            t["opens"].as_u64(),
            t["replies"].as_u64(),
            t["goals"].as_u64(),
            t["goal_value"].as_f64()
        ),
        (Some(1), Some(1), Some(1), Some(1), Some(49.0)),
        "exactly what happened: {metrics}"
    );
    assert!(
        t["avg_first_response_ms"].as_u64().is_some(),
        "first response time recorded: {metrics}"
    );
    assert_eq!(metrics["name"], "Rule pricing");
    c.close().await.unwrap();
}

/// Acceptance: an agent starts a conversation with an online visitor from the inbox; the
/// visitor sees it live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_starts_a_conversation_with_an_online_visitor_from_the_inbox() {
    let _serial = SERIAL.lock().await;
    let base = &edge::shared().url;
    let api = Api::new(base);
    set_rules(&api, &[]).await;
    let visitor = browser::open(1280, 800).await;
    open_demo(&visitor).await;
    // The visitor shows intent (hovers the launcher): the chat app runs, so they are online.
    let launcher = browser::launcher(&visitor).await;
    browser::hover(&visitor, &launcher).await;

    let agent = browser::open(1280, 800).await;
    browser::sign_in_to_inbox(&agent, base, "Maya").await;
    let tab = eventually(WAIT, "one visitor online", || async {
        let t = agent
            .find(Locator::XPath(
                "//nav[@aria-label='Views']/button[starts-with(., 'Online now')]",
            ))
            .await
            .ok()?;
        t.text()
            .await
            .ok()
            .filter(|s| s.as_str() != "Online now (0)")
            .map(|_| t)
    })
    .await;
    tab.click().await.unwrap();
    // Before they write, agents see the page's path only (no host, query or title).
    let start = eventually(WAIT, "the visitor on the demo page", || async {
        for li in agent
            .find_all(Locator::Css("li.online-visitor"))
            .await
            .ok()?
        {
            let page = li.find(Locator::Css("strong.url")).await.ok()?;
            if page.text().await.ok()? == "/" {
                return li.find(Locator::Css("button.start")).await.ok();
            }
        }
        None
    })
    .await;
    start.click().await.unwrap();
    let text = format!(
        "Hi! Anything I can help you find? #{}",
        beckon_tests::free_port()
    );
    agent
        .find(Locator::Css(".reach-out textarea"))
        .await
        .unwrap()
        .send_keys(&text)
        .await
        .unwrap();
    agent
        .find(Locator::Css(".reach-out button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The inbox switches to the new conversation.
    browser::wait_for_log(&agent, &[&text]).await;

    // The visitor sees it live, as a message beside the launcher, then in the chat.
    assert_eq!(wait_teaser(&visitor, "the agent's message").await, text);
    browser::screenshot(&visitor, "agent-reached-out").await;
    let frame = browser::frame(&visitor).await.unwrap();
    frame.enter_frame().await.unwrap();
    visitor
        .find(Locator::Css("#teaser .teaser-reply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser::wait_for_log(&visitor, &[&text]).await;
    browser::send_message(&visitor, "Yes, the decaf please").await;
    browser::wait_for_log(&agent, &[&text, "Yes, the decaf please"]).await;
    // The conversation list follows a busy conversation within a second (it is coalesced).
    let origin = eventually(WAIT, "the answer in the conversation list", || async {
        api.send(api.admin(
            Method::GET,
            "/api/v1/admin/conversations?site=demo&limit=200",
        ))
        .await
        .body["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["last_message"]["body"] == "Yes, the decaf please")
            .map(|c| c["origin"].clone())
    })
    .await;
    assert_eq!(origin, json!({"kind": "agent", "author": "Maya"}));
    visitor.close().await.unwrap();
    agent.close().await.unwrap();
}

/// What a visitor's browser says about rules is checked at the edge: a teaser reply only to an
/// enabled rule, teaser counts only from a browser (Origin), goals non-negative and credited
/// once per conversation and goal name.
#[tokio::test]
async fn rule_events_from_visitors_are_checked_at_the_edge() {
    let api = Api::new(&edge::shared().url);
    let site = beckon_tests::unique("rulecheck");
    api.create_site(&site).await;
    let mut off = rule("quiet", json!({"if": "exit_intent"}), json!({}));
    off["enabled"] = json!(false);
    let created = api
        .send(
            api.admin(Method::POST, &format!("/api/v1/admin/sites/{site}/rules"))
                .json(&off),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let start = |body: Value| {
        api.post(&format!("/api/v1/sites/{site}/conversations"))
            .json(&body)
    };
    let from_rule = json!({"origin": {"kind": "rule", "rule_id": "quiet"}});
    let disabled = api.send(start(from_rule.clone())).await;
    assert_eq!((disabled.status, disabled.error_code()), (404, "not_found"));
    let bad_url = api
        .send(start(json!({"page_url": "javascript:alert(1)"})))
        .await;
    assert_eq!((bad_url.status, bad_url.error_code()), (400, "bad_request"));

    off["enabled"] = json!(true);
    let put = api
        .send(
            api.admin(
                Method::PUT,
                &format!("/api/v1/admin/sites/{site}/rules/quiet"),
            )
            .json(&off),
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let started = api.send(start(from_rule)).await;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let (conversation, token) = (
        started.body["conversation_id"].as_str().unwrap().to_owned(),
        started.body["visitor_token"].as_str().unwrap().to_owned(),
    );

    // Teaser counts come from the widget in a browser, which always sends its Origin.
    let event = json!({"rule_id": "quiet", "kind": "impression"});
    let scripted = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/events"))
                .json(&event),
        )
        .await;
    assert_eq!(
        (scripted.status, scripted.error_code()),
        (403, "origin_not_allowed")
    );
    let counted = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/events"))
                .header("origin", "https://shop.example")
                .json(&event),
        )
        .await;
    assert_eq!(counted.status, 204, "{:?}", counted.body);

    let goal = |body: Value| {
        api.post(&format!("/api/v1/conversations/{conversation}/events"))
            .bearer_auth(&token)
            .json(&body)
    };
    let negative = api
        .send(goal(json!({"name": "purchase", "value": -5})))
        .await;
    assert_eq!(
        (negative.status, negative.error_code()),
        (400, "bad_request")
    );
    let first = api
        .send(goal(json!({"name": "purchase", "value": 20})))
        .await;
    assert_eq!(
        (
            first.status,
            first.body["credited_rule"].clone(),
            first.body["counted"].clone()
        ),
        (202, json!("quiet"), json!(true))
    );
    let again = api
        .send(goal(json!({"name": "purchase", "value": 20})))
        .await;
    assert_eq!(again.body["counted"], json!(false));
    let other = api.send(goal(json!({"name": "signup"}))).await;
    assert_eq!(other.body["counted"], json!(true));
    // Invented names cannot inflate the metrics: 5 goals per conversation at most.
    let counted: Vec<bool> = {
        let mut v = Vec::new();
        for n in 0..6 {
            let r = api
                .send(goal(json!({"name": format!("made-up-{n}"), "value": 0})))
                .await;
            v.push(r.body["counted"].as_bool().unwrap());
        }
        v
    };
    assert_eq!(counted, [true, true, true, false, false, false]);
    let m = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/metrics?site={site}")))
        .await;
    let t = &m.body["rules"][0]["totals"];
    assert_eq!(
        (
            t["impressions"].as_u64(),
            t["goals"].as_u64(),
            t["goal_value"].as_f64()
        ),
        (Some(1), Some(5), Some(20.0)),
        "{}",
        m.body
    );
}

/// With `remember_visitors` on, the wake-up script keeps the visit count on the host page: a
/// "second visit" rule stays quiet on the first and shows its teaser on the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_visitor_rule_counts_visits_when_the_site_remembers_them() {
    let _serial = SERIAL.lock().await;
    let api = Api::new(&edge::shared().url);
    let r = api
        .patch_site("demo", json!({"remember_visitors": true}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    set_rules(
        &api,
        &[rule(
            "second",
            json!({"if": "visits", "at_least": 2}),
            json!({}),
        )],
    )
    .await;
    let c = browser::open(1280, 800).await;
    open_demo(&c).await;
    let kept = || async {
        c.execute(
            "return [localStorage.getItem('beckon:demo:visits'), sessionStorage.getItem('beckon:demo:landing')];",
            vec![],
        )
        .await
        .unwrap()
    };
    let first = eventually(WAIT, "the first visit counted", || async {
        let k = kept().await;
        (k[0] == "1").then_some(k)
    })
    .await;
    assert!(
        first[1].as_str().is_some_and(|l| l.ends_with('/')),
        "{first}"
    );
    no_teaser_for(&c, 3, "a first visit").await;
    // The wake-up code came inside the boot script: no request of its own.
    let scripts = c
        .execute(
            "return performance.getEntriesByType('resource').map(r => r.name).filter(n => n.includes('wakeup'));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(scripts, json!([]));
    // A new visit: a new session of the same browser.
    c.execute("sessionStorage.clear();", vec![]).await.unwrap();
    c.refresh().await.unwrap();
    browser::launcher(&c).await;
    let text = wait_teaser(&c, "the second visit's teaser").await;
    assert_eq!(text, "Teaser of second: can we help?");
    assert_eq!(kept().await[0], "2");
    c.close().await.unwrap();
    set_rules(&api, &[]).await;
    let r = api
        .patch_site("demo", json!({"remember_visitors": false}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}
