//! What the edge can tell of a visitor's browser from the request that started their
//! conversation ([`VisitorClient`]): a device class, browser and OS families with their major
//! versions, the first language of `Accept-Language`, country and city from the runtime's
//! request metadata. Coarse on purpose — the raw user agent and the address are never kept.
//!
//! The user agent is read by the tokens browsers document for it (MDN's "Browser detection
//! using the user agent": `Mobi`, `Edg/`, `CriOS/`, `Version/`…), in the order that tells
//! them apart. Every user-agent crate brings `regex` with it (woothee: +984 KB, 27 % more
//! Worker wasm to compile on every cold start of the isolate that carries the message path)
//! for detail the sidebar does not show.

use beckon_shared::proto::v1::VisitorClient;
use worker::Request;

/// Longest city name kept.
const MAX_CITY: usize = 80;
/// Longest language tag kept (BCP 47's practical maximum).
const MAX_LANGUAGE: usize = 35;

/// Browser tokens, most specific first (Edge and Opera also say `Chrome/`, Chrome also says
/// `Safari/`), with the family each names.
const BROWSERS: [(&str, &str); 12] = [
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex Browser"),
    ("Vivaldi/", "Vivaldi"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    // Safari's own version is in `Version/`.
    ("Version/", "Safari"),
];

/// From the visitor's request (the thin shell around [`describe`]).
pub fn from_request(req: &Request, now: i64) -> VisitorClient {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let cf = req.cf();
    describe(
        header("user-agent").as_deref().unwrap_or_default(),
        header("accept-language").as_deref(),
        cf.and_then(|c| c.country()).as_deref(),
        cf.and_then(|c| c.city()).as_deref(),
        now,
    )
}

pub fn describe(
    user_agent: &str,
    accept_language: Option<&str>,
    country: Option<&str>,
    city: Option<&str>,
    now: i64,
) -> VisitorClient {
    VisitorClient {
        device: device(user_agent).to_owned(),
        browser: browser(user_agent),
        os: os(user_agent),
        language: accept_language.and_then(first_language),
        country: country
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
            .filter(|c| *c != "XX" && *c != "T1")
            .map(str::to_owned),
        city: city
            .map(|c| {
                c.chars()
                    .filter(|ch| !ch.is_control())
                    .take(MAX_CITY)
                    .collect::<String>()
            })
            .filter(|c| !c.trim().is_empty()),
        at: now,
    }
}

/// The version right after `token`: digits and separators, `_` read as `.`.
fn version_after(ua: &str, token: &str) -> Option<String> {
    let rest = &ua[ua.find(token)? + token.len()..];
    let v: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '_')
        .map(|c| if c == '_' { '.' } else { c })
        .collect();
    let v = v.trim_end_matches('.');
    (!v.is_empty()).then(|| v.to_owned())
}

fn device(ua: &str) -> &'static str {
    let lower = ua.to_ascii_lowercase();
    // Crawlers name themselves `…bot/2.1`, `…bot;`, `(…; +http://…)` — a phone called CUBOT
    // does not.
    if ["bot/", "bot;", "bot)", "+http", "crawler", "spider"]
        .iter()
        .any(|b| lower.contains(b))
    {
        "other"
    } else if ua.contains("iPad")
        || ua.contains("Tablet")
        || (ua.contains("Android") && !ua.contains("Mobile"))
    {
        "tablet"
    } else if ua.contains("Mobi") || ua.contains("iPhone") || ua.contains("iPod") {
        "phone"
    } else if ["Windows NT", "Macintosh", "X11", "CrOS"]
        .iter()
        .any(|t| ua.contains(t))
    {
        "desktop"
    } else {
        "other"
    }
}

fn browser(ua: &str) -> Option<String> {
    let (token, name) = BROWSERS.iter().find(|(token, _)| {
        ua.contains(token) && (*token != "Version/" || ua.contains("Safari/"))
    })?;
    Some(match version_after(ua, token) {
        Some(v) => format!("{name} {}", v.split('.').next().unwrap_or_default()),
        None => (*name).to_owned(),
    })
}

