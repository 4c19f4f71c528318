//! Proactive rules seen from outside: teaser events, goals and the metrics they add up to.

use super::ErrorCode;
use crate::ids::RuleId;
use serde::{Deserialize, Serialize};

/// What happened to a teaser (`POST /api/v1/sites/{site}/events`). Only aggregate counters
/// are kept: no visitor is identified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct TeaserEvent {
    pub rule_id: RuleId,
    pub kind: TeaserEventKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(rename_all = "snake_case")]
pub enum TeaserEventKind {
    /// The teaser appeared.
    Impression,
    /// The visitor opened the chat from it.
    Open,
    Dismiss,
}

/// `Beckon.track(name, {value})` after a conversation (`POST /api/v1/conversations/{id}/events`,
/// visitor token): a goal, credited to the rule that started the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct GoalEvent {
    pub name: String,
    #[serde(default)]
    pub value: Option<f64>,
}

impl GoalEvent {
    pub fn validated(self) -> Result<GoalEvent, (ErrorCode, String)> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && !self.name.chars().any(char::is_control);
        if !name_ok {
            return Err((ErrorCode::BadRequest, "name must be 1-64 characters".into()));
        }
        if self
            .value
            .is_some_and(|v| !v.is_finite() || !(0.0..=1e12).contains(&v))
        {
            return Err((
                ErrorCode::BadRequest,
                "value must be a number from 0 to 10^12".into(),
            ));
        }
        Ok(self)
    }
}

/// One rule's funnel on one day (UTC), or over a period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct RuleDay {
    pub day: String,
    pub impressions: u64,
    pub opens: u64,
    pub dismissals: u64,
    pub replies: u64,
    pub goals: u64,
    pub goal_value: f64,
    /// Average time from the visitor's reply to the first agent answer.
    #[serde(default)]
    pub avg_first_response_ms: Option<u64>,
}

/// One rule's funnel over the period, with its days.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct RuleFunnel {
    pub rule_id: String,
    /// The rule's current name (empty if it was deleted).
    pub name: String,
    pub totals: RuleDay,
    pub days: Vec<RuleDay>,
}

/// `GET /api/v1/admin/metrics?site=&from=&to=`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct MetricsReport {
    pub site: String,
    pub from: String,
    pub to: String,
    pub rules: Vec<RuleFunnel>,
}
