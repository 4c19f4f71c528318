//! The route table: [`resolve`] turns a method and path into a typed [`Route`] (pure, tested
//! natively, and checked against the OpenAPI document), and [`handle`] runs it.

mod admin;
mod audiences;
mod broadcasts;
mod channels;
mod contacts;
mod dashboard;
mod data_requests;
mod hooks;
mod people;
mod presence;
mod preview;
mod public;
mod replies;
mod rules;
mod uploads;
mod visitor;
mod visitor_profile;
mod work;

use crate::error::{Error, Result};
use crate::http::{self, Edge};
use beckon_shared::proto::v1::BroadcastAction;
use beckon_shared::proto::v1::{paths, ChannelKind, ErrorCode, KeyRole};
use beckon_shared::{
    AttachmentId, AudienceId, BroadcastId, ConversationId, RuleId, SiteKey, VisitorId,
};
use worker::{Context, Env, Method, Request, Response};

/// Every endpoint the Worker serves (static files are served by the assets binding before
/// the Worker runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Health,
    OpenApi,
    Preflight,
    SiteConfig(SiteKey),
    LoaderBoot(SiteKey),
    SiteLoader(SiteKey),
    Frame(SiteKey),
    StartConversation(SiteKey),
    ConversationSocket(ConversationId),
    ConversationTicket(ConversationId),
    VisitorMessages(ConversationId),
    AdminListSites,
    AdminCreateSite,
    AdminGetSite(SiteKey),
    AdminUpdateSite(SiteKey),
    AdminSiteLive(SiteKey),
    AdminSiteIdentity(SiteKey),
    AdminSiteTurnstile(SiteKey),
    AdminSitePreview(SiteKey),
    AdminListConversations,
    AdminGetConversation(ConversationId),
    AdminDeleteConversation(ConversationId),
    AdminListMessages(ConversationId),
    AdminPostMessage(ConversationId),
    AdminWsTicket,
    AdminListKeys,
    AdminCreateKey,
    AdminDeleteKey(String),
    AdminInvite,
    AdminListPeople,
    AdminRemovePerson(String),
    AdminSession,
    AdminSignOut,
    AdminSignOutEverywhere,
    AdminSetAvatar,
    AdminRemoveAvatar,
    /// A person's photo.
    Avatar(String),
    AcceptInvitation,
    SignIn,
    AdminConversationRelays(ConversationId),
    AdminListChannels(SiteKey),
    AdminPutChannel(SiteKey, ChannelKind),
    AdminDeleteChannel(SiteKey, ChannelKind),
    AdminTestChannel(SiteKey, ChannelKind),
    AdminWebhookDeliveries(SiteKey),
    AdminReplayWebhook(SiteKey, String),
    /// `GET` (handshakes) or `POST` (events) on `/hooks/{channel}/{site}`.
    Hook(ChannelKind, SiteKey, Method),
    Unsubscribe(String),
    Preview(SiteKey),
    TeaserEvent(SiteKey),
    PresenceSocket(SiteKey),
    GoalEvent(ConversationId),
    CreateUpload(ConversationId),
    GetUpload(ConversationId, AttachmentId),
    CancelUpload(ConversationId, AttachmentId),
    PutUploadPart(ConversationId, AttachmentId, String),
    CompleteUpload(ConversationId, AttachmentId),
    Attachment(ConversationId, AttachmentId),
    AdminListRules(SiteKey),
    AdminCreateRule(SiteKey),
    AdminGetRule(SiteKey, RuleId),
    AdminReplaceRule(SiteKey, RuleId),
    AdminDeleteRule(SiteKey, RuleId),
    AdminMetrics,
    AdminPresence(SiteKey),
    AdminReachOut(SiteKey, String),
    Identify(SiteKey),
    AdminContacts(SiteKey),
    AdminContactOutreach(SiteKey, VisitorId),
    AdminDeleteContact(SiteKey, VisitorId),
    AdminExportContact(SiteKey, VisitorId),
    AdminDataRequests(SiteKey),
    AdminDashboard(SiteKey),
    AdminImportContacts(SiteKey),
    AdminExportContacts(SiteKey),
    AdminListAudiences(SiteKey),
    AdminCreateAudience(SiteKey),
    AdminGetAudience(SiteKey, AudienceId),
    AdminReplaceAudience(SiteKey, AudienceId),
    AdminDeleteAudience(SiteKey, AudienceId),
    AdminCountAudience(SiteKey),
    AdminTestClock,
    Announcements(SiteKey),
    AdminListBroadcasts(SiteKey),
    AdminCreateBroadcast(SiteKey),
    AdminPreviewBroadcast(SiteKey),
    AdminBroadcastFile(SiteKey),
    AdminGetBroadcast(SiteKey, BroadcastId),
    AdminBroadcastAction(SiteKey, BroadcastId, BroadcastAction),
    AdminBroadcastRecipients(SiteKey, BroadcastId),
    AdminUpdateWork(ConversationId),
    AdminListNotes(ConversationId),
    AdminVisitorProfile(ConversationId),
    AdminAddNote(ConversationId),
    AdminListReplies(SiteKey),
    AdminSaveReply(SiteKey),
    AdminDeleteReply(SiteKey, String),
}

/// Who may call a route, checked before its handler runs. Routes for visitors, webhooks and
/// WebSockets are `Public` here: their handlers check the visitor token, the webhook's
/// signature or the ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    /// An admin key of at least this role, valid for the route's site ([`Route::site`]).
    Admin(KeyRole),
}

