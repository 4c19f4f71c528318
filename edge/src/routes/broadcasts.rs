//! Broadcasts (admin API): files for them, a preview with the live recipient count, creating
//! one (checked in full before anything is sent), its progress and funnel, pause / resume /
//! cancel, and per-recipient results (JSON or CSV). Also the contacts import and export they
//! are chosen from. How a broadcast is sent: `crate::broadcast`.

use crate::broadcast::plan::{self, Plan};
use crate::broadcast::vars::Text;
use crate::broadcast::{import, send, watch, Stored};
use crate::channels::Config;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::storage::broadcasts::{self, Row};
use crate::storage::{contacts, sites};
use crate::{media, random};
use beckon_shared::limits::MAX_MESSAGE_CHARS;
use beckon_shared::proto::v1::{
    Attachment, AudienceCount, Broadcast, BroadcastAction, BroadcastChannel, BroadcastFile,
    BroadcastInput, BroadcastPreview, ChannelPreview, ErrorCode,
};
use beckon_shared::{BroadcastId, SiteKey};
use serde_json::json;
use worker::{Request, Response};

/// The largest file a broadcast carries (WhatsApp's document header; Telegram bots send
/// up to 50 MB; the per-kind limits of uploads apply too).
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// The longest a broadcast may be scheduled ahead.
const MAX_AHEAD_MS: i64 = 90 * 24 * 3600 * 1000;

/// `POST …/broadcast-files?name=…`: a photo, video or PDF for broadcasts (the raw bytes as
/// the body), checked like every upload and stored once.
pub async fn upload_file(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let q = http::query(&req)?;
    let name = q
        .get("name")
        .ok_or_else(|| Error::bad_request("name (the file's name) is required"))?;
    let name = beckon_shared::media::check_name(name)
        .map_err(|e| Error::bad_request(e.describe()))?
        .to_owned();
    let bytes = http::read_bytes(&mut req, MAX_FILE_BYTES).await?;
    let size = bytes.len() as u64;
    let sniffed = media::check(&bytes[..bytes.len().min(64 * 1024)], &name, size)?;
    let holder = random::conversation_id();
    let id = random::attachment_id();
    edge.env
        .bucket(media::BUCKET)?
        .put(media::object_key(&holder, &id), bytes)
        .execute()
        .await?;
    let attachment = Attachment {
        id,
        name,
        kind: sniffed.file_type,
        mime: sniffed.mime.to_owned(),
        size,
        width: sniffed.width,
        height: sniffed.height,
        url: String::new(),
        held_in: Some(holder),
    };
    broadcasts::insert_file(&db, site, &attachment, edge.now).await?;
    http::json(201, &BroadcastFile { attachment })
}

/// `PUT /api/v1/admin/test-clock` `{"now": ms}`: from now on the clock of scheduled work
/// ([`crate::clock`]) reads `now`, and runs on from there. Not found unless the deployment
/// sets `TEST_CLOCK=on`. The clock is every site's: only a key for every site sets it.
pub async fn set_test_clock(
    mut req: Request,
    edge: &Edge,
    admin: &super::admin::Admin,
) -> Result<Response> {
    if !crate::clock::settable(&edge.env) {
        return Err(Error::code(ErrorCode::NotFound));
    }
    if admin.sites != beckon_shared::proto::v1::KeySites::All {
        return Err(Error::new(
            ErrorCode::Forbidden,
            "the clock is every site's: only a key for every site may set it",
        ));
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        now: i64,
    }
    let body: Body = http::read_json(&mut req).await?;
    if body.now <= 0 {
        return Err(Error::bad_request("now must be ms since the epoch"));
    }
    crate::storage::test_clock::set(&edge.db()?, body.now - http::now_ms()).await?;
    http::json(200, &json!({ "now": body.now }))
}

/// A broadcast input that passed every check, with its recipients.
struct Checked {
    stored: Stored,
    recipients: Vec<plan::Recipient>,
    count: AudienceCount,
    /// The site's display name (how its emails are signed).
    site_name: String,
    send_at: i64,
    /// The clock of scheduled work ([`crate::clock`]) when it was checked.
    now: i64,
}

