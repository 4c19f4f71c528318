//! Tap → usable: in a real Chromium with a cold cache, the time from the visitor's
//! `pointerdown` on the launcher to the chat app's composer being visible and enabled — on a
//! desktop profile and on a phone profile (375 × 667, touch, 4× CPU slowdown; and the same on a
//! slow mobile network, where what the app downloads first shows). Both moments are
//! stamped by the page itself (`performance.timeOrigin + now()`, comparable across frames),
//! so WebDriver's own latency does not count.

use crate::browser;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use serde_json::{json, Value};
use std::time::Duration;

/// A Chrome DevTools Protocol command through ChromeDriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Runs one CDP command in `c`'s page.
pub async fn cdp(c: &Client, cmd: &'static str, params: Value) {
    c.issue_cmd(Cdp { cmd, params })
        .await
        .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"));
}

/// Stamps, installed in every document before its own scripts: the host page records its
/// first `pointerdown`; the chat frame records when its composer is first shown and enabled.
const STAMPS: &str = r#"(() => {
  const now = () => performance.timeOrigin + performance.now();
  if (window === top) {
    addEventListener("pointerdown", () => { window.__tapAt = window.__tapAt || now(); }, true);
    return;
  }
  const check = () => {
    if (window.__usableAt) return;
    const t = document.querySelector("textarea[aria-label='Message']");
    if (t && !t.disabled && t.getBoundingClientRect().height > 0) window.__usableAt = now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
})();"#;

#[derive(Clone, Copy, Debug)]
pub enum Profile {
    Desktop,
    /// 375 × 667 at 2×, touch, CPU slowed 4×.
    Phone,
    /// [`Profile::Phone`] on a slow mobile network (Chromium's emulation): 150 ms added to
    /// each request, 1.6 Mbit/s down, 675 kbit/s up.
    SlowPhone,
}

/// Makes `c` a phone as [`Profile::Phone`] has it: 375 × 667 at 2×, touch, CPU slowed 4×.
pub async fn emulate_phone(c: &Client) {
    cdp(
        c,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 375, "height": 667, "deviceScaleFactor": 2, "mobile": true }),
    )
    .await;
    cdp(
        c,
        "Emulation.setTouchEmulationEnabled",
        json!({ "enabled": true, "maxTouchPoints": 5 }),
    )
    .await;
    cdp(c, "Emulation.setCPUThrottlingRate", json!({ "rate": 4 })).await;
}

/// One cold run: a fresh browser (empty profile and cache) opens `page`, the launcher is
/// tapped; returns the milliseconds until the composer was usable.
pub async fn tap_to_usable(page: &str, profile: Profile) -> f64 {
    let (w, h) = match profile {
        Profile::Desktop => (1280, 800),
        Profile::Phone | Profile::SlowPhone => (375, 667),
    };
    let c = browser::open(w, h).await;
    cdp(
        &c,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": STAMPS }),
    )
    .await;
    if let Profile::SlowPhone = profile {
        cdp(&c, "Network.enable", json!({})).await;
        cdp(
            &c,
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": 150,
                    "downloadThroughput": 1_638_400 / 8, "uploadThroughput": 675_000 / 8 }),
        )
        .await;
    }
    if let Profile::Phone | Profile::SlowPhone = profile {
        emulate_phone(&c).await;
    }
    cdp(&c, "Network.clearBrowserCache", json!({})).await;
    c.goto(page).await.expect("open the host page");
    let launcher = browser::launcher(&c).await;
    // Let the page settle as a visitor's would before they reach for the launcher.
    tokio::time::sleep(Duration::from_millis(500)).await;
    launcher.click().await.expect("tap the launcher");
    let frame = browser::eventually(Duration::from_secs(30), "the chat iframe", || {
        browser::frame(&c)
    })
    .await;
    let tap = c
        .execute("return window.__tapAt || null", vec![])
        .await
        .unwrap()
        .as_f64()
        .expect("the host page saw no pointerdown");
    frame.enter_frame().await.expect("enter the chat iframe");
    let usable = browser::eventually(Duration::from_secs(30), "a usable composer", || async {
        c.execute("return window.__usableAt || null", vec![])
            .await
            .ok()?
            .as_f64()
    })
    .await;
    let _ = c.close().await;
    usable - tap
}
