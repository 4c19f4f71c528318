//! The admin API (`/api/v1/admin/…`, `Authorization: Bearer <admin key>`): sites,
//! conversations, agent replies, inbox tickets and admin keys.

use crate::auth;
use crate::conversation::client::ConversationClient;
use crate::conversation::{PostRequest, Principal};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::random;
use crate::site_hub;
use crate::storage::{admin_keys, conversations, people, search, sites};
use beckon_shared::limits::MAX_AUTHOR_CHARS;
use beckon_shared::proto::v1::{
    Assignee, CallerAccess, ContactChannel, ConversationList, ConversationOrigin, ErrorCode,
    IdentitySecret, IdentitySettings, KeyRole, KeySites, NewAdminKey, PostMessage, SiteSettings,
    SiteSettingsPatch, TicketRequest, TurnstileSettings, TurnstileStatus, WorkStatus, WsTicket,
    CSRF_HEADER, SESSION_COOKIE,
};
use beckon_shared::text::normalize_label;
use beckon_shared::{ClientMsgId, ConversationId, Seq, SiteKey};
use worker::{Request, Response};

/// The longest search of a conversation list.
const MAX_SEARCH_CHARS: usize = 200;

/// Who is calling the admin API: which key (or signed-in person), with what role, on which
/// sites.
pub struct Admin {
    /// `env` for the `ADMIN_API_KEY` secret, a stored key's id, or a signed-in person's id
    /// (`pp_…`).
    pub key_id: String,
    pub role: KeyRole,
    pub sites: KeySites,
    /// The session token of a signed-in person's call.
    pub session: Option<String>,
}

impl Admin {
    /// Refuses a call this key may not make: a role below `role`, or a site not its own.
    pub fn check(&self, role: KeyRole, site: Option<&SiteKey>) -> Result<()> {
        if self.role < role {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "this needs an owner key (this key may read and answer conversations only)",
            ));
        }
        match site {
            Some(s) if !self.sites.allows(s) => Err(Error::new(
                ErrorCode::Forbidden,
                format!("this key is not valid for site {s}"),
            )),
            _ => Ok(()),
        }
    }

    /// The name to sign replies with: a signed-in person's own name (whatever the client
    /// claims), or for a key the name its client gives.
    /// Who writes a message with this key, from `via`: a signed-in person under their own
    /// name and photo; a key under the name it claims.
    pub async fn author(
        &self,
        edge: &Edge,
        via: &str,
        claimed: Option<String>,
    ) -> Result<Principal> {
        let (name, avatar) = match self.session {
            // Checked here, before anything is opened in its name.
            None => (
                claimed
                    .as_deref()
                    .map(|n| normalize_label(n, MAX_AUTHOR_CHARS))
                    .transpose()?
                    .flatten(),
                None,
            ),
            Some(_) => match people::get(&edge.db()?, &self.key_id).await? {
                Some(p) => (Some(p.name), p.avatar),
                None => (None, None),
            },
        };
        Ok(Principal::Agent {
            name,
            avatar,
            via: via.into(),
            key: self.key_id.clone(),
            sites: self.sites.clone(),
        })
    }

    /// Who is acting, as the inbox names them: a signed-in person, or an admin key (by its
    /// label).
    pub async fn who(&self, edge: &Edge) -> Result<Assignee> {
        let name = if self.session.is_some() {
            people::get(&edge.db()?, &self.key_id)
                .await?
                .map(|p| p.name)
        } else if self.key_id == "env" {
            Some("Admin key".to_owned())
        } else {
            admin_keys::get(&edge.db()?, &self.key_id)
                .await?
                .map(|k| format!("Key {}", k.label))
        };
        Ok(Assignee {
            id: self.key_id.clone(),
            name: name.unwrap_or_else(|| self.key_id.clone()),
        })
    }

    /// The principal for a conversation call made with this key.
    pub fn principal(&self, via: &str, name: Option<String>) -> Principal {
        Principal::Agent {
            name,
            avatar: None,
            via: via.into(),
            key: self.key_id.clone(),
            sites: self.sites.clone(),
        }
    }
}

