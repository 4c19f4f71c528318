//! `FromJson` (what the browser apps read with) reads exactly what serde's `Deserialize` reads
//! (what the edge reads with): on samples of every kind of value the apps receive, and on each
//! sample changed in one place — every field taken away, made null, given a value of another
//! type, and every object given an unknown field — both accept with equal values, or both
//! refuse.

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

/// Every place in `v` where an object is, by JSON pointer.
fn objects(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            out.push(at.clone());
            for (k, c) in m {
                objects(
                    c,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                objects(c, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `sample` and each of its one-place changes.
fn variants(sample: &Value) -> Vec<Value> {
    let mut at = Vec::new();
    objects(sample, String::new(), &mut at);
    let mut out = vec![sample.clone()];
    for p in at {
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
