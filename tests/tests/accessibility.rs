//! The widget with a keyboard only and under axe-core (WCAG 2.x A and AA): the closed launcher,
//! a teaser, the open panel empty and with messages, at desktop width and on a 375 px phone,
//! and again with a light brand colour (the text on it turns dark); phone viewports.
//! Opening with Enter puts the caret in the message box; Enter sends; Escape closes and
//! gives the focus back to the launcher.

use beckon_tests::api::Api;
use beckon_tests::browser;
use beckon_tests::edge::Edge;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

/// The accessible name of what has the focus: in the loader's shadow root on the host page, or
/// in the current frame.
async fn focused(c: &Client) -> String {
    c.execute(
        "let a = document.activeElement;
         while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
         return a ? (a.getAttribute('aria-label') || a.tagName) : null;",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Waits for the teaser: the app's frame in teaser mode, with the teaser's text drawn.
async fn wait_teaser(c: &Client) -> fantoccini::elements::Element {
    let frame = beckon_tests::eventually(Duration::from_secs(30), "the teaser", || async {
        let f = browser::frame(c).await?;
        let class = f.attr("class").await.ok()??;
        class.split(' ').any(|k| k == "t").then_some(f)
    })
    .await;
    frame.clone().enter_frame().await.unwrap();
    beckon_tests::eventually(Duration::from_secs(10), "the teaser's text", || async {
        c.find(Locator::Css("#teaser .teaser-text")).await.ok()
    })
    .await;
    c.enter_parent_frame().await.unwrap();
    frame
}

#[tokio::test]
async fn keyboard_only_open_send_close_and_axe_finds_nothing_in_any_view() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    // A teaser after 2 s on the page.
    let r = api
        .send(
            api.admin(Method::POST, "/api/v1/admin/sites/demo/rules")
                .json(
                    &json!({"id": "a11y", "name": "Help", "when": {"if": "active_time", "secs": 2},
                    "message": {"text": "Questions about our roasts? Ask us.", "buttons": [
                        {"label": "Ask about roasts", "action": "reply"},
                        {"label": "See beans", "action": "link", "url": "/#beans"}]}}),
                ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let mut seen = Vec::new();

    let c = browser::open(1280, 800).await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    let launcher = browser::launcher(&c).await;
    browser::axe_view(&c, "host page with the closed launcher", &mut seen).await;

    // The teaser (with a reply and a link button), inside the app's frame.
    wait_teaser(&c).await.enter_frame().await.unwrap();
    browser::axe_view(&c, "teaser with buttons", &mut seen).await;
    c.enter_parent_frame().await.unwrap();

    // Keyboard only: Enter on the launcher opens the panel with the caret in the message box.
    launcher.send_keys(&Key::Enter.to_string()).await.unwrap();
    browser::enter_chat(&c).await;
    beckon_tests::eventually(
        Duration::from_secs(10),
        "the focus in the message box",
        || async { (focused(&c).await == "Message").then_some(()) },
    )
    .await;
    browser::axe_view(&c, "open panel, empty", &mut seen).await;
    let input = c
        .find(Locator::Css("textarea[aria-label='Message']"))
        .await
        .unwrap();
    input
        .send_keys(&format!("Typed without a mouse{}", Key::Enter))
        .await
        .unwrap();
    browser::wait_for_log(&c, &["Typed without a mouse"]).await;
    // Stored (not only shown as sending) before the agent answers.
    let id = beckon_tests::eventually(Duration::from_secs(20), "the message stored", || async {
        let list = api
            .send(api.admin(Method::GET, "/api/v1/admin/conversations?site=demo&limit=5"))
            .await;
        let id = list.body["conversations"][0]["id"].as_str()?.to_owned();
        let id = beckon_shared::ConversationId::parse(&id).ok()?;
        let stored = api.admin_messages(&id).await.messages;
        (!stored.is_empty()).then_some(id)
    })
    .await;
    api.agent_reply(&id, "Happy to help: which brewer do you use?")
        .await;
    browser::wait_for_log(
        &c,
        &[
            "Typed without a mouse",
            "Happy to help: which brewer do you use?",
        ],
    )
    .await;
    browser::axe_view(&c, "open panel with messages", &mut seen).await;
    browser::screenshot(&c, "a11y-panel-messages").await;

    // Escape closes; the focus is back on the launcher.
    browser::press(&c, Key::Escape).await;
    c.enter_parent_frame().await.unwrap();
    beckon_tests::eventually(
        Duration::from_secs(10),
        "the focus back on the launcher",
        || async {
            let name = focused(&c).await;
            name.starts_with("Open chat").then_some(name)
        },
    )
    .await;
    browser::axe_view(&c, "host page after closing", &mut seen).await;

    // A 375 px phone: the full-screen panel.
    c.set_window_size(375, 667).await.unwrap();
    browser::launcher(&c)
        .await
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    browser::enter_chat(&c).await;
    browser::axe_view(&c, "open panel with messages, 375 px", &mut seen).await;
    browser::screenshot(&c, "a11y-panel-375").await;
    c.close().await.ok();

    // Phones (375 × 667 and 414 × 896): 16 px in the message box (no zoom on focus), the log
    // keeps its scrolling to itself, the composer is on screen.
    for (w, h) in [(375, 667), (414, 896)] {
        let c = browser::open(w, h).await;
        c.goto(&format!("{}/", edge.url)).await.unwrap();
        browser::open_chat(&c).await;
        let got = c
            .execute(
                "const i = document.querySelector(\"textarea[aria-label='Message']\");
                 const r = document.querySelector('.composer').getBoundingClientRect();
                 return [getComputedStyle(i).fontSize,
                         getComputedStyle(document.querySelector('.log')).overscrollBehaviorY,
                         r.bottom <= innerHeight && r.top >= 0];",
                vec![],
            )
            .await
            .unwrap();
        println!("phone {w}x{h}: {got}");
        assert_eq!(got, json!(["16px", "contain", true]), "{w}x{h}");
        c.close().await.ok();
    }

    // Brand colours where white text is not readable (yellow) or only just (red): the text on
    // them is chosen for AA contrast, in the launcher, the teaser and its buttons, the header
    // and the visitor's bubbles; axe-core still finds nothing.
    for (accent, on_it) in [
        ("#facc15", "rgb(17, 24, 39)"),
        ("#dc2626", "rgb(255, 255, 255)"),
    ] {
        let r = api.patch_site("demo", json!({ "accent": accent })).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let c = browser::open(1280, 800).await;
        c.goto(&format!("{}/", edge.url)).await.unwrap();
        let launcher_colour = c
            .execute(
                "const l = document.querySelector('#beckon-root').shadowRoot.querySelector('button');
                 return getComputedStyle(l).color;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(launcher_colour, json!(on_it), "{accent}");
        browser::axe_view(&c, &format!("host page, accent {accent}"), &mut seen).await;
        let frame = wait_teaser(&c).await;
        frame.enter_frame().await.unwrap();
        browser::axe_view(
            &c,
            &format!("teaser with buttons, accent {accent}"),
            &mut seen,
        )
        .await;
        browser::screenshot(&c, &format!("a11y-teaser-{}", &accent[1..])).await;
        c.enter_parent_frame().await.unwrap();
        browser::open_chat(&c).await;
        browser::send_message(&c, "Is this colour readable?").await;
        browser::wait_for_log(&c, &["Is this colour readable?"]).await;
        beckon_tests::eventually(Duration::from_secs(20), "the message delivered", || async {
            c.find(Locator::Css(".pending"))
                .await
                .is_err()
                .then_some(())
        })
        .await;
        browser::axe_view(
            &c,
            &format!("open panel with a message, accent {accent}"),
            &mut seen,
        )
        .await;
        browser::screenshot(&c, &format!("a11y-accent-{}", &accent[1..])).await;
        c.close().await.ok();
    }

    let found: Vec<_> = seen.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(found.is_empty(), "axe-core violations: {found:#?}");
}

/// A load that fails leaves nothing on the host page (the site's configuration does not load)
/// but a warning in its console, with either snippet; and the closed launcher covers nothing of
/// the page beyond its own circle's box.
#[tokio::test]
async fn a_failed_load_leaves_nothing_and_the_launcher_covers_only_itself() {
    use beckon_tests::host_page;
    let edge = Edge::start(None);
    let unknown = host_page::serve(&edge.url, "no-such-site", None).await;
    let unknown_first = host_page::serve_classic(&edge.url, "no-such-site").await;
    let c = browser::open(375, 667).await;
    for (what, page) in [
        ("an unknown site", &unknown.url),
        ("an unknown site, first snippet", &unknown_first.url),
    ] {
        c.goto(page).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let left = c
            .execute(
                "return [document.querySelectorAll('#beckon-root, iframe').length,
                         document.body.children.length, document.documentElement.scrollWidth <= innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        println!("{what}: {left}");
        // Nothing of ours; the page's own heading, paragraph and the embed tag only.
        assert_eq!(left, json!([0, 3, true]), "{what}");
        let log = browser::console_log(&c).await;
        assert!(
            log.iter()
                .any(|(_, m)| m.contains("Beckon: ") && m.contains("no-such-site")),
            "{what}: {log:?}"
        );
    }
    // The demo page: just outside the launcher's box is the page itself, at both phone sizes.
    for (w, h) in [(375, 667), (414, 896)] {
        c.set_window_size(w, h).await.unwrap();
        c.goto(&format!("{}/", edge.url)).await.unwrap();
        browser::launcher(&c).await;
        let outside = c
            .execute(
                "const host = document.querySelector('#beckon-root');
                 const r = host.shadowRoot.querySelector('button').getBoundingClientRect();
                 const probes = [[r.left - 2, r.top + r.height / 2], [r.left + r.width / 2, r.top - 2],
                                 [r.right - 1, r.top - 2], [r.left - 2, r.bottom - 1]];
                 return probes.map(([x, y]) => document.elementFromPoint(x, y) !== host);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(outside, json!([true, true, true, true]), "{w}x{h}");
    }
    println!("the launcher covers nothing beyond its box at 375 and 414 px");
    c.close().await.ok();
}

/// A phone's visual viewport the test controls: `keyboard(px)` shrinks it by `px` (an on-screen
/// keyboard opening), `keyboard(0)` gives it back. Installed before the loader runs.
const FAKE_VISUAL_VIEWPORT: &str = r#"
  const vv = new EventTarget();
  Object.assign(vv, { width: innerWidth, height: innerHeight, offsetTop: 0, offsetLeft: 0, scale: 1 });
  Object.defineProperty(window, "visualViewport", { value: vv, configurable: true });
  window.keyboard = (px, top) => {
    vv.height = innerHeight - px; vv.offsetTop = top || 0; vv.dispatchEvent(new Event("resize"));
  };"#;

/// On both phone sizes: the open panel covers the page, which stops scrolling behind it; an
/// on-screen keyboard (a smaller visual viewport) shrinks the panel to what is visible, with
/// the composer above the keyboard; Tab and Shift+Tab go round inside the panel; closing gives
/// the page back its scrolling.
#[tokio::test]
async fn on_phones_the_panel_stays_above_the_keyboard_and_keeps_the_focus() {
    use beckon_tests::host_page;
    let edge = Edge::start(None);
    let page = host_page::serve_with_script(&edge.url, "demo", FAKE_VISUAL_VIEWPORT).await;
    for (w, h) in [(375, 667), (414, 896)] {
        let c = browser::open(w, h).await;
        c.goto(&page.url).await.unwrap();
        browser::open_chat(&c).await;
        c.find(Locator::Css("textarea[aria-label='Message']"))
            .await
            .unwrap()
            .send_keys("Hello")
            .await
            .unwrap();
        c.enter_parent_frame().await.unwrap();
        let host = "const f = document.querySelector('#beckon-root').shadowRoot.querySelector('iframe')
                        .getBoundingClientRect();
                    return [document.documentElement.style.overflow, Math.round(f.top), Math.round(f.height)];";
        // The viewport (the window less what headless Chromium keeps of its frame).
        let vh = c
            .execute("return innerHeight;", vec![])
            .await
            .unwrap()
            .as_i64()
            .unwrap();
        assert_eq!(
            c.execute(host, vec![]).await.unwrap(),
            json!(["hidden", 0, vh]),
            "{w}x{h}: the panel covers the page, which does not scroll"
        );
        // The keyboard opens (300 px), then the page is scrolled by 40 px under it.
        for (px, top) in [(300, 0), (300, 40)] {
            c.execute(&format!("keyboard({px}, {top}); return null;"), vec![])
                .await
                .unwrap();
            let got = c.execute(host, vec![]).await.unwrap();
            println!("{w}x{h}, keyboard {px} px, viewport at {top}: {got}");
            assert_eq!(got, json!(["hidden", top, vh - px]), "{w}x{h}");
        }
        browser::enter_chat(&c).await;
        let inside = c
            .execute(
                "const r = document.querySelector('.composer').getBoundingClientRect();
                 return [Math.round(r.bottom) <= innerHeight, r.top > 0, innerHeight];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            inside,
            json!([true, true, vh - 300]),
            "{w}x{h}: composer above the keyboard"
        );

        // Tab from the last control (Send) goes to the first (Close chat), Shift+Tab back.
        c.find(Locator::Css("button[aria-label='Send']"))
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
        assert_eq!(focused(&c).await, "Close chat", "{w}x{h}: Tab goes round");
        c.active_element()
            .await
            .unwrap()
            .send_keys(&format!("{}{}", Key::Shift, Key::Tab))
            .await
            .unwrap();
        assert_eq!(focused(&c).await, "Send", "{w}x{h}: Shift+Tab goes round");
        println!("{w}x{h}: Tab and Shift+Tab stay in the panel");

        // The keyboard closes, then the panel: the page scrolls again.
        c.enter_parent_frame().await.unwrap();
        c.execute("keyboard(0); return null;", vec![])
            .await
            .unwrap();
        assert_eq!(
            c.execute(host, vec![]).await.unwrap(),
            json!(["hidden", 0, vh])
        );
        browser::frame(&c)
            .await
            .unwrap()
            .enter_frame()
            .await
            .unwrap();
        browser::press(&c, Key::Escape).await;
        c.enter_parent_frame().await.unwrap();
        beckon_tests::eventually(
            Duration::from_secs(10),
            "the page scrolls again",
            || async {
                let o = c
                    .execute("return document.documentElement.style.overflow;", vec![])
                    .await
                    .ok()?;
                (o == json!("")).then_some(())
            },
        )
        .await;
        c.close().await.ok();
    }
}

/// The dark theme (the site's setting, or the visitor's system with `system`): the panel with
/// messages and a teaser read with AA contrast (axe-core), at desktop width and on a phone.
#[tokio::test]
async fn the_dark_theme_reads_well_and_system_follows_the_visitor() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    let theme = |t: &str| api.patch_site("demo", json!({ "theme": t }));
    let bad = theme("purple").await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    let r = theme("dark").await;
    assert_eq!((r.status, r.body["theme"].as_str()), (200, Some("dark")));
    let r = api
        .send(
            api.admin(Method::POST, "/api/v1/admin/sites/demo/rules")
                .json(
                    &json!({"id": "dark", "name": "Help", "when": {"if": "active_time", "secs": 2},
                    "message": {"text": "Questions about our roasts?", "buttons": [
                        {"label": "Ask about roasts", "action": "reply"}]}}),
                ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let background = "return getComputedStyle(document.body).backgroundColor;";
    let mut seen = Vec::new();

    let c = browser::open(1280, 800).await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    wait_teaser(&c).await.enter_frame().await.unwrap();
    browser::axe_view(&c, "teaser, dark", &mut seen).await;
    browser::screenshot(&c, "dark-teaser").await;
    c.enter_parent_frame().await.unwrap();
    browser::open_chat(&c).await;
    assert_eq!(
        c.execute(background, vec![]).await.unwrap(),
        json!("rgb(24, 24, 27)")
    );
    browser::send_message(&c, "Is the Ethiopia roast fruity?").await;
    browser::wait_for_log(&c, &["Is the Ethiopia roast fruity?"]).await;
    let id = api.newest_conversation("demo", None).await;
    api.agent_reply(&id, "Very: blueberry and jasmine.").await;
    browser::wait_for_log(
        &c,
        &[
            "Is the Ethiopia roast fruity?",
            "Very: blueberry and jasmine.",
        ],
    )
    .await;
    browser::axe_view(&c, "open panel with messages, dark", &mut seen).await;
    browser::screenshot(&c, "dark-panel").await;
    c.set_window_size(375, 667).await.unwrap();
    browser::axe_view(&c, "open panel with messages, dark, 375 px", &mut seen).await;
    browser::screenshot(&c, "dark-375").await;
    c.close().await.ok();

    // `system`: light for a visitor whose system prefers light, dark for one who prefers dark.
    let r = theme("system").await;
    assert_eq!(r.body["theme"], "system");
    for (switches, want) in [
        (&[][..], "rgb(255, 255, 255)"),
        (&["--force-dark-mode"][..], "rgb(24, 24, 27)"),
    ] {
        let c = browser::open_with(1280, 800, "en-US", switches).await;
        c.goto(&format!("{}/", edge.url)).await.unwrap();
        browser::open_chat(&c).await;
        let got = c.execute(background, vec![]).await.unwrap();
        println!("theme system, switches {switches:?}: {got}");
        assert_eq!(got, json!(want));
        browser::axe_view(&c, &format!("open panel, system theme {want}"), &mut seen).await;
        c.close().await.ok();
    }

    let found: Vec<_> = seen.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(found.is_empty(), "axe-core violations: {found:#?}");
}

/// Acceptance (issue 13, point 6): the site's pre-chat form stands in for the composer before
/// a visitor's first message; a malformed address is refused (the browser holds the form back);
/// the answers become the contact's name, email and attributes; a returning visitor is not
/// asked again. In Arabic with the dark theme its labels are the site's Arabic ones, right to
/// left. axe-core finds nothing in any view.
/// On the test site's pre-chat form: picks `topic`, ticks the terms and submits.
async fn choose_topic_accept_and_submit(c: &Client, topic: &str) {
    c.find(Locator::Css("form.prechat select[name=f-topic]"))
        .await
        .unwrap()
        .select_by_value(topic)
        .await
        .unwrap();
    browser::click(c, "form.prechat input[name=f-terms]").await;
    browser::click(c, "form.prechat button[type=submit]").await;
}

#[tokio::test]
async fn the_prechat_form_asks_first_refuses_a_bad_address_and_its_answers_reach_the_contact() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    let patch = |body: serde_json::Value| api.patch_site("demo", body);
    let bad = patch(json!({"prechat": {"fields": [
        {"key": "order", "kind": "text", "label": {"de": "Bestellnummer"}}]}}))
    .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    println!(
        "a form without English refused: {}",
        bad.body["error"]["message"]
    );
    let form = json!({"name": "required", "email": "required", "fields": [
        {"key": "order", "kind": "text", "label": {"en": "Order number", "ar": "رقم الطلب"}, "required": false},
        {"key": "topic", "kind": "select", "required": true, "label": {"en": "Topic", "ar": "الموضوع"},
         "choices": [{"value": "shipping", "label": {"en": "Shipping", "ar": "الشحن"}},
                     {"value": "returns", "label": {"en": "Returns", "ar": "الإرجاع"}}]},
        {"key": "terms", "kind": "checkbox", "required": true,
         "label": {"en": "I accept the privacy terms", "ar": "أوافق على شروط الخصوصية"}}]});
    let r = patch(json!({ "prechat": form })).await;
    assert_eq!((r.status, &r.body["prechat"]), (200, &form), "{:?}", r.body);
    let mut seen = Vec::new();

    let c = browser::open(1280, 800).await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    browser::launcher(&c).await.click().await.unwrap();
    browser::enter_frame(&c).await;
    let name = c
        .wait()
        .for_element(Locator::Css("form.prechat input[name=name]"))
        .await
        .unwrap();
    assert!(
        c.find(Locator::Css("textarea")).await.is_err(),
        "no composer before the form is answered"
    );
    browser::axe_view(&c, "pre-chat form", &mut seen).await;
    browser::screenshot(&c, "prechat-desktop").await;
    c.set_window_size(375, 667).await.unwrap();
    browser::axe_view(&c, "pre-chat form, 375 px", &mut seen).await;
    browser::screenshot(&c, "prechat-375").await;
    // By keyboard from the name on; a malformed address holds the form back.
    name.send_keys("Ana Lima").await.unwrap();
    let email = c
        .find(Locator::Css("form.prechat input[name=email]"))
        .await
        .unwrap();
    email.send_keys("ana@localhost").await.unwrap();
    c.find(Locator::Css("form.prechat input[name=f-order]"))
        .await
        .unwrap()
        .send_keys("A-1009")
        .await
        .unwrap();
    choose_topic_accept_and_submit(&c, "returns").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let valid = c
        .execute(
            "return document.querySelector('form.prechat input[name=email]').validity.valid;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(valid, json!(false));
    assert!(
        c.find(Locator::Css("form.prechat")).await.is_ok(),
        "ana@localhost is refused"
    );
    browser::axe_view(&c, "pre-chat form with a refused address", &mut seen).await;
    email.clear().await.unwrap();
    email
        .send_keys(&format!("ana.lima@example.com{}", Key::Enter))
        .await
        .unwrap();
    let composer = c
        .wait()
        .for_element(Locator::Css("textarea[aria-label='Message']"))
        .await
        .unwrap();
    assert!(c.find(Locator::Css("form.prechat")).await.is_err());
    composer
        .send_keys(&format!("Where is my return label?{}", Key::Enter))
        .await
        .unwrap();
    browser::wait_for_log(&c, &["Where is my return label?"]).await;
    // The answers on the contact, as the agent's sidebar beside the conversation reads them.
    let id = api.newest_conversation("demo", None).await;
    let contact = beckon_tests::eventually(Duration::from_secs(20), "the answers", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations/{id}/visitor"),
            ))
            .await;
        let c = &r.body["contact"];
        (c["attributes"]["terms"] == "yes").then(|| c.clone())
    })
    .await;
    assert_eq!(contact["email"], "ana.lima@example.com");
    assert_eq!(contact["name"], "Ana Lima");
    assert_eq!(
        contact["attributes"],
        json!({"order": "A-1009", "topic": "returns", "terms": "yes"})
    );
    // Coming back with a conversation: not asked again.
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    browser::open_chat(&c).await;
    assert!(c.find(Locator::Css("form.prechat")).await.is_err());
    c.close().await.ok();

    // Arabic, dark: the site's Arabic labels, right to left — on a page whose own
    // `identify` is wrong (a phone number too short, which the edge refuses).
    let r = patch(json!({"language": "ar", "theme": "dark"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let page = beckon_tests::host_page::serve_with_script(
        &edge.url,
        "demo",
        r#"window.Beckon = {q: [["identify", {phone: "12"}]]};"#,
    )
    .await;
    let c = browser::open(1280, 800).await;
    c.goto(&page.url).await.unwrap();
    browser::launcher(&c).await.click().await.unwrap();
    browser::enter_frame(&c).await;
    let labels = || async {
        c.wait()
            .for_element(Locator::Css("form.prechat"))
            .await
            .unwrap();
        c.execute(
            "return [document.documentElement.dir,
                     [...document.querySelectorAll('form.prechat label')].map(l => l.textContent)];",
            vec![],
        )
        .await
        .unwrap()
    };
    let got = labels().await;
    println!("pre-chat form in Arabic: {got}");
    assert_eq!(got[0], "rtl");
    assert_eq!(
        got[1],
        json!([
            "الاسم",
            "البريد الإلكتروني",
            "رقم الطلب (اختياري)",
            "الموضوع—الشحنالإرجاع",
            "أوافق على شروط الخصوصية"
        ])
    );
    browser::axe_view(&c, "pre-chat form, Arabic, dark", &mut seen).await;
    browser::screenshot(&c, "prechat-ar-dark").await;
    // The page switches to English: the form follows, in the site's English labels.
    c.enter_parent_frame().await.unwrap();
    c.execute("Beckon.setLocale('en');", vec![]).await.unwrap();
    beckon_tests::eventually(Duration::from_secs(20), "an app in English", || async {
        let src = browser::frame(&c).await?.attr("src").await.ok()??;
        src.ends_with("&lang=en").then_some(())
    })
    .await;
    browser::enter_frame(&c).await;
    let got = labels().await;
    println!("after setLocale('en'): {got}");
    assert_eq!(
        got,
        json!([
            "ltr",
            [
                "Name",
                "Email",
                "Order number (optional)",
                "Topic—ShippingReturns",
                "I accept the privacy terms"
            ]
        ])
    );
    // Answered: the page's refused phone costs nothing of the form's answers.
    for (field, text) in [("name", "Layla Haddad"), ("email", "layla@example.com")] {
        c.find(Locator::Css(&format!("form.prechat input[name={field}]")))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    choose_topic_accept_and_submit(&c, "shipping").await;
    c.wait()
        .for_element(Locator::Css("textarea[aria-label='Message']"))
        .await
        .unwrap()
        .send_keys(&format!("Do you ship to Amman?{}", Key::Enter))
        .await
        .unwrap();
    browser::wait_for_log(&c, &["Do you ship to Amman?"]).await;
    let second = api.newest_conversation("demo", Some(&id)).await;
    let contact =
        beckon_tests::eventually(Duration::from_secs(30), "the form's answers", || async {
            let r = api
                .send(api.admin(
                    Method::GET,
                    &format!("/api/v1/admin/conversations/{second}/visitor"),
                ))
                .await;
            let c = &r.body["contact"];
            (c["attributes"]["topic"] == "shipping").then(|| c.clone())
        })
        .await;
    println!("the contact, after the page's identity was refused: {contact}");
    assert_eq!(
        (&contact["name"], &contact["email"], &contact["phone"]),
        (
            &json!("Layla Haddad"),
            &json!("layla@example.com"),
            &json!(null)
        )
    );
    assert_eq!(
        contact["attributes"],
        json!({"topic": "shipping", "terms": "yes"})
    );
    c.close().await.ok();
    let found: Vec<_> = seen.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(found.is_empty(), "axe-core violations: {found:?}");
    edge.stop();
}

/// Records, on the host page, every browser notification shown and every tone started (the
/// browser's own objects, observed — nothing of Beckon's replaced).
const OBSERVE_ATTENTION: &str = "window.seen = {notes: [], tones: 0};
const N = window.Notification;
window.Notification = class extends N {
  constructor(title, options) { super(title, options); seen.notes.push([title, options && options.body]); }
};
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...a) { seen.tones++; return start.apply(this, a); };";

#[tokio::test]
async fn attention_counts_unread_in_the_title_chimes_and_notifies_once_the_visitor_agreed() {
    use beckon_tests::host_page;
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    let patch = |body: serde_json::Value| api.patch_site("demo", body);
    let bad = patch(json!({"attention": {"title": "yes"}})).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    println!("attention refused: {}", bad.body["error"]["message"]);
    let all = json!({"title": true, "sound": true, "notify": true});
    let r = patch(json!({ "attention": all })).await;
    assert_eq!(
        (r.status, &r.body["attention"]),
        (200, &all),
        "{:?}",
        r.body
    );
    let page = host_page::serve_with_script(&edge.url, "demo", OBSERVE_ATTENTION).await;
    let seen = |c: &Client| {
        let c = c.clone();
        async move {
            c.execute("return [document.title, seen.notes, seen.tones];", vec![])
                .await
                .unwrap()
        }
    };

    let c = browser::open(1280, 800).await;
    c.goto(&page.url).await.unwrap();
    browser::open_chat(&c).await;
    assert!(
        c.find(Locator::Css(".notify")).await.is_err(),
        "no offer before the visitor wrote"
    );
    browser::send_message(&c, "Is the blue one in stock?").await;
    browser::wait_for_log(&c, &["Is the blue one in stock?"]).await;
    // The browser has not been asked yet: the panel offers to notify.
    let offer = c
        .wait()
        .for_element(Locator::Css(".notify button"))
        .await
        .unwrap();
    assert_eq!(offer.text().await.unwrap(), "Notify me");
    let mut views = Vec::new();
    browser::axe_view(&c, "panel offering notifications", &mut views).await;
    browser::screenshot(&c, "attention-offer").await;
    // The visitor agrees: the browser's prompt (granted here by the test) decides, and the
    // offer goes away.
    beckon_tests::tap::cdp(
        &c,
        "Browser.grantPermissions",
        json!({"origin": page.origin, "permissions": ["notifications"]}),
    )
    .await;
    offer.click().await.unwrap();
    beckon_tests::eventually(Duration::from_secs(10), "the offer to go", || async {
        c.find(Locator::Css(".notify")).await.is_err().then_some(())
    })
    .await;
    // Closed panel: an agent's answer counts in the title, chimes and notifies.
    browser::click(&c, "button.close").await;
    c.enter_parent_frame().await.ok();
    let id = api.newest_conversation("demo", None).await;
    api.agent_reply(&id, "Yes, three left in size M.").await;
    let got = beckon_tests::eventually(Duration::from_secs(20), "the title count", || async {
        let got = seen(&c).await;
        (got[0] == "(1) Partner shop" && got[1].as_array().is_some_and(|n| !n.is_empty()))
            .then_some(got)
    })
    .await;
    println!("closed panel, one answer: {got}");
    assert_eq!(got[1], json!([["Ana", "Yes, three left in size M."]]));
    assert_eq!(got[2], json!(2), "one chime: two tones");
    api.agent_reply(&id, "Shall I keep one for you?").await;
    let got = beckon_tests::eventually(Duration::from_secs(20), "(2)", || async {
        let got = seen(&c).await;
        (got[0] == "(2) Partner shop").then_some(got)
    })
    .await;
    println!("closed panel, two answers: {got}");
    // Opening reads them: the page's own title again; answers in an open panel on a visible
    // page neither chime nor notify.
    browser::open_chat(&c).await;
    c.enter_parent_frame().await.ok();
    c.enter_parent_frame().await.ok();
    beckon_tests::eventually(Duration::from_secs(10), "the page's title", || async {
        (seen(&c).await[0] == "Partner shop").then_some(())
    })
    .await;
    api.agent_reply(&id, "Done, it's yours.").await;
    browser::enter_chat(&c).await;
    browser::wait_for_log(
        &c,
        &[
            "Is the blue one in stock?",
            "Yes, three left in size M.",
            "Shall I keep one for you?",
            "Done, it's yours.",
        ],
    )
    .await;
    c.enter_parent_frame().await.ok();
    c.enter_parent_frame().await.ok();
    let got = seen(&c).await;
    println!("open panel, third answer: {got}");
    assert_eq!(got[0], "Partner shop");
    assert_eq!(got[1].as_array().map(Vec::len), Some(2));
    assert_eq!(got[2], json!(4));
    c.close().await.ok();

    // A site with none of it on: its boot script loads no attention code.
    let r = patch(json!({"attention": {"title": false, "sound": false, "notify": false}})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let c = browser::open(1280, 800).await;
    c.goto(&page.url).await.unwrap();
    browser::launcher(&c).await;
    let scripts = c
        .execute(
            "return [...document.scripts].map(s => s.src).filter(s => s.includes('attention'));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(scripts, json!([]));
    c.close().await.ok();
    let found: Vec<_> = views.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(found.is_empty(), "axe-core violations: {found:?}");
    edge.stop();
}

#[tokio::test]
async fn the_launcher_takes_the_sites_icon_label_offsets_and_font() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    let patch = |body: serde_json::Value| api.patch_site("demo", body);
    for bad in [
        json!({"launcher": {"x": 500}}),
        json!({"launcher": {"icon": "rocket"}}),
        json!({"font": "Inter; color: red"}),
    ] {
        let r = patch(bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
        println!("refused {bad}: {}", r.body["error"]["message"]);
    }
    let r = patch(json!({
        "launcher": {"icon": "help", "label": "Questions?", "x": 32, "y": 48},
        "font": "Georgia, serif",
        "translations": {"ar": {"launcher": "أسئلة؟"}},
    }))
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["font"], "Georgia, serif", "kept as given");
    // The boot script carries what the loader reads, not the greeting.
    let boot = reqwest::get(format!("{}/api/v1/sites/demo/boot.js", edge.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !boot.contains("greeting") && boot.contains("Questions?"),
        "{boot}"
    );
    println!(
        "demo boot script: {} B, {} B gzip",
        boot.len(),
        beckon_tests::gzip_len(boot.as_bytes())
    );
    let mut seen = Vec::new();
    // Where the launcher and the frame sit, what the launcher shows and says, in which font.
    let layout = "const root = document.querySelector('#beckon-root').shadowRoot;
        const l = root.querySelector('button'), b = l.getBoundingClientRect();
        const f = root.querySelector('iframe');
        const fb = f && getComputedStyle(f).display !== 'none' ? f.getBoundingClientRect() : null;
        return {left: b.left, right: innerWidth - b.right, bottom: innerHeight - b.bottom,
                text: l.textContent, name: l.getAttribute('aria-label'), pill: l.classList.contains('p'),
                icon: l.querySelector('path').getAttribute('d'), font: getComputedStyle(l).fontFamily,
                frame: fb && {right: innerWidth - fb.right, bottom: innerHeight - fb.bottom}};";

    let c = browser::open(1280, 800).await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    browser::launcher(&c).await;
    let got = c.execute(layout, vec![]).await.unwrap();
    println!("launcher, desktop: {got}");
    assert_eq!((&got["right"], &got["bottom"]), (&json!(32), &json!(48)));
    assert_eq!(got["text"], "Questions?");
    assert_eq!(got["pill"], true);
    assert_eq!(got["name"], "Questions? - Open chat");
    assert!(
        got["icon"].as_str().unwrap().starts_with("M12 22a10"),
        "{got}"
    );
    assert_eq!(got["font"], r#"Georgia, serif"#);
    browser::axe_view(&c, "pill launcher", &mut seen).await;
    browser::screenshot(&c, "launcher-pill-desktop").await;
    browser::open_chat(&c).await;
    let font = c
        .execute("return getComputedStyle(document.body).fontFamily;", vec![])
        .await
        .unwrap();
    assert_eq!(font, r#"Georgia, serif"#);
    browser::axe_view(&c, "panel in the site's font", &mut seen).await;
    c.enter_parent_frame().await.unwrap();
    let got = c.execute(layout, vec![]).await.unwrap();
    println!("open panel, desktop: {got}");
    // The panel stands 72 px above the launcher's bottom edge, on the same side edge.
    assert_eq!(got["frame"], json!({"right": 32, "bottom": 120}));
    assert_eq!(got["pill"], false, "open: the close button is round");
    browser::screenshot(&c, "launcher-pill-open").await;
    c.close().await.ok();

    let c = browser::open(375, 667).await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    browser::launcher(&c).await;
    let got = c.execute(layout, vec![]).await.unwrap();
    println!("launcher, 375 px: {got}");
    assert_eq!((&got["right"], &got["bottom"]), (&json!(32), &json!(48)));
    browser::axe_view(&c, "pill launcher, 375 px", &mut seen).await;
    browser::screenshot(&c, "launcher-pill-375").await;
    c.close().await.ok();

    // Arabic: the site's Arabic label, in the mirrored corner at the same offsets.
    let r = patch(json!({"language": "ar"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let c = browser::open(1280, 800).await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    browser::launcher(&c).await;
    let got = c.execute(layout, vec![]).await.unwrap();
    println!("launcher, Arabic: {got}");
    assert_eq!((&got["left"], &got["bottom"]), (&json!(32), &json!(48)));
    assert_eq!(got["text"], "أسئلة؟");
    browser::axe_view(&c, "pill launcher, Arabic", &mut seen).await;
    browser::screenshot(&c, "launcher-pill-ar").await;
    c.close().await.ok();
    let found: Vec<_> = seen.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(found.is_empty(), "axe-core violations: {found:?}");
    edge.stop();
}

/// The inbox's Widget page: the real widget beside the form shows the unsaved draft (checked as
/// saving would check it), and Save stores it.
#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_previews_the_widgets_look_before_saving_it() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    let api = &api;
    let preview = |body: serde_json::Value| async move {
        api.send(
            api.admin(Method::POST, "/api/v1/admin/sites/demo/preview")
                .json(&body),
        )
        .await
    };
    // The API: refused with the reasons a save would give; too much for a link is 413.
    let r = preview(json!({"launcher": {"x": 500}})).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    println!("preview refused: {}", r.body["error"]["message"]);
    let long = "Hello there. ".repeat(160);
    let r = preview(json!({"greeting": long})).await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    println!("preview refused: {}", r.body["error"]["message"]);
    let r = preview(json!({"greeting": "Draft hello", "launcher": {"label": "Draft label"}})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let url = r.body["url"].as_str().unwrap().to_owned();
    let token = url.split_once("?p=").unwrap().1.to_owned();
    println!(
        "preview link: {} characters, expires in {} ms",
        url.len(),
        r.body["expires_at"].as_i64().unwrap() - chrono_now()
    );
    let base = edge.url.clone();
    let get = |path: String| {
        let url = format!("{base}{path}");
        async move {
            let r = reqwest::get(url).await.unwrap();
            let cache = r
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), cache, r.text().await.unwrap())
        }
    };
    let (status, cache, boot) = get(format!("/api/v1/sites/demo/boot.js?v=3&p={token}")).await;
    assert_eq!((status, cache.as_deref()), (200, Some("no-store")));
    assert!(boot.contains("Draft label"), "{boot}");
    let (_, cache, saved) = get("/api/v1/sites/demo/boot.js?v=3".into()).await;
    assert_eq!(cache.as_deref(), Some("public, max-age=60"));
    assert!(
        !saved.contains("Draft label"),
        "the saved site is untouched"
    );
    let host = format!(
        "/frame/demo?host={}",
        edge.url.replace(':', "%3A").replace('/', "%2F")
    );
    let (_, cache, frame) = get(format!("{host}&p={token}")).await;
    assert!(frame.contains("Draft hello"));
    assert_eq!(cache.as_deref(), Some("no-store"));
    let (_, _, frame) = get(format!("{host}&p={token}x")).await;
    assert!(
        !frame.contains("Draft hello"),
        "a bent token shows the saved site"
    );
    let (status, _, _) = get(format!("/preview/demo?p={token}x")).await;
    assert_eq!(status, 403);
    // Another site's pages do not take this site's draft.
    api.create_site("second").await;
    let (status, _, _) = get(format!("/preview/second?p={token}")).await;
    assert_eq!(status, 403, "a token is for its own site");
    let (_, cache, boot) = get(format!("/api/v1/sites/second/boot.js?v=3&p={token}")).await;
    assert!(!boot.contains("Draft label"), "{boot}");
    assert_eq!(cache.as_deref(), Some("public, max-age=60"));
    // Who may embed the widget is not a look to preview.
    let r = preview(json!({"allowed_origins": ["https://evil.example"]})).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    println!("preview refused: {}", r.body["error"]["message"]);
    let (status, _, _) = get(format!("/preview/other-site?p={token}")).await;
    assert_eq!(status, 404);

    // The inbox.
    let mut seen = Vec::new();
    let c = browser::open(1366, 900).await;
    browser::sign_in_to_inbox(&c, &edge.url, "Ana").await;
    browser::open_inbox_view(&c, "demo", "Widget").await;
    let form = "form[aria-label='Widget settings']";
    let field = |label: &str| {
        format!("//form[@aria-label='Widget settings']//label[contains(., '{label}')]//*[self::input or self::textarea or self::select]")
    };
    // Sets a field as a person would: typed, then left.
    let set = |label: &'static str, value: &'static str| {
        let (c, xpath) = (c.clone(), field(label));
        async move {
            let el = c.wait().for_element(Locator::XPath(&xpath)).await.unwrap();
            // Select what is there and type over it (a cleared number box would be its
            // default again when it changes).
            let all = format!("{}a{}", Key::Control, Key::Null);
            el.send_keys(&all).await.unwrap();
            el.send_keys(value).await.unwrap();
            el.send_keys(&Key::Tab.to_string()).await.unwrap();
        }
    };
    // What the preview's launcher shows (its page, inside the inbox's frame).
    let launcher_in_preview = |want: &'static str| {
        let c = c.clone();
        async move {
            beckon_tests::eventually(Duration::from_secs(30), want, || async {
                c.enter_parent_frame().await.ok()?;
                let f = c.find(Locator::Css("iframe.look-frame")).await.ok()?;
                f.enter_frame().await.ok()?;
                let got = c
                    .execute(
                        "const r = document.querySelector('#beckon-root');
                         if (!r) return null;
                         const l = r.shadowRoot.querySelector('button'), s = getComputedStyle(l);
                         return {text: l.textContent, bg: s.backgroundColor, right: innerWidth - l.getBoundingClientRect().right,
                                 page: getComputedStyle(document.body).backgroundColor,
                                 open: l.getAttribute('aria-expanded')};",
                        vec![],
                    )
                    .await
                    .ok()?;
                got.to_string().contains(want).then_some(got)
            })
            .await
        }
    };
    c.wait().for_element(Locator::Css(form)).await.unwrap();
    let got = launcher_in_preview("\"open\":\"true\"").await;
    println!("preview, as saved: {got}");
    assert_eq!(
        got["page"], "rgb(244, 244, 245)",
        "the page's own style (its CSP hash)"
    );
    c.enter_parent_frame().await.unwrap();
    c.enter_parent_frame().await.unwrap();
    // Closed, to see the label.
    c.find(Locator::XPath("//div[@role='group']/button[.='Closed']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    set("Label beside the icon", "Ask us").await;
    set("From the side", "48").await;
    c.execute(
        "const i = document.querySelector(\"input[type=color]\");
         i.value = '#b91c1c'; i.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![],
    )
    .await
    .unwrap();
    // The draft's last change, the colour: the preview follows each change, so the state
    // with it has the others too.
    let got = launcher_in_preview("rgb(185, 28, 28)").await;
    println!("preview, draft: {got}");
    assert_eq!(got["text"], "Ask us");
    assert_eq!(got["right"], 48);
    assert_eq!(got["open"], "false");
    c.enter_parent_frame().await.unwrap();
    c.enter_parent_frame().await.unwrap();
    browser::screenshot(&c, "widget-settings-desktop").await;
    // Nothing saved yet.
    let site = api
        .send(api.admin(Method::GET, "/api/v1/admin/sites/demo"))
        .await;
    assert_eq!(site.body["launcher"].get("label"), None, "{:?}", site.body);
    // A value that would not save says why, at once.
    set("From the side", "500").await;
    let alert = c
        .wait()
        .for_element(Locator::Css(
            "form[aria-label='Widget settings'] [role=alert]",
        ))
        .await
        .unwrap();
    let said = alert.text().await.unwrap();
    println!("the form says: {said}");
    assert!(said.contains("0 to 240"), "{said}");
    browser::axe_view(&c, "widget settings with an error", &mut seen).await;
    set("From the side", "48").await;
    beckon_tests::eventually(Duration::from_secs(10), "the error gone", || async {
        c.find(Locator::Css(
            "form[aria-label='Widget settings'] [role=alert]",
        ))
        .await
        .err()
        .map(|_| ())
    })
    .await;
    // The panel open in the phone preview.
    for b in ["Open", "Phone"] {
        c.find(Locator::XPath(&format!(
            "//div[@role='group']/button[.='{b}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    }
    let got = launcher_in_preview("\"open\":\"true\"").await;
    println!("preview, phone, open: {got}");
    browser::screenshot(&c, "widget-settings-phone-preview").await;
    browser::enter_frame(&c).await;
    beckon_tests::eventually(
        Duration::from_secs(30),
        "the panel's message box",
        || async {
            c.find(Locator::Css("textarea[aria-label='Message']"))
                .await
                .ok()
        },
    )
    .await;
    let panel = c
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    println!(
        "panel in the phone preview: {:?}",
        panel.lines().take(3).collect::<Vec<_>>()
    );
    let width = c.execute("return innerWidth;", vec![]).await.unwrap();
    assert_eq!(width, 375, "the phone preview's panel fills its width");
    c.enter_parent_frame().await.unwrap();
    c.enter_parent_frame().await.unwrap();
    c.enter_parent_frame().await.unwrap();
    c.find(Locator::XPath(
        "//form[@aria-label='Widget settings']//button[@type='submit']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let done = c
        .wait()
        .for_element(Locator::Css("form[aria-label='Widget settings'] p.done"))
        .await
        .unwrap();
    println!("after Save: {}", done.text().await.unwrap());
    browser::axe_view(&c, "widget settings, saved", &mut seen).await;
    let site = api
        .send(api.admin(Method::GET, "/api/v1/admin/sites/demo"))
        .await;
    assert_eq!(site.body["launcher"]["label"], "Ask us");
    assert_eq!(site.body["launcher"]["x"], 48);
    assert_eq!(site.body["accent"], "#b91c1c");
    c.close().await.ok();

    // At 375 px the form and the preview stack.
    let c = browser::open(375, 800).await;
    browser::sign_in_to_inbox(&c, &edge.url, "Ana").await;
    browser::open_inbox_view(&c, "demo", "Widget").await;
    c.wait()
        .for_element(Locator::Css("iframe.look-frame"))
        .await
        .unwrap();
    // Nothing of the page reaches past the phone's width.
    let wide = c
        .execute(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
               .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, json!([]), "wider than the phone");
    browser::axe_view(&c, "widget settings, 375 px", &mut seen).await;
    browser::screenshot(&c, "widget-settings-375").await;
    c.close().await.ok();
    let found: Vec<_> = seen.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(found.is_empty(), "axe-core violations: {found:?}");
    edge.stop();
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
