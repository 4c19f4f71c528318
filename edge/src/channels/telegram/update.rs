//! Telegram's webhook updates, sans-IO (CHANNELS.md §2.4): the secret-token check and what
//! an update means to Beckon — an agent's message in a conversation's topic (routed by
//! `message_thread_id`, never by `reply_to_message`), or a person writing to the bot in a
//! private chat (a contact). An agent's photo (its largest size), video or document comes
//! with its `file_id`, to be fetched with `getFile`. Bots, ourselves included, are ignored.

use super::api::thread_key;
use crate::auth::ct_eq;
use crate::channels::{Inbound, InboundFile};
use serde::Deserialize;

/// The webhook's secret token header must equal the configured one (constant time).
pub fn verify(webhook_secret: &str, header: Option<&str>) -> bool {
    header.is_some_and(|h| ct_eq(h.as_bytes(), webhook_secret.as_bytes()))
}

#[derive(Deserialize)]
struct Update {
    #[serde(default)]
    message: Option<TgMessage>,
    #[serde(default)]
    callback_query: Option<CallbackQuery>,
}

/// A press of an inline keyboard button (a broadcast's reply button).
#[derive(Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    #[serde(default)]
    message: Option<PressedMessage>,
    #[serde(default)]
    data: Option<String>,
}

#[derive(Deserialize)]
struct PressedMessage {
    chat: Chat,
    #[serde(default)]
    reply_markup: Option<Markup>,
}

#[derive(Deserialize)]
struct Markup {
    #[serde(default)]
    inline_keyboard: Vec<Vec<KeyboardButton>>,
}

#[derive(Deserialize)]
struct KeyboardButton {
    text: String,
    #[serde(default)]
    callback_data: Option<String>,
}

#[derive(Deserialize)]
struct TgMessage {
    message_id: i64,
    #[serde(default)]
    message_thread_id: Option<i64>,
    #[serde(default)]
    is_topic_message: bool,
    chat: Chat,
    #[serde(default)]
    from: Option<User>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    /// A photo in several sizes, the largest last.
    #[serde(default)]
    photo: Vec<TgFile>,
    #[serde(default)]
    video: Option<TgFile>,
    #[serde(default)]
    document: Option<TgFile>,
}

/// A `PhotoSize`, `Video` or `Document`: what `getFile` needs, and what Telegram says of it.
#[derive(Deserialize)]
struct TgFile {
    file_id: String,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    file_size: Option<u64>,
}

impl TgFile {
    fn inbound(self) -> InboundFile {
        InboundFile {
            handle: self.file_id,
            name: self.file_name,
            size: self.file_size,
        }
    }
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
    #[serde(default, rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

/// Control characters dropped, surrounding space trimmed, at most 64 characters.
fn tidy(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(64).collect();
    s.trim().to_owned()
}

impl User {
    /// "First Last" (Telegram requires a first name; a blank one reads "Telegram user").
    fn full_name(&self) -> String {
        let name = tidy(&format!(
            "{} {}",
            self.first_name,
            self.last_name.as_deref().unwrap_or_default()
        ));
        if name.is_empty() {
            "Telegram user".into()
        } else {
            name
        }
    }

    /// "@username", else their name.
    fn handle(&self) -> String {
        match self.username.as_deref().map(tidy) {
            Some(u) if !u.is_empty() => format!("@{u}"),
            _ => self.full_name(),
        }
    }
}

/// What a webhook update means to Beckon.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// An agent's message in a conversation's topic.
    AgentReply(Inbound),
    /// A person writing to the bot in a private chat — a contact.
    Private(PrivateMessage),
}

/// A message in a private chat with the bot.
#[derive(Debug, PartialEq, Eq)]
pub struct PrivateMessage {
    /// The chat's id (the user's id): where the bot may write to them.
    pub chat_id: i64,
    /// Stable across redeliveries (the idempotency key).
    pub event_key: String,
    /// Their name on Telegram ("First Last").
    pub name: String,
    /// How to find them on Telegram: "@username", else their name.
    pub handle: String,
    /// What they wrote; `None` for `/start` and for messages without text (stickers…).
    pub text: Option<String>,
    /// They pressed Start (`/start`, also with a deep-link payload).
    pub is_start: bool,
}