/// Checks `input` in full — channels set up, files within each channel's limits, the WhatsApp
/// template approved and matching, every variable filled — and plans its recipients.
async fn check(edge: &Edge, site: &SiteKey, mut input: BroadcastInput) -> Result<Checked> {
    let bad = |m: String| Err(Error::bad_request(m));
    // Labels go as typed to the apps that show them: without the spaces around them.
    for b in &mut input.buttons {
        b.label = b.label.trim().to_owned();
    }
    let name = beckon_shared::text::normalize_label(&input.name, 120)
        .map_err(|_| Error::bad_request("name must be one line of at most 120 characters"))?;
    if name.is_none() {
        return bad("name is required (it names the broadcast in the results)".into());
    }
    if input.channels.is_empty() {
        return bad(
            "channels must name at least one of web, telegram, whatsapp, email, messenger, instagram"
                .into(),
        );
    }
    for (i, c) in input.channels.iter().enumerate() {
        if input.channels[..i].contains(c) {
            return bad(format!("channels names {} twice", c.as_str()));
        }
    }
    if input.files.len() > 1 {
        return bad("a broadcast carries at most one file (a photo, a video or a PDF)".into());
    }
    let db = edge.db()?;
    let mut files = Vec::new();
    for id in &input.files {
        match broadcasts::file(&db, site, id.as_str()).await? {
            Some(a) => files.push(a),
            None => {
                return bad(format!(
                    "no broadcast file {id} (upload it with …/broadcast-files)"
                ))
            }
        }
    }
    if input.text.trim().is_empty() && files.is_empty() {
        return bad("text is required (or a file)".into());
    }
    if input.text.chars().count() > MAX_MESSAGE_CHARS {
        return bad(format!(
            "text is longer than {MAX_MESSAGE_CHARS} characters"
        ));
    }
    let text = Text::parse(&input.text).map_err(Error::bad_request)?;
    crate::broadcast::check_buttons(&input.buttons).map_err(Error::bad_request)?;
    let channels = crate::channels::set::get(&edge.env, site).await?;
    let mut parameters = Vec::new();
    for c in &input.channels {
        let Some(kind) = c.site_channel() else {
            continue;
        };
        let Some(active) = channels.get(kind) else {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("{} is not set up for this site (Channels)", kind.label()),
            ));
        };
        match &active.config {
            Config::Telegram(_) => {
                for a in &files {
                    crate::channels::telegram::media::broadcast_check(a)
                        .map_err(Error::bad_request)?;
                }
            }
            Config::Whatsapp(w) => {
                let Some(t) = &input.whatsapp_template else {
                    return bad("whatsapp_template is required to broadcast on WhatsApp (a business may write first only with an approved template)".into());
                };
                w.check_broadcast(&edge.env, t, files.first(), &input.buttons)
                    .await
                    .map_err(Error::bad_request)?;
                parameters = t
                    .parameters
                    .iter()
                    .map(|p| Text::parse(p))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(Error::bad_request)?;
            }
            // Every email broadcast carries its unsubscribe link, on the edge's public origin.
            Config::Email(_) if edge.env.var("PUBLIC_ORIGIN").is_err() => {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "email broadcasts need PUBLIC_ORIGIN (the edge's public URL, for their unsubscribe link)",
                ));
            }
            Config::Messenger(m)
                if *c == BroadcastChannel::Instagram && m.settings.instagram_id.is_none() =>
            {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "Instagram is not linked to this site's Messenger channel (its instagram_id, in Channels)",
                ));
            }
            Config::Messenger(_) => {
                crate::channels::messenger::api::broadcast_check(&input.text, &input.buttons)
                    .map_err(Error::bad_request)?;
            }
            Config::Slack(_) | Config::Discord(_) | Config::Email(_) | Config::Webhook(_) => {}
        }
    }
    let now = Clock::read(&edge.env).await?.now();
    let send_at = input.schedule.at.unwrap_or(now).max(now);
    if send_at > now + MAX_AHEAD_MS {
        return bad("schedule.at is more than 90 days ahead".into());
    }
    let local_minute =
        match &input.schedule.local_time {
            Some(t) => Some(plan::parse_local_time(t).ok_or_else(|| {
                Error::bad_request("schedule.local_time must be a time like 10:00")
            })?),
            None => None,
        };
    let quiet = match &input.schedule.quiet_hours {
        Some(q) => {
            let from = plan::parse_local_time(&q.from);
            let to = plan::parse_local_time(&q.to);
            match (from, to) {
                (Some(f), Some(t)) if f != t => Some((f, t)),
                (Some(_), Some(_)) => {
                    return bad("schedule.quiet_hours.from and .to must differ".into())
                }
                _ => {
                    return bad("schedule.quiet_hours.from and .to must be times like 21:00".into())
                }
            }
        }
        None => None,
    };
    let contacts =
        super::audiences::contacts(&db, site, &input.audience, input.audience_id.as_ref(), now)
            .await?;
    let plan = Plan {
        channels: &input.channels,
        text: &text,
        parameters: &parameters,
        send_at,
        local_minute,
        quiet,
    };
    let stopped = crate::storage::contacts::stopped(&db, site, now).await?;
    let (recipients, count) = plan::recipients(&plan, &contacts, &stopped).map_err(|m| {
        Error::bad_request(format!(
            "{{{{{}}}}} has no value for {} recipient(s) (e.g. contact {}) and no fallback: give one, like {{{{{}|…}}}}",
            m.variable, m.recipients, m.contact_id, m.variable
        ))
    })?;
    Ok(Checked {
        stored: Stored {
            input,
            files,
            whatsapp_header: None,
        },
        recipients,
        count,
        site_name: channels.site_name.clone(),
        send_at,
        now,
    })
}

