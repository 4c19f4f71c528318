//! Meta's webhook conventions, shared by WhatsApp and Messenger/Instagram: the `GET`
//! subscription handshake (`hub.verify_token`), `X-Hub-Signature-256` over the raw body, and
//! the answer to a batch of events.

use crate::error::{Error, Result};
use crate::http;
use beckon_shared::proto::v1::ErrorCode;
use worker::{Request, Response};

/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.
pub fn verify(app_secret: &str, header: Option<&str>, raw: &[u8]) -> bool {
    header
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .is_some_and(|hex| {
            crate::channels::api::hmac_sha256_hex_matches(app_secret.as_bytes(), &[raw], hex)
        })
}

/// The GET handshake: `hub.challenge` if `hub.mode=subscribe` and the verify token matches.
pub fn handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    verify_token: &str,
) -> Option<String> {
    let token_ok = token.is_some_and(|t| crate::auth::ct_eq(t.as_bytes(), verify_token.as_bytes()));
    (mode == Some("subscribe") && token_ok).then(|| challenge.unwrap_or_default().to_owned())
}

/// Answers the `GET` subscription handshake of a webhook whose verify token is `verify_token`.
pub fn subscription(req: &Request, verify_token: &str) -> Result<Response> {
    let q = http::query(req)?;
    let get = |k: &str| q.get(k).map(String::as_str);
    match handshake(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
        verify_token,
    ) {
        Some(challenge) => http::text(200, "text/plain; charset=utf-8", challenge),
        None => Err(Error::new(
            ErrorCode::Forbidden,
            "hub.verify_token does not match",
        )),
    }
}

/// The answer to a batch of events, every one handled even if some fail: 200, or the first
/// failure that asks Meta to deliver the batch again (5xx); a 4xx one would not be helped by
/// that, and does not hide a 5xx one.
#[derive(Default)]
pub struct BatchAnswer {
    again: Option<Error>,
}

impl BatchAnswer {
    pub fn failed(&mut self, what: &str, e: Error) {
        worker::console_error!("{what}: {e}");
        if e.status() >= 500 && self.again.is_none() {
            self.again = Some(e);
        }
    }

    pub fn answer(self) -> Result<Response> {
        match self.again {
            Some(e) => Err(e),
            None => crate::channels::inbound::ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const META_BODY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.TEST1","timestamp":"1749416383","type":"text","text":{"body":"Hi"}}]},"field":"messages"}]}]}"#;

    #[test]
    fn meta_fixture_signature_vector() {
        // CHANNELS.md Appendix A.
        let sig = "sha256=9f0818a2a67e699cf9398a3aa4b1ab709a0c6e0af39bdc9967b3fe06b4508e73";
        assert!(verify("test_app_secret", Some(sig), META_BODY.as_bytes()));
        assert!(!verify(
            "test_app_secret",
            Some(sig),
            META_BODY.replace("Hi", "Ho").as_bytes()
        ));
        assert!(!verify("wrong", Some(sig), META_BODY.as_bytes()));
        assert!(!verify(
            "test_app_secret",
            Some("9f0818a2"),
            META_BODY.as_bytes()
        ));
        assert!(!verify("test_app_secret", None, META_BODY.as_bytes()));
    }

    #[test]
    fn handshake_needs_mode_and_token() {
        assert_eq!(
            handshake(
                Some("subscribe"),
                Some("meatyhamhock"),
                Some("1158201444"),
                "meatyhamhock"
            )
            .as_deref(),
            Some("1158201444")
        );
        assert_eq!(
            handshake(
                Some("subscribe"),
                Some("nope"),
                Some("1158201444"),
                "meatyhamhock"
            ),
            None
        );
        assert_eq!(
            handshake(
                Some("unsubscribe"),
                Some("meatyhamhock"),
                Some("1"),
                "meatyhamhock"
            ),
            None
        );
    }
}
