//! Rate limits on the public entry points. Two kinds:
//! - per client address, kept by Workers rate-limiting bindings (`[[ratelimits]]` in
//!   `wrangler.toml`, one per [`Limit`]; counted where they survive isolates), checked before
//!   any work and answered with 429 `rate_limited` and `Retry-After`;
//! - per conversation, a visitor's messages: a [`Bucket`] in the conversation's own object
//!   (no I/O on the message path), answered with an `error` frame the widget retries after.
//!
//! A site may raise the per-address limits of its own entry points ([`check_site`]) with a
//! [`RateTier`] in its settings: beyond the standard allowance, the rest of its tier's is
//! counted in the tier's binding (`<BINDING>_HIGH`, `<BINDING>_HIGHEST`).
//!
//! `RATE_LIMITS=off` (a variable) turns both off: the test suite and the bench drive
//! thousands of requests from one loopback address. Production never sets it.

use crate::error::{Error, Result};
use crate::http::Edge;
use beckon_shared::proto::v1::{ErrorCode, RateTier};
use beckon_shared::SiteKey;
use worker::{Env, Request};

/// What a client address may do per minute (the bindings' `simple` settings must match).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Conversations started (each also issues a visitor token).
    Conversations,
    /// Presence sockets opened.
    Presence,
    /// Teaser events, goals and identify calls.
    Events,
    /// File uploads started.
    Uploads,
    /// Admin requests with a wrong key, wrong passwords and invalid invitations (a right key
    /// is never limited).
    AdminFailures,
    /// Sign-ins and invitation acceptances, right or wrong (each costs a password hash).
    SignIns,
    /// Sign-ins to one account, whichever address they come from (counted before the
    /// password is checked: guesses spread over many addresses are limited too).
    AccountSignIns,
    /// Visitor WebSocket tickets (one per connect and reconnect).
    Tickets,
    /// Page loads: a site's configuration, boot script and widget frame, and CORS
    /// preflights (each may cost a D1 read, the frame a call to the site's hub).
    Pages,
    /// File requests: upload parts, an upload's status, completion and cancelling, and
    /// downloads through a link that is not valid (a valid link counts per file:
    /// [`check_scoped`]).
    Files,
    /// Channel webhook requests, whichever site they name: high, since a provider posts from a
    /// few addresses (a WhatsApp broadcast's statuses come fast), and the channels that post
    /// events retry a refusal.
    Hooks,
}

impl Limit {
    /// The binding that counts it.
    pub fn binding(self) -> &'static str {
        match self {
            Limit::Conversations => "LIMIT_CONVERSATIONS",
            Limit::Presence => "LIMIT_PRESENCE",
            Limit::Events => "LIMIT_EVENTS",
            Limit::Uploads => "LIMIT_UPLOADS",
            Limit::AdminFailures => "LIMIT_ADMIN_FAILURES",
            Limit::SignIns => "LIMIT_SIGN_INS",
            Limit::AccountSignIns => "LIMIT_ACCOUNT_SIGN_INS",
            Limit::Tickets => "LIMIT_TICKETS",
            Limit::Hooks => "LIMIT_HOOKS",
            Limit::Pages => "LIMIT_PAGES",
            Limit::Files => "LIMIT_FILES",
        }
    }

    /// How many per [`PERIOD_SECS`] one address may do (as configured on the binding).
    pub fn per_minute(self) -> u32 {
        match self {
            Limit::Conversations => 20,
            Limit::Presence => 30,
            Limit::Events => 120,
            Limit::Uploads => 60,
            Limit::AdminFailures => 10,
            Limit::SignIns => 30,
            Limit::AccountSignIns => 10,
            Limit::Tickets => 300,
            Limit::Hooks => 6000,
            Limit::Pages => 600,
            // 20 a second: parts of 5 MB at 800 Mbit/s, or an inbox's thumbnails.
            Limit::Files => 1200,
        }
    }

    /// The binding that counts a tier's allowance beyond the standard one: it allows
    /// `(multiplier - 1) × per_minute` (`None` for the standard tier).
    /// Only a site's own entries have tiers: conversations, presence, events and pages.
    pub fn tier_binding(self, tier: RateTier) -> Option<String> {
        if !matches!(
            self,
            Limit::Conversations | Limit::Presence | Limit::Events | Limit::Pages
        ) {
            return None;
        }
        let suffix = match tier {
            RateTier::Standard => return None,
            RateTier::High => "HIGH",
            RateTier::Highest => "HIGHEST",
        };
        Some(format!("{}_{suffix}", self.binding()))
    }

    fn what(self) -> &'static str {
        match self {
            Limit::Conversations => "conversations started",
            Limit::Presence => "presence connections",
            Limit::Events => "events",
            Limit::Uploads => "uploads",
            Limit::AdminFailures => "failed sign-ins",
            Limit::SignIns => "sign-in attempts",
            Limit::AccountSignIns => "sign-ins to this account",
            Limit::Tickets => "connections",
            Limit::Hooks => "webhook requests",
            Limit::Pages => "page loads",
            Limit::Files => "file requests",
        }
    }
}

