//! The `rules` and `rule_metrics` tables: a site's proactive rules (stored as their JSON
//! definition), and per-rule, per-day funnel counters — aggregates only, never a visitor.

use super::{stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{ErrorCode, RuleDay, RuleFunnel};
use beckon_shared::rules::Rule;
use beckon_shared::{ConversationId, RuleId, SiteKey};
use serde::Deserialize;
use std::collections::BTreeMap;
use worker::D1Database;

#[derive(Deserialize)]
struct Row {
    definition: String,
}

/// The site's rules, in creation order.
pub async fn list(db: &D1Database, site: &SiteKey) -> Result<Vec<Rule>> {
    let rows: Vec<Row> = stmt(
        db,
        "SELECT definition FROM rules WHERE site_key = ?1 ORDER BY position, id",
        &[Arg::Str(site.as_str())],
    )?
    .all()
    .await?
    .results()?;
    rows.iter()
        .map(|r| serde_json::from_str(&r.definition).map_err(Error::internal))
        .collect()
}

pub async fn get(db: &D1Database, site: &SiteKey, id: &RuleId) -> Result<Option<Rule>> {
    let row: Option<Row> = stmt(
        db,
        "SELECT definition FROM rules WHERE site_key = ?1 AND id = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .first(None)
    .await?;
    row.map(|r| serde_json::from_str(&r.definition).map_err(Error::internal))
        .transpose()
}

/// Creates a rule; `conflict` if its id is taken.
pub async fn insert(db: &D1Database, site: &SiteKey, rule: &Rule, now: i64) -> Result<()> {
    let definition = serde_json::to_string(rule).map_err(Error::internal)?;
    let result = stmt(
        db,
        "INSERT INTO rules (site_key, id, position, definition, created_at, updated_at)
         VALUES (?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM rules WHERE site_key = ?1), ?3, ?4, ?4)",
        &[Arg::Str(site.as_str()), Arg::Str(rule.id.as_str()), Arg::Str(&definition), Arg::Int(now)],
    )?
    .run()
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if super::is_unique_violation(&e) => Err(Error::new(
            ErrorCode::Conflict,
            format!("rule {} already exists", rule.id),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Replaces an existing rule; `not_found` if there is none.
pub async fn update(db: &D1Database, site: &SiteKey, rule: &Rule, now: i64) -> Result<()> {
    let definition = serde_json::to_string(rule).map_err(Error::internal)?;
    let result = stmt(
        db,
        "UPDATE rules SET definition = ?3, updated_at = ?4 WHERE site_key = ?1 AND id = ?2",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(rule.id.as_str()),
            Arg::Str(&definition),
            Arg::Int(now),
        ],
    )?
    .run()
    .await?;
    if !super::changed_any(&result)? {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("no rule {}", rule.id),
        ));
    }
    Ok(())
}

pub async fn delete(db: &D1Database, site: &SiteKey, id: &RuleId) -> Result<()> {
    let result = stmt(
        db,
        "DELETE FROM rules WHERE site_key = ?1 AND id = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .run()
    .await?;
    if !super::changed_any(&result)? {
        return Err(Error::new(ErrorCode::NotFound, format!("no rule {id}")));
    }
    Ok(())
}

/// A funnel counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    Impression,
    Open,
    Dismissal,
    Reply,
}

impl Counter {
    fn column(self) -> &'static str {
        match self {
            Counter::Impression => "impressions",
            Counter::Open => "opens",
            Counter::Dismissal => "dismissals",
            Counter::Reply => "replies",
        }
    }
}

