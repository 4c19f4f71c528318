//! Admin endpoints for a site's channel relays: list (health, never secrets), set up or change
//! (secrets are sealed before they are stored and never returned), remove, and "send a test
//! message" through the real API.

use crate::channels::{self, Config};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::storage::channels::{self as store, Channel};
use crate::storage::sites;
use crate::{random, site_outbox};
use beckon_shared::proto::v1::{
    paths, ChannelInfo, ChannelInput, ChannelKind, ChannelStatus, ChannelTestResult, ErrorCode,
    WebhookDeliveries, WebhookDeliveryStatus,
};
use beckon_shared::SiteKey;
use worker::{Request, Response};

fn info(edge: &Edge, site: &SiteKey, c: Channel) -> ChannelInfo {
    let kind = c.kind();
    ChannelInfo {
        kind,
        enabled: c.enabled,
        settings: c.config.settings(),
        has_secrets: true,
        status: c.status,
        last_error: c.last_error,
        failing_since: c.failing_since,
        webhook_url: webhook_url(edge, site, kind),
        updated_at: c.updated_at,
    }
}

fn webhook_url(edge: &Edge, site: &SiteKey, kind: ChannelKind) -> String {
    let path = paths::fill(paths::HOOK, &[kind.as_str(), site.as_str()]);
    format!("{}{path}", edge.self_origin)
}

fn key(edge: &Edge) -> Result<Vec<u8>> {
    http::secret(&edge.env, "SECRETS_KEY")
}

/// `GET /api/v1/admin/sites/{site}/channels`.
pub async fn list(edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let channels: Vec<ChannelInfo> = store::list(&db, site, &key(edge)?)
        .await?
        .into_iter()
        .map(|c| match c {
            Ok(c) => info(edge, site, c),
            // Shown as failing, with what to do about it.
            Err(u) => ChannelInfo {
                kind: u.kind,
                enabled: u.enabled,
                settings: u.settings,
                has_secrets: false,
                status: ChannelStatus::Failing,
                last_error: Some(store::Unreadable::REASON.into()),
                failing_since: None,
                webhook_url: webhook_url(edge, site, u.kind),
                updated_at: u.updated_at,
            },
        })
        .collect();
    http::json(200, &serde_json::json!({ "channels": channels }))
}

/// `PUT /api/v1/admin/sites/{site}/channels/{kind}`.
pub async fn put(
    mut req: Request,
    edge: &Edge,
    site: &SiteKey,
    kind: ChannelKind,
) -> Result<Response> {
    let input: ChannelInput = http::read_json(&mut req).await?;
    let settings = input.settings.validated()?;
    settings.check_api_host(http::loopback_api_bases(&edge.env))?;
    if settings.kind() != kind {
        return Err(Error::bad_request(format!(
            "settings.kind must be {}",
            kind.as_str()
        )));
    }
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let key = key(edge)?;
    let secrets = match input.secrets {
        Some(s) if s.kind() == kind => {
            // Unreadable stored secrets (a changed SECRETS_KEY) are simply replaced; any
            // other error stops the change (a rotation must not lose the old secret).
            let stored = match store::get(&db, site, kind, &key).await {
                Ok(stored) => stored,
                Err(e) if e.error_code() == ErrorCode::Conflict => None,
                Err(e) => return Err(e),
            };
            s.validated()?
                .replacing(stored.map(|c| c.config.secrets()), edge.now)
        }
        Some(_) => {
            return Err(Error::bad_request(format!(
                "secrets.kind must be {}",
                kind.as_str()
            )))
        }
        None => match store::get(&db, site, kind, &key).await? {
            // Stored secrets are only ever sent to the API they were entered for.
            Some(existing) if existing.config.settings().api_base() != settings.api_base() => {
                return Err(Error::bad_request(
                    "secrets are required again when the API base URL changes",
                ))
            }
            Some(existing) => existing.config.secrets(),
            None => {
                return Err(Error::bad_request(
                    "secrets are required to set up a channel",
                ))
            }
        },
    };
    let channel = Channel {
        config: Config::new(settings, secrets)?,
        enabled: input.enabled,
        status: Default::default(),
        last_error: None,
        failing_since: None,
        updated_at: edge.now,
    };
    store::put(&db, site, &channel, &key, random::bytes(), edge.now).await?;
    channels::set::invalidate(site);
    http::json(200, &info(edge, site, channel))
}

