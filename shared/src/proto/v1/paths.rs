//! Every HTTP path of the API, named once: the edge's router matches requests against these
//! patterns, the clients build URLs from them ([`fill`]), and a test checks that the OpenAPI
//! document lists exactly these. A `{name}` segment is a placeholder.

pub const HEALTH: &str = "/health";
pub const OPENAPI: &str = "/api/v1/openapi.json";
/// The widget's iframe page.
pub const FRAME: &str = "/frame/{site}";
pub const SITE_CONFIG: &str = "/api/v1/sites/{site}/config";
pub const LOADER_BOOT: &str = "/api/v1/sites/{site}/boot.js";
/// The loader with the site's boot script in one script: the embed snippet's `src`.
pub const SITE_LOADER: &str = "/api/v1/sites/{site}/beckon.js";
pub const START_CONVERSATION: &str = "/api/v1/sites/{site}/conversations";
pub const TEASER_EVENTS: &str = "/api/v1/sites/{site}/events";
pub const PRESENCE: &str = "/api/v1/sites/{site}/presence";
pub const IDENTIFY: &str = "/api/v1/sites/{site}/identify";
/// Whether the visitor gets broadcasts in the widget (the mute control).
pub const ANNOUNCEMENTS: &str = "/api/v1/sites/{site}/announcements";
pub const CONVERSATION_SOCKET: &str = "/api/v1/conversations/{conversation_id}/ws";
pub const CONVERSATION_TICKET: &str = "/api/v1/conversations/{conversation_id}/ws-ticket";
pub const CONVERSATION_MESSAGES: &str = "/api/v1/conversations/{conversation_id}/messages";
pub const GOAL_EVENTS: &str = "/api/v1/conversations/{conversation_id}/events";
pub const UPLOADS: &str = "/api/v1/conversations/{conversation_id}/uploads";
pub const UPLOAD: &str = "/api/v1/conversations/{conversation_id}/uploads/{attachment_id}";
pub const UPLOAD_PART: &str =
    "/api/v1/conversations/{conversation_id}/uploads/{attachment_id}/parts/{part}";
pub const UPLOAD_COMPLETE: &str =
    "/api/v1/conversations/{conversation_id}/uploads/{attachment_id}/complete";
pub const ATTACHMENT: &str = "/api/v1/conversations/{conversation_id}/attachments/{attachment_id}";
pub const ADMIN_SITES: &str = "/api/v1/admin/sites";
pub const ADMIN_SITE: &str = "/api/v1/admin/sites/{site}";
pub const ADMIN_SITE_LIVE: &str = "/api/v1/admin/sites/{site}/live";
pub const ADMIN_CONVERSATIONS: &str = "/api/v1/admin/conversations";
pub const ADMIN_CONVERSATION: &str = "/api/v1/admin/conversations/{conversation_id}";
pub const ADMIN_MESSAGES: &str = "/api/v1/admin/conversations/{conversation_id}/messages";
pub const ADMIN_RELAYS: &str = "/api/v1/admin/conversations/{conversation_id}/relays";
pub const ADMIN_NOTES: &str = "/api/v1/admin/conversations/{conversation_id}/notes";
pub const ADMIN_VISITOR_PROFILE: &str = "/api/v1/admin/conversations/{conversation_id}/visitor";
pub const ADMIN_WS_TICKET: &str = "/api/v1/admin/ws-ticket";
pub const ADMIN_SITE_IDENTITY: &str = "/api/v1/admin/sites/{site}/identity";
pub const ADMIN_SITE_TURNSTILE: &str = "/api/v1/admin/sites/{site}/turnstile";
/// A preview of unsaved settings: a link to [`PREVIEW`] carrying them, signed.
pub const ADMIN_SITE_PREVIEW: &str = "/api/v1/admin/sites/{site}/preview";
pub const ADMIN_KEYS: &str = "/api/v1/admin/keys";
pub const ADMIN_KEY: &str = "/api/v1/admin/keys/{key_id}";
pub const ADMIN_INVITATIONS: &str = "/api/v1/admin/invitations";
pub const ADMIN_PEOPLE: &str = "/api/v1/admin/people";
pub const ADMIN_PERSON: &str = "/api/v1/admin/people/{person_id}";
/// Who is signed in (`GET`), signing out (`DELETE`).
pub const ADMIN_SESSION: &str = "/api/v1/admin/session";
/// Signing out everywhere (`DELETE`).
pub const ADMIN_SESSIONS: &str = "/api/v1/admin/sessions";
/// The signed-in person's photo, beside their messages (`PUT` an image, `DELETE`).
pub const ADMIN_SESSION_AVATAR: &str = "/api/v1/admin/session/avatar";
/// A person's photo (public).
pub const AVATAR: &str = "/api/v1/avatars/{person_id}";
/// An invited person sets their name and password.
pub const AUTH_ACCEPT: &str = "/api/v1/auth/accept";
pub const AUTH_SIGN_IN: &str = "/api/v1/auth/sign-in";
pub const ADMIN_CHANNELS: &str = "/api/v1/admin/sites/{site}/channels";
pub const ADMIN_CHANNEL: &str = "/api/v1/admin/sites/{site}/channels/{kind}";
pub const ADMIN_CHANNEL_TEST: &str = "/api/v1/admin/sites/{site}/channels/{kind}/test";
/// Outbound webhooks' delivery log, and replaying one event.
pub const ADMIN_WEBHOOK_DELIVERIES: &str = "/api/v1/admin/sites/{site}/webhook/deliveries";
pub const ADMIN_WEBHOOK_REPLAY: &str =
    "/api/v1/admin/sites/{site}/webhook/deliveries/{event_id}/replay";
