//! A site's settings (admin API) and the public configuration derived from them (loader, widget).

use super::{ErrorCode, PrechatForm};
use crate::i18n::{Locale, SiteLanguage};
use crate::ids::SiteKey;
use crate::limits::{MAX_ALLOWED_ORIGINS, MAX_GREETING_CHARS, MAX_SITE_NAME_CHARS};
use crate::rules::hours::OpenHours;
use crate::rules::wakeup::WakeupSpec;
use crate::rules::Rule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which corner the launcher sits in.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson,
)]
#[serde(rename_all = "snake_case")]
pub enum LauncherPosition {
    #[default]
    Right,
    Left,
}

/// What a site says in one language instead of its default words: its greeting, the widget's
/// question for an email address while nobody is online (`away`), the launcher's label.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct SiteWords {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away: Option<String>,
    /// The label beside the launcher's icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launcher: Option<String>,
}

crate::named! {
/// The launcher's icon (24 × 24, drawn with the accent's text colour).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LauncherIcon {
    /// A speech bubble.
    #[default]
    Chat = "chat",
    /// A question mark in a circle.
    Help = "help",
    /// An envelope.
    Mail = "mail",
}
}

impl LauncherIcon {
    /// Its SVG path (`d`), stroked.
    pub fn path(self) -> &'static str {
        match self {
            LauncherIcon::Chat => "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
            LauncherIcon::Help => {
                "M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM9.1 9a3 3 0 0 1 5.8 1c0 2-3 3-3 3M12 17h.01"
            }
            LauncherIcon::Mail => "M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm18 2-10 7L2 6",
        }
    }
}

/// The farthest the launcher may sit from its corner's edges, in CSS pixels.
pub const MAX_LAUNCHER_OFFSET: u16 = 240;
/// At most this many characters of label beside the launcher's icon.
pub const MAX_LAUNCHER_LABEL_CHARS: usize = 32;
/// The widget's font stack for a site that has none of its own.
pub const SYSTEM_FONT: &str = r#"system-ui, -apple-system, "Segoe UI", Roboto, sans-serif"#;
/// At most this long: a site's font stack, as written in CSS.
pub const MAX_FONT_STACK_LEN: usize = 200;

fn default_offset() -> u16 {
    20
}

/// The launcher: its icon, a label beside it (a pill instead of a circle), and its distance
/// from the corner's side and bottom edges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct Launcher {
    #[serde(default)]
    pub icon: LauncherIcon,
    /// In the site's default language; `translations.{code}.launcher` in others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// From the side edge (left or right, as `position` says), px.
    #[serde(default = "default_offset")]
    pub x: u16,
    /// From the bottom edge, px.
    #[serde(default = "default_offset")]
    pub y: u16,
}

impl Default for Launcher {
    fn default() -> Launcher {
        Launcher {
            icon: LauncherIcon::Chat,
            label: None,
            x: default_offset(),
            y: default_offset(),
        }
    }
}

/// Generic CSS font families, written without quotes.
const GENERIC_FONTS: &[&str] = &[
    "serif",
    "sans-serif",
    "monospace",
    "cursive",
    "fantasy",
    "system-ui",
    "ui-serif",
    "ui-sans-serif",
    "ui-monospace",
    "ui-rounded",
    "math",
    "emoji",
];

/// A CSS font stack made safe to put in a stylesheet: up to six families separated by commas,
/// each a name of ASCII letters, digits and hyphens in words one space apart, bare or quoted;
/// a bare generic family (`sans-serif`, `system-ui`, …) stays bare, every other name is quoted
/// on output. `None` for anything else (the OpenAPI pattern states the same grammar).
pub fn normalize_font_stack(raw: &str) -> Option<String> {
    if raw.chars().count() > MAX_FONT_STACK_LEN {
        return None;
    }
    let families: Vec<&str> = raw.split(',').map(|f| f.trim_matches(' ')).collect();
    if families.len() > 6 {
        return None;
    }
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let mut out = Vec::with_capacity(families.len());
    for f in families {
        let name = match f.as_bytes() {
            [q @ (b'"' | b'\''), .., last] if last == q => &f[1..f.len() - 1],
            _ => f,
        };
        if !name.split(' ').all(word) {
            return None;
        }
        let lower = name.to_ascii_lowercase();
        out.push(if name == f && GENERIC_FONTS.contains(&lower.as_str()) {
            lower
        } else {
            format!("\"{name}\"")
        });
    }
    Some(out.join(", "))
}