/// The bindings' window.
pub const PERIOD_SECS: u32 = 60;

/// Whether limits apply (see the module documentation).
pub fn enabled(env: &Env) -> bool {
    env.var("RATE_LIMITS")
        .map(|v| v.to_string() != "off")
        .unwrap_or(true)
}

/// The client's address as Cloudflare reports it (`CF-Connecting-IP`, set by the edge
/// network and by `wrangler dev`).
fn client_address(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into())
}

/// Counts one `limit` for the address `req` comes from; over the limit is `rate_limited`
/// (429, `Retry-After`).
pub async fn check(env: &Env, req: &Request, limit: Limit) -> Result<()> {
    check_key(env, limit, &client_address(req)).await
}

/// Like [`check`], on one of `site`'s public entry points: beyond the standard allowance, a
/// site with a higher [`RateTier`] has the rest of its tier's counted in the tier's binding,
/// per site and address.
/// The site is looked up (from the isolate's cache) only when the standard allowance is spent.
pub async fn check_site(edge: &Edge, req: &Request, limit: Limit, site: &SiteKey) -> Result<()> {
    let address = client_address(req);
    let Err(refusal) = check_key(&edge.env, limit, &address).await else {
        return Ok(());
    };
    if refusal.error_code() != ErrorCode::RateLimited {
        return Err(refusal);
    }
    // Unknown sites are cached too; a failed lookup keeps the refusal.
    let tier = match edge.db() {
        Ok(db) => crate::site_cache::get(&db, site, edge.now)
            .await
            .ok()
            .flatten()
            .map_or(RateTier::Standard, |b| b.settings.rate_tier),
        Err(_) => RateTier::Standard,
    };
    let Some(binding) = limit.tier_binding(tier) else {
        return Err(refusal);
    };
    if counted(&edge.env, &binding, &format!("{site}:{address}")).await? {
        Ok(())
    } else {
        Err(refused(
            limit.what(),
            limit.per_minute() * tier.multiplier(),
        ))
    }
}

/// Like [`check`], counted per client address and `scope` (what the request is about): each
/// scope has its own allowance.
pub async fn check_scoped(env: &Env, req: &Request, limit: Limit, scope: &str) -> Result<()> {
    check_key(env, limit, &format!("{}:{scope}", client_address(req))).await
}

/// Like [`check`], counted for `key` (an account) instead of the client's address.
pub async fn check_for(env: &Env, limit: Limit, key: &str) -> Result<()> {
    check_key(env, limit, key).await
}

async fn check_key(env: &Env, limit: Limit, key: &str) -> Result<()> {
    if !enabled(env) || counted(env, limit.binding(), key).await? {
        Ok(())
    } else {
        Err(refused(limit.what(), limit.per_minute()))
    }
}

/// Counts one for `key` in `binding`: whether it was within the binding's limit.
async fn counted(env: &Env, binding: &str, key: &str) -> Result<bool> {
    let outcome = env
        .rate_limiter(binding)?
        .limit(format!("{binding}:{key}"))
        .await?;
    Ok(outcome.success)
}

/// The refusal: what was limited and how many are allowed per minute.
fn refused(what: &str, per_minute: u32) -> Error {
    Error::new(
        ErrorCode::RateLimited,
        format!(
            "Too many {what} from this address (at most {per_minute} a minute); try again shortly."
        ),
    )
}

/// A visitor's messages in one conversation: [`MESSAGE_BURST`] at once, then one every
/// [`MESSAGE_INTERVAL_MS`].
pub const MESSAGE_BURST: f64 = 20.0;
pub const MESSAGE_INTERVAL_MS: f64 = 2_000.0;

/// After a refusal, every message for this long is refused too, even if a token comes back
/// meanwhile: the rest of a burst that arrived together is refused as a whole, so nothing in it
/// overtakes the refused message, which the client sends again, in order, after a longer pause
/// (the chat app's `RESEND_AFTER_MS`, 2,500 ms). A refusal during the hold does not extend it.
pub const REFUSAL_HOLD_MS: i64 = 1_000;

/// What a [`Bucket`] allows: `burst` at once, then one per `interval_ms`; after a refusal for
/// want of a token, everything refused for `hold_ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub burst: f64,
    pub interval_ms: f64,
    pub hold_ms: i64,
}

/// A visitor's messages in one conversation (and a presence socket's "here" frames).
pub const MESSAGES: Rate = Rate {
    burst: MESSAGE_BURST,
    interval_ms: MESSAGE_INTERVAL_MS,
    hold_ms: REFUSAL_HOLD_MS,
};

/// A token bucket (pure: the caller gives the time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    rate: Rate,
    tokens: f64,
    at: i64,
    /// Refusing everything until then (the rate's `hold_ms` after the last refusal for want
    /// of a token).
    held_until: i64,
}

impl Bucket {
    pub fn full(rate: Rate, now: i64) -> Bucket {
        Bucket {
            rate,
            tokens: rate.burst,
            at: now,
            held_until: i64::MIN,
        }
    }