/// Authenticates the caller (the `ADMIN_API_KEY` secret, a key created through the API, or a
/// signed-in person's session cookie) and checks it may act as `role` on `site`. Browsers may
/// only call from our own origin (the inbox).
pub async fn authorize(
    req: &Request,
    edge: &Edge,
    role: KeyRole,
    site: Option<&SiteKey>,
) -> Result<Admin> {
    if http::origin(req)?.is_some_and(|o| o != edge.self_origin) {
        return Err(Error::code(ErrorCode::OriginNotAllowed));
    }
    let header = req.headers().get("authorization")?;
    let Some(key) = auth::bearer(header.as_deref()) else {
        let admin = signed_in(req, edge).await?;
        admin.check(role, site)?;
        return Ok(admin);
    };
    let hash = auth::hash_admin_key(key);
    let master = http::credential_secret(&edge.env, "ADMIN_API_KEY")?;
    let master_hash = auth::hash_admin_key(&String::from_utf8_lossy(&master));
    let admin = if auth::ct_eq(hash.as_bytes(), master_hash.as_bytes()) {
        Admin {
            key_id: "env".into(),
            role: KeyRole::Owner,
            sites: KeySites::All,
            session: None,
        }
    } else {
        let db = edge.db()?;
        match admin_keys::find(&db, &hash).await? {
            Some(info) => {
                admin_keys::touch(&db, &info.id, edge.now).await?;
                Admin {
                    key_id: info.id,
                    role: info.role,
                    sites: KeySites::from_list(info.sites),
                    session: None,
                }
            }
            None => {
                // A wrong key counts against the address; past the limit wrong keys get 429.
                crate::rate_limit::check(&edge.env, req, crate::rate_limit::Limit::AdminFailures)
                    .await?;
                return Err(Error::new(
                    ErrorCode::InvalidToken,
                    "the admin API key is not valid",
                ));
            }
        }
    };
    admin.check(role, site)?;
    Ok(admin)
}

/// A signed-in person's call: their session cookie, and — on anything but a read — the
/// session's CSRF token in `X-CSRF-Token` (a browser sends the cookie by itself; only our own
/// page can read the token).
async fn signed_in(req: &Request, edge: &Edge) -> Result<Admin> {
    let Some(token) = http::cookie(req, SESSION_COOKIE)? else {
        return Err(Error::new(
            ErrorCode::Unauthorized,
            "an admin API key or a signed-in session is required",
        ));
    };
    let db = edge.db()?;
    let Some((person, _)) = people::session(&db, &auth::hash_admin_key(&token), edge.now).await?
    else {
        return Err(Error::new(
            ErrorCode::Unauthorized,
            "your session has ended: sign in again",
        ));
    };
    let reads = matches!(
        req.method(),
        worker::Method::Get | worker::Method::Head | worker::Method::Options
    );
    if !reads {
        let sent = req.headers().get(CSRF_HEADER)?.unwrap_or_default();
        let expected = auth::csrf_token(&edge.token_secret()?, &token);
        if !auth::ct_eq(sent.trim().as_bytes(), expected.as_bytes()) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "X-CSRF-Token is missing or is not this session's",
            ));
        }
    }
    Ok(Admin {
        role: person.role,
        sites: person.scope(),
        key_id: person.id,
        session: Some(token),
    })
}

/// Whether a credential still holds for something it did at `issued_at` (ms): the secret, a
/// key not revoked, a person not removed and not signed out everywhere since.
pub async fn credential_holds(edge: &Edge, key: &str, issued_at: i64) -> Result<bool> {
    if key == "env" {
        return Ok(true);
    }
    let db = edge.db()?;
    if key.starts_with("pp_") {
        return people::holds(&db, key, issued_at).await;
    }
    Ok(admin_keys::get(&db, key).await?.is_some())
}

/// `GET /api/v1/admin/sites`: the sites this key may see, and what it may do there.
pub async fn list_sites(edge: &Edge, admin: &Admin) -> Result<Response> {
    let mut all = sites::list(&edge.db()?).await?;
    all.retain(|s| admin.sites.allows(&s.key));
    http::json(
        200,
        &serde_json::json!({
            "sites": all,
            "access": CallerAccess { role: admin.role, sites: admin.sites.to_list() },
        }),
    )
}

