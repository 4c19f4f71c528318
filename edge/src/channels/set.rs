//! A site's channels as relays need them: read from D1 with their secrets opened, and cached
//! in the isolate for a few seconds — every message of every conversation consults them, and
//! most sites change them rarely. A change made through the admin API forgets the entry in
//! that isolate at once; other isolates catch up within [`TTL_MS`] and a read of D1 (a message
//! within [`TTL_MS`] and [`MESSAGE_STALE_MS`], see below). Health is
//! noted in the entry too, so a healthy channel is not re-reported to D1 after every relay.
//!
//! When an entry expires, one caller reads it again while the others go on with the old one
//! (for at most [`STALE_MS`] more, [`freshness`]): the messages of a busy isolate do not all
//! wait for D1, nor all ask it, every [`TTL_MS`]. A message on its way waits for none
//! ([`get_for_message`]): it goes on with a copy expired less than [`MESSAGE_STALE_MS`] ago
//! and has it read again after its answer.

use super::Config;
use crate::error::Result;
use crate::http;
use crate::storage::{self, channels::Unreadable};
use beckon_shared::proto::v1::{ChannelKind, ChannelStatus};
use beckon_shared::SiteKey;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use worker::Env;

/// How long an isolate trusts its copy of a site's channels.
pub const TTL_MS: i64 = 10_000;
/// How long past [`TTL_MS`] an entry still serves while another caller reads it again.
pub const STALE_MS: i64 = 30_000;
/// How long past [`TTL_MS`] an entry serves a message that reads it again after its answer
/// ([`get_for_message`]): short, since the message's relays are queued from it (a channel
/// turned on in another isolate meanwhile gets no row for it).
pub const MESSAGE_STALE_MS: i64 = 5_000;

/// What a caller does with the cached entry that expires at `expires`.
#[derive(Debug, PartialEq)]
pub enum Freshness {
    /// Use it.
    Fresh,
    /// Use it: another caller is reading the site's channels again, or this one will after
    /// its work.
    Stale,
    /// Read them from D1.
    Load,
}

/// [`Freshness`] at `now` of an entry expiring at `expires` (none cached: `None`), while a
/// read of the site's channels is (`reading`) or is not under way, for a caller that reads
/// them again after its work (`later`) or not.
pub fn freshness(expires: Option<i64>, now: i64, reading: bool, later: bool) -> Freshness {
    match expires {
        Some(at) if at > now => Freshness::Fresh,
        Some(at) if reading && at + STALE_MS > now => Freshness::Stale,
        Some(at) if later && at + MESSAGE_STALE_MS > now => Freshness::Stale,
        _ => Freshness::Load,
    }
}

/// One enabled channel whose secrets could be opened.
pub struct Active {
    pub config: Config,
    status: Cell<ChannelStatus>,
}

pub struct SiteChannels {
    /// The site's display name (relays name it).
    pub site_name: String,
    pub active: Vec<Active>,
    /// Enabled channels whose stored secrets cannot be opened (see [`Unreadable::REASON`]).
    pub unreadable: Vec<ChannelKind>,
}

impl SiteChannels {
    pub fn get(&self, kind: ChannelKind) -> Option<&Active> {
        self.active.iter().find(|a| a.config.kind() == kind)
    }

    /// Whether `kind` is enabled (readable or not): relays to it are queued.
    pub fn is_enabled(&self, kind: ChannelKind) -> bool {
        self.get(kind).is_some() || self.unreadable.contains(&kind)
    }

    /// Whether agents hear of new messages outside the inbox: a channel that relays to them
    /// is on and not failing.
    pub fn relays_to_agents(&self) -> bool {
        self.active
            .iter()
            .any(|a| a.config.kind().relays_to_agents() && a.status.get() != ChannelStatus::Failing)
    }

    /// Whether any channel is enabled.
    pub fn any(&self) -> bool {
        !self.active.is_empty() || !self.unreadable.is_empty()
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<String, (i64, Rc<SiteChannels>)>> = RefCell::new(HashMap::new());
    /// Per site, the read of its channels under way (its number): the one whose result is
    /// kept. [`invalidate`] forgets it, so a read that began before an admin change is not.
    static READING: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
    static READS: Cell<u64> = const { Cell::new(0) };
}

/// A read of a site's channels; while it is the site's [`READING`], until it ends however it
/// ends (an error, a dropped future).
struct Reading<'a> {
    site: &'a str,
    number: u64,
}

impl Reading<'_> {
    fn start(site: &str) -> Reading<'_> {
        let number = READS.with(|n| n.replace(n.get() + 1));
        READING.with(|r| r.borrow_mut().insert(site.to_owned(), number));
        Reading { site, number }
    }

    /// Whether this is still the site's read whose result is kept.
    fn current(&self) -> bool {
        READING.with(|r| r.borrow().get(self.site) == Some(&self.number))
    }
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        if self.current() {
            READING.with(|r| r.borrow_mut().remove(self.site));
        }
    }
}

/// The site's channels, from the cache or D1.
pub async fn get(env: &Env, site: &SiteKey) -> Result<Rc<SiteChannels>> {
    Ok(cached_or_read(env, site, false).await?.0)
}