/// What each channel's recipients get, with the first one's variables filled in.
fn previews(c: &Checked) -> Vec<ChannelPreview> {
    let file = c.stored.files.first();
    c.stored
        .input
        .channels
        .iter()
        .filter_map(|channel| {
            let first = c.recipients.iter().find(|r| r.channel == *channel)?;
            let with_file = |what: &str| match file {
                Some(f) => format!("{what} with {} {}", f.kind.label(), f.name),
                None => what.to_owned(),
            };
            let (form, text) = match channel {
                BroadcastChannel::Web => (with_file("a message in the widget"), first.body.clone()),
                BroadcastChannel::Telegram => (
                    match file {
                        Some(f) => format!("{} with caption", f.kind.label()),
                        None => "a message from the bot".into(),
                    },
                    first.body.clone(),
                ),
                BroadcastChannel::Whatsapp => {
                    let t = c.stored.input.whatsapp_template.as_ref()?;
                    (
                        with_file(&format!("template {} ({})", t.name, t.language)),
                        first.parameters.join(" | "),
                    )
                }
                BroadcastChannel::Email => (
                    with_file(&format!(
                        "an email \"{}\" with an unsubscribe link",
                        crate::channels::email::api::broadcast_subject(&c.site_name, &first.body)
                    )),
                    first.body.clone(),
                ),
                BroadcastChannel::Messenger | BroadcastChannel::Instagram => (
                    with_file(&format!(
                        "a {} message (to people who wrote in the last 24 hours)",
                        channel.label()
                    )),
                    first.body.clone(),
                ),
            };
            Some(ChannelPreview {
                channel: *channel,
                form,
                text,
            })
        })
        .collect()
}

/// `POST …/broadcast-previews`: who would receive it where, and what they would see.
pub async fn preview(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let input: BroadcastInput = http::read_json(&mut req).await?;
    sites::require(&edge.db()?, site).await?;
    let checked = check(edge, site, input).await?;
    http::json(
        200,
        &BroadcastPreview {
            previews: previews(&checked),
            count: checked.count,
        },
    )
}

