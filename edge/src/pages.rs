//! Pages and scripts the edge renders (pure string building, tested natively): the widget's
//! iframe document with its strict Content-Security-Policy, a site's pre-chat form in the
//! visitor's language, the loader's boot script, and the page that previews unsaved settings.

use beckon_shared::i18n::{self, Locale, Text};
use beckon_shared::limits::{MAX_CONTACT_NAME_CHARS, MAX_EMAIL_LEN};
use beckon_shared::proto::v1::{
    label_in, Ask, Attention, FieldKind, LauncherPosition, PrechatForm, SiteConfig, SiteSettings,
    WidgetBoot, EMAIL_INPUT_PATTERN, MAX_PRECHAT_ANSWER_CHARS,
};
use beckon_shared::rules::wakeup::WakeupSpec;
use beckon_shared::SiteKey;
use serde::Serialize;

/// JSON that is safe inside a `<script>` element: `<`, `>`, `&` and the JS line separators
/// are escaped, so no value can close the element or break the script.
pub fn script_json<T: Serialize>(value: &T) -> String {
    let raw = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Text made safe in HTML content and in quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The controls of a site's pre-chat form in `locale`, for the widget to show in place of the
/// composer: every control inside its label (its accessible name), optional answers marked,
/// the site's fields named `f-<key>`, addresses checked by the browser (a dot in the domain,
/// as the edge asks). Every text is escaped; the page's CSP runs no script from it anyway.
pub fn prechat_html(form: &PrechatForm, locale: Locale) -> String {
    let text = |t: Text| escape(&i18n::text(locale, t));
    let optional = text(Text::Optional);
    let caption = |label: &str, required: bool| match required {
        true => format!("<span>{}</span>", escape(label)),
        false => format!("<span>{} <small>{optional}</small></span>", escape(label)),
    };
    let flag = |required: bool| if required { " required" } else { "" };
    let mut h = format!("<p>{}</p>", text(Text::PrechatIntro));
    // As long as `identify` takes them.
    for (ask, name, label, kind, max) in [
        (
            form.name,
            "name",
            Text::YourName,
            "text",
            MAX_CONTACT_NAME_CHARS,
        ),
        (form.email, "email", Text::YourEmail, "email", MAX_EMAIL_LEN),
    ] {
        if ask == Ask::Off {
            continue;
        }
        let required = ask == Ask::Required;
        let pattern = match kind {
            "email" => format!(r#" pattern="{EMAIL_INPUT_PATTERN}""#),
            _ => String::new(),
        };
        h += &format!(
            r#"<label>{}<input name="{name}" type="{kind}" autocomplete="{name}" maxlength="{max}"{pattern}{}></label>"#,
            caption(&i18n::text(locale, label), required),
            flag(required)
        );
    }
    for f in &form.fields {
        // Keys are letters, digits and `_` (validated).
        let (name, label, req) = (
            format!("f-{}", f.key),
            label_in(&f.label, locale),
            f.required,
        );
        match f.kind {
            FieldKind::Text => {
                h += &format!(
                    r#"<label>{}<input name="{name}" maxlength="{MAX_PRECHAT_ANSWER_CHARS}"{}></label>"#,
                    caption(&label, req),
                    flag(req)
                )
            }
            FieldKind::Select => {
                let choices: String = f
                    .choices
                    .iter()
                    .map(|c| {
                        format!(
                            r#"<option value="{}">{}</option>"#,
                            escape(&c.value),
                            escape(&label_in(&c.label, locale))
                        )
                    })
                    .collect();
                h += &format!(
                    r#"<label>{}<select name="{name}"{}><option value="">—</option>{choices}</select></label>"#,
                    caption(&label, req),
                    flag(req)
                )
            }
            FieldKind::Checkbox => {
                h += &format!(
                    r#"<label class="check"><input type="checkbox" name="{name}"{}>{}</label>"#,
                    flag(req),
                    escape(&label)
                )
            }
            FieldKind::Unknown => {}
        }
    }
    h + &format!(
        r#"<button type="submit" class="cta">{}</button>"#,
        text(Text::StartChat)
    )
}

/// Origins allowed to frame the widget: ourselves, the site's exact origins and, for sites
/// that allow it, any loopback port.
pub fn frame_ancestors(self_origin: &str, site: &SiteSettings) -> String {
    let mut parts = vec!["'self'".to_owned(), self_origin.to_owned()];
    parts.extend(site.allowed_origins.iter().cloned());
    if site.allow_loopback_origins {
        parts.push("http://127.0.0.1:*".into());
        parts.push("http://localhost:*".into());
    }
    parts.join(" ")
}

/// The iframe's policy: only our own scripts (plus wasm compilation and [`WASM_FETCH`]), styles
/// and sockets; images from https, or from the site's own pages (teaser images given as paths); framed
/// only by the site's pages. A site that asks for Turnstile also allows its `challenge`
/// origin's script and frame, and nothing more.
pub fn frame_csp(self_origin: &str, site: &SiteSettings, challenge: Option<&str>) -> String {
    let ws_origin = self_origin.replacen("http", "ws", 1);
    let site_origins = frame_ancestors(self_origin, site);
    let (script_extra, frame_src) = match challenge {
        Some(origin) => (format!(" {origin}"), format!("frame-src {origin}; ")),
        None => (String::new(), String::new()),
    };
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {}{script_extra}; style-src 'self'; img-src https: data: blob: {site_origins}; \
         media-src 'self'; connect-src 'self' {ws_origin}; font-src 'self'; {frame_src}base-uri 'none'; form-action 'none'; \
         frame-ancestors {site_origins}",
        csp_hash(WASM_FETCH)
    )
}

/// Starts the download of the app's wasm while the frame's document is parsed; `boot.js` hands
/// the response to the glue. So the wasm does not wait for `boot.js` and the glue to arrive
/// first. A script rather than `<link rel=preload as=fetch>`, which Safari fetches twice.
pub const WASM_FETCH: &str = "window.beckonWasm=fetch(\"/widget/beckon_widget_bg.wasm\");";

/// The widget app's document. Everything dynamic is in the JSON data block. The app's wasm
/// ([`WASM_FETCH`]) and glue (`modulepreload`) are asked for at once, beside the stylesheet and
/// `boot.js`, rather than each after the script that names it (boot.js → glue → wasm): the tap
/// waits for one download, not three in a row.
pub fn frame_html(boot: &WidgetBoot) -> String {
    format!(
        r#"<!doctype html>
<html lang="{}" dir="{}" data-theme="{}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>Chat</title>
<script>{}</script>
<link rel="modulepreload" href="/widget/beckon_widget.js">
<link rel="stylesheet" href="/widget/app.css">
<script id="beckon-boot" type="application/json">{}</script>
<script type="module" src="/widget/boot.js"></script>
</head>
<body></body>
</html>
"#,
        boot.locale.code(),
        boot.locale.dir(),
        boot.config.theme.as_str(),
        WASM_FETCH,
        script_json(boot)
    )
}

/// The page shown when the widget is framed by a page that is not allowed.
pub const FRAME_REFUSED_HTML: &str =
    "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Chat unavailable</title>\
<p>This website is not allowed to show this chat.</p></html>";

/// What the launcher says before the app runs (the app sends its own once it does), in the
/// language the visitor will most likely get: `o` "Open chat", `c` "Close chat", `f` the chat
/// frame's title, `d` the writing direction (right to left puts the launcher in the other
/// corner).
#[derive(Serialize)]
pub struct LauncherLabels {
    o: String,
    c: String,
    f: String,
    d: &'static str,
    /// The site's label beside the icon, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    l: Option<String>,
}

impl LauncherLabels {
    pub fn new(locale: Locale, site: &SiteSettings) -> LauncherLabels {
        LauncherLabels {
            o: i18n::text(locale, Text::OpenChat),
            c: i18n::text(locale, Text::CloseChat),
            f: i18n::fill(
                &i18n::text(locale, Text::ChatTitle),
                &[("name", &site.name)],
            ),
            d: locale.dir(),
            l: site.launcher_label(locale).map(str::to_owned),
        }
    }
}

/// What of the site's configuration the loader reads (the rest — the greeting, the theme — is
/// the chat app's, on its own page): the host page downloads no more before intent.
#[derive(Serialize)]
struct LoaderConfig<'a> {
    accent: &'a str,
    accent_text: &'a str,
    position: LauncherPosition,
    remember_visitors: bool,
    wakeup: &'a WakeupSpec,
    icon: &'a str,
    x: u16,
    y: u16,
    font: &'a str,
}

