//! Who may do what. The authorization table: every operation of the OpenAPI document (the
//! route list), called with each credential that must not work — none, a visitor token of
//! another conversation or another site, an expired or tampered token, a revoked key, an
//! agent key of another site, an agent key on an owner-only operation, and for WebSockets
//! tickets forged, spent, for another target or of a revoked key — is refused with the
//! right status, and nothing changes. The rows are generated from the document, so a new
//! operation without a rule here fails the test.
//!
//! Also: scoped keys do their job, revoking a key closes its sockets at once, tokens expire
//! and survive a key rotation, and no long-lived credential reaches the server's log.

use beckon_edge::auth::{visitor_token, TokenKeys, VISITOR_TOKEN_TTL_MS};
use beckon_shared::proto::v1::{close, ClientFrame, StartedConversation};
use beckon_shared::{ConversationId, SiteKey, VisitorId};
use beckon_tests::api::{client_id, Api, Reply, Ws};
use beckon_tests::edge::{self, Edge};
use beckon_tests::fakes::telegram::FakeTelegram;
use beckon_tests::{unique, ADMIN_KEY, TOKEN_SECRET};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);
const TG_SECRET: &str = "access-test-webhook-secret-0123456789";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A credential to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cred {
    None,
    /// A visitor token of another conversation (another visitor of the same site).
    OtherConversation,
    OtherSite,
    Expired,
    Tampered,
    /// A visitor token where an admin key belongs.
    VisitorAsKey,
    RevokedKey,
    AgentOtherSite,
    AgentOnOwnerRoute,
    // WebSockets.
    NoTicket,
    ForgedTicket,
    TicketForOther,
    SpentTicket,
    TicketOfRevokedKey,
}

/// How the document says an operation is authorized.
#[derive(Debug, PartialEq, Eq)]
enum Auth {
    Admin {
        owner: bool,
    },
    Visitor,
    VisitorOrAdmin,
    /// A visitor token is optional (starting a conversation).
    OptionalVisitor,
    /// `?ticket=` (WebSockets).
    Ticket,
    /// A signed URL (files).
    SignedUrl,
    /// A channel's signature.
    Webhook,
    /// Public by design: documents, the widget's boot, anonymous events, presence.
    Public,
}

/// Operations that are public by design (no credential to refuse). A new public operation
/// must be added here on purpose.
const PUBLIC_BY_DESIGN: &[&str] = &[
    "GET /health",
    "GET /api/v1/openapi.json",
    "GET /frame/{site}",
    "GET /api/v1/sites/{site}/config",
    "GET /api/v1/sites/{site}/boot.js",
    "GET /api/v1/sites/{site}/beckon.js",
    "POST /api/v1/sites/{site}/events",
    "GET /api/v1/sites/{site}/presence",
    // A person's photo: any widget shows it beside their messages.
    "GET /api/v1/avatars/{person_id}",
    // Signing in: the password (or the invitation) is the credential.
    "POST /api/v1/auth/accept",
    "POST /api/v1/auth/sign-in",
];

fn classify(method: &str, path: &str, op: &Value) -> Auth {
    let line = format!("{} {path}", method.to_uppercase());
    if PUBLIC_BY_DESIGN.contains(&line.as_str()) {
        return Auth::Public;
    }
    if path.starts_with("/hooks/") {
        return Auth::Webhook;
    }
    if path.ends_with("/ws") || path.ends_with("/live") {
        return Auth::Ticket;
    }
    if path.contains("/attachments/")
        || path.starts_with("/unsubscribe/")
        || path.starts_with("/preview/")
    {
        return Auth::SignedUrl;
    }
    let security = &op["security"];
    if security == &json!([{"adminKey": []}]) {
        return Auth::Admin {
            owner: op["x-beckon-role"] == "owner",
        };
    }
    if security == &json!([{"visitorToken": []}]) {
        return Auth::Visitor;
    }
    if security == &json!([{"visitorToken": []}, {"adminKey": []}]) {
        return Auth::VisitorOrAdmin;
    }
    if security == &json!([{}, {"visitorToken": []}]) {
        return Auth::OptionalVisitor;
    }
    panic!("{line}: no authorization rule in this test for security {security}")
}

/// Everything the table needs: two sites, their visitors and keys.
struct World {
    api: Api,
    site: String,
    other_site: String,
    /// A conversation of `site` every call targets.
    target: StartedConversation,
    /// Another visitor's conversation on `site`.
    neighbour: StartedConversation,
    /// A visitor of `other_site`.
    foreigner: StartedConversation,
    expired_token: String,
    tampered_token: String,
    owner_key: (String, String),
    agent_key: String,
    other_agent_key: String,
    revoked_key: String,
    _telegram: FakeTelegram,
}

