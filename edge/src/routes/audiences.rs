//! Saved audiences (admin API): named filters over a site's contacts, with who they reach now;
//! and the live count of an unsaved filter. Broadcasts go to one (`audience_id`) or to a
//! filter given inline.

use crate::broadcast::plan;
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::random;
use crate::storage::{audiences, contacts, sites};
use beckon_shared::proto::v1::{
    Audience, AudienceInput, AudienceWithReach, ErrorCode, SavedAudience,
};
use beckon_shared::{AudienceId, SiteKey};
use serde_json::json;
use worker::{D1Database, Request, Response};

/// The contacts a broadcast's audience names: a saved one, or the filter given inline.
pub async fn contacts(
    db: &D1Database,
    site: &SiteKey,
    inline: &Audience,
    saved: Option<&AudienceId>,
    now: i64,
) -> Result<Vec<plan::Contact>> {
    let filter = match saved {
        Some(_) if *inline != Audience::default() => {
            return Err(Error::bad_request("give audience or audience_id, not both"))
        }
        Some(id) => require(db, site, id).await?.filter,
        None => inline.clone(),
    };
    matching(db, site, &filter, now).await
}

async fn matching(
    db: &D1Database,
    site: &SiteKey,
    filter: &Audience,
    now: i64,
) -> Result<Vec<plan::Contact>> {
    plan::check_filter(filter).map_err(Error::bad_request)?;
    let mut all = contacts::audience(db, site, filter, now).await?;
    all.retain(|c| plan::matches(filter, c));
    Ok(all)
}

async fn require(db: &D1Database, site: &SiteKey, id: &AudienceId) -> Result<SavedAudience> {
    audiences::get(db, site, id)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no saved audience {id}")))
}

async fn with_reach(
    (db, now): (&D1Database, i64),
    site: &SiteKey,
    audience: SavedAudience,
) -> Result<Response> {
    let reach = plan::reach(&matching(db, site, &audience.filter, now).await?);
    http::json(200, &AudienceWithReach { audience, reach })
}

fn name(input: &AudienceInput) -> Result<String> {
    beckon_shared::text::normalize_label(&input.name, 80)
        .ok()
        .flatten()
        .ok_or_else(|| Error::bad_request("name is required: one line of at most 80 characters"))
}

/// `GET …/audiences`: by name.
pub async fn list(edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    http::json(
        200,
        &json!({ "audiences": audiences::list(&db, site).await? }),
    )
}

/// `POST …/audiences`.
pub async fn create(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let input: AudienceInput = http::read_json(&mut req).await?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let audience = SavedAudience {
        id: random::audience_id(),
        name: name(&input)?,
        filter: input.filter,
        created_at: edge.now,
        updated_at: edge.now,
    };
    plan::check_filter(&audience.filter).map_err(Error::bad_request)?;
    audiences::insert(&db, site, &audience).await?;
    Ok(with_reach((&db, edge.now), site, audience)
        .await?
        .with_status(201))
}

/// `GET …/audiences/{id}`: with who it reaches now.
pub async fn get(edge: &Edge, site: &SiteKey, id: &AudienceId) -> Result<Response> {
    let db = edge.db()?;
    let audience = require(&db, site, id).await?;
    with_reach((&db, edge.now), site, audience).await
}

/// `PUT …/audiences/{id}`.
pub async fn replace(
    mut req: Request,
    edge: &Edge,
    site: &SiteKey,
    id: &AudienceId,
) -> Result<Response> {
    let input: AudienceInput = http::read_json(&mut req).await?;
    let db = edge.db()?;
    let name = name(&input)?;
    plan::check_filter(&input.filter).map_err(Error::bad_request)?;
    if !audiences::update(&db, site, id, (&name, &input.filter), edge.now).await? {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("no saved audience {id}"),
        ));
    }
    let audience = require(&db, site, id).await?;
    with_reach((&db, edge.now), site, audience).await
}

/// `DELETE …/audiences/{id}` (broadcasts sent to it keep the filter they were sent with).
pub async fn delete(edge: &Edge, site: &SiteKey, id: &AudienceId) -> Result<Response> {
    if !audiences::delete(&edge.db()?, site, id).await? {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("no saved audience {id}"),
        ));
    }
    Ok(Response::empty()?.with_status(204))
}

/// `POST …/audience-counts` (an [`Audience`] filter): who it matches, before it is saved.
pub async fn count(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let filter: Audience = http::read_json(&mut req).await?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    http::json(
        200,
        &plan::reach(&matching(&db, site, &filter, edge.now).await?),
    )
}
