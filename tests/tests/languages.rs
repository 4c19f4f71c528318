//! The widget in the visitor's language: Arabic right to left (the site's setting), Indonesian
//! from the browser's language, French asked for by the page before the loader ran (with an
//! identity and an open, all three applied), German switched to while the panel is open; plural
//! forms of the unread count; axe-core on every view; and `Beckon.shutdown` — the next visitor
//! of the page starts afresh.

use beckon_tests::api::Api;
use beckon_tests::edge::Edge;
use beckon_tests::{browser, eventually, host_page};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// The launcher's accessible name, from the host page.
async fn launcher_label(c: &Client) -> String {
    browser::launcher(c)
        .await
        .attr("aria-label")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Enters the app's frame and waits for its message box (named in whatever language).
async fn enter_app(c: &Client) {
    let f = eventually(WAIT, "the chat iframe", || browser::frame(c)).await;
    f.enter_frame().await.unwrap();
    eventually(Duration::from_secs(30), "the message box", || async {
        c.find(Locator::Css("textarea.input")).await.ok()
    })
    .await;
}

/// The first bubble: the site's greeting.
async fn greeting(c: &Client) -> String {
    let g = js(
        c,
        "return document.querySelector('li.greeting .body').textContent;",
    )
    .await;
    g.as_str().unwrap_or_default().to_owned()
}

async fn type_and_send(c: &Client, text: &str) {
    c.find(Locator::Css("textarea.input"))
        .await
        .unwrap()
        .send_keys(&format!("{text}{}", Key::Enter))
        .await
        .unwrap();
}

/// The document's language, direction, message box placeholder and header status.
async fn panel_texts(c: &Client) -> Value {
    js(
        c,
        "return [document.documentElement.lang, document.documentElement.dir,
                 document.querySelector('textarea.input').placeholder,
                 document.querySelector('.status').textContent];",
    )
    .await
}