async fn key(api: &Api, body: Value) -> (String, String) {
    let r = api
        .send(api.admin(Method::POST, "/api/v1/admin/keys").json(&body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["key"].as_str().unwrap().to_owned(),
    )
}

async fn world(api: Api) -> World {
    let site = unique("authz");
    let other_site = unique("authz-other");
    api.create_site(&site).await;
    api.create_site(&other_site).await;
    let telegram = FakeTelegram::start("7000001:access-test").await;
    let r = api
        .send(
            api.admin(
                Method::PUT,
                &format!("/api/v1/admin/sites/{site}/channels/telegram"),
            )
            .json(&json!({
                "settings": {"kind": "telegram", "chat_id": -1001234567890_i64, "api_base": telegram.base},
                "secrets": {"kind": "telegram", "bot_token": telegram.token, "webhook_secret": TG_SECRET},
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let target = api.start_conversation(&site, None).await;
    let neighbour = api.start_conversation(&site, None).await;
    let foreigner = api.start_conversation(&other_site, None).await;
    let mut ws = api.visitor_socket(&target).await;
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("hello"),
        body: "Hello, is anyone there?".into(),
        attachments: Vec::new(),
    })
    .await;
    ws.recv_until(T, |f| {
        matches!(f, beckon_shared::proto::v1::ServerFrame::Ack { .. })
    })
    .await;
    // The conversation list is written in batches: wait until it shows the message, so the
    // "nothing changed" snapshots compare settled state.
    beckon_tests::eventually(T, "the message in the conversation list", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}"),
            ))
            .await;
        r.body["conversations"]
            .as_array()?
            .iter()
            .any(|c| c["last_seq"] == 1)
            .then_some(())
    })
    .await;
    let keys = TokenKeys::parse(None, TOKEN_SECRET.as_bytes()).unwrap();
    let expired_token = visitor_token(
        &keys,
        &SiteKey::parse(&site).unwrap(),
        &target.visitor_id,
        now_ms() - VISITOR_TOKEN_TTL_MS - 60_000,
    );
    let mut tampered_token = target.visitor_token.clone();
    let last = tampered_token.pop().unwrap();
    tampered_token.push(if last == 'A' { 'B' } else { 'A' });
    let owner_key = key(
        &api,
        json!({"label": "owner", "role": "owner", "sites": [site]}),
    )
    .await;
    let (_, agent_key) = key(
        &api,
        json!({"label": "agent", "role": "agent", "sites": [site]}),
    )
    .await;
    let (_, other_agent_key) = key(
        &api,
        json!({"label": "elsewhere", "role": "agent", "sites": [other_site]}),
    )
    .await;
    let (revoked_id, revoked_key) = key(
        &api,
        json!({"label": "gone", "role": "owner", "sites": [site]}),
    )
    .await;
    let r = api
        .send(api.admin(Method::DELETE, &format!("/api/v1/admin/keys/{revoked_id}")))
        .await;
    assert_eq!(r.status, 204);
    World {
        api,
        site,
        other_site,
        target,
        neighbour,
        foreigner,
        expired_token,
        tampered_token,
        owner_key,
        agent_key,
        other_agent_key,
        revoked_key,
        _telegram: telegram,
    }
}

impl World {
    /// `pattern` with this world's ids.
    fn path(&self, pattern: &str) -> String {
        let mut out = Vec::new();
        for seg in pattern.split('/') {
            out.push(match seg {
                "{site}" => self.site.clone(),
                "{conversation_id}" => self.target.conversation_id.to_string(),
                "{key_id}" => self.owner_key.0.clone(),
                "{channel}" | "{kind}" => "telegram".into(),
                "{rule_id}" => "welcome".into(),
                "{presence_id}" => "0123456789abcdef01234567".into(),
                "{visitor_id}" => self.target.visitor_id.to_string(),
                "{attachment_id}" => "a_0123456789abcdef0123456789abcdef".into(),
                "{part}" => "1".into(),
                "{broadcast_id}" => "b_0123456789abcdef0123456789abcdef".into(),
                "{audience_id}" => "u_0123456789abcdef0123456789abcdef".into(),
                "{event_id}" => "evt_m_0123456789abcdef".into(),
                "{person_id}" => "pp_0123456789abcdef".into(),
                "{shortcut}" => "thanks".into(),
                // An unsubscribe token of this site, unsigned.
                "{token}" => "ZGVtbwphbmFAZXhhbXBsZS5jb20.dGFn".into(),
                s if s.starts_with('{') => panic!("no value for {s}"),
                s => s.to_owned(),
            });
        }
        out.join("/")
    }

