//! Fake Cloudflare Turnstile: the browser script (`/turnstile/v0/api.js`, explicit rendering:
//! `turnstile.render(el, {sitekey, action, callback, 'error-callback', appearance, …})`) and
//! the siteverify API (`POST /turnstile/v0/siteverify`, JSON or form body with `secret` and
//! `response`), as Cloudflare documents them. Widgets are registered as (site key, secret)
//! pairs; tokens are single use (`timeout-or-duplicate` the second time), bound to their
//! widget (`invalid-input-response` under another secret) and carry the action they were made
//! for. Cloudflare's documented testing keys behave as documented: site key
//! `1x00000000000000000000AA` passes, `2x00000000000000000000AB` fails (error callback),
//! `3x00000000000000000000FF` needs the visitor to press its check box; the secret
//! `1x0000000000000000000000000000000AA` passes any token, `2x…AA` fails every one and
//! `3x…AA` answers "already spent".

use super::serve;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

pub const PASSING_SITE_KEY: &str = "1x00000000000000000000AA";
pub const FAILING_SITE_KEY: &str = "2x00000000000000000000AB";
pub const INTERACTIVE_SITE_KEY: &str = "3x00000000000000000000FF";
pub const PASSING_SECRET: &str = "1x0000000000000000000000000000000AA";
pub const FAILING_SECRET: &str = "2x0000000000000000000000000000000AA";
pub const SPENT_SECRET: &str = "3x0000000000000000000000000000000AA";

/// One siteverify call, as the fake saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    pub token: String,
    pub success: bool,
    pub error_codes: Vec<String>,
    /// Whether the caller sent the visitor's address (`remoteip`).
    pub had_remoteip: bool,
}

#[derive(Default)]
struct Inner {
    /// secret → site key.
    widgets: BTreeMap<String, String>,
    spent: BTreeSet<String>,
    verifications: Vec<Verification>,
}

#[derive(Clone)]
struct AppState(Arc<Mutex<Inner>>);

pub struct FakeTurnstile {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    _task: tokio::task::JoinHandle<()>,
}

impl FakeTurnstile {
    pub async fn start() -> FakeTurnstile {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/turnstile/v0/api.js", get(script))
            .route("/turnstile/v0/siteverify", post(siteverify))
            .with_state(AppState(inner.clone()));
        let (base, task) = serve(app).await;
        FakeTurnstile {
            base,
            inner,
            _task: task,
        }
    }

    /// Registers a widget: tokens its site key hands out verify under its secret only.
    pub fn widget(&self, site_key: &str, secret: &str) {
        self.inner
            .lock()
            .unwrap()
            .widgets
            .insert(secret.into(), site_key.into());
    }

    /// Every siteverify call so far.
    pub fn verifications(&self) -> Vec<Verification> {
        self.inner.lock().unwrap().verifications.clone()
    }
}

/// The browser script. A token is `<site key>.<action>.<random>`; the check runs for 300 ms.
async fn script() -> impl IntoResponse {
    const JS: &str = r#"(() => {
  const TESTING_FAIL = "2x00000000000000000000AB", TESTING_INTERACTIVE = "3x00000000000000000000FF";
  let next = 0;
  window.turnstile = {
    render(el, o) {
      const host = typeof el === "string" ? document.querySelector(el) : el;
      if (!host || !o || !o.sitekey) throw new Error("turnstile: render needs an element and a sitekey");
      const id = "cf-fake-" + (next++);
      const token = o.sitekey + "." + (o.action || "") + "." + crypto.randomUUID();
      const box = document.createElement("div");
      box.id = id;
      box.className = "cf-turnstile-fake";
      box.style.cssText = "width:300px;height:65px;box-sizing:border-box;border:1px solid #d1d5db;border-radius:4px;background:#fafafa;font:14px system-ui;display:flex;align-items:center;gap:10px;padding:0 14px;color:#111";
      const done = () => { box.textContent = "Success!"; o.callback && o.callback(token); };
      if (o.sitekey === TESTING_INTERACTIVE) {
        const label = document.createElement("label");
        label.style.cssText = "display:flex;align-items:center;gap:10px;cursor:pointer";
        const check = document.createElement("input");
        check.type = "checkbox";
        check.setAttribute("aria-label", "Verify you are human");
        check.addEventListener("change", () => setTimeout(done, 100));
        label.append(check, "Verify you are human");
        box.append(label);
        host.append(box);
      } else {
        box.textContent = "Verifying…";
        if (o.appearance !== "interaction-only") host.append(box);
        setTimeout(() => {
          if (o.sitekey === TESTING_FAIL) {
            box.textContent = "Failed";
            o["error-callback"] && o["error-callback"]("600010");
          } else {
            done();
          }
        }, 300);
      }
      return id;
    },
    reset() {},
    remove(id) { const b = document.getElementById(id); b && b.remove(); },
    getResponse() { return undefined; },
  };
})();
"#;
    ([("content-type", "text/javascript; charset=utf-8")], JS)
}

async fn siteverify(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let fields = super::body_json(ct.as_deref(), &body).unwrap_or(Value::Null);
    let text = |k: &str| fields[k].as_str().unwrap_or_default().to_owned();
    let (secret, token) = (text("secret"), text("response"));
    let mut inner = s.0.lock().unwrap();
    let mut parts = token.splitn(3, '.');
    let (token_key, action) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let registered = inner.widgets.contains_key(&secret);
    let error = if secret.is_empty() {
        Some("missing-input-secret")
    } else if token.is_empty() {
        Some("missing-input-response")
    } else if token.len() > 2048 {
        Some("invalid-input-response")
    } else if secret == PASSING_SECRET {
        None
    } else if secret == FAILING_SECRET {
        Some("invalid-input-response")
    } else if secret == SPENT_SECRET {
        Some("timeout-or-duplicate")
    } else if let Some(site_key) = inner.widgets.get(&secret).cloned() {
        if token_key != site_key || token.split('.').count() != 3 {
            Some("invalid-input-response")
        } else if !inner.spent.insert(token.clone()) {
            Some("timeout-or-duplicate")
        } else {
            None
        }
    } else {
        Some("invalid-input-secret")
    };
    inner.verifications.push(Verification {
        token: token.clone(),
        success: error.is_none(),
        error_codes: error.iter().map(|e| e.to_string()).collect(),
        had_remoteip: fields.get("remoteip").is_some(),
    });
    Json(match error {
        None => json!({
            "success": true,
            "error-codes": [],
            "challenge_ts": "2026-12-01T00:00:00.000Z",
            "hostname": "127.0.0.1",
            "action": if registered { action } else { String::new() },
            "cdata": "",
        }),
        Some(code) => json!({"success": false, "error-codes": [code], "messages": []}),
    })
}