impl Route {
    /// Who may call this route.
    pub fn access(&self) -> Access {
        use Route::*;
        match self {
            Health
            | OpenApi
            | Preflight
            | SiteConfig(_)
            | LoaderBoot(_)
            | SiteLoader(_)
            | Frame(_)
            | StartConversation(_)
            | ConversationSocket(_)
            | ConversationTicket(_)
            | VisitorMessages(_)
            | AdminSiteLive(_)
            | Hook(..)
            | Unsubscribe(_)
            | Preview(_)
            | TeaserEvent(_)
            | PresenceSocket(_)
            | GoalEvent(_)
            | CreateUpload(_)
            | GetUpload(..)
            | CancelUpload(..)
            | PutUploadPart(..)
            | CompleteUpload(..)
            | Attachment(..)
            | Identify(_)
            | AcceptInvitation
            | SignIn
            | Avatar(_)
            | Announcements(_) => Access::Public,
            // Reading and answering conversations, who is online, contacts, writing first.
            AdminListSites
            | AdminGetSite(_)
            | AdminListConversations
            | AdminGetConversation(_)
            | AdminListMessages(_)
            | AdminPostMessage(_)
            | AdminConversationRelays(_)
            | AdminWsTicket
            | AdminPresence(_)
            | AdminReachOut(..)
            | AdminContacts(_)
            | AdminSession
            | AdminSignOut
            | AdminSignOutEverywhere
            | AdminSetAvatar
            | AdminRemoveAvatar
            | AdminUpdateWork(_)
            | AdminListNotes(_)
            | AdminVisitorProfile(_)
            | AdminAddNote(_)
            | AdminListReplies(_)
            | AdminContactOutreach(..) => Access::Admin(KeyRole::Agent),
            AdminCreateSite
            | AdminUpdateSite(_)
            | AdminSiteIdentity(_)
            | AdminSiteTurnstile(_)
            | AdminSitePreview(_)
            | AdminDeleteConversation(_)
            | AdminListKeys
            | AdminCreateKey
            | AdminDeleteKey(_)
            | AdminInvite
            | AdminListPeople
            | AdminRemovePerson(_)
            | AdminListChannels(_)
            | AdminPutChannel(..)
            | AdminDeleteChannel(..)
            | AdminTestChannel(..)
            | AdminWebhookDeliveries(_)
            | AdminReplayWebhook(..)
            | AdminListRules(_)
            | AdminCreateRule(_)
            | AdminGetRule(..)
            | AdminReplaceRule(..)
            | AdminDeleteRule(..)
            | AdminMetrics
            | AdminDeleteContact(..)
            | AdminExportContact(..)
            | AdminDataRequests(_)
            | AdminDashboard(_)
            | AdminImportContacts(_)
            | AdminExportContacts(_)
            | AdminListAudiences(_)
            | AdminCreateAudience(_)
            | AdminGetAudience(..)
            | AdminReplaceAudience(..)
            | AdminDeleteAudience(..)
            | AdminCountAudience(_)
            | AdminTestClock
            | AdminListBroadcasts(_)
            | AdminCreateBroadcast(_)
            | AdminPreviewBroadcast(_)
            | AdminBroadcastFile(_)
            | AdminGetBroadcast(..)
            | AdminBroadcastAction(..)
            | AdminBroadcastRecipients(..)
            | AdminSaveReply(_)
            | AdminDeleteReply(..) => Access::Admin(KeyRole::Owner),
        }
    }

    /// The site named in the route's path, if any (an admin key must be valid for it).
    pub fn site(&self) -> Option<&SiteKey> {
        use Route::*;
        match self {
            SiteConfig(s)
            | LoaderBoot(s)
            | SiteLoader(s)
            | Frame(s)
            | StartConversation(s)
            | AdminGetSite(s)
            | AdminUpdateSite(s)
            | AdminSiteLive(s)
            | AdminSiteIdentity(s)
            | AdminSiteTurnstile(s)
            | AdminSitePreview(s)
            | Preview(s)
            | AdminListChannels(s)
            | AdminPutChannel(s, _)
            | AdminDeleteChannel(s, _)
            | AdminTestChannel(s, _)
            | AdminWebhookDeliveries(s)
            | AdminReplayWebhook(s, _)
            | Hook(_, s, _)
            | TeaserEvent(s)
            | PresenceSocket(s)
            | AdminListRules(s)
            | AdminCreateRule(s)
            | AdminGetRule(s, _)
            | AdminReplaceRule(s, _)
            | AdminDeleteRule(s, _)
            | AdminPresence(s)
            | AdminReachOut(s, _)
            | Identify(s)
            | AdminContacts(s)
            | AdminContactOutreach(s, _)
            | AdminDeleteContact(s, _)
            | AdminExportContact(s, _)
            | AdminDataRequests(s)
            | AdminDashboard(s)
            | AdminImportContacts(s)
            | AdminExportContacts(s)
            | AdminListAudiences(s)
            | AdminCreateAudience(s)
            | AdminGetAudience(s, _)
            | AdminReplaceAudience(s, _)
            | AdminDeleteAudience(s, _)
            | AdminCountAudience(s)
            | Announcements(s)
            | AdminListBroadcasts(s)
            | AdminCreateBroadcast(s)
            | AdminPreviewBroadcast(s)
            | AdminBroadcastFile(s)
            | AdminGetBroadcast(s, _)
            | AdminBroadcastAction(s, _, _)
            | AdminBroadcastRecipients(s, _)
            | AdminListReplies(s)
            | AdminSaveReply(s)
            | AdminDeleteReply(s, _) => Some(s),
            Health
            | OpenApi
            | Preflight
            | Unsubscribe(_)
            | ConversationSocket(_)
            | ConversationTicket(_)
            | VisitorMessages(_)
            | AdminListSites
            | AdminCreateSite
            | AdminListConversations
            | AdminGetConversation(_)
            | AdminUpdateWork(_)
            | AdminListNotes(_)
            | AdminVisitorProfile(_)
            | AdminAddNote(_)
            | AdminDeleteConversation(_)
            | AdminListMessages(_)
            | AdminPostMessage(_)
            | AdminWsTicket
            | AdminListKeys
            | AdminCreateKey
            | AdminDeleteKey(_)
            | AdminInvite
            | AdminListPeople
            | AdminRemovePerson(_)
            | AdminSession
            | AdminSignOut
            | AdminSignOutEverywhere
            | AdminSetAvatar
            | AdminRemoveAvatar
            | Avatar(_)
            | AcceptInvitation
            | SignIn
            | AdminConversationRelays(_)
            | GoalEvent(_)
            | CreateUpload(_)
            | GetUpload(..)
            | CancelUpload(..)
            | PutUploadPart(..)
            | CompleteUpload(..)
            | Attachment(..)
            | AdminMetrics
            | AdminTestClock => None,
        }
    }
}