/// The widget's colours: light, dark, or whichever the visitor's system prefers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson,
)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    Light,
    Dark,
    /// The visitor's `prefers-color-scheme`.
    System,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::System => "system",
        }
    }

    /// As stored (anything unknown reads as light).
    pub fn parse(s: &str) -> Theme {
        match s {
            "dark" => Theme::Dark,
            "system" => Theme::System,
            _ => Theme::Light,
        }
    }
}

/// What catches a visitor's eye when the business writes while the chat panel is closed or the
/// page is in the background. All off by default; the site's boot script loads the code for
/// them (`widget/loader/attention.js`) only when one is on.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson,
)]
#[serde(deny_unknown_fields)]
pub struct Attention {
    /// The unread count in the page's title: "(2) Your shop".
    #[serde(default)]
    pub title: bool,
    /// A short chime.
    #[serde(default)]
    pub sound: bool,
    /// A browser notification, once the visitor agreed (the chat panel asks, after their
    /// first message).
    #[serde(default)]
    pub notify: bool,
}

impl Attention {
    /// Whether any of it is on.
    pub fn any(self) -> bool {
        self.title || self.sound || self.notify
    }
}

/// A site's public configuration: what the loader and the widget need to draw themselves.
/// Served to anyone (it is on every page of the site); holds nothing secret. The browser apps
/// (wasm without the `worker` feature) do not read what only the loader or the edge uses — the
/// launcher's corner, the wake-up spec, the theme — so they carry no code to decode it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct SiteConfig {
    pub site: SiteKey,
    /// The business's name, shown in the chat header.
    pub name: String,
    /// First line a visitor sees in an empty chat.
    pub greeting: String,
    /// Accent colour, `#rrggbb`.
    pub accent: String,
    /// The text colour drawn on the accent (white, or near-black on a light accent): the one
    /// that reaches WCAG AA contrast (4.5:1), chosen by [`text_on`]. Empty when an older edge
    /// sent none (the widget's stylesheet then keeps its default, white).
    #[serde(default)]
    pub accent_text: String,
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub position: LauncherPosition,
    /// The site remembers visitors before they interact (visit count, time on site across
    /// pages), in the host page's storage.
    #[serde(default)]
    pub remember_visitors: bool,
    /// What the loader watches before loading the app (compiled from the site's rules).
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub wakeup: WakeupSpec,
    /// Drawn by the edge on the widget's page (`data-theme`), so the app never reads it.
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub theme: Theme,
    /// The launcher's icon (an SVG path, [`LauncherIcon::path`]) and its distance from the
    /// corner's side and bottom edges (px): for the loader.
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub icon: String,
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub x: u16,
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub y: u16,
    /// The font stack of the launcher's label and the panel: the site's, or [`SYSTEM_FONT`];
    /// applied by the widget page's `boot.js` and the loader.
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub font: String,
}

