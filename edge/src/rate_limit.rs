//! Rate limits on the public entry points. Two kinds:
//! - per client address, kept by Workers rate-limiting bindings (`[[ratelimits]]` in
//!   `wrangler.toml`, one per [`Limit`]; counted where they survive isolates), checked before
//!   any work and answered with 429 `rate_limited` and `Retry-After`;
//! - per conversation, a visitor's messages: a [`Bucket`] in the conversation's own object
//!   (no I/O on the message path), answered with an `error` frame the widget retries after.
//!
//! `RATE_LIMITS=off` (a variable) turns both off: the test suite and the bench drive
//! thousands of requests from one loopback address. Production never sets it.

use crate::error::{Error, Result};
use beckon_shared::proto::v1::ErrorCode;
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
    /// Admin requests with a wrong key (a right key is never limited).
    AdminFailures,
    /// Visitor WebSocket tickets (one per connect and reconnect).
    Tickets,
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
            Limit::Tickets => "LIMIT_TICKETS",
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
            Limit::Tickets => 300,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Limit::Conversations => "conversations started",
            Limit::Presence => "presence connections",
            Limit::Events => "events",
            Limit::Uploads => "uploads",
            Limit::AdminFailures => "failed sign-ins",
            Limit::Tickets => "connections",
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

async fn check_key(env: &Env, limit: Limit, key: &str) -> Result<()> {
    if !enabled(env) {
        return Ok(());
    }
    let outcome = env
        .rate_limiter(limit.binding())?
        .limit(format!("{}:{key}", limit.binding()))
        .await?;
    if outcome.success {
        Ok(())
    } else {
        Err(refused(limit.what(), limit.per_minute()))
    }
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

/// A token bucket (pure: the caller gives the time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: i64,
}

impl Bucket {
    pub fn full(now: i64) -> Bucket {
        Bucket {
            tokens: MESSAGE_BURST,
            at: now,
        }
    }

    /// Takes one token if there is one; otherwise how long until there is (ms).
    pub fn take(&mut self, now: i64) -> std::result::Result<(), i64> {
        let elapsed = (now - self.at).max(0) as f64;
        self.tokens = (self.tokens + elapsed / MESSAGE_INTERVAL_MS).min(MESSAGE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) * MESSAGE_INTERVAL_MS).ceil() as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let mut b = Bucket::full(0);
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
        let mut b = Bucket::full(0);
        b.take(0).unwrap();
        b.take(10_000_000).unwrap();
        assert!((b.tokens - (MESSAGE_BURST - 1.0)).abs() < 1e-9);
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
}
