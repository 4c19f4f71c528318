//! Cloudflare Turnstile on conversation starts, for sites that ask for it. The widget loads
//! Cloudflare's script on the visitor's first start and sends the single-use token it gets;
//! the edge checks that token with Cloudflare's siteverify API before any visitor or
//! conversation is created. Fails closed: no answer, an unreadable one or a refusal all
//! refuse the start (`challenge_failed`, 403). The verdict is pure; the fetch is a thin shell.

use crate::channels::ApiRequest;
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::storage::sites::Turnstile;
use beckon_shared::proto::v1::{Challenge, ErrorCode};
use beckon_shared::SiteKey;
use serde::Deserialize;

/// Where Turnstile's script, frames and siteverify API live.
pub const OFFICIAL_ORIGIN: &str = "https://challenges.cloudflare.com";

/// The action the widget names its tokens for; a token made for another action is refused.
pub const ACTION: &str = "start";

/// How long siteverify gets to answer before the start is refused.
const TIMEOUT_MS: u64 = 5_000;

/// Cloudflare's documented testing secrets (always pass, always fail, "already spent"): their
/// answers are dummies, without the action and hostname of a real challenge.
const TESTING_SECRETS: [&str; 3] = [
    "1x0000000000000000000000000000000AA",
    "2x0000000000000000000000000000000AA",
    "3x0000000000000000000000000000000AA",
];

/// Cloudflare's origin; or `TURNSTILE_ORIGIN`, a loopback origin honoured only where API bases
/// on this machine are ([`http::loopback_api_bases`]: tests and the local demo).
pub fn origin(env: &worker::Env) -> String {
    let loopback = http::loopback_api_bases(env);
    env.var("TURNSTILE_ORIGIN")
        .ok()
        .map(|v| v.to_string())
        .filter(|v| loopback && beckon_shared::proto::v1::is_loopback_http_origin(v))
        .unwrap_or_else(|| OFFICIAL_ORIGIN.to_owned())
}

/// What the widget needs to draw the site's challenge.
pub fn challenge(origin: &str, t: &Turnstile) -> Challenge {
    Challenge {
        site_key: t.site_key.clone(),
        script_url: format!("{origin}/turnstile/v0/api.js?render=explicit"),
    }
}

/// What a site's Turnstile secret is sealed to.
pub fn secret_aad(key: &SiteKey) -> String {
    format!("{key}/turnstile")
}

/// Siteverify's answer.
#[derive(Deserialize)]
struct Answer {
    success: bool,
    #[serde(default, rename = "error-codes")]
    error_codes: Vec<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    hostname: Option<String>,
}

/// Reads siteverify's answer: `Ok` for a valid token made for [`ACTION`] on `host` (the chat's
/// frame is served by the edge, so its challenges are solved there), otherwise what to tell
/// the visitor. `host: None`: a testing secret's dummy answer, where neither is checked.
pub fn verdict(status: u16, body: &str, host: Option<&str>) -> std::result::Result<(), String> {
    let unchecked = || {
        "The check that you are a person could not be completed; try again, or reload the page."
            .to_owned()
    };
    if status != 200 {
        return Err(unchecked());
    }
    let answer: Answer = serde_json::from_str(body).map_err(|_| unchecked())?;
    if !answer.success {
        let code = |c: &str| answer.error_codes.iter().any(|e| e == c);
        return Err(if code("timeout-or-duplicate") {
            "The check that you are a person expired or was used already; try again.".to_owned()
        } else if code("invalid-input-response") || code("missing-input-response") {
            "The check that you are a person did not pass; try again, or reload the page."
                .to_owned()
        } else {
            unchecked()
        });
    }
    let Some(host) = host else {
        return Ok(());
    };
    if answer.action.as_deref() != Some(ACTION) || answer.hostname.as_deref() != Some(host) {
        return Err("This check was made for another page or form; try again.".to_owned());
    }
    Ok(())
}

/// The host of an origin (`https://chat.example:8443` → `chat.example`).
fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, r)| r);
    rest.split([':', '/']).next().unwrap_or(rest)
}

/// Checks a start's token with siteverify (the visitor's address is not sent).
pub async fn verify(edge: &Edge, site: &SiteKey, t: &Turnstile, token: Option<&str>) -> Result<()> {
    let refuse = |why: String| Error::new(ErrorCode::ChallengeFailed, why);
    let Some(token) = token else {
        return Err(refuse(
            "This site now asks you to pass a short check first: reload the page and send again \
             (turnstile_token is missing)."
                .into(),
        ));
    };
    let secret = crate::secrets::open_at_rest(&edge.env, &secret_aad(site), &t.sealed_secret)?;
    let secret = String::from_utf8(secret).map_err(Error::internal)?;
    let req = ApiRequest::json(
        format!("{}/turnstile/v0/siteverify", origin(&edge.env)),
        None,
        &serde_json::json!({ "secret": secret, "response": token }),
    );
    let answer = crate::transport::send(&req, TIMEOUT_MS, None).await;
    let (status, body) = match answer {
        Ok(a) => (a.status, a.body),
        Err(e) => {
            worker::console_warn!("turnstile: siteverify did not answer: {e:?}");
            (0, String::new())
        }
    };
    let host = (!TESTING_SECRETS.contains(&secret.as_str())).then(|| host_of(&edge.self_origin));
    verdict(status, &body, host).map_err(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_token_for_this_action_and_host_passes_and_everything_else_is_refused() {
        let host = Some("chat.example");
        let ok = r#"{"success":true,"error-codes":[],"action":"start","hostname":"chat.example"}"#;
        assert_eq!(verdict(200, ok, host), Ok(()));
        // A testing secret's dummy answer has neither action nor our hostname.
        assert_eq!(
            verdict(200, r#"{"success":true,"error-codes":[]}"#, None),
            Ok(())
        );
        let refused = |status, body: &str| verdict(status, body, host).unwrap_err();
        for other in [
            r#"{"success":true,"error-codes":[],"action":"login","hostname":"chat.example"}"#,
            r#"{"success":true,"error-codes":[],"hostname":"chat.example"}"#,
            r#"{"success":true,"error-codes":[],"action":"start","hostname":"shop.example"}"#,
            r#"{"success":true,"error-codes":[],"action":"start"}"#,
        ] {
            assert!(
                refused(200, other).contains("another page or form"),
                "{other}"
            );
        }
        assert!(refused(
            200,
            r#"{"success":false,"error-codes":["timeout-or-duplicate"]}"#
        )
        .contains("used already"));
        assert!(refused(
            200,
            r#"{"success":false,"error-codes":["invalid-input-response"]}"#
        )
        .contains("did not pass"));
        // Fails closed: a misconfigured secret, an outage, a page instead of JSON.
        for (status, body) in [
            (
                200,
                r#"{"success":false,"error-codes":["invalid-input-secret"]}"#,
            ),
            (500, r#"{"success":true}"#),
            (200, "<html>"),
            (0, ""),
        ] {
            assert!(
                refused(status, body).contains("could not be completed"),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn hosts_of_origins() {
        assert_eq!(host_of("https://chat.example"), "chat.example");
        assert_eq!(host_of("http://127.0.0.1:8787"), "127.0.0.1");
        assert_eq!(host_of("https://chat.example:8443/x"), "chat.example");
    }

    #[test]
    fn the_script_is_rendered_explicitly_from_the_origin() {
        let t = Turnstile {
            site_key: "1x00000000000000000000AA".into(),
            sealed_secret: "v1.x.y".into(),
        };
        assert_eq!(
            challenge(OFFICIAL_ORIGIN, &t).script_url,
            "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit"
        );
    }
}
