//! Outbound webhooks' settings and secrets: the business's own endpoint that gets every
//! conversation event, signed per the Standard Webhooks specification (CHANNELS.md §6.2), and
//! may post replies back the same way.

use super::bad;
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};

/// How long a replaced secret still signs deliveries (beside the new one), so a consumer can
/// switch without missing or refusing an event.
pub const WEBHOOK_ROTATION_MS: i64 = 24 * 3600 * 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The endpoint events are posted to (https, on a public host).
    pub url: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct WebhookSecrets {
    /// `whsec_` followed by 24–64 random bytes in base64.
    pub secret: String,
    /// The secret this one replaced, still signing until its time is up. Kept by Beckon when
    /// the secret changes; never accepted from a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousSecret>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct PreviousSecret {
    pub secret: String,
    /// Milliseconds since the epoch after which it no longer signs.
    pub until: i64,
}

impl WebhookSettings {
    /// The endpoint: webhooks have no API base of their own.
    pub fn api_base(&self) -> &str {
        &self.url
    }

    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        let url = self.url.trim();
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && url.len() <= 500
            && !url.contains(|c: char| c.is_whitespace() || c.is_control());
        if !ok {
            return bad("url must be an http(s) URL of at most 500 characters");
        }
        Ok(WebhookSettings {
            url: url.to_owned(),
        })
    }
}

impl WebhookSecrets {
    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        if self.previous.is_some() {
            return bad(
                "secrets.previous is kept by Beckon when the secret changes; send only secret",
            );
        }
        if secret_key(&self.secret).is_none() {
            return bad("secret must be whsec_ followed by 24 to 64 random bytes in base64");
        }
        Ok(self)
    }

    /// The secrets that sign at `now`: the current one, then the replaced one during its
    /// rotation period.
    pub fn signing_keys(&self, now: i64) -> Vec<Vec<u8>> {
        let previous = self
            .previous
            .as_ref()
            .filter(|p| p.until > now)
            .map(|p| p.secret.as_str());
        std::iter::once(self.secret.as_str())
            .chain(previous)
            .filter_map(secret_key)
            .collect()
    }

    /// These secrets after `next` replaces them at `now`: the old secret keeps signing for
    /// [`WEBHOOK_ROTATION_MS`]. The same secret again changes nothing.
    pub fn rotated(self, next: WebhookSecrets, now: i64) -> WebhookSecrets {
        if next.secret == self.secret {
            return self;
        }
        WebhookSecrets {
            secret: next.secret,
            previous: Some(PreviousSecret {
                secret: self.secret,
                until: now + WEBHOOK_ROTATION_MS,
            }),
        }
    }
}

/// Where an event stands with the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(rename_all = "snake_case")]
pub enum WebhookDeliveryStatus {
    /// The endpoint answered 2xx.
    Delivered,
    /// The last attempt failed; it is retried with backoff (or can be replayed).
    Failing,
}

impl WebhookDeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookDeliveryStatus::Delivered => "delivered",
            WebhookDeliveryStatus::Failing => "failing",
        }
    }

    pub fn parse(s: &str) -> WebhookDeliveryStatus {
        match s {
            "delivered" => WebhookDeliveryStatus::Delivered,
            _ => WebhookDeliveryStatus::Failing,
        }
    }
}

/// One event in the delivery log (`GET …/webhook/deliveries`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct WebhookDelivery {
    /// Its `webhook-id`, the same on every attempt and replay.
    pub event_id: String,
    /// `conversation.started`, `message.created`, `test`.
    pub event_type: String,
    #[serde(default)]
    pub conversation_id: Option<String>,
    pub status: WebhookDeliveryStatus,
    pub attempts: u32,
    /// The endpoint's HTTP status on the last attempt, if it answered.
    #[serde(default)]
    pub response_status: Option<u16>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// The exact body delivered (what a replay sends again).
    pub payload: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `GET /api/v1/admin/sites/{site}/webhook/deliveries`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct WebhookDeliveries {
    pub deliveries: Vec<WebhookDelivery>,
}