/// Mints a single-use ticket for `principal` to open `target`'s WebSocket.
pub(crate) fn mint_ticket(
    edge: &Edge,
    principal: crate::conversation::Principal,
    target: crate::auth::TicketTarget,
) -> Result<(String, i64)> {
    let expires = edge.now + crate::auth::TICKET_TTL_MS;
    let ticket = crate::auth::Ticket {
        principal,
        target,
        expires,
        nonce: crate::random::hex_id("n"),
    };
    Ok((
        crate::auth::ws_ticket(&edge.token_secret()?, &ticket),
        expires,
    ))
}

/// The ticket in a WebSocket request's `ticket` query parameter, checked for `target`: an
/// upgrade request, a valid ticket for this target, and — for an agent's — a key that has not
/// been revoked since (the accepting object spends the ticket; the caller checks origins).
pub(crate) async fn socket_ticket(
    req: &Request,
    edge: &Edge,
    target: &crate::auth::TicketTarget,
) -> Result<crate::auth::Ticket> {
    let is_upgrade = req
        .headers()
        .get("upgrade")?
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return Err(Error::bad_request("expected a WebSocket upgrade request"));
    }
    let q = http::query(req)?;
    let ticket = q.get("ticket").ok_or_else(|| {
        Error::new(
            ErrorCode::Unauthorized,
            "a ticket query parameter is required (POST …/ws-ticket)",
        )
    })?;
    let ticket = crate::auth::verify_ws_ticket(&edge.token_secret()?, ticket, target, edge.now)?;
    if let crate::conversation::Principal::Agent { key, .. } = &ticket.principal {
        let issued_at = ticket.expires - crate::auth::TICKET_TTL_MS;
        if !admin::credential_holds(edge, key, issued_at).await? {
            return Err(Error::new(
                ErrorCode::InvalidToken,
                "the key (or person) this ticket was minted for was revoked",
            ));
        }
    }
    Ok(ticket)
}

/// A person's id in a path: `pp_` and 16 lowercase hex digits.
fn person(s: &str) -> Result<String> {
    let ok = s.len() == 19
        && s.starts_with("pp_")
        && s[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Error::bad_request(
            "person_id must be pp_ and 16 hex digits",
        ))
    }
}

/// An id in a path made of `prefix` and `digits` lowercase hex digits, as `random` makes
/// them: an admin key's (`key_` and 16), a visitor's presence on a site (24).
fn hex_id(s: &str, prefix: &str, digits: usize, what: &str) -> Result<String> {
    let hex = s.strip_prefix(prefix).filter(|h| {
        h.len() == digits
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    match hex {
        Some(_) => Ok(s.to_owned()),
        None => Err(Error::new(ErrorCode::InvalidId, format!("not {what}"))),
    }
}

/// A saved reply's shortcut in a path: as it is saved (1 to 32 of `a-z 0-9 - _`).
fn shortcut(s: &str) -> Result<String> {
    beckon_shared::proto::v1::SavedReply::checked_shortcut(s)
        .map_err(|e| Error::new(ErrorCode::InvalidId, e))
}

/// A webhook event id in a path: `evt_` and up to 124 letters, digits, `_` or `-`.
fn event_id(s: &str) -> Result<String> {
    let ok = s.starts_with("evt_")
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Error::new(ErrorCode::InvalidId, "not a webhook event id"))
    }
}

