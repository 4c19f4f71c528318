//! Admin endpoints for proactive rules (create, list, read, replace, delete) and the funnel
//! metrics per rule and day. Every change refreshes the site's cached configuration.

use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::site_cache;
use crate::storage::dashboard::{day, Range};
use crate::storage::{rules, sites};
use beckon_shared::proto::v1::{ErrorCode, MetricsReport};
use beckon_shared::rules::Rule;
use beckon_shared::{RuleId, SiteKey};
use worker::{Request, Response};

/// `GET /api/v1/admin/sites/{site}/rules`.
pub async fn list(edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    http::json(
        200,
        &serde_json::json!({ "rules": rules::list(&db, site).await? }),
    )
}

/// `POST /api/v1/admin/sites/{site}/rules`.
pub async fn create(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let rule: Rule = http::read_json(&mut req).await?;
    let rule = rule.validated()?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    rules::insert(&db, site, &rule, edge.now).await?;
    site_cache::invalidate(site);
    http::json(201, &rule)
}

pub async fn get(edge: &Edge, site: &SiteKey, id: &RuleId) -> Result<Response> {
    match rules::get(&edge.db()?, site, id).await? {
        Some(rule) => http::json(200, &rule),
        None => Err(Error::new(ErrorCode::NotFound, format!("no rule {id}"))),
    }
}

/// `PUT /api/v1/admin/sites/{site}/rules/{id}`: replaces the rule (its id stays).
pub async fn replace(
    mut req: Request,
    edge: &Edge,
    site: &SiteKey,
    id: &RuleId,
) -> Result<Response> {
    let rule: Rule = http::read_json(&mut req).await?;
    if rule.id != *id {
        return Err(Error::bad_request("the rule's id cannot change"));
    }
    let rule = rule.validated()?;
    rules::update(&edge.db()?, site, &rule, edge.now).await?;
    site_cache::invalidate(site);
    http::json(200, &rule)
}

pub async fn delete(edge: &Edge, site: &SiteKey, id: &RuleId) -> Result<Response> {
    rules::delete(&edge.db()?, site, id).await?;
    site_cache::invalidate(site);
    Ok(Response::empty()?.with_status(204))
}

/// `GET /api/v1/admin/metrics?site=&from=YYYY-MM-DD&to=YYYY-MM-DD` (default: the last 30
/// days): impressions, opens, dismissals, replies, goals (+ value) and average first-response
/// time per rule, in total and per day.
pub async fn metrics(req: &Request, edge: &Edge, admin: &super::admin::Admin) -> Result<Response> {
    let q = http::query(req)?;
    let site = SiteKey::parse(
        q.get("site")
            .ok_or_else(|| Error::bad_request("the site query parameter is required"))?,
    )?;
    admin.check(beckon_shared::proto::v1::KeyRole::Owner, Some(&site))?;
    let to = q.get("to").cloned().unwrap_or_else(|| rules::day(edge.now));
    let from = q
        .get("from")
        .cloned()
        .unwrap_or_else(|| rules::day(edge.now - 29 * 86_400_000));
    // (The days as parsed: the SQL compares them as text.)
    let range = Range::parse(&from, &to, 0).map_err(Error::bad_request)?;
    let (from, to) = (day(range.from), day(range.to));
    let db = edge.db()?;
    sites::require(&db, &site).await?;
    let funnels = rules::report_named(&db, &site, &from, &to).await?;
    http::json(
        200,
        &MetricsReport {
            site: site.to_string(),
            from,
            to,
            rules: funnels,
        },
    )
}
