//! The outbox's decisions, pure and table-tested: what follows an attempt to send one item
//! (done, failed alone, retry when, give up — and what it says about the channel's health),
//! and how the delivery statuses a channel reports rank.

use crate::channels::Failure;
use beckon_shared::backoff;
use serde::{Deserialize, Serialize};

/// First retry waits about this long; each further one doubles, up to [`RETRY_CAP_MS`].
pub const RETRY_BASE_MS: u64 = 1_000;
pub const RETRY_CAP_MS: u64 = 5 * 60_000;
/// An item still failing after this many attempts (about a day at the cap) is given up.
pub const GIVE_UP_AFTER: u32 = 300;
/// A channel failing this many times in a row for one item is reported failing.
pub const REPORT_AFTER: u32 = 3;

/// What happens to the item after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Delivered: the item is done.
    Sent,
    /// The channel refused this item only: it is marked failed and the next one goes on.
    Failed { reason: String },
    /// Try again at `at`; this was attempt number `attempts`. Later items of the same
    /// target wait behind it, so order holds.
    RetryAt {
        at: i64,
        attempts: u32,
        reason: String,
    },
    /// Still failing after [`GIVE_UP_AFTER`] attempts: marked failed.
    GiveUp { reason: String },
}

/// What an attempt says about the channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// Nothing new (an error of ours, one refused item, a contact's own failure).
    Unchanged,
    Ok,
    Failing(String),
}

/// The facts an attempt is judged on.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    pub outcome: Result<(), &'a Failure>,
    /// Attempts made before this one.
    pub attempts_before: u32,
    pub now: i64,
    /// A uniformly random fraction in `[0, 1)` for the backoff's jitter.
    pub jitter: f64,
    /// The item went to the site's agents (a contact's own failure says nothing about the
    /// channel: a Telegram group the bot was removed from still fails).
    pub to_agents: bool,
    /// A test of the channel: any failure reports it failing at once.
    pub probe: bool,
}

/// Decides what follows an attempt.
pub fn decide(a: Attempt) -> (Next, Health) {
    let failure = match a.outcome {
        Ok(()) => {
            let health = if a.to_agents {
                Health::Ok
            } else {
                Health::Unchanged
            };
            return (Next::Sent, health);
        }
        Err(f) => f,
    };
    let reason = failure.reason();
    if let Failure::Rejected { .. } = failure {
        return (Next::Failed { reason }, Health::Unchanged);
    }
    let attempts = a.attempts_before + 1;
    let ours = matches!(failure, Failure::Internal { .. });
    let health = if a.to_agents
        && !ours
        && (a.probe || matches!(failure, Failure::Permanent { .. }) || attempts >= REPORT_AFTER)
    {
        Health::Failing(reason.clone())
    } else {
        Health::Unchanged
    };
    if attempts >= GIVE_UP_AFTER {
        return (Next::GiveUp { reason }, health);
    }
    let delay = backoff::delay_ms(attempts - 1, RETRY_BASE_MS, RETRY_CAP_MS, a.jitter);
    let hint = match failure {
        Failure::Retry { after_ms, .. } => after_ms.unwrap_or(0),
        _ => 0,
    };
    let next = Next::RetryAt {
        at: a.now + delay.max(hint) as i64,
        attempts,
        reason,
    };
    (next, health)
}

