//! Visitor endpoints: start a conversation (issuing the visitor's token on first
//! interaction), open a conversation's WebSocket, read its history.

use crate::auth;
use crate::conversation::client::ConversationClient;
use crate::conversation::{self, Opening, Principal};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::identity;
use crate::rate_limit::{self, Limit};
use crate::site_cache;
use crate::storage::broadcasts;
use crate::storage::rules::{self, Counter};
use crate::storage::{contacts, sites, visitors};
use beckon_shared::proto::v1::{
    BroadcastChannel, ConversationOrigin, ErrorCode, GoalEvent, Identify, IdentifyResult,
    PrechatForm, StartConversation, StartedConversation, TeaserEvent, TeaserEventKind, WsTicket,
};
use beckon_shared::{ConversationId, RuleId, Seq, SiteKey};
use worker::{Request, Response};

/// The visitor behind an `Authorization: Bearer` token, checked against the signature and
/// age, the site's origin rules and D1 (a visitor whose data was deleted is gone: their
/// tokens with them).
pub(super) async fn visitor_from_token(
    req: &Request,
    edge: &Edge,
    token: &str,
) -> Result<(auth::VisitorClaims, Principal)> {
    let claims =
        auth::verify_visitor_token(&edge.token_keys()?, token, edge.now).map_err(|_| {
            Error::new(
                ErrorCode::InvalidToken,
                "this visitor token is not valid or has expired",
            )
        })?;
    let db = edge.db()?;
    let site = sites::get(&db, &claims.site)
        .await?
        .ok_or_else(|| Error::code(ErrorCode::InvalidToken))?;
    http::check_origin(req, edge, &site)?;
    if !visitors::exists(&db, &claims.site, &claims.visitor).await? {
        return Err(Error::new(ErrorCode::InvalidToken, "unknown visitor"));
    }
    let principal = Principal::Visitor {
        site: claims.site.clone(),
        visitor_id: claims.visitor.clone(),
    };
    Ok((claims, principal))
}

fn bearer_token(req: &Request) -> Result<Option<String>> {
    Ok(auth::bearer(req.headers().get("authorization")?.as_deref()).map(str::to_owned))
}

