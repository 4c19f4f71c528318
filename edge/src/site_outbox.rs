//! The SiteOutbox Durable Object: one per site, the [`Outbox`] for what the site sends that
//! belongs to no conversation — a channel's test message, a new contact's greeting, the
//! site's events for its webhook endpoint (`contact.*`, `broadcast.*`). They get
//! what every relay gets: durable queueing, retries with the channel's hints, health reports
//! and an exactly-once record. Each notice has a key: queueing a key twice sends it once (a
//! redelivered Start greets once); a new test of a channel supersedes an older one still
//! waiting for its retry.

use crate::channels::{ContactRoute, Content, Envelope, Target};
use crate::error::{Error, Result};
use crate::http;
use crate::outbox::{Outbox, Owner};
use beckon_shared::proto::v1::{ChannelKind, ChannelTestResult, ContactChannel, ErrorCode};
use beckon_shared::SiteKey;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, RequestInit, Response, State,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS notices (
  seq        INTEGER PRIMARY KEY,
  key        TEXT NOT NULL UNIQUE,
  site       TEXT NOT NULL,
  target     TEXT NOT NULL,
  contact    TEXT,
  address    TEXT,
  text       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
";

/// The key prefix of site events (their row's text is the event, as JSON).
const EVENT_KEY: &str = "event:";

/// How long a test waits for its first attempt to finish (another pump may hold it).
const TEST_WAIT_MS: u64 = 20_000;

/// A notice to queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Notice {
    site: SiteKey,
    key: String,
    target: String,
    #[serde(default)]
    contact: Option<ContactRoute>,
    text: String,
}

#[derive(Deserialize)]
struct NoticeRow {
    key: String,
    site: String,
    contact: Option<String>,
    address: Option<String>,
    text: String,
}

#[derive(Deserialize)]
struct SeqRow {
    seq: i64,
}

#[durable_object]
pub struct SiteOutbox {
    state: State,
    env: Env,
    outbox: Outbox,
}

impl DurableObject for SiteOutbox {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        sql.exec(SCHEMA, None).expect("site outbox schema");
        let outbox = Outbox::new(sql).expect("outbox schema");
        SiteOutbox { state, env, outbox }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.outbox.pump(self).await;
        Response::empty()
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let result: Result<Response> = async {
            let notice: Notice = req.json().await.map_err(Error::internal)?;
            match req.path().as_str() {
                "/notice" => {
                    self.queue(&notice)?;
                    self.wake_at(Some(http::now_ms())).await;
                    Ok(Response::empty()?.with_status(204))
                }
                "/test" => http::json(200, &self.test(&notice).await?),
                _ => Err(Error::code(ErrorCode::NotFound)),
            }
        }
        .await;
        result.or_else(|e| http::error_response(&e))
    }
}

impl SiteOutbox {
    /// Stores the notice and queues it (once per key); its row's seq.
    fn queue(&self, n: &Notice) -> Result<i64> {
        let sql = self.state.storage().sql();
        let now = http::now_ms();
        sql.exec(
            "INSERT OR IGNORE INTO notices (key, site, target, contact, address, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                n.key.as_str().into(),
                n.site.as_str().into(),
                n.target.as_str().into(),
                n.contact.as_ref().map_or(worker::SqlStorageValue::Null, |c| c.channel.as_str().into()),
                n.contact.as_ref().map_or(worker::SqlStorageValue::Null, |c| c.address.as_str().into()),
                n.text.as_str().into(),
                worker::SqlStorageValue::Integer(now),
            ],
        )?;
        let row: SeqRow = sql
            .exec(
                "SELECT seq FROM notices WHERE key = ?",
                vec![n.key.as_str().into()],
            )?
            .one()?;
        let target = Target::parse(&n.target).ok_or_else(|| Error::internal("bad target"))?;
        self.outbox.store.enqueue(row.seq, &[target], now)?;
        Ok(row.seq)
    }

    /// Sends a test now: older tests of the target still pending are superseded, the new one
    /// is attempted at once, and its outcome reported.
    async fn test(&self, n: &Notice) -> Result<ChannelTestResult> {
        let target = Target::parse(&n.target).ok_or_else(|| Error::internal("bad target"))?;
        let sql = self.state.storage().sql();
        let older: Vec<SeqRow> = sql
            .exec(
                "SELECT seq FROM notices WHERE target = ? AND key LIKE 'test:%'",
                vec![n.target.as_str().into()],
            )?
            .to_array()?;
        for row in older {
            self.outbox
                .store
                .finish_if_pending(row.seq, target, "superseded by a newer test")?;
        }
        let seq = self.queue(n)?;
        let deadline = http::now_ms() + TEST_WAIT_MS as i64;
        loop {
            self.outbox.pump(self).await;
            let row = self
                .outbox
                .store
                .row(seq, target)?
                .ok_or_else(|| Error::internal("test row vanished"))?;
            if row.state == "sent" {
                let recipients = self.outbox.store.deliveries_of(seq, target)?;
                return Ok(ChannelTestResult {
                    ok: true,
                    detail: format!("sent {recipients} test message(s)"),
                });
            }
            if row.state != "pending" || row.attempts > 0 || http::now_ms() > deadline {
                return Ok(ChannelTestResult {
                    ok: false,
                    detail: row
                        .last_error
                        .unwrap_or_else(|| "the test is still queued".into()),
                });
            }
            // Another pump is sending right now; ours runs after it.
            worker::Delay::from(Duration::from_millis(100)).await;
        }
    }
}