/// What the edge embeds in the widget's iframe page: the site's configuration and the origin
/// of the host page the iframe was created for (the only origin it will talk to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct WidgetBoot {
    pub config: SiteConfig,
    pub host_origin: String,
    /// The site's enabled proactive rules, evaluated by the app (which reads them itself, once
    /// its second part is in: `widget/src/proactive.rs`).
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub rules: Vec<Rule>,
    /// Whether an agent had the inbox open when the page was served.
    #[serde(default)]
    pub agents_online: bool,
    /// Whether agents hear of messages on another app too (a channel relays them).
    #[serde(default)]
    pub relayed: bool,
    /// Whether the site answers by email (its email channel is on): while no agent is
    /// online, the widget offers to leave an address for the answer.
    #[serde(default)]
    pub away_email: bool,
    /// Set when the site asks visitors to pass Cloudflare Turnstile before a conversation
    /// starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
    /// The language the widget opens in ([`crate::i18n::pick`]) and its catalog (empty for
    /// English, which the widget has built in).
    #[serde(default)]
    pub locale: Locale,
    #[serde(default)]
    pub catalog: serde_json::Map<String, serde_json::Value>,
    /// For a site with opening hours, when it is open in the coming week
    /// ([`crate::rules::hours::OpenHours::windows`]: seconds after `now`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<Vec<u32>>,
    /// The edge's time when it served the page (ms since the epoch).
    #[serde(default)]
    pub now: i64,
    /// The site's pre-chat form, if it has one: its controls as HTML in the visitor's
    /// language, rendered (and every text escaped) by the edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prechat: Option<String>,
    /// The site's label beside the launcher's icon in the visitor's language, if it has one
    /// (the app hands it to the loader with the launcher's other words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launcher_label: Option<String>,
}

/// What the widget needs to show a site's Turnstile challenge: the site's public Turnstile key
/// and the script that draws it (loaded on the first start, never before).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Challenge {
    pub site_key: String,
    pub script_url: String,
}

/// `PUT /api/v1/admin/sites/{site}/turnstile`: the site's Turnstile widget (its public site key
/// and its secret key, from Cloudflare's dashboard), or `{"site_key": null}` to stop asking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct TurnstileSettings {
    /// `None` (null or absent): stop asking.
    #[serde(default)]
    pub site_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The answer (the secret is stored sealed and never shown again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct TurnstileStatus {
    pub site_key: Option<String>,
}

/// At most this long: Turnstile keys are short ASCII strings (`0x4AAAAAAA…`).
pub const MAX_TURNSTILE_KEY_LEN: usize = 100;

impl TurnstileSettings {
    /// The site key and secret to store, `None` to turn the challenge off; or why not.
    pub fn validated(self) -> Result<Option<(String, String)>, (ErrorCode, String)> {
        let Some(site_key) = self.site_key else {
            return match self.secret {
                None => Ok(None),
                Some(_) => Err((ErrorCode::BadRequest, "a secret needs its site_key".into())),
            };
        };
        let ok = |v: &str| {
            !v.is_empty()
                && v.len() <= MAX_TURNSTILE_KEY_LEN
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !ok(&site_key) {
            return Err((
                ErrorCode::BadRequest,
                format!("site_key must be 1 to {MAX_TURNSTILE_KEY_LEN} letters, digits, - or _"),
            ));
        }
        match self.secret {
            Some(secret) if ok(&secret) => Ok(Some((site_key, secret))),
            Some(_) => Err((
                ErrorCode::BadRequest,
                format!("secret must be 1 to {MAX_TURNSTILE_KEY_LEN} letters, digits, - or _"),
            )),
            None => Err((
                ErrorCode::BadRequest,
                "secret is required with a site_key (Turnstile's secret key for this widget)"
                    .into(),
            )),
        }
    }
}

/// Everything an administrator can set on a site. Used to create a site (`POST
/// /api/v1/admin/sites`) and returned by the admin API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct SiteSettings {
    pub key: SiteKey,
    pub name: String,
    pub greeting: String,
    pub accent: String,
    #[serde(default)]
    pub position: LauncherPosition,
    /// Origins (`scheme://host[:port]`) whose pages may embed the widget. Production sites list
    /// them exactly.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Also accept any `http://127.0.0.1:<port>` and `http://localhost:<port>` (local demos).
    #[serde(default)]
    pub allow_loopback_origins: bool,
    /// Count visits and time on site for visitors who have not interacted yet (stored in the
    /// visitor's browser, on the host page). Off by default: see README, "Privacy".
    #[serde(default)]
    pub remember_visitors: bool,
    /// How much traffic one client address may bring to this site's public entry points
    /// (conversations started, presence connections, teaser events and identify calls).
    #[serde(default)]
    pub rate_tier: RateTier,
    /// The widget's language: `auto` (each visitor's browser decides) or one of the languages
    /// it speaks. A page's `Beckon.setLocale` overrides it.
    #[serde(default)]
    pub language: SiteLanguage,
    /// The widget's colours: `light` (the default), `dark`, or `system` (the visitor's).
    #[serde(default)]
    pub theme: Theme,
    /// The site's own words per language, used when the widget opens in that language (the
    /// edge puts them on the widget's page: the browser apps do not read them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub translations: BTreeMap<Locale, SiteWords>,
    /// When someone is there to answer (absent: always). Outside them the widget says when the
    /// site opens next and, where the site answers by email, asks for an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub hours: Option<OpenHours>,
    /// Questions before a visitor's first message (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub prechat: Option<PrechatForm>,
    /// Title count, chime, notifications (all off by default).
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub attention: Attention,
    /// The launcher's icon, label and offsets.
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub launcher: Launcher,
    /// A CSS font stack for the widget (absent: the system's), e.g. `"Inter", sans-serif`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "worker")),
        serde(skip_deserializing)
    )]
    pub font: Option<String>,
}

