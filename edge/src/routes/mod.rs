//! The route table: [`resolve`] turns a method and path into a typed [`Route`] (pure, tested
//! natively, and checked against the OpenAPI document), and [`handle`] runs it.

mod admin;
mod channels;
mod contacts;
mod hooks;
mod presence;
mod public;
mod rules;
mod visitor;

use crate::error::{Error, Result};
use crate::http::{self, Edge};
use beckon_shared::proto::v1::{ChannelKind, ErrorCode};
use beckon_shared::{ConversationId, RuleId, SiteKey, VisitorId};
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
    Frame(SiteKey),
    StartConversation(SiteKey),
    ConversationSocket(ConversationId),
    VisitorMessages(ConversationId),
    AdminListSites,
    AdminCreateSite,
    AdminGetSite(SiteKey),
    AdminUpdateSite(SiteKey),
    AdminSiteLive(SiteKey),
    AdminListConversations,
    AdminGetConversation(ConversationId),
    AdminListMessages(ConversationId),
    AdminPostMessage(ConversationId),
    AdminWsTicket,
    AdminListKeys,
    AdminCreateKey,
    AdminDeleteKey(String),
    AdminConversationRelays(ConversationId),
    AdminListChannels(SiteKey),
    AdminPutChannel(SiteKey, ChannelKind),
    AdminDeleteChannel(SiteKey, ChannelKind),
    AdminTestChannel(SiteKey, ChannelKind),
    /// `GET` (handshakes) or `POST` (events) on `/hooks/{channel}/{site}`.
    Hook(ChannelKind, SiteKey, Method),
    TeaserEvent(SiteKey),
    PresenceSocket(SiteKey),
    GoalEvent(ConversationId),
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
}

