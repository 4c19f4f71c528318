//! A site as the widget sees it — settings, enabled rules, the compiled wake-up spec and its
//! Turnstile widget — cached in the isolate for a few seconds, because the loader's boot
//! script, the iframe page and conversation starts come with many page views. Admin changes
//! invalidate this isolate's entry at once; other isolates catch up within the TTL (the boot
//! script itself is cacheable for a minute).

use crate::error::Result;
use crate::storage::{rules, sites};
use beckon_shared::proto::v1::{SiteConfig, SiteSettings};
use beckon_shared::rules::{wakeup, Rule};
use beckon_shared::SiteKey;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::D1Database;

const TTL_MS: i64 = 10_000;

pub struct SiteBundle {
    pub settings: SiteSettings,
    /// Enabled rules only, in order.
    pub rules: Vec<Rule>,
    /// Public configuration, with the wake-up spec.
    pub config: SiteConfig,
    /// The Turnstile widget visitors must pass before a conversation starts, if any.
    pub turnstile: Option<sites::Turnstile>,
}

impl SiteBundle {
    /// The same site with other settings (a preview's draft): its rules and Turnstile kept.
    pub fn with_settings(&self, settings: SiteSettings) -> SiteBundle {
        let mut config = settings.public_config();
        config.wakeup = self.config.wakeup.clone();
        SiteBundle {
            settings,
            rules: self.rules.clone(),
            config,
            turnstile: self.turnstile.clone(),
        }
    }
}

/// At most this many sites (known or not) per isolate; beyond it the expired go first.
const MAX_ENTRIES: usize = 10_000;

/// Expiry and bundle; `None`: no such site, so a flood of made-up keys costs one D1 read per
/// key and TTL.
type Entry = (i64, Option<Rc<SiteBundle>>);

thread_local! {
    static CACHE: RefCell<HashMap<String, Entry>> = RefCell::new(HashMap::new());
}

/// The site's bundle, from the cache or D1; `None` for an unknown site.
pub async fn get(db: &D1Database, key: &SiteKey, now: i64) -> Result<Option<Rc<SiteBundle>>> {
    let hit = CACHE.with(|c| {
        c.borrow()
            .get(key.as_str())
            .filter(|(exp, _)| *exp > now)
            .map(|(_, b)| b.clone())
    });
    if let Some(hit) = hit {
        return Ok(hit);
    }
    let Some((settings, turnstile)) = sites::with_turnstile(db, key).await? else {
        remember(key, now, None);
        return Ok(None);
    };
    let rules: Vec<Rule> = rules::list(db, key)
        .await?
        .into_iter()
        .filter(|r| r.enabled)
        .collect();
    let mut config = settings.public_config();
    config.wakeup = wakeup::compile(&rules);
    let bundle = Rc::new(SiteBundle {
        settings,
        rules,
        config,
        turnstile,
    });
    remember(key, now, Some(bundle.clone()));
    Ok(Some(bundle))
}

/// The site's bundle, or `site_not_found`.
pub async fn require(db: &D1Database, key: &SiteKey, now: i64) -> Result<Rc<SiteBundle>> {
    get(db, key, now)
        .await?
        .ok_or_else(|| sites::not_found(key))
}

fn remember(key: &SiteKey, now: i64, bundle: Option<Rc<SiteBundle>>) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_ENTRIES {
            c.retain(|_, (exp, _)| *exp > now);
            if c.len() >= MAX_ENTRIES {
                c.clear();
            }
        }
        c.insert(key.to_string(), (now + TTL_MS, bundle));
    });
}

/// Forgets the site after a change (or its creation).
pub fn invalidate(key: &SiteKey) {
    CACHE.with(|c| c.borrow_mut().remove(key.as_str()));
}
