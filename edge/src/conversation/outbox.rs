//! The conversation's durable outbox of relays to channels.
//!
//! - **Written with the message**: storing a message inserts one `outbox` row per channel kind
//!   (except the one the message came from) in the same synchronous block, so a stored message
//!   always has its relays pending — whatever happens to the runtime next.
//! - **Sent by the pump**, right after the sender's ack and again from the DO alarm: per
//!   channel, oldest first, one at a time (order is kept; a failing channel never blocks the
//!   others). Channels the site has not set up are marked `skipped`.
//! - **Idempotent per (message, channel, recipient)**: each successful send is recorded in
//!   `deliveries` before the row completes, and a retry skips recipients already served.
//! - **Retries** back off exponentially with jitter and never sooner than the channel's
//!   `retry_after` / `Retry-After`; a channel failing for good is reported on its D1 row
//!   (admin API, inbox badge) and keeps retrying slowly until its settings are fixed.

use super::store::{int, opt, Store};
use super::{ContactRoute, Conversation, Meta};
use crate::channels::{self, slack, telegram, whatsapp, ApiRequest, Failure, Relay};
use crate::error::{Error, Result};
use crate::storage::channels::Channel;
use crate::{http, storage, transport};
use beckon_shared::backoff;
use beckon_shared::proto::v1::{
    ChannelKind, ChannelSecrets, ChannelSettings, ChannelStatus, ContactChannel, Message,
};
use beckon_shared::Seq;
use serde::{Deserialize, Serialize};

const RETRY_BASE_MS: u64 = 1_000;
const RETRY_CAP_MS: u64 = 5 * 60_000;
/// A relay still failing after this many attempts (about a day at the cap) is given up.
const GIVE_UP_AFTER: i64 = 300;
/// Relays sent per channel per pump run (the alarm picks up the rest).
const BATCH: usize = 100;
/// When a pending relay exists but no pump is running, the alarm comes back within this.
const SAFETY_NET_MS: i64 = 5_000;
/// How long the pump waits after an error of ours (D1, a missing secret) before trying again.
const PUMP_ERROR_BACKOFF_MS: i64 = 60_000;

#[derive(Clone, Debug, Deserialize)]
struct Row {
    seq: i64,
    attempts: i64,
    next_at: i64,
    force_template: i64,
}

/// Where a relay goes: one of the site's agent channels, or — for a conversation with a
/// contact on their own WhatsApp or Telegram — the contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Channel(ChannelKind),
    Contact(ContactChannel),
}

impl Target {
    /// The outbox's `channel` column (`contact` alone is WhatsApp, as stored before Telegram).
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Channel(k) => k.as_str(),
            Target::Contact(ContactChannel::Whatsapp) => "contact",
            Target::Contact(ContactChannel::Telegram) => "contact:telegram",
        }
    }

    fn parse(s: &str) -> Option<Target> {
        match s {
            "contact" => Some(Target::Contact(ContactChannel::Whatsapp)),
            "contact:telegram" => Some(Target::Contact(ContactChannel::Telegram)),
            _ => ChannelKind::parse(s).map(Target::Channel),
        }
    }

    /// The channel whose settings the relay uses.
    fn channel(self) -> ChannelKind {
        match self {
            Target::Channel(k) => k,
            Target::Contact(c) => c.channel(),
        }
    }
}

/// An error of ours while relaying: retried (the pump backs off).
fn internal(e: Error) -> Failure {
    Failure::Retry {
        after_ms: None,
        reason: e.to_string(),
    }
}

impl From<ChannelKind> for Target {
    fn from(k: ChannelKind) -> Target {
        Target::Channel(k)
    }
}

/// One relay as the admin API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RelayInfo {
    pub seq: i64,
    pub channel: String,
    pub state: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub done_at: Option<i64>,
    #[serde(default)]
    pub deliveries: Vec<DeliveryInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryInfo {
    pub recipient: String,
    pub remote_id: Option<String>,
    pub status: String,
    pub sent_at: i64,
}