/// Maps a request line to a route: unknown paths are `not_found`, known paths with another
/// method `method_not_allowed`, malformed ids `invalid_id`.
pub fn resolve(method: &Method, path: &str) -> Result<Route> {
    use Method::*;
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if *method == Options && segs.first() == Some(&"api") {
        return Ok(Route::Preflight);
    }
    let site = |s: &str| SiteKey::parse(s).map_err(Error::from);
    let conv = |s: &str| ConversationId::parse(s).map_err(Error::from);
    let kind = |s: &str| {
        ChannelKind::parse(s)
            .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("unknown channel {s:?}")))
    };
    // (allowed methods, route builder) for the matched path.
    let candidates: Vec<(Method, Result<Route>)> = match segs.as_slice() {
        ["health"] => vec![(Get, Ok(Route::Health))],
        ["frame", s] => vec![(Get, site(s).map(Route::Frame))],
        ["api", "v1", "openapi.json"] => vec![(Get, Ok(Route::OpenApi))],
        ["api", "v1", "sites", s, "config"] => vec![(Get, site(s).map(Route::SiteConfig))],
        ["api", "v1", "sites", s, "boot.js"] => vec![(Get, site(s).map(Route::LoaderBoot))],
        ["api", "v1", "sites", s, "conversations"] => {
            vec![(Post, site(s).map(Route::StartConversation))]
        }
        ["api", "v1", "conversations", c, "ws"] => {
            vec![(Get, conv(c).map(Route::ConversationSocket))]
        }
        ["api", "v1", "conversations", c, "messages"] => {
            vec![(Get, conv(c).map(Route::VisitorMessages))]
        }
        ["api", "v1", "admin", "sites"] => vec![
            (Get, Ok(Route::AdminListSites)),
            (Post, Ok(Route::AdminCreateSite)),
        ],
        ["api", "v1", "admin", "sites", s] => vec![
            (Get, site(s).map(Route::AdminGetSite)),
            (Patch, site(s).map(Route::AdminUpdateSite)),
        ],
        ["api", "v1", "admin", "sites", s, "live"] => {
            vec![(Get, site(s).map(Route::AdminSiteLive))]
        }
        ["api", "v1", "admin", "conversations"] => vec![(Get, Ok(Route::AdminListConversations))],
        ["api", "v1", "admin", "conversations", c] => {
            vec![(Get, conv(c).map(Route::AdminGetConversation))]
        }
        ["api", "v1", "admin", "conversations", c, "messages"] => vec![
            (Get, conv(c).map(Route::AdminListMessages)),
            (Post, conv(c).map(Route::AdminPostMessage)),
        ],
        ["api", "v1", "admin", "ws-ticket"] => vec![(Post, Ok(Route::AdminWsTicket))],
        ["api", "v1", "admin", "keys"] => vec![
            (Get, Ok(Route::AdminListKeys)),
            (Post, Ok(Route::AdminCreateKey)),
        ],
        ["api", "v1", "admin", "keys", id] => {
            vec![(Delete, Ok(Route::AdminDeleteKey((*id).to_owned())))]
        }
        ["api", "v1", "admin", "conversations", c, "relays"] => {
            vec![(Get, conv(c).map(Route::AdminConversationRelays))]
        }
        ["api", "v1", "admin", "sites", s, "channels"] => {
            vec![(Get, site(s).map(Route::AdminListChannels))]
        }
        ["api", "v1", "admin", "sites", s, "channels", k] => {
            let both = || Ok((site(s)?, kind(k)?));
            vec![
                (Put, both().map(|(s, k)| Route::AdminPutChannel(s, k))),
                (Delete, both().map(|(s, k)| Route::AdminDeleteChannel(s, k))),
            ]
        }
        ["api", "v1", "admin", "sites", s, "channels", k, "test"] => {
            vec![(
                Post,
                site(s).and_then(|s| Ok(Route::AdminTestChannel(s, kind(k)?))),
            )]
        }
        ["api", "v1", "sites", s, "events"] => vec![(Post, site(s).map(Route::TeaserEvent))],
        ["api", "v1", "sites", s, "presence"] => vec![(Get, site(s).map(Route::PresenceSocket))],
        ["api", "v1", "sites", s, "identify"] => vec![(Post, site(s).map(Route::Identify))],
        ["api", "v1", "admin", "sites", s, "contacts"] => {
            vec![(Get, site(s).map(Route::AdminContacts))]
        }
        ["api", "v1", "admin", "sites", s, "contacts", v, "conversations"] => {
            vec![(
                Post,
                site(s).and_then(|s| Ok(Route::AdminContactOutreach(s, VisitorId::parse(v)?))),
            )]
        }
        ["api", "v1", "conversations", c, "events"] => vec![(Post, conv(c).map(Route::GoalEvent))],
        ["api", "v1", "admin", "metrics"] => vec![(Get, Ok(Route::AdminMetrics))],
        ["api", "v1", "admin", "sites", s, "rules"] => vec![
            (Get, site(s).map(Route::AdminListRules)),
            (Post, site(s).map(Route::AdminCreateRule)),
        ],
        ["api", "v1", "admin", "sites", s, "rules", r] => {
            let both = || -> Result<(SiteKey, RuleId)> { Ok((site(s)?, RuleId::parse(r)?)) };
            vec![
                (Get, both().map(|(s, r)| Route::AdminGetRule(s, r))),
                (Put, both().map(|(s, r)| Route::AdminReplaceRule(s, r))),
                (Delete, both().map(|(s, r)| Route::AdminDeleteRule(s, r))),
            ]
        }
        ["api", "v1", "admin", "sites", s, "presence"] => {
            vec![(Get, site(s).map(Route::AdminPresence))]
        }
        ["api", "v1", "admin", "sites", s, "presence", p, "conversations"] => {
            vec![(
                Post,
                site(s).map(|s| Route::AdminReachOut(s, (*p).to_owned())),
            )]
        }
        ["hooks", k, s] => {
            let k = kind(k)?;
            let hook = |m: Method| site(s).map(|s| Route::Hook(k, s, m));
            match k {
                ChannelKind::Whatsapp => vec![(Get, hook(Get)), (Post, hook(Post))],
                _ => vec![(Post, hook(Post))],
            }
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
    let result = match resolve(&req.method(), &req.path()) {
        Ok(route) => run(route, req, &edge).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(resp) => Ok(resp),
        Err(e) => http::error_response(&e),
    }
}

async fn run(route: Route, req: Request, edge: &Edge) -> Result<Response> {
    match route {
        Route::Health => http::json(200, &serde_json::json!({"ok": true, "service": "beckon"})),
        Route::OpenApi => public::openapi(),
        Route::Preflight => public::preflight(&req, edge).await,
        Route::SiteConfig(site) => public::site_config(&req, edge, &site).await,
        Route::LoaderBoot(site) => public::loader_boot(edge, &site).await,
        Route::Frame(site) => public::frame(&req, edge, &site).await,
        Route::StartConversation(site) => visitor::start_conversation(req, edge, &site).await,
        Route::ConversationSocket(id) => visitor::conversation_socket(req, edge, &id).await,
        Route::VisitorMessages(id) => visitor::messages(&req, edge, &id).await,
        Route::AdminListSites => admin::list_sites(&req, edge).await,
        Route::AdminCreateSite => admin::create_site(req, edge).await,
        Route::AdminGetSite(site) => admin::get_site(&req, edge, &site).await,
        Route::AdminUpdateSite(site) => admin::update_site(req, edge, &site).await,
        Route::AdminSiteLive(site) => admin::site_live(req, edge, &site).await,
        Route::AdminListConversations => admin::list_conversations(&req, edge).await,
        Route::AdminGetConversation(id) => admin::get_conversation(&req, edge, &id).await,
        Route::AdminListMessages(id) => admin::list_messages(&req, edge, &id).await,
        Route::AdminPostMessage(id) => admin::post_message(req, edge, &id).await,
        Route::AdminWsTicket => admin::ws_ticket(&req, edge).await,
        Route::AdminListKeys => admin::list_keys(&req, edge).await,
        Route::AdminCreateKey => admin::create_key(req, edge).await,
        Route::AdminDeleteKey(id) => admin::delete_key(&req, edge, &id).await,
        Route::AdminConversationRelays(id) => admin::relays(&req, edge, &id).await,
        Route::TeaserEvent(site) => visitor::teaser_event(req, edge, &site).await,
        Route::PresenceSocket(site) => presence::visitor_socket(req, edge, &site).await,
        Route::GoalEvent(id) => visitor::goal_event(req, edge, &id).await,
        Route::AdminListRules(site) => rules::list(&req, edge, &site).await,
        Route::AdminCreateRule(site) => rules::create(req, edge, &site).await,
        Route::AdminGetRule(site, id) => rules::get(&req, edge, &site, &id).await,
        Route::AdminReplaceRule(site, id) => rules::replace(req, edge, &site, &id).await,
        Route::AdminDeleteRule(site, id) => rules::delete(&req, edge, &site, &id).await,
        Route::AdminMetrics => rules::metrics(&req, edge).await,
        Route::AdminPresence(site) => presence::list(&req, edge, &site).await,
        Route::AdminReachOut(site, id) => presence::reach_out(req, edge, &site, &id).await,
        Route::Identify(site) => visitor::identify(req, edge, &site).await,
        Route::AdminContacts(site) => contacts::list(&req, edge, &site).await,
        Route::AdminContactOutreach(site, v) => contacts::reach_out(req, edge, &site, &v).await,
        Route::AdminListChannels(site) => channels::list(&req, edge, &site).await,
        Route::AdminPutChannel(site, kind) => channels::put(req, edge, &site, kind).await,
        Route::AdminDeleteChannel(site, kind) => channels::delete(&req, edge, &site, kind).await,
        Route::AdminTestChannel(site, kind) => channels::test(&req, edge, &site, kind).await,
        Route::Hook(kind, site, method) => {
            let result = match (kind, method) {
                (ChannelKind::Telegram, _) => hooks::telegram(req, edge, &site).await,
                (ChannelKind::Slack, _) => hooks::slack(req, edge, &site).await,
                (ChannelKind::Whatsapp, Method::Get) => {
                    hooks::whatsapp_handshake(&req, edge, &site).await
                }
                (ChannelKind::Whatsapp, _) => hooks::whatsapp(req, edge, &site).await,
            };
            match result {
                Ok(r) => Ok(r),
                Err(e) => hooks::refusal(kind, &e).map_err(Error::from),
            }
        }
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
    }

    /// Every operation in the OpenAPI document is routed, and its method is accepted.
    #[test]
    fn openapi_document_matches_the_router() {
        let doc: serde_json::Value = serde_json::from_str(public::OPENAPI_JSON).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 15, "document lists {} paths", paths.len());
        for (path, ops) in paths {
            let concrete = path
                .replace("{site}", "demo")
                .replace("{conversation_id}", C)
                .replace("{key_id}", "k1")
                .replace("{channel}", "whatsapp")
                .replace("{kind}", "telegram")
                .replace("{rule_id}", "welcome")
                .replace("{presence_id}", "p1")
                .replace("{visitor_id}", "v_0123456789abcdef0123456789abcdef");
            for method in ops
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
            {
                let m = Method::from(method.to_uppercase());
                assert!(
                    resolve(&m, &concrete).is_ok(),
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
}
