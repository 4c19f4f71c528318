//! The dashboard (`GET /api/v1/admin/sites/{site}/dashboard?from=&to=&tz=`): what the
//! site's conversations were and earned between two days — started per day by origin, how
//! fast and by whom they were answered and resolved (median and p90), the busiest hours,
//! the visitors' ratings (CSAT), and the funnels of rules and broadcasts — and the rating a
//! visitor gives a closed conversation in the widget.

use super::{Funnel, RuleFunnel};
use serde::{Deserialize, Serialize};

/// The longest range one dashboard covers, in days.
pub const MAX_DASHBOARD_DAYS: i64 = 366;

/// The question a closed conversation asks in the widget, and its answers (the reply buttons
/// the visitor taps), best first: each label's score is 5 down to 1.
pub const RATING_QUESTION: &str = "How would you rate this conversation?";
pub const RATING_LABELS: [&str; 5] = ["😀 Great", "🙂 Good", "😐 OK", "🙁 Poor", "😞 Bad"];
/// Said after a rating: the visitor's next message (within [`RATING_COMMENT_MS`]) is its
/// comment.
pub const RATING_THANKS: &str =
    "Thank you for rating! If you would like to add a comment, write it here.";
pub const RATING_COMMENT_MS: i64 = 30 * 60 * 1000;

/// The score (5 best … 1 worst) a message's text gives, if it is one of [`RATING_LABELS`].
pub fn rating_score(body: &str) -> Option<u8> {
    RATING_LABELS
        .iter()
        .position(|l| *l == body.trim())
        .map(|i| 5 - i as u8)
}

/// How a set of durations is spread: how many, the median and the 90th percentile
/// (nearest rank: the smallest value with at least that share of values at or below it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Spread {
    pub count: u64,
    pub median_ms: Option<u64>,
    pub p90_ms: Option<u64>,
}

impl Spread {
    pub fn of(mut values: Vec<u64>) -> Spread {
        values.sort_unstable();
        let rank = |p: u64| {
            let n = values.len() as u64;
            // ceil(p/100 · n), 1-based.
            let k = (p * n).div_ceil(100).max(1);
            values.get(k as usize - 1).copied()
        };
        Spread {
            count: values.len() as u64,
            median_ms: rank(50),
            p90_ms: rank(90),
        }
    }
}

/// Conversations started on one day, by who started them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct OriginDay {
    /// `YYYY-MM-DD` in the dashboard's time zone.
    pub day: String,
    pub visitor: u64,
    pub rule: u64,
    pub broadcast: u64,
    /// Started by the business ("start new conversation", writing first).
    pub business: u64,
}

/// One agent's (or, with no name, the unassigned conversations') response and resolution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct AgentTimes {
    /// Display name; `None`: nobody (unanswered by a person, or closed unassigned).
    pub agent: Option<String>,
    /// Time from the visitor's first message to the first answer, of the conversations
    /// started in the range this agent answered first.
    pub first_response: Spread,
    /// Time from start to close, of the conversations closed in the range assigned to them.
    pub resolution: Spread,
    /// Ratings of the conversations assigned to them: how many, and their mean (1–5).
    pub ratings: u64,
    pub rating_mean: Option<f64>,
}

/// A visitor's rating of a closed conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Rating {
    pub conversation_id: String,
    /// 5 (best) … 1 (worst).
    pub score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub rated_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

/// Ratings in the range: counts per score, the CSAT (share of 4 and 5), the mean, and the
/// newest with a comment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct RatingSummary {
    /// `[count of 1, …, count of 5]`.
    pub scores: [u64; 5],
    pub count: u64,
    /// Percent of ratings that are 4 or 5.
    pub csat_percent: Option<f64>,
    pub mean: Option<f64>,
    /// The newest comments (at most 20).
    pub comments: Vec<Rating>,
}

impl RatingSummary {
    pub fn of(scores: &[u8]) -> RatingSummary {
        let mut s = RatingSummary::default();
        for &score in scores.iter().filter(|s| (1..=5).contains(*s)) {
            s.scores[score as usize - 1] += 1;
            s.count += 1;
        }
        if s.count > 0 {
            let n = s.count as f64;
            s.csat_percent = Some((s.scores[3] + s.scores[4]) as f64 * 100.0 / n);
            let sum: u64 = s
                .scores
                .iter()
                .enumerate()
                .map(|(i, c)| (i as u64 + 1) * c)
                .sum();
            s.mean = Some(sum as f64 / n);
        }
        s
    }
}

/// One broadcast's funnel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct BroadcastResult {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub funnel: Funnel,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Dashboard {
    pub site: String,
    /// The days covered, inclusive, in the time zone `tz_offset_minutes` east of UTC.
    pub from: String,
    pub to: String,
    pub tz_offset_minutes: i32,
    /// Every day of the range, oldest first (days without conversations count zeros).
    pub days: Vec<OriginDay>,
    /// All conversations together, then each agent (most answered first).
    pub total: AgentTimes,
    pub agents: Vec<AgentTimes>,
    /// Conversations started per weekday (0 = Monday) and hour (0–23).
    pub hours: Vec<[u64; 24]>,
    pub ratings: RatingSummary,
    pub rules: Vec<RuleFunnel>,
    /// Broadcasts created in the range, newest first (at most 20).
    pub broadcasts: Vec<BroadcastResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_nearest_ranks() {
        assert_eq!(Spread::of(vec![]), Spread::default());
        let one = Spread::of(vec![7]);
        assert_eq!((one.median_ms, one.p90_ms), (Some(7), Some(7)));
        // 10 values 1..=10: median the 5th, p90 the 9th.
        let s = Spread::of((1..=10).rev().collect());
        assert_eq!((s.count, s.median_ms, s.p90_ms), (10, Some(5), Some(9)));
        // 3 values: median the 2nd, p90 the 3rd.
        let s = Spread::of(vec![30, 10, 20]);
        assert_eq!((s.median_ms, s.p90_ms), (Some(20), Some(30)));
    }

    #[test]
    fn ratings_are_scored_by_their_label_and_summarized() {
        assert_eq!(rating_score("😀 Great"), Some(5));
        assert_eq!(rating_score(" 😞 Bad "), Some(1));
        assert_eq!(rating_score("Great"), None);
        let s = RatingSummary::of(&[5, 4, 1, 5]);
        assert_eq!(s.scores, [1, 0, 0, 1, 2]);
        assert_eq!(s.count, 4);
        assert_eq!(s.csat_percent, Some(75.0));
        assert_eq!(s.mean, Some(3.75));
        assert_eq!(RatingSummary::of(&[]).mean, None);
    }
}