impl Store {
    /// Queues the relays of message `seq` (called in the same synchronous block that stores
    /// it): one per agent channel except the message's own, plus the contact's own channel
    /// for the business's messages in a conversation held there.
    pub fn enqueue_relays(
        &self,
        seq: Seq,
        via: Option<&str>,
        to_contact: Option<ContactChannel>,
        now: i64,
    ) -> Result<()> {
        let channels = ChannelKind::ALL
            .iter()
            .filter(|k| Some(k.as_str()) != via)
            .map(|k| Target::Channel(*k));
        for target in channels.chain(to_contact.map(Target::Contact)) {
            self.sql.exec(
                "INSERT OR IGNORE INTO outbox (seq, channel, next_at) VALUES (?, ?, ?)",
                vec![int(seq.0 as i64), target.as_str().into(), int(now)],
            )?;
        }
        Ok(())
    }

    fn pending_channels(&self) -> Result<Vec<Target>> {
        #[derive(Deserialize)]
        struct C {
            channel: String,
        }
        let rows: Vec<C> = self
            .sql
            .exec(
                "SELECT DISTINCT channel FROM outbox WHERE state = 'pending'",
                None,
            )?
            .to_array()?;
        Ok(rows
            .iter()
            .filter_map(|c| Target::parse(&c.channel))
            .collect())
    }

