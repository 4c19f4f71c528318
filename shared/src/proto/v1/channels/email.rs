//! Email's settings and secrets: conversations are relayed to the business's support
//! addresses through an HTTP email API (Resend's `POST /emails`), each conversation one email
//! thread, and agents answer by replying: replies reach the Worker's email handler at
//! `reply+<token>@<reply_domain>` (CHANNELS.md §5).

use super::{bad, check_api_base, check_secret};
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The support addresses that receive the relays (1 to 5). Replies are taken from these
    /// addresses' domains only.
    pub to: Vec<String>,
    /// The sender, on a domain verified with the email API.
    pub from: String,
    /// The sender's display name (the site's name when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// The domain routed to this Worker's email handler (Email Routing, catch-all or
    /// `reply+*`): replies go to `reply+<token>@` it.
    pub reply_domain: String,
    #[serde(default)]
    pub api_base: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct EmailSecrets {
    /// The email API's key (`re_…`).
    pub api_key: String,
}

/// What a browser's `pattern` can ask of an address before the edge checks it: something, `@`,
/// and a domain with a dot (the widget's away and pre-chat forms).
pub const EMAIL_INPUT_PATTERN: &str = ".+@.+[.].+";

/// A plain address: `local@domain.tld`, lowercase, no display name.
pub fn check_address(s: &str) -> Option<String> {
    let a = s.trim().to_ascii_lowercase();
    let (local, domain) = a.split_once('@')?;
    let ok = !local.is_empty()
        && a.len() <= crate::limits::MAX_EMAIL_LEN
        && check_domain(domain).is_some()
        && a.bytes()
            .all(|b| b.is_ascii_graphic() && !b"<>()[]\\,;:\"".contains(&b) || b == b'@');
    ok.then_some(a)
}

/// A domain name with at least two labels.
pub fn check_domain(s: &str) -> Option<String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = d.split('.').collect();
    let ok = labels.len() >= 2
        && d.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then_some(d)
}

impl EmailSettings {
    /// The API base URL mail is sent through (the production host unless set).
    pub fn api_base(&self) -> &str {
        super::base_or(&self.api_base, super::ChannelKind::Email.default_api_base())
    }

    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        if self.to.is_empty() || self.to.len() > 5 {
            return bad("to must list 1 to 5 support addresses");
        }
        for a in self.to.iter_mut() {
            *a = check_address(a).ok_or((
                ErrorCode::BadRequest,
                format!("to: {a:?} is not an address like support@shop.example"),
            ))?;
        }
        self.from = check_address(&self.from).ok_or((
            ErrorCode::BadRequest,
            "from must be an address like chat@notify.shop.example".to_owned(),
        ))?;
        self.from_name = match self
            .from_name
            .as_deref()
            .map(|n| crate::text::normalize_label(n, 80))
        {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(n))) if !n.contains(['"', '<', '>', '@']) => Some(n),
            _ => {
                return bad("from_name must be one line of at most 80 characters, without \" < > @")
            }
        };
        self.reply_domain = check_domain(&self.reply_domain).ok_or((
            ErrorCode::BadRequest,
            "reply_domain must be a domain routed to this Worker, like inbound.shop.example"
                .to_owned(),
        ))?;
        if self
            .to
            .iter()
            .any(|a| a.ends_with(&format!("@{}", self.reply_domain)))
        {
            return bad("to must not be on reply_domain (mail would loop)");
        }
        check_api_base(&mut self.api_base)?;
        Ok(self)
    }
}

impl EmailSecrets {
    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        check_secret(&self.api_key)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EmailSettings {
        EmailSettings {
            to: vec![" Support@Shop.Example ".into()],
            from: "chat@notify.shop.example".into(),
            from_name: None,
            reply_domain: "inbound.shop.example.".into(),
            api_base: None,
        }
    }

    #[test]
    fn addresses_and_domains_are_checked_and_normalised() {
        let s = settings().validated().unwrap();
        assert_eq!(s.to, vec!["support@shop.example".to_owned()]);
        assert_eq!(s.reply_domain, "inbound.shop.example");
        assert_eq!(s.api_base(), "https://api.resend.com");
        for bad in [
            "support",
            "a@b",
            "a b@shop.example",
            "<a@shop.example>",
            "a@-x.example",
        ] {
            let s = EmailSettings {
                to: vec![bad.into()],
                ..settings()
            };
            assert!(s.validated().is_err(), "{bad}");
        }
        let looping = EmailSettings {
            to: vec!["x@inbound.shop.example".into()],
            ..settings()
        };
        assert!(looping.validated().is_err());
        let named = EmailSettings {
            from_name: Some("Shop <chat>".into()),
            ..settings()
        };
        assert!(named.validated().is_err());
    }
}
