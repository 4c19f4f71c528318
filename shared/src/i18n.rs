//! The widget's languages: which ones exist ([`Locale`]), which one a visitor gets
//! ([`Locale::negotiate`]), and every text the widget shows ([`Text`], with its English).
//!
//! A translation is a catalog, `shared/i18n/{code}.json`: a flat object from a text's key to
//! its translation, `{name}`-style placeholders kept as in English; a text that depends on a
//! count is an object of CLDR plural categories (`"one"`, `"few"`, …, always `"other"`), chosen
//! in the browser by `Intl.PluralRules`. English is built in (it is the fallback of every
//! missing key). The edge puts the visitor's catalog into the widget's page; a
//! `Beckon.setLocale` after that has the loader open a new page in the new language.

use serde::{Deserialize, Serialize};

/// A language the widget speaks; written as its [`code`](Locale::code) (serde by hand: a
/// string read and matched costs the widget less than a derived visitor).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Locale {
    #[default]
    En,
    Id,
    Es,
    PtBr,
    Fr,
    De,
    Ar,
}

impl Serialize for Locale {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Locale, D::Error> {
        let code = String::deserialize(d)?;
        Locale::ALL
            .into_iter()
            .find(|l| l.code() == code)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown language {code:?}: the widget speaks en, id, es, pt-BR, fr, de and ar"
                ))
            })
    }
}

impl crate::json::FromJson for Locale {
    fn from_json(v: crate::json::Value) -> Result<Locale, crate::json::Error> {
        let code = String::from_json(v)?;
        Locale::ALL
            .into_iter()
            .find(|l| l.code() == code)
            .ok_or_else(|| {
                crate::json::error(|| {
                    format!("unknown language \"{code}\": the widget speaks en, id, es, pt-BR, fr, de and ar")
                })
            })
    }
}

impl Locale {
    pub const ALL: [Locale; 7] = [
        Locale::En,
        Locale::Id,
        Locale::Es,
        Locale::PtBr,
        Locale::Fr,
        Locale::De,
        Locale::Ar,
    ];

    /// Its BCP 47 tag, as in `lang` attributes and catalog file names.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Id => "id",
            Locale::Es => "es",
            Locale::PtBr => "pt-BR",
            Locale::Fr => "fr",
            Locale::De => "de",
            Locale::Ar => "ar",
        }
    }

    /// The language a tag asks for, by its primary subtag (`pt-PT` gets Brazilian
    /// Portuguese, `in` is the old tag of Indonesian); `None` if the widget does not speak it.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Some(match primary.as_str() {
            "en" => Locale::En,
            "id" | "in" => Locale::Id,
            "es" => Locale::Es,
            "pt" => Locale::PtBr,
            "fr" => Locale::Fr,
            "de" => Locale::De,
            "ar" => Locale::Ar,
            _ => return None,
        })
    }

    /// The first spoken language of an `Accept-Language` header, by quality (ties keep the
    /// header's order); `None` when it names none.
    pub fn negotiate(accept_language: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let Some(locale) = parts.next().and_then(Locale::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }

    /// Written right to left.
    pub fn rtl(self) -> bool {
        self == Locale::Ar
    }

    pub fn dir(self) -> &'static str {
        if self.rtl() {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// The catalog's source (`{}` for English, which is built in). Only the edge and the
    /// tests use this: the browser gets a catalog from the page or over HTTP.
    pub fn catalog_source(self) -> &'static str {
        match self {
            Locale::En => "{}",
            Locale::Id => include_str!("../i18n/id.json"),
            Locale::Es => include_str!("../i18n/es.json"),
            Locale::PtBr => include_str!("../i18n/pt-BR.json"),
            Locale::Fr => include_str!("../i18n/fr.json"),
            Locale::De => include_str!("../i18n/de.json"),
            Locale::Ar => include_str!("../i18n/ar.json"),
        }
    }

    /// The CLDR plural categories of whole numbers in this language (what a counted text's
    /// translation must give).
    pub fn plural_categories(self) -> &'static [&'static str] {
        match self {
            Locale::Id => &["other"],
            Locale::En | Locale::De => &["one", "other"],
            Locale::Es | Locale::PtBr | Locale::Fr => &["one", "many", "other"],
            Locale::Ar => &["zero", "one", "two", "few", "many", "other"],
        }
    }
}

/// A site's language setting: `"auto"` (each visitor's browser decides) or one language.
/// Written as a string (serde by hand, like [`Locale`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SiteLanguage {
    #[default]
    Auto,
    Fixed(Locale),
}