    fn next_pending(&self, kind: impl Into<Target>) -> Result<Option<Row>> {
        let rows: Vec<Row> = self
            .sql
            .exec(
                "SELECT seq, attempts, next_at, force_template FROM outbox WHERE state = 'pending' AND channel = ? ORDER BY seq LIMIT 1",
                vec![kind.into().as_str().into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next())
    }

    fn earliest_pending(&self) -> Result<Option<i64>> {
        #[derive(Deserialize)]
        struct N {
            n: Option<i64>,
        }
        // Only each channel's oldest pending relay can be due: later ones wait behind it.
        let r: N = self
            .sql
            .exec(
                "SELECT MIN(next_at) AS n FROM outbox o WHERE state = 'pending'
                   AND seq = (SELECT MIN(seq) FROM outbox WHERE state = 'pending' AND channel = o.channel)",
                None,
            )?
            .one()?;
        Ok(r.n)
    }

    fn finish(
        &self,
        seq: i64,
        kind: impl Into<Target>,
        state: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.sql.exec(
            "UPDATE outbox SET state = ?, done_at = ?, last_error = COALESCE(?, last_error) WHERE seq = ? AND channel = ?",
            vec![state.into(), int(now), opt(error), int(seq), kind.into().as_str().into()],
        )?;
        Ok(())
    }

    /// Fails every pending relay that needs channel `kind` (to its agents and to contacts)
    /// with `error`; whether there were any.
    fn fail_pending(&self, kind: ChannelKind, error: &str, now: i64) -> Result<bool> {
        let contacts = ContactChannel::ALL
            .into_iter()
            .filter(|c| c.channel() == kind)
            .map(Target::Contact);
        let mut pending = false;
        for target in std::iter::once(Target::Channel(kind)).chain(contacts) {
            pending |= self.next_pending(target)?.is_some();
            self.sql.exec(
                "UPDATE outbox SET state = 'failed', done_at = ?, last_error = ? WHERE state = 'pending' AND channel = ?",
                vec![int(now), error.into(), target.as_str().into()],
            )?;
        }
        Ok(pending)
    }

    fn skip_pending(&self, kind: impl Into<Target>, now: i64) -> Result<()> {
        self.sql.exec(
            "UPDATE outbox SET state = 'skipped', done_at = ? WHERE state = 'pending' AND channel = ?",
            vec![int(now), kind.into().as_str().into()],
        )?;
        Ok(())
    }

    fn retry_later(
        &self,
        seq: i64,
        kind: impl Into<Target>,
        attempts: i64,
        next_at: i64,
        error: &str,
    ) -> Result<()> {
        self.sql.exec(
            "UPDATE outbox SET attempts = ?, next_at = ?, last_error = ? WHERE seq = ? AND channel = ?",
            vec![int(attempts), int(next_at), error.into(), int(seq), kind.into().as_str().into()],
        )?;
        Ok(())
    }

    fn delivered(&self, seq: i64, kind: impl Into<Target>, recipient: &str) -> Result<bool> {
        self.any(
            "SELECT COUNT(*) AS n FROM deliveries WHERE seq = ? AND channel = ? AND recipient = ? AND status != 'failed'",
            vec![int(seq), kind.into().as_str().into(), recipient.into()],
        )
    }

    fn has_deliveries_to(&self, kind: impl Into<Target>, recipient: &str) -> Result<bool> {
        self.any(
            "SELECT COUNT(*) AS n FROM deliveries WHERE channel = ? AND recipient = ?",
            vec![kind.into().as_str().into(), recipient.into()],
        )
    }

    fn record_delivery(
        &self,
        seq: i64,
        kind: impl Into<Target>,
        recipient: &str,
        remote_id: &str,
        now: i64,
    ) -> Result<()> {
        self.sql.exec(
            "INSERT INTO deliveries (seq, channel, recipient, remote_id, sent_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(seq, channel, recipient) DO UPDATE SET remote_id = excluded.remote_id, status = 'sent', sent_at = excluded.sent_at",
            vec![int(seq), kind.into().as_str().into(), recipient.into(), remote_id.into(), int(now)],
        )?;
        Ok(())
    }

    fn thread(&self, kind: ChannelKind) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct T {
            thread: String,
        }
        let rows: Vec<T> = self
            .sql
            .exec(
                "SELECT thread FROM threads WHERE channel = ?",
                vec![kind.as_str().into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next().map(|t| t.thread))
    }

    fn set_thread(&self, kind: ChannelKind, thread: Option<&str>) -> Result<()> {
        match thread {
            Some(t) => self.sql.exec(
                "INSERT INTO threads (channel, thread) VALUES (?, ?) ON CONFLICT(channel) DO UPDATE SET thread = excluded.thread",
                vec![kind.as_str().into(), t.into()],
            )?,
            None => self.sql.exec("DELETE FROM threads WHERE channel = ?", vec![kind.as_str().into()])?,
        };
        Ok(())
    }

    /// Records a delivery status reported by the channel (WhatsApp `statuses`). A free-form
    /// send refused for the 24-hour window is re-queued as a template. Returns whether a
    /// relay was re-queued.
    pub fn record_status(
        &self,
        remote_id: &str,
        status: &str,
        error_code: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        #[derive(Deserialize)]
        struct D {
            seq: i64,
            channel: String,
        }
        let rows: Vec<D> = self
            .sql
            .exec(
                "SELECT seq, channel FROM deliveries WHERE remote_id = ?",
                vec![remote_id.into()],
            )?
            .to_array()?;
        let Some(d) = rows.into_iter().next() else {
            return Ok(false);
        };
        if status == "failed" && error_code == Some(whatsapp::RE_ENGAGEMENT) {
            // The free-form send was refused after the fact: free its slot and send the template.
            self.sql.exec(
                "UPDATE deliveries SET status = 'failed' WHERE remote_id = ?",
                vec![remote_id.into()],
            )?;
            self.sql.exec(
                "UPDATE outbox SET state = 'pending', force_template = 1, next_at = ?, done_at = NULL,
                   last_error = 'free-form refused outside the 24-hour window (131047); resending as template'
                 WHERE seq = ? AND channel = ?",
                vec![int(now), int(d.seq), d.channel.as_str().into()],
            )?;
            return Ok(true);
        }
        // Statuses can arrive out of order: never step back from read to delivered.
        let rank = |s: &str| match s {
            "sent" => 1,
            "delivered" => 2,
            "read" => 3,
            "failed" => 4,
            _ => 0,
        };
        self.sql.exec(
            "UPDATE deliveries SET status = ? WHERE remote_id = ? AND (CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END) < ?",
            vec![status.into(), remote_id.into(), int(rank(status))],
        )?;
        Ok(false)
    }

    /// Every relay of the conversation with its deliveries (admin API).
    pub fn relays(&self) -> Result<Vec<RelayInfo>> {
        let mut relays: Vec<RelayInfo> = self
            .sql
            .exec("SELECT seq, channel, state, attempts, next_at, last_error, done_at FROM outbox ORDER BY seq, channel", None)?
            .to_array()?;
        #[derive(Deserialize)]
        struct D {
            seq: i64,
            channel: String,
            recipient: String,
            remote_id: Option<String>,
            status: String,
            sent_at: i64,
        }
        let deliveries: Vec<D> = self
            .sql
            .exec("SELECT seq, channel, recipient, remote_id, status, sent_at FROM deliveries ORDER BY sent_at", None)?
            .to_array()?;
        for d in deliveries {
            if let Some(r) = relays
                .iter_mut()
                .find(|r| r.seq == d.seq && r.channel == d.channel)
            {
                r.deliveries.push(DeliveryInfo {
                    recipient: d.recipient,
                    remote_id: d.remote_id,
                    status: d.status,
                    sent_at: d.sent_at,
                });
            }
        }
        Ok(relays)
    }
}

/// An absolute alarm time (`set_alarm` takes a bare integer as an *offset*).
pub(crate) fn alarm_at(epoch_ms: i64) -> worker::ScheduledTime {
    worker::ScheduledTime::new(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        epoch_ms as f64,
    )))
}