/// `POST /api/v1/sites/{site}/conversations`.
pub async fn start_conversation(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    rate_limit::check_site(edge, &req, Limit::Conversations, key).await?;
    let db = edge.db()?;
    let site = crate::site_cache::require(&db, key, edge.now).await?;
    http::check_origin(&req, edge, &site.settings)?;
    let keys = edge.token_keys()?;

    let existing = match bearer_token(&req)? {
        Some(token) => {
            let claims = auth::verify_visitor_token(&keys, &token, edge.now).map_err(|_| {
                Error::new(
                    ErrorCode::InvalidToken,
                    "this visitor token is not valid or has expired",
                )
            })?;
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
    let start: StartConversation =
        http::read_json_or(&mut req, Some(StartConversation::default())).await?;
    let start = start.validated()?;
    // A site that asks for Turnstile: a token that passes, before anything is created.
    if let Some(t) = &site.turnstile {
        crate::turnstile::verify(edge, key, t, start.turnstile_token.as_deref()).await?;
    }
    // A reply to a teaser: the rule must exist; its message opens the conversation.
    let opening = match &start.origin {
        Some(ConversationOrigin::Rule { rule_id }) => {
            let id = RuleId::parse(rule_id)?;
            let rule = rules::get(&db, key, &id)
                .await?
                .filter(|r| r.enabled)
                .ok_or_else(|| {
                    Error::new(ErrorCode::NotFound, format!("no enabled rule {rule_id}"))
                })?;
            Some((id, rule.message.text))
        }
        _ => None,
    };

    let client = crate::visitor_client::from_request(&req, edge.now);
    let visitor_id = match existing {
        Some(v) => {
            visitors::touch(&db, &v, &client).await?;
            v
        }
        None => visitors::create_from(&db, key, &client).await?,
    };
    let (_, id) = conversation::open(
        &edge.env,
        Opening {
            origin: start.origin.unwrap_or_default(),
            page_url: start
                .page_url
                .as_deref()
                .map(beckon_shared::text::private_url),
            teaser: opening.as_ref().map(|(_, text)| text.clone()),
            ..Opening::new(key.clone(), visitor_id.clone(), edge.now)
        },
    )
    .await?;
    if let Some((rule, _)) = &opening {
        rules::count(&db, key, rule.as_str(), Counter::Reply, edge.now).await?;
    }
    let token = auth::visitor_token(&keys, key, &visitor_id, edge.now);
    http::json(
        201,
        &StartedConversation {
            conversation_id: id,
            visitor_id,
            visitor_token: token,
        },
    )
}

/// `POST /api/v1/conversations/{id}/ws-ticket` (visitor token): a single-use ticket for
/// this conversation's WebSocket — and a fresh token when the visitor's is due for renewal.
pub async fn ws_ticket(req: &Request, edge: &Edge, id: &ConversationId) -> Result<Response> {
    rate_limit::check(&edge.env, req, Limit::Tickets).await?;
    let token = bearer_token(req)?.ok_or_else(|| Error::code(ErrorCode::Unauthorized))?;
    let (claims, principal) = visitor_from_token(req, edge, &token).await?;
    // The conversation says whether it is this visitor's, before a ticket exists for it.
    ConversationClient::new(&edge.env, id)?
        .summary(&principal)
        .await?;
    let (ticket, expires_at) = super::mint_ticket(
        edge,
        principal,
        auth::TicketTarget::Conversation(id.clone()),
    )?;
    let visitor_token = claims
        .needs_renewal(edge.now)
        .then(|| edge.token_keys())
        .transpose()?
        .map(|keys| auth::visitor_token(&keys, &claims.site, &claims.visitor, edge.now));
    http::json(
        200,
        &WsTicket {
            ticket,
            expires_at,
            visitor_token,
        },
    )
}

/// `GET /api/v1/conversations/{id}/ws?ticket=…`: a visitor's or an agent's socket, opened
/// with a ticket minted for this conversation (the conversation spends it).
pub async fn conversation_socket(
    req: Request,
    edge: &Edge,
    id: &ConversationId,
) -> Result<Response> {
    let ticket =
        super::socket_ticket(&req, edge, &auth::TicketTarget::Conversation(id.clone())).await?;
    match &ticket.principal {
        Principal::Visitor { site, .. } => {
            let site = sites::require(&edge.db()?, site).await?;
            http::check_origin(&req, edge, &site)?;
        }
        Principal::Agent { .. } => {
            if http::origin(&req)?.is_some_and(|o| o != edge.self_origin) {
                return Err(Error::code(ErrorCode::OriginNotAllowed));
            }
        }
    }
    ConversationClient::new(&edge.env, id)?
        .connect(&ticket)
        .await
}

/// `GET /api/v1/conversations/{id}/messages?after=N&limit=M` with the visitor's bearer token
/// (counted with the tickets: a widget reads its history when it connects).
pub async fn messages(req: &Request, edge: &Edge, id: &ConversationId) -> Result<Response> {
    rate_limit::check(&edge.env, req, Limit::Tickets).await?;
    let token = bearer_token(req)?.ok_or_else(|| Error::code(ErrorCode::Unauthorized))?;
    let (_, principal) = visitor_from_token(req, edge, &token).await?;
    let q = http::query(req)?;
    let after = Seq(http::query_num(&q, "after")?.unwrap_or(0));
    let page = ConversationClient::new(&edge.env, id)?
        .messages(&principal, after, http::query_num(&q, "limit")?)
        .await?;
    http::json(200, &page)
}

/// `POST /api/v1/sites/{site}/events`: a teaser was shown, opened or dismissed. Counted per
/// rule and day; nothing identifies the visitor.
pub async fn teaser_event(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    rate_limit::check_site(edge, &req, Limit::Events, key).await?;
    let db = edge.db()?;
    let site = site_cache::require(&db, key, edge.now).await?;
    // Only the widget counts impressions: a browser always sends its Origin on this POST.
    if http::origin(&req)?.is_none() {
        return Err(Error::new(
            ErrorCode::OriginNotAllowed,
            "teaser events come from the widget (Origin header required)",
        ));
    }
    http::check_origin(&req, edge, &site.settings)?;
    let event: TeaserEvent = http::read_json(&mut req).await?;
    if !site.rules.iter().any(|r| r.id == event.rule_id) {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("no enabled rule {}", event.rule_id),
        ));
    }
    let counter = match event.kind {
        TeaserEventKind::Impression => Counter::Impression,
        TeaserEventKind::Open => Counter::Open,
        TeaserEventKind::Dismiss => Counter::Dismissal,
    };
    rules::count(&db, key, event.rule_id.as_str(), counter, edge.now).await?;
    Ok(Response::empty()?.with_status(204))
}

