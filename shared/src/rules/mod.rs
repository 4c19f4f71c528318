//! Proactive rules: when the business reaches out first. A [`Rule`] is a condition tree, a
//! teaser message, a priority and frequency caps. Everything here is pure: the widget app
//! evaluates rules with [`choose`]; the edge validates them and compiles the tiny
//! [`wakeup::WakeupSpec`] the loader watches before the app exists.

pub mod glob;
pub mod hours;
pub mod tz;
pub mod wakeup;

use crate::ids::RuleId;
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One proactive rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: RuleId,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Higher wins when several rules could fire.
    #[serde(default)]
    pub priority: i32,
    pub when: Condition,
    pub message: Teaser,
    #[serde(default)]
    pub frequency: Frequency,
}

fn yes() -> bool {
    true
}

/// What the teaser says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct Teaser {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<CtaButton>,
}

/// A call-to-action button on a teaser: `{"label": …, "action": …, …}` (the action's fields
/// beside the label).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CtaButton {
    pub label: String,
    #[serde(flatten)]
    pub action: CtaAction,
}

/// Read without serde's flatten (which buffers): the label taken out, the rest is the action.
impl<'de> Deserialize<'de> for CtaButton {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CtaButton, D::Error> {
        use serde::de::Error;
        let mut object = serde_json::Value::deserialize(d)?;
        let label = match object.as_object_mut().and_then(|o| o.remove("label")) {
            Some(serde_json::Value::String(label)) => label,
            _ => return Err(D::Error::missing_field("label")),
        };
        let action = CtaAction::deserialize(object).map_err(D::Error::custom)?;
        Ok(CtaButton { label, action })
    }
}

impl crate::json::FromJson for CtaButton {
    fn from_json(v: crate::json::Value) -> Result<CtaButton, crate::json::Error> {
        let mut object = v;
        let label = match object.as_object_mut().and_then(|o| o.remove("label")) {
            Some(serde_json::Value::String(label)) => label,
            _ => return Err(crate::json::error(|| "label: expected a string".into())),
        };
        let action = CtaAction::from_json(object)?;
        Ok(CtaButton { label, action })
    }
}

crate::tagged! {
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CtaAction: tag "action" {
    /// Send the label as the visitor's reply (starts the conversation).
    "reply" => Reply,
    /// Open the chat.
    "open" => Open,
    /// Open a page of the site in a new tab.
    "link" => Link { url: String },
}
}

/// How often a rule may show its teaser to one visitor. A dismissed teaser never shows again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(default, deny_unknown_fields)]
pub struct Frequency {
    pub once_per_visitor: bool,
    pub once_per_session: bool,
    /// Minimum time between two showings.
    pub cooldown_secs: Option<u64>,
}

crate::named! {
/// URL parameters of a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UtmParam {
    Source = "source",
    Medium = "medium",
    Campaign = "campaign",
    Term = "term",
    Content = "content",
}
}

impl UtmParam {
    pub fn query_name(self) -> &'static str {
        match self {
            UtmParam::Source => "utm_source",
            UtmParam::Medium => "utm_medium",
            UtmParam::Campaign => "utm_campaign",
            UtmParam::Term => "utm_term",
            UtmParam::Content => "utm_content",
        }
    }
}

crate::named! {
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Mobile = "mobile",
    Tablet = "tablet",
    Desktop = "desktop",
}
}

impl DeviceKind {
    /// Classifies by viewport width and touch: phones < 768 px, touch screens < 1280 px are
    /// tablets, everything else a desktop.
    pub fn classify(viewport_width: u32, touch: bool) -> DeviceKind {
        match (viewport_width, touch) {
            (0..=767, _) => DeviceKind::Mobile,
            (768..=1279, true) => DeviceKind::Tablet,
            _ => DeviceKind::Desktop,
        }
    }
}

crate::named! {
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weekday {
    Sun = "sun",
    Mon = "mon",
    Tue = "tue",
    Wed = "wed",
    Thu = "thu",
    Fri = "fri",
    Sat = "sat",
}
}

impl Weekday {
    /// The weekday of a day number since 1970-01-01.
    pub fn of_day(day: i64) -> Weekday {
        [
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
        ][tz::weekday(day) as usize]
    }
}