/// What sending one relay needs besides the message.
struct Context<'a> {
    meta: &'a Meta,
    site_name: &'a str,
    channel: &'a Channel,
    target: Target,
    timeout_ms: u64,
}

impl Conversation {
    /// Makes sure the alarm will come back for pending relays even if this instance dies.
    pub(crate) async fn arm_safety_net(&self) {
        let at = http::now_ms() + SAFETY_NET_MS;
        let storage = self.state.storage();
        let current = storage.get_alarm().await.ok().flatten();
        if current.is_none_or(|c| c > at) {
            if let Err(e) = storage.set_alarm(alarm_at(at)).await {
                worker::console_error!("setting the relay alarm failed: {e}");
            }
        }
    }

    /// Sends what is due. Concurrent calls coalesce: one pump runs, and runs again if asked
    /// while it was busy.
    pub(crate) async fn pump(&self) {
        if self.pumping.replace(true) {
            self.pump_again.set(true);
            return;
        }
        let mut not_before = 0;
        loop {
            self.pump_again.set(false);
            if let Err(e) = self.pump_once().await {
                // D1 or a secret unavailable: come back later, not in a tight loop.
                worker::console_error!("relay pump: {e}");
                not_before = http::now_ms() + PUMP_ERROR_BACKOFF_MS;
            }
            if !self.pump_again.get() {
                break;
            }
        }
        self.pumping.set(false);
        self.schedule_alarm(not_before).await;
    }

    async fn schedule_alarm(&self, not_before: i64) {
        let storage = self.state.storage();
        let result = match self.store.earliest_pending() {
            Ok(Some(at)) => {
                storage
                    .set_alarm(alarm_at(at.max(not_before).max(http::now_ms())))
                    .await
            }
            Ok(None) => storage.delete_alarm().await,
            Err(e) => Err(worker::Error::from(e.to_string())),
        };
        if let Err(e) = result {
            worker::console_error!("scheduling the relay alarm failed: {e}");
        }
    }