/// `POST …/broadcasts`: accepts a broadcast (checked in full first) and starts it, or
/// schedules it.
pub async fn create(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let input: BroadcastInput = http::read_json(&mut req).await?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let mut checked = check(edge, site, input).await?;
    if checked.recipients.is_empty() {
        let c = &checked.count;
        return Err(Error::bad_request(format!(
            "empty audience: nobody matching it is reachable on {} ({} unreachable, {} opted out)",
            checked
                .stored
                .input
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            c.unreachable,
            c.opted_out
        )));
    }
    // WhatsApp's header media: uploaded to the business number once, reused by id.
    let file = checked.stored.files.first().cloned();
    if let (Some(file), true) = (
        file,
        checked
            .recipients
            .iter()
            .any(|r| r.channel == BroadcastChannel::Whatsapp),
    ) {
        let channels = crate::channels::set::get(&edge.env, site).await?;
        if let Some(Config::Whatsapp(w)) = channels
            .get(beckon_shared::proto::v1::ChannelKind::Whatsapp)
            .map(|a| &a.config)
        {
            let holder = file
                .held_in
                .as_ref()
                .ok_or_else(|| Error::internal("a broadcast file without its holder"))?;
            let key = media::object_key(holder, &file.id);
            let header = w.upload_header(&edge.env, &file, key).await.map_err(|f| {
                Error::new(
                    ErrorCode::Conflict,
                    format!("the file could not be uploaded to WhatsApp: {}", f.reason()),
                )
            })?;
            checked.stored.whatsapp_header = Some(header);
        }
    }
    let id = random::broadcast_id();
    let status = if checked.send_at > checked.now {
        "scheduled"
    } else {
        "running"
    };
    let row = Row {
        id: id.to_string(),
        site_key: site.to_string(),
        name: checked.stored.input.name.trim().to_owned(),
        spec: serde_json::to_string(&checked.stored).map_err(Error::internal)?,
        status: status.into(),
        created_at: edge.now,
        send_at: checked.send_at,
        started_at: (status == "running").then_some(edge.now),
        finished_at: None,
        recipients: checked.recipients.len() as i64,
        tick_gen: 0,
        tick_due: 0,
    };
    // Tests only (`TEST_BROADCAST_STORE_FAILS=on`, honoured where `TEST_CLOCK=on`).
    let fail_last = crate::clock::settable(&edge.env)
        && edge
            .env
            .var("TEST_BROADCAST_STORE_FAILS")
            .is_ok_and(|v| v.to_string() == "on");
    broadcasts::insert(&db, &row, &checked.recipients, edge.now, fail_last).await?;
    if status == "running" {
        let named = (row.id.as_str(), row.name.as_str());
        crate::events::broadcast_changed(&edge.env, site, named, "started", edge.now).await;
    }
    send::enqueue(&edge.env, &id, 0).await?;
    watch::watch(&edge.env, &id).await?;
    let view = view(&db, row).await?;
    http::json(201, &view)
}

/// A stored broadcast with its funnel.
async fn view(db: &worker::D1Database, row: Row) -> Result<Broadcast> {
    let stored: Stored = serde_json::from_str(&row.spec).map_err(Error::internal)?;
    let (total, channels) = broadcasts::funnel(db, &row.id).await?;
    let rate = match (row.started_at, row.status.as_str()) {
        (Some(started), "running") => {
            let secs = ((http::now_ms() - started) as f64 / 1000.0).max(1.0);
            f64::from(total.sent) / secs
        }
        _ => 0.0,
    };
    let next_at = match row.status.as_str() {
        "scheduled" | "running" | "paused" => broadcasts::next_due(db, &row.id).await?,
        _ => None,
    };
    Ok(Broadcast {
        id: BroadcastId::parse(&row.id)?,
        name: row.name,
        status: row.status,
        created_at: row.created_at,
        send_at: row.send_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        next_at,
        input: stored.input,
        total,
        channels,
        rate,
    })
}

async fn require(db: &worker::D1Database, site: &SiteKey, id: &BroadcastId) -> Result<Row> {
    broadcasts::get(db, site, id.as_str())
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no broadcast {id}")))
}

/// `GET …/broadcasts`: newest first, with their funnels.
pub async fn list(edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let mut out = Vec::new();
    for row in broadcasts::list(&db, site, 50).await? {
        out.push(view(&db, row).await?);
    }
    http::json(200, &json!({ "broadcasts": out }))
}

