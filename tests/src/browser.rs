//! A real headless Chromium driven over WebDriver (ChromeDriver + fantoccini), plus helpers
//! that act as a visitor would: find the launcher by its accessible name, type in the box
//! named "Message", press "Send", read the `role="log"`.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use crate::eventually;

struct Driver {
    port: u16,
    _child: Child,
}

fn driver() -> &'static Driver {
    static DRIVER: OnceLock<Driver> = OnceLock::new();
    DRIVER.get_or_init(|| {
        let port = crate::free_port();
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let mut c = Command::new(bin);
        c.arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let child = c
            .spawn()
            .expect("chromedriver (apt install chromium-driver; make test does it)");
        // Chromedriver and the browsers it started go when this test process goes.
        crate::edge::watchdog(child.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            port,
            _child: child,
        }
    })
}

/// Signs in to the inbox at `base` with the test admin key, as agent `name`.
pub async fn sign_in_to_inbox(agent: &Client, base: &str, name: &str) {
    agent.goto(&format!("{base}/console/")).await.unwrap();
    agent
        .wait()
        .for_element(Locator::Css("#admin-key"))
        .await
        .unwrap()
        .send_keys(crate::ADMIN_KEY)
        .await
        .unwrap();
    let who = agent.find(Locator::Css("#agent-name")).await.unwrap();
    who.clear().await.unwrap();
    who.send_keys(name).await.unwrap();
    agent
        .find(Locator::Css("#key-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    agent
        .wait()
        .for_element(Locator::Css("nav[aria-label=Views]"))
        .await
        .unwrap();
}

/// Fills the fields (`{kind}-{name}`) of the inbox's `kind` channel card and saves it; the
/// card.
/// Moves the mouse pointer over `element` (a hover: what the loader takes for intent).
pub async fn hover(c: &Client, element: &Element) {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction};
    c.perform_actions(
        MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element: element.clone(),
            duration: None,
            x: 0.0,
            y: 0.0,
        }),
    )
    .await
    .expect("move the pointer");
}

/// Moves the mouse pointer to the viewport's top left corner, away from the launcher (no
/// intent when the page under it reloads).
pub async fn pointer_away(c: &Client) {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction};
    c.perform_actions(
        MouseActions::new("mouse".into()).then(PointerAction::MoveTo {
            duration: None,
            x: 1.0,
            y: 1.0,
        }),
    )
    .await
    .expect("move the pointer away");
}

/// The names of the host page's IndexedDB databases that are the widget's (`beckon:…`).
pub async fn beckon_databases(c: &Client) -> Vec<String> {
    let names = c
        .execute_async(
            "const done = arguments[0];
             indexedDB.databases().then(l => done(l.map(d => d.name).filter(n => n.startsWith('beckon:'))));",
            vec![],
        )
        .await
        .expect("list the page's databases");
    serde_json::from_value(names).expect("database names")
}