    async fn pump_once(&self) -> Result<()> {
        let targets = self.store.pending_channels()?;
        if targets.is_empty() {
            return Ok(());
        }
        let meta = self.meta()?;
        let db = self.env.d1("DB")?;
        let key = http::secret(&self.env, "SECRETS_KEY")?;
        let stored = storage::channels::list(&db, &meta.site, &key).await?;
        let mut channels = Vec::new();
        for entry in stored {
            match entry {
                Ok(channel) => channels.push(channel),
                // It cannot send until set up again: its pending relays fail with the reason
                // (shown in the inbox) instead of waiting forever.
                Err(u) => {
                    let reason = storage::channels::Unreadable::REASON;
                    if self.store.fail_pending(u.kind, reason, http::now_ms())? {
                        self.report(&meta, u.kind, Some(reason)).await;
                    }
                }
            }
        }
        let site_name = storage::sites::get(&db, &meta.site)
            .await?
            .map(|s| s.name)
            .unwrap_or_else(|| meta.site.to_string());
        let timeout_ms = transport::timeout_ms(&self.env);
        let now = http::now_ms();
        let mut work = Vec::new();
        for target in targets {
            match channels
                .iter()
                .find(|c| c.kind == target.channel() && c.enabled)
            {
                Some(channel) => work.push(self.pump_channel(Context {
                    meta: &meta,
                    site_name: &site_name,
                    channel,
                    target,
                    timeout_ms,
                })),
                None => self.store.skip_pending(target, now)?,
            }
        }
        futures_util::future::join_all(work).await;
        Ok(())
    }

    /// Sends one channel's due relays in order; stops at the first failure.
    async fn pump_channel(&self, cx: Context<'_>) {
        let kind = cx.channel.kind;
        // A message reaching a contact does not show that the agents' side works (a Telegram
        // group the bot was removed from still fails), so only agent relays report health.
        let mut reported_ok =
            cx.channel.status == ChannelStatus::Ok || matches!(cx.target, Target::Contact(_));
        for _ in 0..BATCH {
            let now = http::now_ms();
            let row = match self.store.next_pending(cx.target) {
                Ok(Some(row)) if row.next_at <= now => row,
                Ok(_) => return,
                Err(e) => return worker::console_error!("outbox: {e}"),
            };
            let outcome = match self.store.message(Seq(row.seq as u64)) {
                Ok(Some(m)) => self.deliver(&cx, &m, &row).await,
                Ok(None) => Err(Failure::Permanent {
                    reason: "message missing".into(),
                }),
                Err(e) => Err(Failure::Retry {
                    after_ms: None,
                    reason: e.to_string(),
                }),
            };
            let now = http::now_ms();
            match outcome {
                Ok(()) => {
                    if let Err(e) = self.store.finish(row.seq, cx.target, "sent", None, now) {
                        return worker::console_error!("outbox: {e}");
                    }
                    if !reported_ok {
                        reported_ok = true;
                        self.report(cx.meta, kind, None).await;
                    }
                }
                Err(Failure::Rejected { reason }) => {
                    // This message only: mark it failed (the inbox shows why), go on.
                    if let Err(e) =
                        self.store
                            .finish(row.seq, cx.target, "failed", Some(&reason), now)
                    {
                        return worker::console_error!("outbox: {e}");
                    }
                }
                Err(failure) => {
                    let attempts = row.attempts + 1;
                    let reason = failure.reason();
                    let delay = backoff::delay_ms(
                        attempts as u32 - 1,
                        RETRY_BASE_MS,
                        RETRY_CAP_MS,
                        js_sys::Math::random(),
                    );
                    let hint = match &failure {
                        Failure::Retry { after_ms, .. } => after_ms.unwrap_or(0),
                        _ => 0,
                    };
                    let result = if attempts >= GIVE_UP_AFTER {
                        self.store
                            .finish(row.seq, cx.target, "failed", Some(&reason), now)
                    } else {
                        self.store.retry_later(
                            row.seq,
                            cx.target,
                            attempts,
                            now + delay.max(hint) as i64,
                            &reason,
                        )
                    };
                    if let Err(e) = result {
                        worker::console_error!("outbox: {e}");
                    }
                    if matches!(failure, Failure::Permanent { .. }) || attempts >= 3 {
                        self.report(cx.meta, kind, Some(&reason)).await;
                    }
                    if attempts < GIVE_UP_AFTER {
                        return;
                    }
                }
            }
        }
    }