#[tokio::test]
async fn arabic_reads_right_to_left_and_indonesian_comes_from_the_browser() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    let patch = |body: Value| api.patch_site("demo", body);
    let bad = patch(json!({"language": "pt"})).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    println!("language \"pt\" refused: {}", bad.body["error"]["message"]);
    let bad = patch(json!({"translations": {"fr": {"greeting": " "}}})).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    println!(
        "an empty greeting refused: {}",
        bad.body["error"]["message"]
    );
    let r = patch(json!({"language": "ar",
        "translations": {"ar": {"greeting": "أهلاً! اسألنا عن البن والتحميص."}}}))
    .await;
    assert_eq!((r.status, r.body["language"].as_str()), (200, Some("ar")));
    let mut seen = Vec::new();

    // Arabic, the site's setting, in an English browser: the launcher speaks Arabic from the
    // boot script and sits in the mirrored corner.
    let c = browser::open(1280, 800).await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    assert_eq!(launcher_label(&c).await, "افتح الدردشة");
    let corner = js(
        &c,
        "const r = document.querySelector('#beckon-root').shadowRoot.querySelector('button')
             .getBoundingClientRect(); return r.left < innerWidth / 2;",
    )
    .await;
    assert_eq!(corner, json!(true), "the launcher on the left");
    browser::axe_view(&c, "host page, Arabic launcher", &mut seen).await;

    browser::launcher(&c)
        .await
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    enter_app(&c).await;
    let texts = panel_texts(&c).await;
    println!("Arabic panel: {texts}");
    assert_eq!(
        texts,
        json!([
            "ar",
            "rtl",
            "اكتب رسالة…",
            "لا أحد متاح الآن · سنرد في أقرب وقت ممكن"
        ])
    );
    // The site's own greeting in Arabic.
    let greeting = c
        .find(Locator::Css(".greeting .body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(greeting, "أهلاً! اسألنا عن البن والتحميص.");
    browser::axe_view(&c, "open panel, empty, Arabic", &mut seen).await;
    type_and_send(&c, "مرحبا، هل تشحنون إلى القاهرة؟").await;
    let id = api.newest_conversation("demo", None).await;
    api.agent_reply(&id, "أهلاً! نعم، نشحن إلى القاهرة.").await;
    browser::wait_for_log(
        &c,
        &[
            "مرحبا، هل تشحنون إلى القاهرة؟",
            "أهلاً! نعم، نشحن إلى القاهرة.",
        ],
    )
    .await;
    // The visitor's bubble on the left, the business's on the right; a time in Arabic.
    let sides = js(
        &c,
        "const box = s => document.querySelector(s).getBoundingClientRect();
         return [box('li.mine .body').left < box('li.theirs:not(.greeting) .body').left,
                 box('li.theirs:not(.greeting) .body').right > innerWidth - 40,
                 document.querySelector('li.theirs:not(.greeting) time').textContent];",
    )
    .await;
    println!("Arabic bubbles (mine left of theirs, theirs at the right edge, time): {sides}");
    assert_eq!((&sides[0], &sides[1]), (&json!(true), &json!(true)));
    browser::axe_view(&c, "open panel with messages, Arabic", &mut seen).await;
    browser::screenshot(&c, "rtl-arabic-panel").await;

    // Escape closes; the launcher tells unread counts in Arabic's plural forms.
    browser::press(&c, Key::Escape).await;
    c.enter_parent_frame().await.unwrap();
    eventually(WAIT, "the launcher closed", || async {
        (launcher_label(&c).await == "افتح الدردشة").then_some(())
    })
    .await;
    for (n, want) in [
        (1, "رسالة واحدة غير مقروءة"),
        (2, "رسالتان غير مقروءتين"),
        (3, "3 رسائل غير مقروءة"),
        (11, "11 رسالة غير مقروءة"),
    ] {
        while api.admin_messages(&id).await.messages.len() < 2 + n {
            api.agent_reply(&id, "رسالة أخرى").await;
        }
        let label = eventually(WAIT, "the unread count", || async {
            let l = launcher_label(&c).await;
            l.contains(want).then_some(l)
        })
        .await;
        println!("{n} unread: {label}");
    }

    // A 375 px phone: the full-screen panel, right to left.
    c.set_window_size(375, 667).await.unwrap();
    browser::launcher(&c).await.click().await.unwrap();
    enter_app(&c).await;
    browser::axe_view(&c, "open panel with messages, Arabic, 375 px", &mut seen).await;
    browser::screenshot(&c, "rtl-arabic-375").await;
    c.close().await.ok();

    // Indonesian from the browser's language, the site back on "auto".
    let r = patch(json!({"language": "auto"})).await;
    assert_eq!((r.status, r.body["language"].as_str()), (200, Some("auto")));
    let c = browser::open_in(1280, 800, "id-ID").await;
    c.goto(&format!("{}/", edge.url)).await.unwrap();
    assert_eq!(launcher_label(&c).await, "Buka obrolan");
    browser::launcher(&c).await.click().await.unwrap();
    enter_app(&c).await;
    let texts = panel_texts(&c).await;
    println!("Indonesian panel: {texts}");
    assert_eq!(
        texts,
        json!([
            "id",
            "ltr",
            "Tulis pesan…",
            "Saat ini tidak ada yang online · kami akan membalas secepatnya"
        ])
    );
    type_and_send(&c, "Halo, apakah bisa kirim ke Jakarta?").await;
    browser::wait_for_log(&c, &["Halo, apakah bisa kirim ke Jakarta?"]).await;
    eventually(WAIT, "Terkirim", || async {
        let t = c
            .find(Locator::Css("li.mine .delivery"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (t == "Terkirim" || t == "Dilihat").then_some(())
    })
    .await;
    // A file the widget does not send: refused in Indonesian.
    browser::give_file(&c, b"MZ", "setup.exe", "application/x-msdownload", "drop").await;
    let notice = eventually(WAIT, "the refusal", || async {
        c.find(Locator::Css(".notice"))
            .await
            .ok()?
            .text()
            .await
            .ok()
    })
    .await;
    println!("Indonesian refusal: {notice}");
    assert!(
        notice.starts_with("setup.exe: jenis file ini tidak dapat dikirim"),
        "{notice}"
    );
    // A name the widget does not send: refused in Indonesian, with what to do.
    browser::give_file(&c, b"\xFF\xD8\xFF", "foto..jpg", "image/jpeg", "drop").await;
    let notice = eventually(WAIT, "the name's refusal", || async {
        let t = c
            .find(Locator::Css(".notice"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        t.starts_with("foto..jpg").then_some(t)
    })
    .await;
    println!("Indonesian name refusal: {notice}");
    assert_eq!(
        notice,
        "foto..jpg: nama file ini tidak dapat dikirim — ganti nama file lalu coba lagi."
    );
    browser::axe_view(&c, "open panel with messages, Indonesian", &mut seen).await;
    browser::screenshot(&c, "indonesian-panel").await;
    c.close().await.ok();

    let found: Vec<_> = seen.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(found.is_empty(), "axe-core violations: {found:#?}");
}

#[tokio::test]
async fn a_page_sets_the_language_identifies_and_opens_before_the_loader_then_shuts_down() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    // The site's own words in French and German: its greeting and the launcher's label.
    let r = api
        .patch_site(
            "demo",
            json!({"launcher": {"label": "Questions?"}, "translations": {
                "fr": {"greeting": "Bonjour ! Une question ?", "launcher": "Une question ?"},
                "de": {"greeting": "Hallo! Wie können wir helfen?", "launcher": "Fragen?"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Everything queued before the loader exists, listeners included.
    let page = host_page::serve_with_script(
        &edge.url,
        "demo",
        r#"window.seen = [];
           const note = (e) => (d) => window.seen.push([e, d && d.text !== undefined ? d.text : d === undefined ? null : d]);
           window.Beckon = {q: [
             ["setLocale", "fr"],
             ["identify", {name: "Ana Lima", email: "ana@example.com"}],
             ["open"],
             ["on", "ready", note("ready")], ["on", "open", note("open")],
             ["on", "message", note("message")], ["on", "unread", note("unread")]]};"#,
    )
    .await;
    let c = browser::open(1280, 800).await;
    c.goto(&page.url).await.unwrap();
    enter_app(&c).await;
    let texts = panel_texts(&c).await;
    println!("French panel: {texts}");
    assert_eq!(
        texts,
        json!([
            "fr",
            "ltr",
            "Écrivez un message…",
            "Personne n’est disponible · nous répondrons dès que possible"
        ])
    );
    c.enter_parent_frame().await.unwrap();
    assert_eq!(
        js(&c, "return Beckon.version;").await,
        json!(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        launcher_label(&c).await,
        "Fermer le chat",
        "the panel is open"
    );

    browser::frame(&c)
        .await
        .unwrap()
        .enter_frame()
        .await
        .unwrap();
    type_and_send(&c, "Bonjour, je voudrais un devis.").await;
    let first = api.newest_conversation("demo", None).await;
    // The identity queued before the loader reached the conversation's visitor.
    let who = eventually(WAIT, "the identity applied", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations/{first}/visitor"),
            ))
            .await;
        let c = &r.body["contact"];
        (c["name"] == "Ana Lima").then(|| c.clone())
    })
    .await;
    println!("identified: {who}");
    assert_eq!(who["email"], "ana@example.com");
    api.agent_reply(&first, "Bonjour Ana, avec plaisir !").await;
    browser::wait_for_log(
        &c,
        &[
            "Bonjour, je voudrais un devis.",
            "Bonjour Ana, avec plaisir !",
        ],
    )
    .await;

    assert_eq!(greeting(&c).await, "Bonjour ! Une question ?");

    // The language changes while the panel is open: a new app in German, the site's own
    // German words, the same conversation, the panel still open, the launcher in German.
    c.enter_parent_frame().await.unwrap();
    js(&c, "Beckon.setLocale('de'); return null;").await;
    let src = eventually(WAIT, "an app in German", || async {
        let src = browser::frame(&c).await?.attr("src").await.ok()??;
        src.ends_with("&lang=de").then_some(src)
    })
    .await;
    println!("after setLocale('de'), the app: {src}");
    eventually(WAIT, "the launcher in German", || async {
        (launcher_label(&c).await == "Chat schließen").then_some(())
    })
    .await;
    enter_app(&c).await;
    let texts = panel_texts(&c).await;
    println!("German panel: {texts}");
    assert_eq!(
        texts.as_array().unwrap()[0..3],
        [json!("de"), json!("ltr"), json!("Nachricht schreiben…")]
    );
    assert_eq!(greeting(&c).await, "Hallo! Wie können wir helfen?");
    browser::wait_for_log(
        &c,
        &[
            "Bonjour, je voudrais un devis.",
            "Bonjour Ana, avec plaisir !",
        ],
    )
    .await;
    c.enter_parent_frame().await.unwrap();
    let events = eventually(WAIT, "the page's listeners called", || async {
        let seen = js(&c, "return window.seen;").await;
        let has = |e: &str| seen.as_array()?.iter().any(|x| x[0] == e).then_some(());
        has("ready")?;
        has("open")?;
        seen.as_array()?
            .iter()
            .any(|x| x == &json!(["message", "Bonjour Ana, avec plaisir !"]))
            .then_some(seen)
    })
    .await;
    println!("events the page got: {events}");
    // Opened once (the app starting closed does not close the panel the page opened).
    let opens = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e[0] == "open")
        .count();
    assert_eq!(opens, 1, "{events}");
    // Closed, the launcher wears the site's German label.
    js(&c, "Beckon.close(); return null;").await;
    eventually(WAIT, "the German label", || async {
        (launcher_label(&c).await == "Fragen? - Chat öffnen").then_some(())
    })
    .await;

    // Sign-out: the visitor is forgotten; the next one on this browser starts afresh. The app
    // is replaced at once by one that clears the frame's storage as it starts.
    js(&c, "Beckon.shutdown(); return null;").await;
    let src = eventually(WAIT, "the app replaced", || async {
        let src = browser::frame(&c).await?.attr("src").await.ok()??;
        src.ends_with("&lang=de&forget=1").then_some(src)
    })
    .await;
    println!("after shutdown, the app: {src}");
    let left = js(
        &c,
        "return [Object.keys(localStorage).filter(k => k.startsWith('beckon:')),
                 Object.keys(sessionStorage).filter(k => k.startsWith('beckon:'))];",
    )
    .await;
    assert_eq!(left, json!([[], []]), "nothing of the visitor on the page");
    eventually(WAIT, "the page's mark of the visitor removed", || async {
        browser::beckon_databases(&c).await.is_empty().then_some(())
    })
    .await;
    assert_eq!(launcher_label(&c).await, "Fragen? - Chat öffnen");
    js(&c, "Beckon.open(); return null;").await;
    enter_app(&c).await;
    assert_eq!(browser::log_bodies(&c).await, Vec::<String>::new());
    type_and_send(&c, "Ich bin jemand anderes.").await;
    browser::wait_for_log(&c, &["Ich bin jemand anderes."]).await;
    let second = api.newest_conversation("demo", Some(&first)).await;
    assert_ne!(second, first);
    let r = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations/{second}/visitor"),
        ))
        .await;
    println!(
        "after shutdown: conversation {second}, contact {}",
        r.body["contact"]
    );
    assert!(
        r.body["contact"]["name"].is_null(),
        "the next visitor is not Ana: {}",
        r.body
    );
    assert_ne!(r.body["visitor_id"], Value::Null);
    c.close().await.ok();
}
