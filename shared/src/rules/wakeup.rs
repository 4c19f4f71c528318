//! The wake-up spec: what the loader watches on the host page before the chat app exists.
//! The edge compiles it from the site's rules, keeping only what could make some rule fire —
//! per rule, a URL gate and the lowest thresholds of its dynamic conditions. When a gate
//! passes and a threshold is crossed (or the rule could fire straight away), the loader loads
//! the app, which then evaluates the full rules with [`super::choose`].
//!
//! Short field names: this ships inside the loader's boot script on every page view.

use super::{Condition, Rule};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct WakeupSpec {
    #[serde(rename = "w", default)]
    pub triggers: Vec<Trigger>,
}

/// One rule's wake-up condition: every URL gate matches, and either it is `immediate` (no
/// threshold fields) or one of the thresholds is crossed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Trigger {
    #[serde(rename = "u", default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<UrlGate>,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub scroll: Option<u8>,
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub active_secs: Option<u32>,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub site_secs: Option<u32>,
    #[serde(rename = "x", default, skip_serializing_if = "std::ops::Not::not")]
    pub exit: bool,
    #[serde(rename = "e", default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub route_changes: Option<u32>,
}

/// A URL condition the page must meet: `e` exact or `g` glob (same rules as [`Condition::Url`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct UrlGate {
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub glob: Option<String>,
}

impl Trigger {
    /// No thresholds: wake as soon as the gate passes.
    pub fn immediate(&self) -> bool {
        self.scroll.is_none()
            && self.active_secs.is_none()
            && self.site_secs.is_none()
            && !self.exit
            && self.events.is_empty()
            && self.route_changes.is_none()
    }
}

/// Three-valued truth of a condition on a fresh page (no scroll, no time, no events yet),
/// where facts the loader does not know (device, language, hours, …) may be either.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tri {
    False,
    Maybe,
    True,
}

fn at_start(c: &Condition) -> Tri {
    match c {
        Condition::All { of } => of.iter().map(at_start).min().unwrap_or(Tri::True),
        Condition::Any { of } => of.iter().map(at_start).max().unwrap_or(Tri::False),
        Condition::Not { cond } => match at_start(cond) {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Maybe => Tri::Maybe,
        },
        Condition::Scroll { .. } | Condition::ExitIntent | Condition::Event { .. } => Tri::False,
        Condition::ActiveTime { secs } | Condition::TimeOnSite { secs } => {
            if *secs == 0 {
                Tri::True
            } else {
                Tri::False
            }
        }
        Condition::RouteChanged { at_least } => {
            if *at_least == 0 {
                Tri::True
            } else {
                Tri::False
            }
        }
        _ => Tri::Maybe,
    }
}

/// Collects the lowest threshold of each dynamic kind anywhere in the tree.
fn thresholds(c: &Condition, t: &mut Trigger) {
    fn low<T: Ord + Copy>(slot: &mut Option<T>, v: T) {
        *slot = Some(slot.map_or(v, |s| s.min(v)));
    }
    match c {
        Condition::All { of } | Condition::Any { of } => of.iter().for_each(|c| thresholds(c, t)),
        Condition::Not { cond } => thresholds(cond, t),
        Condition::Scroll { percent } => low(&mut t.scroll, *percent),
        Condition::ActiveTime { secs } => low(&mut t.active_secs, *secs),
        Condition::TimeOnSite { secs } => low(&mut t.site_secs, *secs),
        Condition::RouteChanged { at_least } => low(&mut t.route_changes, *at_least),
        Condition::ExitIntent => t.exit = true,
        Condition::Event { name } if !t.events.contains(name) => t.events.push(name.clone()),
        _ => {}
    }
}

/// URL conditions every match of the rule must meet: the root, or the root's direct `all`
/// children. (A URL inside `any`/`not` is not a gate.)
fn gates(c: &Condition) -> Vec<UrlGate> {
    let gate = |c: &Condition| match c {
        Condition::Url { exact, glob } => Some(UrlGate {
            exact: exact.clone(),
            glob: glob.clone(),
        }),
        _ => None,
    };
    match c {
        Condition::All { of } => of.iter().filter_map(gate).collect(),
        other => gate(other).into_iter().collect(),
    }
}

/// Compiles the enabled rules into the loader's spec.
pub fn compile(rules: &[Rule]) -> WakeupSpec {
    let mut triggers: Vec<Trigger> = Vec::new();
    for rule in rules.iter().filter(|r| r.enabled) {
        let mut t = Trigger {
            urls: gates(&rule.when),
            ..Default::default()
        };
        if at_start(&rule.when) == Tri::False {
            thresholds(&rule.when, &mut t);
        }
        if !triggers.contains(&t) {
            triggers.push(t);
        }
    }
    WakeupSpec { triggers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(when: serde_json::Value) -> Rule {
        serde_json::from_value(
            json!({"id": "r", "name": "r", "when": when, "message": {"text": "hi"}}),
        )
        .unwrap()
    }

    #[test]
    fn compiles_the_thresholds_that_could_fire_a_rule() {
        let cases = [
            (
                json!({"if": "scroll", "percent": 30}),
                json!({"w": [{"s": 30}]}),
            ),
            (
                json!({"if": "active_time", "secs": 20}),
                json!({"w": [{"a": 20}]}),
            ),
            (json!({"if": "exit_intent"}), json!({"w": [{"x": true}]})),
            (
                json!({"if": "event", "name": "pricing_viewed"}),
                json!({"w": [{"e": ["pricing_viewed"]}]}),
            ),
            (
                json!({"if": "all", "of": [{"if": "url", "glob": "/pricing*"}, {"if": "scroll", "percent": 50}]}),
                json!({"w": [{"u": [{"g": "/pricing*"}], "s": 50}]}),
            ),
            // Only static facts: wake as soon as the page matches.
            (
                json!({"if": "url", "exact": "/checkout"}),
                json!({"w": [{"u": [{"e": "/checkout"}]}]}),
            ),
            (json!({"if": "device", "is": "mobile"}), json!({"w": [{}]})),
            // `any` with a static branch might already hold: immediate, no gate.
            (
                json!({"if": "any", "of": [{"if": "url", "glob": "/a*"}, {"if": "scroll", "percent": 10}]}),
                json!({"w": [{}]}),
            ),
            // The lowest threshold of each kind; time-of-day facts do not block.
            (
                json!({"if": "all", "of": [{"if": "business_hours", "tz": "UTC", "days": ["mon"], "open": "09:00", "close": "17:00"},
                        {"if": "any", "of": [{"if": "scroll", "percent": 70}, {"if": "scroll", "percent": 40}, {"if": "time_on_site", "secs": 90}]}]}),
                json!({"w": [{"s": 40, "t": 90}]}),
            ),
            // "not yet scrolled" is true at the start.
            (
                json!({"if": "not", "cond": {"if": "scroll", "percent": 20}}),
                json!({"w": [{}]}),
            ),
        ];
        for (when, want) in cases {
            let spec = compile(&[rule(when.clone())]);
            assert_eq!(serde_json::to_value(&spec).unwrap(), want, "{when}");
        }
    }

    #[test]
    fn disabled_rules_and_duplicates_are_left_out() {
        let mut off = rule(json!({"if": "exit_intent"}));
        off.enabled = false;
        let on = rule(json!({"if": "scroll", "percent": 30}));
        let spec = compile(&[off, on.clone(), on]);
        assert_eq!(spec.triggers.len(), 1);
        assert!(compile(&[]).triggers.is_empty());
        assert!(!spec.triggers[0].immediate());
        assert!(Trigger::default().immediate());
    }
}