/// Clicks the first element matching `css`.
pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Types `text` into the first element matching `css`.
pub async fn type_into(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Chooses the option labelled `label` in the first `select` matching `css`.
pub async fn choose(c: &Client, css: &str, label: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .select_by_label(label)
        .await
        .unwrap();
}

pub async fn save_channel_card(agent: &Client, kind: &str, fields: &[(&str, &str)]) -> Element {
    let card = agent
        .wait()
        .for_element(Locator::Css(&format!("form[aria-labelledby={kind}-h]")))
        .await
        .unwrap();
    for (field, value) in fields {
        card.find(Locator::Id(&format!("{kind}-{field}")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    card.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    card
}

/// The inbox's `kind` channel card, once its text contains `want`.
pub async fn channel_card_with(agent: &Client, kind: &str, want: &str) -> Option<Element> {
    let card = agent
        .find(Locator::Css(&format!("form[aria-labelledby={kind}-h]")))
        .await
        .ok()?;
    card.text()
        .await
        .ok()
        .filter(|t| t.contains(want))
        .map(|_| card)
}

/// In the signed-in inbox: picks `site` and opens the view whose button reads `view`.
pub async fn open_inbox_view(agent: &Client, site: &str, view: &str) {
    let select = agent
        .find(Locator::Css("select[aria-label=Site]"))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(20),
        "the site in the picker",
        || async { select.clone().select_by_value(site).await.ok() },
    )
    .await;
    agent
        .find(Locator::XPath(&format!(
            "//nav[@aria-label='Views']/button[.='{view}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Opens the conversation whose entry in the inbox's list shows `text` (once it is listed).
pub async fn open_conversation_showing(agent: &Client, text: &str) {
    let item = eventually(
        Duration::from_secs(30),
        "the conversation in the inbox list",
        || async {
            for b in agent
                .find_all(Locator::Css("nav[aria-label=Conversations] button.conv"))
                .await
                .ok()?
            {
                if b.text().await.ok()?.contains(text) {
                    return Some(b);
                }
            }
            None
        },
    )
    .await;
    item.click().await.unwrap();
}

/// A fresh browser (new profile: no storage, no cookies) with the given viewport.
pub async fn open(width: u32, height: u32) -> Client {
    open_in(width, height, "en-US").await
}

/// [`open`] in a browser whose language is `lang` (`navigator.language` and the
/// `Accept-Language` it sends), e.g. `"id-ID"`.
pub async fn open_in(width: u32, height: u32, lang: &str) -> Client {
    open_with(width, height, lang, &[]).await
}

/// [`open_in`] with more Chromium switches (e.g. `--force-dark-mode`: the system prefers dark).
pub async fn open_with(width: u32, height: u32, lang: &str, switches: &[&str]) -> Client {
    // Two browsers never share a profile (a shared one would make a visitor "returning").
    let profile = std::env::temp_dir().join(format!(
        "beckon-chrome-{}-{}",
        std::process::id(),
        crate::serial()
    ));
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--disable-dev-shm-usage".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", profile.display()),
        format!("--window-size={width},{height}"),
        format!("--lang={lang}"),
    ];
    args.extend(switches.iter().map(|s| s.to_string()));
    let caps = json!({
        "goog:chromeOptions": {
            "binary": std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": args,
            "prefs": { "intl.accept_languages": lang },
        },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(caps);
    let client = builder
        .connect(&format!("http://127.0.0.1:{}", driver().port))
        .await
        .expect("webdriver session");
    // Headless window size excludes nothing; make the viewport exactly what was asked.
    let _ = client.set_window_size(width, height).await;
    client
}

/// The launcher button inside the loader's shadow root (accessible name starts "Open chat"
/// or "Close chat").
pub async fn launcher(c: &Client) -> Element {
    eventually(Duration::from_secs(20), "the launcher", || async {
        let host = c.find(Locator::Css("#beckon-root")).await.ok()?;
        let root = host.shadow_root().await.ok()?;
        root.find(Locator::Css("button[aria-label]")).await.ok()
    })
    .await
}

/// The app iframe (inside the shadow root), if it exists.
pub async fn frame(c: &Client) -> Option<Element> {
    let host = c.find(Locator::Css("#beckon-root")).await.ok()?;
    host.shadow_root()
        .await
        .ok()?
        .find(Locator::Css("iframe"))
        .await
        .ok()
}

/// Clicks the launcher and switches into the chat iframe once its composer is there.
pub async fn open_chat(c: &Client) {
    launcher(c).await.click().await.expect("click launcher");
    enter_chat(c).await;
}

/// Switches into the chat iframe as soon as it exists (the app may still be starting).
pub async fn enter_frame(c: &Client) {
    let f = eventually(Duration::from_secs(20), "the chat iframe", || frame(c)).await;
    f.enter_frame().await.expect("enter iframe");
}

/// Switches into the chat iframe and waits for the app to render.
pub async fn enter_chat(c: &Client) {
    enter_frame(c).await;
    eventually(Duration::from_secs(30), "the message box", || async {
        c.find(Locator::Css("textarea[aria-label='Message']"))
            .await
            .ok()
    })
    .await;
}

/// Types `text` into the box named "Message" and presses the button named "Send".
pub async fn send_message(c: &Client, text: &str) {
    let input = c
        .find(Locator::Css("textarea[aria-label='Message']"))
        .await
        .unwrap();
    input.send_keys(text).await.unwrap();
    c.find(Locator::Css("button[aria-label='Send']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The bodies shown in the `role="log"`, in order (greeting excluded).
pub async fn log_bodies(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('[role=log] li.msg:not(.greeting) .body')].map(e => e.textContent)",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    serde_json::from_value(v).unwrap_or_default()
}

/// Waits until the log shows exactly `expected`.
pub async fn wait_for_log(c: &Client, expected: &[&str]) {
    let want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = log_bodies(c).await;
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "log shows {got:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Chrome's console log (ChromeDriver's `se/log` endpoint).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// The browser console since the last call, as (level, message).
pub async fn console_log(c: &Client) -> Vec<(String, String)> {
    match c.issue_cmd(BrowserLog).await {
        Ok(Value::Array(entries)) => entries
            .into_iter()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or("").to_owned(),
                    e["message"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Saves a PNG screenshot under `target/screenshots/` and returns its path.
pub async fn screenshot(c: &Client, name: &str) -> std::path::PathBuf {
    let dir = crate::repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, c.screenshot().await.expect("screenshot")).unwrap();
    path
}

/// The files shown in the log, in order, as (kind, name, loaded): `image` (with whether the
/// picture was decoded; one not decoded yet is scrolled into view, as pictures load lazily),
/// `video`, `doc`.
pub async fn log_files(c: &Client) -> Vec<(String, String, bool)> {
    let v = c
        .execute(
            r#"return [...document.querySelectorAll('[role=log] .file')].map(f => {
                 if (f.classList.contains('image')) {
                   const i = f.querySelector('img'); const ok = i.complete && i.naturalWidth > 0;
                   if (!ok) i.scrollIntoView({ block: 'nearest' });
                   return ['image', i.alt, ok];
                 }
                 if (f.classList.contains('video')) return ['video', f.getAttribute('aria-label'), true];
                 return ['doc', f.querySelector('.doc-name').textContent, true];
               })"#,
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    serde_json::from_value(v).unwrap_or_default()
}

/// Gives the page a file named `name` of type `mime` as a visitor would by pasting it into the
/// message box (`how = "paste"`) or dropping it on the conversation (`"drop"`).
pub async fn give_file(c: &Client, bytes: &[u8], name: &str, mime: &str, how: &str) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    c.execute(
        r#"const [b64, name, type, how] = arguments;
           const bin = atob(b64); const u8 = new Uint8Array(bin.length);
           for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
           const dt = new DataTransfer(); dt.items.add(new File([u8], name, { type }));
           const opts = { bubbles: true, cancelable: true };
           if (how === 'paste') document.querySelector("textarea[aria-label='Message']")
               .dispatchEvent(new ClipboardEvent('paste', { ...opts, clipboardData: dt }));
           else document.querySelector('[role=log]').dispatchEvent(new DragEvent('drop', { ...opts, dataTransfer: dt }));
           return true;"#,
        vec![json!(b64), json!(name), json!(mime), json!(how)],
    )
    .await
    .expect("give the page a file");
}

/// Records, in the current document, every upload progress bar that appears (by its label).
pub async fn watch_progress(c: &Client) {
    c.execute(
        r#"window.__progress = window.__progress || [];
           new MutationObserver(() => document.querySelectorAll('progress[aria-label]').forEach(p => {
             const l = p.getAttribute('aria-label'); if (!window.__progress.includes(l)) window.__progress.push(l);
           })).observe(document.body, { subtree: true, childList: true, attributes: true });
           return true;"#,
        vec![],
    )
    .await
    .unwrap();
}

/// The progress bars seen since [`watch_progress`].
pub async fn progress_seen(c: &Client) -> Vec<String> {
    let v = c
        .execute("return window.__progress || []", vec![])
        .await
        .unwrap_or(Value::Null);
    serde_json::from_value(v).unwrap_or_default()
}

/// axe-core's verdict on the current document (or frame), WCAG 2.x A and AA rules: each
/// violation as "rule (impact): help — targets". axe-core is the npm package `make test`
/// installs; it is evaluated through WebDriver, which the page's CSP does not apply to.
pub async fn axe(c: &Client) -> Vec<String> {
    static SOURCE: OnceLock<String> = OnceLock::new();
    let source = SOURCE.get_or_init(|| {
        let path = crate::repo_root().join("node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `npm ci`)", path.display()))
    });
    let script = format!(
        "{source}
         const done = arguments[arguments.length - 1];
         axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}}, resultTypes: ['violations']}})
           .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — '
               + v.nodes.map(n => n.target.join(' ')).join(', '))))
           .catch(e => done(['axe failed: ' + e]));"
    );
    let out = c.execute_async(&script, vec![]).await.expect("axe runs");
    serde_json::from_value(out).expect("axe answers a list")
}

/// Runs axe-core on the current document, prints the count for `view` (and each violation),
/// and keeps them in `seen` (a test asserts at its end that every view had none).
pub async fn axe_view(c: &Client, view: &str, seen: &mut Vec<(String, Vec<String>)>) {
    let violations = axe(c).await;
    println!("axe-core, {view}: {} violations", violations.len());
    for v in &violations {
        println!("  {v}");
    }
    seen.push((view.to_owned(), violations));
}

/// Presses `key` on whatever has the focus in the current frame.
pub async fn press(c: &Client, key: fantoccini::key::Key) {
    c.active_element()
        .await
        .expect("a focused element")
        .send_keys(&key.to_string())
        .await
        .expect("the key pressed");
}
