//! The `broadcasts`, `broadcast_recipients` and `broadcast_files` tables: a broadcast as
//! accepted, one row per recipient with how far their message got (`stage`), and the files
//! broadcasts carry.

use super::{stmt, Arg};
use crate::broadcast::plan::Recipient;
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{
    Attachment, BroadcastChannel, ChannelFunnel, Funnel, RecipientResult,
};
use beckon_shared::{BroadcastId, ConversationId, SiteKey, VisitorId};
use serde::Deserialize;
use worker::D1Database;

/// A recipient's progress, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Queued = 0,
    Sent = 1,
    Delivered = 2,
    Read = 3,
    Replied = 4,
    Failed = -1,
    OptedOut = -2,
    Cancelled = -3,
}

impl Stage {
    /// The stage stored as `code` (an unknown code reads as queued).
    pub fn from_code(code: i64) -> Stage {
        match code {
            1 => Stage::Sent,
            2 => Stage::Delivered,
            3 => Stage::Read,
            4 => Stage::Replied,
            -1 => Stage::Failed,
            -2 => Stage::OptedOut,
            -3 => Stage::Cancelled,
            _ => Stage::Queued,
        }
    }

    fn name(stage: i64) -> &'static str {
        match stage {
            0 => "queued",
            1 => "sent",
            2 => "delivered",
            3 => "read",
            4 => "replied",
            -1 => "failed",
            -2 => "opted_out",
            _ => "cancelled",
        }
    }
}

/// A claim older than this is taken to be abandoned (its sender stopped) and is taken again.
pub const CLAIM_STALE_MS: i64 = 60_000;
/// Recipient rows per insert statement (D1 binds at most 100 parameters).
const ROWS_PER_INSERT: usize = 10;
const STATEMENTS_PER_BATCH: usize = 50;

#[derive(Clone, Debug, Deserialize)]
pub struct Row {
    pub id: String,
    pub site_key: String,
    pub name: String,
    pub spec: String,
    pub status: String,
    pub created_at: i64,
    pub send_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub recipients: i64,
    /// The number of the tick that is the broadcast's sender ([`next_tick`]); a tick with
    /// another number stops.
    #[serde(default)]
    pub tick_gen: i64,
    /// When (by the clock of schedules, ms) that tick is expected to have looked in at the
    /// latest ([`tick_holds`]); the watch queues one in its place only after it.
    #[serde(default)]
    pub tick_due: i64,
}

/// The status of a broadcast whose recipients are still being written: nothing sends it, lists
/// and reads do not show it.
const PREPARING: &str = "preparing";

/// Stores a broadcast and its recipients. Many recipients take several D1 batches, and a batch
/// is its own transaction: the broadcast is written [`PREPARING`] and gets its status
/// (`row.status`) in the last batch, with the last recipients — a store that fails half-way
/// sends nobody (and is taken away, if D1 lets it). `fail_last`: tests only — the last batch
/// fails, as D1 may, after the ones before were written.
pub async fn insert(
    db: &D1Database,
    row: &Row,
    recipients: &[Recipient],
    now: i64,
    fail_last: bool,
) -> Result<()> {
    let written = write(db, row, recipients, now, fail_last).await;
    // The last batch may have gone in though its answer was lost: then the broadcast stands
    // (it may be sending already), and so does the answer.
    if written.is_err()
        && by_id(db, &row.id)
            .await
            .is_ok_and(|b| b.is_some_and(|b| b.status != PREPARING))
    {
        return Ok(());
    }
    if written.is_err() {
        let undo = delete_where(db, "id = ?1", &[Arg::Str(&row.id)]).await;
        if let Err(e) = undo {
            worker::console_error!("broadcast {}: taking away what was stored: {e}", row.id);
        }
    }
    written
}

/// Takes away broadcasts still [`PREPARING`] that were begun before `before` (real time, ms)
/// — a store that failed half-way and whose undo failed too — with their recipients; how
/// many. Nothing ever sends or shows them; this gives their rows back.
pub async fn forget_unfinished(db: &D1Database, before: i64) -> Result<usize> {
    let filter = "status = ?1 AND created_at < ?2";
    delete_where(db, filter, &[Arg::Str(PREPARING), Arg::Int(before)]).await
}

