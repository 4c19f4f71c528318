//! D1 access: one module per table group. Functions take the database and plain domain
//! types; SQL stays here and nowhere else.

pub mod admin_keys;
pub mod audiences;
pub mod broadcasts;
pub mod channels;
pub mod contacts;
pub mod conversations;
pub mod dashboard;
pub mod data_requests;
pub mod people;
pub mod ratings;
pub mod replies;
pub mod rules;
pub mod search;
pub mod sites;
pub mod test_clock;
pub mod visitors;
pub mod webhooks;

use crate::error::{Error, Result};
use wasm_bindgen::JsValue;

/// A bind parameter for D1.
#[derive(Clone, Copy)]
pub(crate) enum Arg<'a> {
    Float(f64),
    Str(&'a str),
    OptStr(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
}

pub(crate) fn args(values: &[Arg<'_>]) -> Vec<JsValue> {
    values
        .iter()
        .map(|a| match a {
            Arg::Str(s) => JsValue::from_str(s),
            Arg::OptStr(Some(s)) => JsValue::from_str(s),
            Arg::OptStr(None) => JsValue::NULL,
            Arg::Int(i) | Arg::OptInt(Some(i)) => JsValue::from_f64(*i as f64),
            Arg::OptInt(None) => JsValue::NULL,
            Arg::Float(f) => JsValue::from_f64(*f),
        })
        .collect()
}

/// Whether a statement's run changed any row.
pub(crate) fn changed_any(result: &worker::D1Result) -> Result<bool> {
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

/// Prepares and binds a statement.
pub(crate) fn stmt(
    db: &worker::D1Database,
    sql: &str,
    values: &[Arg<'_>],
) -> Result<worker::D1PreparedStatement> {
    db.prepare(sql).bind(&args(values)).map_err(Error::from)
}

/// True when a D1 error is a UNIQUE / PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &worker::Error) -> bool {
    let s = e.to_string();
    s.contains("UNIQUE constraint failed") || s.contains("PRIMARY KEY")
}
