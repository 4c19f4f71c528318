//! A site's saved replies (`/api/v1/admin/sites/{site}/replies`): texts agents insert by
//! their shortcut. Agents read them; owners save and delete them.

use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::storage::{replies, sites};
use beckon_shared::proto::v1::{ErrorCode, SavedReply, MAX_SAVED_REPLIES};
use beckon_shared::SiteKey;
use worker::{Request, Response};

/// `GET …/replies`.
pub async fn list(edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    http::json(
        200,
        &serde_json::json!({ "replies": replies::list(&db, site).await? }),
    )
}

/// `POST …/replies`: saves a reply under its shortcut (the one there is replaced).
pub async fn save(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let reply: SavedReply = http::read_json(&mut req).await?;
    let reply = reply.validated().map_err(Error::bad_request)?;
    if !replies::save(&db, site, &reply, MAX_SAVED_REPLIES, edge.now).await? {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!("a site keeps at most {MAX_SAVED_REPLIES} saved replies; delete one first"),
        ));
    }
    http::json(200, &reply)
}

/// `DELETE …/replies/{shortcut}` (the shortcut checked and normalized by the router).
pub async fn delete(edge: &Edge, site: &SiteKey, shortcut: &str) -> Result<Response> {
    if !replies::delete(&edge.db()?, site, shortcut).await? {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("no saved reply /{shortcut}"),
        ));
    }
    Ok(Response::empty()?.with_status(204))
}
