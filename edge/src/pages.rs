//! Pages and scripts the edge renders (pure string building, tested natively): the widget's
//! iframe document with its strict Content-Security-Policy, and the loader's boot script.

use beckon_shared::i18n::{self, Locale, Text};
use beckon_shared::proto::v1::{SiteSettings, WidgetBoot};
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

/// The iframe's policy: only our own scripts (plus wasm compilation), styles and sockets;
/// images from https, or from the site's own pages (teaser images given as paths); framed
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
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{script_extra}; style-src 'self'; img-src https: data: blob: {site_origins}; \
         media-src 'self'; connect-src 'self' {ws_origin}; font-src 'self'; {frame_src}base-uri 'none'; form-action 'none'; \
         frame-ancestors {site_origins}"
    )
}

/// The widget app's document. Everything dynamic is in the JSON data block.
pub fn frame_html(boot: &WidgetBoot) -> String {
    format!(
        r#"<!doctype html>
<html lang="{}" dir="{}" data-theme="{}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>Chat</title>
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
        script_json(boot)
    )
}

/// The page shown when the widget is framed by a page that is not allowed.
pub const FRAME_REFUSED_HTML: &str =
    "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Chat unavailable</title>\
<p>This website is not allowed to show this chat.</p></html>";

/// What the launcher says before the app runs (the app sends its own once it does), in the
/// language the visitor will most likely get: `o` "Open chat", `c` "Close chat", `d` the
/// writing direction (right to left puts the launcher in the other corner).
#[derive(Serialize)]
pub struct LauncherLabels {
    o: String,
    c: String,
    d: &'static str,
}

impl LauncherLabels {
    pub fn new(locale: Locale) -> LauncherLabels {
        LauncherLabels {
            o: i18n::text(locale, Text::OpenChat),
            c: i18n::text(locale, Text::CloseChat),
            d: locale.dir(),
        }
    }
}

/// The loader's boot script: hands the site configuration and the launcher's labels to the
/// loader.
pub fn boot_script<T: Serialize>(config: &T, labels: &LauncherLabels) -> String {
    format!(
        "window.Beckon&&Beckon._boot({},{});",
        script_json(config),
        script_json(labels)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::proto::v1::LauncherPosition;
    use beckon_shared::SiteKey;

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
        };
        let html = frame_html(&boot);
        assert!(html.contains(r#"<html lang="ar" dir="rtl" data-theme="system">"#));
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
        assert!(!html.contains("<b>") && !html.contains('\u{2028}'));
        let start = html.find("application/json\">").unwrap() + "application/json\">".len();
        let end = html[start..].find("</script>").unwrap() + start;
        let back: WidgetBoot = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(back, boot);
        let script = boot_script(&boot.config, &LauncherLabels::new(Locale::Fr));
        assert!(script.starts_with("window.Beckon&&Beckon._boot({"));
        assert!(!script.contains("</script>"));
        assert!(
            script.ends_with(r#",{"o":"Ouvrir le chat","c":"Fermer le chat","d":"ltr"});"#),
            "{script}"
        );
    }

    #[test]
    fn csp_is_strict_and_lists_ancestors() {
        let csp = frame_csp("https://chat.example", &site(), None);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval';"));
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
        assert!(csp.contains(
            "script-src 'self' 'wasm-unsafe-eval' https://challenges.cloudflare.com; style-src 'self';"
        ));
        assert!(csp.contains("; frame-src https://challenges.cloudflare.com; "));
        assert!(csp.contains("connect-src 'self' wss://chat.example;"));
    }
}