/// `POST /api/v1/admin/sites`: only an owner of every site adds sites.
pub async fn create_site(mut req: Request, edge: &Edge, admin: &Admin) -> Result<Response> {
    if admin.sites != KeySites::All {
        return Err(Error::new(
            ErrorCode::Forbidden,
            "only an owner key for every site may create sites",
        ));
    }
    let settings: SiteSettings = http::read_json(&mut req).await?;
    let settings = settings.validated()?;
    sites::insert(&edge.db()?, &settings, edge.now).await?;
    crate::site_cache::invalidate(&settings.key);
    http::json(201, &settings)
}

pub async fn get_site(edge: &Edge, key: &SiteKey) -> Result<Response> {
    http::json(200, &sites::require(&edge.db()?, key).await?)
}

/// `PATCH /api/v1/admin/sites/{site}`: an owner of the site; its `rate_tier` (what it costs
/// the operator) only an owner of every site changes.
pub async fn update_site(
    mut req: Request,
    edge: &Edge,
    admin: &Admin,
    key: &SiteKey,
) -> Result<Response> {
    let patch: SiteSettingsPatch = http::read_json(&mut req).await?;
    let db = edge.db()?;
    let current = sites::require(&db, key).await?;
    if patch.rate_tier.is_some_and(|t| t != current.rate_tier) && admin.sites != KeySites::All {
        return Err(Error::new(
            ErrorCode::Forbidden,
            "only an owner key for every site may change a site's rate_tier",
        ));
    }
    let updated = patch.apply(current)?;
    sites::update(&db, &updated).await?;
    crate::site_cache::invalidate(key);
    http::json(200, &updated)
}

/// `PUT /api/v1/admin/sites/{site}/identity`: whether the site accepts verified identities
/// only; a new identity secret (shown in this answer only) when asked, or when the site needs
/// one and has none. Stored sealed, like channel secrets.
pub async fn site_identity(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    let wanted: IdentitySettings = http::read_json(&mut req).await?;
    let db = edge.db()?;
    let current = sites::identity(&db, key)
        .await?
        .ok_or_else(|| Error::code(ErrorCode::SiteNotFound))?;
    let required = wanted.required.unwrap_or(current.required);
    let make = wanted.rotate_secret || (required && current.sealed_secret.is_none());
    let secret = make.then(|| hex::encode(random::bytes::<32>()));
    let sealed = secret
        .as_ref()
        .map(|s| crate::secrets::seal_at_rest(&edge.env, &identity_aad(key), s.as_bytes()))
        .transpose()?;
    sites::set_identity(&db, key, required, sealed.as_deref()).await?;
    crate::site_cache::invalidate(key);
    http::json(200, &IdentitySecret { required, secret })
}

/// `PUT /api/v1/admin/sites/{site}/turnstile`: the site's Turnstile widget (visitors pass it
/// before a conversation starts), or `{"site_key": null}` to stop asking. The secret is
/// stored sealed and never shown again.
pub async fn site_turnstile(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    let wanted: TurnstileSettings = http::read_json(&mut req).await?;
    let wanted = wanted.validated()?;
    let stored = wanted
        .map(|(site_key, secret)| -> Result<sites::Turnstile> {
            Ok(sites::Turnstile {
                site_key,
                sealed_secret: crate::secrets::seal_at_rest(
                    &edge.env,
                    &crate::turnstile::secret_aad(key),
                    secret.as_bytes(),
                )?,
            })
        })
        .transpose()?;
    sites::set_turnstile(&edge.db()?, key, stored.as_ref()).await?;
    crate::site_cache::invalidate(key);
    http::json(
        200,
        &TurnstileStatus {
            site_key: stored.map(|t| t.site_key),
        },
    )
}

/// What a site's identity secret is sealed to.
pub fn identity_aad(key: &SiteKey) -> String {
    format!("{key}/identity")
}

