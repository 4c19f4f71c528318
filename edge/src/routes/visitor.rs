//! Visitor endpoints: start a conversation (issuing the visitor's token on first
//! interaction), open a conversation's WebSocket, read its history.

use crate::auth;
use crate::conversation::client::ConversationClient;
use crate::conversation::{Meta, Principal};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::random;
use crate::storage::{sites, visitors};
use beckon_shared::proto::v1::{ErrorCode, StartConversation, StartedConversation};
use beckon_shared::{ConversationId, Seq, SiteKey};
use worker::{Request, Response};

/// The visitor behind an `Authorization: Bearer` token (or a `token` query parameter, for
/// WebSockets), checked against the signature, the site's origin rules and D1.
async fn visitor_from_token(
    req: &Request,
    edge: &Edge,
    token: &str,
) -> Result<(auth::VisitorClaims, Principal)> {
    let claims = auth::verify_visitor_token(&edge.token_secret()?, token)?;
    let site = sites::get(&edge.db()?, &claims.site)
        .await?
        .ok_or_else(|| Error::code(ErrorCode::InvalidToken))?;
    http::check_origin(req, edge, &site)?;
    let principal = Principal::Visitor {
        visitor_id: claims.visitor.clone(),
    };
    Ok((claims, principal))
}

fn bearer_token(req: &Request) -> Result<Option<String>> {
    Ok(auth::bearer(req.headers().get("authorization")?.as_deref()).map(str::to_owned))
}

/// `POST /api/v1/sites/{site}/conversations`.
pub async fn start_conversation(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    let site = sites::require(&db, key).await?;
    http::check_origin(&req, edge, &site)?;
    let secret = edge.token_secret()?;

    let existing = match bearer_token(&req)? {
        Some(token) => {
            let claims = auth::verify_visitor_token(&secret, &token)?;
            if claims.site != *key {
                return Err(Error::new(
                    ErrorCode::Forbidden,
                    "this visitor token belongs to another site",
                ));
            }
            if !visitors::exists(&db, key, &claims.visitor).await? {
                return Err(Error::new(ErrorCode::InvalidToken, "unknown visitor"));
            }
            Some(claims.visitor)
        }
        None => None,
    };
    let has_body = req
        .headers()
        .get("content-length")?
        .is_some_and(|l| l != "0");
    let start: StartConversation = if has_body {
        http::read_json(&mut req).await?
    } else {
        StartConversation::default()
    };
    let start = start.validated()?;

    let visitor_id = match existing {
        Some(v) => {
            visitors::touch(&db, &v, edge.now).await?;
            v
        }
        None => {
            let v = random::visitor_id();
            visitors::create(&db, key, &v, edge.now).await?;
            v
        }
    };
    let id = random::conversation_id();
    let meta = Meta {
        id: id.clone(),
        site: key.clone(),
        visitor_id: visitor_id.clone(),
        origin: start.origin.unwrap_or_default(),
        page_url: start.page_url,
        created_at: edge.now,
    };
    ConversationClient::new(&edge.env, &id)?.init(&meta).await?;
    let token = auth::visitor_token(&secret, key, &visitor_id);
    http::json(
        201,
        &StartedConversation {
            conversation_id: id,
            visitor_id,
            visitor_token: token,
        },
    )
}

/// `GET /api/v1/conversations/{id}/ws?token=…` (visitor) or `?ticket=…` (inbox agent).
pub async fn conversation_socket(
    req: Request,
    edge: &Edge,
    id: &ConversationId,
) -> Result<Response> {
    let is_upgrade = req
        .headers()
        .get("upgrade")?
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return Err(Error::bad_request("expected a WebSocket upgrade request"));
    }
    let q = http::query(&req)?;
    let principal = if let Some(token) = q.get("token") {
        visitor_from_token(&req, edge, token).await?.1
    } else if let Some(ticket) = q.get("ticket") {
        auth::verify_ws_ticket(&edge.token_secret()?, ticket, edge.now)?;
        if http::origin(&req)?.is_some_and(|o| o != edge.self_origin) {
            return Err(Error::code(ErrorCode::OriginNotAllowed));
        }
        Principal::Agent {
            name: q.get("name").cloned(),
            via: "inbox".into(),
        }
    } else {
        return Err(Error::new(
            ErrorCode::Unauthorized,
            "a token or ticket query parameter is required",
        ));
    };
    ConversationClient::new(&edge.env, id)?
        .connect(&principal)
        .await
}

/// `GET /api/v1/conversations/{id}/messages?after=N&limit=M` with the visitor's bearer token.
pub async fn messages(req: &Request, edge: &Edge, id: &ConversationId) -> Result<Response> {
    let token = bearer_token(req)?.ok_or_else(|| Error::code(ErrorCode::Unauthorized))?;
    let (_, principal) = visitor_from_token(req, edge, &token).await?;
    let q = http::query(req)?;
    let after = Seq(http::query_num(&q, "after")?.unwrap_or(0));
    let page = ConversationClient::new(&edge.env, id)?
        .messages(&principal, after, http::query_num(&q, "limit")?)
        .await?;
    http::json(200, &page)
}