fn os(ua: &str) -> Option<String> {
    let named = |name: &str, v: Option<String>| match v {
        Some(v) => format!("{name} {v}"),
        None => name.to_owned(),
    };
    // iOS and iPadOS say "like Mac OS X": before macOS.
    Some(if ua.contains("iPhone") || ua.contains("iPod") {
        named("iOS", version_after(ua, "OS "))
    } else if ua.contains("iPad") {
        named("iPadOS", version_after(ua, "CPU OS "))
    } else if ua.contains("Android") {
        named("Android", version_after(ua, "Android "))
    } else if ua.contains("Windows NT") {
        // Windows 11 still says 10.0.
        match version_after(ua, "Windows NT ").as_deref() {
            Some("10.0") => "Windows 10/11".to_owned(),
            Some("6.3") => "Windows 8.1".to_owned(),
            Some("6.2") => "Windows 8".to_owned(),
            Some("6.1") => "Windows 7".to_owned(),
            _ => "Windows".to_owned(),
        }
    } else if ua.contains("CrOS") {
        "ChromeOS".to_owned()
    } else if ua.contains("Mac OS X") {
        // Browsers have said 10.15.7 whatever the version since 2020: no version.
        "macOS".to_owned()
    } else if ua.contains("Linux") {
        "Linux".to_owned()
    } else {
        return None;
    })
}

/// The first tag of an `Accept-Language` header, if it is a plausible language tag.
fn first_language(header: &str) -> Option<String> {
    let tag = header.split(',').next()?.split(';').next()?.trim();
    (!tag.is_empty()
        && tag != "*"
        && tag.len() <= MAX_LANGUAGE
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    .then(|| tag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const CHROME_ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
    const CHROME_ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    const FIREFOX_WINDOWS: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const EDGE_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
    const CHROME_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1";
    const SAMSUNG: &str = "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36";
    const FIREFOX_LINUX: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const CUBOT: &str = "Mozilla/5.0 (Linux; Android 12; CUBOT_X50) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
    const GOOGLEBOT: &str = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    fn seen(ua: &str) -> (String, Option<String>, Option<String>) {
        let c = describe(ua, None, None, None, 1);
        (c.device, c.browser, c.os)
    }

    #[test]
    fn devices_browsers_and_systems_are_named_coarsely() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            seen(CHROME_MAC),
            ("desktop".into(), s("Chrome 131"), s("macOS"))
        );
        assert_eq!(
            seen(SAFARI_IPHONE),
            ("phone".into(), s("Safari 17"), s("iOS 17.5"))
        );
        assert_eq!(
            seen(CHROME_ANDROID_PHONE),
            ("phone".into(), s("Chrome 131"), s("Android 14"))
        );
        assert_eq!(seen(CHROME_ANDROID_TABLET).0, "tablet");
        assert_eq!(
            seen(IPAD),
            ("tablet".into(), s("Safari 16"), s("iPadOS 16.6"))
        );
        assert_eq!(
            seen(FIREFOX_WINDOWS),
            ("desktop".into(), s("Firefox 133"), s("Windows 10/11"))
        );
        assert_eq!(
            seen(EDGE_WINDOWS),
            ("desktop".into(), s("Edge 131"), s("Windows 10/11"))
        );
        assert_eq!(
            seen(CHROME_IPHONE),
            ("phone".into(), s("Chrome 131"), s("iOS 18.1"))
        );
        assert_eq!(
            seen(SAMSUNG),
            ("phone".into(), s("Samsung Internet 26"), s("Android 14"))
        );
        assert_eq!(
            seen(FIREFOX_LINUX),
            ("desktop".into(), s("Firefox 133"), s("Linux"))
        );
        assert_eq!(seen(""), ("other".into(), None, None));
        assert_eq!(seen("curl/8.5.0"), ("other".into(), None, None));
        assert_eq!(seen(GOOGLEBOT).0, "other");
        assert_eq!(seen(CUBOT).0, "phone");
    }

    #[test]
    fn language_country_and_city_are_checked() {
        let c = describe(
            CHROME_MAC,
            Some("id-ID,id;q=0.9,en;q=0.8"),
            Some("ID"),
            Some("Jakarta\u{0007}"),
            5,
        );
        assert_eq!(c.language.as_deref(), Some("id-ID"));
        assert_eq!(c.country.as_deref(), Some("ID"));
        assert_eq!(c.city.as_deref(), Some("Jakarta"));
        assert_eq!(c.at, 5);
        for bad in ["*", "", "en_US<script>", &"x".repeat(36)] {
            assert_eq!(first_language(bad), None, "{bad}");
        }
        let c = describe(CHROME_MAC, None, Some("XX"), Some("  "), 5);
        assert_eq!((c.country, c.city), (None, None));
        assert_eq!(
            describe(CHROME_MAC, None, Some("usa"), None, 5).country,
            None
        );
    }
}