/// Deletes the broadcasts `filter` (SQL over `broadcasts`, with `args`) selects, and their
/// recipients, in one transaction; how many broadcasts.
async fn delete_where(db: &D1Database, filter: &str, args: &[Arg<'_>]) -> Result<usize> {
    let gone = [
        stmt(
            db,
            &format!(
                "DELETE FROM broadcast_recipients WHERE broadcast_id IN
                   (SELECT id FROM broadcasts WHERE {filter})"
            ),
            args,
        )?,
        stmt(
            db,
            &format!("DELETE FROM broadcasts WHERE {filter} RETURNING id"),
            args,
        )?,
    ];
    let results = db.batch(gone.to_vec()).await?;
    let ids: Vec<serde_json::Value> = match results.get(1) {
        Some(r) => r.results()?,
        None => Vec::new(),
    };
    Ok(ids.len())
}

async fn write(
    db: &D1Database,
    row: &Row,
    recipients: &[Recipient],
    now: i64,
    fail_last: bool,
) -> Result<()> {
    let mut statements = vec![stmt(
        db,
        "INSERT INTO broadcasts
           (id, site_key, name, spec, status, created_at, send_at, recipients, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            Arg::Str(&row.id),
            Arg::Str(&row.site_key),
            Arg::Str(&row.name),
            Arg::Str(&row.spec),
            Arg::Str(PREPARING),
            Arg::Int(row.created_at),
            Arg::Int(row.send_at),
            Arg::Int(row.recipients),
            Arg::OptInt(row.started_at),
        ],
    )?];
    let parameters: Vec<String> = recipients
        .iter()
        .map(|r| serde_json::to_string(&r.parameters).map_err(Error::internal))
        .collect::<Result<_>>()?;
    for (chunk, params) in recipients
        .chunks(ROWS_PER_INSERT)
        .zip(parameters.chunks(ROWS_PER_INSERT))
    {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 8;
                format!(
                    "(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                )
            })
            .collect();
        let mut args = Vec::with_capacity(chunk.len() * 8);
        for (r, p) in chunk.iter().zip(params) {
            args.extend([
                Arg::Str(&row.id),
                Arg::Str(r.channel.as_str()),
                Arg::Str(&r.address),
                Arg::Str(&r.contact_id),
                Arg::Str(&r.body),
                Arg::Str(p),
                Arg::Int(r.due_at),
                Arg::Int(now),
            ]);
        }
        statements.push(stmt(
            db,
            &format!(
                "INSERT INTO broadcast_recipients (broadcast_id, channel, address, contact_id, body,
                   parameters, due_at, updated_at) VALUES {}",
                values.join(", ")
            ),
            &args,
        )?);
    }
    statements.push(stmt(
        db,
        "UPDATE broadcasts SET status = ?2 WHERE id = ?1",
        &[Arg::Str(&row.id), Arg::Str(&row.status)],
    )?);
    let batches = statements.len().div_ceil(STATEMENTS_PER_BATCH);
    for (i, chunk) in statements.chunks(STATEMENTS_PER_BATCH).enumerate() {
        if fail_last && i + 1 == batches {
            return Err(Error::internal(
                "the last batch failed (TEST_BROADCAST_STORE_FAILS)",
            ));
        }
        db.batch(chunk.to_vec()).await?;
    }
    Ok(())
}

pub async fn get(db: &D1Database, site: &SiteKey, id: &str) -> Result<Option<Row>> {
    Ok(stmt(
        db,
        "SELECT * FROM broadcasts WHERE id = ?1 AND site_key = ?2 AND status != ?3",
        &[Arg::Str(id), Arg::Str(site.as_str()), Arg::Str(PREPARING)],
    )?
    .first(None)
    .await?)
}