crate::tagged! {
/// When a rule may fire. Serialized as `{"if": "<kind>", …}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition: tag "if", #[serde(deny_unknown_fields)] {
    /// Every condition holds.
    "all" => All {
        of: Vec<Condition>,
    },
    /// At least one holds.
    "any" => Any {
        of: Vec<Condition>,
    },
    /// The condition does not hold.
    "not" => Not {
        cond: Box<Condition>,
    },
    /// The page URL equals `exact` or matches `glob` (`*` = anything). Patterns with `://` are
    /// compared with the full URL, others with the path. Re-checked on SPA route changes.
    "url" => Url {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exact: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        glob: Option<String>,
    },
    /// The single-page app changed route at least this many times (`pushState`, `popstate`).
    "route_changed" => RouteChanged {
        at_least: u32,
    },
    /// Seconds the page has been visible.
    "active_time" => ActiveTime {
        secs: u32,
    },
    /// Seconds since the visit started (across pages only with `remember_visitors`).
    "time_on_site" => TimeOnSite {
        secs: u32,
    },
    /// Scrolled at least this far down the page, in percent.
    "scroll" => Scroll {
        percent: u8,
    },
    /// The visitor is about to leave: the pointer left through the top edge (desktop), or a
    /// fast scroll back up (touch).
    "exit_intent" => ExitIntent,
    /// Visitor is returning (`true`) or new (`false`). Unknown unless the visitor chatted
    /// before or the site remembers visitors: an unknown visitor matches neither.
    "returning" => Returning {
        is: bool,
    },
    /// This visit is at least the n-th (same knowledge rule as `returning`).
    "visits" => Visits {
        at_least: u32,
    },
    /// The referrer (full URL) matches the glob.
    "referrer" => Referrer {
        glob: String,
    },
    /// A campaign parameter of the landing URL equals a value (case-insensitive).
    "utm" => Utm {
        param: UtmParam,
        equals: String,
    },
    /// The host page called `Beckon.trigger(name)`.
    "event" => Event {
        name: String,
    },
    /// Local time in `tz` (IANA name like `Europe/Berlin`, or a POSIX TZ string) is on one of
    /// `days` between `open` and `close` (`HH:MM`, close exclusive; close before open spans
    /// midnight; the same time for both is all day).
    "business_hours" => BusinessHours {
        tz: String,
        days: Vec<Weekday>,
        open: String,
        close: String,
    },
    /// Whether an agent has the inbox open.
    "agents_online" => AgentsOnline {
        is: bool,
    },
    "device" => Device {
        is: DeviceKind,
    },
    /// The browser language starts with this tag (`de`, `pt-BR`), case-insensitive.
    "language" => Language {
        prefix: String,
    },
}
}

/// Everything rules look at, gathered by the loader and the app.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(default)]
pub struct Context {
    /// The page's full URL.
    pub url: String,
    /// The URL the visit landed on (campaign parameters are read from it).
    pub landing_url: String,
    pub referrer: String,
    pub active_secs: u32,
    pub site_secs: u32,
    pub scroll_percent: u8,
    pub exit_intent: bool,
    pub route_changes: u32,
    /// Names passed to `Beckon.trigger` on this page.
    pub events: BTreeSet<String>,
    pub visits: Option<u32>,
    pub returning: Option<bool>,
    pub device: Option<DeviceKind>,
    pub language: String,
    pub agents_online: bool,
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split('#').next()?.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| v.replace('+', " "))
    })
}

fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn business_hours_open(
    tz_name: &str,
    days: &[Weekday],
    open: &str,
    close: &str,
    now_ms: i64,
) -> bool {
    let (Some(zone), Some(open), Some(close)) = (tz::Zone::parse(tz_name), hhmm(open), hhmm(close))
    else {
        return false;
    };
    let utc = now_ms.div_euclid(1000);
    let local = utc + zone.offset_at(utc);
    let day = local.div_euclid(86_400);
    let minute = (local.rem_euclid(86_400) / 60) as u32;
    let weekday_of = Weekday::of_day;
    if open == close {
        // The same time to open and close: open all day.
        days.contains(&weekday_of(day))
    } else if open < close {
        days.contains(&weekday_of(day)) && minute >= open && minute < close
    } else {
        // Spans midnight: the evening belongs to today, the small hours to yesterday's shift.
        (days.contains(&weekday_of(day)) && minute >= open)
            || (days.contains(&weekday_of(day - 1)) && minute < close)
    }
}

