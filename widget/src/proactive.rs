//! Proactive rules inside the app: the rules' [`Context`] built from the loader's signals and
//! the app's own environment, and the visitor's teaser caps (what was shown, dismissed) kept
//! in this iframe's storage — localStorage per visitor, sessionStorage per session. The
//! decision itself is [`beckon_shared::rules::choose`].

use beckon_shared::json::FromJson;
use beckon_shared::rules::{choose, Caps, Context, DeviceKind, Rule};
use beckon_shared::{RuleId, SiteKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// The site's rules in this app.
pub enum Rules {
    /// The site has no rule enabled: nothing to watch.
    Off,
    /// Not read yet: the app's second part is on its way.
    Waiting(Box<Waiting>),
    On(Box<Proactive>),
}

/// What the page showed while the rules waited. The loader's signals hold the page's state
/// since it loaded — events passed to `Beckon.trigger` included, exit intent once seen, the
/// deepest scroll —, so the last one is enough (only the current address counts: a rule that
/// held on a page the visitor left meanwhile does not fire).
pub struct Waiting {
    site: SiteKey,
    rules: Value,
    agents_online: bool,
    sig: Option<(Value, u32, bool)>,
    known_visitor: bool,
}

impl Rules {
    /// `rules`: the boot's `rules`, unread (a list of [`Rule`]).
    pub fn new(site: SiteKey, rules: Value, agents_online: bool) -> Rules {
        match rules {
            Value::Array(ref list) if !list.is_empty() => Rules::Waiting(Box::new(Waiting {
                site,
                rules,
                agents_online,
                sig: None,
                known_visitor: false,
            })),
            _ => Rules::Off,
        }
    }

    pub fn waiting(&self) -> bool {
        matches!(self, Rules::Waiting(_))
    }

    /// The rules read, and what the page showed meanwhile told them (once the second part is
    /// in).
    pub fn read(&mut self) {
        let Rules::Waiting(w) = std::mem::replace(self, Rules::Off) else {
            return;
        };
        let Waiting {
            site,
            rules,
            agents_online,
            sig,
            known_visitor,
        } = *w;
        let Ok(rules) = Vec::<Rule>::from_json(rules) else {
            web_sys::console::warn_1(&"Beckon: the site's rules could not be read".into());
            return;
        };
        let mut p = Proactive::new(site, rules, agents_online);
        if let Some((sig, w, c)) = sig {
            p.observe(sig, w, c);
        }
        if known_visitor {
            p.known_visitor();
        }
        *self = Rules::On(Box::new(p));
    }

    /// New signals from the host page (`sig`: [`Signals`], unread).
    pub fn observe(&mut self, sig: Value, viewport_width: u32, coarse_pointer: bool) {
        match self {
            Rules::Waiting(w) => w.sig = Some((sig, viewport_width, coarse_pointer)),
            Rules::On(p) => p.observe(sig, viewport_width, coarse_pointer),
            Rules::Off => {}
        }
    }

    /// A visitor who has chatted before is known to be returning.
    pub fn known_visitor(&mut self) {
        match self {
            Rules::Waiting(w) => w.known_visitor = true,
            Rules::On(p) => p.known_visitor(),
            Rules::Off => {}
        }
    }

    pub fn set_agents_online(&mut self, online: bool) {
        match self {
            Rules::Waiting(w) => w.agents_online = online,
            Rules::On(p) => p.cx.agents_online = online,
            Rules::Off => {}
        }
    }

    /// An event passed to `Beckon.trigger` (while waiting, the next signals carry it).
    pub fn trigger(&mut self, name: String) {
        if let Rules::On(p) = self {
            p.trigger(name);
        }
    }

    /// The rule to show now, if any (none before the rules are read).
    pub fn candidate(&mut self) -> Option<Rule> {
        match self {
            Rules::On(p) => p.candidate(),
            _ => None,
        }
    }

    pub fn shown(&mut self, rule: &RuleId) {
        if let Rules::On(p) = self {
            p.shown(rule);
        }
    }

    pub fn dismissed(&mut self, rule: &RuleId) {
        if let Rules::On(p) = self {
            p.dismissed(rule);
        }
    }
}

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
    fn new(site: SiteKey, rules: Vec<Rule>, agents_online: bool) -> Proactive {
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

    /// New signals from the host page (unread: [`Signals`]; ignored if they do not read).
    fn observe(&mut self, sig: Value, viewport_width: u32, coarse_pointer: bool) {
        let Ok(sig) = Signals::from_json(sig) else {
            return;
        };
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
    fn known_visitor(&mut self) {
        if self.cx.returning.is_none() {
            self.cx.returning = Some(true);
        }
    }

    fn trigger(&mut self, name: String) {
        self.cx.events.insert(name);
    }

    /// The rule to show now, if any (asked only while the panel is closed: no teaser is on
    /// screen).
    fn candidate(&mut self) -> Option<Rule> {
        self.cx.now_ms = js_sys::Date::now() as i64;
        choose(&self.rules, &self.cx, &self.caps, false).cloned()
    }

    fn shown(&mut self, rule: &RuleId) {
        self.caps.record_shown(rule, js_sys::Date::now() as i64);
        self.save();
    }

    fn dismissed(&mut self, rule: &RuleId) {
        self.caps.record_dismissed(rule);
        self.save();
    }
}