/// The site's channels for a message on its way: a copy expired less than
/// [`MESSAGE_STALE_MS`] ago serves at once, and `true` beside it asks the caller to read them
/// again ([`get`]) once its answer is out. Only an isolate with no copy, or an older one, reads
/// D1 first.
pub async fn get_for_message(env: &Env, site: &SiteKey) -> Result<(Rc<SiteChannels>, bool)> {
    cached_or_read(env, site, true).await
}

/// The cached entry as [`freshness`] allows (and whether it has expired), or one read now.
async fn cached_or_read(
    env: &Env,
    site: &SiteKey,
    later: bool,
) -> Result<(Rc<SiteChannels>, bool)> {
    let now = http::now_ms();
    let cached = CACHE.with(|c| c.borrow().get(site.as_str()).cloned());
    let under_way = READING.with(|r| r.borrow().contains_key(site.as_str()));
    match (
        freshness(cached.as_ref().map(|(at, _)| *at), now, under_way, later),
        cached,
    ) {
        (Freshness::Fresh, Some((_, s))) => return Ok((s, false)),
        (Freshness::Stale, Some((_, s))) => return Ok((s, !under_way)),
        _ => {}
    }
    Ok((read(env, site).await?, false))
}

/// Reads the site's channels from D1, and caches them unless a change came meanwhile.
async fn read(env: &Env, site: &SiteKey) -> Result<Rc<SiteChannels>> {
    let reading = Reading::start(site.as_str());
    let db = env.d1("DB")?;
    let key = http::secret(env, "SECRETS_KEY")?;
    let mut active = Vec::new();
    let mut unreadable = Vec::new();
    for entry in storage::channels::list(&db, site, &key).await? {
        match entry {
            Ok(c) if c.enabled => active.push(Active {
                config: c.config,
                status: Cell::new(c.status),
            }),
            Ok(_) => {}
            Err(Unreadable {
                kind,
                enabled: true,
                ..
            }) => unreadable.push(kind),
            Err(_) => {}
        }
    }
    let site_name = storage::sites::get(&db, site)
        .await?
        .map_or_else(|| site.to_string(), |s| s.name);
    let entry = Rc::new(SiteChannels {
        site_name,
        active,
        unreadable,
    });
    // A change made meanwhile may not be in what was read (nor is a later read's result
    // replaced by an earlier one's): that is not kept.
    if reading.current() {
        CACHE.with(|c| {
            c.borrow_mut()
                .insert(site.to_string(), (http::now_ms() + TTL_MS, entry.clone()))
        });
    }
    Ok(entry)
}

/// Forgets the site's channels in this isolate (after an admin change).
pub fn invalidate(site: &SiteKey) {
    READING.with(|r| r.borrow_mut().remove(site.as_str()));
    CACHE.with(|c| c.borrow_mut().remove(site.as_str()));
}

/// Records a channel's health in D1 when it changes: `None` is healthy, `Some(reason)`
/// failing. A failure is always written (its reason may be new).
pub async fn report(env: &Env, site: &SiteKey, kind: ChannelKind, error: Option<&str>) {
    let channels = get(env, site).await.ok();
    let active = channels.as_ref().and_then(|c| c.get(kind));
    if error.is_none() && active.is_some_and(|a| a.status.get() == ChannelStatus::Ok) {
        return;
    }
    let result = async {
        storage::channels::report(&env.d1("DB")?, site, kind, error, http::now_ms()).await
    }
    .await;
    match result {
        Ok(()) => {
            if let Some(a) = active {
                a.status.set(match error {
                    None => ChannelStatus::Ok,
                    Some(_) => ChannelStatus::Failing,
                });
            }
        }
        Err(e) => worker::console_error!("reporting channel health failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_entry_serves_only_while_another_caller_reads_and_not_for_long() {
        assert_eq!(freshness(Some(1_000), 999, false, false), Freshness::Fresh);
        assert_eq!(freshness(Some(1_000), 999, true, false), Freshness::Fresh);
        assert_eq!(freshness(Some(1_000), 1_000, false, false), Freshness::Load);
        assert_eq!(freshness(Some(1_000), 1_000, true, false), Freshness::Stale);
        assert_eq!(
            freshness(Some(1_000), 1_000 + STALE_MS - 1, true, false),
            Freshness::Stale
        );
        assert_eq!(
            freshness(Some(1_000), 1_000 + STALE_MS, true, false),
            Freshness::Load
        );
        assert_eq!(freshness(None, 0, true, false), Freshness::Load);
    }

    #[test]
    fn a_message_goes_on_with_an_expired_entry_and_reads_first_only_without_a_recent_one() {
        // It reads them again after its answer (the caller's part), not before.
        assert_eq!(freshness(Some(1_000), 999, false, true), Freshness::Fresh);
        assert_eq!(freshness(Some(1_000), 1_000, false, true), Freshness::Stale);
        assert_eq!(
            freshness(Some(1_000), 1_000 + MESSAGE_STALE_MS - 1, false, true),
            Freshness::Stale
        );
        // Too old a copy, or none (a new isolate): D1 first.
        assert_eq!(
            freshness(Some(1_000), 1_000 + MESSAGE_STALE_MS, false, true),
            Freshness::Load
        );
        // While another caller reads, the longer window holds for a message too.
        assert_eq!(
            freshness(Some(1_000), 1_000 + MESSAGE_STALE_MS, true, true),
            Freshness::Stale
        );
        assert_eq!(freshness(None, 0, false, true), Freshness::Load);
    }
}
