//! Validation and normalisation of user-typed text (message bodies, names), shared so the
//! widget and the edge agree on exactly what is acceptable.

use crate::limits::{MAX_MESSAGE_CHARS, MAX_URL_LEN};
use crate::proto::v1::ErrorCode;

/// Normalises a message body (CRLF → LF, trims surrounding whitespace) and checks it.
///
/// Rejects empty bodies, bodies over [`MAX_MESSAGE_CHARS`] and control characters other than
/// newline and tab (they have no business in a chat message and can corrupt relays).
pub fn normalize_body(raw: &str) -> Result<String, ErrorCode> {
    let body = raw.replace("\r\n", "\n").replace('\r', "\n");
    let body = body.trim();
    if body.is_empty() {
        return Err(ErrorCode::EmptyMessage);
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ErrorCode::MessageTooLong);
    }
    if body
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ErrorCode::InvalidText);
    }
    Ok(body.to_owned())
}

/// Whether `url` is a plain web address we may record and show as a link: `http(s)://`, at most
/// [`MAX_URL_LEN`] bytes, no whitespace or control characters. Anything else (`javascript:`,
/// `data:`, …) is refused at the edge so no client ever renders it as a link.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() <= MAX_URL_LEN
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// A page address as Beckon keeps it: without its fragment and without query parameters other
/// than campaign tags (`utm_*`) — sites put reset tokens, emails and session ids there, and a
/// relay must not carry them to Telegram, Slack or WhatsApp.
pub fn private_url(url: &str) -> String {
    let url = url.split('#').next().unwrap_or_default();
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| p.to_ascii_lowercase().starts_with("utm_"))
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// The path of a page address, without scheme, host, query or fragment (`/pricing`): what
/// agents see of a visitor's page before the visitor wrote anything.
pub fn page_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    if path.is_empty() {
        "/".into()
    } else {
        path.to_owned()
    }
}

/// Normalises a short single-line label (agent name, site name): trims, rejects control
/// characters and anything over `max` characters. Empty is allowed and returns `None`.
pub fn normalize_label(raw: &str, max: usize) -> Result<Option<String>, ErrorCode> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(ErrorCode::InvalidText);
    }
    Ok(Some(s.to_owned()))
}

/// Tags as kept: trimmed, lower-case, without empties or repeats, sorted; at most
/// [`MAX_TAGS`] of at most [`MAX_TAG_CHARS`] characters without control characters.
///
/// [`MAX_TAGS`]: crate::limits::MAX_TAGS
/// [`MAX_TAG_CHARS`]: crate::limits::MAX_TAG_CHARS
pub fn normalize_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    use crate::limits::{MAX_TAGS, MAX_TAG_CHARS};
    let mut tags: Vec<String> = tags
        .into_iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort();
    tags.dedup();
    if let Some(t) = tags.iter().find(|t| t.chars().any(char::is_control)) {
        return Err(format!("{t:?} is not one line of text"));
    }
    if let Some(t) = tags.iter().find(|t| t.chars().count() > MAX_TAG_CHARS) {
        return Err(format!("{t:?} is longer than {MAX_TAG_CHARS} characters"));
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags, not {}", tags.len()));
    }
    Ok(tags)
}

/// The first `max` characters of `body` on one line, with an ellipsis when cut; used for
/// conversation-list previews and notifications.
pub fn preview(body: &str, max: usize) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_kept_trimmed_lower_case_unique_and_sorted() {
        assert_eq!(
            normalize_tags([" VIP", "refund", "", "vip "]).unwrap(),
            ["refund", "vip"]
        );
        assert!(normalize_tags(["a\u{7}b"]).is_err());
        // Repeats count once.
        let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        let again = twenty.iter().map(String::as_str).chain(["T0"]);
        assert_eq!(normalize_tags(again).unwrap().len(), 20);
        assert!(normalize_tags([&"x".repeat(41)[..]]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(normalize_tags(many.iter().map(String::as_str)).is_err());
    }

    #[test]
    fn web_urls() {
        for ok in [
            "https://shop.example/p?q=1#x",
            "HTTP://a.example",
            "http://127.0.0.1:8787/",
        ] {
            assert!(is_web_url(ok), "{ok}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_LEN));
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<b>",
            "file:///etc/passwd",
            "android-app://com.example/",
            "https://a.example/\nb",
            "https://a b",
            "",
            "http",
            long.as_str(),
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn bodies() {
        assert_eq!(normalize_body("  hi\r\nthere \n").unwrap(), "hi\nthere");
        assert_eq!(normalize_body(" \n\t "), Err(ErrorCode::EmptyMessage));
        assert_eq!(
            normalize_body(&"é".repeat(MAX_MESSAGE_CHARS))
                .unwrap()
                .chars()
                .count(),
            MAX_MESSAGE_CHARS
        );
        assert_eq!(
            normalize_body(&"é".repeat(MAX_MESSAGE_CHARS + 1)),
            Err(ErrorCode::MessageTooLong)
        );
        assert_eq!(normalize_body("bell\u{7}"), Err(ErrorCode::InvalidText));
        assert_eq!(
            normalize_body("<script>alert(1)</script>").unwrap(),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn labels_and_previews() {
        assert_eq!(normalize_label("  Ana ", 10), Ok(Some("Ana".into())));
        assert_eq!(normalize_label("   ", 10), Ok(None));
        assert_eq!(normalize_label("a\nb", 10), Err(ErrorCode::InvalidText));
        assert_eq!(
            normalize_label("abcdefghijk", 10),
            Err(ErrorCode::InvalidText)
        );
        assert_eq!(preview("a\nb", 10), "a b");
        assert_eq!(preview("abcdef", 4), "abc…");
    }

    #[test]
    fn page_addresses_keep_only_campaign_tags() {
        assert_eq!(
            private_url("https://shop.example/reset?token=abc&utm_source=news&email=a@b.c#step=2"),
            "https://shop.example/reset?utm_source=news"
        );
        assert_eq!(
            private_url("https://shop.example/p?session=1"),
            "https://shop.example/p"
        );
        assert_eq!(
            private_url("https://shop.example/p#x"),
            "https://shop.example/p"
        );
        assert_eq!(
            private_url("https://shop.example/p"),
            "https://shop.example/p"
        );
    }
}