impl LoaderConfig<'_> {
    fn of(c: &SiteConfig) -> LoaderConfig<'_> {
        LoaderConfig {
            accent: &c.accent,
            accent_text: &c.accent_text,
            position: c.position,
            remember_visitors: c.remember_visitors,
            wakeup: &c.wakeup,
            icon: &c.icon,
            x: c.x,
            y: c.y,
            font: &c.font,
        }
    }
}

/// The loader's boot script: hands the site configuration and the launcher's labels to the
/// loader; for a site with a rule enabled or remembering visitors ([`needs_wakeup`]), runs
/// `wakeup.js` — `wakeup`, its code, inline (no request more before intent), or else a tag
/// for `/wakeup.js` —; and, for a site that turned any of it on, loads `/attention.js` with
/// its options as the tag's `data-*`. Both scripts are beside this one; sites without either
/// pay nothing for it.
pub fn boot_script(
    config: &SiteConfig,
    labels: &LauncherLabels,
    attention: Attention,
    wakeup: Option<&str>,
) -> String {
    let mut script = format!(
        "window.Beckon&&Beckon._boot&&Beckon._boot({},{});",
        script_json(&LoaderConfig::of(config)),
        script_json(labels)
    );
    // A script tag for `path`, beside this script, with `data` as its `data-*`.
    let tag = |path: &str, data: &serde_json::Map<String, serde_json::Value>| {
        format!(
            "(function(d,s){{s=d.createElement(\"script\");s.src=new URL(\"{path}\",d.currentScript.src).href;\
             Object.assign(s.dataset,{});d.head.appendChild(s)}})(document);",
            script_json(data)
        )
    };
    if needs_wakeup(config) {
        match wakeup {
            Some(code) => {
                script.push_str(code.trim_end());
                script.push(';');
            }
            None => script.push_str(&tag("/wakeup.js", &Default::default())),
        }
    }
    if attention.any() {
        let mut options = serde_json::Map::new();
        for (on, key) in [
            (attention.title, "title"),
            (attention.sound, "sound"),
            (attention.notify, "notify"),
        ] {
            if on {
                options.insert(key.into(), "1".into());
            }
        }
        options.insert("name".into(), config.name.clone().into());
        script.push_str(&tag("/attention.js", &options));
    }
    script
}