/// `GET …/broadcasts/{id}`: its progress (counts per stage and channel, sends per second).
pub async fn get(edge: &Edge, site: &SiteKey, id: &BroadcastId) -> Result<Response> {
    let db = edge.db()?;
    let row = require(&db, site, id).await?;
    http::json(200, &view(&db, row).await?)
}

/// `POST …/broadcasts/{id}/{pause|resume|cancel}`.
pub async fn act(
    edge: &Edge,
    site: &SiteKey,
    id: &BroadcastId,
    action: BroadcastAction,
) -> Result<Response> {
    let db = edge.db()?;
    let row = require(&db, site, id).await?;
    let now = Clock::read(&edge.env).await?.now();
    // Paused before it ever started: resuming waits for its time again, or starts it.
    let unstarted = row.started_at.is_none();
    let (from, to): (&[&str], &str) = match action {
        BroadcastAction::Pause => (&["running", "scheduled"], "paused"),
        BroadcastAction::Resume if unstarted && row.send_at > now => (&["paused"], "scheduled"),
        BroadcastAction::Resume => (&["paused"], "running"),
        BroadcastAction::Cancel => (&["running", "scheduled", "paused"], "cancelled"),
    };
    // What the site's webhooks hear.
    let event = match action {
        BroadcastAction::Pause => "paused",
        BroadcastAction::Resume if unstarted && to == "running" => "started",
        BroadcastAction::Resume => "resumed",
        BroadcastAction::Cancel => "cancelled",
    };
    let moved = match action {
        BroadcastAction::Cancel => broadcasts::cancel(&db, id.as_str(), from, now).await?,
        _ => broadcasts::set_status(&db, id.as_str(), from, to, now).await?,
    };
    if !moved {
        let verb = if event == "started" { "resumed" } else { event };
        return Err(Error::new(
            ErrorCode::Conflict,
            format!("the broadcast is {}: it cannot be {verb}", row.status),
        ));
    }
    match action {
        BroadcastAction::Resume => {
            send::enqueue(&edge.env, id, 0).await?;
            watch::watch(&edge.env, id).await?;
        }
        BroadcastAction::Cancel | BroadcastAction::Pause => {}
    }
    let named = (id.as_str(), row.name.as_str());
    crate::events::broadcast_changed(&edge.env, site, named, event, now).await;
    let row = require(&db, site, id).await?;
    http::json(200, &view(&db, row).await?)
}

/// `GET …/broadcasts/{id}/recipients` (JSON, or CSV with `?format=csv`).
pub async fn recipients(
    req: &Request,
    edge: &Edge,
    site: &SiteKey,
    id: &BroadcastId,
) -> Result<Response> {
    let db = edge.db()?;
    require(&db, site, id).await?;
    let results = broadcasts::results(&db, id.as_str()).await?;
    if http::query(req)?.get("format").map(String::as_str) != Some("csv") {
        return http::json(200, &json!({ "recipients": results }));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "contact_id",
        "channel",
        "address",
        "status",
        "reason",
        "conversation_id",
        "due_at",
    ])
    .map_err(Error::internal)?;
    for r in &results {
        w.write_record(
            [
                r.contact_id.as_str(),
                r.channel.as_str(),
                &r.address,
                &r.status,
                r.reason.as_deref().unwrap_or(""),
                r.conversation_id.as_ref().map_or("", |c| c.as_str()),
                &r.due_at.to_string(),
            ]
            .map(crate::spreadsheet::cell),
        )
        .map_err(Error::internal)?;
    }
    let body =
        String::from_utf8(w.into_inner().map_err(Error::internal)?).map_err(Error::internal)?;
    csv_response(body, &format!("broadcast-{id}.csv"))
}

pub(super) fn csv_response(body: String, filename: &str) -> Result<Response> {
    http::download(http::text(200, "text/csv; charset=utf-8", body)?, filename)
}