    async fn report(&self, meta: &Meta, kind: ChannelKind, error: Option<&str>) {
        let result = async {
            storage::channels::report(&self.env.d1("DB")?, &meta.site, kind, error, http::now_ms())
                .await
        }
        .await;
        if let Err(e) = result {
            worker::console_error!("reporting channel health failed: {e}");
        }
    }

    /// Sends one message to one channel (every recipient not served yet).
    async fn deliver(
        &self,
        cx: &Context<'_>,
        m: &Message,
        row: &Row,
    ) -> std::result::Result<(), Failure> {
        let relay = Relay {
            site_name: cx.site_name,
            conversation_id: cx.meta.id.as_str(),
            page_url: cx.meta.page_url.as_deref(),
            role: m.role,
            author: m.author.as_deref(),
            via: m.via.as_deref(),
            body: &m.body,
        };
        if let Target::Contact(_) = cx.target {
            return self.deliver_to_contact(cx, m, row).await;
        }
        let send = |req| async move { transport::send(&req, cx.timeout_ms).await };
        let seq = row.seq;
        match (&cx.channel.settings, &cx.channel.secrets) {
            (
                ChannelSettings::Telegram { chat_id, .. },
                ChannelSecrets::Telegram { bot_token, .. },
            ) => {
                let base = cx.channel.settings.api_base();
                if self
                    .store
                    .delivered(seq, ChannelKind::Telegram, "")
                    .map_err(internal)?
                {
                    return Ok(());
                }
                for _ in 0..2 {
                    let (thread, first) =
                        match self.store.thread(ChannelKind::Telegram).map_err(internal)? {
                            // The header goes with the first message that actually lands in
                            // the topic (its first send may have failed after the topic).
                            Some(t) => (
                                t.parse::<i64>().map_err(|_| Failure::ThreadGone)?,
                                !self
                                    .store
                                    .has_deliveries_to(ChannelKind::Telegram, "")
                                    .map_err(internal)?,
                            ),
                            None => {
                                let resp =
                                    send(telegram::create_topic(base, bot_token, *chat_id, &relay))
                                        .await?;
                                let thread = telegram::parse_topic(&resp)?;
                                self.remember_thread(
                                    cx,
                                    ChannelKind::Telegram,
                                    &thread.to_string(),
                                    &format!("{chat_id}:{thread}"),
                                )
                                .await?;
                                (thread, true)
                            }
                        };
                    let resp = send(telegram::send_message(
                        base,
                        bot_token,
                        *chat_id,
                        Some(thread),
                        &telegram::message_text(&relay, first),
                    ))
                    .await?;
                    match telegram::parse_sent(&resp) {
                        Ok(id) => {
                            return self
                                .store
                                .record_delivery(
                                    seq,
                                    ChannelKind::Telegram,
                                    "",
                                    &id,
                                    http::now_ms(),
                                )
                                .map_err(internal)
                        }
                        Err(Failure::ThreadGone) => self
                            .store
                            .set_thread(ChannelKind::Telegram, None)
                            .map_err(internal)?,
                        Err(f) => return Err(f),
                    }
                }
                Err(Failure::ThreadGone)
            }
            (
                ChannelSettings::Slack { channel_id, .. },
                ChannelSecrets::Slack { bot_token, .. },
            ) => {
                let base = cx.channel.settings.api_base();
                if self
                    .store
                    .delivered(seq, ChannelKind::Slack, "")
                    .map_err(internal)?
                {
                    return Ok(());
                }
                let thread = match self.store.thread(ChannelKind::Slack).map_err(internal)? {
                    Some(t) => t,
                    None => {
                        let resp =
                            send(slack::post_root(base, bot_token, channel_id, &relay)).await?;
                        let ts = slack::parse_posted(&resp)?;
                        self.remember_thread(
                            cx,
                            ChannelKind::Slack,
                            &ts,
                            &format!("{channel_id}:{ts}"),
                        )
                        .await?;
                        ts
                    }
                };
                let resp = send(slack::post_reply(
                    base, bot_token, channel_id, &thread, &relay,
                ))
                .await?;
                let ts = slack::parse_posted(&resp)?;
                self.store
                    .record_delivery(seq, ChannelKind::Slack, "", &ts, http::now_ms())
                    .map_err(internal)
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
                let db = self.env.d1("DB").map_err(|e| internal(e.into()))?;
                for number in agent_numbers {
                    if self
                        .store
                        .delivered(seq, ChannelKind::Whatsapp, number)
                        .map_err(internal)?
                    {
                        continue;
                    }
                    let target = whatsapp::Target {
                        api_base: cx.channel.settings.api_base(),
                        version: graph_version,
                        phone_number_id,
                        access_token,
                        to: number,
                    };
                    let first = !self
                        .store
                        .has_deliveries_to(ChannelKind::Whatsapp, number)
                        .map_err(internal)?;
                    let template = || {
                        whatsapp::send_template(
                            &target,
                            template_name,
                            template_language,
                            cx.site_name,
                            &whatsapp::template_text(&relay, first),
                            cx.meta.id.as_str(),
                        )
                    };
                    let text = whatsapp::message_text(&relay, first);
                    self.send_whatsapp(
                        cx,
                        &db,
                        row,
                        Target::from(ChannelKind::Whatsapp),
                        &target,
                        &text,
                        template,
                    )
                    .await?;
                }
                Ok(())
            }
            _ => Err(Failure::Permanent {
                reason: "settings and secrets are of different channels".into(),
            }),
        }
    }

