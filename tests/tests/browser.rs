//! Browser end-to-end tests: a real headless Chromium against the real edge (`wrangler dev`),
//! on the demo page, on a third-party origin behind a strict CSP, and on a phone-sized
//! viewport. The agent side uses the real web inbox.

use beckon_tests::api::Api;
use beckon_tests::browser::{self, eventually};
use beckon_tests::{edge, files, host_page};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn unique(text: &str) -> String {
    format!("{text} #{}", beckon_tests::free_port())
}

/// What the host page has loaded and stored so far.
async fn host_footprint(c: &Client) -> Value {
    c.execute(
        r#"const root = document.querySelector('#beckon-root');
           return {
             resources: performance.getEntriesByType('resource').map(r => r.name),
             iframes: document.querySelectorAll('iframe').length + (root && root.shadowRoot ? root.shadowRoot.querySelectorAll('iframe').length : 0),
             local: localStorage.length, session: sessionStorage.length, cookie: document.cookie,
           };"#,
        vec![],
    )
    .await
    .unwrap()
}

/// Fails on any console error (CSP violations, script errors, failed loads), and on Chromium's
/// warnings about a preload that went unused or did not match the request made for it.
async fn assert_clean_console(c: &Client, context: &str) {
    let errors: Vec<_> = browser::console_log(c)
        .await
        .into_iter()
        .filter(|(level, message)| level == "SEVERE" || message.contains("preload"))
        .collect();
    assert!(errors.is_empty(), "{context}: console errors: {errors:#?}");
}

/// The app `app` (its path, e.g. `widget/beckon_widget`) in the page or frame `c` is in has
/// fetched its second part once and linked it, and never had to load it synchronously
/// (`self.__beckonSplit` and `self.__beckonSplitOnDemand`, set by the glue).
async fn assert_second_part_linked(c: &Client, app: &str) {
    let fetched = format!("/{app}_more.");
    eventually(WAIT, "the app's second part fetched once and linked", || async {
        let v = c
            .execute(
                "return [performance.getEntriesByType('resource').map(e => e.name), self.__beckonSplit || null, !!self.__beckonSplitOnDemand]",
                vec![],
            )
            .await
            .ok()?;
        let names: Vec<String> = serde_json::from_value(v[0].clone()).ok()?;
        let n = names.iter().filter(|n| n.contains(&fetched)).count();
        assert!(n <= 1, "{app}: the second part fetched {n} times: {names:?}");
        assert_eq!(v[2], false, "{app}: the second part was loaded synchronously");
        match v[1].as_str() {
            Some("linked") => (n == 1).then_some(()),
            Some(other) => panic!("{app}: the second part did not link: {other}"),
            None => None,
        }
    })
    .await;
}