    /// The bearer credential `cred` stands for, if it is one.
    fn bearer(&self, cred: Cred) -> Option<String> {
        Some(match cred {
            Cred::OtherConversation => self.neighbour.visitor_token.clone(),
            Cred::OtherSite => self.foreigner.visitor_token.clone(),
            Cred::Expired => self.expired_token.clone(),
            Cred::Tampered => self.tampered_token.clone(),
            Cred::VisitorAsKey => self.target.visitor_token.clone(),
            Cred::RevokedKey => self.revoked_key.clone(),
            Cred::AgentOtherSite => self.other_agent_key.clone(),
            Cred::AgentOnOwnerRoute => self.agent_key.clone(),
            _ => return None,
        })
    }

    /// Calls `method path` with `cred` and a plausible body.
    async fn call(&self, method: &str, path: &str, cred: Cred) -> Reply {
        let m: Method = method.to_uppercase().parse().unwrap();
        let mut url = format!("{}{}", self.api.base, self.path(path));
        if m == Method::GET && path.starts_with("/hooks/") {
            // Only WhatsApp has a GET handshake; this site has not set it up.
            url = url.replace("/hooks/telegram/", "/hooks/whatsapp/");
        }
        let mut req = self.api.http.request(m.clone(), url);
        if let Some(b) = self.bearer(cred) {
            req = req.bearer_auth(b);
        }
        // A valid body where the operation reads one, so that what refuses the call is the
        // credential and not the input.
        req = match (m.as_str(), path) {
            (_, p) if p.ends_with("/parts/{part}") => req.body(vec![0u8; 64]),
            ("POST", "/api/v1/admin/ws-ticket") => req.json(&json!({"site": self.site})),
            ("POST", "/api/v1/admin/conversations/{conversation_id}/messages") => {
                req.json(&json!({"body": "Hello from someone else"}))
            }
            ("POST", "/api/v1/conversations/{conversation_id}/events") => {
                req.json(&json!({"name": "purchase", "value": 10}))
            }
            ("POST", "/api/v1/conversations/{conversation_id}/uploads") => {
                req.json(&json!({"upload_key": "up-1", "name": "photo.png", "size": 1000}))
            }
            ("POST" | "PUT" | "PATCH", _) => req.json(&json!({})),
            _ => req,
        };
        self.api.send(req).await
    }

    /// What the admin API shows of `site` with the master key: compared before and after
    /// the table (nothing may change).
    async fn snapshot(&self) -> BTreeMap<String, Value> {
        let site = &self.site;
        let id = &self.target.conversation_id;
        let mut out = BTreeMap::new();
        for path in [
            format!("/api/v1/admin/sites/{site}"),
            format!("/api/v1/admin/conversations?site={site}"),
            format!("/api/v1/admin/conversations/{id}/messages"),
            format!("/api/v1/admin/sites/{site}/channels"),
            format!("/api/v1/admin/sites/{site}/rules"),
            format!("/api/v1/admin/sites/{site}/contacts"),
            format!("/api/v1/admin/sites/{site}/audiences"),
            format!("/api/v1/admin/sites/{site}/broadcasts"),
            "/api/v1/admin/sites".to_owned(),
            "/api/v1/admin/keys".to_owned(),
        ] {
            // The site's owner sees all of it, and nothing of the other tests' sites.
            let r = self
                .api
                .send(self.api.get(&path).bearer_auth(&self.owner_key.1))
                .await;
            assert_eq!(r.status, 200, "{path}: {:?}", r.body);
            let mut body = r.body;
            // Use is recorded, not a change.
            if let Some(keys) = body["keys"].as_array_mut() {
                for k in keys {
                    k["last_used_at"] = Value::Null;
                }
            }
            if let Some(list) = body["conversations"].as_array_mut() {
                for c in list {
                    c["agent_online"] = Value::Null;
                }
            }
            if let Some(channels) = body["channels"].as_array_mut() {
                for c in channels {
                    c["status"] = Value::Null;
                    c["checked_at"] = Value::Null;
                }
            }
            out.insert(path, body);
        }
        out
    }
}

