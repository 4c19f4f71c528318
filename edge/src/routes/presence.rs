//! "Online now": the visitors whose chat app is running, and starting a conversation with one
//! of them (the business reaches out; the visitor sees it live). Presence lives in the site's
//! hub, in memory: nothing is stored about visitors who are merely online.

use super::admin::Admin;
use crate::auth;
use crate::conversation::{self, Opening};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::site_hub;
use crate::storage::{sites, visitors};
use beckon_shared::proto::v1::{ConversationOrigin, ErrorCode, HubFrame, ReachOut};
use beckon_shared::SiteKey;
use serde_json::json;
use worker::{Request, Response};

/// `GET /api/v1/sites/{site}/presence` (WebSocket): a visitor's chat app says where it is.
pub async fn visitor_socket(req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    crate::rate_limit::check_site(edge, &req, crate::rate_limit::Limit::Presence, site).await?;
    let settings = sites::require(&edge.db()?, site).await?;
    http::check_origin(&req, edge, &settings)?;
    if !req
        .headers()
        .get("upgrade")?
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
    {
        return Err(Error::bad_request("expected a WebSocket upgrade request"));
    }
    site_hub::connect_visitor(&edge.env, site).await
}

/// `GET /api/v1/admin/sites/{site}/presence`.
pub async fn list(edge: &Edge, site: &SiteKey) -> Result<Response> {
    sites::require(&edge.db()?, site).await?;
    http::json(
        200,
        &json!({ "visitors": site_hub::visitors(&edge.env, site).await? }),
    )
}

/// `POST /api/v1/admin/sites/{site}/presence/{id}/conversations`: starts a conversation with
/// an online visitor — the agent's message is its first — and hands it to the visitor's app.
pub async fn reach_out(
    mut req: Request,
    edge: &Edge,
    admin: &Admin,
    site: &SiteKey,
    presence_id: &str,
) -> Result<Response> {
    let input: ReachOut = http::read_json(&mut req).await?;
    beckon_shared::text::normalize_body(&input.body)?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let online = site_hub::visitors(&edge.env, site).await?;
    let visitor = online
        .into_iter()
        .find(|v| v.id == presence_id)
        .ok_or_else(|| Error::new(ErrorCode::NotFound, "that visitor has left the site"))?;
    // A visitor whose record was deleted since their token was issued starts afresh.
    let visitor_id = match visitor.visitor_id {
        Some(v) if visitors::exists(&db, site, &v).await? => v,
        _ => visitors::create(&db, site, edge.now).await?,
    };
    let author = admin.author(edge, "inbox", input.author).await?;
    let (_, id) = conversation::open(
        &edge.env,
        Opening {
            origin: ConversationOrigin::Agent {
                author: author.name().map(str::to_owned),
            },
            page_url: Some(visitor.url.clone()).filter(|u| !u.is_empty()),
            first_message: Some((author, input.body)),
            ..Opening::new(site.clone(), visitor_id.clone(), edge.now)
        },
    )
    .await?;
    let token = auth::visitor_token(&edge.token_keys()?, site, &visitor_id, edge.now);
    let frame = HubFrame::Conversation {
        conversation_id: id.clone(),
        visitor_token: token,
    };
    site_hub::push(&edge.env, site, presence_id, &frame).await?;
    http::json(
        201,
        &json!({ "conversation_id": id, "visitor_id": visitor_id }),
    )
}
