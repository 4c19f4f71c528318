//! Full-text search over messages (D1 FTS5). `message_texts` holds each text message once,
//! written with the conversation index's batches (`site_hub/index.rs`); `message_search`
//! indexes it, kept in step by the triggers of the migration. [`query`] turns a person's words
//! into an FTS5 query; [`hits`] and [`snippet`] are the SQL a conversation list adds.

use super::{stmt, Arg};
use crate::error::Result;
use beckon_shared::ConversationId;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement};

/// A text message as the search index keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub seq: u64,
    pub at: i64,
    pub body: String,
}

/// The most texts a conversation hands over at once (a long history catches up over several
/// flushes).
pub const MAX_TEXTS: usize = 100;

/// The most words of a search used.
const MAX_WORDS: usize = 12;

/// A person's words as an FTS5 query: every word must occur, in any order, the last one of
/// three letters or more as a prefix (it may be still being typed; the table keeps prefix
/// indexes of 2 and 3 letters). Words are split as the index splits them (on what is not a letter or
/// digit), so quotes and FTS5 operators are only ever text. `None`: no word.
pub fn query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|w| format!("\"{w}\""))
        .collect();
    // Quoted: the word is two characters shorter.
    let last = words.last()?.chars().count() - 2;
    let prefix = if last >= 3 { "*" } else { "" };
    Some(format!("{}{prefix}", words.join(" ")))
}

/// A text message on its way to the index, with the site and conversation it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub site_key: String,
    pub conversation_id: String,
    pub seq: i64,
    pub at: i64,
    pub body: String,
}

/// One statement adding as many of `entries` as it carries ([`super::json_rows`]), each
/// message once however often sent; and how many that is.
pub fn insert(db: &D1Database, entries: &[Entry]) -> Result<(D1PreparedStatement, usize)> {
    let (json, n) = super::json_rows(entries)?;
    let statement = stmt(
        db,
        "INSERT OR IGNORE INTO message_texts (site_key, conversation_id, seq, at, body)
         SELECT json_extract(value, '$.site_key'), json_extract(value, '$.conversation_id'),
                json_extract(value, '$.seq'), json_extract(value, '$.at'),
                json_extract(value, '$.body')
           FROM json_each(?1) ORDER BY key",
        &[Arg::Str(&json)],
    )?;
    Ok((statement, n))
}

/// SQL: a table `hits (conversation_id, text_id)`: each conversation on the site in `site` (a
/// parameter that may be NULL: every site) with a message matching the FTS5 query in `param`,
/// and its newest such message. One pass over the matches, however many there are (a word of
/// every message included): nothing is ranked.
pub fn hits(param: &str, site: &str) -> String {
    format!(
        "(SELECT t.conversation_id, MAX(t.id) AS text_id FROM message_search
           JOIN message_texts t ON t.id = message_search.rowid
          WHERE message_search MATCH {param} AND ({site} IS NULL OR t.site_key = {site})
          GROUP BY t.conversation_id) AS hits"
    )
}

/// SQL: message text `text_id` (a column) cut around the words of the FTS5 query in `param`.
pub fn snippet(param: &str, text_id: &str) -> String {
    format!(
        "(SELECT snippet(message_search, 0, '', '', '…', 16) FROM message_search
          WHERE message_search MATCH {param} AND rowid = {text_id})"
    )
}

/// Forgets a deleted conversation's texts (the triggers unindex them).
pub fn delete(db: &D1Database, id: &ConversationId) -> Result<D1PreparedStatement> {
    stmt(
        db,
        "DELETE FROM message_texts WHERE conversation_id = ?1",
        &[Arg::Str(id.as_str())],
    )
}

#[cfg(test)]
mod tests {
    use super::query;

    #[test]
    fn words_become_a_query_that_cannot_be_an_operator() {
        assert_eq!(query("parcel"), Some("\"parcel\"*".into()));
        // A short last word is a word: a prefix of one letter would match nearly everything.
        assert_eq!(query("order a"), Some("\"order\" \"a\"".into()));
        assert_eq!(query("ab"), Some("\"ab\"".into()));
        assert_eq!(query("abc"), Some("\"abc\"*".into()));
        assert_eq!(
            query("  Refund, the PARCEL "),
            Some("\"Refund\" \"the\" \"PARCEL\"*".into())
        );
        // Quotes, operators and column filters are text, or nothing.
        assert_eq!(query("\"a\" OR bee*"), Some("\"a\" \"OR\" \"bee\"*".into()));
        assert_eq!(
            query("body: NEAR(x yes)"),
            Some("\"body\" \"NEAR\" \"x\" \"yes\"*".into())
        );
        assert_eq!(query("Olá São"), Some("\"Olá\" \"São\"*".into()));
        assert_eq!(query(" *()\"- "), None);
        assert_eq!(query(""), None);
        let many = "w ".repeat(40);
        assert_eq!(query(&many).unwrap().matches('"').count(), 2 * 12);
    }
}