    /// Sends the business's message to the contact on their own channel.
    async fn deliver_to_contact(
        &self,
        cx: &Context<'_>,
        m: &Message,
        row: &Row,
    ) -> std::result::Result<(), Failure> {
        let Some(contact) = &cx.meta.contact else {
            return Err(Failure::Permanent {
                reason: "no contact address".into(),
            });
        };
        if self
            .store
            .delivered(row.seq, cx.target, &contact.address)
            .map_err(internal)?
        {
            return Ok(());
        }
        match contact.channel {
            ContactChannel::Whatsapp => self.deliver_to_whatsapp_contact(cx, m, row, contact).await,
            ContactChannel::Telegram => {
                let (ChannelSettings::Telegram { .. }, ChannelSecrets::Telegram { bot_token, .. }) =
                    (&cx.channel.settings, &cx.channel.secrets)
                else {
                    return Err(Failure::Permanent {
                        reason: "telegram is not set up".into(),
                    });
                };
                let chat = contact
                    .address
                    .parse::<i64>()
                    .map_err(|_| Failure::Permanent {
                        reason: "not a telegram chat id".into(),
                    })?;
                let text = telegram::contact_text(cx.site_name, m.author.as_deref(), &m.body);
                let request = telegram::send_message(
                    cx.channel.settings.api_base(),
                    bot_token,
                    chat,
                    None,
                    &text,
                );
                let id = telegram::parse_sent_to_contact(
                    &transport::send(&request, cx.timeout_ms).await?,
                )?;
                self.store
                    .record_delivery(row.seq, cx.target, &contact.address, &id, http::now_ms())
                    .map_err(internal)
            }
        }
    }