/// A site's allowance per client address (see `edge/src/rate_limit.rs`). `standard` suits a
/// site whose visitors each have their own address; a business whose visitors share one
/// (an office, a campus, a carrier's NAT) chooses a higher tier.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson,
)]
#[serde(rename_all = "lowercase")]
pub enum RateTier {
    /// The limits as documented (for instance 20 conversations a minute per address).
    #[default]
    Standard,
    /// Five times the standard limits.
    High,
    /// Twenty-five times the standard limits.
    Highest,
}

impl RateTier {
    /// How many times the standard limit this tier allows.
    pub fn multiplier(self) -> u32 {
        match self {
            RateTier::Standard => 1,
            RateTier::High => 5,
            RateTier::Highest => 25,
        }
    }
}

impl SiteSettings {
    /// Checks and normalises every field; the edge stores only what passes.
    pub fn validated(mut self) -> Result<SiteSettings, (ErrorCode, String)> {
        self.name = require_label(&self.name, MAX_SITE_NAME_CHARS, "name")?;
        self.greeting = require_label(&self.greeting, MAX_GREETING_CHARS, "greeting")?;
        self.accent = normalize_color(&self.accent).ok_or((
            ErrorCode::BadRequest,
            "accent must be a colour like #0f766e".into(),
        ))?;
        if self.allowed_origins.len() > MAX_ALLOWED_ORIGINS {
            return Err((
                ErrorCode::BadRequest,
                format!("at most {MAX_ALLOWED_ORIGINS} allowed_origins"),
            ));
        }
        let mut origins = Vec::with_capacity(self.allowed_origins.len());
        for o in &self.allowed_origins {
            let n = normalize_origin(o).ok_or_else(|| {
                (
                    ErrorCode::BadRequest,
                    format!("\"{o}\" is not an origin like https://shop.example"),
                )
            })?;
            if !origins.contains(&n) {
                origins.push(n);
            }
        }
        self.allowed_origins = origins;
        if let Some(label) = self.launcher.label.take() {
            self.launcher.label = Some(require_label(
                &label,
                MAX_LAUNCHER_LABEL_CHARS,
                "launcher.label",
            )?);
        }
        if self.launcher.x > MAX_LAUNCHER_OFFSET || self.launcher.y > MAX_LAUNCHER_OFFSET {
            return Err((
                ErrorCode::BadRequest,
                format!("launcher.x and launcher.y are 0 to {MAX_LAUNCHER_OFFSET} px"),
            ));
        }
        // Kept as given (within its length), quoted for the stylesheet in `public_config`.
        if self
            .font
            .as_deref()
            .is_some_and(|f| normalize_font_stack(f).is_none())
        {
            return Err((
                ErrorCode::BadRequest,
                "font must be up to six families separated by commas, each a generic one \
                 (sans-serif, system-ui, …) or a name of letters, digits, spaces and hyphens"
                    .to_owned(),
            ));
        }
        if let Some(h) = self.hours.take() {
            self.hours = Some(h.validated()?);
        }
        if let Some(p) = self.prechat.take() {
            self.prechat = Some(p.validated()?);
        }
        for (locale, words) in &mut self.translations {
            let code = locale.code();
            for (field, text, max) in [
                ("greeting", &mut words.greeting, MAX_GREETING_CHARS),
                ("away", &mut words.away, MAX_GREETING_CHARS),
                ("launcher", &mut words.launcher, MAX_LAUNCHER_LABEL_CHARS),
            ] {
                if let Some(t) = text {
                    *t = require_label(t, max, &format!("translations.{code}.{field}"))?;
                }
            }
        }
        Ok(self)
    }