/// `YYYY-MM-DD` (UTC) of a millisecond timestamp.
pub fn day(ms: i64) -> String {
    let (y, m, d) = beckon_shared::rules::tz::civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

async fn bump(
    db: &D1Database,
    site: &SiteKey,
    rule: &str,
    at_ms: i64,
    set: &str,
    args: &[Arg<'_>],
) -> Result<()> {
    let day = day(at_ms);
    let mut all = vec![Arg::Str(site.as_str()), Arg::Str(rule), Arg::Str(&day)];
    all.extend_from_slice(args);
    // One batch, so the row's creation and its increment are applied together.
    let create = stmt(
        db,
        "INSERT INTO rule_metrics (site_key, rule_id, day) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        &all[..3],
    )?;
    let update = stmt(
        db,
        &format!("UPDATE rule_metrics SET {set} WHERE site_key = ?1 AND rule_id = ?2 AND day = ?3"),
        &all,
    )?;
    db.batch(vec![create, update]).await?;
    Ok(())
}

/// Adds one to a counter of `rule` for the day of `at_ms`.
pub async fn count(
    db: &D1Database,
    site: &SiteKey,
    rule: &str,
    counter: Counter,
    at_ms: i64,
) -> Result<()> {
    let column = counter.column();
    bump(
        db,
        site,
        rule,
        at_ms,
        &format!("{column} = {column} + 1"),
        &[],
    )
    .await
}

/// Claims goal `name` of conversation `conv` for the request holding `token`, if the
/// conversation has fewer than `MAX_GOALS_PER_CONVERSATION` and not this one yet: the statement
/// a batch runs before the counter it guards (a rule's, a broadcast's).
pub(crate) fn goal_claim(
    db: &D1Database,
    conv: &str,
    name: &str,
    token: &str,
    (value, at_ms): (f64, i64),
) -> Result<worker::D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO goal_credits (conversation_id, name, token, value, at)
         SELECT ?1, ?2, ?3, ?4, ?5
         WHERE (SELECT COUNT(*) FROM goal_credits WHERE conversation_id = ?1) < ?6
         ON CONFLICT DO NOTHING",
        &[
            Arg::Str(conv),
            Arg::Str(name),
            Arg::Str(token),
            Arg::Float(value),
            Arg::Int(at_ms),
            Arg::Int(beckon_shared::limits::MAX_GOALS_PER_CONVERSATION),
        ],
    )
}

/// Whether a batch's last statement changed a row (the counter its claim guarded).
pub(crate) fn last_changed(results: &[worker::D1Result]) -> Result<bool> {
    match results.last() {
        Some(r) => super::changed_any(r),
        None => Ok(false),
    }
}

/// Records a goal (and its value) credited to `rule`.
pub async fn goal(db: &D1Database, site: &SiteKey, credit: &GoalCredit<'_>) -> Result<bool> {
    let day = day(credit.at_ms);
    let token = crate::random::hex_id("g");
    let (site, rule, conv) = (site.as_str(), credit.rule, credit.conversation.as_str());
    // One transaction: claim (conversation, name) while the conversation has fewer than
    // `MAX_GOALS_PER_CONVERSATION`, make sure the day's row exists, and count only if this
    // request made the claim — a repeated goal, or one past the cap, changes nothing.
    let claim = goal_claim(db, conv, credit.name, &token, (credit.value, credit.at_ms))?;
    let create = stmt(
        db,
        "INSERT INTO rule_metrics (site_key, rule_id, day) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        &[Arg::Str(site), Arg::Str(rule), Arg::Str(&day)],
    )?;
    let update = stmt(
        db,
        "UPDATE rule_metrics SET goals = goals + 1, goal_value = goal_value + ?4
         WHERE site_key = ?1 AND rule_id = ?2 AND day = ?3
           AND EXISTS (SELECT 1 FROM goal_credits WHERE conversation_id = ?5 AND name = ?6 AND token = ?7)",
        &[
            Arg::Str(site),
            Arg::Str(rule),
            Arg::Str(&day),
            Arg::Float(credit.value),
            Arg::Str(conv),
            Arg::Str(credit.name),
            Arg::Str(&token),
        ],
    )?;
    let results = db.batch(vec![claim, create, update]).await?;
    last_changed(&results)
}

/// A goal reached in a conversation a rule started.
pub struct GoalCredit<'a> {
    pub rule: &'a str,
    pub conversation: &'a ConversationId,
    pub name: &'a str,
    pub value: f64,
    pub at_ms: i64,
}

