//! CSV written for people to open in a spreadsheet (contacts, a broadcast's recipients, the
//! dashboard): a cell that would start a formula — `=`, `+`, `-`, `@`, a tab or a carriage
//! return first, and not a number — starts with `'`. The contacts import takes that `'` off
//! again ([`uncell`]), so an export imports back unchanged.

/// `v` as a cell a spreadsheet shows as text (a value that is already quoted so gets one
/// more quote, so that [`uncell`] gives it back as it was).
pub fn cell(v: impl ToString) -> String {
    let v = v.to_string();
    if starts_formula(v.trim_start_matches('\'')) {
        format!("'{v}")
    } else {
        v
    }
}

/// A cell as [`cell`] wrote it, back to its value.
pub fn uncell(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if starts_formula(rest.trim_start_matches('\'')) => rest,
        _ => v,
    }
}

fn starts_formula(v: &str) -> bool {
    v.starts_with(['=', '+', '-', '@', '\t', '\r']) && v.parse::<f64>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_text_and_come_back() {
        for (value, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+49 30", "'+49 30"),
            ("-5", "-5"),
            ("Ana", "Ana"),
            ("'quoted", "'quoted"),
            ("'=x", "''=x"),
            ("'+49 30", "''+49 30"),
            ("'-5", "'-5"),
        ] {
            assert_eq!(cell(value), written);
            assert_eq!(uncell(&cell(value)), value);
        }
    }
}
