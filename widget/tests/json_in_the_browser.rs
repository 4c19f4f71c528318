//! The browser apps read JSON with the browser's own parser (`beckon_shared::json::parse`,
//! `JSON.parse`) and copy JS values out as `JSON.stringify` would write them (`json::from_js`):
//! the same values serde_json reads natively, in a real (headless) Chromium.

use beckon_shared::json;
use beckon_shared::proto::v1::ServerFrame;
use js_sys::{Function, Object, Reflect};
use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn json_text_reads_as_serde_json_reads_it() {
    let text = r#"{"a": [1, -2, 2.5, 9007199254740992, 1e300, 0], "b": {"c": null, "d": true},
                   "e": "x\"y\u00e9\ud83d\ude00", "e": "last"}"#;
    assert_eq!(
        json::parse(text).unwrap(),
        json!({"a": [1, -2, 2.5, 9_007_199_254_740_992_u64, 1e300, 0],
               "b": {"c": null, "d": true}, "e": "last"})
    );
    assert_eq!(json::parse("[]").unwrap(), json!([]));
    for bad in ["", "{", "{'a': 1}", "[1,]", "nul"] {
        assert!(json::parse(bad).is_err(), "{bad}");
    }
    // Typed reading goes through it too.
    let frame: ServerFrame =
        json::read(r#"{"type":"error","code":"quota_exceeded","message":"x"}"#).unwrap();
    assert!(matches!(frame, ServerFrame::Error { .. }));
    assert!(json::read::<u8>("300").is_err());
    // serde_json's nesting limit: 128 levels read, 129 do not.
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(json::parse(&nested(json::DEPTH)).is_ok());
    assert!(json::parse(&nested(json::DEPTH + 1)).is_err());
    assert!(json::read::<String>("1").is_err());
}

#[wasm_bindgen_test]
fn js_values_copy_out_as_json_stringify_writes_them() {
    let o = Object::new();
    let set = |k: &str, v: JsValue| {
        Reflect::set(&o, &k.into(), &v).unwrap();
    };
    set("t", "sig".into());
    set("n", 3.into());
    set("gone", JsValue::UNDEFINED);
    set("f", Function::new_no_args("return 1").into());
    set("nan", f64::NAN.into());
    set(
        "list",
        js_sys::Array::of2(&JsValue::NULL, &1.5.into()).into(),
    );
    assert_eq!(
        json::from_js(&o.into()),
        json!({"t": "sig", "n": 3, "nan": null, "list": [null, 1.5]})
    );
    // A value that contains itself ends, as null.
    let cycle = Object::new();
    Reflect::set(&cycle, &"me".into(), &cycle).unwrap();
    assert_eq!(json::from_js(&cycle.into()), serde_json::Value::Null);
}