    /// The public configuration as a visitor in `locale` sees it (the site's greeting in that
    /// language, if it has one), and that language's catalog with the site's own words in it.
    pub fn in_language(
        &self,
        config: &SiteConfig,
        locale: Locale,
    ) -> (SiteConfig, serde_json::Map<String, serde_json::Value>) {
        let mut config = config.clone();
        let mut catalog: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(locale.catalog_source()).unwrap_or_default();
        if let Some(words) = self.translations.get(&locale) {
            if let Some(g) = &words.greeting {
                config.greeting = g.clone();
            }
            if let Some(a) = &words.away {
                catalog.insert(crate::i18n::Text::AwayAsk.key().into(), a.clone().into());
            }
        }
        (config, catalog)
    }

    /// The public part of the settings; `wakeup` is filled in from the rules.
    pub fn public_config(&self) -> SiteConfig {
        SiteConfig {
            site: self.key.clone(),
            name: self.name.clone(),
            greeting: self.greeting.clone(),
            accent: self.accent.clone(),
            accent_text: text_on(&self.accent).to_owned(),
            position: self.position,
            remember_visitors: self.remember_visitors,
            wakeup: WakeupSpec::default(),
            theme: self.theme,
            icon: self.launcher.icon.path().to_owned(),
            x: self.launcher.x,
            y: self.launcher.y,
            font: self
                .font
                .as_deref()
                .and_then(normalize_font_stack)
                .unwrap_or_else(|| SYSTEM_FONT.to_owned()),
        }
    }

    /// The launcher's label in `locale` (the site's words for it, else its default), if any.
    pub fn launcher_label(&self, locale: Locale) -> Option<&str> {
        self.translations
            .get(&locale)
            .and_then(|w| w.launcher.as_deref())
            .or(self.launcher.label.as_deref())
    }

    /// Whether a page on `origin` may embed this site's widget and call its visitor API.
    pub fn allows_origin(&self, origin: &str) -> bool {
        if self.allowed_origins.iter().any(|o| o == origin) {
            return true;
        }
        self.allow_loopback_origins && is_loopback_http_origin(origin)
    }
}

crate::serde_reads!(SiteSettingsPatch);

/// A partial update of [`SiteSettings`] (`PATCH /api/v1/admin/sites/{key}`); absent fields
/// stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSettingsPatch {
    pub name: Option<String>,
    pub greeting: Option<String>,
    pub accent: Option<String>,
    pub position: Option<LauncherPosition>,
    pub allowed_origins: Option<Vec<String>>,
    pub allow_loopback_origins: Option<bool>,
    pub remember_visitors: Option<bool>,
    pub rate_tier: Option<RateTier>,
    pub language: Option<SiteLanguage>,
    pub theme: Option<Theme>,
    /// Replaces every language's words.
    pub translations: Option<BTreeMap<Locale, SiteWords>>,
    /// `null` removes the hours (always open).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub hours: Option<Option<OpenHours>>,
    /// `null` removes the form.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub prechat: Option<Option<PrechatForm>>,
    pub attention: Option<Attention>,
    pub launcher: Option<Launcher>,
    /// `null` removes the font stack (the system's).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub font: Option<Option<String>>,
}