/// An update → an agent's message in a topic, a person's message in a private chat with the
/// bot, or `None` for anything else (bots, including ourselves; the group's General topic;
/// service messages; edits). Topic messages are routed by `message_thread_id`, never by
/// `reply_to_message` (a topic message always "replies" to the topic's creation message).
pub fn parse_update(raw: &[u8]) -> Option<Event> {
    let update: Update = serde_json::from_slice(raw).ok()?;
    if let Some(q) = update.callback_query {
        return pressed(q);
    }
    let m = update.message?;
    let from = m.from?;
    if from.is_bot {
        return None;
    }
    let text = m.text.or(m.caption);
    let event_key = format!("{}:{}", m.chat.id, m.message_id);
    if m.chat.kind == "private" {
        let is_start = text
            .as_deref()
            .is_some_and(|t| t == "/start" || t.starts_with("/start "));
        return Some(Event::Private(PrivateMessage {
            chat_id: m.chat.id,
            event_key,
            name: from.full_name(),
            handle: from.handle(),
            text: text.filter(|t| !is_start && !t.trim().is_empty()),
            is_start,
        }));
    }
    if !m.is_topic_message {
        return None;
    }
    let thread = m.message_thread_id?;
    let files: Vec<InboundFile> = (m.photo.into_iter().last())
        .into_iter()
        .chain(m.video)
        .chain(m.document)
        .map(TgFile::inbound)
        .collect();
    if text.is_none() && files.is_empty() {
        return None;
    }
    Some(Event::AgentReply(Inbound {
        thread_key: thread_key(m.chat.id, thread),
        event_key,
        author: Some(from.first_name).filter(|n| !n.is_empty()),
        text: text.unwrap_or_default(),
        files,
    }))
}