/// `POST …/contact-imports` (a CSV body): every good row imported, every other reported.
pub async fn import_contacts(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    // A file has a length: a body without one could end early (a dropped upload) and still
    // read as a shorter, valid file.
    if req.headers().get("content-length")?.is_none() {
        return Err(Error::bad_request(
            "send the file with its Content-Length (a file upload does)",
        ));
    }
    let csv = http::read_bytes(&mut req, import::MAX_BYTES as u64).await?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let parsed = import::parse(&csv).map_err(Error::bad_request)?;
    let existing = contacts::importable(&db, site, &parsed.contact_ids()).await?;
    let (writes, report) = import::plan(parsed, &existing, || random::visitor_id().to_string());
    contacts::apply_import(&db, site, &writes, edge.now).await?;
    http::json(200, &report)
}

/// `GET …/contacts.csv`: every contact as CSV, in the import's columns.
pub async fn export_contacts(edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    csv_response(
        contacts::export_csv(&db, site, edge.now).await?,
        &format!("contacts-{site}.csv"),
    )
}

/// The longest unsubscribe token taken (ours are about 200 characters).
const MAX_UNSUBSCRIBE_TOKEN: usize = 600;

/// `GET` / `POST /unsubscribe/{token}`: an email broadcast's unsubscribe link. `GET` (what a
/// person's click, or a mail scanner's visit, does) only asks; `POST` — the page's button, or a
/// mail client's one-click (RFC 8058, `List-Unsubscribe=One-Click`) — records the opt-out at
/// once. The token names the site and address (signed); nothing else is read.
pub async fn unsubscribe(req: Request, edge: &Edge, token: &str) -> Result<Response> {
    // Longer than any token we sign (OpenAPI's maxLength): not even checked.
    let secret = edge.token_secret()?;
    let target = (token.len() <= MAX_UNSUBSCRIBE_TOKEN)
        .then(|| crate::auth::unsubscribe_target(&secret, token))
        .flatten();
    let Some((site, address)) = target else {
        // Only guesses are limited: a mail provider's one-click posts for many people from a
        // few addresses, and none of them may be refused.
        crate::rate_limit::check(&edge.env, &req, crate::rate_limit::Limit::Events).await?;
        return page(403, "This unsubscribe link is not valid.", None);
    };
    let db = edge.db()?;
    let Some(name) = sites::get(&db, &site).await?.map(|s| s.name) else {
        return page(404, "This unsubscribe link is no longer valid.", None);
    };
    let channel = (BroadcastChannel::Email, address.as_str());
    if req.method() == worker::Method::Post {
        if !contacts::opted_out(&db, &site, channel.0, channel.1).await? {
            contacts::set_consent(&db, &site, channel, false, contacts::Source::Link, edge.now)
                .await?;
            let cause = edge.now.to_string();
            crate::events::consent_changed(&edge.env, &site, channel, false, ("link", &cause))
                .await;
        }
        let done = format!("{address} will get no more emails like this from {name}.");
        return page(200, &done, None);
    }
    let ask = format!("Stop emails like this from {name} to {address}?");
    page(200, &ask, Some(token))
}

/// The unsubscribe page: one sentence, and the button when it asks. Everything shown is
/// escaped; the page loads nothing and may not be framed.
fn page(status: u16, sentence: &str, token: Option<&str>) -> Result<Response> {
    let esc = crate::pages::escape;
    let form = token.map_or(String::new(), |t| {
        format!(
            r#"<form method="post" action="/unsubscribe/{}"><button type="submit">Unsubscribe</button></form>"#,
            esc(t)
        )
    });
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Unsubscribe</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#111827}}button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:8px;background:#0f766e;color:#fff;cursor:pointer}}button:focus-visible{{outline:3px solid #111827;outline-offset:2px}}</style></head>
<body><main><h1>Unsubscribe</h1><p>{}</p>{form}</main></body></html>"#,
        esc(sentence)
    );
    let resp = http::text(status, "text/html; charset=utf-8", html)?;
    let h = resp.headers();
    h.set(
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )?;
    h.set("x-content-type-options", "nosniff")?;
    h.set("cache-control", "no-store")?;
    Ok(resp)
}