/// The credentials to try on an operation, each with the status it must get.
fn rows(auth: &Auth, method: &str, path: &str) -> Vec<(Cred, u16)> {
    let conversation_scoped = path.contains("{conversation_id}");
    let site_scoped = path.contains("{site}") || conversation_scoped;
    match auth {
        Auth::Admin { owner } => {
            let mut r = vec![
                (Cred::None, 401),
                (Cred::VisitorAsKey, 401),
                (Cred::RevokedKey, 401),
            ];
            if *owner {
                r.push((Cred::AgentOnOwnerRoute, 403));
                r.push((Cred::AgentOtherSite, 403));
            } else if site_scoped || path == "/api/v1/admin/ws-ticket" {
                r.push((Cred::AgentOtherSite, 403));
            }
            r
        }
        Auth::Visitor | Auth::VisitorOrAdmin => {
            let mut r = vec![
                (Cred::None, 401),
                (Cred::Expired, 401),
                (Cred::Tampered, 401),
                (Cred::OtherSite, 403),
            ];
            if conversation_scoped {
                r.push((Cred::OtherConversation, 403));
            }
            if *auth == Auth::VisitorOrAdmin {
                r.push((Cred::RevokedKey, 401));
                r.push((Cred::AgentOtherSite, 403));
            }
            r
        }
        Auth::OptionalVisitor => vec![
            (Cred::Expired, 401),
            (Cred::Tampered, 401),
            (Cred::OtherSite, 403),
        ],
        Auth::Ticket => vec![
            (Cred::NoTicket, 401),
            (Cred::ForgedTicket, 401),
            (Cred::TicketForOther, 401),
            (Cred::SpentTicket, 401),
            (Cred::TicketOfRevokedKey, 401),
        ],
        Auth::SignedUrl => vec![(Cred::None, 403)],
        // Unsigned: refused by the channel set up on the site (Telegram: 401), or before
        // anything is read when the site has not set the channel up (WhatsApp: 403).
        Auth::Webhook if method == "post" => vec![(Cred::None, 401)],
        Auth::Webhook => vec![(Cred::None, 403)],
        Auth::Public => Vec::new(),
    }
}

/// A WebSocket's refusal status for `cred` (`path` is `…/ws` or `…/live`).
async fn socket_status(w: &World, path: &str, cred: Cred, revoked_ticket: &str) -> u16 {
    let api = &w.api;
    let url = w.path(path);
    let live = path.ends_with("/live");
    let ticket =
        |wanted: Value| async move { api.admin_ticket(ADMIN_KEY, wanted).await.unwrap().ticket };
    let own = if live {
        json!({"site": w.site})
    } else {
        json!({"conversation_id": w.target.conversation_id})
    };
    let other = if live {
        json!({"site": w.other_site})
    } else {
        json!({"conversation_id": w.neighbour.conversation_id})
    };
    let full = match cred {
        Cred::NoTicket => format!("{}{url}", api.base.replacen("http", "ws", 1)),
        Cred::ForgedTicket => api.ws_url(&url, &format!("{}x", ticket(own).await)),
        Cred::TicketForOther => api.ws_url(&url, &ticket(other).await),
        Cred::SpentTicket => {
            let once = api.ws_url(&url, &ticket(own).await);
            let first = Ws::connect(&once, None).await;
            assert!(first.is_ok(), "{path}: a fresh ticket opens");
            once
        }
        Cred::TicketOfRevokedKey => api.ws_url(&url, revoked_ticket),
        other => panic!("{other:?} is not a socket credential"),
    };
    match Ws::connect(&full, None).await {
        Ok(_) => 101,
        Err(e) => e.status,
    }
}