/// The broadcast with this id, whatever its site (the sender's view).
pub async fn by_id(db: &D1Database, id: &str) -> Result<Option<Row>> {
    Ok(stmt(
        db,
        "SELECT * FROM broadcasts WHERE id = ?1",
        &[Arg::Str(id)],
    )?
    .first(None)
    .await?)
}

/// For a message of broadcast `id` about to go to `recipient` — (contact id if known, channel,
/// address) —: whether the broadcast was cancelled, and whether the recipient opted out (as
/// [`super::contacts::opted_out_among`] reads it), in one round trip.
pub async fn cancelled_or_opted_out(
    db: &D1Database,
    id: &str,
    site: &SiteKey,
    recipient: (Option<&str>, &str, &str),
) -> Result<(bool, bool)> {
    #[derive(Deserialize)]
    struct Now {
        cancelled: i64,
        out: i64,
    }
    let (contact, channel, address) = recipient;
    let now: Option<Now> = stmt(
        db,
        &format!(
            "WITH r(contact, channel, address) AS (VALUES (?2, ?3, ?4))
             SELECT EXISTS (SELECT 1 FROM broadcasts WHERE id = ?5 AND status = 'cancelled')
                      AS cancelled,
                    EXISTS ({}) AS out",
            super::contacts::OPTED_OUT_OF_R
        ),
        &[
            Arg::Str(site.as_str()),
            Arg::OptStr(contact),
            Arg::Str(channel),
            Arg::Str(address),
            Arg::Str(id),
        ],
    )?
    .first(None)
    .await?;
    Ok(now.map_or((false, false), |n| (n.cancelled != 0, n.out != 0)))
}

/// Newest first.
pub async fn list(db: &D1Database, site: &SiteKey, limit: i64) -> Result<Vec<Row>> {
    Ok(stmt(
        db,
        "SELECT * FROM broadcasts WHERE site_key = ?1 AND status != ?3
         ORDER BY created_at DESC LIMIT ?2",
        &[
            Arg::Str(site.as_str()),
            Arg::Int(limit),
            Arg::Str(PREPARING),
        ],
    )?
    .all()
    .await?
    .results()?)
}

/// The statement that moves the broadcast from one of `from` (our own constants) to `to`,
/// returning its id if it moved.
fn status_change(
    db: &D1Database,
    id: &str,
    from: &[&str],
    to: &str,
    now: i64,
) -> Result<worker::D1PreparedStatement> {
    let list = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    stmt(
        db,
        &format!(
            "UPDATE broadcasts SET status = ?2,
               started_at = CASE WHEN ?2 = 'running' THEN COALESCE(started_at, ?3) ELSE started_at END,
               finished_at = CASE WHEN ?2 IN ('done', 'cancelled') THEN ?3 ELSE finished_at END
             WHERE id = ?1 AND status IN ({list}) RETURNING id"
        ),
        &[Arg::Str(id), Arg::Str(to), Arg::Int(now)],
    )
}

/// Makes a new tick the broadcast's sender, expected by `due` (by the clock of schedules, ms):
/// the tick before it, if still under way, stops at its next look ([`tick_holds`]). The new
/// tick's number; none if the broadcast is gone.
pub async fn next_tick(db: &D1Database, id: &str, due: i64) -> Result<Option<i64>> {
    Ok(stmt(
        db,
        "UPDATE broadcasts SET tick_gen = tick_gen + 1, tick_due = ?2 WHERE id = ?1
         RETURNING tick_gen",
        &[Arg::Str(id), Arg::Int(due)],
    )?
    .first(Some("tick_gen"))
    .await?)
}

/// Whether tick `gen` is still the broadcast's sender: if so, the broadcast's status, and the
/// tick is expected to look in again by `due` (by the clock of schedules, ms); none if another
/// tick took over (or the broadcast is gone).
pub async fn tick_holds(db: &D1Database, id: &str, gen: i64, due: i64) -> Result<Option<String>> {
    Ok(stmt(
        db,
        "UPDATE broadcasts SET tick_due = ?3 WHERE id = ?1 AND tick_gen = ?2 RETURNING status",
        &[Arg::Str(id), Arg::Int(gen), Arg::Int(due)],
    )?
    .first(Some("status"))
    .await?)
}