/// A delivery status a channel reported for one of our messages. Statuses can arrive out of
/// order: each one only moves a delivery forward in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Read,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }

    /// Whether a delivery at `current` moves to `self` (never back from read to delivered;
    /// an unknown stored status is moved from).
    pub fn advances(self, current: Option<DeliveryStatus>) -> bool {
        current.is_none_or(|c| self > c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(outcome: Result<(), &Failure>, before: u32) -> Attempt<'_> {
        Attempt {
            outcome,
            attempts_before: before,
            now: 1_000_000,
            jitter: 1.0,
            to_agents: true,
            probe: false,
        }
    }

    fn retry(after_ms: Option<u64>) -> Failure {
        Failure::Retry {
            after_ms,
            reason: "429".into(),
        }
    }

    #[test]
    fn decisions() {
        let permanent = Failure::Permanent {
            reason: "bad token".into(),
        };
        let rejected = Failure::Rejected {
            reason: "too long".into(),
        };
        let ours = Failure::internal("D1 down");
        let hinted = retry(Some(35_000));
        let plain = retry(None);
        let tiny_hint = retry(Some(1));
        // (outcome, attempts before) → (next, health)
        let table: Vec<(Result<(), &Failure>, u32, Next, Health)> = vec![
            (Ok(()), 0, Next::Sent, Health::Ok),
            (Ok(()), 7, Next::Sent, Health::Ok),
            (
                Err(&rejected),
                0,
                Next::Failed {
                    reason: "too long".into(),
                },
                Health::Unchanged,
            ),
            // First failure: retry after the base delay (jitter 1.0 = the ceiling).
            (
                Err(&plain),
                0,
                Next::RetryAt {
                    at: 1_001_000,
                    attempts: 1,
                    reason: "429".into(),
                },
                Health::Unchanged,
            ),
            // Never sooner than the channel's hint.
            (
                Err(&hinted),
                0,
                Next::RetryAt {
                    at: 1_035_000,
                    attempts: 1,
                    reason: "429".into(),
                },
                Health::Unchanged,
            ),
            // The backoff grows past a small hint.
            (
                Err(&tiny_hint),
                4,
                Next::RetryAt {
                    at: 1_016_000,
                    attempts: 5,
                    reason: "429".into(),
                },
                Health::Failing("429".into()),
            ),
            // Third failure in a row: the channel is reported failing.
            (
                Err(&plain),
                2,
                Next::RetryAt {
                    at: 1_004_000,
                    attempts: 3,
                    reason: "429".into(),
                },
                Health::Failing("429".into()),
            ),
            // A permanent failure is reported at once, and still retried (settings get fixed).
            (
                Err(&permanent),
                0,
                Next::RetryAt {
                    at: 1_001_000,
                    attempts: 1,
                    reason: "bad token".into(),
                },
                Health::Failing("bad token".into()),
            ),
            // Capped at five minutes.
            (
                Err(&plain),
                40,
                Next::RetryAt {
                    at: 1_300_000,
                    attempts: 41,
                    reason: "429".into(),
                },
                Health::Failing("429".into()),
            ),
            // Errors of ours are retried and never blamed on the channel.
            (
                Err(&ours),
                5,
                Next::RetryAt {
                    at: 1_032_000,
                    attempts: 6,
                    reason: "D1 down".into(),
                },
                Health::Unchanged,
            ),
            (
                Err(&plain),
                GIVE_UP_AFTER - 1,
                Next::GiveUp {
                    reason: "429".into(),
                },
                Health::Failing("429".into()),
            ),
        ];
        for (outcome, before, next, health) in table {
            assert_eq!(
                decide(attempt(outcome, before)),
                (next, health),
                "{outcome:?} after {before}"
            );
        }
    }

    #[test]
    fn contacts_never_change_health_and_probes_report_at_once() {
        let permanent = Failure::Permanent {
            reason: "blocked".into(),
        };
        let to_contact = Attempt {
            to_agents: false,
            ..attempt(Err(&permanent), 5)
        };
        assert_eq!(decide(to_contact).1, Health::Unchanged);
        let ok_to_contact = Attempt {
            to_agents: false,
            ..attempt(Ok(()), 0)
        };
        assert_eq!(decide(ok_to_contact), (Next::Sent, Health::Unchanged));
        let plain = retry(None);
        let probe = Attempt {
            probe: true,
            ..attempt(Err(&plain), 0)
        };
        assert_eq!(decide(probe).1, Health::Failing("429".into()));
    }

    #[test]
    fn statuses_only_move_forward() {
        use DeliveryStatus::*;
        // (current, reported) → moves?
        let table = [
            (None, Sent, true),
            (Some(Sent), Delivered, true),
            (Some(Sent), Read, true),
            (Some(Delivered), Read, true),
            (Some(Read), Delivered, false),
            (Some(Read), Sent, false),
            (Some(Delivered), Delivered, false),
            (Some(Read), Failed, true),
            (Some(Failed), Read, false),
        ];
        for (current, reported, moves) in table {
            assert_eq!(
                reported.advances(current),
                moves,
                "{current:?} → {reported:?}"
            );
        }
        for s in [Sent, Delivered, Read, Failed] {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeliveryStatus::parse("seen"), None);
    }
}