    /// Takes one token if there is one; otherwise how long until there is (ms).
    pub fn take(&mut self, now: i64) -> std::result::Result<(), i64> {
        let elapsed = (now - self.at).max(0) as f64;
        let Rate {
            burst,
            interval_ms,
            hold_ms,
        } = self.rate;
        self.tokens = (self.tokens + elapsed / interval_ms).min(burst);
        self.at = now;
        let wait = ((1.0 - self.tokens) * interval_ms).ceil() as i64;
        if now < self.held_until {
            Err(wait.max(self.held_until - now))
        } else if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            self.held_until = now + hold_ms;
            Err(wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let mut b = Bucket::full(MESSAGES, 0);
        for _ in 0..MESSAGE_BURST as usize {
            assert_eq!(b.take(0), Ok(()));
        }
        assert_eq!(b.take(0), Err(MESSAGE_INTERVAL_MS as i64));
        assert_eq!(
            b.take(1_000),
            Err(1_000),
            "half a token after half the interval"
        );
        assert_eq!(b.take(2_000), Ok(()));
        assert!(b.take(2_000).is_err());
        // A long pause refills to the burst, never beyond.
        let mut b = Bucket::full(MESSAGES, 0);
        b.take(0).unwrap();
        b.take(10_000_000).unwrap();
        assert!((b.tokens - (MESSAGE_BURST - 1.0)).abs() < 1e-9);
    }

    /// What CI once caught: a burst refused from its 31st message on, and a token that came
    /// back while the rest was still being read let the 38th through ahead of the 31st.
    #[test]
    fn nothing_overtakes_a_refused_message() {
        let mut b = Bucket::full(MESSAGES, 0);
        for _ in 0..MESSAGE_BURST as usize {
            b.take(0).unwrap();
        }
        // Refused just before a token is back (one interval after the burst)…
        let refill = MESSAGE_INTERVAL_MS as i64;
        assert!(b.take(refill - 10).is_err(), "the burst is spent");
        // … and the token is back, but the rest of the burst is still refused.
        assert!(b.take(refill + 10).is_err(), "held");
        assert!(b.take(refill - 10 + REFUSAL_HOLD_MS).is_ok(), "hold over");
        // A refusal during the hold does not extend it: no livelock for a client that resends
        // within it.
        let mut b = Bucket::full(MESSAGES, 0);
        for _ in 0..MESSAGE_BURST as usize {
            b.take(0).unwrap();
        }
        assert!(b.take(0).is_err());
        assert!(b.take(REFUSAL_HOLD_MS - 1).is_err());
        assert!(b.take(refill).is_ok());
    }

    #[test]
    fn refusals_say_what_and_how_many() {
        let e = refused(
            Limit::Conversations.what(),
            Limit::Conversations.per_minute(),
        );
        assert_eq!(e.error_code(), ErrorCode::RateLimited);
        assert!(e.body().error.message.contains("at most 20 a minute"));
    }

    /// `wrangler.toml`'s `[[ratelimits]]` allow what [`Limit::per_minute`] and the tiers say.
    #[test]
    fn the_bindings_match_the_constants() {
        let config = include_str!("../../wrangler.toml");
        let bindings: std::collections::HashMap<&str, u32> = config
            .split("[[ratelimits]]")
            .skip(1)
            .map(|block| {
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.trim().strip_prefix(name))
                        .unwrap()
                        .trim()
                };
                let name = field("name = ").trim_matches('"');
                let simple = field("simple = ");
                assert!(simple.ends_with("period = 60 }"), "{name}: {simple}");
                let limit = simple
                    .strip_prefix("{ limit = ")
                    .and_then(|s| s.split(',').next())
                    .unwrap()
                    .parse()
                    .unwrap();
                (name, limit)
            })
            .collect();
        let all = [
            Limit::Conversations,
            Limit::Presence,
            Limit::Events,
            Limit::Uploads,
            Limit::AdminFailures,
            Limit::SignIns,
            Limit::AccountSignIns,
            Limit::Tickets,
            Limit::Hooks,
            Limit::Pages,
            Limit::Files,
        ];
        let mut expected = 0;
        for limit in all {
            assert_eq!(bindings[limit.binding()], limit.per_minute(), "{limit:?}");
            expected += 1;
            for tier in [RateTier::High, RateTier::Highest] {
                if let Some(b) = limit.tier_binding(tier) {
                    let n = bindings.get(b.as_str()).copied();
                    assert_eq!(n, Some(limit.per_minute() * (tier.multiplier() - 1)), "{b}");
                    expected += 1;
                }
            }
        }
        assert_eq!(bindings.len(), expected, "a binding without a Limit");
        assert_eq!(PERIOD_SECS, 60);
    }

    #[test]
    fn tiers_have_their_own_bindings() {
        assert_eq!(Limit::Presence.tier_binding(RateTier::Standard), None);
        assert_eq!(Limit::Uploads.tier_binding(RateTier::Highest), None);
        assert_eq!(
            Limit::Conversations.tier_binding(RateTier::High).as_deref(),
            Some("LIMIT_CONVERSATIONS_HIGH")
        );
        assert_eq!(
            Limit::Events.tier_binding(RateTier::Highest).as_deref(),
            Some("LIMIT_EVENTS_HIGHEST")
        );
    }
}