/// Maps a request line to a route: unknown paths are `not_found`, known paths with another
/// method `method_not_allowed`, malformed ids `invalid_id`. Paths are the ones named in
/// [`paths`].
pub fn resolve(method: &Method, path: &str) -> Result<Route> {
    use Method::*;
    if *method == Options && path.starts_with("/api/") {
        return Ok(Route::Preflight);
    }
    let Some((pattern, v)) = paths::ALL
        .iter()
        .find_map(|p| paths::captures(p, path).map(|v| (*p, v)))
    else {
        return Err(Error::code(ErrorCode::NotFound));
    };
    let site = |s: &str| SiteKey::parse(s).map_err(Error::from);
    let conv = |s: &str| ConversationId::parse(s).map_err(Error::from);
    let kind = |s: &str| {
        ChannelKind::parse(s)
            .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("unknown channel {s:?}")))
    };
    let site_and_kind = || Ok((site(v[0])?, kind(v[1])?));
    let file = || -> Result<(ConversationId, AttachmentId)> {
        Ok((conv(v[0])?, AttachmentId::parse(v[1])?))
    };
    let site_and_broadcast =
        || -> Result<(SiteKey, BroadcastId)> { Ok((site(v[0])?, BroadcastId::parse(v[1])?)) };
    let site_and_audience =
        || -> Result<(SiteKey, AudienceId)> { Ok((site(v[0])?, AudienceId::parse(v[1])?)) };
    let site_and_rule = || -> Result<(SiteKey, RuleId)> { Ok((site(v[0])?, RuleId::parse(v[1])?)) };
    // (allowed methods, route builder) for the matched path.
    let candidates: Vec<(Method, Result<Route>)> = match pattern {
        paths::HEALTH => vec![(Get, Ok(Route::Health))],
        paths::UNSUBSCRIBE => vec![
            (Get, Ok(Route::Unsubscribe(v[0].to_owned()))),
            (Post, Ok(Route::Unsubscribe(v[0].to_owned()))),
        ],
        paths::OPENAPI => vec![(Get, Ok(Route::OpenApi))],
        paths::FRAME => vec![(Get, site(v[0]).map(Route::Frame))],
        paths::PREVIEW => vec![(Get, site(v[0]).map(Route::Preview))],
        paths::SITE_CONFIG => vec![(Get, site(v[0]).map(Route::SiteConfig))],
        paths::LOADER_BOOT => vec![(Get, site(v[0]).map(Route::LoaderBoot))],
        paths::SITE_LOADER => vec![(Get, site(v[0]).map(Route::SiteLoader))],
        paths::START_CONVERSATION => vec![(Post, site(v[0]).map(Route::StartConversation))],
        paths::TEASER_EVENTS => vec![(Post, site(v[0]).map(Route::TeaserEvent))],
        paths::PRESENCE => vec![(Get, site(v[0]).map(Route::PresenceSocket))],
        paths::IDENTIFY => vec![(Post, site(v[0]).map(Route::Identify))],
        paths::ANNOUNCEMENTS => vec![
            (Get, site(v[0]).map(Route::Announcements)),
            (Put, site(v[0]).map(Route::Announcements)),
        ],
        paths::CONVERSATION_SOCKET => vec![(Get, conv(v[0]).map(Route::ConversationSocket))],
        paths::CONVERSATION_TICKET => vec![(Post, conv(v[0]).map(Route::ConversationTicket))],
        paths::CONVERSATION_MESSAGES => vec![(Get, conv(v[0]).map(Route::VisitorMessages))],
        paths::GOAL_EVENTS => vec![(Post, conv(v[0]).map(Route::GoalEvent))],
        paths::UPLOADS => vec![(Post, conv(v[0]).map(Route::CreateUpload))],
        paths::UPLOAD => vec![
            (Get, file().map(|(c, a)| Route::GetUpload(c, a))),
            (Delete, file().map(|(c, a)| Route::CancelUpload(c, a))),
        ],
        paths::UPLOAD_PART => vec![(
            Put,
            file().map(|(c, a)| Route::PutUploadPart(c, a, v[2].to_owned())),
        )],
        paths::UPLOAD_COMPLETE => vec![(Post, file().map(|(c, a)| Route::CompleteUpload(c, a)))],
        paths::ATTACHMENT => vec![(Get, file().map(|(c, a)| Route::Attachment(c, a)))],
        paths::ADMIN_SITES => vec![
            (Get, Ok(Route::AdminListSites)),
            (Post, Ok(Route::AdminCreateSite)),
        ],
        paths::ADMIN_SITE => vec![
            (Get, site(v[0]).map(Route::AdminGetSite)),
            (Patch, site(v[0]).map(Route::AdminUpdateSite)),
        ],
        paths::ADMIN_SITE_LIVE => vec![(Get, site(v[0]).map(Route::AdminSiteLive))],
        paths::ADMIN_SITE_IDENTITY => vec![(Put, site(v[0]).map(Route::AdminSiteIdentity))],
        paths::ADMIN_SITE_TURNSTILE => vec![(Put, site(v[0]).map(Route::AdminSiteTurnstile))],
        paths::ADMIN_SITE_PREVIEW => vec![(Post, site(v[0]).map(Route::AdminSitePreview))],
        paths::ADMIN_CONVERSATIONS => vec![(Get, Ok(Route::AdminListConversations))],
        paths::ADMIN_CONVERSATION => vec![
            (Get, conv(v[0]).map(Route::AdminGetConversation)),
            (Patch, conv(v[0]).map(Route::AdminUpdateWork)),
            (Delete, conv(v[0]).map(Route::AdminDeleteConversation)),
        ],
        paths::ADMIN_NOTES => vec![
            (Get, conv(v[0]).map(Route::AdminListNotes)),
            (Post, conv(v[0]).map(Route::AdminAddNote)),
        ],
        paths::ADMIN_MESSAGES => vec![
            (Get, conv(v[0]).map(Route::AdminListMessages)),
            (Post, conv(v[0]).map(Route::AdminPostMessage)),
        ],
        paths::ADMIN_RELAYS => vec![(Get, conv(v[0]).map(Route::AdminConversationRelays))],
        paths::ADMIN_VISITOR_PROFILE => vec![(Get, conv(v[0]).map(Route::AdminVisitorProfile))],
        paths::ADMIN_WS_TICKET => vec![(Post, Ok(Route::AdminWsTicket))],
        paths::ADMIN_KEYS => vec![
            (Get, Ok(Route::AdminListKeys)),
            (Post, Ok(Route::AdminCreateKey)),
        ],
        paths::ADMIN_KEY => vec![(
            Delete,
            hex_id(v[0], "key_", 16, "an admin key id").map(Route::AdminDeleteKey),
        )],
        paths::ADMIN_INVITATIONS => vec![(Post, Ok(Route::AdminInvite))],
        paths::ADMIN_PEOPLE => vec![(Get, Ok(Route::AdminListPeople))],
        paths::ADMIN_PERSON => vec![(Delete, person(v[0]).map(Route::AdminRemovePerson))],
        paths::ADMIN_SESSION => vec![
            (Get, Ok(Route::AdminSession)),
            (Delete, Ok(Route::AdminSignOut)),
        ],
        paths::ADMIN_SESSIONS => vec![(Delete, Ok(Route::AdminSignOutEverywhere))],
        paths::ADMIN_SESSION_AVATAR => vec![
            (Put, Ok(Route::AdminSetAvatar)),
            (Delete, Ok(Route::AdminRemoveAvatar)),
        ],
        paths::AVATAR => vec![(Get, person(v[0]).map(Route::Avatar))],
        paths::AUTH_ACCEPT => vec![(Post, Ok(Route::AcceptInvitation))],
        paths::AUTH_SIGN_IN => vec![(Post, Ok(Route::SignIn))],
        paths::ADMIN_CHANNELS => vec![(Get, site(v[0]).map(Route::AdminListChannels))],
        paths::ADMIN_CHANNEL => vec![
            (
                Put,
                site_and_kind().map(|(s, k)| Route::AdminPutChannel(s, k)),
            ),
            (
                Delete,
                site_and_kind().map(|(s, k)| Route::AdminDeleteChannel(s, k)),
            ),
        ],
        paths::ADMIN_CHANNEL_TEST => {
            vec![(
                Post,
                site_and_kind().map(|(s, k)| Route::AdminTestChannel(s, k)),
            )]
        }
        paths::ADMIN_WEBHOOK_DELIVERIES => {
            vec![(Get, site(v[0]).map(Route::AdminWebhookDeliveries))]
        }
        paths::ADMIN_WEBHOOK_REPLAY => vec![(
            Post,
            site(v[0]).and_then(|s| Ok(Route::AdminReplayWebhook(s, event_id(v[1])?))),
        )],
        paths::ADMIN_RULES => vec![
            (Get, site(v[0]).map(Route::AdminListRules)),
            (Post, site(v[0]).map(Route::AdminCreateRule)),
        ],
        paths::ADMIN_RULE => vec![
            (Get, site_and_rule().map(|(s, r)| Route::AdminGetRule(s, r))),
            (
                Put,
                site_and_rule().map(|(s, r)| Route::AdminReplaceRule(s, r)),
            ),
            (
                Delete,
                site_and_rule().map(|(s, r)| Route::AdminDeleteRule(s, r)),
            ),
        ],
        paths::ADMIN_REPLIES => vec![
            (Get, site(v[0]).map(Route::AdminListReplies)),
            (Post, site(v[0]).map(Route::AdminSaveReply)),
        ],
        paths::ADMIN_REPLY => vec![(
            Delete,
            site(v[0]).and_then(|s| Ok(Route::AdminDeleteReply(s, shortcut(v[1])?))),
        )],
        paths::ADMIN_METRICS => vec![(Get, Ok(Route::AdminMetrics))],
        paths::ADMIN_PRESENCE => vec![(Get, site(v[0]).map(Route::AdminPresence))],
        paths::ADMIN_REACH_OUT => vec![(
            Post,
            site(v[0]).and_then(|s| {
                Ok(Route::AdminReachOut(
                    s,
                    hex_id(v[1], "", 24, "a presence id")?,
                ))
            }),
        )],
        paths::ADMIN_CONTACTS => vec![(Get, site(v[0]).map(Route::AdminContacts))],
        paths::ADMIN_CONTACT => vec![(
            Delete,
            site(v[0]).and_then(|s| Ok(Route::AdminDeleteContact(s, VisitorId::parse(v[1])?))),
        )],
        paths::ADMIN_CONTACT_EXPORT => vec![(
            Get,
            site(v[0]).and_then(|s| Ok(Route::AdminExportContact(s, VisitorId::parse(v[1])?))),
        )],
        paths::ADMIN_DATA_REQUESTS => vec![(Get, site(v[0]).map(Route::AdminDataRequests))],
        paths::ADMIN_DASHBOARD => vec![(Get, site(v[0]).map(Route::AdminDashboard))],
        paths::ADMIN_CONTACT_OUTREACH => vec![(
            Post,
            site(v[0]).and_then(|s| Ok(Route::AdminContactOutreach(s, VisitorId::parse(v[1])?))),
        )],
        paths::ADMIN_CONTACT_IMPORTS => vec![(Post, site(v[0]).map(Route::AdminImportContacts))],
        paths::ADMIN_CONTACTS_CSV => vec![(Get, site(v[0]).map(Route::AdminExportContacts))],
        paths::ADMIN_AUDIENCES => vec![
            (Get, site(v[0]).map(Route::AdminListAudiences)),
            (Post, site(v[0]).map(Route::AdminCreateAudience)),
        ],
        paths::ADMIN_AUDIENCE => vec![
            (
                Get,
                site_and_audience().map(|(s, a)| Route::AdminGetAudience(s, a)),
            ),
            (
                Put,
                site_and_audience().map(|(s, a)| Route::AdminReplaceAudience(s, a)),
            ),
            (
                Delete,
                site_and_audience().map(|(s, a)| Route::AdminDeleteAudience(s, a)),
            ),
        ],
        paths::ADMIN_AUDIENCE_COUNTS => vec![(Post, site(v[0]).map(Route::AdminCountAudience))],
        paths::ADMIN_TEST_CLOCK => vec![(Put, Ok(Route::AdminTestClock))],
        paths::ADMIN_BROADCASTS => vec![
            (Get, site(v[0]).map(Route::AdminListBroadcasts)),
            (Post, site(v[0]).map(Route::AdminCreateBroadcast)),
        ],
        paths::ADMIN_BROADCAST_PREVIEWS => {
            vec![(Post, site(v[0]).map(Route::AdminPreviewBroadcast))]
        }
        paths::ADMIN_BROADCAST_FILES => vec![(Post, site(v[0]).map(Route::AdminBroadcastFile))],
        paths::ADMIN_BROADCAST => vec![(
            Get,
            site_and_broadcast().map(|(s, b)| Route::AdminGetBroadcast(s, b)),
        )],
        paths::ADMIN_BROADCAST_RECIPIENTS => vec![(
            Get,
            site_and_broadcast().map(|(s, b)| Route::AdminBroadcastRecipients(s, b)),
        )],
        paths::ADMIN_BROADCAST_PAUSE
        | paths::ADMIN_BROADCAST_RESUME
        | paths::ADMIN_BROADCAST_CANCEL => {
            let action = match pattern {
                paths::ADMIN_BROADCAST_PAUSE => BroadcastAction::Pause,
                paths::ADMIN_BROADCAST_RESUME => BroadcastAction::Resume,
                _ => BroadcastAction::Cancel,
            };
            vec![(
                Post,
                site_and_broadcast().map(|(s, b)| Route::AdminBroadcastAction(s, b, action)),
            )]
        }
        paths::HOOK => {
            let k = kind(v[0])?;
            let hook = |m: Method| site(v[1]).map(|s| Route::Hook(k, s, m));
            // A channel without a handshake answers GET with 404 (`hooks.rs`).
            vec![(Get, hook(Get)), (Post, hook(Post))]
        }
        _ => return Err(Error::code(ErrorCode::NotFound)),
    };
    let allowed: Vec<String> = candidates.iter().map(|(m, _)| m.to_string()).collect();
    candidates
        .into_iter()
        .find(|(m, _)| m == method || (*method == Head && *m == Get))
        .map(|(_, r)| r)
        .unwrap_or_else(|| {
            Err(Error::new(
                ErrorCode::MethodNotAllowed,
                format!("use {}", allowed.join(" or ")),
            ))
        })
}

