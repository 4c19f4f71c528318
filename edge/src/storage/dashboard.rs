//! The dashboard's figures (`GET …/sites/{site}/dashboard`): five grouped reads over the
//! conversation index, its ratings and the site's newest broadcasts in one D1 batch, put
//! together by [`assemble`] (pure: unit-tested here).

use super::{stmt, Arg};
use crate::error::{Error, Result};
use crate::spreadsheet::cell;
use beckon_shared::proto::v1::{
    AgentTimes, BroadcastResult, Dashboard, Funnel, OriginDay, Rating, RatingSummary, Spread,
};
use beckon_shared::rules::tz::{civil_from_days, days_from_civil};
use beckon_shared::SiteKey;
use serde::Deserialize;
use std::collections::BTreeMap;
use worker::D1Database;

const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD` of a day number since 1970-01-01.
pub fn day(n: i64) -> String {
    super::rules::day(n * DAY_MS)
}
/// The most comments a dashboard lists, and the most broadcasts.
const MAX_COMMENTS: usize = 20;
const MAX_BROADCASTS: i64 = 20;

/// The days a dashboard covers, in a fixed offset from UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Day numbers since 1970-01-01, inclusive.
    pub from: i64,
    pub to: i64,
    pub tz_offset_minutes: i32,
}

impl Range {
    /// From `YYYY-MM-DD` days and an offset east of UTC in minutes; why not, if not.
    pub fn parse(
        from: &str,
        to: &str,
        tz_offset_minutes: i32,
    ) -> std::result::Result<Range, String> {
        let day = |s: &str| -> Option<i64> {
            let mut parts = s.splitn(3, '-');
            let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
            let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
            if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
                return None;
            }
            let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
            let n = days_from_civil(y, m, d);
            // 2026-02-30 is not a day.
            (civil_from_days(n) == (y, m, d)).then_some(n)
        };
        let (Some(f), Some(t)) = (day(from), day(to)) else {
            return Err("from and to must be dates like 2026-11-27".into());
        };
        if f > t {
            return Err("from must not be after to".into());
        }
        let max = beckon_shared::proto::v1::MAX_DASHBOARD_DAYS;
        if t - f + 1 > max {
            return Err(format!("a report covers at most {max} days"));
        }
        if !(-14 * 60..=14 * 60).contains(&tz_offset_minutes) {
            return Err("tz must be minutes east of UTC, between -840 and 840".into());
        }
        Ok(Range {
            from: f,
            to: t,
            tz_offset_minutes,
        })
    }

    fn offset_ms(&self) -> i64 {
        i64::from(self.tz_offset_minutes) * 60_000
    }

    /// Milliseconds since the epoch: the range's first instant and the one after its last.
    pub fn bounds(&self) -> (i64, i64) {
        (
            self.from * DAY_MS - self.offset_ms(),
            (self.to + 1) * DAY_MS - self.offset_ms(),
        )
    }
}

#[derive(Deserialize)]
pub struct DayRow {
    day: i64,
    kind: Option<String>,
    n: i64,
}

#[derive(Deserialize)]
pub struct HourRow {
    weekday: i64,
    hour: i64,
    n: i64,
}

/// A duration and whose it is.
#[derive(Deserialize)]
pub struct TimeRow {
    ms: i64,
    who: Option<String>,
}

#[derive(Deserialize)]
pub struct RatingRow {
    conversation_id: String,
    score: i64,
    comment: Option<String>,
    rated_at: i64,
    agent: Option<String>,
}

#[derive(Deserialize)]
pub struct BroadcastRow {
    id: String,
    name: String,
    created_at: i64,
    stage: i64,
    n: i64,
    goals: i64,
    value: f64,
}

/// What the batch read.
pub struct Rows {
    pub days: Vec<DayRow>,
    pub hours: Vec<HourRow>,
    pub first_responses: Vec<TimeRow>,
    pub resolutions: Vec<TimeRow>,
    pub ratings: Vec<RatingRow>,
    pub broadcasts: Vec<BroadcastRow>,
}

/// Reads the rows of `site`'s dashboard over `range` (one batch).
pub async fn read(db: &D1Database, site: &SiteKey, range: &Range) -> Result<Rows> {
    let (start, end) = range.bounds();
    let (s, a, b, tz) = (
        Arg::Str(site.as_str()),
        Arg::Int(start),
        Arg::Int(end),
        Arg::Int(range.offset_ms()),
    );
    let in_range = "site_key = ?1 AND created_at >= ?2 AND created_at < ?3";
    let statements = vec![
        stmt(
            db,
            &format!(
                "SELECT CAST((created_at + ?4) / {DAY_MS} AS INTEGER) AS day, json_extract(origin, '$.kind') AS kind, COUNT(*) AS n
                 FROM conversations WHERE {in_range} GROUP BY day, kind"
            ),
            &[s, a, b, tz],
        )?,
        stmt(
            db,
            &format!(
                "SELECT (CAST((created_at + ?4) / {DAY_MS} AS INTEGER) + 3) % 7 AS weekday,
                   CAST((created_at + ?4) / 3600000 AS INTEGER) % 24 AS hour, COUNT(*) AS n
                 FROM conversations WHERE {in_range} GROUP BY weekday, hour"
            ),
            &[s, a, b, tz],
        )?,
        stmt(
            db,
            &format!(
                "SELECT first_response_ms AS ms, first_responder AS who FROM conversations
                 WHERE {in_range} AND first_response_ms IS NOT NULL"
            ),
            &[s, a, b],
        )?,
        // Closed in the range, and still closed (a visitor's message since opened it again).
        stmt(
            db,
            "SELECT status_at - created_at AS ms, assignee_name AS who FROM conversations
             WHERE site_key = ?1 AND status = 'closed' AND status_at >= ?2 AND status_at < ?3
               AND COALESCE(last_visitor_at, 0) <= status_at",
            &[s, a, b],
        )?,
        stmt(
            db,
            "SELECT r.conversation_id, r.score, r.comment, r.rated_at, c.assignee_name AS agent
             FROM conversation_ratings r LEFT JOIN conversations c ON c.id = r.conversation_id
             WHERE r.site_key = ?1 AND r.rated_at >= ?2 AND r.rated_at < ?3
             ORDER BY r.rated_at DESC",
            &[s, a, b],
        )?,
        stmt(
            db,
            &format!(
                "SELECT b.id, b.name, b.created_at, r.stage, COUNT(*) AS n, SUM(r.goals > 0) AS goals,
                   COALESCE(SUM(r.goal_value), 0.0) AS value
                 FROM (SELECT id, name, created_at FROM broadcasts WHERE {in_range} AND status != 'preparing'
                       ORDER BY created_at DESC LIMIT {MAX_BROADCASTS}) b
                 JOIN broadcast_recipients r ON r.broadcast_id = b.id
                 GROUP BY b.id, r.stage"
            ),
            &[s, a, b],
        )?,
    ];
    let mut results = db.batch(statements).await?.into_iter();
    let mut next = || {
        results
            .next()
            .ok_or_else(|| Error::internal("a dashboard read went missing"))
    };
    Ok(Rows {
        days: next()?.results()?,
        hours: next()?.results()?,
        first_responses: next()?.results()?,
        resolutions: next()?.results()?,
        ratings: next()?.results()?,
        broadcasts: next()?.results()?,
    })
}

/// The dashboard of `rows` (its rule funnels left empty for the caller), and every rating in
/// it, newest first (the dashboard lists only the newest comments).
pub fn assemble(site: &SiteKey, range: &Range, rows: Rows) -> (Dashboard, Vec<Rating>) {
    let mut days: Vec<OriginDay> = (range.from..=range.to)
        .map(|d| OriginDay {
            day: day(d),
            ..OriginDay::default()
        })
        .collect();
    for r in rows.days {
        let Some(day) = days.get_mut((r.day - range.from) as usize) else {
            continue;
        };
        let n = r.n.max(0) as u64;
        match r.kind.as_deref() {
            Some("visitor") => day.visitor += n,
            Some("rule") => day.rule += n,
            Some("broadcast") => day.broadcast += n,
            _ => day.business += n,
        }
    }
    let mut hours = vec![[0u64; 24]; 7];
    for r in rows.hours {
        if let Some(h) = hours
            .get_mut(r.weekday as usize)
            .and_then(|w| w.get_mut(r.hour as usize))
        {
            *h += r.n.max(0) as u64;
        }
    }
    // Per agent (None: nobody), and in all.
    #[derive(Default)]
    struct Acc {
        first: Vec<u64>,
        resolved: Vec<u64>,
        scores: Vec<u8>,
    }
    let mut all = Acc::default();
    let mut agents: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    for r in rows.first_responses {
        let ms = r.ms.max(0) as u64;
        all.first.push(ms);
        agents.entry(r.who).or_default().first.push(ms);
    }
    for r in rows.resolutions {
        let ms = r.ms.max(0) as u64;
        all.resolved.push(ms);
        agents.entry(r.who).or_default().resolved.push(ms);
    }
    let mut every = Vec::with_capacity(rows.ratings.len());
    for r in rows.ratings {
        let score = r.score.clamp(1, 5) as u8;
        all.scores.push(score);
        agents
            .entry(r.agent.clone())
            .or_default()
            .scores
            .push(score);
        every.push(Rating {
            conversation_id: r.conversation_id,
            score,
            comment: r.comment.filter(|c| !c.trim().is_empty()),
            rated_at: r.rated_at,
            agent: r.agent,
        });
    }
    let comments = every
        .iter()
        .filter(|r| r.comment.is_some())
        .take(MAX_COMMENTS)
        .cloned()
        .collect();
    let times = |agent: Option<String>, acc: Acc| {
        let ratings = RatingSummary::of(&acc.scores);
        AgentTimes {
            agent,
            first_response: Spread::of(acc.first),
            resolution: Spread::of(acc.resolved),
            ratings: ratings.count,
            rating_mean: ratings.mean,
        }
    };
    let mut ratings = RatingSummary::of(&all.scores);
    ratings.comments = comments;
    let mut agents: Vec<AgentTimes> = agents.into_iter().map(|(a, acc)| times(a, acc)).collect();
    // The busiest first; nobody last.
    agents.sort_by_key(|a| {
        (
            a.agent.is_none(),
            std::cmp::Reverse(a.first_response.count + a.resolution.count),
            a.agent.clone(),
        )
    });
    let mut broadcasts: Vec<BroadcastResult> = Vec::new();
    for r in rows.broadcasts {
        let i = match broadcasts.iter().position(|b| b.id == r.id) {
            Some(i) => i,
            None => {
                broadcasts.push(BroadcastResult {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    created_at: r.created_at,
                    funnel: Funnel::default(),
                });
                broadcasts.len() - 1
            }
        };
        super::broadcasts::count(&mut broadcasts[i].funnel, r.stage, r.n, r.goals, r.value);
    }
    broadcasts.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    let dash = Dashboard {
        site: site.to_string(),
        from: day(range.from),
        to: day(range.to),
        tz_offset_minutes: range.tz_offset_minutes,
        days,
        total: times(None, all),
        agents,
        hours,
        ratings,
        rules: Vec::new(),
        broadcasts,
    };
    (dash, every)
}

/// The parts of a dashboard downloadable as CSV (`?format=csv&part=`).
pub const CSV_PARTS: [&str; 6] = ["days", "agents", "hours", "ratings", "rules", "broadcasts"];

fn opt(v: Option<impl ToString>) -> String {
    v.map(cell).unwrap_or_default()
}

/// One part of `dash` ([`CSV_PARTS`]; `ratings`: every one of them) as CSV with a header row.
pub fn csv(dash: &Dashboard, ratings: &[Rating], part: &str) -> Result<String> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |cells: Vec<String>| rows.push(cells);
    match part {
        "days" => {
            row(["day", "visitor", "rule", "broadcast", "business", "total"]
                .map(cell)
                .to_vec());
            for d in &dash.days {
                let total = d.visitor + d.rule + d.broadcast + d.business;
                row(vec![
                    cell(&d.day),
                    cell(d.visitor),
                    cell(d.rule),
                    cell(d.broadcast),
                    cell(d.business),
                    cell(total),
                ]);
            }
        }
        "agents" => {
            row([
                "agent",
                "first_responses",
                "first_response_median_ms",
                "first_response_p90_ms",
                "resolved",
                "resolution_median_ms",
                "resolution_p90_ms",
                "ratings",
                "rating_mean",
            ]
            .map(cell)
            .to_vec());
            for a in std::iter::once(&dash.total).chain(&dash.agents) {
                let name = match (&a.agent, std::ptr::eq(a, &dash.total)) {
                    (_, true) => "(all)".to_owned(),
                    (Some(n), _) => cell(n),
                    (None, _) => "(nobody)".to_owned(),
                };
                row(vec![
                    name,
                    cell(a.first_response.count),
                    opt(a.first_response.median_ms),
                    opt(a.first_response.p90_ms),
                    cell(a.resolution.count),
                    opt(a.resolution.median_ms),
                    opt(a.resolution.p90_ms),
                    cell(a.ratings),
                    opt(a.rating_mean.map(|m| format!("{m:.2}"))),
                ]);
            }
        }
        "hours" => {
            let mut header = vec![cell("weekday")];
            header.extend((0..24).map(|h| format!("{h:02}")));
            row(header);
            const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            for (name, hours) in DAYS.iter().zip(&dash.hours) {
                let mut r = vec![cell(name)];
                r.extend(hours.iter().map(cell));
                row(r);
            }
        }
        "ratings" => {
            row(["conversation_id", "score", "comment", "rated_at", "agent"]
                .map(cell)
                .to_vec());
            for r in ratings {
                row(vec![
                    cell(&r.conversation_id),
                    cell(r.score),
                    opt(r.comment.as_ref()),
                    cell(beckon_shared::rules::tz::iso8601(r.rated_at)),
                    opt(r.agent.as_ref()),
                ]);
            }
        }
        "rules" => {
            row([
                "rule_id",
                "name",
                "impressions",
                "opens",
                "dismissals",
                "replies",
                "goals",
                "goal_value",
            ]
            .map(cell)
            .to_vec());
            for f in &dash.rules {
                let t = &f.totals;
                row(vec![
                    cell(&f.rule_id),
                    cell(&f.name),
                    cell(t.impressions),
                    cell(t.opens),
                    cell(t.dismissals),
                    cell(t.replies),
                    cell(t.goals),
                    cell(t.goal_value),
                ]);
            }
        }
        "broadcasts" => {
            row([
                "broadcast_id",
                "name",
                "created_at",
                "recipients",
                "sent",
                "delivered",
                "read",
                "replied",
                "goals",
                "goal_value",
                "failed",
                "opted_out",
                "cancelled",
            ]
            .map(cell)
            .to_vec());
            for b in &dash.broadcasts {
                let f = &b.funnel;
                row(vec![
                    cell(&b.id),
                    cell(&b.name),
                    cell(beckon_shared::rules::tz::iso8601(b.created_at)),
                    cell(f.recipients),
                    cell(f.sent),
                    cell(f.delivered),
                    cell(f.read),
                    cell(f.replied),
                    cell(f.goals),
                    cell(f.goal_value),
                    cell(f.failed),
                    cell(f.opted_out),
                    cell(f.cancelled),
                ]);
            }
        }
        other => {
            return Err(Error::bad_request(format!(
                "part must be one of {}, not \"{other}\"",
                CSV_PARTS.join(", ")
            )))
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).map_err(Error::internal)?;
    }
    String::from_utf8(w.into_inner().map_err(Error::internal)?).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(ms: i64, who: Option<&str>) -> TimeRow {
        TimeRow {
            ms,
            who: who.map(str::to_owned),
        }
    }

    #[test]
    fn a_range_is_checked_and_bounded_in_its_offset() {
        let r = Range::parse("2026-11-01", "2026-11-30", 60).unwrap();
        assert_eq!(r.to - r.from + 1, 30);
        // Midnight in UTC+1 is 23:00 UTC the day before.
        let (start, end) = r.bounds();
        assert_eq!(start, days_from_civil(2026, 11, 1) * DAY_MS - 3_600_000);
        assert_eq!(end - start, 30 * DAY_MS);
        assert!(Range::parse("2026-02-30", "2026-03-01", 0).is_err());
        assert!(Range::parse("2026-12-01", "2026-11-01", 0).is_err());
        assert!(Range::parse("2025-01-01", "2026-12-31", 0).is_err());
        assert!(Range::parse("2026-11-01", "2026-11-02", 900).is_err());
        assert!(Range::parse("26-11-01", "2026-11-02", 0).is_err());
        assert!(Range::parse("2026-+1-01", "2026-11-02", 0).is_err());
    }

    #[test]
    fn rows_become_days_agents_hours_ratings_and_funnels() {
        let site = SiteKey::parse("demo").unwrap();
        let range = Range::parse("2026-11-01", "2026-11-03", 0).unwrap();
        let d = range.from;
        let rows = Rows {
            days: vec![
                DayRow {
                    day: d,
                    kind: Some("visitor".into()),
                    n: 2,
                },
                DayRow {
                    day: d + 2,
                    kind: Some("rule".into()),
                    n: 1,
                },
                DayRow {
                    day: d + 2,
                    kind: Some("agent".into()),
                    n: 3,
                },
                DayRow {
                    day: d + 2,
                    kind: Some("broadcast".into()),
                    n: 4,
                },
            ],
            hours: vec![HourRow {
                weekday: 6,
                hour: 23,
                n: 5,
            }],
            first_responses: vec![
                time(10, Some("Ana")),
                time(30, Some("Ana")),
                time(20, Some("Bo")),
            ],
            resolutions: vec![time(100, Some("Ana")), time(300, None)],
            ratings: vec![
                RatingRow {
                    conversation_id: "c1".into(),
                    score: 5,
                    comment: Some("great".into()),
                    rated_at: 2,
                    agent: Some("Ana".into()),
                },
                RatingRow {
                    conversation_id: "c2".into(),
                    score: 2,
                    comment: None,
                    rated_at: 1,
                    agent: None,
                },
            ],
            broadcasts: vec![
                BroadcastRow {
                    id: "b1".into(),
                    name: "Sale".into(),
                    created_at: 1,
                    stage: 4,
                    n: 2,
                    goals: 1,
                    value: 9.5,
                },
                BroadcastRow {
                    id: "b1".into(),
                    name: "Sale".into(),
                    created_at: 1,
                    stage: 1,
                    n: 3,
                    goals: 0,
                    value: 0.0,
                },
            ],
        };
        let (dash, every) = assemble(&site, &range, rows);
        assert_eq!(dash.days.len(), 3);
        assert_eq!(every.len(), 2);
        assert_eq!(
            (dash.days[0].day.as_str(), dash.days[0].visitor),
            ("2026-11-01", 2)
        );
        let last = &dash.days[2];
        assert_eq!((last.rule, last.business, last.broadcast), (1, 3, 4));
        assert_eq!(dash.hours[6][23], 5);
        assert_eq!(
            dash.total.first_response,
            Spread {
                count: 3,
                median_ms: Some(20),
                p90_ms: Some(30)
            }
        );
        assert_eq!(dash.total.resolution.count, 2);
        let names: Vec<Option<&str>> = dash.agents.iter().map(|a| a.agent.as_deref()).collect();
        assert_eq!(names, [Some("Ana"), Some("Bo"), None]);
        assert_eq!(dash.agents[0].first_response.median_ms, Some(10));
        assert_eq!(dash.agents[0].rating_mean, Some(5.0));
        assert_eq!(dash.ratings.count, 2);
        assert_eq!(dash.ratings.csat_percent, Some(50.0));
        assert_eq!(dash.ratings.comments.len(), 1);
        let f = &dash.broadcasts[0].funnel;
        assert_eq!((f.recipients, f.sent, f.replied, f.goals), (5, 5, 2, 1));
    }

    #[test]
    fn every_part_downloads_as_csv_and_names_cannot_start_formulas() {
        let site = SiteKey::parse("demo").unwrap();
        let range = Range::parse("2026-11-01", "2026-11-02", 0).unwrap();
        let rows = Rows {
            days: vec![DayRow {
                day: range.from,
                kind: Some("visitor".into()),
                n: 2,
            }],
            hours: vec![],
            first_responses: vec![time(10, Some("=HYPERLINK(\"x\")"))],
            resolutions: vec![],
            ratings: vec![RatingRow {
                conversation_id: "c1".into(),
                score: 4,
                comment: Some("fine, thanks".into()),
                rated_at: 0,
                agent: None,
            }],
            broadcasts: vec![],
        };
        let (dash, every) = assemble(&site, &range, rows);
        let csv = |part| csv(&dash, &every, part);
        let days = csv("days").unwrap();
        assert_eq!(days, "day,visitor,rule,broadcast,business,total\n2026-11-01,2,0,0,0,2\n2026-11-02,0,0,0,0,0\n");
        let agents = csv("agents").unwrap();
        assert!(agents.contains("(all),1,10,10,0,,,1,4.00"), "{agents}");
        assert!(
            agents.contains("\"'=HYPERLINK(\"\"x\"\")\",1,10,10"),
            "{agents}"
        );
        assert_eq!(csv("hours").unwrap().lines().count(), 8);
        assert!(csv("ratings")
            .unwrap()
            .contains("c1,4,\"fine, thanks\",1970-01-01T00:00:00.000Z,"));
        assert!(csv("pies").is_err());
        for part in CSV_PARTS {
            assert!(csv(part).is_ok(), "{part}");
        }
    }
}
