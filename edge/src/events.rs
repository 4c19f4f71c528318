//! The site's own events for its webhook endpoint, beside each conversation's
//! (`conversation.started`, `message.created`): a contact's record changing, a contact's
//! consent changing, a broadcast moving through its states. Each has an id that stays the same
//! across retries and replays (a consumer dedupes on it), and is queued through the site's
//! outbox once the change is stored — nothing is queued for a site without webhooks.

use crate::site_outbox;
use crate::storage::visitors;
use beckon_shared::proto::v1::{BroadcastChannel, Contact};
use beckon_shared::{SiteKey, VisitorId};
use serde_json::json;
use worker::Env;

/// The contact's record before a change ([`contact_updated`] compares it with after).
pub async fn contact_before(env: &Env, site: &SiteKey, visitor: &VisitorId) -> Option<Contact> {
    let read = async { visitors::contact(&env.d1("DB")?, site, visitor).await }.await;
    read.unwrap_or_else(|e| {
        worker::console_error!("reading contact {visitor}: {e}");
        None
    })
}

/// What `contact.updated` reports a change of.
fn shown(c: &Contact) -> serde_json::Value {
    json!([c.name, c.email, c.phone, c.verified])
}

/// `contact.updated`: the contact's record as it is now, and what changed it (`identify`,
/// `identify_verified`, `away_email`) — only when it changed since `before`: a page that
/// identifies its visitor on every load sends one event, not one per load.
pub async fn contact_updated(
    env: &Env,
    site: &SiteKey,
    visitor: &VisitorId,
    (source, before): (&str, Option<Contact>),
    now: i64,
) {
    let Some(contact) = contact_before(env, site, visitor).await else {
        return;
    };
    if before.as_ref().map(shown) == Some(shown(&contact)) {
        return;
    }
    site_outbox::event(
        env,
        site,
        format!("evt_contact_{visitor}_{now}"),
        "contact.updated",
        json!({ "contact": contact, "source": source }),
    )
    .await;
}

/// `contact.consent_changed`: the person at `address` on `channel` opted in or out of
/// broadcasts (`source`: `keyword`, `widget`, `link` — an email's unsubscribe link), called
/// once the change is stored; `cause`
/// identifies what changed it (a channel event's id, the moment of a widget's change), so
/// a redelivered STOP is one event.
pub async fn consent_changed(
    env: &Env,
    site: &SiteKey,
    (channel, address): (BroadcastChannel, &str),
    opted_in: bool,
    (source, cause): (&str, &str),
) {
    let key = digest(&format!(
        "{}\n{address}\n{opted_in}\n{cause}",
        channel.as_str()
    ));
    site_outbox::event(
        env,
        site,
        format!("evt_consent_{key}"),
        "contact.consent_changed",
        json!({
            "channel": channel.as_str(),
            "address": address,
            "status": if opted_in { "in" } else { "out" },
            "source": source,
        }),
    )
    .await;
}

/// 16 hex digits of SHA-256: ids made from what they identify.
fn digest(s: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(s.as_bytes())[..8])
}

/// `broadcast.<status>` (`started`, `paused`, `resumed`, `cancelled`, `finished`) for the
/// broadcast `id` named `name`; one id per state change.
pub async fn broadcast_changed(
    env: &Env,
    site: &SiteKey,
    (id, name): (&str, &str),
    status: &str,
    now: i64,
) {
    site_outbox::event(
        env,
        site,
        format!("evt_{id}_{status}_{now}"),
        &format!("broadcast.{status}"),
        json!({ "broadcast_id": id, "name": name, "status": status }),
    )
    .await;
}