impl Condition {
    /// Evaluates the condition against the context.
    pub fn holds(&self, cx: &Context) -> bool {
        match self {
            Condition::All { of } => of.iter().all(|c| c.holds(cx)),
            Condition::Any { of } => of.iter().any(|c| c.holds(cx)),
            Condition::Not { cond } => !cond.holds(cx),
            Condition::Url { exact, glob } => {
                let exact_ok = exact
                    .as_deref()
                    .is_none_or(|e| glob::subject(e, &cx.url) == e);
                let glob_ok = glob
                    .as_deref()
                    .is_none_or(|g| glob::glob_matches(g, glob::subject(g, &cx.url)));
                exact_ok && glob_ok
            }
            Condition::RouteChanged { at_least } => cx.route_changes >= *at_least,
            Condition::ActiveTime { secs } => cx.active_secs >= *secs,
            Condition::TimeOnSite { secs } => cx.site_secs >= *secs,
            Condition::Scroll { percent } => cx.scroll_percent >= *percent,
            Condition::ExitIntent => cx.exit_intent,
            Condition::Returning { is } => cx.returning == Some(*is),
            Condition::Visits { at_least } => cx.visits.is_some_and(|v| v >= *at_least),
            Condition::Referrer { glob: g } => {
                !cx.referrer.is_empty() && glob::glob_matches(g, &cx.referrer)
            }
            Condition::Utm { param, equals } => {
                let landing = if cx.landing_url.is_empty() {
                    &cx.url
                } else {
                    &cx.landing_url
                };
                query_param(landing, param.query_name())
                    .is_some_and(|v| v.eq_ignore_ascii_case(equals))
            }
            Condition::Event { name } => cx.events.contains(name),
            Condition::BusinessHours {
                tz,
                days,
                open,
                close,
            } => business_hours_open(tz, days, open, close, cx.now_ms),
            Condition::AgentsOnline { is } => cx.agents_online == *is,
            Condition::Device { is } => cx.device == Some(*is),
            Condition::Language { prefix } => {
                let lang = cx.language.to_ascii_lowercase();
                let p = prefix.to_ascii_lowercase();
                lang == p || lang.starts_with(&format!("{p}-"))
            }
        }
    }

    /// Checks the tree: known time zones, valid times, sane thresholds, not too deep.
    pub fn validate(&self, depth: usize) -> Result<(), String> {
        if depth > 8 {
            return Err("conditions are nested more than 8 levels deep".into());
        }
        match self {
            Condition::All { of } | Condition::Any { of } => {
                if of.is_empty() || of.len() > 20 {
                    return Err("all/any need 1 to 20 conditions".into());
                }
                of.iter().try_for_each(|c| c.validate(depth + 1))
            }
            Condition::Not { cond } => cond.validate(depth + 1),
            Condition::Url {
                exact: None,
                glob: None,
            } => Err("url needs exact or glob".into()),
            Condition::Url { exact, glob } => {
                let too_long = [exact, glob]
                    .into_iter()
                    .flatten()
                    .any(|p| p.is_empty() || p.len() > 500);
                if too_long {
                    Err("url patterns must be 1-500 characters".into())
                } else {
                    Ok(())
                }
            }
            Condition::Scroll { percent } if *percent == 0 || *percent > 100 => {
                Err("scroll percent must be 1-100".into())
            }
            Condition::ActiveTime { secs } | Condition::TimeOnSite { secs } if *secs > 86_400 => {
                Err("times must be at most a day".into())
            }
            Condition::BusinessHours {
                tz: zone,
                days,
                open,
                close,
            } => {
                tz::check(zone)?;
                if days.is_empty() || hhmm(open).is_none() || hhmm(close).is_none() {
                    return Err("business hours need days and HH:MM open/close times".into());
                }
                Ok(())
            }
            Condition::Event { name } if name.is_empty() || name.len() > 64 => {
                Err("event names must be 1-64 characters".into())
            }
            Condition::Language { prefix } if prefix.is_empty() || prefix.len() > 12 => {
                Err("language prefix must be like de or pt-BR".into())
            }
            _ => Ok(()),
        }
    }
}

