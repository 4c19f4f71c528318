//! The admin API (`/api/v1/admin/…`, `Authorization: Bearer <admin key>`): sites,
//! conversations, agent replies, inbox tickets and admin keys.

use crate::auth;
use crate::conversation::client::ConversationClient;
use crate::conversation::{PostRequest, Principal};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::random;
use crate::site_hub;
use crate::storage::{admin_keys, conversations, sites};
use beckon_shared::proto::v1::{
    ConversationList, ErrorCode, PostMessage, SiteSettings, SiteSettingsPatch, WsTicket,
};
use beckon_shared::{ConversationId, Seq, SiteKey};
use serde::Deserialize;
use worker::{Request, Response};

/// Who is calling the admin API.
pub struct Admin {
    /// `env` for the `ADMIN_API_KEY` secret, else the stored key's id.
    pub key_id: String,
}

/// Authenticates the caller: the `ADMIN_API_KEY` secret or a key created through the API.
/// Browsers may only call from our own origin (the inbox).
pub async fn authenticate(req: &Request, edge: &Edge) -> Result<Admin> {
    if http::origin(req)?.is_some_and(|o| o != edge.self_origin) {
        return Err(Error::code(ErrorCode::OriginNotAllowed));
    }
    let header = req.headers().get("authorization")?;
    let key = auth::bearer(header.as_deref())
        .ok_or_else(|| Error::new(ErrorCode::Unauthorized, "an admin API key is required"))?;
    let hash = auth::hash_admin_key(key);
    if let Ok(master) = http::secret(&edge.env, "ADMIN_API_KEY") {
        let master_hash = auth::hash_admin_key(&String::from_utf8_lossy(&master));
        if auth::ct_eq(hash.as_bytes(), master_hash.as_bytes()) {
            return Ok(Admin {
                key_id: "env".into(),
            });
        }
    }
    let db = edge.db()?;
    match admin_keys::find(&db, &hash).await? {
        Some(id) => {
            admin_keys::touch(&db, &id, edge.now).await?;
            Ok(Admin { key_id: id })
        }
        None => {
            // A wrong key counts against the address; past the limit wrong keys get 429.
            crate::rate_limit::check(&edge.env, req, crate::rate_limit::Limit::AdminFailures)
                .await?;
            Err(Error::new(
                ErrorCode::InvalidToken,
                "the admin API key is not valid",
            ))
        }
    }
}

pub async fn list_sites(req: &Request, edge: &Edge) -> Result<Response> {
    authenticate(req, edge).await?;
    http::json(
        200,
        &serde_json::json!({ "sites": sites::list(&edge.db()?).await? }),
    )
}

pub async fn create_site(mut req: Request, edge: &Edge) -> Result<Response> {
    authenticate(&req, edge).await?;
    let settings: SiteSettings = http::read_json(&mut req).await?;
    let settings = settings.validated()?;
    sites::insert(&edge.db()?, &settings, edge.now).await?;
    http::json(201, &settings)
}

pub async fn get_site(req: &Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    authenticate(req, edge).await?;
    http::json(200, &sites::require(&edge.db()?, key).await?)
}

pub async fn update_site(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    authenticate(&req, edge).await?;
    let patch: SiteSettingsPatch = http::read_json(&mut req).await?;
    let db = edge.db()?;
    let updated = patch.apply(sites::require(&db, key).await?)?;
    sites::update(&db, &updated).await?;
    crate::site_cache::invalidate(key);
    http::json(200, &updated)
}

/// `GET /api/v1/admin/sites/{site}/live?ticket=…`: the inbox's live feed (WebSocket).
pub async fn site_live(req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    let q = http::query(&req)?;
    let ticket = q.get("ticket").ok_or_else(|| {
        Error::new(
            ErrorCode::Unauthorized,
            "a ticket query parameter is required",
        )
    })?;
    auth::verify_ws_ticket(&edge.token_secret()?, ticket, edge.now)?;
    if http::origin(&req)?.is_some_and(|o| o != edge.self_origin) {
        return Err(Error::code(ErrorCode::OriginNotAllowed));
    }
    sites::require(&edge.db()?, key).await?;
    site_hub::connect(&edge.env, key).await
}

/// `GET /api/v1/admin/conversations?site=&limit=&before=`.
pub async fn list_conversations(req: &Request, edge: &Edge) -> Result<Response> {
    authenticate(req, edge).await?;
    let q = http::query(req)?;
    let site = q.get("site").map(|s| SiteKey::parse(s)).transpose()?;
    let limit: usize = http::query_num(&q, "limit")?.unwrap_or(50).clamp(1, 200);
    let before: Option<i64> = http::query_num(&q, "before")?;
    let list = conversations::list(&edge.db()?, site.as_ref(), before, limit + 1).await?;
    let more = list.len() > limit;
    let conversations: Vec<_> = list.into_iter().take(limit).collect();
    let next_before = if more {
        conversations.last().map(|c| c.updated_at)
    } else {
        None
    };
    http::json(
        200,
        &ConversationList {
            conversations,
            next_before,
        },
    )
}