/// Runs the request's route; every error becomes a JSON error response.
pub async fn handle(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let edge = match Edge::new(&req, env, ctx) {
        Ok(e) => e,
        Err(e) => return http::error_response(&e),
    };
    let path = req.path();
    // `Method` reads a method it does not know as GET.
    let known = matches!(
        req.inner().method().as_str(),
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS"
    );
    let resolved = match known {
        true => resolve(&req.method(), &path),
        false => Err(Error::new(
            ErrorCode::MethodNotAllowed,
            format!("use {}", allowed_methods(&path).join(" or ")),
        )),
    };
    let result = match resolved {
        Ok(route) => run(route, req, &edge).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(resp) => Ok(resp),
        Err(e) if e.error_code() == ErrorCode::MethodNotAllowed => {
            let resp = http::error_response(&e)?;
            resp.headers()
                .set("allow", &allowed_methods(&path).join(", "))?;
            Ok(resp)
        }
        Err(e) => http::error_response(&e),
    }
}

/// The methods `path` answers to (for a 405's `Allow`).
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    use Method::*;
    [Get, Head, Post, Put, Patch, Delete]
        .into_iter()
        .filter(|m| {
            !matches!(
                resolve(m, path).map_err(|e| e.error_code()),
                Err(ErrorCode::MethodNotAllowed)
            )
        })
        .map(|m| match m {
            Get => "GET",
            Head => "HEAD",
            Post => "POST",
            Put => "PUT",
            Patch => "PATCH",
            _ => "DELETE",
        })
        .collect()
}