    /// The contact's own WhatsApp: free-form inside their 24-hour window, else the approved
    /// template.
    async fn deliver_to_whatsapp_contact(
        &self,
        cx: &Context<'_>,
        m: &Message,
        row: &Row,
        contact: &ContactRoute,
    ) -> std::result::Result<(), Failure> {
        let (
            ChannelSettings::Whatsapp {
                phone_number_id,
                template_name,
                template_language,
                graph_version,
                ..
            },
            ChannelSecrets::Whatsapp { access_token, .. },
        ) = (&cx.channel.settings, &cx.channel.secrets)
        else {
            return Err(Failure::Permanent {
                reason: "whatsapp is not set up".into(),
            });
        };
        let target = whatsapp::Target {
            api_base: cx.channel.settings.api_base(),
            version: graph_version,
            phone_number_id,
            access_token,
            to: &contact.address,
        };
        let text = match &m.author {
            Some(a) => format!("{a} ({}): {}", cx.site_name, m.body),
            None => format!("{}: {}", cx.site_name, m.body),
        };
        let template = || {
            whatsapp::send_template(
                &target,
                template_name,
                template_language,
                cx.site_name,
                &m.body,
                cx.meta.id.as_str(),
            )
        };
        let db = self.env.d1("DB").map_err(|e| internal(e.into()))?;
        let text = channels::clip(&text, whatsapp::MAX_TEXT_CHARS);
        self.send_whatsapp(cx, &db, row, cx.target, &target, &text, template)
            .await
    }

    /// Sends one message to one WhatsApp number: free-form `text` inside the number's 24-hour
    /// window (unless the row asks for the template), else the approved `template`; a 131047
    /// inside the window falls back to the template. The wamid is mapped to this conversation
    /// (statuses, swipe-replies) *before* the delivery is recorded: a recorded delivery is never
    /// sent or mapped again, so it must be routable by then.
    #[allow(clippy::too_many_arguments)]
    async fn send_whatsapp(
        &self,
        cx: &Context<'_>,
        db: &worker::D1Database,
        row: &Row,
        target_kind: Target,
        target: &whatsapp::Target<'_>,
        text: &str,
        template: impl Fn() -> ApiRequest,
    ) -> std::result::Result<(), Failure> {
        let last_inbound = storage::channels::window(db, &cx.meta.site, target.to)
            .await
            .map_err(internal)?;
        let in_window =
            row.force_template == 0 && whatsapp::window_open(last_inbound, http::now_ms());
        let request = if in_window {
            whatsapp::send_text(target, text)
        } else {
            template()
        };
        let send = |req| async move { transport::send(&req, cx.timeout_ms).await };
        let wamid = match whatsapp::parse_sent(&send(request).await?) {
            Err(Failure::NeedsTemplate) if in_window => {
                whatsapp::parse_sent(&send(template()).await?)?
            }
            other => other?,
        };
        storage::channels::map_thread(
            db,
            ChannelKind::Whatsapp,
            &cx.meta.site,
            &wamid,
            &cx.meta.id,
            http::now_ms(),
        )
        .await
        .map_err(internal)?;
        self.store
            .record_delivery(row.seq, target_kind, target.to, &wamid, http::now_ms())
            .map_err(internal)
    }

    /// Stores the conversation's new thread in the channel, here and in D1 (inbound routing).
    async fn remember_thread(
        &self,
        cx: &Context<'_>,
        kind: ChannelKind,
        thread: &str,
        thread_key: &str,
    ) -> std::result::Result<(), Failure> {
        // The D1 mapping first: a thread we remember must be one replies can be routed from.
        // If mapping fails the relay retries and opens a fresh thread; no reply is lost.
        let db = self.env.d1("DB").map_err(|e| internal(e.into()))?;
        storage::channels::map_thread(
            &db,
            kind,
            &cx.meta.site,
            thread_key,
            &cx.meta.id,
            http::now_ms(),
        )
        .await
        .map_err(internal)?;
        self.store.set_thread(kind, Some(thread)).map_err(internal)
    }
}