#[tokio::test]
async fn every_route_refuses_every_wrong_credential_and_nothing_changes() {
    let w = world(Api::new(&edge::shared().url)).await;
    // A ticket minted by a key that is revoked before it is used.
    let (doomed_id, doomed) = key(
        &w.api,
        json!({"label": "doomed", "role": "agent", "sites": [w.site]}),
    )
    .await;
    let doomed_tickets = [
        w.api
            .admin_ticket(&doomed, json!({"site": w.site}))
            .await
            .unwrap()
            .ticket,
        w.api
            .admin_ticket(
                &doomed,
                json!({"conversation_id": w.target.conversation_id}),
            )
            .await
            .unwrap()
            .ticket,
    ];
    let r = w
        .api
        .send(
            w.api
                .admin(Method::DELETE, &format!("/api/v1/admin/keys/{doomed_id}")),
        )
        .await;
    assert_eq!(r.status, 204);

    let before = w.snapshot().await;
    let doc = w.api.send(w.api.get("/api/v1/openapi.json")).await.body;
    let (mut operations, mut tried, mut public) = (0, 0, 0);
    let mut failures = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            operations += 1;
            let auth = classify(method, path, op);
            let rows = rows(&auth, method, path);
            if rows.is_empty() {
                public += 1;
            }
            for (cred, want) in rows {
                let got = if auth == Auth::Ticket {
                    let revoked = &doomed_tickets[usize::from(path.ends_with("/ws"))];
                    socket_status(&w, path, cred, revoked).await
                } else {
                    w.call(method, path, cred).await.status
                };
                tried += 1;
                if got != want {
                    failures.push(format!(
                        "{} {path} with {cred:?}: {got}, expected {want}",
                        method.to_uppercase()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let after = w.snapshot().await;
    for (path, was) in &before {
        assert_eq!(&after[path], was, "{path} changed");
    }
    println!(
        "authorization table: {operations} operations ({public} public by design), \
         {tried} operation × credential calls tried, {tried} refused with the expected status, \
         nothing changed"
    );
    assert!(operations >= 70 && tried >= 250, "{operations} / {tried}");
}

#[tokio::test]
async fn keys_are_scoped_and_a_revoked_key_loses_its_sockets_at_once() {
    let api = Api::new(&edge::shared().url);
    let w = world(api).await;
    let api = &w.api;
    let (_, owner) = &w.owner_key;

    // An agent of the site reads, answers and opens sockets; its list shows its site only.
    let sites = api
        .send(api.get("/api/v1/admin/sites").bearer_auth(&w.agent_key))
        .await;
    let keys: Vec<&str> = sites.body["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec![w.site.as_str()]);
    assert_eq!(sites.body["access"]["role"], "agent");
    let list = api
        .send(
            api.get("/api/v1/admin/conversations")
                .bearer_auth(&w.agent_key),
        )
        .await;
    let ids: Vec<&str> = list.body["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&w.target.conversation_id.as_str()), "{ids:?}");
    let foreign = api
        .send(
            api.get("/api/v1/admin/conversations")
                .bearer_auth(&w.other_agent_key),
        )
        .await;
    assert!(!foreign
        .body
        .to_string()
        .contains(w.target.conversation_id.as_str()));
    let reply = api
        .send(
            api.post(&format!(
                "/api/v1/admin/conversations/{}/messages",
                w.target.conversation_id
            ))
            .bearer_auth(&w.agent_key)
            .json(&json!({"body": "Yes — how can I help?", "author": "Ana"})),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);

    // An owner of one site manages its keys, not others', and cannot create sites or keys
    // for every site.
    let r = api
        .send(
            api.post("/api/v1/admin/keys")
                .bearer_auth(owner)
                .json(&json!({"label": "all", "role": "agent"})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"));
    let r = api
        .send(
            api.post("/api/v1/admin/keys")
                .bearer_auth(owner)
                .json(&json!({"label": "x", "sites": [w.other_site]})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"));
    let r = api
        .send(
            api.post("/api/v1/admin/sites")
                .bearer_auth(owner)
                .json(&json!({"key": unique("nope"), "name": "Nope"})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"));
    let listed = api
        .send(api.get("/api/v1/admin/keys").bearer_auth(owner))
        .await;
    let labels: Vec<&str> = listed.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"agent") && !labels.contains(&"elsewhere"),
        "{labels:?}"
    );

    // A key of the site, with a feed and a conversation socket open, is revoked by the
    // site's owner: both sockets are closed at once.
    let (helper_id, helper) = key(
        api,
        json!({"label": "helper", "role": "agent", "sites": [w.site]}),
    )
    .await;
    let feed_ticket = api
        .admin_ticket(&helper, json!({"site": w.site}))
        .await
        .unwrap();
    let mut feed = Ws::connect(
        &api.ws_url(
            &format!("/api/v1/admin/sites/{}/live", w.site),
            &feed_ticket.ticket,
        ),
        None,
    )
    .await
    .unwrap();
    let conv_ticket = api
        .admin_ticket(
            &helper,
            json!({"conversation_id": w.target.conversation_id, "name": "Helper"}),
        )
        .await
        .unwrap();
    let mut socket = Ws::connect(
        &api.ws_url(
            &format!("/api/v1/conversations/{}/ws", w.target.conversation_id),
            &conv_ticket.ticket,
        ),
        None,
    )
    .await
    .unwrap();
    socket.hello(0).await;
    // The master key's sockets are not touched by it.
    let mut master = Ws::connect(&api.agent_ws_url(&w.target.conversation_id).await, None)
        .await
        .unwrap();
    master.hello(0).await;
    let revoked = std::time::Instant::now();
    let r = api
        .send(
            api.http
                .delete(format!("{}/api/v1/admin/keys/{helper_id}", api.base))
                .bearer_auth(owner),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(
        feed.closed_within(T).await,
        Some(Some(close::POLICY_VIOLATION)),
        "the feed is closed"
    );
    assert_eq!(
        socket.closed_within(T).await,
        Some(Some(close::POLICY_VIOLATION)),
        "the conversation socket is closed"
    );
    println!(
        "revoked key: feed and conversation socket closed {} ms after the revocation",
        revoked.elapsed().as_millis()
    );
    assert_eq!(master.closed_within(Duration::from_millis(500)).await, None);
    let r = api
        .send(api.get("/api/v1/admin/sites").bearer_auth(&helper))
        .await;
    assert_eq!(r.status, 401);
}

/// Restarts `edge` with `keys` as `VISITOR_TOKEN_KEYS` on the same state.
fn restart(edge: Edge, keys: &str) -> Edge {
    let state = edge.stop();
    Edge::start_with_vars(Some(state), &[("VISITOR_TOKEN_KEYS", keys)])
}

#[tokio::test]
async fn tokens_expire_survive_a_key_rotation_and_never_reach_the_log() {
    const K1: &str = "rotation-test-key-one-0123456789abcdef";
    const K2: &str = "rotation-test-key-two-0123456789abcdef";
    std::env::set_var("BECKON_WRANGLER_LOG", "info");
    let edge = Edge::start_with_vars(None, &[("VISITOR_TOKEN_KEYS", &format!("1:{K1}"))]);
    let api = Api::new(&edge.url);
    let site = unique("rotate");
    api.create_site(&site).await;
    let old = api.start_conversation(&site, None).await;
    assert!(
        old.visitor_token.starts_with("vt2.1."),
        "{}",
        old.visitor_token
    );
    let mut ws = api.visitor_socket(&old).await;
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("before-rotation"),
        body: "Before the rotation".into(),
        attachments: Vec::new(),
    })
    .await;
    ws.recv_until(T, |f| {
        matches!(f, beckon_shared::proto::v1::ServerFrame::Ack { .. })
    })
    .await;

    // Past its expiry, a token is refused; a day-old one is renewed with the ticket.
    let keys = TokenKeys::parse(Some(&format!("1:{K1}")), b"unused").unwrap();
    let site_key = SiteKey::parse(&site).unwrap();
    let expired = visitor_token(
        &keys,
        &site_key,
        &old.visitor_id,
        now_ms() - VISITOR_TOKEN_TTL_MS - 1000,
    );
    let r = api
        .visitor_ticket(&old.conversation_id, &expired)
        .await
        .unwrap_err();
    assert_eq!((r.status, r.error_code()), (401, "invalid_token"));
    let day_old = visitor_token(&keys, &site_key, &old.visitor_id, now_ms() - 2 * 86_400_000);
    let renewed = api
        .visitor_ticket(&old.conversation_id, &day_old)
        .await
        .unwrap()
        .visitor_token
        .expect("a day-old token is renewed");
    assert!(renewed.starts_with("vt2.1.") && renewed != day_old);
    let fresh = api
        .visitor_ticket(&old.conversation_id, &old.visitor_token)
        .await
        .unwrap();
    assert_eq!(fresh.visitor_token, None, "a fresh token is kept");

    // No long-lived credential in the server's log. (wrangler logs each request's path; a
    // proxy in front would log the query too, and there it finds a spent single-use ticket:
    // a token in the URL is refused, see the authorization table.)
    let log = edge.log();
    let socket_lines: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains(&format!(
                "/api/v1/conversations/{}/ws ",
                old.conversation_id
            ))
        })
        .collect();
    assert!(
        !socket_lines.is_empty(),
        "the log records socket requests:\n{log}"
    );
    for secret in [&old.visitor_token, &renewed, &day_old, &expired] {
        assert!(
            !log.contains(secret.as_str()),
            "a visitor token is in the log"
        );
    }
    assert!(!log.contains(ADMIN_KEY) && !log.contains("token=") && !log.contains("vt2."));
    println!(
        "log check: {} lines, {} socket requests logged, 0 visitor tokens or admin keys",
        log.lines().count(),
        socket_lines.len()
    );

    // Rotation: a new key signs, the old one still verifies its unexpired tokens.
    let edge = restart(edge, &format!("2:{K2} 1:{K1}"));
    let api = Api::new(&edge.url);
    let mut again = Ws::connect(
        &api.visitor_ws_url(&old.conversation_id, &old.visitor_token)
            .await,
        None,
    )
    .await
    .expect("an old token opens its conversation after the rotation");
    let history = again.hello(0).await;
    assert_eq!(history.len(), 1, "{history:?}");
    let newer = api.start_conversation(&site, None).await;
    assert!(
        newer.visitor_token.starts_with("vt2.2."),
        "{}",
        newer.visitor_token
    );

    // Once the old key is dropped, its tokens are refused; the new ones still work.
    let edge = restart(edge, &format!("2:{K2}"));
    let api = Api::new(&edge.url);
    let r = api
        .visitor_ticket(&old.conversation_id, &old.visitor_token)
        .await
        .unwrap_err();
    assert_eq!(r.status, 401);
    assert!(api
        .visitor_ticket(&newer.conversation_id, &newer.visitor_token)
        .await
        .is_ok());
    println!("rotation: kid 1 token valid under [2, 1], refused under [2]; kid 2 valid throughout");
    edge.stop();
}

#[tokio::test]
async fn deleting_a_visitor_revokes_their_token() {
    let api = Api::new(&edge::shared().url);
    let site = unique("erase");
    api.create_site(&site).await;
    let c = api.start_conversation(&site, None).await;
    assert!(api
        .visitor_ticket(&c.conversation_id, &c.visitor_token)
        .await
        .is_ok());
    let r = api
        .send(api.admin(
            Method::DELETE,
            &format!("/api/v1/admin/sites/{site}/contacts/{}", c.visitor_id),
        ))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/conversations"))
                .bearer_auth(&c.visitor_token)
                .json(&json!({})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (401, "invalid_token"));
    let r = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/identify"))
                .bearer_auth(&c.visitor_token)
                .json(&json!({"name": "Ana"})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (401, "invalid_token"));
    let _: (ConversationId, VisitorId) = (c.conversation_id, c.visitor_id);
}

/// An HS256 JWT for `sub`, expiring at `exp` (seconds), the way a site's backend makes one.
fn jwt(secret: &str, sub: &str, exp: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::Mac;
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let c = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sub":"{sub}","exp":{exp},"name":"Ana Lima"}}"#
    ));
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(format!("{h}.{c}").as_bytes());
    format!(
        "{h}.{c}.{}",
        URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
    )
}

#[tokio::test]
async fn a_verified_identity_finds_its_history_elsewhere_and_claims_never_do() {
    let api = Api::new(&edge::shared().url);
    let site = unique("verified");
    api.create_site(&site).await;
    let identity = |body: Value| {
        api.send(
            api.admin(Method::PUT, &format!("/api/v1/admin/sites/{site}/identity"))
                .json(&body),
        )
    };
    let made = identity(json!({"rotate_secret": true})).await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    let identify = |token: Option<&str>, body: Value| {
        let mut req = api
            .post(&format!("/api/v1/sites/{site}/identify"))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        api.send(req)
    };
    let hash = beckon_edge::identity::user_hash(secret.as_bytes(), "u-ana");

    // On her laptop, Ana chats and the page proves who she is.
    let laptop = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&laptop).await;
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("from-laptop"),
        body: "Sent from my laptop".into(),
        attachments: Vec::new(),
    })
    .await;
    ws.recv_until(T, |f| {
        matches!(f, beckon_shared::proto::v1::ServerFrame::Ack { .. })
    })
    .await;
    let r = identify(
        Some(&laptop.visitor_token),
        json!({"user_id": "u-ana", "user_hash": hash}),
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &json!({"verified": true})));

    // On her phone (no token yet) a JWT proves it: she gets her token and conversation back.
    let exp = now_ms() / 1000 + 300;
    let r = identify(None, json!({"jwt": jwt(&secret, "u-ana", exp)})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["verified"], true);
    assert_eq!(
        r.body["conversation_id"].as_str(),
        Some(laptop.conversation_id.as_str())
    );
    let phone_token = r.body["visitor_token"].as_str().unwrap().to_owned();
    let mut phone = Ws::connect(
        &api.visitor_ws_url(&laptop.conversation_id, &phone_token)
            .await,
        None,
    )
    .await
    .unwrap();
    let history = phone.hello(0).await;
    assert_eq!(
        history.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["Sent from my laptop"]
    );

    // Forged, expired and mismatched proofs are refused; so is a proof for a site with no
    // secret.
    let eve = api.start_conversation(&site, None).await;
    for (body, what) in [
        (
            json!({"user_id": "u-ana", "user_hash": beckon_edge::identity::user_hash(b"guess", "u-ana")}),
            "a forged user_hash",
        ),
        (
            json!({"user_id": "u-bob", "user_hash": hash}),
            "Ana's hash for another user",
        ),
        (
            json!({"jwt": jwt(&secret, "u-ana", now_ms() / 1000 - 3600)}),
            "an expired JWT",
        ),
        (
            json!({"jwt": jwt("not-the-secret", "u-ana", exp)}),
            "a JWT signed with another secret",
        ),
    ] {
        let r = identify(Some(&eve.visitor_token), body).await;
        assert_eq!((r.status, r.error_code()), (401, "invalid_token"), "{what}");
    }
    let r = identify(Some(&eve.visitor_token), json!({"user_id": "u-ana"})).await;
    assert_eq!(r.status, 400, "a user id without proof is refused");

    // A claim is recorded on its own visitor, shown as claimed, and joins nothing.
    let r = identify(
        Some(&eve.visitor_token),
        json!({"name": "Ana Lima", "email": "ana@example.com"}),
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &json!({"verified": false})));
    let contacts = api
        .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/contacts")))
        .await;
    let list = contacts.body["contacts"].as_array().unwrap();
    let by_id = |id: &VisitorId| {
        list.iter()
            .find(|c| c["visitor_id"] == json!(id))
            .unwrap_or_else(|| panic!("{id} listed: {list:?}"))
            .clone()
    };
    assert_eq!(by_id(&laptop.visitor_id)["verified"], true);
    assert_eq!(by_id(&laptop.visitor_id)["name"], "Ana Lima");
    assert_eq!(by_id(&eve.visitor_id)["verified"], false);
    let r = identify(None, json!({"name": "Nobody"})).await;
    assert_eq!(r.status, 401, "a claim needs the visitor's token");

    // A site that requires verification refuses claims.
    let r = identity(json!({"required": true})).await;
    assert_eq!((r.status, &r.body), (200, &json!({"required": true})));
    let r = identify(Some(&eve.visitor_token), json!({"name": "Eve"})).await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"));
    println!(
        "verified identity: history found on a second device; 4 forged/expired proofs refused (401); claims stay unverified"
    );
}