impl crate::json::FromJson for SiteLanguage {
    fn from_json(v: crate::json::Value) -> Result<SiteLanguage, crate::json::Error> {
        match v {
            crate::json::Value::String(s) if s == "auto" => Ok(SiteLanguage::Auto),
            v => Locale::from_json(v).map(SiteLanguage::Fixed),
        }
    }
}

impl Serialize for SiteLanguage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SiteLanguage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SiteLanguage, D::Error> {
        let code = String::deserialize(d)?;
        match code.as_str() {
            "auto" => Ok(SiteLanguage::Auto),
            _ => Locale::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(code))
                .map(SiteLanguage::Fixed)
                .map_err(|_| {
                    serde::de::Error::custom(
                        "language must be \"auto\" or one of en, id, es, pt-BR, fr, de, ar",
                    )
                }),
        }
    }
}

impl SiteLanguage {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteLanguage::Auto => "auto",
            SiteLanguage::Fixed(l) => l.code(),
        }
    }

    /// As stored (anything unknown reads as `auto`).
    pub fn parse(s: &str) -> SiteLanguage {
        Locale::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .map_or(SiteLanguage::Auto, SiteLanguage::Fixed)
    }
}

/// The language a widget opens in: the page's `Beckon.setLocale` if the widget speaks it,
/// else the site's setting, else the browser's `Accept-Language`, else English.
pub fn pick(asked: Option<&str>, site: SiteLanguage, accept_language: Option<&str>) -> Locale {
    asked
        .and_then(Locale::parse)
        .or(match site {
            SiteLanguage::Fixed(l) => Some(l),
            SiteLanguage::Auto => None,
        })
        .or_else(|| accept_language.and_then(Locale::negotiate))
        .unwrap_or_default()
}

macro_rules! texts {
    ($($(#[$doc:meta])* $name:ident = $key:literal : $en:literal $(, counted)?;)*) => {
        /// Every text the widget shows, with its key in the catalogs and its English.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Text { $($(#[$doc])* $name,)* }

        impl Text {
            pub const ALL: &'static [Text] = &[$(Text::$name,)*];

            #[inline]
            pub fn key(self) -> &'static str {
                match self { $(Text::$name => $key,)* }
            }

            /// The English (for a counted text, its `other` form).
            #[inline]
            pub fn en(self) -> &'static str {
                match self { $(Text::$name => $en,)* }
            }
        }
    };
}

texts! {
    // The launcher, on the host page.
    OpenChat = "open_chat": "Open chat";
    CloseChat = "close_chat": "Close chat";
    /// Counted: `{n}`.
    Unread = "unread": "{n} unread";
    ChatTitle = "chat_title": "{name} chat";
    // The panel.
    ChatWith = "chat_with": "Chat with {name}";
    StatusOnline = "status_online": "We typically reply in a few minutes";
    StatusConnecting = "status_connecting": "Connecting…";
    StatusOffline = "status_offline": "Offline — reconnecting…";
    /// Outside the site's opening hours: `{when}` is the weekday and time it opens next.
    StatusBack = "status_back": "Away · back {when}";
    /// Nobody in the inbox, no app relaying, or closed with no opening this week.
    StatusAway = "status_away": "Nobody's here right now · we'll reply as soon as we can";
    AnnouncementsMuted = "announcements_muted": "Announcements muted.";
    AnnouncementsOn = "announcements_on": "You get our announcements here.";
    Unmute = "unmute": "Unmute";
    Mute = "mute": "Mute announcements";
    AwayLeft = "away_left": "Nobody's here right now: we'll answer at {email}.";
    Change = "change": "Change";
    AwayAsk = "away_ask": "Nobody's here right now. Leave your email and we'll answer there:";
    NotifyMe = "notify_me": "Notify me";
    /// Offered once the visitor wrote, on a site with browser notifications on.
    NotifyAsk = "notify_ask": "Get a notification when we reply?";
    // The pre-chat form.
    PrechatIntro = "prechat_intro": "Before we start, tell us a little about you.";
    YourName = "your_name": "Name";
    YourEmail = "your_email": "Email";
    Optional = "optional": "(optional)";
    StartChat = "start_chat": "Start chat";
    Team = "team": "Team";
    // The conversation.
    Messages = "messages": "Messages";
    Typing = "typing": "Typing";
    Sending = "sending": "Sending…";
    NotSent = "not_sent": "Not sent";
    Delivered = "delivered": "Delivered";
    Seen = "seen": "Seen";
    Visitor = "visitor": "Visitor";
    Broadcast = "broadcast": "Broadcast";
    Remove = "remove": "Remove";
    Cancel = "cancel": "Cancel";
    FileProgress = "file_progress": "{sent} of {size}";
    SendingFile = "sending_file": "Sending {name}";
    OpenFullSize = "open_full_size": "{name} (open full size)";
    Download = "download": "Download";
    // The composer.
    AttachFile = "attach_file": "Attach a file";
    MessageLabel = "message": "Message";
    WriteMessage = "write_message": "Write a message…";
    Send = "send": "Send";
    // A teaser.
    MessageFrom = "message_from": "Message from {name}";
    Dismiss = "dismiss": "Dismiss message";
    Reply = "reply": "Reply";
    // Why something was refused.
    FileEmpty = "file_empty": "{name} is empty.";
    FileKind = "file_kind": "{name}: this kind of file cannot be sent (images, videos, PDFs, text and Office documents can).";
    FileTooBig = "file_too_big": "{name} is {size} MB; files of this kind can be at most {max} MB.";
    FileName = "file_name": "{name}: this file's name cannot be sent — rename the file and try again.";
    Cancelled = "cancelled": "Cancelled.";
    Unreachable = "unreachable": "Cannot reach the server; retrying…";
    ChallengeIncomplete = "challenge_incomplete": "The check that you are a person did not complete; your message is kept. Send another to try again.";
    EmptyMessage = "empty_message": "The message is empty.";
    MessageTooLong = "message_too_long": "The message is too long.";
    InvalidText = "invalid_text": "The text contains characters that are not allowed.";
    RateLimited = "rate_limited": "Too many messages at once; try again shortly.";
    NotAccepted = "not_accepted": "This kind of file is not accepted.";
    TooLarge = "too_large": "This is too large to send.";
    ChallengeFailed = "challenge_failed": "The check that you are a person did not pass; try again.";
    SomethingWrong = "something_wrong": "Something went wrong; try again.";
}