/// `POST /api/v1/conversations/{id}/events` (visitor token): `Beckon.track(name, {value})`
/// after a conversation — a goal, credited to the rule that started it (if one did).
pub async fn goal_event(mut req: Request, edge: &Edge, id: &ConversationId) -> Result<Response> {
    let token = bearer_token(&req)?.ok_or_else(|| Error::code(ErrorCode::Unauthorized))?;
    // The site's tier applies: its key from the token's signature alone (no I/O).
    match auth::verify_visitor_token(&edge.token_keys()?, &token, edge.now) {
        Ok(claims) => rate_limit::check_site(edge, &req, Limit::Events, &claims.site).await?,
        Err(_) => rate_limit::check(&edge.env, &req, Limit::Events).await?,
    }
    let (claims, principal) = visitor_from_token(&req, edge, &token).await?;
    let goal: GoalEvent = http::read_json(&mut req).await?;
    let goal = goal.validated()?;
    let summary = ConversationClient::new(&edge.env, id)?
        .summary(&principal)
        .await?;
    let (credited, first, broadcast) = match &summary.origin {
        ConversationOrigin::Rule { rule_id } => {
            let credit = rules::GoalCredit {
                rule: rule_id,
                conversation: id,
                name: &goal.name,
                value: goal.value.unwrap_or(0.0),
                at_ms: edge.now,
            };
            let first = rules::goal(&edge.db()?, &claims.site, &credit).await?;
            (Some(rule_id.clone()), first, None)
        }
        // A conversation someone answered a broadcast in: the broadcast's funnel.
        _ => {
            let value = goal.value.unwrap_or(0.0);
            let db = edge.db()?;
            let credited = broadcasts::goal(&db, id, &goal.name, value, edge.now).await?;
            (None, credited.is_some(), credited)
        }
    };
    // `counted` is false when this goal was already credited for this conversation.
    http::json(
        202,
        &serde_json::json!({ "credited_rule": credited, "credited_broadcast": broadcast, "counted": first }),
    )
}

/// The visitor a request to one of `key`'s visitor routes comes from (its token, of this
/// site), within the per-address event limit.
async fn site_visitor(req: &Request, edge: &Edge, key: &SiteKey) -> Result<auth::VisitorClaims> {
    rate_limit::check_site(edge, req, Limit::Events, key).await?;
    let token = bearer_token(req)?.ok_or_else(|| Error::code(ErrorCode::Unauthorized))?;
    let (claims, _) = visitor_from_token(req, edge, &token).await?;
    if claims.site != *key {
        return Err(Error::new(
            ErrorCode::Forbidden,
            "this visitor token belongs to another site",
        ));
    }
    Ok(claims)
}