/// Moves the broadcast from one of `from` to `to`; whether it moved.
pub async fn set_status(
    db: &D1Database,
    id: &str,
    from: &[&str],
    to: &str,
    now: i64,
) -> Result<bool> {
    let moved: Option<String> = status_change(db, id, from, to, now)?
        .first(Some("id"))
        .await?;
    Ok(moved.is_some())
}

/// Cancels the broadcast if it is in one of `from` — or done posting while some of its
/// messages still wait for their channel (a retry) —, and with it, in the same transaction,
/// every recipient not posted yet (without a reason: one whose post was under way is settled
/// by what its conversation reports, see `POSTED`; a send after this, a first attempt or a
/// retry, is refused, `Delivery::broadcast_still_wanted`); whether it was cancelled.
pub async fn cancel(db: &D1Database, id: &str, from: &[&str], now: i64) -> Result<bool> {
    let list = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let results = db
        .batch(vec![
            stmt(
                db,
                &format!(
                    "UPDATE broadcasts SET status = 'cancelled', finished_at = ?2
                     WHERE id = ?1 AND (status IN ({list}) OR (status = 'done' AND EXISTS (
                       SELECT 1 FROM broadcast_recipients WHERE broadcast_id = ?1 AND stage = 0)))
                     RETURNING id"
                ),
                &[Arg::Str(id), Arg::Int(now)],
            )?,
            stmt(
                db,
                "UPDATE broadcast_recipients SET stage = -3, reason = NULL, updated_at = ?2
                 WHERE broadcast_id = ?1 AND stage = 0 AND conversation_id IS NULL
                   AND EXISTS (SELECT 1 FROM broadcasts WHERE id = ?1 AND status = 'cancelled')",
                &[Arg::Str(id), Arg::Int(now)],
            )?,
        ])
        .await?;
    // (The status change's `RETURNING id`: a row if it moved.)
    let moved: Vec<serde_json::Value> = match results.first() {
        Some(r) => r.results()?,
        None => Vec::new(),
    };
    Ok(!moved.is_empty())
}

/// A recipient taken for sending.
#[derive(Clone, Debug, Deserialize)]
pub struct Claimed {
    pub channel: String,
    pub address: String,
    pub contact_id: String,
    pub body: String,
    pub parameters: String,
    pub due_at: i64,
}

/// Takes up to `limit` recipients due by `now` that nobody is sending (or whose sender
/// stopped more than [`CLAIM_STALE_MS`] ago), oldest first.
pub async fn claim(db: &D1Database, id: &str, now: i64, limit: i64) -> Result<Vec<Claimed>> {
    Ok(stmt(
        db,
        "UPDATE broadcast_recipients SET claimed_at = ?2
         WHERE rowid IN (SELECT rowid FROM broadcast_recipients
           WHERE broadcast_id = ?1 AND stage = 0 AND conversation_id IS NULL AND due_at <= ?2
             AND (claimed_at IS NULL OR claimed_at < ?3)
           ORDER BY due_at, rowid LIMIT ?4)
         RETURNING channel, address, contact_id, body, parameters, due_at",
        &[
            Arg::Str(id),
            Arg::Int(now),
            Arg::Int(now - CLAIM_STALE_MS),
            Arg::Int(limit),
        ],
    )?
    .all()
    .await?
    .results()?)
}

/// Gives back the claims on recipients not sent yet: every one (the broadcast was paused), or
/// those of the claim made at `claimed_at` (a tick that stopped, replaced).
pub async fn release(db: &D1Database, id: &str, claimed_at: Option<i64>) -> Result<()> {
    stmt(
        db,
        "UPDATE broadcast_recipients SET claimed_at = NULL
         WHERE broadcast_id = ?1 AND stage = 0 AND conversation_id IS NULL
           AND (?2 IS NULL OR claimed_at = ?2)",
        &[Arg::Str(id), Arg::OptInt(claimed_at)],
    )?
    .run()
    .await?;
    Ok(())
}