/// Records the time to the first agent answer of a conversation the rule started.
pub async fn first_response(
    db: &D1Database,
    site: &SiteKey,
    rule: &str,
    ms: i64,
    at_ms: i64,
) -> Result<()> {
    bump(
        db,
        site,
        rule,
        at_ms,
        "first_response_ms = first_response_ms + ?4, first_responses = first_responses + 1",
        &[Arg::Int(ms)],
    )
    .await
}

#[derive(Deserialize)]
struct MetricsRow {
    rule_id: String,
    day: String,
    impressions: i64,
    opens: i64,
    dismissals: i64,
    replies: i64,
    goals: i64,
    goal_value: f64,
    first_response_ms: i64,
    first_responses: i64,
}

/// Every rule's funnel between two days (inclusive), named, with per-day rows.
pub async fn report_named(
    db: &D1Database,
    site: &SiteKey,
    from: &str,
    to: &str,
) -> Result<Vec<RuleFunnel>> {
    let names: BTreeMap<String, String> = list(db, site)
        .await?
        .into_iter()
        .map(|r| (r.id.to_string(), r.name))
        .collect();
    report(db, site, from, to, &names).await
}

/// Per-rule funnels between two days (inclusive), with per-day rows; `names` names the rules.
pub async fn report(
    db: &D1Database,
    site: &SiteKey,
    from: &str,
    to: &str,
    names: &BTreeMap<String, String>,
) -> Result<Vec<RuleFunnel>> {
    let rows: Vec<MetricsRow> = stmt(
        db,
        "SELECT rule_id, day, impressions, opens, dismissals, replies, goals, goal_value, first_response_ms, first_responses
         FROM rule_metrics WHERE site_key = ?1 AND day >= ?2 AND day <= ?3 ORDER BY rule_id, day",
        &[Arg::Str(site.as_str()), Arg::Str(from), Arg::Str(to)],
    )?
    .all()
    .await?
    .results()?;
    let mut funnels: BTreeMap<String, (RuleFunnel, i64, i64)> = BTreeMap::new();
    for r in rows {
        let entry = funnels.entry(r.rule_id.clone()).or_insert_with(|| {
            let funnel = RuleFunnel {
                rule_id: r.rule_id.clone(),
                name: names.get(&r.rule_id).cloned().unwrap_or_default(),
                ..Default::default()
            };
            (funnel, 0, 0)
        });
        let d = RuleDay {
            day: r.day,
            impressions: r.impressions.max(0) as u64,
            opens: r.opens.max(0) as u64,
            dismissals: r.dismissals.max(0) as u64,
            replies: r.replies.max(0) as u64,
            goals: r.goals.max(0) as u64,
            goal_value: r.goal_value,
            avg_first_response_ms: (r.first_responses > 0)
                .then(|| (r.first_response_ms / r.first_responses).max(0) as u64),
        };
        let t = &mut entry.0.totals;
        t.impressions += d.impressions;
        t.opens += d.opens;
        t.dismissals += d.dismissals;
        t.replies += d.replies;
        t.goals += d.goals;
        t.goal_value += d.goal_value;
        entry.1 += r.first_response_ms;
        entry.2 += r.first_responses;
        entry.0.days.push(d);
    }
    // Rules with no activity yet still get a (zero) funnel.
    for (id, name) in names {
        funnels.entry(id.clone()).or_insert_with(|| {
            (
                RuleFunnel {
                    rule_id: id.clone(),
                    name: name.clone(),
                    ..Default::default()
                },
                0,
                0,
            )
        });
    }
    Ok(funnels
        .into_values()
        .map(|(mut f, sum, n)| {
            f.totals.day = format!("{from}..{to}");
            f.totals.avg_first_response_ms = (n > 0).then(|| (sum / n).max(0) as u64);
            f
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_utc_dates() {
        assert_eq!(super::day(0), "1970-01-01");
        assert_eq!(super::day(1_795_787_084_000), "2026-11-27");
        assert_eq!(super::day(1_795_823_999_999), "2026-11-27");
        assert_eq!(super::day(1_795_824_000_000), "2026-11-28");
    }
}
