//! People signed in as themselves, as a script or a browser holds them: the session cookie and
//! CSRF token, invitations, and signing in to the inbox in Chromium.

use crate::api::{Api, Reply};
use fantoccini::Locator;
use reqwest::Method;
use serde_json::Value;

const COOKIE: &str = "__Host-beckon_session";

/// A signed-in session as a script holds it: the cookie and the CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub set_cookie: String,
    pub body: Value,
}

/// Posts `body` to a sign-in route; the session it opened, or the refusal.
pub async fn open_session(api: &Api, path: &str, body: Value) -> Result<Session, Reply> {
    let resp = api.post(path).json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    let set_cookie = resp
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if status >= 300 {
        return Err(Reply { status, body });
    }
    let cookie = set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix(&format!("{COOKIE}=")))
        .expect("the session cookie")
        .to_owned();
    Ok(Session {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        set_cookie,
        body,
    })
}

/// A call made as `s` (its cookie; the CSRF token if `csrf`).
pub fn as_person(
    api: &Api,
    s: &Session,
    method: Method,
    path: &str,
    csrf: bool,
) -> reqwest::RequestBuilder {
    let mut req = api
        .http
        .request(method, format!("{}{path}", api.base))
        .header("cookie", format!("{COOKIE}={}", s.cookie));
    if csrf {
        req = req.header("x-csrf-token", &s.csrf);
    }
    req
}

/// Signs in to the inbox at `base` with an email and password, in Chromium.
pub async fn sign_in(c: &fantoccini::Client, base: &str, email: &str, password: &str) {
    c.goto(&format!("{base}/console/")).await.unwrap();
    c.wait().for_element(Locator::Css("#email")).await.unwrap();
    crate::browser::type_into(c, "#email", email).await;
    crate::browser::type_into(c, "#password", password).await;
    crate::browser::click(c, "#person-form button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("nav[aria-label=Views]"))
        .await
        .unwrap();
}

pub async fn invite(req: reqwest::RequestBuilder, body: Value) -> String {
    let resp = req.json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v["token"].as_str().unwrap().to_owned()
}