/// `GET /api/v1/admin/sites/{site}/live?ticket=…`: the inbox's live feed (WebSocket), with a
/// ticket minted for this site's feed.
pub async fn site_live(req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    let ticket = super::socket_ticket(&req, edge, &auth::TicketTarget::Site(key.clone())).await?;
    if http::origin(&req)?.is_some_and(|o| o != edge.self_origin) {
        return Err(Error::code(ErrorCode::OriginNotAllowed));
    }
    sites::require(&edge.db()?, key).await?;
    site_hub::connect(&edge.env, key, &ticket).await
}

/// `GET /api/v1/admin/conversations?site=&limit=&before=&status=&assignee=&q=`: a key for
/// several (but not all) sites names the site; `q` keeps those with a message holding its
/// words (full-text, the last word as a prefix), each with its newest matching message.
pub async fn list_conversations(req: &Request, edge: &Edge, admin: &Admin) -> Result<Response> {
    let q = http::query(req)?;
    let site = match (
        q.get("site").map(|s| SiteKey::parse(s)).transpose()?,
        &admin.sites,
    ) {
        (Some(s), _) => Some(s),
        (None, KeySites::All) => None,
        (None, KeySites::Only(l)) if l.len() == 1 => Some(l[0].clone()),
        (None, KeySites::Only(_)) => {
            return Err(Error::bad_request(
                "the site query parameter is required with a key for several sites",
            ))
        }
    };
    admin.check(KeyRole::Agent, site.as_ref())?;
    let limit: usize = http::query_num(&q, "limit")?.unwrap_or(50).clamp(1, 200);
    let status = match q.get("status").map(String::as_str) {
        None | Some("") | Some("all") => None,
        Some(s) => Some(
            WorkStatus::parse(s)
                .ok_or_else(|| Error::bad_request("status must be open, snoozed, closed or all"))?,
        ),
    };
    let assignee = match q.get("assignee").map(String::as_str) {
        None | Some("") | Some("anyone") => None,
        Some("none") => Some(None),
        Some("me") if admin.session.is_some() => Some(Some(admin.key_id.as_str())),
        Some("me") => {
            return Err(Error::bad_request(
                "assignee=me needs a signed-in person (an admin key is nobody's assignee)",
            ))
        }
        Some(id) if id.starts_with("pp_") && id.len() <= 40 => Some(Some(id)),
        Some(_) => {
            return Err(Error::bad_request(
                "assignee must be me, none, anyone or a person's id (pp_…)",
            ))
        }
    };
    let search = match q.get("q").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) if s.chars().count() > MAX_SEARCH_CHARS || s.chars().any(char::is_control) => {
            return Err(Error::bad_request(format!(
                "q must be one line of at most {MAX_SEARCH_CHARS} characters"
            )))
        }
        Some(s) => Some(search::query(s).ok_or_else(|| {
            Error::bad_request("q must hold at least one word (letters or digits)")
        })?),
    };
    let origin = match q.get("origin").map(String::as_str) {
        None | Some("") | Some("any") => None,
        Some(o) if ConversationOrigin::KINDS.contains(&o) => Some(o),
        Some(_) => {
            return Err(Error::bad_request(format!(
                "origin must be {} or any",
                ConversationOrigin::KINDS.join(", ")
            )))
        }
    };
    let channel = match q.get("channel").map(String::as_str) {
        None | Some("") | Some("any") => None,
        Some("web") => Some("web"),
        Some(c) => Some(
            ContactChannel::parse(c)
                .ok_or_else(|| {
                    Error::bad_request(
                        "channel must be web, whatsapp, telegram, messenger, instagram, email or any",
                    )
                })?
                .as_str(),
        ),
    };
    let tag = match q.get("tag").map(|t| t.trim()).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            beckon_shared::text::normalize_tags([t])
                .map_err(|e| Error::bad_request(format!("tag: {e}")))?
                .remove(0),
        ),
    };
    let list = conversations::list(
        &edge.db()?,
        &conversations::ListQuery {
            site: site.as_ref(),
            before: http::query_num(&q, "before")?,
            limit: limit + 1,
            status,
            assignee,
            now: edge.now,
            search: search.as_deref(),
            origin,
            channel,
            tag: tag.as_deref(),
        },
    )
    .await?;
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
            next_snooze_end: conversations::next_snooze_end(&edge.db()?, site.as_ref(), edge.now)
                .await?,
        },
    )
}