/// `POST /api/v1/sites/{site}/identify`: `Beckon.identify({name, email, phone})` — a claim
/// by the page, made with the visitor's token — or with a proof from the site's backend
/// (`user_id` + `user_hash`, or `jwt`), with or without a token: the person is then known by
/// the site's own user id, and on another browser gets their visitor token and latest
/// conversation back. A site may accept proven identities only (403 otherwise); a forged or
/// expired proof is 401.
pub async fn identify(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    rate_limit::check_site(edge, &req, Limit::Events, key).await?;
    let db = edge.db()?;
    let site = sites::require(&db, key).await?;
    http::check_origin(&req, edge, &site)?;
    let claims = match bearer_token(&req)? {
        Some(token) => {
            let (claims, _) = visitor_from_token(&req, edge, &token).await?;
            if claims.site != *key {
                return Err(Error::new(
                    ErrorCode::Forbidden,
                    "this visitor token belongs to another site",
                ));
            }
            Some(claims)
        }
        None => None,
    };
    let who: Identify = http::read_json(&mut req).await?;
    let who = who.validated()?;
    PrechatForm::check_answers(site.prechat.as_ref(), &who.attributes)?;
    let identity = sites::identity(&db, key)
        .await?
        .ok_or_else(|| Error::code(ErrorCode::SiteNotFound))?;
    let proven = match (&identity.sealed_secret, who.has_proof()) {
        (_, false) => None,
        (None, true) => {
            return Err(Error::new(
                ErrorCode::Conflict,
                "this site has no identity secret yet (PUT …/identity makes one)",
            ))
        }
        (Some(sealed), true) => {
            let secret =
                crate::secrets::open_at_rest(&edge.env, &super::admin::identity_aad(key), sealed)?;
            identity::verify(&secret, &who, edge.now)
                .map_err(|r| Error::new(ErrorCode::InvalidToken, r.message()))?
        }
    };
    if identity.required && proven.is_none() {
        return Err(Error::new(
            ErrorCode::Forbidden,
            "this site accepts verified identities only (user_hash or jwt)",
        ));
    }
    let Some(user) = proven else {
        // A claim: recorded on this visitor, never joining anyone's history.
        let claims = claims.ok_or_else(|| {
            Error::new(
                ErrorCode::Unauthorized,
                "a visitor token is required to identify without a proof",
            )
        })?;
        let before = crate::events::contact_before(&edge.env, key, &claims.visitor).await;
        visitors::claim(&db, key, &claims.visitor, &who, edge.now).await?;
        let why = ("identify", before);
        crate::events::contact_updated(&edge.env, key, &claims.visitor, why, edge.now).await;
        return http::json(200, &IdentifyResult::default());
    };
    // (A phone is never covered by the proof; an email is when the JWT names it.)
    let email_proven = user.email.is_some();
    let proven_fields = Identify {
        name: user.name.clone().or(who.name.clone()),
        email: user.email.clone().or(who.email.clone()),
        phone: who.phone.clone(),
        attributes: who.attributes.clone(),
        ..Identify::default()
    }
    .validated()?;
    let known = visitors::find_verified(&db, key, &user.user_id).await?;
    let (visitor, handed_over) = match (known, &claims) {
        // This browser is already that person.
        (Some(v), Some(c)) if v == c.visitor => (v, false),
        // The person is known from another browser or device: this one becomes them.
        (Some(v), _) => (v, true),
        (None, Some(c)) => {
            if visitors::set_verified(&db, key, &c.visitor, &user.user_id).await? {
                (c.visitor.clone(), false)
            } else if let Some(v) = visitors::find_verified(&db, key, &user.user_id).await? {
                // Proven at the same moment in another browser: become that visitor.
                (v, true)
            } else {
                // This browser is already someone else (a shared computer): the user gets a
                // visitor of their own, never the other person's conversations.
                let v = visitors::create(&db, key, edge.now).await?;
                if !visitors::set_verified(&db, key, &v, &user.user_id).await? {
                    return Err(Error::code(ErrorCode::Conflict));
                }
                (v, true)
            }
        }
        // Not known yet, and no visitor here yet: nothing to hand over. The widget sends the
        // proof again with the token its first conversation brings.
        (None, None) => {
            return http::json(
                200,
                &IdentifyResult {
                    verified: true,
                    ..IdentifyResult::default()
                },
            )
        }
    };
    let before = crate::events::contact_before(&edge.env, key, &visitor).await;
    visitors::identify(&db, key, &visitor, &proven_fields, edge.now, email_proven).await?;
    let why = ("identify_verified", before);
    crate::events::contact_updated(&edge.env, key, &visitor, why, edge.now).await;
    let result = if handed_over {
        IdentifyResult {
            verified: true,
            visitor_token: Some(auth::visitor_token(
                &edge.token_keys()?,
                key,
                &visitor,
                edge.now,
            )),
            conversation_id: visitors::widget_conversation(&db, key, &visitor).await?,
        }
    } else {
        IdentifyResult {
            verified: true,
            ..IdentifyResult::default()
        }
    };
    http::json(200, &result)
}

/// `GET` / `PUT /api/v1/sites/{site}/announcements` (visitor token) `{"muted": bool}`: the
/// widget's mute control — a muted visitor gets no broadcast, on any channel, until they
/// unmute (recorded as their consent, source `widget`).
pub async fn announcements(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    let claims = site_visitor(&req, edge, key).await?;
    #[derive(serde::Deserialize, serde::Serialize)]
    #[serde(deny_unknown_fields)]
    struct Muted {
        muted: bool,
    }
    let db = edge.db()?;
    if !visitors::exists(&db, key, &claims.visitor).await? {
        return Err(Error::code(ErrorCode::Unauthorized));
    }
    let address = (BroadcastChannel::Web, claims.visitor.as_str());
    let muted = if req.method() == worker::Method::Put {
        let Muted { muted } = http::read_json(&mut req).await?;
        let was = contacts::opted_out(&db, key, address.0, address.1).await?;
        contacts::set_consent(
            &db,
            key,
            address,
            !muted,
            contacts::Source::Widget,
            edge.now,
        )
        .await?;
        if was != muted {
            let cause = edge.now.to_string();
            crate::events::consent_changed(&edge.env, key, address, !muted, ("widget", &cause))
                .await;
        }
        muted
    } else {
        contacts::opted_out(&db, key, address.0, address.1).await?
    };
    http::json(200, &Muted { muted })
}