impl Rule {
    /// Checks a rule before it is stored.
    pub fn validated(mut self) -> Result<Rule, (ErrorCode, String)> {
        let bad = |m: String| (ErrorCode::BadRequest, m);
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 80 {
            return Err(bad("name must be 1-80 characters".into()));
        }
        self.message.text = self.message.text.trim().to_owned();
        let text_len = self.message.text.chars().count();
        if text_len == 0 || text_len > 500 {
            return Err(bad("message.text must be 1-500 characters".into()));
        }
        if let Some(url) = &self.message.image_url {
            if !is_site_link(url) {
                return Err(bad(
                    "message.image_url must be an http(s) URL or a path on the site".into(),
                ));
            }
        }
        if self.message.buttons.len() > 3 {
            return Err(bad("at most 3 buttons".into()));
        }
        for b in &self.message.buttons {
            if b.label.trim().is_empty() || b.label.chars().count() > 40 {
                return Err(bad("button labels must be 1-40 characters".into()));
            }
            if let CtaAction::Link { url } = &b.action {
                if !is_site_link(url) {
                    return Err(bad(
                        "button links must be http(s) URLs or paths on the site".into(),
                    ));
                }
            }
        }
        self.when.validate(0).map_err(bad)?;
        Ok(self)
    }
}

/// Whether a teaser's image or button link is acceptable: a web URL, or a path on the site
/// (`/pricing`; not `//host`, which would be another site).
pub fn is_site_link(url: &str) -> bool {
    crate::text::is_web_url(url)
        || (url.starts_with('/')
            && !url.starts_with("//")
            && crate::text::is_web_url(&format!("https://site{url}")))
}

/// A teaser link or image as the visitor's browser must load it: a path is on the host site
/// (the widget runs on Beckon's origin, where the path would mean something else).
pub fn resolve_on_host(url: &str, host_origin: &str) -> String {
    if url.starts_with('/') && !url.starts_with("//") {
        format!("{}{url}", host_origin.trim_end_matches('/'))
    } else {
        url.to_owned()
    }
}

/// What the visitor's browser remembers about teasers (the app keeps it in its own storage).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(default)]
pub struct Caps {
    /// Rule → when its teaser last showed (per visitor, kept across visits).
    pub shown_at: BTreeMap<RuleId, i64>,
    /// Rules shown in this session.
    pub session: BTreeSet<RuleId>,
    /// Rules the visitor dismissed: never again.
    pub dismissed: BTreeSet<RuleId>,
}

impl Caps {
    /// Whether the rule's frequency allows showing it now.
    pub fn allows(&self, rule: &Rule, now_ms: i64) -> bool {
        if self.dismissed.contains(&rule.id) {
            return false;
        }
        let f = &rule.frequency;
        let last = self.shown_at.get(&rule.id);
        if f.once_per_visitor && last.is_some() {
            return false;
        }
        if f.once_per_session && self.session.contains(&rule.id) {
            return false;
        }
        if let (Some(cooldown), Some(last)) = (f.cooldown_secs, last) {
            if now_ms < last + (cooldown as i64) * 1000 {
                return false;
            }
        }
        true
    }

    pub fn record_shown(&mut self, rule: &RuleId, now_ms: i64) {
        self.shown_at.insert(rule.clone(), now_ms);
        self.session.insert(rule.clone());
    }

    pub fn record_dismissed(&mut self, rule: &RuleId) {
        self.dismissed.insert(rule.clone());
    }
}

/// The rule whose teaser to show now, if any: enabled, allowed by its caps, condition true;
/// the highest priority wins (then the first listed). Nothing while another teaser is on
/// screen — at most one at a time.
pub fn choose<'a>(
    rules: &'a [Rule],
    cx: &Context,
    caps: &Caps,
    teaser_showing: bool,
) -> Option<&'a Rule> {
    if teaser_showing {
        return None;
    }
    let mut best: Option<&Rule> = None;
    for r in rules
        .iter()
        .filter(|r| r.enabled && caps.allows(r, cx.now_ms) && r.when.holds(cx))
    {
        if best.is_none_or(|b| r.priority > b.priority) {
            best = Some(r);
        }
    }
    best
}

#[cfg(test)]
mod tests;