pub async fn get_conversation(edge: &Edge, admin: &Admin, id: &ConversationId) -> Result<Response> {
    let mut summary = ConversationClient::new(&edge.env, id)?
        .summary(&admin.principal("api", None))
        .await?;
    summary.work = conversations::get(&edge.db()?, id, edge.now)
        .await?
        .and_then(|row| row.work);
    http::json(200, &summary)
}

pub async fn list_messages(
    req: &Request,
    edge: &Edge,
    admin: &Admin,
    id: &ConversationId,
) -> Result<Response> {
    let q = http::query(req)?;
    let after = Seq(http::query_num(&q, "after")?.unwrap_or(0));
    let page = ConversationClient::new(&edge.env, id)?
        .messages(
            &admin.principal("api", None),
            after,
            http::query_num(&q, "limit")?,
        )
        .await?;
    http::json(200, &page)
}

/// `POST /api/v1/admin/conversations/{id}/messages`: an agent reply (idempotent with a
/// `client_msg_id`).
pub async fn post_message(
    mut req: Request,
    edge: &Edge,
    admin: &Admin,
    id: &ConversationId,
) -> Result<Response> {
    let post: PostMessage = http::read_json(&mut req).await?;
    if post
        .client_msg_id
        .as_ref()
        .is_some_and(ClientMsgId::is_reserved)
    {
        return Err(Error::new(
            ErrorCode::InvalidId,
            format!(
                "client_msg_id may not start with {} (reserved for messages from channels)",
                ClientMsgId::CHANNEL_PREFIX
            ),
        ));
    }
    let request = PostRequest {
        principal: admin.author(edge, "api", post.author).await?,
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
    edge: &Edge,
    admin: &Admin,
    id: &ConversationId,
) -> Result<Response> {
    erase_conversation(edge, &admin.principal("api", None), id).await?;
    Ok(Response::empty()?.with_status(204))
}

/// What deleting a conversation removed.
pub struct Erased {
    pub messages: u64,
    pub files: u64,
}

/// Deletes a conversation everywhere: its object (messages, files in R2, sockets), the
/// hub's pending summary and its D1 rows.
pub async fn erase_conversation(
    edge: &Edge,
    principal: &Principal,
    id: &ConversationId,
) -> Result<Erased> {
    let client = ConversationClient::new(&edge.env, id)?;
    let summary = client.summary(principal).await?;
    let files = client.erase(principal).await?;
    site_hub::forget(&edge.env, &summary.site, id).await?;
    conversations::delete(&edge.db()?, id).await?;
    Ok(Erased {
        messages: summary.last_seq.0,
        files,
    })
}

/// `GET /api/v1/admin/conversations/{id}/relays`: the conversation's relays to channels
/// with their state, attempts, last error and per-recipient deliveries.
pub async fn relays(edge: &Edge, admin: &Admin, id: &ConversationId) -> Result<Response> {
    http::json(
        200,
        &ConversationClient::new(&edge.env, id)?
            .relays(&admin.principal("api", None))
            .await?,
    )
}

/// `POST /api/v1/admin/ws-ticket`: a single-use ticket for one WebSocket, bound to this key
/// and to one site's feed or one conversation.
pub async fn ws_ticket(mut req: Request, edge: &Edge, admin: &Admin) -> Result<Response> {
    let wanted: TicketRequest = http::read_json(&mut req).await?;
    let target = match (wanted.site, wanted.conversation_id) {
        (Some(site), None) => {
            admin.check(KeyRole::Agent, Some(&site))?;
            auth::TicketTarget::Site(site)
        }
        // The conversation checks the key's sites when the socket opens.
        (None, Some(id)) => auth::TicketTarget::Conversation(id),
        _ => {
            return Err(Error::bad_request(
                "name either a site or a conversation_id",
            ))
        }
    };
    let name = wanted
        .name
        .map(|n| beckon_shared::text::normalize_label(&n, 80))
        .transpose()?
        .flatten();
    let author = admin.author(edge, "inbox", name).await?;
    let (ticket, expires_at) = super::mint_ticket(edge, author, target)?;
    http::json(
        200,
        &WsTicket {
            ticket,
            expires_at,
            visitor_token: None,
        },
    )
}

/// `GET /api/v1/admin/keys`: the keys for sites this key owns.
pub async fn list_keys(edge: &Edge, admin: &Admin) -> Result<Response> {
    let mut keys = admin_keys::list(&edge.db()?).await?;
    keys.retain(|k| admin.sites.covers(&KeySites::from_list(k.sites.clone())));
    http::json(200, &serde_json::json!({ "keys": keys }))
}

/// The sites a new key or person is for (`null`: every site): 1 to 100 existing sites, all of
/// them `admin`'s own (403 "`what` for sites this key owns" otherwise).
pub(super) async fn grantable(
    edge: &Edge,
    admin: &Admin,
    sites: Option<Vec<SiteKey>>,
    what: &str,
) -> Result<KeySites> {
    if sites
        .as_ref()
        .is_some_and(|l| l.is_empty() || l.len() > 100)
    {
        return Err(Error::bad_request(
            "sites lists 1 to 100 sites, or is null for every site",
        ));
    }
    let scope = KeySites::from_list(sites);
    if !admin.sites.covers(&scope) {
        return Err(Error::new(
            ErrorCode::Forbidden,
            format!("{what} for sites this key owns"),
        ));
    }
    if let KeySites::Only(l) = &scope {
        let db = edge.db()?;
        for site in l {
            sites::require(&db, site).await?;
        }
    }
    Ok(scope)
}

/// Creates an admin key for sites this key owns; the key itself is in this response only.
pub async fn create_key(mut req: Request, edge: &Edge, admin: &Admin) -> Result<Response> {
    let new: NewAdminKey = http::read_json(&mut req).await?;
    let label = beckon_shared::text::normalize_label(&new.label, 80)?
        .ok_or_else(|| Error::bad_request("label must not be empty"))?;
    let scope = grantable(edge, admin, new.sites, "a key may only be created").await?;
    let db = edge.db()?;
    let key = auth::new_admin_key(random::bytes());
    let id = random::hex_id("key_");
    admin_keys::insert(
        &db,
        &id,
        &auth::hash_admin_key(&key),
        &label,
        new.role,
        &scope,
        edge.now,
    )
    .await?;
    http::json(
        201,
        &serde_json::json!({
            "id": id, "label": label, "key": key, "role": new.role,
            "sites": scope.to_list(), "created_at": edge.now,
        }),
    )
}

/// Revokes a key of sites this key owns; its open inbox sockets are closed at once.
pub async fn delete_key(edge: &Edge, admin: &Admin, id: &str) -> Result<Response> {
    if admin.key_id == id {
        return Err(Error::new(
            ErrorCode::Conflict,
            "a key cannot delete itself",
        ));
    }
    let db = edge.db()?;
    let info = admin_keys::get(&db, id)
        .await?
        .filter(|k| admin.sites.covers(&KeySites::from_list(k.sites.clone())))
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no admin key {id}")))?;
    // The key stops working first (every request and ticket checks it), then its open
    // sockets are closed; a hub that cannot be reached is logged, not a reason to keep the key.
    // Its pending invitations go with it.
    admin_keys::delete(&db, id).await?;
    people::drop_invitations_by(&db, id).await?;
    close_sockets(edge, id, KeySites::from_list(info.sites)).await?;
    Ok(Response::empty()?.with_status(204))
}

/// Closes every socket credential `key` (a key, or a person's id) holds on the sites of
/// `scope`; a hub that cannot be reached is logged, not a reason to fail the revocation.
pub(super) async fn close_sockets(edge: &Edge, key: &str, scope: KeySites) -> Result<()> {
    let affected = match scope {
        KeySites::Only(l) => l,
        KeySites::All => sites::list(&edge.db()?)
            .await?
            .into_iter()
            .map(|s| s.key)
            .collect(),
    };
    for site in &affected {
        if let Err(e) = site_hub::revoke_key(&edge.env, site, key).await {
            worker::console_error!("closing the sockets of {key} on {site}: {e}");
        }
    }
    Ok(())
}