/// `DELETE /api/v1/admin/sites/{site}/channels/{kind}`.
pub async fn delete(edge: &Edge, site: &SiteKey, kind: ChannelKind) -> Result<Response> {
    let deleted = store::delete(&edge.db()?, site, kind).await?;
    channels::set::invalidate(site);
    if !deleted {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("{} is not set up for site {site}", kind.as_str()),
        ));
    }
    Ok(Response::empty()?.with_status(204))
}

/// `POST /api/v1/admin/sites/{site}/channels/{kind}/test`: sends a test message through the
/// channel's real API and reports what it answered.
pub async fn test(edge: &Edge, site: &SiteKey, kind: ChannelKind) -> Result<Response> {
    let db = edge.db()?;
    let site_settings = sites::require(&db, site).await?;
    let Some(ch) = store::get(&db, site, kind, &key(edge)?).await? else {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("{} is not set up for site {site}", kind.as_str()),
        ));
    };
    let text = format!(
        "Test message from Beckon for {}: relays to this channel work.",
        site_settings.name
    );
    if !ch.enabled {
        return http::json(
            200,
            &ChannelTestResult {
                ok: false,
                detail: "the channel is disabled: enable it to send a test".into(),
            },
        );
    }
    // Through the site's outbox, like every send: retried, recorded, reported.
    http::json(200, &site_outbox::test(&edge.env, site, kind, &text).await?)
}

/// The site's webhook endpoint, if set up, readable and on.
async fn webhook_endpoint(edge: &Edge, site: &SiteKey) -> Result<channels::webhook::Webhook> {
    let db = edge.db()?;
    match store::get(&db, site, ChannelKind::Webhook, &key(edge)?).await? {
        Some(Channel {
            config: Config::Webhook(w),
            enabled: true,
            ..
        }) => Ok(w),
        Some(_) => Err(Error::new(
            ErrorCode::Conflict,
            "webhooks are turned off for this site: turn them on to replay",
        )),
        None => Err(channels::webhook::not_set_up(site)),
    }
}

/// Most deliveries one page of the log lists.
pub const MAX_DELIVERIES_PAGE: u32 = 100;

/// `GET /api/v1/admin/sites/{site}/webhook/deliveries?status=&before=&limit=`: the delivery
/// log, newest first (30 days).
pub async fn webhook_deliveries(req: &Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let q = http::query(req)?;
    let status = match q.get("status").map(String::as_str) {
        None | Some("") => None,
        Some("delivered") => Some(WebhookDeliveryStatus::Delivered),
        Some("failing") => Some(WebhookDeliveryStatus::Failing),
        Some(_) => return Err(Error::bad_request("status must be delivered or failing")),
    };
    let limit = http::query_num::<u32>(&q, "limit")?.unwrap_or(50);
    if !(1..=MAX_DELIVERIES_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!(
            "limit must be 1 to {MAX_DELIVERIES_PAGE}"
        )));
    }
    let before = http::query_num::<i64>(&q, "before")?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let deliveries = crate::storage::webhooks::list(&db, site, status, before, limit).await?;
    http::json(200, &WebhookDeliveries { deliveries })
}

/// `POST /api/v1/admin/sites/{site}/webhook/deliveries/{event}/replay`: sends a logged event
/// again, now, under its id; answers its log line after the attempt.
pub async fn replay_webhook(edge: &Edge, site: &SiteKey, event: &str) -> Result<Response> {
    let db = edge.db()?;
    let Some(delivery) = crate::storage::webhooks::get(&db, site, event).await? else {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("no webhook delivery {event} for site {site}"),
        ));
    };
    let endpoint = webhook_endpoint(edge, site).await?;
    let after = endpoint.replay(&edge.env, site, &delivery).await?;
    http::json(200, &after)
}