impl Text {
    /// The text said when the edge refused something with `code`, for a visitor.
    pub fn for_error(code: crate::proto::v1::ErrorCode) -> Text {
        use crate::proto::v1::ErrorCode as E;
        match code {
            E::EmptyMessage => Text::EmptyMessage,
            E::MessageTooLong => Text::MessageTooLong,
            E::InvalidText => Text::InvalidText,
            E::RateLimited => Text::RateLimited,
            E::UnsupportedFile => Text::NotAccepted,
            E::PayloadTooLarge => Text::TooLarge,
            E::ChallengeFailed => Text::ChallengeFailed,
            _ => Text::SomethingWrong,
        }
    }

    /// Whether the text depends on a count (its translations are plural objects).
    pub fn counted(self) -> bool {
        self == Text::Unread
    }
}

/// `t` in `locale` (a counted text's `other` form), English where the catalog lacks it. For
/// the edge, which reads a catalog rarely; the browser keeps its catalog parsed.
pub fn text(locale: Locale, t: Text) -> String {
    let catalog: serde_json::Value =
        serde_json::from_str(locale.catalog_source()).unwrap_or_default();
    let v = &catalog[t.key()];
    v.as_str()
        .or_else(|| v["other"].as_str())
        .unwrap_or(t.en())
        .to_owned()
}

/// The `{name}` placeholders of a text, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    out
}

/// `text` with each `{name}` replaced by its value (an unknown one is left as it is).
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (close, v))
        });
        match known {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v
}

