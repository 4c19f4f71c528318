//! Admin endpoints for a site's channel relays: list (health, never secrets), set up or change
//! (secrets are sealed before they are stored and never returned), remove, and "send a test
//! message" through the real API.

use super::admin::authenticate;
use crate::channels::{slack, telegram, whatsapp};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::storage::channels::{self as store, Channel};
use crate::storage::sites;
use crate::{random, transport};
use beckon_shared::proto::v1::{
    ChannelInfo, ChannelInput, ChannelKind, ChannelSecrets, ChannelSettings, ChannelStatus,
    ChannelTestResult, ErrorCode,
};
use beckon_shared::SiteKey;
use worker::{Request, Response};

fn info(edge: &Edge, site: &SiteKey, c: Channel) -> ChannelInfo {
    ChannelInfo {
        kind: c.kind,
        enabled: c.enabled,
        settings: c.settings,
        has_secrets: true,
        status: c.status,
        last_error: c.last_error,
        failing_since: c.failing_since,
        webhook_url: webhook_url(edge, site, c.kind),
        updated_at: c.updated_at,
    }
}

fn webhook_url(edge: &Edge, site: &SiteKey, kind: ChannelKind) -> String {
    format!("{}/hooks/{}/{site}", edge.self_origin, kind.as_str())
}

fn key(edge: &Edge) -> Result<Vec<u8>> {
    http::secret(&edge.env, "SECRETS_KEY")
}

/// `GET /api/v1/admin/sites/{site}/channels`.
pub async fn list(req: &Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    authenticate(req, edge).await?;
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
    authenticate(&req, edge).await?;
    let input: ChannelInput = http::read_json(&mut req).await?;
    let settings = input.settings.validated()?;
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
        Some(s) if s.kind() == kind => s.validated()?,
        Some(_) => {
            return Err(Error::bad_request(format!(
                "secrets.kind must be {}",
                kind.as_str()
            )))
        }
        None => match store::get(&db, site, kind, &key).await? {
            // Stored secrets are only ever sent to the API they were entered for.
            Some(existing) if existing.settings.api_base() != settings.api_base() => {
                return Err(Error::bad_request(
                    "secrets are required again when the API base URL changes",
                ))
            }
            Some(existing) => existing.secrets,
            None => {
                return Err(Error::bad_request(
                    "secrets are required to set up a channel",
                ))
            }
        },
    };
    let channel = Channel {
        kind,
        enabled: input.enabled,
        settings,
        secrets,
        status: Default::default(),
        last_error: None,
        failing_since: None,
        updated_at: edge.now,
    };
    store::put(&db, site, &channel, &key, random::bytes(), edge.now).await?;
    http::json(200, &info(edge, site, channel))
}

/// `DELETE /api/v1/admin/sites/{site}/channels/{kind}`.
pub async fn delete(
    req: &Request,
    edge: &Edge,
    site: &SiteKey,
    kind: ChannelKind,
) -> Result<Response> {
    authenticate(req, edge).await?;
    if !store::delete(&edge.db()?, site, kind).await? {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("{} is not set up for site {site}", kind.as_str()),
        ));
    }
    Ok(Response::empty()?.with_status(204))
}

/// `POST /api/v1/admin/sites/{site}/channels/{kind}/test`: sends a test message through the
/// channel's real API and reports what it answered.
pub async fn test(
    req: &Request,
    edge: &Edge,
    site: &SiteKey,
    kind: ChannelKind,
) -> Result<Response> {
    authenticate(req, edge).await?;
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
    let timeout = transport::timeout_ms(&edge.env);
    let base = ch.settings.api_base();
    let mut outcomes = Vec::new();
    match (&ch.settings, &ch.secrets) {
        (ChannelSettings::Telegram { chat_id, .. }, ChannelSecrets::Telegram { bot_token, .. }) => {
            let r = transport::send(
                &telegram::send_test(base, bot_token, *chat_id, &text),
                timeout,
            )
            .await;
            outcomes.push(r.and_then(|resp| telegram::parse_sent(&resp)));
        }
        (ChannelSettings::Slack { channel_id, .. }, ChannelSecrets::Slack { bot_token, .. }) => {
            let r = transport::send(
                &slack::post_test(base, bot_token, channel_id, &text),
                timeout,
            )
            .await;
            outcomes.push(r.and_then(|resp| slack::parse_posted(&resp)));
        }
        (
            ChannelSettings::Whatsapp {
                phone_number_id,
                agent_numbers,
                template_name,
                template_language,
                graph_version,
                ..
            },
            ChannelSecrets::Whatsapp { access_token, .. },
        ) => {
            for to in agent_numbers {
                let target = whatsapp::Target {
                    api_base: base,
                    version: graph_version,
                    phone_number_id,
                    access_token,
                    to,
                };
                let req = whatsapp::send_template(
                    &target,
                    template_name,
                    template_language,
                    &site_settings.name,
                    &text,
                    "test",
                );
                let r = transport::send(&req, timeout).await;
                outcomes.push(r.and_then(|resp| whatsapp::parse_sent(&resp)));
            }
        }
        _ => return Err(Error::internal("channel settings and secrets disagree")),
    }
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().err().map(|f| f.reason()))
        .collect();
    let result = if failures.is_empty() {
        store::report(&db, site, kind, None, edge.now).await?;
        ChannelTestResult {
            ok: true,
            detail: format!("sent {} test message(s)", outcomes.len()),
        }
    } else {
        store::report(&db, site, kind, Some(&failures.join("; ")), edge.now).await?;
        ChannelTestResult {
            ok: false,
            detail: failures.join("; "),
        }
    };
    http::json(200, &result)
}