/// Whether a site's boot script brings `wakeup.js`: it has a rule enabled, or it remembers
/// visitors (their visits are counted while no rule is enabled too).
pub fn needs_wakeup(config: &SiteConfig) -> bool {
    !config.wakeup.triggers.is_empty() || config.remember_visitors
}

/// The preview page's look: a quiet stand-in for a site's page.
const PREVIEW_CSS: &str = "body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f4f4f5;color:#3f3f46}\
main{max-width:560px;margin:0 auto;padding:32px 24px}h1{font-size:22px}i{display:block;height:12px;margin:14px 0;\
border-radius:6px;background:#e4e4e7}i:nth-of-type(3n){width:70%}";

/// Opens the panel as the loader starts (its documented queue of early calls).
const PREVIEW_OPEN: &str = "window.Beckon={q:[[\"open\"]]};";

/// A CSP source for an inline element's exact content.
fn csp_hash(content: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(content.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The page that previews a site's unsaved settings: a stand-in for the site's own page that
/// runs the real loader with the preview's `token` (the loader passes it on to its boot script
/// and the widget's frame); `open` opens the panel at once.
pub fn preview_html(site: &SiteKey, token: &str, open: bool) -> String {
    let open_script = if open {
        format!("<script>{PREVIEW_OPEN}</script>\n")
    } else {
        String::new()
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview</title>
<style>{PREVIEW_CSS}</style>
</head>
<body>
<main>
<h1>Your page</h1>
<p>The chat as your visitors will see it with these settings, which are not saved yet.</p>
<i></i><i></i><i></i><i></i><i></i><i></i>
</main>
{open_script}<script src="/beckon.js" data-site="{}" data-preview="{}"></script>
</body>
</html>
"#,
        escape(site.as_str()),
        escape(token)
    )
}

/// The preview page's policy: our scripts, and its own inline style and opening call only.
pub fn preview_csp(open: bool) -> String {
    let open_hash = if open {
        format!(" {}", csp_hash(PREVIEW_OPEN))
    } else {
        String::new()
    };
    format!(
        "default-src 'none'; script-src 'self'{open_hash}; style-src {}; frame-src 'self'; connect-src 'self'; \
         img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
        csp_hash(PREVIEW_CSS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SiteSettings {
        SiteSettings {
            key: SiteKey::parse("demo").unwrap(),
            name: "</script><script>alert(1)</script>".into(),
            greeting: "Hi \u{2028} there & <b>".into(),
            accent: "#0f766e".into(),
            position: LauncherPosition::Right,
            allowed_origins: vec!["https://shop.example".into()],
            allow_loopback_origins: true,
            remember_visitors: false,
            rate_tier: Default::default(),
            language: Default::default(),
            theme: beckon_shared::proto::v1::Theme::System,
            translations: Default::default(),
            hours: None,
            prechat: None,
            attention: Default::default(),
            launcher: Default::default(),
            font: None,
        }
    }

    #[test]
    fn the_prechat_form_is_labelled_escaped_and_in_the_visitors_language() {
        let form: PrechatForm = serde_json::from_value(serde_json::json!({
            "name": "required", "email": "optional", "fields": [
                {"key": "order", "kind": "text", "label": {"en": "Order <b>\"no\"</b>", "de": "Bestellnummer"}},
                {"key": "topic", "kind": "select", "required": true, "label": {"en": "Topic"},
                 "choices": [{"value": "a&b", "label": {"en": "A & B", "de": "A und B"}},
                             {"value": "c", "label": {"en": "C"}}]},
                {"key": "terms", "kind": "checkbox", "required": true, "label": {"en": "I agree"}}]}))
        .unwrap();
        let form = form.validated().unwrap();
        let en = prechat_html(&form, Locale::En);
        assert_eq!(
            en,
            concat!(
                "<p>Before we start, tell us a little about you.</p>",
                r#"<label><span>Name</span><input name="name" type="text" autocomplete="name" maxlength="80" required></label>"#,
                r#"<label><span>Email <small>(optional)</small></span><input name="email" type="email" autocomplete="email" maxlength="254" pattern=".+@.+[.].+"></label>"#,
                r#"<label><span>Order &lt;b&gt;&quot;no&quot;&lt;/b&gt; <small>(optional)</small></span><input name="f-order" maxlength="200"></label>"#,
                r#"<label><span>Topic</span><select name="f-topic" required><option value="">—</option><option value="a&amp;b">A &amp; B</option><option value="c">C</option></select></label>"#,
                r#"<label class="check"><input type="checkbox" name="f-terms" required>I agree</label>"#,
                r#"<button type="submit" class="cta">Start chat</button>"#
            )
        );
        let de = prechat_html(&form, Locale::De);
        for part in [
            "Bestellnummer <small>(optional)</small>",
            "<span>Name</span>",
            "E-Mail <small>(optional)</small>",
            ">A und B</option>",
            ">Topic</span>",
            ">Chat starten</button>",
        ] {
            assert!(de.contains(part), "{part} in {de}");
        }
    }

    #[test]
    fn config_cannot_break_out_of_the_script_element() {
        let rule: beckon_shared::rules::Rule = serde_json::from_value(serde_json::json!({
            "id": "xss", "name": "x", "when": {"if": "exit_intent"},
            "message": {"text": "</script><img src=x onerror=alert(1)>"}}))
        .unwrap();
        let boot = WidgetBoot {
            config: site().public_config(),
            host_origin: "https://shop.example".into(),
            rules: vec![rule],
            agents_online: false,
            relayed: true,
            away_email: false,
            challenge: None,
            locale: Locale::Ar,
            catalog: Default::default(),
            open: Some(vec![32_400, 61_200]),
            now: 1_796_083_200_000,
            prechat: None,
            launcher_label: Some("</script>".into()),
        };
        let html = frame_html(&boot);
        assert!(html.contains(r#"<html lang="ar" dir="rtl" data-theme="system">"#));
        // The app's files are asked for with the document; its one inline script is allowed
        // by its hash.
        assert!(html.contains(&format!("<script>{WASM_FETCH}</script>")));
        assert!(html.contains(r#"<link rel="modulepreload" href="/widget/beckon_widget.js">"#));
        assert_eq!(html.matches("<script>").count(), 1);
        assert_eq!(html.matches("</script>").count(), 3, "{html}");
        assert!(!html.contains("<b>") && !html.contains('\u{2028}'));
        let start = html.find("application/json\">").unwrap() + "application/json\">".len();
        let end = html[start..].find("</script>").unwrap() + start;
        let back: WidgetBoot = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(back, boot);
        let script = boot_script(
            &boot.config,
            &LauncherLabels::new(Locale::Fr, &site()),
            Attention::default(),
            None,
        );
        assert!(script.starts_with("window.Beckon&&Beckon._boot&&Beckon._boot({"));
        assert!(!script.contains("</script>"));
        // Only what the loader reads: not the greeting, the theme or the name.
        assert!(
            !script.contains("greeting") && !script.contains("theme"),
            "{script}"
        );
        assert!(
            script.ends_with(
                r#",{"o":"Ouvrir le chat","c":"Fermer le chat","f":"Chat de \u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e","d":"ltr"});"#
            ),
            "{script}"
        );
        // With attention on: its script, given only what is on and the site's name, escaped.
        let on = Attention {
            title: true,
            sound: false,
            notify: true,
        };
        let script = boot_script(
            &boot.config,
            &LauncherLabels::new(Locale::Fr, &site()),
            on,
            Some("(()=>{})();"),
        );
        let (boot_part, attention) = script.split_once(r#""d":"ltr"});"#).unwrap();
        assert!(boot_part.starts_with("window.Beckon&&Beckon._boot&&Beckon._boot({"));
        assert!(attention.contains(r#"new URL("/attention.js",d.currentScript.src)"#));
        assert!(
            attention.contains(
                r#"Object.assign(s.dataset,{"name":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e","notify":"1","title":"1"})"#
            ),
            "{attention}"
        );
        assert!(!script.contains("</script>") && !attention.contains("sound"));
        // Without a rule: no wake-up watcher; with one, its code inline (or its script when the
        // code could not be read), before attention's.
        assert!(boot.config.wakeup.triggers.is_empty());
        assert!(!script.contains("/wakeup.js") && !script.contains("(()=>{})();"));
        let mut ruled = boot.config.clone();
        ruled.wakeup.triggers.push(Default::default());
        let labels = LauncherLabels::new(Locale::Fr, &site());
        let script = boot_script(&ruled, &labels, on, Some("(()=>{})();\n"));
        let inline = script.find(r#""d":"ltr"});(()=>{})();;(function(d,s)"#);
        assert!(inline.is_some_and(|at| at < script.find("/attention.js").unwrap()));
        assert!(!script.contains("/wakeup.js"), "{script}");
        let script = boot_script(&ruled, &labels, on, None);
        let tag = script.find(r#"new URL("/wakeup.js",d.currentScript.src)"#);
        assert!(tag.is_some_and(|at| at < script.find("/attention.js").unwrap()));
        // Remembering visitors without a rule: it too.
        let mut remembering = boot.config.clone();
        remembering.remember_visitors = true;
        let script = boot_script(&remembering, &labels, on, Some("(()=>{})();"));
        assert!(script.contains("(()=>{})();;"), "{script}");
    }

    #[test]
    fn the_preview_page_runs_the_loader_with_its_token_under_a_policy_of_hashes() {
        let site = SiteKey::parse("demo").unwrap();
        let closed = preview_html(&site, "eyJ.abc-_", false);
        assert!(closed.contains(
            r#"<script src="/beckon.js" data-site="demo" data-preview="eyJ.abc-_"></script>"#
        ));
        assert!(!closed.contains(PREVIEW_OPEN));
        // A token is escaped wherever it came from (the route checks it first anyway).
        let bent = preview_html(&site, "\"><script>x()</script>", true);
        assert!(!bent.contains("<script>x()"), "{bent}");
        assert!(bent.contains(&format!("<script>{PREVIEW_OPEN}</script>")));
        // The policy allows exactly the page's inline style, and its opening call when open.
        let style = csp_hash(PREVIEW_CSS);
        assert!(preview_csp(false).contains(&format!("style-src {style};")));
        assert!(!preview_csp(false).contains(&csp_hash(PREVIEW_OPEN)));
        assert!(
            preview_csp(true).contains(&format!("script-src 'self' {};", csp_hash(PREVIEW_OPEN)))
        );
        assert!(!preview_csp(true).contains("unsafe-inline"));
        assert!(preview_csp(true).ends_with("frame-ancestors 'self'"));
        // The hash is of the exact text (a known vector: SHA-256 of "").
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }

    #[test]
    fn csp_is_strict_and_lists_ancestors() {
        let csp = frame_csp("https://chat.example", &site(), None);
        assert!(csp.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' {};",
            csp_hash(WASM_FETCH)
        )));
        assert!(!csp.contains("frame-src") && !csp.contains("challenges.cloudflare.com"));
        assert!(csp.contains("default-src 'none'"));
        assert!(csp.contains("connect-src 'self' wss://chat.example;"));
        assert!(csp.ends_with("frame-ancestors 'self' https://chat.example https://shop.example http://127.0.0.1:* http://localhost:*"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains(" 'unsafe-eval'"));
        // Teaser images given as paths load from the site's own (allowed) origins.
        assert!(csp.contains("img-src https: data: blob: 'self' https://chat.example https://shop.example http://127.0.0.1:*"));
        let mut strict = site();
        strict.allow_loopback_origins = false;
        assert!(!frame_csp("https://chat.example", &strict, None).contains("127.0.0.1"));
    }

    #[test]
    fn a_site_with_turnstile_allows_its_script_and_frame_only() {
        let csp = frame_csp(
            "https://chat.example",
            &site(),
            Some("https://challenges.cloudflare.com"),
        );
        assert!(csp.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' {} https://challenges.cloudflare.com; style-src 'self';",
            csp_hash(WASM_FETCH)
        )));
        assert!(csp.contains("; frame-src https://challenges.cloudflare.com; "));
        assert!(csp.contains("connect-src 'self' wss://chat.example;"));
    }
}