async fn run(route: Route, req: Request, edge: &Edge) -> Result<Response> {
    if let Access::Admin(role) = route.access() {
        let admin = admin::authorize(&req, edge, role, route.site()).await?;
        return run_admin(route, req, edge, &admin).await;
    }
    match route {
        Route::Health => http::json(200, &serde_json::json!({"ok": true, "service": "beckon"})),
        Route::OpenApi => public::openapi(),
        Route::Preflight => public::preflight(&req, edge).await,
        Route::SiteConfig(site) => public::site_config(&req, edge, &site).await,
        Route::LoaderBoot(site) => public::loader_boot(&req, edge, &site, false).await,
        Route::SiteLoader(site) => public::loader_boot(&req, edge, &site, true).await,
        Route::Frame(site) => public::frame(&req, edge, &site).await,
        Route::Preview(site) => preview::page(&req, edge, &site).await,
        Route::StartConversation(site) => visitor::start_conversation(req, edge, &site).await,
        Route::ConversationSocket(id) => visitor::conversation_socket(req, edge, &id).await,
        Route::ConversationTicket(id) => visitor::ws_ticket(&req, edge, &id).await,
        Route::VisitorMessages(id) => visitor::messages(&req, edge, &id).await,
        Route::AdminSiteLive(site) => admin::site_live(req, edge, &site).await,
        Route::TeaserEvent(site) => visitor::teaser_event(req, edge, &site).await,
        Route::PresenceSocket(site) => presence::visitor_socket(req, edge, &site).await,
        Route::GoalEvent(id) => visitor::goal_event(req, edge, &id).await,
        Route::CreateUpload(c) => uploads::create(req, edge, &c).await,
        Route::GetUpload(c, id) => {
            let op = crate::conversation::uploads::UploadOp::Get { id };
            uploads::answer(&req, edge, &c, op).await
        }
        Route::CancelUpload(c, a) => uploads::cancel(&req, edge, &c, &a).await,
        Route::PutUploadPart(c, a, n) => uploads::put_part(req, edge, &c, &a, &n).await,
        Route::CompleteUpload(c, id) => {
            let op = crate::conversation::uploads::UploadOp::Complete { id };
            uploads::answer(&req, edge, &c, op).await
        }
        Route::Attachment(c, a) => uploads::download(&req, edge, &c, &a).await,
        Route::Avatar(person) => public::avatar(&req, edge, &person).await,
        Route::Identify(site) => visitor::identify(req, edge, &site).await,
        Route::Hook(kind, site, _) => hooks::handle(req, edge, &site, kind).await,
        Route::Unsubscribe(token) => broadcasts::unsubscribe(req, edge, &token).await,
        Route::AcceptInvitation => people::accept(req, edge).await,
        Route::SignIn => people::sign_in(req, edge).await,
        Route::Announcements(site) => visitor::announcements(req, edge, &site).await,
        other => Err(Error::internal(format!("{other:?} is an admin route"))),
    }
}