#[tokio::test]
async fn presence_shows_the_path_only_and_channel_ids_are_reserved() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    let api = Api::new(&edge::shared().url);
    let site = unique("privacy");
    api.create_site(&site).await;

    // Before writing anything, a visitor's page shows to agents as its path: no host, query,
    // fragment or title.
    let url = format!(
        "{}/api/v1/sites/{site}/presence",
        api.base.replacen("http", "ws", 1)
    );
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    let _welcome = stream.next().await;
    sink.send(WsMessage::text(
        json!({"type": "here", "url": "https://shop.example/account/orders?token=s3cret&email=ana%40example.com#x",
               "title": "Ana Lima — your orders", "since": 1})
        .to_string(),
    ))
    .await
    .unwrap();
    let shown = beckon_tests::eventually(T, "the visitor online", || async {
        let r = api
            .send(api.admin(Method::GET, &format!("/api/v1/admin/sites/{site}/presence")))
            .await;
        let v = r.body["visitors"].as_array()?.first()?.clone();
        (v["url"] != "").then_some(v)
    })
    .await;
    assert_eq!(
        (shown["url"].as_str(), shown["title"].as_str()),
        (Some("/account/orders"), Some(""))
    );
    let text = shown.to_string();
    assert!(!text.contains("s3cret") && !text.contains("shop.example") && !text.contains("Ana"));

    // Message ids derived from channel events (`ch_…`) cannot be chosen by a client.
    let c = api.start_conversation(&site, None).await;
    let mut ws = api.visitor_socket(&c).await;
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("ch_telegram-0123456789abcdef0123456789abcdef"),
        body: "pre-empting an agent's reply".into(),
        attachments: Vec::new(),
    })
    .await;
    let refused = ws
        .recv_until(T, |f| {
            matches!(f, beckon_shared::proto::v1::ServerFrame::Error { .. })
        })
        .await;
    assert!(
        matches!(
            refused,
            beckon_shared::proto::v1::ServerFrame::Error {
                code: beckon_shared::proto::v1::ErrorCode::InvalidId,
                ..
            }
        ),
        "{refused:?}"
    );
    let r = api
        .send(
            api.admin(
                Method::POST,
                &format!("/api/v1/admin/conversations/{}/messages", c.conversation_id),
            )
            .json(&json!({"body": "hi", "client_msg_id": "ch_slack-x"})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_id"));
    assert!(api
        .admin_messages(&c.conversation_id)
        .await
        .messages
        .is_empty());
    println!(
        "presence: https://shop.example/account/orders?token=… shown as {}; 2 reserved ids refused",
        shown["url"]
    );
}
