//! Table-driven tests of every condition, combinator and cap.

use super::*;
use serde_json::json;

fn cond(v: serde_json::Value) -> Condition {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// Unix ms of a UTC date-time.
fn utc_ms(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
    (tz::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60) * 1000
}

fn base() -> Context {
    Context {
        url: "https://shop.example/pricing?plan=team".into(),
        landing_url: "https://shop.example/?utm_source=Newsletter&utm_campaign=spring+sale".into(),
        referrer: "https://www.google.com/search?q=coffee".into(),
        active_secs: 25,
        site_secs: 130,
        scroll_percent: 45,
        exit_intent: false,
        route_changes: 2,
        events: ["pricing_viewed".to_owned()].into(),
        visits: Some(3),
        returning: Some(true),
        device: Some(DeviceKind::Desktop),
        language: "de-AT".into(),
        agents_online: true,
        // Wednesday 2026-07-15 14:30 UTC = 16:30 in Berlin (CEST), 10:30 in New York (EDT).
        now_ms: utc_ms(2026, 7, 15, 14, 30),
    }
}

#[test]
fn every_condition() {
    let cases: Vec<(serde_json::Value, bool)> = vec![
        (json!({"if": "url", "exact": "/pricing"}), true),
        (json!({"if": "url", "exact": "/pricing/"}), false),
        (json!({"if": "url", "glob": "/pri*"}), true),
        (json!({"if": "url", "glob": "/blog/*"}), false),
        (
            json!({"if": "url", "glob": "https://shop.example/pricing?plan=*"}),
            true,
        ),
        (
            json!({"if": "url", "exact": "/pricing", "glob": "/p*"}),
            true,
        ),
        (json!({"if": "route_changed", "at_least": 2}), true),
        (json!({"if": "route_changed", "at_least": 3}), false),
        (json!({"if": "active_time", "secs": 25}), true),
        (json!({"if": "active_time", "secs": 26}), false),
        (json!({"if": "time_on_site", "secs": 120}), true),
        (json!({"if": "time_on_site", "secs": 131}), false),
        (json!({"if": "scroll", "percent": 30}), true),
        (json!({"if": "scroll", "percent": 46}), false),
        (json!({"if": "exit_intent"}), false),
        (json!({"if": "returning", "is": true}), true),
        (json!({"if": "returning", "is": false}), false),
        (json!({"if": "visits", "at_least": 3}), true),
        (json!({"if": "visits", "at_least": 4}), false),
        (
            json!({"if": "referrer", "glob": "https://www.google.*"}),
            true,
        ),
        (json!({"if": "referrer", "glob": "*bing.com*"}), false),
        (
            json!({"if": "utm", "param": "source", "equals": "newsletter"}),
            true,
        ),
        (
            json!({"if": "utm", "param": "campaign", "equals": "spring sale"}),
            true,
        ),
        (
            json!({"if": "utm", "param": "medium", "equals": "email"}),
            false,
        ),
        (json!({"if": "event", "name": "pricing_viewed"}), true),
        (json!({"if": "event", "name": "cart_abandoned"}), false),
        (json!({"if": "agents_online", "is": true}), true),
        (json!({"if": "agents_online", "is": false}), false),
        (json!({"if": "device", "is": "desktop"}), true),
        (json!({"if": "device", "is": "mobile"}), false),
        (json!({"if": "language", "prefix": "de"}), true),
        (json!({"if": "language", "prefix": "DE-at"}), true),
        (json!({"if": "language", "prefix": "d"}), false),
        (json!({"if": "language", "prefix": "en"}), false),
        (
            json!({"if": "business_hours", "tz": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "17:00"}),
            true,
        ),
        (
            json!({"if": "business_hours", "tz": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "16:30"}),
            false,
        ),
        (
            json!({"if": "business_hours", "tz": "Europe/Berlin", "days": ["sat", "sun"], "open": "09:00", "close": "17:00"}),
            false,
        ),
        (
            json!({"if": "business_hours", "tz": "America/New_York", "days": ["wed"], "open": "10:30", "close": "11:00"}),
            true,
        ),
        (
            json!({"if": "business_hours", "tz": "Asia/Tokyo", "days": ["wed"], "open": "09:00", "close": "18:00"}),
            false,
        ),
        (
            json!({"if": "business_hours", "tz": "Asia/Tokyo", "days": ["wed"], "open": "22:00", "close": "06:00"}),
            true,
        ),
        // The same time to open and close is all day, on those days only.
        (
            json!({"if": "business_hours", "tz": "Europe/Berlin", "days": ["wed"], "open": "00:00", "close": "0:00"}),
            true,
        ),
        (
            json!({"if": "business_hours", "tz": "Europe/Berlin", "days": ["thu"], "open": "09:00", "close": "09:00"}),
            false,
        ),
    ];
    let cx = base();
    for (c, want) in cases {
        assert_eq!(cond(c.clone()).holds(&cx), want, "{c}");
    }
}

#[test]
fn unknown_visitor_facts_match_nothing() {
    let mut cx = base();
    cx.visits = None;
    cx.returning = None;
    cx.device = None;
    cx.referrer.clear();
    for c in [
        json!({"if": "returning", "is": true}),
        json!({"if": "returning", "is": false}),
        json!({"if": "visits", "at_least": 1}),
        json!({"if": "device", "is": "desktop"}),
        json!({"if": "referrer", "glob": "*"}),
    ] {
        assert!(!cond(c.clone()).holds(&cx), "{c}");
    }
}

#[test]
fn business_hours_follow_daylight_saving_and_midnight() {
    let hours = cond(
        json!({"if": "business_hours", "tz": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "17:00"}),
    );
    let night = cond(
        json!({"if": "business_hours", "tz": "America/New_York", "days": ["fri"], "open": "22:00", "close": "02:00"}),
    );
    let cases = [
        // Winter (CET, UTC+1): 08:30 UTC = 09:30 local → open; 16:30 UTC = 17:30 → closed.
        (&hours, utc_ms(2026, 1, 14, 8, 30), true),
        (&hours, utc_ms(2026, 1, 14, 16, 30), false),
        // Summer (CEST, UTC+2): 07:30 UTC = 09:30 local → open; 15:30 UTC = 17:30 → closed.
        (&hours, utc_ms(2026, 7, 15, 7, 30), true),
        (&hours, utc_ms(2026, 7, 15, 15, 30), false),
        // Friday 23:00 UTC is Saturday 00:00/01:00 in Berlin → closed.
        (&hours, utc_ms(2026, 7, 17, 23, 0), false),
        // A Friday-night shift in New York (EDT, UTC-4) runs into Saturday morning.
        (&night, utc_ms(2026, 7, 18, 3, 0), true), // Fri 23:00 local
        (&night, utc_ms(2026, 7, 18, 5, 30), true), // Sat 01:30 local, still Friday's shift
        (&night, utc_ms(2026, 7, 18, 6, 30), false), // Sat 02:30 local
        (&night, utc_ms(2026, 7, 19, 3, 0), false), // Sat 23:00 local: no Saturday shift
    ];
    for (c, now, want) in cases {
        let cx = Context {
            now_ms: now,
            ..Context::default()
        };
        assert_eq!(c.holds(&cx), want, "{c:?} at {now}");
    }
}

#[test]
fn combinators() {
    let t = json!({"if": "scroll", "percent": 10});
    let f = json!({"if": "exit_intent"});
    let cases = [
        (json!({"if": "all", "of": [t, t]}), true),
        (json!({"if": "all", "of": [t, f]}), false),
        (json!({"if": "any", "of": [f, t]}), true),
        (json!({"if": "any", "of": [f, f]}), false),
        (json!({"if": "not", "cond": f}), true),
        (json!({"if": "not", "cond": t}), false),
        (
            json!({"if": "all", "of": [t, {"if": "any", "of": [f, {"if": "not", "cond": f}]}]}),
            true,
        ),
    ];
    let cx = base();
    for (c, want) in cases {
        assert_eq!(cond(c.clone()).holds(&cx), want, "{c}");
    }
}

fn rule(id: &str, priority: i32, frequency: serde_json::Value) -> Rule {
    serde_json::from_value(
        json!({"id": id, "name": id, "priority": priority, "when": {"if": "scroll", "percent": 30},
        "message": {"text": format!("hello from {id}")}, "frequency": frequency}),
    )
    .unwrap()
}

#[test]
fn caps() {
    let now = 1_000_000;
    let id = |s: &str| RuleId::parse(s).unwrap();
    let once_visitor = rule("visitor", 0, json!({"once_per_visitor": true}));
    let once_session = rule("session", 0, json!({"once_per_session": true}));
    let cooldown = rule("cool", 0, json!({"cooldown_secs": 60}));
    let always = rule("always", 0, json!({}));
    let fresh = Caps::default();
    let mut shown = Caps::default();
    for r in [&once_visitor, &once_session, &cooldown, &always] {
        shown.record_shown(&r.id, now);
    }
    let mut new_session = shown.clone();
    new_session.session.clear();
    let mut dismissed = Caps::default();
    dismissed.record_dismissed(&id("always"));

    let cases = [
        (&once_visitor, &fresh, now, true),
        (&once_visitor, &shown, now + 1, false),
        (&once_visitor, &new_session, now + 10_000_000, false),
        (&once_session, &shown, now + 1, false),
        (&once_session, &new_session, now + 1, true),
        (&cooldown, &shown, now + 59_999, false),
        (&cooldown, &shown, now + 60_000, true),
        (&always, &shown, now + 1, true),
        (&always, &dismissed, now, false),
    ];
    for (r, caps, at, want) in cases {
        assert_eq!(caps.allows(r, at), want, "{} at +{}", r.id, at - now);
    }
}

#[test]
fn choose_takes_the_highest_priority_and_one_teaser_at_a_time() {
    let cx = base();
    let low = rule("low", 1, json!({}));
    let high = rule("high", 5, json!({}));
    let mut off = rule("off", 9, json!({}));
    off.enabled = false;
    let mut not_matching = rule("nope", 9, json!({}));
    not_matching.when = cond(json!({"if": "exit_intent"}));
    let rules = vec![low.clone(), off, high.clone(), not_matching];
    assert_eq!(
        choose(&rules, &cx, &Caps::default(), false).map(|r| r.id.as_str()),
        Some("high")
    );
    assert_eq!(
        choose(&rules, &cx, &Caps::default(), true),
        None,
        "a teaser is already on screen"
    );
    let mut caps = Caps::default();
    caps.record_dismissed(&high.id);
    assert_eq!(
        choose(&rules, &cx, &caps, false).map(|r| r.id.as_str()),
        Some("low")
    );
    let tie = vec![rule("first", 3, json!({})), rule("second", 3, json!({}))];
    assert_eq!(
        choose(&tie, &cx, &Caps::default(), false).map(|r| r.id.as_str()),
        Some("first")
    );
}

#[test]
fn validation() {
    let ok: Rule = serde_json::from_value(json!({"id": "welcome", "name": " Welcome ", "when": {"if": "all", "of": [
        {"if": "url", "glob": "/pricing*"}, {"if": "business_hours", "tz": "Europe/Berlin", "days": ["mon"], "open": "09:00", "close": "17:00"}]},
        "message": {"text": "Questions about plans?", "buttons": [{"label": "Yes", "action": "reply"}, {"label": "Docs", "action": "link", "url": "/docs"}]}}))
    .unwrap();
    assert_eq!(ok.validated().unwrap().name, "Welcome");
    let bad = [
        json!({"if": "business_hours", "tz": "Mars/Base", "days": ["mon"], "open": "09:00", "close": "17:00"}),
        json!({"if": "business_hours", "tz": "UTC", "days": [], "open": "09:00", "close": "17:00"}),
        json!({"if": "business_hours", "tz": "UTC", "days": ["mon"], "open": "9am", "close": "17:00"}),
        json!({"if": "scroll", "percent": 0}),
        json!({"if": "scroll", "percent": 101}),
        json!({"if": "url"}),
        json!({"if": "all", "of": []}),
        json!({"if": "event", "name": ""}),
    ];
    for when in bad {
        let r: Rule = serde_json::from_value(
            json!({"id": "x", "name": "x", "when": when, "message": {"text": "t"}}),
        )
        .unwrap();
        assert!(r.validated().is_err(), "{when}");
    }
    for junk in [
        json!({"id": "x", "name": "x", "when": {"if": "teleport"}, "message": {"text": "t"}}),
        json!({"id": "X Y", "name": "x", "when": {"if": "exit_intent"}, "message": {"text": "t"}}),
        json!({"id": "x", "name": "x", "when": {"if": "scroll", "percent": 30, "extra": 1}, "message": {"text": "t"}}),
    ] {
        assert!(
            serde_json::from_value::<Rule>(junk.clone()).is_err(),
            "{junk}"
        );
    }
    let long: Rule = serde_json::from_value(json!({"id": "x", "name": "x", "when": {"if": "exit_intent"}, "message": {"text": "t".repeat(501)}})).unwrap();
    assert!(long.validated().is_err());
    let js: Rule = serde_json::from_value(json!({"id": "x", "name": "x", "when": {"if": "exit_intent"},
        "message": {"text": "t", "buttons": [{"label": "x", "action": "link", "url": "javascript:alert(1)"}]}})).unwrap();
    assert!(js.validated().is_err(), "no javascript: links");
}

#[test]
fn teaser_links_and_images_stay_on_the_web() {
    for ok in [
        "/pricing?x=1",
        "https://cdn.example/a.png",
        "http://127.0.0.1:8080/p",
    ] {
        assert!(is_site_link(ok), "{ok}");
    }
    for bad in [
        "//evil.example/x",
        "javascript:alert(1)",
        "data:image/png;base64,AA",
        "/a b",
        "pricing",
    ] {
        assert!(!is_site_link(bad), "{bad}");
    }
    assert_eq!(
        resolve_on_host("/pricing", "https://shop.example"),
        "https://shop.example/pricing"
    );
    assert_eq!(
        resolve_on_host("https://cdn.example/a.png", "https://shop.example"),
        "https://cdn.example/a.png"
    );
}

#[test]
fn devices() {
    assert_eq!(DeviceKind::classify(375, true), DeviceKind::Mobile);
    assert_eq!(DeviceKind::classify(820, true), DeviceKind::Tablet);
    assert_eq!(DeviceKind::classify(820, false), DeviceKind::Desktop);
    assert_eq!(DeviceKind::classify(1440, true), DeviceKind::Desktop);
}