/// Runs an admin route for a key already checked against [`Route::access`] and
/// [`Route::site`]; handlers that list or act beyond the path's site check `admin` again.
async fn run_admin(
    route: Route,
    req: Request,
    edge: &Edge,
    admin: &admin::Admin,
) -> Result<Response> {
    match route {
        Route::AdminListSites => admin::list_sites(edge, admin).await,
        Route::AdminCreateSite => admin::create_site(req, edge, admin).await,
        Route::AdminGetSite(site) => admin::get_site(edge, &site).await,
        Route::AdminUpdateSite(site) => admin::update_site(req, edge, admin, &site).await,
        Route::AdminSiteIdentity(site) => admin::site_identity(req, edge, &site).await,
        Route::AdminSiteTurnstile(site) => admin::site_turnstile(req, edge, &site).await,
        Route::AdminSitePreview(site) => preview::create(req, edge, &site).await,
        Route::AdminListConversations => admin::list_conversations(&req, edge, admin).await,
        Route::AdminGetConversation(id) => admin::get_conversation(edge, admin, &id).await,
        Route::AdminDeleteConversation(id) => admin::delete_conversation(edge, admin, &id).await,
        Route::AdminListMessages(id) => admin::list_messages(&req, edge, admin, &id).await,
        Route::AdminPostMessage(id) => admin::post_message(req, edge, admin, &id).await,
        Route::AdminWsTicket => admin::ws_ticket(req, edge, admin).await,
        Route::AdminListKeys => admin::list_keys(edge, admin).await,
        Route::AdminCreateKey => admin::create_key(req, edge, admin).await,
        Route::AdminDeleteKey(id) => admin::delete_key(edge, admin, &id).await,
        Route::AdminInvite => people::invite(req, edge, admin).await,
        Route::AdminListPeople => people::list(edge, admin).await,
        Route::AdminRemovePerson(id) => people::remove(edge, admin, &id).await,
        Route::AdminSession => people::current(edge, admin).await,
        Route::AdminSignOut => people::sign_out(edge, admin).await,
        Route::AdminSignOutEverywhere => people::sign_out_everywhere(edge, admin).await,
        Route::AdminSetAvatar => people::set_avatar(req, edge, admin).await,
        Route::AdminRemoveAvatar => people::remove_avatar(edge, admin).await,
        Route::AdminConversationRelays(id) => admin::relays(edge, admin, &id).await,
        Route::AdminUpdateWork(id) => work::update(req, edge, admin, &id).await,
        Route::AdminListNotes(id) => work::list_notes(edge, admin, &id).await,
        Route::AdminVisitorProfile(id) => visitor_profile::get(edge, admin, &id).await,
        Route::AdminAddNote(id) => work::add_note(req, edge, admin, &id).await,
        Route::AdminListReplies(site) => replies::list(edge, &site).await,
        Route::AdminSaveReply(site) => replies::save(req, edge, &site).await,
        Route::AdminDeleteReply(site, s) => replies::delete(edge, &site, &s).await,
        Route::AdminListRules(site) => rules::list(edge, &site).await,
        Route::AdminCreateRule(site) => rules::create(req, edge, &site).await,
        Route::AdminGetRule(site, id) => rules::get(edge, &site, &id).await,
        Route::AdminReplaceRule(site, id) => rules::replace(req, edge, &site, &id).await,
        Route::AdminDeleteRule(site, id) => rules::delete(edge, &site, &id).await,
        Route::AdminMetrics => rules::metrics(&req, edge, admin).await,
        Route::AdminPresence(site) => presence::list(edge, &site).await,
        Route::AdminReachOut(site, id) => presence::reach_out(req, edge, admin, &site, &id).await,
        Route::AdminContacts(site) => contacts::list(&req, edge, &site).await,
        Route::AdminContactOutreach(site, v) => {
            contacts::reach_out(req, edge, admin, &site, &v).await
        }
        Route::AdminDeleteContact(site, v) => data_requests::delete(edge, admin, &site, &v).await,
        Route::AdminExportContact(site, v) => data_requests::export(edge, admin, &site, &v).await,
        Route::AdminDataRequests(site) => data_requests::list(edge, &site).await,
        Route::AdminDashboard(site) => dashboard::get(&req, edge, &site).await,
        Route::AdminListChannels(site) => channels::list(edge, &site).await,
        Route::AdminPutChannel(site, kind) => channels::put(req, edge, &site, kind).await,
        Route::AdminDeleteChannel(site, kind) => channels::delete(edge, &site, kind).await,
        Route::AdminTestChannel(site, kind) => channels::test(edge, &site, kind).await,
        Route::AdminWebhookDeliveries(site) => {
            channels::webhook_deliveries(&req, edge, &site).await
        }
        Route::AdminReplayWebhook(site, event) => {
            channels::replay_webhook(edge, &site, &event).await
        }
        Route::AdminImportContacts(site) => broadcasts::import_contacts(req, edge, &site).await,
        Route::AdminExportContacts(site) => broadcasts::export_contacts(edge, &site).await,
        Route::AdminListAudiences(site) => audiences::list(edge, &site).await,
        Route::AdminCreateAudience(site) => audiences::create(req, edge, &site).await,
        Route::AdminGetAudience(site, a) => audiences::get(edge, &site, &a).await,
        Route::AdminReplaceAudience(site, a) => audiences::replace(req, edge, &site, &a).await,
        Route::AdminDeleteAudience(site, a) => audiences::delete(edge, &site, &a).await,
        Route::AdminCountAudience(site) => audiences::count(req, edge, &site).await,
        Route::AdminTestClock => broadcasts::set_test_clock(req, edge, admin).await,
        Route::AdminListBroadcasts(site) => broadcasts::list(edge, &site).await,
        Route::AdminCreateBroadcast(site) => broadcasts::create(req, edge, &site).await,
        Route::AdminPreviewBroadcast(site) => broadcasts::preview(req, edge, &site).await,
        Route::AdminBroadcastFile(site) => broadcasts::upload_file(req, edge, &site).await,
        Route::AdminGetBroadcast(site, b) => broadcasts::get(edge, &site, &b).await,
        Route::AdminBroadcastAction(site, b, a) => broadcasts::act(edge, &site, &b, a).await,
        Route::AdminBroadcastRecipients(site, b) => {
            broadcasts::recipients(&req, edge, &site, &b).await
        }
        other => Err(Error::internal(format!("{other:?} is not an admin route"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "c_0123456789abcdef0123456789abcdef";

    #[test]
    fn resolves_known_routes() {
        assert_eq!(resolve(&Method::Get, "/health").unwrap(), Route::Health);
        assert_eq!(resolve(&Method::Head, "/health").unwrap(), Route::Health);
        // A link checker's HEAD on an unsubscribe link is the page's GET (which only asks).
        assert_eq!(
            resolve(&Method::Head, "/unsubscribe/abc").unwrap(),
            Route::Unsubscribe("abc".into())
        );
        assert_eq!(
            resolve(&Method::Post, "/api/v1/sites/demo/conversations").unwrap(),
            Route::StartConversation(SiteKey::parse("demo").unwrap())
        );
        assert_eq!(
            resolve(
                &Method::Post,
                &format!("/api/v1/admin/conversations/{C}/messages")
            )
            .unwrap(),
            Route::AdminPostMessage(ConversationId::parse(C).unwrap())
        );
        assert_eq!(
            resolve(&Method::Options, "/api/v1/sites/demo/config").unwrap(),
            Route::Preflight
        );
    }

    #[test]
    fn a_405_names_the_methods_allowed() {
        assert_eq!(
            allowed_methods("/api/v1/admin/sites"),
            ["GET", "HEAD", "POST"]
        );
        assert_eq!(
            allowed_methods(&format!("/api/v1/conversations/{C}/ws-ticket")),
            ["POST"]
        );
    }

    #[test]
    fn refuses_clearly() {
        let code = |m: Method, p: &str| resolve(&m, p).unwrap_err().error_code();
        assert_eq!(code(Method::Get, "/nope"), ErrorCode::NotFound);
        assert_eq!(
            code(Method::Delete, "/api/v1/admin/sites"),
            ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            code(Method::Get, "/api/v1/conversations/not-an-id/ws"),
            ErrorCode::InvalidId
        );
        assert_eq!(
            code(Method::Get, "/api/v1/sites/Bad%20Site/config"),
            ErrorCode::InvalidId
        );
        // Every id in a path has its shape checked before anything is looked up.
        for path in [
            "/api/v1/admin/keys/k1",
            "/api/v1/admin/keys/key_0123456789ABCDEF",
            "/api/v1/admin/keys/env",
            "/api/v1/admin/sites/demo/replies/Has%20Space",
            "/api/v1/admin/sites/demo/replies/x123456789012345678901234567890123",
        ] {
            assert_eq!(code(Method::Delete, path), ErrorCode::InvalidId, "{path}");
        }
        for presence in ["p1", "0123456789abcdef0123456", "0123456789abcdef012345678"] {
            let path = format!("/api/v1/admin/sites/demo/presence/{presence}/conversations");
            assert_eq!(code(Method::Post, &path), ErrorCode::InvalidId, "{path}");
        }
        assert_eq!(
            resolve(&Method::Delete, "/api/v1/admin/sites/demo/replies/Thanks").unwrap(),
            Route::AdminDeleteReply(SiteKey::parse("demo").unwrap(), "thanks".into())
        );
    }

    /// A concrete path for `pattern`, with valid ids in its placeholders.
    fn concrete(pattern: &str) -> String {
        let values: Vec<&str> = pattern
            .split('/')
            .filter(|s| s.starts_with('{'))
            .map(|p| match p {
                "{site}" => "demo",
                "{conversation_id}" => C,
                "{key_id}" => "key_0123456789abcdef",
                "{channel}" => "whatsapp",
                "{kind}" => "telegram",
                "{rule_id}" => "welcome",
                "{presence_id}" => "0123456789abcdef01234567",
                "{visitor_id}" => "v_0123456789abcdef0123456789abcdef",
                "{attachment_id}" => "a_0123456789abcdef0123456789abcdef",
                "{part}" => "1",
                "{broadcast_id}" => "b_0123456789abcdef0123456789abcdef",
                "{audience_id}" => "u_0123456789abcdef0123456789abcdef",
                "{event_id}" => "evt_m_0123456789abcdef",
                "{person_id}" => "pp_0123456789abcdef",
                "{token}" => "ZGVtbwphbmFAZXhhbXBsZS5jb20.dGFn",
                "{shortcut}" => "thanks",
                other => panic!("no sample value for {other}"),
            })
            .collect();
        paths::fill(pattern, &values)
    }

    /// The OpenAPI document lists exactly the paths the router serves, each with exactly the
    /// methods it accepts.
    #[test]
    fn openapi_document_matches_the_router() {
        let doc: serde_json::Value = serde_json::from_str(public::OPENAPI_JSON).unwrap();
        let documented = doc["paths"].as_object().unwrap();
        let mut listed: Vec<&str> = documented.keys().map(String::as_str).collect();
        let mut routed: Vec<&str> = paths::ALL.to_vec();
        listed.sort();
        routed.sort();
        assert_eq!(listed, routed, "documented paths vs routed paths");
        for (path, ops) in documented {
            let url = concrete(path);
            let methods: Vec<&String> = ops
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .collect();
            for method in [
                Method::Get,
                Method::Post,
                Method::Put,
                Method::Patch,
                Method::Delete,
            ] {
                let is_documented = methods
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(method.as_ref()));
                let refused = matches!(
                    resolve(&method, &url).map_err(|e| e.error_code()),
                    Err(ErrorCode::MethodNotAllowed)
                );
                assert_eq!(
                    !refused, is_documented,
                    "{method} {path}: documented {is_documented}, routed {}",
                    !refused
                );
            }
        }
    }

    /// The document states, for every admin operation, the role the router demands
    /// (`x-beckon-role`), and no other operation is checked as an admin one.
    #[test]
    fn openapi_document_states_each_routes_role() {
        let doc: serde_json::Value = serde_json::from_str(public::OPENAPI_JSON).unwrap();
        let mut checked = 0;
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                if method == "parameters" {
                    continue;
                }
                let m: Method = method.to_uppercase().into();
                let route = resolve(&m, &concrete(path)).unwrap();
                let documented = match op["x-beckon-role"].as_str() {
                    Some("owner") => Access::Admin(KeyRole::Owner),
                    Some("agent") => Access::Admin(KeyRole::Agent),
                    None => Access::Public,
                    Some(other) => panic!("{method} {path}: unknown role {other}"),
                };
                assert_eq!(route.access(), documented, "{method} {path}");
                let admin_only = op["security"] == serde_json::json!([{"adminKey": []}]);
                assert_eq!(
                    admin_only,
                    documented != Access::Public,
                    "{method} {path}: security vs role"
                );
                if documented != Access::Public {
                    assert!(op["responses"]["403"].is_object(), "{method} {path}: 403");
                }
                checked += 1;
            }
        }
        assert!(checked > 70, "{checked}");
    }

    /// No concrete path matches two patterns.
    #[test]
    fn patterns_do_not_overlap() {
        for p in paths::ALL {
            let url = concrete(p);
            let matching: Vec<&&str> = paths::ALL
                .iter()
                .filter(|q| paths::captures(q, &url).is_some())
                .collect();
            assert_eq!(matching, vec![p], "{url}");
        }
    }
}