impl Owner for SiteOutbox {
    fn env(&self) -> &Env {
        &self.env
    }

    fn site(&self) -> Result<SiteKey> {
        let rows: Vec<NoticeRow> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT key, site, contact, address, text FROM notices ORDER BY seq DESC LIMIT 1",
                None,
            )?
            .to_array()?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("site outbox without notices"))?;
        Ok(SiteKey::parse(&row.site)?)
    }

    fn envelope(&self, seq: i64, _target: Target, site_name: &str) -> Result<Option<Envelope>> {
        let rows: Vec<NoticeRow> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT key, site, contact, address, text FROM notices WHERE seq = ?",
                vec![worker::SqlStorageValue::Integer(seq)],
            )?
            .to_array()?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let contact = match (
            row.contact.as_deref().and_then(ContactChannel::parse),
            row.address,
        ) {
            (Some(channel), Some(address)) => Some(ContactRoute { channel, address }),
            _ => None,
        };
        Ok(Some(Envelope {
            site: SiteKey::parse(&row.site)?,
            site_name: site_name.to_owned(),
            conversation: None,
            page_url: None,
            contact,
            broadcast: None,
            content: match row.key.strip_prefix(EVENT_KEY) {
                Some(_) => {
                    Content::Event(serde_json::from_str(&row.text).map_err(Error::internal)?)
                }
                None => Content::Notice(row.text),
            },
        }))
    }

    fn storage(&self) -> worker::Storage {
        self.state.storage()
    }
}

async fn call(env: &Env, site: &SiteKey, path: &str, notice: &Notice) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(
            serde_json::to_string(notice)
                .map_err(Error::internal)?
                .into(),
        ));
    let stub = env
        .durable_object("SITE_OUTBOX")?
        .id_from_name(site.as_str())?
        .get_stub()?;
    let resp = stub
        .fetch_with_request(Request::new_with_init(
            &format!("https://site-outbox{path}"),
            &init,
        )?)
        .await?;
    if resp.status_code() >= 400 {
        return Err(Error::internal(format!(
            "site outbox answered {}",
            resp.status_code()
        )));
    }
    Ok(resp)
}

/// Queues `text` for a contact (sent once per `key`, with retries).
pub async fn notice(
    env: &Env,
    site: &SiteKey,
    route: &ContactRoute,
    key: &str,
    text: &str,
) -> Result<()> {
    let notice = Notice {
        site: site.clone(),
        key: key.to_owned(),
        target: route.target().as_str(),
        contact: Some(route.clone()),
        text: text.to_owned(),
    };
    call(env, site, "/notice", &notice).await?;
    Ok(())
}

/// Queues a site event for the site's webhook endpoint (once per `id`), if it has one: nothing
/// is queued, and no object called, for a site without webhooks. A failure to queue is
/// logged, never the caller's: the event is a report of what already happened.
pub async fn event(env: &Env, site: &SiteKey, id: String, kind: &str, data: serde_json::Value) {
    let queued: Result<()> = async {
        if !crate::channels::set::get(env, site)
            .await?
            .is_enabled(ChannelKind::Webhook)
        {
            return Ok(());
        }
        let event = crate::channels::SiteEvent {
            id: id.clone(),
            kind: kind.to_owned(),
            at: http::now_ms(),
            data,
        };
        let notice = Notice {
            site: site.clone(),
            key: format!("{EVENT_KEY}{id}"),
            target: Target::Agents(ChannelKind::Webhook).as_str(),
            contact: None,
            text: serde_json::to_string(&event).map_err(Error::internal)?,
        };
        call(env, site, "/notice", &notice).await.map(|_| ())
    }
    .await;
    if let Err(e) = queued {
        worker::console_error!("queueing the {kind} event of site {site}: {e}");
    }
}

/// Sends a test message to `kind`'s agents now and reports what the channel answered.
pub async fn test(
    env: &Env,
    site: &SiteKey,
    kind: ChannelKind,
    text: &str,
) -> Result<ChannelTestResult> {
    let notice = Notice {
        site: site.clone(),
        key: format!(
            "test:{}:{}",
            kind.as_str(),
            hex::encode(crate::random::bytes::<8>())
        ),
        target: Target::Agents(kind).as_str(),
        contact: None,
        text: text.to_owned(),
    };
    let mut resp = call(env, site, "/test", &notice).await?;
    resp.json().await.map_err(Error::internal)
}