fn agent(via: &str, name: Option<String>) -> Principal {
    Principal::Agent {
        name,
        via: via.into(),
    }
}

pub async fn get_conversation(req: &Request, edge: &Edge, id: &ConversationId) -> Result<Response> {
    authenticate(req, edge).await?;
    let summary = ConversationClient::new(&edge.env, id)?
        .summary(&agent("api", None))
        .await?;
    http::json(200, &summary)
}

pub async fn list_messages(req: &Request, edge: &Edge, id: &ConversationId) -> Result<Response> {
    authenticate(req, edge).await?;
    let q = http::query(req)?;
    let after = Seq(http::query_num(&q, "after")?.unwrap_or(0));
    let page = ConversationClient::new(&edge.env, id)?
        .messages(&agent("api", None), after, http::query_num(&q, "limit")?)
        .await?;
    http::json(200, &page)
}

/// `POST /api/v1/admin/conversations/{id}/messages`: an agent reply (idempotent with a
/// `client_msg_id`).
pub async fn post_message(mut req: Request, edge: &Edge, id: &ConversationId) -> Result<Response> {
    authenticate(&req, edge).await?;
    let post: PostMessage = http::read_json(&mut req).await?;
    let request = PostRequest {
        principal: agent("api", post.author),
        body: post.body,
        client_msg_id: post.client_msg_id,
        attachments: post.attachments,
        files: Vec::new(),
        broadcast: None,
        relay_first: false,
    };
    let (posted, status) = ConversationClient::new(&edge.env, id)?
        .post(&request)
        .await?;
    http::json(status, &posted)
}

/// `DELETE /api/v1/admin/conversations/{id}`: the conversation, its messages and files are
/// deleted; its row leaves the index.
pub async fn delete_conversation(
    req: &Request,
    edge: &Edge,
    id: &ConversationId,
) -> Result<Response> {
    authenticate(req, edge).await?;
    erase_conversation(edge, id).await?;
    Ok(Response::empty()?.with_status(204))
}

/// Deletes a conversation everywhere: its object (messages, files in R2, sockets), the
/// hub's pending summary and its D1 rows.
pub async fn erase_conversation(edge: &Edge, id: &ConversationId) -> Result<()> {
    let client = ConversationClient::new(&edge.env, id)?;
    let summary = client.summary(&agent("api", None)).await?;
    client.erase(&agent("api", None)).await?;
    site_hub::forget(&edge.env, &summary.site, id).await?;
    conversations::delete(&edge.db()?, id).await
}

/// `GET /api/v1/admin/conversations/{id}/relays`: the conversation's relays to channels
/// with their state, attempts, last error and per-recipient deliveries.
pub async fn relays(req: &Request, edge: &Edge, id: &ConversationId) -> Result<Response> {
    authenticate(req, edge).await?;
    http::json(
        200,
        &ConversationClient::new(&edge.env, id)?
            .relays(&agent("api", None))
            .await?,
    )
}

pub async fn ws_ticket(req: &Request, edge: &Edge) -> Result<Response> {
    authenticate(req, edge).await?;
    let (ticket, expires_at) = auth::ws_ticket(&edge.token_secret()?, edge.now);
    http::json(200, &WsTicket { ticket, expires_at })
}

pub async fn list_keys(req: &Request, edge: &Edge) -> Result<Response> {
    authenticate(req, edge).await?;
    http::json(
        200,
        &serde_json::json!({ "keys": admin_keys::list(&edge.db()?).await? }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    label: String,
}

/// Creates an admin key; the key itself is in this response only.
pub async fn create_key(mut req: Request, edge: &Edge) -> Result<Response> {
    authenticate(&req, edge).await?;
    let new: NewKey = http::read_json(&mut req).await?;
    let label = beckon_shared::text::normalize_label(&new.label, 80)?
        .ok_or_else(|| Error::bad_request("label must not be empty"))?;
    let key = auth::new_admin_key(random::bytes());
    let id = random::hex_id("key_");
    admin_keys::insert(
        &edge.db()?,
        &id,
        &auth::hash_admin_key(&key),
        &label,
        edge.now,
    )
    .await?;
    http::json(
        201,
        &serde_json::json!({ "id": id, "label": label, "key": key, "created_at": edge.now }),
    )
}

pub async fn delete_key(req: &Request, edge: &Edge, id: &str) -> Result<Response> {
    let admin = authenticate(req, edge).await?;
    if admin.key_id == id {
        return Err(Error::new(
            ErrorCode::Conflict,
            "a key cannot delete itself",
        ));
    }
    admin_keys::delete(&edge.db()?, id).await?;
    Ok(Response::empty()?.with_status(204))
}
