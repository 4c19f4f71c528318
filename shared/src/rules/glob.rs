//! URL patterns for rules: exact or glob (`*` matches any run of characters). A pattern with
//! `://` is matched against the full URL (without the fragment), any other against the path.

/// Whether `text` matches `pattern`, where `*` matches any (possibly empty) run of characters.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Classic wildcard matching with backtracking to the last star: linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The part of `url` a pattern is compared with: the path, or the whole URL (no fragment)
/// when the pattern names a scheme.
pub fn subject<'a>(pattern: &str, url: &'a str) -> &'a str {
    let no_fragment = url.split('#').next().unwrap_or(url);
    if pattern.contains("://") {
        return no_fragment;
    }
    let after_host = match no_fragment.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => no_fragment,
    };
    after_host.split('?').next().unwrap_or(after_host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let cases = [
            ("/pricing", "/pricing", true),
            ("/pricing", "/pricing/", false),
            ("/pricing*", "/pricing/team", true),
            ("/blog/*", "/blog/", true),
            ("/blog/*", "/blogs", false),
            ("*", "/anything", true),
            ("/a*b*c", "/aXbYc", true),
            ("/a*b*c", "/aXbY", false),
            ("*/checkout", "/shop/checkout", true),
            ("", "", true),
            ("", "/", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob_matches(p, t), want, "{p:?} vs {t:?}");
        }
    }

    #[test]
    fn subjects() {
        assert_eq!(
            subject("/pricing", "https://shop.example/pricing?plan=team#faq"),
            "/pricing"
        );
        assert_eq!(subject("/x", "https://shop.example"), "/");
        assert_eq!(
            subject("https://shop.example/*", "https://shop.example/a?b#c"),
            "https://shop.example/a?b"
        );
        assert_eq!(subject("/p", "/p?q"), "/p");
    }
}