/// When the next recipient not yet posted is due (none: every one was posted or stopped).
pub async fn next_due(db: &D1Database, id: &str) -> Result<Option<i64>> {
    Ok(stmt(
        db,
        "SELECT MIN(due_at) AS due FROM broadcast_recipients
         WHERE broadcast_id = ?1 AND stage = 0 AND conversation_id IS NULL",
        &[Arg::Str(id)],
    )?
    .first::<Option<i64>>(Some("due"))
    .await?
    .flatten())
}

/// The conversations holding a posted message whose progress has not been reported yet
/// (still queued there), changed after `oldest`, each with when its row last changed: the
/// longest waiting first, from after `after` (a `(since, conversation)` of an earlier call)
/// on; at most `limit`.
pub async fn unreported(
    db: &D1Database,
    id: &str,
    oldest: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<(ConversationId, i64)>> {
    #[derive(Deserialize)]
    struct Waiting {
        conversation_id: String,
        since: i64,
    }
    let (since, conversation) = after.unwrap_or((oldest, ""));
    let rows: Vec<Waiting> = stmt(
        db,
        "SELECT conversation_id, MIN(updated_at) AS since FROM broadcast_recipients
         WHERE broadcast_id = ?1 AND stage = 0 AND conversation_id IS NOT NULL
           AND updated_at > ?2
         GROUP BY conversation_id
         HAVING since > ?3 OR (since = ?3 AND conversation_id > ?4)
         ORDER BY since, conversation_id LIMIT ?5",
        &[
            Arg::Str(id),
            Arg::Int(oldest),
            Arg::Int(since),
            Arg::Str(conversation),
            Arg::Int(limit),
        ],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter()
        .map(|r| Ok((ConversationId::parse(&r.conversation_id)?, r.since)))
        .collect()
}

/// The broadcasts a watch should be looking after: running ones, scheduled ones due by
/// `now`, and those with a message posted since `oldest` whose conversation has not reported
/// it yet (migrations 0036 and 0034 index exactly those rows; SQLite would rather walk every
/// recipient ever posted by another index). At most `limit`, a random choice if there are
/// more (the next call chooses again).
pub async fn watched(
    db: &D1Database,
    now: i64,
    oldest: i64,
    limit: i64,
) -> Result<Vec<BroadcastId>> {
    #[derive(Deserialize)]
    struct Watched {
        id: String,
    }
    let rows: Vec<Watched> = stmt(
        db,
        "SELECT id FROM (
           SELECT id FROM broadcasts
           WHERE status IN ('scheduled', 'running') AND (status = 'running' OR send_at <= ?1)
           UNION
           SELECT broadcast_id FROM broadcast_recipients
             INDEXED BY broadcast_recipients_unreported
           WHERE stage = 0 AND conversation_id IS NOT NULL AND updated_at > ?2
         ) ORDER BY random() LIMIT ?3",
        &[Arg::Int(now), Arg::Int(oldest), Arg::Int(limit)],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter()
        .map(|r| Ok(BroadcastId::parse(&r.id)?))
        .collect()
}

/// Records what became of a batch of recipients, in one D1 batch.
pub async fn record<'a>(
    db: &D1Database,
    id: &str,
    outcomes: impl Iterator<Item = &'a crate::broadcast::send::Outcome>,
    now: i64,
) -> Result<()> {
    use crate::broadcast::send::Outcome;
    let mut statements = Vec::new();
    for o in outcomes {
        statements.push(match o {
            Outcome::Posted {
                channel,
                address,
                conversation,
                stage,
            } => stmt(
                db,
                POSTED,
                &[
                    Arg::Str(id),
                    Arg::Str(channel),
                    Arg::Str(address),
                    Arg::Str(conversation.as_str()),
                    Arg::Int(*stage as i64),
                    Arg::Int(now),
                ],
            )?,
            Outcome::Stopped {
                channel,
                address,
                stage,
                reason,
            } => stmt(
                db,
                STOPPED,
                &[
                    Arg::Str(id),
                    Arg::Str(channel),
                    Arg::Str(address),
                    Arg::Int(*stage as i64),
                    Arg::Str(reason),
                    Arg::Int(now),
                ],
            )?,
        });
    }
    if !statements.is_empty() {
        db.batch(statements).await?;
    }
    Ok(())
}

// A recipient cancelled with the broadcast (stage -3 without a reason: `cancel`) while their
// post was under way is not settled by the cancel: what their conversation reports settles
// them — sent, or cancelled with the reason when their channel's send was refused for it —
// and reports and the post's record may come in either order. So the record takes such a
// recipient back to queued (a report that came first already moved them on, and is kept),
// and every report may move them from there. One cancelled with a reason (their conversation
// or contact deleted, or the send refused) was not sent.
const POSTED: &str = "UPDATE broadcast_recipients SET conversation_id = ?4,
   stage = CASE WHEN stage IN (-1, -2) OR (stage = -3 AND reason IS NOT NULL) THEN stage
                ELSE MAX(stage, ?5) END, updated_at = ?6
 WHERE broadcast_id = ?1 AND channel = ?2 AND address = ?3";

/// Ends a recipient not sent: queued, or cancelled without a reason (see `POSTED`).
const STOPPED: &str = "UPDATE broadcast_recipients SET stage = ?4, reason = ?5, updated_at = ?6
 WHERE broadcast_id = ?1 AND channel = ?2 AND address = ?3
   AND (stage = 0 OR (stage = -3 AND reason IS NULL))";

/// Moves a posted recipient forward (never back): sent, delivered, read, replied; or failed
/// (with `reason`) if it was not delivered yet; or cancelled or opted out (with `reason`) if
/// it was not sent yet.
pub async fn advance(
    db: &D1Database,
    id: &str,
    (channel, address): (&str, &str),
    stage: Stage,
    reason: Option<&str>,
    now: i64,
) -> Result<()> {
    let sql = match stage {
        Stage::Failed => {
            "UPDATE broadcast_recipients SET stage = ?4, reason = ?5, updated_at = ?6
             WHERE broadcast_id = ?1 AND channel = ?2 AND address = ?3
               AND (stage IN (0, 1) OR (stage = -3 AND reason IS NULL))"
        }
        // Only one not sent yet (its conversation was deleted, the broadcast was cancelled or
        // its person said STOP while a channel's retry was due).
        Stage::Cancelled | Stage::OptedOut => STOPPED,
        // Also past a send a stopped instance cut short ("unknown"), which the channel's
        // status since showed to have arrived (`Outbox::arrived_after_all`).
        _ => {
            "UPDATE broadcast_recipients SET stage = ?4, updated_at = ?6,
               reason = CASE WHEN stage < 0 THEN NULL ELSE reason END
             WHERE broadcast_id = ?1 AND channel = ?2 AND address = ?3
               AND ((stage >= 0 AND stage < ?4) OR (stage = -1 AND reason IN (?7, ?8))
                    OR (stage = -3 AND reason IS NULL))"
        }
    };
    let mut args = vec![
        Arg::Str(id),
        Arg::Str(channel),
        Arg::Str(address),
        Arg::Int(stage as i64),
        Arg::OptStr(reason),
        Arg::Int(now),
    ];
    if !matches!(stage, Stage::Failed | Stage::Cancelled | Stage::OptedOut) {
        args.extend(crate::outbox::ARRIVAL_UNKNOWN.map(Arg::Str));
    }
    stmt(db, sql, &args)?.run().await?;
    Ok(())
}

/// Credits goal `name` (from `Beckon.track`) to the broadcast this conversation's person
/// answered last, once per conversation and name (the claim `goal_credits` keeps, capped like
/// a rule's); the broadcast's id if this request counted it.
pub async fn goal(
    db: &D1Database,
    conversation: &ConversationId,
    name: &str,
    value: f64,
    now: i64,
) -> Result<Option<String>> {
    let answered: Option<String> = stmt(
        db,
        "SELECT broadcast_id FROM broadcast_recipients WHERE conversation_id = ?1 AND stage = 4
         ORDER BY updated_at DESC LIMIT 1",
        &[Arg::Str(conversation.as_str())],
    )?
    .first(Some("broadcast_id"))
    .await?;
    let Some(broadcast) = answered else {
        return Ok(None);
    };
    let token = crate::random::hex_id("g");
    let conv = conversation.as_str();
    let claim = super::rules::goal_claim(db, conv, name, &token, (value, now))?;
    let credit = stmt(
        db,
        "UPDATE broadcast_recipients SET goals = goals + 1, goal_value = goal_value + ?3
         WHERE broadcast_id = ?1 AND conversation_id = ?2
           AND EXISTS (SELECT 1 FROM goal_credits WHERE conversation_id = ?2 AND name = ?4 AND token = ?5)",
        &[
            Arg::Str(&broadcast),
            Arg::Str(conv),
            Arg::Float(value),
            Arg::Str(name),
            Arg::Str(&token),
        ],
    )?;
    let results = db.batch(vec![claim, credit]).await?;
    Ok(super::rules::last_changed(&results)?.then_some(broadcast))
}

/// Counts `n` recipients at `stage` (of whom `goals` reached a goal worth `value`) into `f`.
pub(crate) fn count(f: &mut Funnel, stage: i64, n: i64, goals: i64, value: f64) {
    let n = n.max(0) as u32;
    f.recipients += n;
    f.goals += goals.max(0) as u32;
    f.goal_value += value;
    match stage {
        0 => f.queued += n,
        -1 => f.failed += n,
        -2 => f.opted_out += n,
        -3 => f.cancelled += n,
        s => {
            f.sent += n;
            if s >= 2 {
                f.delivered += n;
            }
            if s >= 3 {
                f.read += n;
            }
            if s >= 4 {
                f.replied += n;
            }
        }
    }
}

/// The funnel per channel and in all.
pub async fn funnel(db: &D1Database, id: &str) -> Result<(Funnel, Vec<ChannelFunnel>)> {
    #[derive(Deserialize)]
    struct R {
        channel: String,
        stage: i64,
        n: i64,
        goals: i64,
        value: f64,
    }
    let rows: Vec<R> = stmt(
        db,
        "SELECT channel, stage, COUNT(*) AS n, SUM(goals > 0) AS goals, SUM(goal_value) AS value
         FROM broadcast_recipients WHERE broadcast_id = ?1 GROUP BY channel, stage",
        &[Arg::Str(id)],
    )?
    .all()
    .await?
    .results()?;
    let mut total = Funnel::default();
    let mut channels: Vec<ChannelFunnel> = Vec::new();
    for r in rows {
        let Some(channel) = BroadcastChannel::parse(&r.channel) else {
            continue;
        };
        let i = match channels.iter().position(|c| c.channel == channel) {
            Some(i) => i,
            None => {
                channels.push(ChannelFunnel {
                    channel,
                    funnel: Funnel::default(),
                });
                channels.len() - 1
            }
        };
        for f in [&mut total, &mut channels[i].funnel] {
            count(f, r.stage, r.n, r.goals, r.value);
        }
    }
    channels.sort_by_key(|c| c.channel.as_str());
    Ok((total, channels))
}

/// Every recipient's result, in the order they were planned.
pub async fn results(db: &D1Database, id: &str) -> Result<Vec<RecipientResult>> {
    #[derive(Deserialize)]
    struct R {
        contact_id: String,
        channel: String,
        address: String,
        stage: i64,
        reason: Option<String>,
        conversation_id: Option<String>,
        due_at: i64,
    }
    let rows: Vec<R> = stmt(
        db,
        "SELECT contact_id, channel, address, stage, reason, conversation_id, due_at
         FROM broadcast_recipients WHERE broadcast_id = ?1 ORDER BY rowid",
        &[Arg::Str(id)],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter()
        // A deleted contact's row counts in the totals but is no one's to list.
        .filter(|r| !r.contact_id.is_empty())
        .filter_map(|r| {
            let channel = BroadcastChannel::parse(&r.channel)?;
            Some(Ok(RecipientResult {
                contact_id: match VisitorId::parse(&r.contact_id) {
                    Ok(v) => v,
                    Err(e) => return Some(Err(e.into())),
                },
                channel,
                address: r.address,
                status: Stage::name(r.stage).to_owned(),
                reason: r.reason,
                conversation_id: r
                    .conversation_id
                    .and_then(|c| ConversationId::parse(&c).ok()),
                due_at: r.due_at,
            }))
        })
        .collect()
}

/// Keeps a file uploaded for broadcasts.
pub async fn insert_file(
    db: &D1Database,
    site: &SiteKey,
    attachment: &Attachment,
    now: i64,
) -> Result<()> {
    stmt(
        db,
        "INSERT INTO broadcast_files (id, site_key, attachment, created_at) VALUES (?1, ?2, ?3, ?4)",
        &[
            Arg::Str(attachment.id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Str(&serde_json::to_string(attachment).map_err(Error::internal)?),
            Arg::Int(now),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// A file uploaded for broadcasts of `site`.
pub async fn file(db: &D1Database, site: &SiteKey, id: &str) -> Result<Option<Attachment>> {
    let raw: Option<String> = stmt(
        db,
        "SELECT attachment FROM broadcast_files WHERE id = ?1 AND site_key = ?2",
        &[Arg::Str(id), Arg::Str(site.as_str())],
    )?
    .first(Some("attachment"))
    .await?;
    raw.map(|r| serde_json::from_str(&r).map_err(Error::internal))
        .transpose()
}

/// The file_id Telegram gave broadcast file `id` when it was first uploaded, if it was.
pub async fn telegram_file(db: &D1Database, id: &str) -> Result<Option<String>> {
    Ok(stmt(
        db,
        "SELECT telegram_file_id FROM broadcast_files WHERE id = ?1",
        &[Arg::Str(id)],
    )?
    .first::<Option<String>>(Some("telegram_file_id"))
    .await?
    .flatten())
}

/// Keeps the file_id of broadcast file `id`: the first one Telegram gave, or — `replace` — a
/// new one for an id Telegram no longer knew.
pub async fn set_telegram_file(
    db: &D1Database,
    id: &str,
    file_id: &str,
    replace: bool,
) -> Result<()> {
    stmt(
        db,
        "UPDATE broadcast_files SET telegram_file_id = ?2
         WHERE id = ?1 AND (telegram_file_id IS NULL OR ?3 = 1)",
        &[
            Arg::Str(id),
            Arg::Str(file_id),
            Arg::Int(i64::from(replace)),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// The time zones of these contacts (those without one are left out).
pub async fn zones(
    db: &D1Database,
    contacts: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    #[derive(Deserialize)]
    struct Zone {
        id: String,
        time_zone: String,
    }
    let mut out = std::collections::HashMap::new();
    for chunk in contacts.chunks(90) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
        let args: Vec<Arg> = chunk.iter().map(|c| Arg::Str(c)).collect();
        let rows: Vec<Zone> = stmt(
            db,
            &format!(
                "SELECT id, time_zone FROM visitors WHERE id IN ({}) AND time_zone IS NOT NULL",
                marks.join(", ")
            ),
            &args,
        )?
        .all()
        .await?
        .results()?;
        out.extend(rows.into_iter().map(|z| (z.id, z.time_zone)));
    }
    Ok(out)
}

/// Puts these claimed recipients back, due later: `(channel, address, due_at)`.
pub async fn defer(db: &D1Database, id: &str, later: &[(&str, &str, i64)]) -> Result<()> {
    let statements = later
        .iter()
        .map(|(channel, address, due)| {
            stmt(
                db,
                "UPDATE broadcast_recipients SET due_at = ?4, claimed_at = NULL
                 WHERE broadcast_id = ?1 AND channel = ?2 AND address = ?3 AND stage = 0",
                &[
                    Arg::Str(id),
                    Arg::Str(channel),
                    Arg::Str(address),
                    Arg::Int(*due),
                ],
            )
        })
        .collect::<Result<Vec<_>>>()?;
    if !statements.is_empty() {
        db.batch(statements).await?;
    }
    Ok(())
}
