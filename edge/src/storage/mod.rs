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

/// The most bytes of JSON bound to one statement ([`json_rows`]); D1 takes a value of up to
/// 2 MB.
pub(crate) const MAX_JSON_BYTES: usize = 1_000_000;

/// Many rows written by one statement travel as one JSON array, unpacked by SQLite's
/// `json_each`: a statement per row cost D1 its own round of encoding and decoding (and,
/// locally, tens of milliseconds of the runtime's thread per batch). The array of as many of
/// `rows`, from the first, as stay within [`MAX_JSON_BYTES`] — at least one — and how many
/// that is.
pub(crate) fn json_rows<T: serde::Serialize>(rows: &[T]) -> Result<(String, usize)> {
    let mut json = String::from("[");
    let mut n = 0;
    for row in rows {
        let one = serde_json::to_string(row).map_err(Error::internal)?;
        // With its comma and the closing bracket.
        if n > 0 && json.len() + one.len() + 2 > MAX_JSON_BYTES {
            break;
        }
        if n > 0 {
            json.push(',');
        }
        json.push_str(&one);
        n += 1;
    }
    json.push(']');
    Ok((json, n))
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

#[cfg(test)]
mod tests {
    use super::{json_rows, MAX_JSON_BYTES};

    #[test]
    fn one_statement_carries_what_fits_and_never_nothing() {
        let small = vec![serde_json::json!({"a": 1}); 3];
        assert_eq!(
            json_rows(&small).unwrap(),
            (r#"[{"a":1},{"a":1},{"a":1}]"#.into(), 3)
        );
        assert_eq!(json_rows::<u8>(&[]).unwrap(), ("[]".into(), 0));
        // Rows of 40,000 bytes: 24 fit in a million (with the commas and brackets).
        let big = vec!["x".repeat(39_998); 100];
        let (json, n) = json_rows(&big).unwrap();
        assert_eq!(n, 24);
        assert!(json.len() <= MAX_JSON_BYTES);
        assert!(serde_json::from_str::<Vec<String>>(&json).is_ok());
        // One row larger than the cap still goes, alone.
        let huge = vec!["x".repeat(MAX_JSON_BYTES), "1".into()];
        assert_eq!(json_rows(&huge).unwrap().1, 1);
    }
}