/// The id of the button press an update is, if it is one (answered whatever it turns out
/// to be, so the person's app stops waiting).
pub fn callback_id(raw: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Press {
        callback_query: Option<Id>,
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    serde_json::from_slice::<Press>(raw)
        .ok()?
        .callback_query
        .map(|q| q.id)
}

/// A reply button pressed in a private chat: the person answered with its label (read from
/// the pressed message's own keyboard, so nobody can make up a label).
fn pressed(q: CallbackQuery) -> Option<Event> {
    let m = q.message?;
    let data = q.data?;
    if q.from.is_bot || m.chat.kind != "private" {
        return None;
    }
    let label = m
        .reply_markup?
        .inline_keyboard
        .into_iter()
        .flatten()
        .find(|b| b.callback_data.as_deref() == Some(data.as_str()))?
        .text;
    Some(Event::Private(PrivateMessage {
        chat_id: m.chat.id,
        event_key: format!("cb:{}", q.id),
        name: q.from.full_name(),
        handle: q.from.handle(),
        text: Some(label).filter(|t| !t.trim().is_empty()),
        is_start: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_secret_token() {
        assert!(verify("t42_8dF3kq9ZrR1-_x", Some("t42_8dF3kq9ZrR1-_x")));
        assert!(!verify("t42_8dF3kq9ZrR1-_x", Some("t42_8dF3kq9ZrR1-_y")));
        assert!(!verify("t42_8dF3kq9ZrR1-_x", None));
    }

    #[test]
    fn parses_agent_replies_and_ignores_the_rest() {
        // CHANNELS.md §2.4: an agent's reply in a topic (reply_to_message is the bot's message).
        let update = r#"{ "update_id": 900000123, "message": { "message_id": 187, "message_thread_id": 163, "is_topic_message": true,
            "from": { "id": 111111111, "is_bot": false, "first_name": "Alice", "username": "alice_agent", "language_code": "en" },
            "chat": { "id": -1001234567890, "title": "Acme Support", "type": "supergroup", "is_forum": true }, "date": 1767225660,
            "reply_to_message": { "message_id": 171, "message_thread_id": 163, "is_topic_message": true,
              "from": { "id": 7000000001, "is_bot": true, "first_name": "Acme Relay", "username": "acme_relay_bot" },
              "chat": { "id": -1001234567890, "title": "Acme Support", "type": "supergroup", "is_forum": true },
              "date": 1767225600, "text": "Visitor: Do you ship to Canada?" },
            "text": "Yes — 3-5 business days." } }"#;
        assert_eq!(
            parse_update(update.as_bytes()),
            Some(Event::AgentReply(Inbound {
                thread_key: "-1001234567890:163".into(),
                event_key: "-1001234567890:187".into(),
                author: Some("Alice".into()),
                text: "Yes — 3-5 business days.".into(),
                files: vec![],
            }))
        );
        let photo = br#"{"update_id":2,"message":{"message_id":188,"message_thread_id":163,"is_topic_message":true,"from":{"id":1,"is_bot":false,"first_name":"Alice"},"chat":{"id":-100,"type":"supergroup"},"photo":[{"file_id":"small","file_unique_id":"s","width":90,"height":60,"file_size":900},{"file_id":"big","file_unique_id":"b","width":1280,"height":853,"file_size":91000}],"caption":"Our shop"}}"#;
        let Some(Event::AgentReply(p)) = parse_update(photo) else {
            panic!("an agent's photo")
        };
        assert_eq!(p.text, "Our shop");
        assert_eq!(
            p.files,
            vec![InboundFile {
                handle: "big".into(),
                name: None,
                size: Some(91000)
            }]
        );
        let doc = br#"{"update_id":3,"message":{"message_id":189,"message_thread_id":163,"is_topic_message":true,"from":{"id":1,"is_bot":false,"first_name":"Alice"},"chat":{"id":-100,"type":"supergroup"},"document":{"file_id":"D","file_unique_id":"d","file_name":"quote.pdf","mime_type":"application/pdf","file_size":5000}}}"#;
        let Some(Event::AgentReply(d)) = parse_update(doc) else {
            panic!("an agent's document")
        };
        assert_eq!(
            (d.text.as_str(), d.files[0].name.as_deref()),
            ("", Some("quote.pdf"))
        );
        let own = br#"{"update_id":1,"message":{"message_id":2,"message_thread_id":163,"is_topic_message":true,"from":{"id":7,"is_bot":true,"first_name":"Relay"},"chat":{"id":-100},"text":"Visitor: hi"}}"#;
        assert_eq!(parse_update(own), None);
        let general = br#"{"update_id":1,"message":{"message_id":2,"from":{"id":7,"is_bot":false,"first_name":"A"},"chat":{"id":-100},"text":"hi"}}"#;
        assert_eq!(parse_update(general), None);
        assert_eq!(parse_update(b"not json"), None);
    }

    #[test]
    fn a_pressed_reply_button_is_its_label_from_the_message_keyboard() {
        let press = |data: &str, chat_type: &str| {
            format!(
                r#"{{"update_id":7,"callback_query":{{"id":"4382","from":{{"id":5550001,"is_bot":false,"first_name":"Maria"}},"message":{{"message_id":30,"chat":{{"id":5550001,"type":"{chat_type}"}},"date":1767225660,"text":"Sale","reply_markup":{{"inline_keyboard":[[{{"text":"Shop","url":"https://shop.example/sale"}}],[{{"text":"Yes please","callback_data":"r:1"}}]]}}}},"chat_instance":"1","data":"{data}"}}}}"#
            )
        };
        let Some(Event::Private(m)) = parse_update(press("r:1", "private").as_bytes()) else {
            panic!("a press")
        };
        assert_eq!(
            (m.text.as_deref(), m.event_key.as_str()),
            (Some("Yes please"), "cb:4382")
        );
        // Data no button of the message carries, or outside a private chat: nothing — but
        // the press is still answered.
        assert_eq!(
            callback_id(press("r:9", "private").as_bytes()).as_deref(),
            Some("4382")
        );
        assert_eq!(callback_id(b"{\"update_id\":1,\"message\":{}}"), None);
        assert_eq!(parse_update(press("r:9", "private").as_bytes()), None);
        assert_eq!(parse_update(press("r:1", "supergroup").as_bytes()), None);
    }

    #[test]
    fn parses_private_chats_with_the_bot() {
        let private = |from: &str, text: &str| {
            format!(
                r#"{{"update_id":5,"message":{{"message_id":9,"from":{from},"chat":{{"id":5550001,"first_name":"Maria","type":"private"}},"date":1767225660{text}}}}}"#
            )
        };
        let maria = r#"{"id":5550001,"is_bot":false,"first_name":"Maria","last_name":"Lopez","username":"maria_l"}"#;
        let started = parse_update(private(maria, r#","text":"/start""#).as_bytes());
        assert_eq!(
            started,
            Some(Event::Private(PrivateMessage {
                chat_id: 5550001,
                event_key: "5550001:9".into(),
                name: "Maria Lopez".into(),
                handle: "@maria_l".into(),
                text: None,
                is_start: true
            }))
        );
        // A deep-link start (`/start <payload>`) is a start too; other text is a message.
        let Some(Event::Private(deep)) =
            parse_update(private(maria, r#","text":"/start promo42""#).as_bytes())
        else {
            panic!("a private message")
        };
        assert_eq!((deep.text, deep.is_start), (None, true));
        let no_username =
            r#"{"id":5550001,"is_bot":false,"first_name":"Maria\u0007","last_name":"Lopez"}"#;
        let Some(Event::Private(m)) =
            parse_update(private(no_username, r#","text":"Is my order on its way?""#).as_bytes())
        else {
            panic!("a private message")
        };
        assert_eq!(
            (m.name.as_str(), m.handle.as_str(), m.text.as_deref()),
            (
                "Maria Lopez",
                "Maria Lopez",
                Some("Is my order on its way?")
            )
        );
        // A sticker: the person is a contact, nothing to relay.
        let Some(Event::Private(s)) = parse_update(private(maria, r#","sticker":{}"#).as_bytes())
        else {
            panic!("a private message")
        };
        assert_eq!((s.text, s.is_start), (None, false));
        // Bots never count, in private chats either.
        let bot = r#"{"id":7,"is_bot":true,"first_name":"Other bot"}"#;
        assert_eq!(
            parse_update(private(bot, r#","text":"hi""#).as_bytes()),
            None
        );
    }
}
