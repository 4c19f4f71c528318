//! `GET /api/v1/admin/sites/{site}/dashboard?from=&to=&tz=` (owners): what the site's
//! conversations were and earned between two days ([`storage::dashboard`]), with each
//! proactive rule's funnel; one part of it as CSV with `format=csv&part=`.

use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::storage::{self, dashboard::Range, rules, sites};
use beckon_shared::SiteKey;
use worker::{Request, Response};

pub async fn get(req: &Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let q = http::query(req)?;
    let tz: i32 = match q.get("tz") {
        None => 0,
        Some(v) => v.parse().map_err(|_| {
            Error::bad_request("tz must be whole minutes east of UTC, e.g. 60 or -300")
        })?,
    };
    // Default: the 30 days up to today (in the offset asked for).
    let today = rules::day(edge.now + i64::from(tz) * 60_000);
    let to = q.get("to").cloned().unwrap_or(today);
    let from = match q.get("from") {
        Some(f) => f.clone(),
        None => {
            let to_ms = Range::parse(&to, &to, tz)
                .map_err(Error::bad_request)?
                .bounds()
                .0;
            rules::day(to_ms + i64::from(tz) * 60_000 - 29 * 86_400_000)
        }
    };
    let range = Range::parse(&from, &to, tz).map_err(Error::bad_request)?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let rows = storage::dashboard::read(&db, site, &range).await?;
    let (mut dash, ratings) = storage::dashboard::assemble(site, &range, rows);
    dash.rules = rules::report_named(&db, site, &dash.from, &dash.to).await?;
    match q.get("format").map(String::as_str) {
        None | Some("json") => http::json(200, &dash),
        Some("csv") => {
            let part = q.get("part").map_or("days", String::as_str);
            let body = storage::dashboard::csv(&dash, &ratings, part)?;
            super::broadcasts::csv_response(
                body,
                &format!("beckon-{site}-{part}-{}-{}.csv", dash.from, dash.to),
            )
        }
        Some(_) => Err(Error::bad_request("format must be json or csv")),
    }
}