pub const ADMIN_RULES: &str = "/api/v1/admin/sites/{site}/rules";
pub const ADMIN_REPLIES: &str = "/api/v1/admin/sites/{site}/replies";
pub const ADMIN_REPLY: &str = "/api/v1/admin/sites/{site}/replies/{shortcut}";
pub const ADMIN_RULE: &str = "/api/v1/admin/sites/{site}/rules/{rule_id}";
pub const ADMIN_METRICS: &str = "/api/v1/admin/metrics";
pub const ADMIN_PRESENCE: &str = "/api/v1/admin/sites/{site}/presence";
pub const ADMIN_REACH_OUT: &str = "/api/v1/admin/sites/{site}/presence/{presence_id}/conversations";
pub const ADMIN_CONTACTS: &str = "/api/v1/admin/sites/{site}/contacts";
pub const ADMIN_CONTACT: &str = "/api/v1/admin/sites/{site}/contacts/{visitor_id}";
pub const ADMIN_CONTACT_OUTREACH: &str =
    "/api/v1/admin/sites/{site}/contacts/{visitor_id}/conversations";
/// A contacts import (a CSV body) and the contacts as CSV.
pub const ADMIN_CONTACT_IMPORTS: &str = "/api/v1/admin/sites/{site}/contact-imports";
pub const ADMIN_CONTACTS_CSV: &str = "/api/v1/admin/sites/{site}/contacts.csv";
pub const ADMIN_CONTACT_EXPORT: &str = "/api/v1/admin/sites/{site}/contacts/{visitor_id}/export";
pub const ADMIN_DATA_REQUESTS: &str = "/api/v1/admin/sites/{site}/data-requests";
pub const ADMIN_DASHBOARD: &str = "/api/v1/admin/sites/{site}/dashboard";
pub const ADMIN_AUDIENCES: &str = "/api/v1/admin/sites/{site}/audiences";
pub const ADMIN_AUDIENCE: &str = "/api/v1/admin/sites/{site}/audiences/{audience_id}";
/// Who a filter matches, before it is saved.
pub const ADMIN_AUDIENCE_COUNTS: &str = "/api/v1/admin/sites/{site}/audience-counts";
/// The clock of scheduled work, where the deployment lets tests set it (`TEST_CLOCK=on`).
pub const ADMIN_TEST_CLOCK: &str = "/api/v1/admin/test-clock";
pub const ADMIN_BROADCASTS: &str = "/api/v1/admin/sites/{site}/broadcasts";
pub const ADMIN_BROADCAST_PREVIEWS: &str = "/api/v1/admin/sites/{site}/broadcast-previews";
pub const ADMIN_BROADCAST_FILES: &str = "/api/v1/admin/sites/{site}/broadcast-files";
pub const ADMIN_BROADCAST: &str = "/api/v1/admin/sites/{site}/broadcasts/{broadcast_id}";
pub const ADMIN_BROADCAST_PAUSE: &str =
    "/api/v1/admin/sites/{site}/broadcasts/{broadcast_id}/pause";
pub const ADMIN_BROADCAST_RESUME: &str =
    "/api/v1/admin/sites/{site}/broadcasts/{broadcast_id}/resume";
pub const ADMIN_BROADCAST_CANCEL: &str =
    "/api/v1/admin/sites/{site}/broadcasts/{broadcast_id}/cancel";
pub const ADMIN_BROADCAST_RECIPIENTS: &str =
    "/api/v1/admin/sites/{site}/broadcasts/{broadcast_id}/recipients";
/// Inbound webhooks of a channel for a site.
pub const HOOK: &str = "/hooks/{channel}/{site}";
/// An email broadcast's unsubscribe link (`GET` asks, `POST` — also RFC 8058 one-click —
/// unsubscribes).
pub const UNSUBSCRIBE: &str = "/unsubscribe/{token}";
/// A page showing the widget with a site's unsaved settings (the inbox's live preview).
pub const PREVIEW: &str = "/preview/{site}";