/// What is wrong with a catalog, one line per problem (empty when it is complete).
pub fn check_catalog(locale: Locale, source: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let map = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(source) {
        Ok(m) => m,
        Err(e) => return vec![format!("not a JSON object: {e}")],
    };
    for key in map.keys() {
        if !Text::ALL.iter().any(|t| t.key() == key) {
            problems.push(format!("{key}: no such text"));
        }
    }
    for t in Text::ALL {
        let want = sorted(placeholders(t.en()));
        let forms: Vec<(&str, &str)> = match (map.get(t.key()), t.counted()) {
            (None, _) => {
                problems.push(format!("{}: missing", t.key()));
                continue;
            }
            (Some(serde_json::Value::String(s)), false) => vec![("", s.as_str())],
            (Some(serde_json::Value::Object(o)), true) => {
                let cats = locale.plural_categories();
                for c in cats {
                    if !o.contains_key(*c) {
                        problems.push(format!("{}: no \"{c}\" form", t.key()));
                    }
                }
                o.iter()
                    .filter_map(|(c, v)| {
                        if !cats.contains(&c.as_str()) {
                            problems.push(format!("{}: \"{c}\" is not a category here", t.key()));
                        }
                        v.as_str().map(|s| (c.as_str(), s))
                    })
                    .collect()
            }
            (Some(_), counted) => {
                let want = if counted {
                    "a plural object"
                } else {
                    "a string"
                };
                problems.push(format!("{}: should be {want}", t.key()));
                continue;
            }
        };
        for (form, s) in forms {
            if s.trim().is_empty() {
                problems.push(format!("{} {form}: empty", t.key()));
            }
            // A plural form may leave the count out ("one message"); nothing else may differ.
            let mut got = sorted(placeholders(s));
            if t.counted() && !got.contains(&"n") {
                got.push("n");
                got.sort_unstable();
            }
            if got != want {
                problems.push(format!(
                    "{} {form}: placeholders {got:?}, English has {want:?}",
                    t.key()
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_has_every_text_with_its_placeholders_and_plural_forms() {
        for l in Locale::ALL {
            let problems = check_catalog(l, l.catalog_source());
            let allowed_missing = if l == Locale::En { Text::ALL.len() } else { 0 };
            assert_eq!(
                problems.iter().filter(|p| p.ends_with(": missing")).count(),
                allowed_missing,
                "{}: {problems:#?}",
                l.code()
            );
            if l != Locale::En {
                assert!(problems.is_empty(), "{}: {problems:#?}", l.code());
            }
        }
    }

    #[test]
    fn a_broken_catalog_says_what_is_wrong() {
        let p = check_catalog(
            Locale::Ar,
            r#"{"open_chat": "", "unread": {"one": "x", "other": "{n} y"}, "chat_with": "{nom}", "nope": "x"}"#,
        );
        for want in [
            "nope: no such text",
            "open_chat : empty",
            "unread: no \"zero\" form",
            "chat_with : placeholders [\"nom\"], English has [\"name\"]",
            "close_chat: missing",
        ] {
            assert!(p.iter().any(|x| x == want), "{want} not in {p:#?}");
        }
    }

    #[test]
    fn the_visitor_gets_the_first_language_spoken_by_quality() {
        assert_eq!(
            Locale::negotiate("id-ID,id;q=0.9,en;q=0.8"),
            Some(Locale::Id)
        );
        assert_eq!(
            Locale::negotiate("nl;q=1,pt-PT;q=0.8,en;q=0.5"),
            Some(Locale::PtBr)
        );
        assert_eq!(Locale::negotiate("en;q=0.4, ar-EG"), Some(Locale::Ar));
        assert_eq!(Locale::negotiate("de;q=0, fr;q=0.1"), Some(Locale::Fr));
        assert_eq!(Locale::negotiate("ja, zh-CN"), None);
        assert_eq!(Locale::negotiate(""), None);
        assert_eq!(Locale::parse("in"), Some(Locale::Id));
        assert_eq!(Locale::parse("pt_BR"), Some(Locale::PtBr));
        assert_eq!(Locale::parse("x"), None);
    }

    #[test]
    fn the_page_then_the_site_then_the_browser_choose_the_language() {
        let fr = SiteLanguage::Fixed(Locale::Fr);
        assert_eq!(pick(Some("id"), fr, Some("de")), Locale::Id);
        assert_eq!(pick(Some("ja"), fr, Some("de")), Locale::Fr);
        assert_eq!(
            pick(None, SiteLanguage::Auto, Some("de-AT,de;q=0.9")),
            Locale::De
        );
        assert_eq!(pick(None, SiteLanguage::Auto, None), Locale::En);
        let json = |l: SiteLanguage| serde_json::to_string(&l).unwrap();
        assert_eq!(json(SiteLanguage::Auto), r#""auto""#);
        assert_eq!(json(SiteLanguage::Fixed(Locale::PtBr)), r#""pt-BR""#);
        let read = |s: &str| serde_json::from_str::<SiteLanguage>(s).ok();
        assert_eq!(read(r#""ar""#), Some(SiteLanguage::Fixed(Locale::Ar)));
        assert_eq!(read(r#""auto""#), Some(SiteLanguage::Auto));
        assert_eq!(read(r#""pt""#), None);
        assert_eq!(SiteLanguage::parse("pt-BR").as_str(), "pt-BR");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(placeholders("{a} of {b}"), ["a", "b"]);
        assert_eq!(fill("{a} of {b}", &[("a", "1"), ("b", "2")]), "1 of 2");
        assert_eq!(fill("{a} {x} {", &[("a", "é")]), "é {x} {");
    }
}