/// A field that is present, even as `null` (absent stays `None` by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl SiteSettingsPatch {
    pub fn apply(self, mut s: SiteSettings) -> Result<SiteSettings, (ErrorCode, String)> {
        if let Some(v) = self.name {
            s.name = v;
        }
        if let Some(v) = self.greeting {
            s.greeting = v;
        }
        if let Some(v) = self.accent {
            s.accent = v;
        }
        if let Some(v) = self.position {
            s.position = v;
        }
        if let Some(v) = self.allowed_origins {
            s.allowed_origins = v;
        }
        if let Some(v) = self.allow_loopback_origins {
            s.allow_loopback_origins = v;
        }
        if let Some(v) = self.remember_visitors {
            s.remember_visitors = v;
        }
        if let Some(v) = self.rate_tier {
            s.rate_tier = v;
        }
        if let Some(v) = self.language {
            s.language = v;
        }
        if let Some(v) = self.theme {
            s.theme = v;
        }
        if let Some(v) = self.translations {
            s.translations = v;
        }
        if let Some(v) = self.hours {
            s.hours = v;
        }
        if let Some(v) = self.prechat {
            s.prechat = v;
        }
        if let Some(v) = self.attention {
            s.attention = v;
        }
        if let Some(v) = self.launcher {
            s.launcher = v;
        }
        if let Some(v) = self.font {
            s.font = v;
        }
        s.validated()
    }
}

/// The most a preview's settings (a [`SiteSettingsPatch`] as JSON) may weigh: they travel in
/// the preview's link, and browsers pass a link on to the widget's frame only up to 4 KiB.
pub const MAX_PREVIEW_BYTES: usize = 2_000;

/// Where to see unsaved settings (`POST /api/v1/admin/sites/{key}/preview`): a link to the
/// preview page (`&open=1` shows the panel open), valid until `expires_at` (ms).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct SitePreview {
    pub url: String,
    pub expires_at: i64,
}

fn require_label(raw: &str, max: usize, field: &str) -> Result<String, (ErrorCode, String)> {
    match crate::text::normalize_label(raw, max) {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err((ErrorCode::BadRequest, format!("{field} must not be empty"))),
        Err(code) => Err((
            code,
            format!("{field} must be one line of at most {max} characters"),
        )),
    }
}

/// `#RGB` or `#RRGGBB` (any case) → `#rrggbb`.
pub fn normalize_color(raw: &str) -> Option<String> {
    let hex = raw.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let full = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect::<String>(),
        6 => hex.to_owned(),
        _ => return None,
    };
    Some(format!("#{}", full.to_ascii_lowercase()))
}