/// Every path above.
pub const ALL: &[&str] = &[
    HEALTH,
    UNSUBSCRIBE,
    PREVIEW,
    OPENAPI,
    FRAME,
    SITE_CONFIG,
    LOADER_BOOT,
    SITE_LOADER,
    START_CONVERSATION,
    TEASER_EVENTS,
    PRESENCE,
    IDENTIFY,
    ANNOUNCEMENTS,
    CONVERSATION_SOCKET,
    CONVERSATION_TICKET,
    CONVERSATION_MESSAGES,
    GOAL_EVENTS,
    UPLOADS,
    UPLOAD,
    UPLOAD_PART,
    UPLOAD_COMPLETE,
    ATTACHMENT,
    ADMIN_SITES,
    ADMIN_SITE,
    ADMIN_SITE_LIVE,
    ADMIN_CONVERSATIONS,
    ADMIN_CONVERSATION,
    ADMIN_MESSAGES,
    ADMIN_RELAYS,
    ADMIN_NOTES,
    ADMIN_VISITOR_PROFILE,
    ADMIN_WS_TICKET,
    ADMIN_SITE_IDENTITY,
    ADMIN_SITE_TURNSTILE,
    ADMIN_SITE_PREVIEW,
    ADMIN_KEYS,
    ADMIN_KEY,
    ADMIN_INVITATIONS,
    ADMIN_PEOPLE,
    ADMIN_PERSON,
    ADMIN_SESSION,
    ADMIN_SESSIONS,
    ADMIN_SESSION_AVATAR,
    AVATAR,
    AUTH_ACCEPT,
    AUTH_SIGN_IN,
    ADMIN_CHANNELS,
    ADMIN_CHANNEL,
    ADMIN_CHANNEL_TEST,
    ADMIN_WEBHOOK_DELIVERIES,
    ADMIN_WEBHOOK_REPLAY,
    ADMIN_RULES,
    ADMIN_REPLIES,
    ADMIN_REPLY,
    ADMIN_RULE,
    ADMIN_METRICS,
    ADMIN_PRESENCE,
    ADMIN_REACH_OUT,
    ADMIN_CONTACTS,
    ADMIN_CONTACT,
    ADMIN_CONTACT_OUTREACH,
    ADMIN_CONTACT_IMPORTS,
    ADMIN_CONTACTS_CSV,
    ADMIN_CONTACT_EXPORT,
    ADMIN_DATA_REQUESTS,
    ADMIN_DASHBOARD,
    ADMIN_AUDIENCES,
    ADMIN_AUDIENCE,
    ADMIN_AUDIENCE_COUNTS,
    ADMIN_TEST_CLOCK,
    ADMIN_BROADCASTS,
    ADMIN_BROADCAST_PREVIEWS,
    ADMIN_BROADCAST_FILES,
    ADMIN_BROADCAST,
    ADMIN_BROADCAST_PAUSE,
    ADMIN_BROADCAST_RESUME,
    ADMIN_BROADCAST_CANCEL,
    ADMIN_BROADCAST_RECIPIENTS,
    HOOK,
];

/// `pattern` with its placeholders replaced by `values`, in order. Values are path
/// segments the caller has validated (ids, keys), so they are inserted as they are.
pub fn fill(pattern: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(pattern.len() + 48);
    let mut values = values.iter();
    for (i, segment) in pattern.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if segment.starts_with('{') {
            out.push_str(values.next().copied().unwrap_or_default());
        } else {
            out.push_str(segment);
        }
    }
    out
}

/// The placeholder values of `path` if it has the shape of `pattern` (same literal segments,
/// a non-empty value for each placeholder).
pub fn captures<'p>(pattern: &str, path: &'p str) -> Option<Vec<&'p str>> {
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    let mut values = Vec::new();
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(values),
            (Some(w), Some(g)) if w.starts_with('{') && !g.is_empty() => values.push(g),
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_captures() {
        let p = fill(ADMIN_RULE, &["shop", "welcome"]);
        assert_eq!(p, "/api/v1/admin/sites/shop/rules/welcome");
        assert_eq!(captures(ADMIN_RULE, &p), Some(vec!["shop", "welcome"]));
        assert_eq!(captures(ADMIN_RULES, &p), None);
        assert_eq!(captures(ADMIN_SITE, "/api/v1/admin/sites/"), None);
        assert_eq!(captures(HEALTH, "/health"), Some(vec![]));
        assert_eq!(captures(HEALTH, "/health/x"), None);
    }

    #[test]
    fn every_pattern_is_distinct_and_well_formed() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(a.starts_with('/') && !a.ends_with('/'), "{a}");
            for b in &ALL[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
