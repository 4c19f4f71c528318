//! Proactive rules inside the app: the rules' [`Context`] built from the loader's signals and
//! the app's own environment, and the visitor's teaser caps (what was shown, dismissed) kept
//! in this iframe's storage — localStorage per visitor, sessionStorage per session. The
//! decision itself is [`beckon_shared::rules::choose`].

use beckon_shared::rules::{choose, Caps, Context, DeviceKind, Rule};
use beckon_shared::{RuleId, SiteKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What the loader observed on the host page (short names: sent every second).
#[derive(
    Clone, Debug, Default, PartialEq, Serialize, Deserialize, beckon_shared::json::FromJson,
)]
#[serde(default)]
pub struct Signals {
    /// Page URL, landing URL, referrer.
    pub u: String,
    pub l: String,
    pub r: String,
    /// Active seconds, seconds on site, scroll percent, exit intent, route changes.
    pub a: u32,
    pub s: u32,
    pub p: u8,
    pub x: bool,
    pub n: u32,
    /// Events passed to `Beckon.trigger`.
    pub e: Vec<String>,
    /// Visit count, when the site remembers visitors.
    pub v: Option<u32>,
}

pub struct Proactive {
    site: SiteKey,
    rules: Vec<Rule>,
    caps: Caps,
    cx: Context,
}

fn storage(session: bool) -> Option<web_sys::Storage> {
    let w = web_sys::window()?;
    if session {
        w.session_storage()
    } else {
        w.local_storage()
    }
    .ok()
    .flatten()
}

impl Proactive {
    pub fn new(site: SiteKey, rules: Vec<Rule>, agents_online: bool) -> Proactive {
        let mut p = Proactive {
            site,
            rules,
            caps: Caps::default(),
            cx: Context::default(),
        };
        p.load();
        p.cx.agents_online = agents_online;
        p.cx.language = web_sys::window()
            .and_then(|w| w.navigator().language())
            .unwrap_or_default();
        p
    }

    fn key(&self, what: &str) -> String {
        format!("beckon:v1:{}:{what}", self.site)
    }

    fn load(&mut self) {
        let get = |session: bool, key: String| {
            storage(session).and_then(|s| s.get_item(&key).ok().flatten())
        };
        if let Some(c) =
            get(false, self.key("caps")).and_then(|t| beckon_shared::json::decode::<Caps>(&t).ok())
        {
            self.caps.shown_at = c.shown_at;
            self.caps.dismissed = c.dismissed;
        }
        if let Some(s) = get(true, self.key("session"))
            .and_then(|t| beckon_shared::json::decode::<BTreeSet<RuleId>>(&t).ok())
        {
            self.caps.session = s;
        }
    }

    fn save(&self) {
        let persistent = Caps {
            session: BTreeSet::new(),
            ..self.caps.clone()
        };
        if let (Some(s), Ok(t)) = (storage(false), serde_json::to_string(&persistent)) {
            let _ = s.set_item(&self.key("caps"), &t);
        }
        if let (Some(s), Ok(t)) = (storage(true), serde_json::to_string(&self.caps.session)) {
            let _ = s.set_item(&self.key("session"), &t);
        }
    }

    /// New signals from the host page.
    pub fn observe(&mut self, sig: Signals, viewport_width: u32, coarse_pointer: bool) {
        let cx = &mut self.cx;
        cx.url = sig.u;
        cx.landing_url = sig.l;
        cx.referrer = sig.r;
        cx.active_secs = sig.a;
        cx.site_secs = sig.s;
        cx.scroll_percent = sig.p;
        cx.exit_intent = sig.x;
        cx.route_changes = sig.n;
        cx.events.extend(sig.e);
        if viewport_width > 0 {
            cx.device = Some(DeviceKind::classify(viewport_width, coarse_pointer));
        }
        if sig.v.is_some() {
            cx.visits = sig.v;
            cx.returning = sig.v.map(|v| v > 1);
        }
    }

    /// A visitor who has chatted before is known to be returning.
    pub fn known_visitor(&mut self) {
        if self.cx.returning.is_none() {
            self.cx.returning = Some(true);
        }
    }

    pub fn set_agents_online(&mut self, online: bool) {
        self.cx.agents_online = online;
    }

    pub fn trigger(&mut self, name: String) {
        self.cx.events.insert(name);
    }

    /// The rule to show now, if any (never while another teaser is on screen).
    pub fn candidate(&mut self, teaser_showing: bool) -> Option<Rule> {
        self.cx.now_ms = js_sys::Date::now() as i64;
        choose(&self.rules, &self.cx, &self.caps, teaser_showing).cloned()
    }

    pub fn shown(&mut self, rule: &RuleId) {
        self.caps.record_shown(rule, js_sys::Date::now() as i64);
        self.save();
    }

    pub fn dismissed(&mut self, rule: &RuleId) {
        self.caps.record_dismissed(rule);
        self.save();
    }
}