/// The key bytes of a `whsec_…` secret (24–64 bytes), or `None`.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let b64 = secret.strip_prefix("whsec_")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    (24..=64).contains(&bytes.len()).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const B: &str = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3";

    #[test]
    fn secrets_are_whsec_base64_of_24_to_64_bytes() {
        assert_eq!(secret_key(A).map(|k| k.len()), Some(24));
        assert!(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none());
        assert!(secret_key("whsec_c2hvcnQ=").is_none(), "5 bytes");
        assert!(secret_key("whsec_not base64!").is_none());
        let s = |secret: &str| WebhookSecrets {
            secret: secret.into(),
            previous: None,
        };
        assert!(s(A).validated().is_ok());
        assert!(s("whsec_").validated().is_err());
        let mut with_previous = s(A);
        with_previous.previous = Some(PreviousSecret {
            secret: B.into(),
            until: i64::MAX,
        });
        assert!(with_previous.validated().is_err());
    }

    #[test]
    fn a_replaced_secret_signs_beside_the_new_one_for_a_day() {
        let old = WebhookSecrets {
            secret: A.into(),
            previous: None,
        };
        let same = old.clone().rotated(old.clone(), 1_000);
        assert!(same.previous.is_none());
        let new = old.rotated(
            WebhookSecrets {
                secret: B.into(),
                previous: None,
            },
            1_000,
        );
        assert_eq!(new.secret, B);
        let keys = new.signing_keys(1_000 + WEBHOOK_ROTATION_MS - 1);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], secret_key(B).unwrap());
        assert_eq!(keys[1], secret_key(A).unwrap());
        assert_eq!(new.signing_keys(1_000 + WEBHOOK_ROTATION_MS).len(), 1);
    }

    #[test]
    fn endpoints_are_public_https_unless_development_allows_this_machine() {
        use crate::proto::v1::ChannelSettings;
        let s = |url: &str| {
            ChannelSettings::Webhook(WebhookSettings { url: url.into() })
                .validated()
                .map_err(|e| e.1)
        };
        assert!(s("ftp://crm.example/hooks").is_err());
        assert!(s("").is_err());
        for (url, public, dev) in [
            ("https://crm.example.com/hooks/chat", true, true),
            ("http://crm.example.com/hooks/chat", false, false),
            ("http://127.0.0.1:9/hook", false, true),
            ("https://127.0.0.1/hook", false, true),
            ("https://10.0.0.7/hook", false, false),
            ("https://192.168.1.2:8443/hook", false, false),
            ("https://169.254.169.254/latest", false, false),
            ("https://printer.local/hook", false, false),
            ("https://intranet/hook", false, false),
            ("https://127.1/hook", false, false),
            ("https://0x7f.0.0.1/hook", false, false),
            ("https://010.0.0.1/hook", false, false),
            ("https://127.0.0.1./hook", false, false),
            ("https://localhost./hook", false, false),
            ("https://api.localhost/hook", false, false),
            ("https://user@10.0.0.7/hook", false, false),
            ("https://crm.example.com@10.0.0.7/hook", false, false),
            ("https://[::1]/hook", false, true),
            ("https://crm.example.com:8443/hook", true, true),
            ("https://8.8.8.8/hook", true, true),
            ("https://cafe.be/hook", true, true),
        ] {
            let settings = s(url).unwrap();
            assert_eq!(settings.check_api_host(false).is_ok(), public, "{url}");
            assert_eq!(settings.check_api_host(true).is_ok(), dev, "{url}");
        }
        // The endpoint is kept as given: its trailing slash may matter to its server.
        assert_eq!(
            s(" https://crm.example.com/hooks/ ").unwrap().api_base(),
            "https://crm.example.com/hooks/"
        );
    }
}