/// Acceptance: the visitor opens the demo page, opens the chat and sends a message; it appears
/// in the inbox; the agent's reply appears in the widget without a reload; after a reload the
/// full history is there, in order, once. Before intent the host page loads nothing but the
/// loader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_page_visitor_and_inbox_agent_chat_live_and_history_survives_reload() {
    let base = &edge::shared().url;
    let visitor = browser::open(1280, 800).await;
    visitor.goto(&format!("{base}/")).await.unwrap();
    let launcher = browser::launcher(&visitor).await;
    assert_eq!(
        launcher.attr("aria-label").await.unwrap().as_deref(),
        Some("Open chat")
    );

    // Zero cost before intent: one script, the loader with its boot config, nothing else.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = host_footprint(&visitor).await;
    let resources: Vec<String> = serde_json::from_value(before["resources"].clone()).unwrap();
    assert_eq!(
        resources,
        [format!("{base}/api/v1/sites/demo/beckon.js")],
        "{resources:?}"
    );
    assert!(!resources
        .iter()
        .any(|r| r.contains(".wasm") || r.contains("/frame/")));
    assert_eq!(
        (
            before["iframes"].as_u64(),
            before["local"].as_u64(),
            before["session"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(before["cookie"], Value::String(String::new()));
    assert_eq!(
        browser::beckon_databases(&visitor).await,
        Vec::<String>::new()
    );

    // Intent: hovering the launcher creates the iframe (before any click).
    browser::hover(&visitor, &launcher).await;
    eventually(WAIT, "the iframe after hover", || browser::frame(&visitor)).await;
    browser::screenshot(&visitor, "demo-closed-desktop").await;

    browser::open_chat(&visitor).await;
    // The frame's document asks for the app's wasm and glue itself: each is fetched once,
    // and the wasm's download starts before boot.js has even arrived (it used to wait for
    // boot.js, then the glue).
    let fetched: Vec<(String, f64, f64)> = serde_json::from_value(
        visitor
            .execute(
                "return performance.getEntriesByType('resource').map(e => [e.name, e.startTime, e.responseEnd])",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let entry = |file: &str| {
        let all: Vec<_> = fetched.iter().filter(|r| r.0.ends_with(file)).collect();
        assert_eq!(
            all.len(),
            1,
            "{file} fetched {} times: {fetched:?}",
            all.len()
        );
        all[0].clone()
    };
    let (wasm, _glue, boot) = (
        entry("/widget/beckon_widget_bg.wasm"),
        entry("/widget/beckon_widget.js"),
        entry("/widget/boot.js"),
    );
    assert!(wasm.1 < boot.2, "the wasm waited for boot.js: {fetched:?}");
    let question = unique("Hi! Do you ship to Canada?");
    browser::send_message(&visitor, &question).await;
    browser::wait_for_log(&visitor, &[&question]).await;
    eventually(WAIT, "the Delivered state", || async {
        let t = visitor
            .find(Locator::Css("[role=log] li.mine .delivery"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (t == "Delivered" || t == "Seen").then_some(())
    })
    .await;

    // The agent sees it in the inbox and replies.
    let agent = browser::open(1280, 800).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_conversation_showing(&agent, &question).await;
    browser::wait_for_log(&agent, &[&question]).await;
    let reply = unique("Yes — 3 to 5 business days, tracked.");
    browser::send_message(&agent, &reply).await;
    browser::wait_for_log(&agent, &[&question, &reply]).await;
    browser::screenshot(&agent, "inbox-desktop").await;

    // The reply reaches the open widget live, with the agent's name.
    browser::wait_for_log(&visitor, &[&question, &reply]).await;
    let author = visitor
        .find(Locator::Css("[role=log] li.theirs:not(.greeting) .author"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(author, "Ana");
    eventually(WAIT, "the Seen state", || async {
        let t = visitor
            .find(Locator::Css("[role=log] li.mine .delivery"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (t == "Seen").then_some(())
    })
    .await;
    browser::screenshot(&visitor, "demo-open-desktop").await;
    // Each app's second part (what a usual session does not run) came once the app had
    // started, once, and linked to the first.
    for (c, app) in [
        (&visitor, "widget/beckon_widget"),
        (&agent, "console/beckon_console"),
    ] {
        assert_second_part_linked(c, app).await;
    }
    assert_clean_console(&visitor, "visitor").await;
    assert_clean_console(&agent, "agent").await;

    // The visitor has a conversation: the page keeps its mark, an empty IndexedDB database
    // (listed at boot without the wait of a first localStorage read).
    visitor.enter_parent_frame().await.unwrap();
    assert_eq!(
        browser::beckon_databases(&visitor).await,
        ["beckon:demo:engaged"]
    );
    // Reload, the pointer away from the launcher: the app loads at once, with no intent; the
    // whole history, in order, exactly once.
    browser::pointer_away(&visitor).await;
    visitor.refresh().await.unwrap();
    eventually(
        WAIT,
        "the app at once for a visitor with a conversation",
        || browser::frame(&visitor),
    )
    .await;
    browser::open_chat(&visitor).await;
    browser::wait_for_log(&visitor, &[&question, &reply]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        browser::log_bodies(&visitor).await,
        [question.clone(), reply.clone()],
        "no duplicates appear later"
    );

    // The inbox list shows the conversation as read by the agent (the index follows a
    // conversation within a few seconds: it is written in batches, off the message path).
    let ours = Api::new(base)
        .conversation_ending_with("demo", &reply)
        .await;
    assert_eq!(ours["unread"], 0);
    assert_eq!(
        ours["page_url"],
        Value::String(format!("{base}/")),
        "the host page is recorded"
    );
    visitor.close().await.unwrap();
    agent.close().await.unwrap();
}

/// Acceptance: on another origin whose CSP allows only the edge in `script-src` and
/// `frame-src` (and nothing else, no `wasm-unsafe-eval`), the widget loads and works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_works_on_a_second_origin_behind_a_strict_csp() {
    let base = &edge::shared().url;
    let host = host_page::serve(base, "demo", Some(host_page::strict_csp(base))).await;
    let c = browser::open(1280, 800).await;
    c.goto(&host.url).await.unwrap();
    let launcher = browser::launcher(&c).await;
    // The launcher is styled (constructable stylesheet) despite style-src falling back to 'none'.
    let (_, _, w, h) = launcher.rectangle().await.unwrap();
    assert_eq!((w.round(), h.round()), (60.0, 60.0));
    browser::open_chat(&c).await;
    let text = unique("Hello from a partner site");
    browser::send_message(&c, &text).await;
    browser::wait_for_log(&c, &[&text]).await;

    let conv = Api::new(base).conversation_ending_with("demo", &text).await;
    assert_eq!(
        conv["page_url"],
        Value::String(host.url.clone()),
        "the host page is recorded"
    );
    let id = beckon_shared::ConversationId::parse(conv["id"].as_str().unwrap()).unwrap();
    let reply = unique("Welcome, partner visitor!");
    Api::new(base).agent_reply(&id, &reply).await;
    browser::wait_for_log(&c, &[&text, &reply]).await;
    browser::screenshot(&c, "second-origin-strict-csp").await;
    assert_clean_console(&c, "strict CSP host").await;
    c.close().await.unwrap();
}

/// The first embed snippet (`/beckon.js` with `data-site`) still works: the loader loads the
/// site's boot script beside itself (two requests before intent), and the chat works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_data_site_snippet_still_works() {
    let base = &edge::shared().url;
    let host = host_page::serve_classic(base, "demo").await;
    let c = browser::open(1280, 800).await;
    c.goto(&host.url).await.unwrap();
    let launcher = browser::launcher(&c).await;
    assert_eq!(
        launcher.attr("aria-label").await.unwrap().as_deref(),
        Some("Open chat")
    );
    let before = host_footprint(&c).await;
    let resources: Vec<String> = serde_json::from_value(before["resources"].clone()).unwrap();
    let ours: Vec<_> = resources.iter().filter(|r| r.starts_with(base)).collect();
    assert_eq!(
        ours,
        [
            &format!("{base}/beckon.js"),
            &format!("{base}/api/v1/sites/demo/boot.js?v=3")
        ],
        "{resources:?}"
    );
    browser::open_chat(&c).await;
    let text = unique("Hello through the first snippet");
    browser::send_message(&c, &text).await;
    browser::wait_for_log(&c, &[&text]).await;
    assert_clean_console(&c, "data-site snippet").await;
    c.close().await.unwrap();
}

/// A sign-out that leaves the page as soon as `shutdown()` says the visitor's forgetting is
/// recorded (the usual logout navigates): the app that forgets the visitor comes by itself on
/// the next page — the `forget` mark outlives the page view — then the page's marks are gone,
/// and the next person starts with an empty conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_that_leaves_the_page_at_once_still_forgets_the_visitor() {
    let base = &edge::shared().url;
    let c = browser::open(1280, 800).await;
    c.goto(&format!("{base}/")).await.unwrap();
    browser::open_chat(&c).await;
    let text = unique("Before I sign out");
    browser::send_message(&c, &text).await;
    browser::wait_for_log(&c, &[&text]).await;
    c.enter_parent_frame().await.unwrap();
    eventually(
        WAIT,
        "the mark of a visitor with a conversation",
        || async { (browser::beckon_databases(&c).await == ["beckon:demo:engaged"]).then_some(()) },
    )
    .await;
    browser::pointer_away(&c).await;
    // (The app `shutdown` loads may be ready before the page has left: it forgets then, and
    // says so in the tab's session storage.)
    c.execute(
        "Beckon.on('ready', () => sessionStorage.setItem('test:forgot', '1'));
         Beckon.shutdown().then(() => location.reload()); return null;",
        vec![],
    )
    .await
    .unwrap();
    let reloaded = || async {
        let nav = c
            .execute(
                "return performance.getEntriesByType('navigation')[0].type;",
                vec![],
            )
            .await
            .ok()?;
        (nav == json!("reload")).then_some(())
    };
    eventually(WAIT, "the next page", reloaded).await;
    // The next page's app, loaded with no intent, forgets — or the first page's did, if it was
    // ready before the page left (the tab's session storage says so, unless that write was
    // lost with the page: then only the conversation below tells).
    let forgot_by = eventually(WAIT, "the app that forgets, with no intent", || async {
        let src = match browser::frame(&c).await {
            Some(f) => f.attr("src").await.ok().flatten(),
            None => None,
        };
        if let Some(src) = src.filter(|s| s.ends_with("&forget=1")) {
            return Some(format!("the next page's app: {src}"));
        }
        let forgot = c
            .execute("return sessionStorage.getItem('test:forgot');", vec![])
            .await
            .ok()?;
        if forgot == json!("1") {
            return Some("the first page's app, before the page left".to_owned());
        }
        let marks = browser::beckon_databases(&c).await;
        (!marks.iter().any(|m| m == "beckon:demo:forget"))
            .then(|| "unknown: no forget mark on the next page".to_owned())
    })
    .await;
    println!("forgotten by {forgot_by}");
    eventually(WAIT, "no forget mark left", || async {
        let marks = browser::beckon_databases(&c).await;
        (!marks.iter().any(|m| m == "beckon:demo:forget")).then_some(())
    })
    .await;
    // Whichever app forgot, no mark stays: an `engaged` whose removal left with the first page
    // brings the next page's app at once, which says it has no conversation.
    eventually(WAIT, "the page's marks removed", || async {
        browser::beckon_databases(&c).await.is_empty().then_some(())
    })
    .await;
    browser::open_chat(&c).await;
    assert_eq!(
        browser::log_bodies(&c).await,
        Vec::<String>::new(),
        "the next person sees the signed-out visitor's conversation: not forgotten ({forgot_by})"
    );
    c.close().await.unwrap();
}

/// A mark of a visitor with a conversation that has none (its removal was lost with a page that
/// left, or it came from elsewhere): the app it brings at once says so, the mark goes, and the
/// next page view waits for intent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mark_of_a_conversation_that_is_not_there_goes_once_the_app_starts() {
    let base = &edge::shared().url;
    let api = Api::new(base);
    // A site with no rules: nothing but the mark or intent loads its app.
    let site = format!("mark-{}", beckon_tests::free_port());
    api.create_site(&site).await;
    let host = host_page::serve(base, &site, None).await;
    let c = browser::open(1280, 800).await;
    c.goto(&host.url).await.unwrap();
    browser::pointer_away(&c).await;
    let mark = format!("beckon:{site}:engaged");
    c.execute_async(
        "const [name, done] = arguments;
         const r = indexedDB.open(name);
         r.onsuccess = () => { r.result.close(); done(null); };",
        vec![json!(mark)],
    )
    .await
    .unwrap();
    assert_eq!(
        browser::beckon_databases(&c).await,
        std::slice::from_ref(&mark)
    );
    c.refresh().await.unwrap();
    eventually(WAIT, "the app at once, for the mark", || browser::frame(&c)).await;
    eventually(WAIT, "the mark removed by the app", || async {
        browser::beckon_databases(&c).await.is_empty().then_some(())
    })
    .await;
    c.refresh().await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        browser::frame(&c).await.is_none(),
        "an app loaded with no mark and no intent"
    );
    // The visitor writes: the mark is back.
    browser::open_chat(&c).await;
    let text = unique("Hello after the mark went");
    browser::send_message(&c, &text).await;
    browser::wait_for_log(&c, &[&text]).await;
    c.enter_parent_frame().await.unwrap();
    eventually(
        WAIT,
        "the mark of a visitor with a conversation",
        || async { (browser::beckon_databases(&c).await == [mark.clone()]).then_some(()) },
    )
    .await;
    c.close().await.unwrap();
}

/// On a phone-sized viewport the panel fills the screen, and closes back to the launcher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrow_viewport_gets_a_full_screen_panel() {
    let base = &edge::shared().url;
    let c = browser::open(375, 740).await;
    c.goto(&format!("{base}/")).await.unwrap();
    browser::launcher(&c).await;
    browser::screenshot(&c, "demo-closed-mobile").await;
    browser::open_chat(&c).await;
    let text = unique("Ordering from my phone");
    browser::send_message(&c, &text).await;
    browser::wait_for_log(&c, &[&text]).await;
    browser::screenshot(&c, "demo-open-mobile").await;
    c.enter_parent_frame().await.unwrap();
    let size: Value = c
        .execute(
            "const f = document.querySelector('#beckon-root').shadowRoot.querySelector('iframe').getBoundingClientRect();
             return [f.width, f.height, innerWidth, innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let v: Vec<f64> = serde_json::from_value(size).unwrap();
    assert_eq!((v[0], v[1]), (v[2], v[3]), "panel covers the viewport");

    // Close from inside the app (its own button): back to the launcher, focus on it.
    browser::enter_chat(&c).await;
    c.find(Locator::Css("button[aria-label='Close chat']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.enter_parent_frame().await.unwrap();
    let launcher = browser::launcher(&c).await;
    eventually(WAIT, "the launcher back", || async {
        let label = launcher.attr("aria-label").await.ok()??;
        label.starts_with("Open chat").then_some(())
    })
    .await;
    assert!(launcher.is_displayed().await.unwrap());
    assert_clean_console(&c, "mobile").await;
    c.close().await.unwrap();
}

/// The inbox loads without its rarely used pages; the first one opened brings them (one
/// download however many are opened), each shown alone in `#pages` — also when another was
/// chosen before the first had arrived — and gone when the agent goes back to the
/// conversations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_pages_load_on_first_use_one_at_a_time() {
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = format!("lazy-{}", beckon_tests::free_port());
    api.create_site(&site).await;
    let agent = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Conversations").await;
    let fetched = || async {
        agent
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)
                   .filter(n => n.includes('beckon_console_pages'));",
                vec![],
            )
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().rsplit('/').next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(
        fetched().await.is_empty(),
        "nothing of the pages before one is opened"
    );

    // Rules, then Channels a moment later (before the pages arrived): only Channels shows.
    agent
        .execute(
            "const b = l => [...document.querySelectorAll('nav[aria-label=Views] button')]
                 .find(x => x.textContent === l);
             b('Rules').click();
             setTimeout(() => b('Channels').click(), 15);",
            vec![],
        )
        .await
        .unwrap();
    let shown = || async {
        agent
            .execute(
                "const p = document.getElementById('pages');
                 return [p.children.length, [...p.querySelectorAll('h2')].map(h => h.textContent),
                         getComputedStyle(p).display, document.body.className];",
                vec![],
            )
            .await
            .unwrap()
    };
    let channels = eventually(WAIT, "the Channels page", || async {
        let s = shown().await;
        (s[1] == json!(["Channels"])).then_some(s)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(shown().await, channels, "and nothing else arrives after it");
    assert_eq!(channels[0], 1, "one page: {channels:?}");
    assert_eq!(channels[2], "block");
    assert_eq!(channels[3], "paged");

    browser::open_inbox_view(&agent, &site, "Dashboard").await;
    eventually(WAIT, "the Dashboard page alone", || async {
        let s = shown().await;
        (s[0] == 1 && s[1].as_array().unwrap().first() == Some(&json!("Dashboard"))).then_some(())
    })
    .await;
    browser::screenshot(&agent, "inbox-dashboard-lazy").await;
    let mut files = fetched().await;
    files.sort();
    assert_eq!(
        files,
        ["beckon_console_pages.js", "beckon_console_pages_bg.wasm"],
        "the pages downloaded once"
    );

    browser::open_inbox_view(&agent, &site, "Conversations").await;
    let back = eventually(WAIT, "the pages put away", || async {
        let s = shown().await;
        (s[0] == 0).then_some(s)
    })
    .await;
    assert_eq!(back[2], "none");
    assert_eq!(back[3], "");
    agent
        .find(Locator::Css("input[aria-label='Search messages']"))
        .await
        .expect("the conversations are back");

    // Settings at tablet and phone widths: below the bar on a tablet; on a phone the whole
    // page scrolls (the bar, three rows high there, does not stay and take the screen).
    for (w, h, name) in [(820, 1000, "tablet"), (375, 667, "375")] {
        agent.set_window_size(w, h).await.unwrap();
        browser::open_inbox_view(&agent, &site, "Channels").await;
        eventually(WAIT, "the Channels page", || async {
            (shown().await[1] == json!(["Channels"])).then_some(())
        })
        .await;
        let layout = agent
            .execute(
                "const p = document.getElementById('pages');
                 const bar = document.querySelector('header.bar').getBoundingClientRect();
                 return [getComputedStyle(p).overflowY,
                         Math.round(p.getBoundingClientRect().top - bar.bottom)];",
                vec![],
            )
            .await
            .unwrap();
        let scrolls = if w < 720 { "visible" } else { "auto" };
        assert_eq!(layout, json!([scrolls, 0]), "{name}: right below the bar");
        browser::screenshot(&agent, &format!("inbox-settings-{name}")).await;
    }
    assert_clean_console(&agent, "pages loaded on first use").await;
    agent.close().await.unwrap();
}

/// Settings → Channels in the inbox: set up Slack through the form, send a test message
/// through the (fake) Slack API, and see a failing channel flagged in the top bar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_channel_settings_set_up_test_and_flag_a_failing_channel() {
    use beckon_tests::fakes::slack::FakeSlack;
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = format!("ui-{}", beckon_tests::free_port());
    api.create_site(&site).await;
    let slack = FakeSlack::start("xoxb-ui-token", &["C0UI"]).await;

    let agent = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Channels").await;
    let card = agent
        .wait()
        .for_element(Locator::Css("form[aria-labelledby=slack-h]"))
        .await
        .unwrap();
    assert_eq!(
        card.find(Locator::Css(".badge"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Not set up"
    );
    browser::save_channel_card(
        &agent,
        "slack",
        &[
            ("channel_id", "C0UI"),
            ("bot_token", "xoxb-ui-token"),
            ("signing_secret", "ui-signing"),
            ("api_base", slack.base.as_str()),
        ],
    )
    .await;
    let card_text = |want: &'static str| browser::channel_card_with(&agent, "slack", want);
    let card = eventually(WAIT, "the saved channel", || card_text("Webhook URL")).await;
    assert!(card
        .text()
        .await
        .unwrap()
        .contains(&format!("/hooks/slack/{site}")));
    let secret_box = card.find(Locator::Id("slack-bot_token")).await.unwrap();
    assert_eq!(
        secret_box.prop("value").await.unwrap().as_deref(),
        Some(""),
        "secrets are never shown back"
    );

    card.find(Locator::XPath(".//button[.='Send test message']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the test message", || async {
        (!slack.posted().is_empty()).then_some(())
    })
    .await;
    eventually(WAIT, "the Working badge", || card_text("Working")).await;

    slack.break_with(Some("invalid_auth"));
    let card = agent
        .find(Locator::Css("form[aria-labelledby=slack-h]"))
        .await
        .unwrap();
    card.find(Locator::XPath(".//button[.='Send test message']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the failing badge", || {
        card_text("Relays are failing: slack: invalid_auth")
    })
    .await;
    let alert = eventually(WAIT, "the top-bar alert", || async {
        agent.find(Locator::Css("header.bar .alert")).await.ok()
    })
    .await;
    assert_eq!(alert.text().await.unwrap(), "Slack relay failing");
    browser::screenshot(&agent, "inbox-channels").await;
    assert_clean_console(&agent, "channels page").await;
    agent.close().await.unwrap();
}

/// In the inbox's Contacts view: opens the "Write on {channel}" form of contact `name`, types
/// `text`, takes screenshot `shot` and sends. Returns what the contact's row showed first.
async fn write_first_to_contact(
    agent: &Client,
    name: &str,
    channel: &str,
    text: &str,
    shot: &str,
) -> String {
    let row = agent
        .wait()
        .for_element(Locator::XPath(&format!(
            "//li[contains(@class,'contact')][.//strong[.='{name}']]"
        )))
        .await
        .unwrap();
    let shown = row.text().await.unwrap();
    row.find(Locator::XPath(&format!(
        ".//button[.='Write on {channel}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    row.find(Locator::Css("textarea"))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
    browser::screenshot(agent, shot).await;
    row.find(Locator::XPath(&format!(".//button[.='Send on {channel}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shown
}

/// The webhook secret of the Telegram channels the inbox tests set up.
const UI_TG_SECRET: &str = "ui-tg-secret_0123456789abcdef01234";

/// Sets up Telegram for `site`, relaying to forum `chat_id` through `tg`.
async fn telegram_channel(
    api: &Api,
    site: &str,
    tg: &beckon_tests::fakes::telegram::FakeTelegram,
    chat_id: i64,
) {
    let r = api
        .send(
            api.admin(
                reqwest::Method::PUT,
                &format!("/api/v1/admin/sites/{site}/channels/telegram"),
            )
            .json(&json!({
                "settings": {"kind": "telegram", "chat_id": chat_id, "api_base": tg.base},
                "secrets": {"kind": "telegram", "bot_token": tg.token, "webhook_secret": UI_TG_SECRET}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// The inbox's Contacts view: a visitor the site identified and a person who started the
/// site's Telegram bot are listed; the agent writes first on WhatsApp (the conversation opens
/// and the contact receives the approved template) and on Telegram (into the private chat).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_writes_first_to_known_contacts_on_whatsapp_and_telegram() {
    use beckon_tests::fakes::telegram::FakeTelegram;
    use beckon_tests::fakes::whatsapp::FakeWhatsapp;
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = format!("contacts-{}", beckon_tests::free_port());
    api.create_site(&site).await;
    let fake = FakeWhatsapp::start("EAAG-ui", "106540352242999", &["new_website_chat"]).await;
    let wa = api
        .send(
            api.admin(
                reqwest::Method::PUT,
                &format!("/api/v1/admin/sites/{site}/channels/whatsapp"),
            )
            .json(&json!({
                "settings": {"kind": "whatsapp", "phone_number_id": fake.phone_number_id, "agent_numbers": ["16505550000"],
                             "template_name": "new_website_chat", "api_base": fake.base},
                "secrets": {"kind": "whatsapp", "access_token": fake.token, "app_secret": "ui-app-secret", "verify_token": "ui-verify"}})),
        )
        .await;
    assert_eq!(wa.status, 200, "{:?}", wa.body);
    let v = api.start_conversation(&site, None).await;
    let identified = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/identify"))
                .bearer_auth(&v.visitor_token)
                .json(&json!({"name": "Ana Lima", "email": "ana@example.com", "phone": "+55 11 91234 5678"})),
        )
        .await;
    assert_eq!(identified.status, 200, "{:?}", identified.body);
    // Maria started the site's Telegram bot.
    let tg = FakeTelegram::start("777002:ui").await;
    telegram_channel(&api, &site, &tg, -1009876543210).await;
    let start = tg.private_update(5550003, "Maria", Some("maria_l"), "/start");
    assert_eq!(
        FakeTelegram::deliver(
            &format!("{base}/hooks/telegram/{site}"),
            Some(UI_TG_SECRET),
            &start
        )
        .await,
        200
    );

    let agent = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Contacts").await;
    let shown = write_first_to_contact(
        &agent,
        "Ana Lima",
        "WhatsApp",
        "Hi Ana, your beans shipped today!",
        "inbox-contacts",
    )
    .await;
    assert!(shown.contains("+5511912345678"), "{shown}");
    assert!(!shown.contains("Write on Telegram"), "{shown}");
    let sent = eventually(WAIT, "the template to the contact", || async {
        fake.sent().into_iter().find(|s| s.to == "5511912345678")
    })
    .await;
    assert_eq!(sent.kind, "template");
    assert!(sent.text.contains("Hi Ana, your beans shipped today!"));
    // The new conversation is open in the inbox, with the agent's message in it.
    eventually(WAIT, "the conversation open", || async {
        let pane = agent.find(Locator::Css(".conversation")).await.ok()?;
        let text = pane.text().await.ok()?;
        text.contains("Hi Ana, your beans shipped today!")
            .then_some(())
    })
    .await;

    // Maria, on Telegram.
    browser::open_inbox_view(&agent, &site, "Contacts").await;
    let shown = write_first_to_contact(
        &agent,
        "Maria",
        "Telegram",
        "Hi Maria, thanks for starting our bot!",
        "inbox-contacts-telegram",
    )
    .await;
    assert!(shown.contains("Telegram @maria_l"), "{shown}");
    assert!(
        !shown.contains("Write on WhatsApp"),
        "no phone, no WhatsApp: {shown}"
    );
    let sent = eventually(WAIT, "the message in Maria's private chat", || async {
        tg.private_messages(5550003)
            .into_iter()
            .find(|s| s.text.contains("thanks for starting our bot"))
    })
    .await;
    assert!(
        sent.text
            .ends_with("</b>: Hi Maria, thanks for starting our bot!"),
        "{}",
        sent.text
    );
    // The inbox lists it as held on Telegram (answers go to her chat, not to a widget).
    eventually(WAIT, "the conversation listed on Telegram", || async {
        let item = agent
            .find(Locator::XPath(
                "//button[contains(@class,'conv')][contains(., 'thanks for starting our bot')]",
            ))
            .await
            .ok()?;
        let text = item.text().await.ok()?;
        text.contains("started by an agent · on Telegram")
            .then_some(())
    })
    .await;
    assert_clean_console(&agent, "contacts page").await;
    agent.close().await.unwrap();
}

/// A visitor on the demo page (desktop) whose conversation starts with `text`.
async fn visitor_who_said(base: &str, text: &str) -> Client {
    let visitor = browser::open(1280, 800).await;
    visitor.goto(&format!("{base}/")).await.unwrap();
    browser::open_chat(&visitor).await;
    browser::send_message(&visitor, text).await;
    browser::wait_for_log(&visitor, &[text]).await;
    visitor
}

/// Waits until the log shows `n` files, all pictures decoded; returns them.
async fn wait_for_files(c: &Client, n: usize) -> Vec<(String, String, bool)> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let files = browser::log_files(c).await;
        if files.len() == n && files.iter().all(|f| f.2) {
            return files;
        }
        if std::time::Instant::now() > deadline {
            let notice = c
                .execute(
                    "return [...document.querySelectorAll('.notice, .upload')].map(n => n.textContent)",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            let probe = c
                .execute_async(
                    r#"const done = arguments[arguments.length - 1];
                       const bad = [...document.querySelectorAll('[role=log] .file.image img')].filter(i => !(i.complete && i.naturalWidth > 0));
                       Promise.all(bad.map(i => fetch(i.src).then(async r => [i.src, r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength]).catch(e => [i.src, String(e)])))
                         .then(done);"#,
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            panic!("expected {n} files shown, got {files:?}; notices and uploads: {notice}; undecoded: {probe}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Acceptance (files): on the demo page the visitor attaches a PNG with the button, pastes a
/// screenshot and drops an MP4 and a PDF; each shows progress, then its preview; the agent
/// sees them in the inbox and answers with a JPEG that the visitor sees without a reload; after
/// a reload every preview is there, in order, once — at desktop size and at 375 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_and_agent_exchange_photos_videos_and_documents() {
    use beckon_tests::files;
    let base = &edge::shared().url;
    let hello = unique("Here are the photos of the grinder");
    let visitor = visitor_who_said(base, &hello).await;
    browser::watch_progress(&visitor).await;

    // The button: a real file picked through the file input.
    let photo = std::env::temp_dir().join(format!("grinder-{}.png", beckon_tests::free_port()));
    std::fs::write(&photo, files::solid_png(480, 360, [15, 118, 110])).unwrap();
    let photo_name = photo.file_name().unwrap().to_str().unwrap().to_owned();
    let button = visitor
        .find(Locator::Css("button[aria-label='Attach a file']"))
        .await
        .expect("the attach button");
    assert!(button.is_displayed().await.unwrap());
    visitor
        .find(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .expect("pick a file");
    wait_for_files(&visitor, 1).await;
    // A pasted screenshot, then a dropped video and a dropped PDF.
    let shot = files::solid_png(800, 500, [245, 158, 11]);
    browser::give_file(&visitor, &shot, "screenshot.png", "image/png", "paste").await;
    wait_for_files(&visitor, 2).await;
    browser::give_file(
        &visitor,
        &files::mp4(1_500_000),
        "clip.mp4",
        "video/mp4",
        "drop",
    )
    .await;
    wait_for_files(&visitor, 3).await;
    browser::give_file(
        &visitor,
        &files::pdf(300_000),
        "price-list.pdf",
        "application/pdf",
        "drop",
    )
    .await;
    let shown = wait_for_files(&visitor, 4).await;
    let names: Vec<_> = shown.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect();
    assert_eq!(
        names,
        [
            ("image", photo_name.as_str()),
            ("image", "screenshot.png"),
            ("video", "clip.mp4"),
            ("doc", "price-list.pdf")
        ]
    );
    let progress = browser::progress_seen(&visitor).await;
    for name in [
        photo_name.as_str(),
        "screenshot.png",
        "clip.mp4",
        "price-list.pdf",
    ] {
        assert!(
            progress.contains(&format!("Sending {name}")),
            "no progress shown for {name}: {progress:?}"
        );
    }
    browser::screenshot(&visitor, "files-visitor-desktop").await;

    // The agent sees the same previews in the inbox and answers with a JPEG.
    let agent = browser::open(1280, 800).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    let item = eventually(WAIT, "the conversation in the inbox list", || async {
        for b in agent
            .find_all(Locator::Css("nav[aria-label=Conversations] button.conv"))
            .await
            .ok()?
        {
            if b.text().await.ok()?.contains(&hello) || b.text().await.ok()?.contains("price-list")
            {
                return Some(b);
            }
        }
        None
    })
    .await;
    item.click().await.unwrap();
    assert_eq!(wait_for_files(&agent, 4).await, shown);
    agent
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const c = document.createElement('canvas'); c.width = 400; c.height = 300;
               const g = c.getContext('2d'); g.fillStyle = '#f59e0b'; g.fillRect(0, 0, 400, 300);
               g.fillStyle = '#111'; g.font = 'bold 36px sans-serif'; g.fillText('Blend No. 4', 80, 160);
               c.toBlob(b => {
                 const dt = new DataTransfer(); dt.items.add(new File([b], 'blend-no-4.jpg', { type: 'image/jpeg' }));
                 document.querySelector("textarea[aria-label='Message']")
                   .dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt }));
                 done(true);
               }, 'image/jpeg', 0.9);"#,
            vec![],
        )
        .await
        .unwrap();
    wait_for_files(&agent, 5).await;
    browser::screenshot(&agent, "files-inbox-desktop").await;

    // The visitor sees the JPEG live.
    let live = wait_for_files(&visitor, 5).await;
    assert_eq!(live[4].1, "blend-no-4.jpg");
    assert_clean_console(&visitor, "visitor").await;
    assert_clean_console(&agent, "agent").await;

    // After a reload: every preview, in order, once — and at 375 px too.
    visitor.enter_parent_frame().await.unwrap();
    visitor.refresh().await.unwrap();
    browser::open_chat(&visitor).await;
    assert_eq!(wait_for_files(&visitor, 5).await, live);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        browser::log_files(&visitor).await,
        live,
        "no duplicates appear later"
    );
    visitor.enter_parent_frame().await.unwrap();
    visitor.set_window_size(375, 667).await.unwrap();
    visitor.refresh().await.unwrap();
    browser::open_chat(&visitor).await;
    assert_eq!(wait_for_files(&visitor, 5).await, live);
    browser::screenshot(&visitor, "files-visitor-375").await;
    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    let _ = std::fs::remove_file(photo);
}

/// Acceptance (files): a 30 MB video whose connection is cut twice mid-way completes by
/// resuming (parts already stored are not sent again), and the stored object is
/// byte-identical (SHA-256 compared).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_mb_video_survives_two_cuts_and_arrives_byte_identical() {
    use beckon_tests::files;
    use beckon_tests::tap::cdp;
    const LEN: usize = 30 * 1024 * 1024;
    let base = &edge::shared().url;
    let hello = unique("Video of the noise my grinder makes");
    let visitor = visitor_who_said(base, &hello).await;
    // A train's connection: ~6 MB/s up, so the upload takes a few seconds.
    cdp(&visitor, "Network.enable", json!({})).await;
    let online = json!({"offline": false, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 6_000_000});
    cdp(&visitor, "Network.emulateNetworkConditions", online.clone()).await;
    // Every part request and how it ended (status 0: cut).
    visitor
        .execute(
            r#"window.__puts = [];
               const open = XMLHttpRequest.prototype.open;
               XMLHttpRequest.prototype.open = function (method, url) {
                 if (method === 'PUT') this.addEventListener('loadend', () => window.__puts.push([url.split('/parts/')[1], this.status]));
                 return open.apply(this, arguments);
               };
               return true;"#,
            vec![],
        )
        .await
        .unwrap();
    // The same bytes as files::mp4(LEN), made in the page (30 MB do not go through WebDriver).
    visitor
        .execute(
            r#"const len = arguments[0];
               const head = [0, 0, 0, 0x18, ...new TextEncoder().encode('ftypisom'), 0, 0, 2, 0, ...new TextEncoder().encode('isomiso2')];
               const u8 = new Uint8Array(len); u8.set(head);
               let x = (Math.imul(11, 2654435761 | 0) + 1) >>> 0;
               for (let i = head.length; i < len; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; u8[i] = (x >>> 16) & 255; }
               const dt = new DataTransfer(); dt.items.add(new File([u8], 'grinder-noise.mp4', { type: 'video/mp4' }));
               document.querySelector('[role=log]').dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
               return true;"#,
            vec![json!(LEN)],
        )
        .await
        .unwrap();
    let sent = || async {
        visitor
            .execute(
                "const p = document.querySelector('progress'); return p ? +p.value : null",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_f64())
    };
    // Cut the connection twice, each time once more of the file has gone.
    for at in [8.0, 18.0] {
        eventually(
            Duration::from_secs(60),
            "progress past the cut point",
            || async { sent().await.filter(|s| *s > at * 1024.0 * 1024.0) },
        )
        .await;
        let offline =
            json!({"offline": true, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0});
        cdp(&visitor, "Network.emulateNetworkConditions", offline).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        cdp(&visitor, "Network.emulateNetworkConditions", online.clone()).await;
    }
    let shown = wait_for_files(&visitor, 1).await;
    assert_eq!(shown[0].1, "grinder-noise.mp4");
    // Resumed, not restarted: two part requests were cut, each cut part was sent again,
    // and every part stored before a cut was sent once.
    let puts: Vec<(String, u16)> = serde_json::from_value(
        visitor
            .execute("return window.__puts", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    let cut: Vec<&str> = puts
        .iter()
        .filter(|p| p.1 == 0)
        .map(|p| p.0.as_str())
        .collect();
    assert!(
        cut.len() >= 2,
        "the connection was not cut mid-part twice: {puts:?}"
    );
    for n in 1..=6 {
        let ok = puts
            .iter()
            .filter(|p| p.0 == n.to_string() && p.1 == 200)
            .count();
        assert_eq!(ok, 1, "part {n} stored {ok} times: {puts:?}");
    }
    let first_cut: usize = cut[0].parse().unwrap();
    for n in 1..first_cut {
        let tries = puts.iter().filter(|p| p.0 == n.to_string()).count();
        assert_eq!(tries, 1, "part {n} was sent again after the cut: {puts:?}");
    }
    // The stored object is the file, byte for byte.
    let url: String = serde_json::from_value(
        visitor
            .execute(
                "return document.querySelector('[role=log] video.file').getAttribute('src')",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let stored = reqwest::get(format!("{base}{url}"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored.len(), LEN);
    assert_eq!(files::sha256(&stored), files::sha256(&files::mp4(LEN)));
    visitor.close().await.unwrap();
}

/// Sets `bytes` as the file chosen in the page's `input[type=file]` matching `selector`, as
/// a person picking it would (a `change` event).
async fn choose_file(c: &Client, selector: &str, bytes: &[u8], name: &str, mime: &str) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    c.execute(
        r#"const [sel, b64, name, type] = arguments;
           const bin = atob(b64); const u8 = new Uint8Array(bin.length);
           for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
           const dt = new DataTransfer(); dt.items.add(new File([u8], name, { type }));
           const input = document.querySelector(sel); input.files = dt.files;
           input.dispatchEvent(new Event('change', { bubbles: true }));
           return true;"#,
        vec![json!(selector), json!(b64), json!(name), json!(mime)],
    )
    .await
    .expect("choose a file");
}

async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[tokio::test]
async fn inbox_broadcast_with_a_pdf_from_compose_to_results() {
    use beckon_tests::fakes::telegram::FakeTelegram;
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = format!("bcast-ui-{}", beckon_tests::free_port());
    api.create_site(&site).await;
    let tg = FakeTelegram::start("777003:ui-broadcast").await;
    let secret = UI_TG_SECRET;
    telegram_channel(&api, &site, &tg, -1009876543299).await;
    for u in 0..5 {
        let start = tg.private_update(6_600_000 + u, &format!("Buyer{u}"), None, "/start");
        let hook = format!("{base}/hooks/telegram/{site}");
        assert_eq!(
            FakeTelegram::deliver(&hook, Some(secret), &start).await,
            200
        );
    }
    for _ in 0..3 {
        api.start_conversation(&site, None).await;
    }

    let agent = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Broadcasts").await;
    let field = |css: &'static str| {
        let agent = agent.clone();
        async move { agent.wait().for_element(Locator::Css(css)).await.unwrap() }
    };
    field("form.broadcast-form input[type=text]")
        .await
        .send_keys("Price list\u{E004}")
        .await
        .unwrap();
    let message = field("form.broadcast-form textarea").await;
    message.clear().await.unwrap();
    message
        .send_keys("Hi {{first_name|there}}, our new price list is attached.\u{E004}")
        .await
        .unwrap();
    choose_file(
        &agent,
        "form.broadcast-form input[type=file]",
        &files::pdf(180_000),
        "price-list.pdf",
        "application/pdf",
    )
    .await;
    let chip = eventually(Duration::from_secs(30), "the uploaded file", || async {
        let chip = text_of(&agent, ".file-chip").await;
        let error = text_of(&agent, "form.broadcast-form .error").await;
        assert!(error.is_empty(), "{error}");
        (!chip.is_empty()).then_some(chip)
    })
    .await;
    assert!(chip.starts_with("price-list.pdf"), "{chip}");
    // The recipient count and what each channel shows.
    let (count, previews) = eventually(
        Duration::from_secs(30),
        "the preview with the file",
        || async {
            let t = text_of(&agent, "form.broadcast-form .preview .count").await;
            let p = text_of(&agent, ".previews").await;
            (t.starts_with("8 recipients") && p.contains("price-list.pdf")).then_some((t, p))
        },
    )
    .await;
    assert!(count.contains("Telegram 5 · Website chat 3"), "{count}");
    assert!(
        previews.contains("Telegram") && previews.contains("Website chat"),
        "{previews}"
    );
    assert!(
        previews.contains("Hi Buyer"),
        "variables filled: {previews}"
    );
    assert!(previews.contains("price-list.pdf"), "{previews}");
    // Quiet hours are on by default; off here, so the test does not depend on the hour it
    // runs at (the waiting they cause is shown below, with a send time in the future).
    let quiet = agent
        .find(Locator::XPath(
            "//form[contains(@class,'broadcast-form')]//label[contains(.,'Quiet hours')]/input",
        ))
        .await
        .unwrap();
    assert_eq!(
        quiet.prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    quiet.click().await.unwrap();
    browser::screenshot(&agent, "inbox-broadcast-compose").await;
    agent
        .find(Locator::Css("form.broadcast-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The progress bar reaches 100 %; the funnel shows what went out.
    let started = std::time::Instant::now();
    loop {
        let pct = text_of(&agent, ".progress-row .pct").await;
        let status = text_of(&agent, "#results-h .status").await;
        if pct == "100 %" && status == "done" {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let list = api
                .send(api.admin(
                    reqwest::Method::GET,
                    &format!("/api/v1/admin/sites/{site}/broadcasts"),
                ))
                .await;
            browser::screenshot(&agent, "inbox-broadcast-stuck").await;
            panic!(
                "the broadcast not sent in 60 s: {pct:?} {status:?} {}",
                list.body
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let funnel = agent
        .find(Locator::Css(".results svg.funnel"))
        .await
        .unwrap()
        .attr("aria-label")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        funnel.starts_with("Funnel: 8 recipients, 8 sent"),
        "{funnel}"
    );
    browser::screenshot(&agent, "inbox-broadcast-results").await;
    assert!(
        text_of(&agent, ".results .waiting").await.is_empty(),
        "nothing waits once all went out"
    );
    agent.set_window_size(375, 740).await.unwrap();
    browser::screenshot(&agent, "inbox-broadcast-results-375").await;
    // A second one, for 3 hours from now where they are (no time zone: UTC): it runs, and the
    // page says why nothing is going out yet.
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    };
    let later = {
        let t = (now_ms() / 60_000 + 180) % (24 * 60);
        format!("{:02}:{:02}", t / 60, t % 60)
    };
    let r = api
        .send(
            api.admin(
                reqwest::Method::POST,
                &format!("/api/v1/admin/sites/{site}/broadcasts"),
            )
            .json(&serde_json::json!({
                "name": "Later today",
                "text": "See you at the shop.",
                "channels": ["web"],
                "schedule": {"local_time": later}
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["status"], "running", "{:?}", r.body);
    let next_at = r.body["next_at"]
        .as_i64()
        .expect("next_at while someone waits");
    let ahead = next_at - now_ms();
    assert!(
        (2 * 3_600_000..4 * 3_600_000).contains(&ahead),
        "due in {ahead} ms"
    );
    agent
        .find(Locator::XPath("//button[.='← All broadcasts']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let listed = eventually(WAIT, "the broadcast in the list", || async {
        let t = text_of(&agent, ".broadcast-list").await;
        (t.contains("8 of 8 sent") && t.contains("Later today")).then_some(t)
    })
    .await;
    assert!(
        listed.contains("Price list") && listed.contains("done"),
        "{listed}"
    );
    agent
        .find(Locator::XPath(
            "//ul[@class='broadcast-list']//button[.='Later today']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let waiting = text_shown(&agent, ".results .waiting", "the waiting note").await;
    assert!(
        waiting.starts_with("Waiting: the next recipients are due "),
        "{waiting}"
    );
    browser::screenshot(&agent, "inbox-broadcast-waiting-375").await;
    let r = api
        .send(api.admin(
            reqwest::Method::POST,
            &format!(
                "/api/v1/admin/sites/{site}/broadcasts/{}/cancel",
                r.body["id"].as_str().unwrap()
            ),
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    agent
        .find(Locator::XPath("//button[.='← All broadcasts']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser::screenshot(&agent, "inbox-broadcast-compose-375").await;
    let documents = tg
        .sent()
        .into_iter()
        .filter(|s| s.file.as_ref().is_some_and(|(m, _)| m == "senddocument"))
        .count();
    assert_eq!(documents, 5);
    assert_clean_console(&agent, "inbox broadcasts").await;
    agent.close().await.unwrap();
}

/// The text of `css` once it shows some (within [`WAIT`]).
async fn text_shown(c: &Client, css: &str, what: &str) -> String {
    eventually(WAIT, what, || async {
        let t = text_of(c, css).await;
        (!t.is_empty()).then_some(t)
    })
    .await
}

/// Text of every element matching `css`, in order.
async fn texts_of(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await.unwrap_or_default() {
        out.push(e.text().await.unwrap_or_default());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audiences_contacts_search_and_a_visitor_answers_a_broadcast_button() {
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = format!("aud-ui-{}", beckon_tests::free_port());
    api.create_site(&site).await;
    let import = api
        .send(
            api.admin(reqwest::Method::POST, &format!("/api/v1/admin/sites/{site}/contact-imports"))
                .header("content-type", "text/csv")
                .body("name,phone,whatsapp_opt_in,tags\nAna Souza,+5511900000001,yes,vip;customer\nBo Berg,+4915100000002,no,vip\nCy Chan,+6281200000003,yes,lead\n"),
        )
        .await;
    assert_eq!(import.status, 200, "{:?}", import.body);

    // A visitor chats on the site's page.
    let host = host_page::serve(base, &site, None).await;
    let visitor = browser::open(1280, 800).await;
    visitor.goto(&host.url).await.unwrap();
    browser::open_chat(&visitor).await;
    let hello = unique("Hello there");
    browser::send_message(&visitor, &hello).await;
    browser::wait_for_log(&visitor, &[&hello]).await;

    // The agent saves an audience, counted live while it is written.
    let agent = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Audiences").await;
    let inputs = agent
        .wait()
        .for_element(Locator::Css("form.audience-form input[type=text]"))
        .await
        .unwrap();
    inputs.send_keys("VIP customers\u{E004}").await.unwrap();
    let tags = agent
        .find_all(Locator::Css("form.audience-form input[type=text]"))
        .await
        .unwrap()[1]
        .clone();
    tags.send_keys("vip\u{E004}").await.unwrap();
    let count = eventually(WAIT, "the live count", || async {
        let t = text_of(&agent, "form.audience-form .count").await;
        t.starts_with("2 contacts").then_some(t)
    })
    .await;
    assert!(count.contains("WhatsApp 1"), "{count}");
    browser::screenshot(&agent, "inbox-audiences-form").await;
    agent
        .find(Locator::Css("form.audience-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let saved = eventually(WAIT, "the saved audience", || async {
        let t = text_of(&agent, ".audience-list").await;
        t.contains("VIP customers").then_some(t)
    })
    .await;
    assert!(
        saved.contains("tagged vip") && saved.contains("2 contacts"),
        "{saved}"
    );
    browser::screenshot(&agent, "inbox-audiences").await;

    // Contacts: searched, with their tags and consent.
    browser::open_inbox_view(&agent, &site, "Contacts").await;
    let search = agent
        .wait()
        .for_element(Locator::Css(".contact-search input[type=search]"))
        .await
        .unwrap();
    search.send_keys("Souza\u{E004}").await.unwrap();
    eventually(WAIT, "the search result", || async {
        let names = texts_of(&agent, ".contact .where strong").await;
        (names == ["Ana Souza"]).then_some(())
    })
    .await;
    let row = text_of(&agent, ".contact").await;
    assert!(row.contains("vip") && row.contains("customer"), "{row}");
    assert!(row.contains("WhatsApp: opted in (import"), "{row}");
    browser::screenshot(&agent, "inbox-contacts-search").await;
    agent.set_window_size(375, 740).await.unwrap();
    browser::screenshot(&agent, "inbox-contacts-search-375").await;
    agent.set_window_size(1280, 900).await.unwrap();

    // The visitor leaves; a broadcast to the website's visitors, with a reply and a link
    // button, waits behind the launcher's unread badge on their next visit.
    visitor.goto("about:blank").await.unwrap();
    let r = api
        .send(
            api.admin(reqwest::Method::POST, &format!("/api/v1/admin/sites/{site}/broadcasts"))
                .json(&serde_json::json!({
                    "name": "Buttons", "text": "Our autumn sale starts today!", "channels": ["web"],
                    "buttons": [{"label": "Yes please", "action": "reply"},
                                {"label": "See the sale", "action": "link", "url": "https://shop.example/sale"}]
                })),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "sent", || async {
        let b = api
            .send(api.admin(
                reqwest::Method::GET,
                &format!("/api/v1/admin/sites/{site}/broadcasts/{id}"),
            ))
            .await;
        (b.body["total"]["sent"] == 1).then_some(())
    })
    .await;
    visitor.goto(&host.url).await.unwrap();
    let label = eventually(WAIT, "the unread badge", || async {
        let l = browser::launcher(&visitor)
            .await
            .attr("aria-label")
            .await
            .ok()??;
        l.contains("(1 unread)").then_some(l)
    })
    .await;
    assert_eq!(label, "Open chat (1 unread)");
    browser::screenshot(&visitor, "widget-broadcast-badge").await;
    browser::open_chat(&visitor).await;
    browser::wait_for_log(&visitor, &[&hello, "Our autumn sale starts today!"]).await;
    let link = visitor
        .wait()
        .for_element(Locator::Css("[role=log] a.cta"))
        .await
        .unwrap();
    assert_eq!(
        (
            link.attr("href").await.unwrap().as_deref(),
            link.attr("target").await.unwrap().as_deref(),
            link.attr("rel").await.unwrap().as_deref()
        ),
        (
            Some("https://shop.example/sale"),
            Some("_blank"),
            Some("noopener noreferrer")
        )
    );
    let announce = text_shown(&visitor, ".announce", "the mute control").await;
    assert!(
        announce.starts_with("You get our announcements here."),
        "{announce}"
    );
    browser::screenshot(&visitor, "widget-broadcast-buttons").await;
    // The reply button, from the keyboard: focused and pressed with Enter.
    let reply = visitor
        .find(Locator::XPath("//button[@class='cta' and .='Yes please']"))
        .await
        .unwrap();
    reply.send_keys("\u{E007}").await.unwrap();
    browser::wait_for_log(
        &visitor,
        &[&hello, "Our autumn sale starts today!", "Yes please"],
    )
    .await;
    // Muted: the next broadcast plans nobody here.
    visitor
        .find(Locator::XPath("//p[@class='announce']/button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "muted", || async {
        let t = text_of(&visitor, ".announce").await;
        t.starts_with("Announcements muted.").then_some(())
    })
    .await;
    browser::screenshot(&visitor, "widget-broadcast-muted").await;
    let preview = api
        .send(
            api.admin(
                reqwest::Method::POST,
                &format!("/api/v1/admin/sites/{site}/broadcast-previews"),
            )
            .json(&serde_json::json!({"name": "Next", "text": "Hi", "channels": ["web"]})),
        )
        .await;
    assert_eq!(
        (
            preview.body["count"]["web"].as_u64(),
            preview.body["count"]["opted_out"].as_u64()
        ),
        (Some(0), Some(1)),
        "{:?}",
        preview.body
    );
    // The broadcast's answer counts as replied.
    eventually(WAIT, "replied", || async {
        let b = api
            .send(api.admin(
                reqwest::Method::GET,
                &format!("/api/v1/admin/sites/{site}/broadcasts/{id}"),
            ))
            .await;
        (b.body["total"]["replied"] == 1).then_some(())
    })
    .await;
    visitor.set_window_size(375, 667).await.unwrap();
    browser::screenshot(&visitor, "widget-broadcast-375").await;
    assert_clean_console(&visitor, "widget broadcast buttons").await;
    assert_clean_console(&agent, "inbox audiences and contacts").await;
    visitor.close().await.unwrap();
    agent.close().await.unwrap();
}

/// Acceptance (verified identity): the site's backend proves who a signed-in visitor is;
/// the same person opening the site in another browser profile (her phone) sees the
/// conversation she had on her laptop. A visitor who only claims a name is marked "claimed"
/// in the inbox, the proven one "verified".
#[tokio::test]
async fn a_verified_identity_opens_the_same_history_in_a_second_browser() {
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = format!("ident-ui-{}", beckon_tests::free_port());
    api.create_site(&site).await;
    let made = api
        .send(
            api.admin(
                reqwest::Method::PUT,
                &format!("/api/v1/admin/sites/{site}/identity"),
            )
            .json(&json!({"rotate_secret": true})),
        )
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    // What the site's backend renders into its page for the signed-in user.
    let hash = beckon_edge::identity::user_hash(secret.as_bytes(), "u-ana");
    let identify =
        format!("Beckon.identify({{user_id: 'u-ana', user_hash: '{hash}', name: 'Ana Lima'}})");
    let host = host_page::serve(base, &site, None).await;

    let laptop = browser::open(1280, 800).await;
    laptop.goto(&host.url).await.unwrap();
    browser::launcher(&laptop).await;
    laptop.execute(&identify, vec![]).await.unwrap();
    browser::open_chat(&laptop).await;
    let hello = unique("Sent from my laptop");
    browser::send_message(&laptop, &hello).await;
    browser::wait_for_log(&laptop, &[&hello]).await;
    // The laptop's visitor is now known as u-ana (its identify follows the first message).
    eventually(WAIT, "the laptop's visitor verified", || async {
        let r = api
            .send(api.admin(
                reqwest::Method::GET,
                &format!("/api/v1/admin/sites/{site}/contacts"),
            ))
            .await;
        r.body["contacts"]
            .as_array()?
            .iter()
            .any(|c| c["verified"] == true)
            .then_some(())
    })
    .await;

    let phone = browser::open(375, 667).await;
    phone.goto(&host.url).await.unwrap();
    browser::launcher(&phone).await;
    phone.execute(&identify, vec![]).await.unwrap();
    browser::open_chat(&phone).await;
    browser::wait_for_log(&phone, &[&hello]).await;
    let shot = browser::screenshot(&phone, "identity-second-browser-375").await;
    println!(
        "second browser shows the laptop's history: {}",
        shot.display()
    );

    // A visitor who only claims to be someone.
    let eve = api.start_conversation(&site, None).await;
    let r = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/identify"))
                .bearer_auth(&eve.visitor_token)
                .json(&json!({"name": "Eve Claims"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let agent = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&agent, base, "Ana").await;
    browser::open_inbox_view(&agent, &site, "Contacts").await;
    let marks = eventually(WAIT, "both contacts with their marks", || async {
        let items = agent.find_all(Locator::Css("li.contact")).await.ok()?;
        let mut marks = Vec::new();
        for li in items {
            let who = li
                .find(Locator::Css("strong"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            let mark = match li.find(Locator::Css(".tag.identity")).await {
                Ok(t) => t.text().await.ok()?,
                Err(_) => String::new(),
            };
            marks.push((who, mark));
        }
        marks.sort();
        (marks.len() == 2).then_some(marks)
    })
    .await;
    assert_eq!(
        marks,
        [
            ("Ana Lima".to_owned(), "verified".to_owned()),
            ("Eve Claims".to_owned(), "claimed".to_owned())
        ]
    );
    let shot = browser::screenshot(&agent, "inbox-contacts-verified-claimed").await;
    println!("inbox marks: {marks:?} ({})", shot.display());
}