/// WCAG 2 relative luminance of `#rrggbb` (`None` for anything else).
fn luminance(color: &str) -> Option<f64> {
    let hex = color.strip_prefix('#').filter(|h| h.len() == 6)?;
    let channel = |i: usize| -> Option<f64> {
        let c = f64::from(u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?) / 255.0;
        Some(if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

/// WCAG 2 contrast ratio of two `#rrggbb` colours (1 to 21).
pub fn contrast(a: &str, b: &str) -> f64 {
    let (Some(a), Some(b)) = (luminance(a), luminance(b)) else {
        return 1.0;
    };
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// The text colour for `accent`: white where it reaches 4.5:1 (AA for normal text), otherwise
/// the widget's ink, otherwise black (one of white and black always reaches 4.5:1).
pub fn text_on(accent: &str) -> &'static str {
    ["#ffffff", "#111827", "#000000"]
        .into_iter()
        .find(|t| contrast(t, accent) >= 4.5)
        .unwrap_or("#000000")
}

/// Validates a web origin (`http(s)://host[:port]`, nothing after) and lower-cases it.
pub fn normalize_origin(raw: &str) -> Option<String> {
    let s = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    (host_ok && port_ok).then_some(s)
}

/// `http://127.0.0.1:<port>` or `http://localhost:<port>` (port optional).
pub fn is_loopback_http_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, "80"));
    matches!(host, "127.0.0.1" | "localhost")
        && !port.is_empty()
        && port.len() <= 5
        && port.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_accent_gets_a_text_colour_with_aa_contrast() {
        assert_eq!(text_on("#0f766e"), "#ffffff");
        assert_eq!(text_on("#facc15"), "#111827");
        assert_eq!(text_on("#ffffff"), "#111827");
        assert!((contrast("#ffffff", "#000000") - 21.0).abs() < 1e-9);
        // Every colour of a 4-bit-per-channel grid (4,096 accents).
        for r in 0..16u8 {
            for g in 0..16u8 {
                for b in 0..16u8 {
                    let accent = format!("#{:02x}{:02x}{:02x}", r * 17, g * 17, b * 17);
                    let ratio = contrast(text_on(&accent), &accent);
                    assert!(ratio >= 4.5, "{accent}: {ratio}");
                }
            }
        }
    }
    use super::*;
    use serde_json::json;

    fn settings() -> SiteSettings {
        SiteSettings {
            key: SiteKey::parse("shop").unwrap(),
            name: " Shop ".into(),
            greeting: "Hi!".into(),
            accent: "#ABC".into(),
            position: LauncherPosition::Right,
            allowed_origins: vec![
                "https://Shop.example/".into(),
                "https://shop.example".into(),
            ],
            allow_loopback_origins: false,
            remember_visitors: false,
            rate_tier: Default::default(),
            language: Default::default(),
            theme: Default::default(),
            translations: Default::default(),
            hours: None,
            prechat: None,
            attention: Default::default(),
            launcher: Default::default(),
            font: None,
        }
    }

    #[test]
    fn a_font_stack_is_families_only_and_quoted() {
        assert_eq!(
            normalize_font_stack(" Inter , 'Helvetica Neue',SANS-SERIF").as_deref(),
            Some(r#""Inter", "Helvetica Neue", sans-serif"#)
        );
        assert_eq!(
            normalize_font_stack("Noto Sans Arabic, system-ui").as_deref(),
            Some(r#""Noto Sans Arabic", system-ui"#)
        );
        for bad in [
            "",
            "Inter;color:red",
            "a, b, c, d, e, f, g",
            "url(x)",
            "\"Inter",
            "Inter, ",
            "}body{",
            "Helvetica  Neue",
            "\"\"",
            "'Inter\"",
            "Ünïcode",
        ] {
            assert_eq!(normalize_font_stack(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_launcher_keeps_to_its_limits() {
        let mut s = settings();
        s.launcher = Launcher {
            icon: LauncherIcon::Help,
            label: Some("  Questions? ".into()),
            x: 32,
            y: 240,
        };
        s.font = Some("Georgia, serif".into());
        s.translations.insert(
            Locale::De,
            SiteWords {
                launcher: Some("Fragen?".into()),
                ..Default::default()
            },
        );
        let s = s.validated().unwrap();
        assert_eq!(s.launcher.label.as_deref(), Some("Questions?"));
        assert_eq!(s.launcher_label(Locale::De), Some("Fragen?"));
        assert_eq!(s.launcher_label(Locale::Fr), Some("Questions?"));
        let c = s.public_config();
        assert_eq!(
            (c.icon.as_str(), c.x, c.y),
            (LauncherIcon::Help.path(), 32, 240)
        );
        assert_eq!(c.font, r#""Georgia", serif"#);
        let mut far = s.clone();
        far.launcher.x = 241;
        assert!(far.validated().unwrap_err().1.contains("0 to 240"));
        let mut long = s.clone();
        long.launcher.label = Some("x".repeat(33));
        assert!(long.validated().unwrap_err().1.contains("launcher.label"));
        let mut font = s;
        font.font = Some("Inter; color: red".into());
        assert!(font.validated().unwrap_err().1.starts_with("font must be"));
        let defaults: SiteSettingsPatch =
            serde_json::from_value(json!({"launcher": {"icon": "mail"}, "font": null})).unwrap();
        assert_eq!(
            defaults.launcher,
            Some(Launcher {
                icon: LauncherIcon::Mail,
                ..Default::default()
            })
        );
        assert_eq!(defaults.font, Some(None));
    }

    #[test]
    fn site_settings_validate_and_normalise() {
        let s = settings().validated().unwrap();
        assert_eq!(s.name, "Shop");
        assert_eq!(s.accent, "#aabbcc");
        assert_eq!(s.allowed_origins, vec!["https://shop.example"]);
        assert!(s.allows_origin("https://shop.example"));
        assert!(!s.allows_origin("https://evil.example"));
        assert!(!s.allows_origin("http://127.0.0.1:9000"));
        let mut bad = settings();
        bad.allowed_origins = vec!["https://shop.example/path".into()];
        assert!(bad.validated().is_err());
        let mut bad = settings();
        bad.accent = "red".into();
        assert!(bad.validated().is_err());
        let mut bad = settings();
        bad.name = "  ".into();
        assert!(bad.validated().is_err());
    }

    #[test]
    fn a_language_gets_the_sites_own_words_and_bad_ones_are_refused() {
        use crate::i18n::Locale;
        let mut s = settings();
        let words: BTreeMap<Locale, SiteWords> = serde_json::from_value(json!({
            "id": {"greeting": "  Halo! Ada yang bisa dibantu? ", "away": "Tinggalkan email Anda:"},
            "ar": {"greeting": "أهلاً!"}}))
        .unwrap();
        s.translations = words;
        let s = s.validated().unwrap();
        let config = s.public_config();
        let (id, catalog) = s.in_language(&config, Locale::Id);
        assert_eq!(id.greeting, "Halo! Ada yang bisa dibantu?");
        assert_eq!(catalog["away_ask"], "Tinggalkan email Anda:");
        assert_eq!(catalog["send"], "Kirim", "the rest of the catalog stays");
        let (ar, catalog) = s.in_language(&config, Locale::Ar);
        assert_eq!(ar.greeting, "أهلاً!");
        assert_eq!(
            catalog["away_ask"],
            "لا أحد متاح الآن. اترك بريدك الإلكتروني وسنرد عليك هناك:"
        );
        let (en, catalog) = s.in_language(&config, Locale::En);
        assert_eq!((en.greeting.as_str(), catalog.len()), ("Hi!", 0));

        let mut bad = settings();
        bad.translations.insert(
            Locale::Fr,
            SiteWords {
                greeting: Some(" ".into()),
                ..Default::default()
            },
        );
        let err = bad.validated().unwrap_err().1;
        assert_eq!(err, "translations.fr.greeting must not be empty");
        assert!(serde_json::from_value::<BTreeMap<Locale, SiteWords>>(json!({"xx": {}})).is_err());
        assert!(
            serde_json::from_value::<BTreeMap<Locale, SiteWords>>(json!({"de": {"bye": "x"}}))
                .is_err()
        );
    }

    #[test]
    fn loopback_rule() {
        let mut s = settings().validated().unwrap();
        s.allow_loopback_origins = true;
        for ok in [
            "http://127.0.0.1:9000",
            "http://localhost:3000",
            "http://localhost",
        ] {
            assert!(s.allows_origin(ok), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:9000",
            "http://127.0.0.2:9000",
            "http://localhost.evil.com",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:",
        ] {
            assert!(!s.allows_origin(bad), "{bad}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            normalize_origin("https://A.example:8443/").as_deref(),
            Some("https://a.example:8443")
        );
        for bad in [
            "ftp://x",
            "https://",
            "https://a b",
            "https://a.example/x",
            "https://a:port",
            "javascript:alert(1)",
        ] {
            assert!(normalize_origin(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn patch_applies_only_given_fields() {
        let s = settings().validated().unwrap();
        let p: SiteSettingsPatch =
            serde_json::from_value(json!({"greeting": "Hello there"})).unwrap();
        let s2 = p.apply(s.clone()).unwrap();
        assert_eq!(s2.greeting, "Hello there");
        assert_eq!(s2.name, s.name);
        assert!(serde_json::from_value::<SiteSettingsPatch>(json!({"key": "other"})).is_err());
    }
}
