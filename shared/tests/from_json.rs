//! `FromJson` (what the browser apps read with) reads exactly what serde's `Deserialize` reads
//! (what the edge reads with): on samples of every kind of value the apps receive, and on each
//! sample changed in one place — every field taken away, made null, given a value of another
//! type, every object given an unknown field, every list one item shorter or longer and its
//! first item replaced — both accept with equal values, or both refuse.

use beckon_shared::json::{self, FromJson};
use beckon_shared::proto::v1::{HubFrame, InboxEvent, Message, ServerFrame, WidgetBoot, Work};
use beckon_shared::rules::{Frequency, Rule};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::fmt::Debug;

/// Values put in place of a field: each JSON type, numbers at the edges of the integer types,
/// and strings that are names somewhere in the protocol.
fn replacements() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(7),
        json!(-1),
        json!(1.5),
        json!(300),
        json!(4_294_967_296u64),
        json!(""),
        json!("x"),
        json!("visitor"),
        json!("c_0123456789abcdef0123456789abcdef"),
        json!([]),
        json!([1]),
        json!({}),
        json!({"type": "pong"}),
    ]
}

/// Every place in `v` where an object or a list is, by JSON pointer.
fn places(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            out.push(at.clone());
            for (k, c) in m {
                places(
                    c,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            out.push(at.clone());
            for (i, c) in a.iter().enumerate() {
                places(c, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `sample` and each of its one-place changes.
fn variants(sample: &Value) -> Vec<Value> {
    let mut at = Vec::new();
    places(sample, String::new(), &mut at);
    let mut out = vec![sample.clone()];
    for p in at {
        if let Some(list) = sample.pointer(&p).and_then(Value::as_array) {
            let mut list_changed = |f: &dyn Fn(&mut Vec<Value>)| {
                let mut v = sample.clone();
                f(v.pointer_mut(&p).and_then(Value::as_array_mut).unwrap());
                out.push(v);
            };
            list_changed(&|l| {
                l.pop();
            });
            list_changed(&|l| l.push(l.last().cloned().unwrap_or(json!(1))));
            if !list.is_empty() {
                for r in replacements() {
                    list_changed(&|l| l[0] = r.clone());
                }
            }
            continue;
        }
        let keys: Vec<String> = sample
            .pointer(&p)
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let mut changed = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
            let mut v = sample.clone();
            f(v.pointer_mut(&p).and_then(Value::as_object_mut).unwrap());
            out.push(v);
        };
        changed(&|m| {
            m.insert("zz_unknown".into(), json!(1));
        });
        for k in &keys {
            changed(&|m| {
                m.remove(k);
            });
            for r in replacements() {
                changed(&|m| {
                    m.insert(k.clone(), r.clone());
                });
            }
        }
    }
    out
}

/// Checks every variant of every sample; returns how many were read, and how many of them
/// both readers accepted.
fn same<T: FromJson + DeserializeOwned + PartialEq + Debug>(samples: &[Value]) -> (usize, usize) {
    let (mut n, mut ok) = (0, 0);
    for sample in samples {
        assert!(
            json::from_value::<T>(sample.clone()).is_ok(),
            "the sample itself must read: {sample}"
        );
        for v in variants(sample) {
            n += 1;
            match (json::from_value::<T>(v.clone()), T::from_json(v.clone())) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "read differently: {v}");
                    ok += 1;
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!("serde: {a:?}\nFromJson: {b:?}\non {v}"),
            }
        }
    }
    (n, ok)
}

const C: &str = "c_0123456789abcdef0123456789abcdef";
const M: &str = "m_0123456789abcdef0123456789abcdef";
const A: &str = "a_0123456789abcdef0123456789abcdef";
const V: &str = "v_0123456789abcdef0123456789abcdef";

fn message() -> Value {
    json!({
        "id": M, "seq": 7, "role": "agent", "body": "Yes, we ship.", "created_at": 1_767_225_600_000i64,
        "attachments": [
            {"id": A, "name": "quote.pdf", "kind": "pdf", "mime": "application/pdf", "size": 2048,
             "url": "/f/1", "held_in": C},
            {"id": A, "name": "p.png", "kind": "png", "mime": "image/png", "size": 9, "width": 640, "height": 480}
        ],
        "client_msg_id": "k1", "author": "Ana", "avatar": "/a.png", "via": "telegram",
        "buttons": [
            {"label": "Yes", "action": "reply"},
            {"label": "Open", "action": "open"},
            {"label": "Shop", "action": "link", "url": "https://shop.example/sale"}
        ]
    })
}

fn rules() -> Vec<Value> {
    let conditions = [
        json!({"if": "url", "glob": "/pricing*"}),
        json!({"if": "url", "exact": "https://a.example/"}),
        json!({"if": "route_changed", "at_least": 2}),
        json!({"if": "active_time", "secs": 30}),
        json!({"if": "time_on_site", "secs": 60}),
        json!({"if": "scroll", "percent": 50}),
        json!({"if": "exit_intent"}),
        json!({"if": "returning", "is": true}),
        json!({"if": "visits", "at_least": 3}),
        json!({"if": "referrer", "glob": "*google*"}),
        json!({"if": "utm", "param": "campaign", "equals": "sale"}),
        json!({"if": "event", "name": "cart"}),
        json!({"if": "business_hours", "tz": "Europe/Berlin", "days": ["mon", "fri"], "open": "09:00", "close": "17:00"}),
        json!({"if": "agents_online", "is": true}),
        json!({"if": "device", "is": "mobile"}),
        json!({"if": "language", "prefix": "de"}),
        json!({"if": "not", "cond": {"if": "exit_intent"}}),
        json!({"if": "any", "of": [{"if": "scroll", "percent": 10}, {"if": "all", "of": []}]}),
    ];
    conditions
        .into_iter()
        .map(|when| {
            json!({
                "id": "r1", "name": "Pricing help", "enabled": false, "priority": 3, "when": when,
                "message": {"text": "Need help?", "image_url": "/i.png",
                            "buttons": [{"label": "Yes", "action": "reply"}]},
                "frequency": {"once_per_visitor": true, "once_per_session": false, "cooldown_secs": 600}
            })
        })
        .collect()
}

#[test]
fn server_frames_read_alike() {
    let samples = [
        json!({"type": "welcome", "conversation_id": C, "origin": {"kind": "rule", "rule_id": "r1"},
               "last_seq": 9, "read": {"visitor": 3, "agent": 4}, "away_email": "a@b.example"}),
        json!({"type": "welcome", "conversation_id": C, "origin": {"kind": "agent", "author": "Ana"},
               "last_seq": 0, "read": {"visitor": 0, "agent": 0}}),
        json!({"type": "message", "message": message()}),
        json!({"type": "ack", "client_msg_id": "k1", "id": M, "seq": 2, "created_at": 5, "duplicate": true}),
        json!({"type": "typing", "role": "agent", "active": true}),
        json!({"type": "read", "role": "visitor", "seq": 3}),
        json!({"type": "error", "code": "rate_limited", "message": "Slow down", "client_msg_id": "k1"}),
        json!({"type": "pong"}),
        json!({"type": "from_the_future", "x": 1}),
    ];
    let (n, ok) = same::<ServerFrame>(&samples);
    println!("ServerFrame: {n} values, {ok} read by both");
    assert!(n > 1000 && ok > 100);
}

#[test]
fn a_widgets_boot_and_its_rules_read_alike() {
    let boot = json!({
        "config": {"site": "demo", "name": "Demo shop", "greeting": "Hi!", "accent": "#0a7",
                   "accent_text": "#fff", "position": "left", "remember_visitors": true},
        "host_origin": "https://shop.example",
        "rules": [rules()[0].clone(), rules()[12].clone()],
        "agents_online": true, "relayed": true, "away_email": true,
        "challenge": {"site_key": "0x4AAA", "script_url": "https://challenges.example/api.js"},
        "locale": "pt-BR", "catalog": {"send": "Enviar"}, "open": [0, 3600],
        "now": 1_767_225_600_000i64, "prechat": "<p>Hi</p>", "launcher_label": "Chat"
    });
    let (n, ok) = same::<WidgetBoot>(&[boot]);
    println!("WidgetBoot: {n} values, {ok} read by both");
    let (r, r_ok) = same::<Rule>(&rules());
    println!("Rule: {r} values, {r_ok} read by both");
    let (f, f_ok) = same::<Frequency>(&[json!({"once_per_session": true})]);
    println!("Frequency: {f} values, {f_ok} read by both");
    assert!(n > 1000 && r > 1000 && ok > 100 && r_ok > 100 && f_ok > 1);
}

#[test]
fn hub_and_inbox_frames_and_work_read_alike() {
    let hub = [
        json!({"type": "welcome", "id": "p1", "agents_online": 2}),
        json!({"type": "agents", "online": 0}),
        json!({"type": "conversation", "conversation_id": C, "visitor_token": "t"}),
        json!({"type": "pong"}),
    ];
    let work = json!({"status": "snoozed", "snoozed_until": 99, "assignee": {"id": "u1", "name": "Ana"},
                      "notes": 2, "status_at": 5, "tags": ["vip"]});
    let inbox = [
        json!({"type": "presence", "visitors": [{"id": "p1", "url": "https://a.example/", "title": "A",
                                                  "since": 5, "visitor_id": V}]}),
        json!({"type": "work", "conversation_id": C, "work": work.clone()}),
        json!({"type": "note", "conversation_id": C}),
        json!({"type": "viewers", "you": "t1", "viewers": [{"tab": "t2", "person": "u1", "name": "Ana",
                                                             "conversation_id": C, "typing": true}]}),
    ];
    let (h, h_ok) = same::<HubFrame>(&hub);
    let (i, i_ok) = same::<InboxEvent>(&inbox);
    let (w, w_ok) = same::<Work>(&[work]);
    let (m, m_ok) = same::<Message>(&[message()]);
    println!("HubFrame {h} ({h_ok} read), InboxEvent {i} ({i_ok}), Work {w} ({w_ok}), Message {m} ({m_ok})");
    assert!(h_ok > 10 && i_ok > 10 && w_ok > 10 && m_ok > 10);
}

#[test]
fn a_refusal_says_where_and_why_outside_the_apps() {
    let mut rule = rules()[5].clone();
    rule["when"]["if"] = json!("scrol");
    let e = Rule::from_json(rule).unwrap_err().to_string();
    assert!(
        e.starts_with("when: unknown if \"scrol\", expected one of: all, any, not, url,"),
        "{e}"
    );
    let mut rule = rules()[5].clone();
    rule["message"]["buttons"][0]
        .as_object_mut()
        .unwrap()
        .remove("action");
    let e = Rule::from_json(rule).unwrap_err().to_string();
    assert_eq!(e, "message: buttons: 0: missing field `action`");
    let mut rule = rules()[5].clone();
    rule["when"]["percent"] = json!(300);
    let e = Rule::from_json(rule).unwrap_err().to_string();
    assert_eq!(e, "when: percent: expected a whole number from 0 to 255");
    let mut rule = rules()[5].clone();
    rule["frequency"]["every"] = json!(1);
    let e = Rule::from_json(rule).unwrap_err().to_string();
    assert_eq!(e, "frequency: unknown field \"every\"");
    let e = Rule::from_json(json!({"id": "r1"}))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "name: missing");
}

#[test]
fn settings_dashboards_caps_and_data_requests_read_alike() {
    use beckon_shared::proto::v1::{DataRequestList, RatingSummary, SiteSettings};
    use beckon_shared::rules::{Caps, Context};
    let settings = json!({
        "key": "demo", "name": "Demo", "greeting": "Hi", "accent": "#0a7", "position": "left",
        "allowed_origins": ["https://shop.example"], "allow_loopback_origins": true,
        "remember_visitors": true, "rate_tier": "high", "language": "de",
        "translations": {"de": {"greeting": "Hallo"}, "fr": {}}, "font": "Inter"
    });
    let auto = {
        let mut s = settings.clone();
        s["language"] = json!("auto");
        s
    };
    let (s, s_ok) = same::<SiteSettings>(&[settings, auto]);
    let (r, r_ok) = same::<RatingSummary>(&[
        json!({"scores": [1, 0, 2, 5, 9], "count": 17, "csat_percent": 82.5, "mean": 4.1,
        "comments": [{"conversation_id": C, "score": 5, "comment": "Great", "rated_at": 9, "agent": "Ana"}]}),
    ]);
    let (d, d_ok) = same::<DataRequestList>(&[json!({"requests": [
        {"id": "d1", "visitor_id": V, "kind": "export", "by": {"id": "u1", "name": "Ana"},
         "at": 5, "conversations": 1, "messages": 2, "files": 0},
        {"id": "d2", "visitor_id": V, "kind": "from_the_future", "by": {"id": "k", "name": "key"},
         "at": 6, "conversations": 0, "messages": 0, "files": 0}
    ]})]);
    let (c, c_ok) = same::<Caps>(&[
        json!({"shown_at": {"r1": 5, "r2": 9}, "session": ["r1"], "dismissed": ["r2"]}),
    ]);
    let (x, x_ok) = same::<Context>(&[json!({"url": "https://a.example/p", "events": ["cart"],
        "visits": 2, "returning": true, "device": "mobile", "scroll_percent": 40})]);
    println!(
        "SiteSettings {s} ({s_ok} read), RatingSummary {r} ({r_ok}), DataRequestList {d} ({d_ok}), Caps {c} ({c_ok}), Context {x} ({x_ok})"
    );
    assert!(s_ok > 10 && r_ok > 2 && d_ok > 10 && c_ok > 5 && x_ok > 10);
}

/// Types made up to reach every case of the derive: each `rename_all` rule for fields and for
/// variants, defaults in serde's order, skipped fields, and what a transparent newtype or a box
/// reads as when its field is not there.
mod made_up {
    use beckon_shared::json::FromJson;
    use serde::Deserialize;

    fn seven() -> u8 {
        7
    }

    #[derive(Debug, PartialEq, Deserialize, FromJson)]
    #[serde(rename_all = "camelCase")]
    pub struct Camel {
        pub first_name: String,
        #[serde(skip_deserializing, default = "seven")]
        pub skipped: u8,
        #[serde(default = "seven")]
        pub with_path: u8,
        #[serde(rename = "x-y")]
        pub renamed: Option<u8>,
        pub t: Transparent,
        pub b: Box<Option<u8>>,
    }

    #[derive(Debug, PartialEq, Default, Deserialize, FromJson)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE", default, deny_unknown_fields)]
    pub struct Screaming {
        pub a_b: u8,
        #[serde(default = "seven")]
        pub own: u8,
        #[serde(skip_deserializing)]
        pub skipped: u8,
    }

    #[derive(Debug, PartialEq, Deserialize, FromJson)]
    #[serde(transparent)]
    pub struct Transparent(pub Option<u8>);

    #[derive(Debug, PartialEq, Deserialize, FromJson)]
    #[serde(rename_all = "kebab-case")]
    pub enum Kebab {
        FirstOne,
        SecondTwo(u8),
        ThirdThree {
            a_b: u8,
        },
        #[serde(rename = "four")]
        Fourth,
        #[serde(other)]
        Other,
    }

    macro_rules! cased {
        ($($name:ident $rule:literal),*) => {$(
            #[derive(Debug, PartialEq, Deserialize, FromJson)]
            #[serde(rename_all = $rule)]
            pub enum $name {
                OneTwo,
                Three,
            }
        )*};
    }
    cased!(Lower "lowercase", Upper "UPPERCASE", Pascal "PascalCase", Camels "camelCase",
           Snake "snake_case", Screams "SCREAMING_SNAKE_CASE");

    #[derive(Debug, PartialEq, Deserialize, FromJson)]
    #[serde(rename_all = "PascalCase")]
    pub struct Fields {
        pub one_two: u8,
    }
}

#[test]
fn every_case_of_the_derive_reads_as_serde_does() {
    use made_up::*;
    let (n, ok) =
        same::<Camel>(&[json!({"firstName": "A", "withPath": 2, "x-y": 3, "t": 4, "b": 5})]);
    assert!(ok > 10, "{n} {ok}");
    let camel = Camel::from_json(json!({"firstName": "A", "t": null, "b": null})).unwrap();
    assert_eq!((camel.skipped, camel.with_path), (7, 7));
    let missing = Camel::from_json(json!({"firstName": "A"})).unwrap();
    assert_eq!((missing.t, *missing.b), (Transparent(None), None));
    let (_, ok) = same::<Screaming>(&[json!({"A_B": 1, "OWN": 2}), json!({})]);
    assert!(ok > 2);
    assert_eq!(Screaming::from_json(json!({})).unwrap().own, 7);
    let (_, ok) = same::<Vec<Kebab>>(&[
        json!(["first-one", {"second-two": 2}, {"third-three": {"a_b": 3}}, "four", "five"]),
    ]);
    assert!(ok > 2);
    for name in [
        "onetwo", "ONETWO", "OneTwo", "oneTwo", "one_two", "ONE_TWO", "three", "THREE", "Three",
    ] {
        let v = json!(name);
        macro_rules! both {
            ($($t:ty),*) => {$(
                let serde = json::from_value::<$t>(v.clone()).ok();
                assert_eq!(serde, <$t>::from_json(v.clone()).ok(), "{name} as {}", stringify!($t));
            )*};
        }
        both!(Lower, Upper, Pascal, Camels, Snake, Screams);
    }
    let (_, ok) = same::<Fields>(&[json!({"OneTwo": 1})]);
    assert!(ok > 0);
}
