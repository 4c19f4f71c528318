//! Lighthouse (npm `lighthouse`, pinned in package.json) on a host page, with Debian's
//! Chromium: what the page pays before the visitor shows intent, with and without the widget.

use serde::Serialize;
use serde_json::Value;
use std::process::Command;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FormFactor {
    /// Lighthouse's default: a moto-g-power-sized screen, 4× CPU slowdown, simulated slow 4G.
    Mobile,
    Desktop,
}

/// What one run measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Run {
    pub total_blocking_time_ms: f64,
    pub main_thread_ms: f64,
    /// Script bootup (evaluation + parse/compile) of the scripts served from `widget_origin`.
    pub widget_bootup_ms: f64,
    pub total_bytes: f64,
    /// Transfer size of the requests to `widget_origin`.
    pub widget_bytes: f64,
    /// The widget's scripts: path, total, evaluation, parse + compile ms.
    pub widget_scripts: Vec<(String, f64, f64, f64)>,
    /// Main-thread ms by Lighthouse's groups (script evaluation, style & layout, …).
    pub main_thread_groups: std::collections::BTreeMap<String, f64>,
}

/// Runs Lighthouse's performance category on `url` once; figures attributed to the widget are
/// those of requests to `widget_origin`.
pub fn run(url: &str, form: FormFactor, widget_origin: &str) -> Run {
    let root = crate::repo_root();
    let bin = root.join("node_modules/.bin/lighthouse");
    let tag = crate::free_port();
    let out = std::env::temp_dir().join(format!("beckon-lh-{tag}.json"));
    // Lighthouse's settings for the form factor, with every script in the bootup audit (by
    // default it lists only those over 50 ms, and the widget's are far below that).
    let base = match form {
        FormFactor::Mobile => "{ extends: 'lighthouse:default' }".to_owned(),
        FormFactor::Desktop => {
            let desktop = root.join("node_modules/lighthouse/core/config/desktop-config.js");
            format!("(await import('{}')).default", desktop.display())
        }
    };
    let config = std::env::temp_dir().join(format!("beckon-lh-{tag}.config.mjs"));
    std::fs::write(
        &config,
        format!(
            "const base = {base};\nexport default {{ ...base, settings: {{ ...base.settings, onlyCategories: ['performance'] }},\n  audits: [{{ path: 'bootup-time', options: {{ thresholdInMs: 0 }} }}] }};\n"
        ),
    )
    .expect("write the lighthouse config");
    let mut cmd = Command::new(&bin);
    cmd.arg(url)
        .arg("--quiet")
        .arg(format!("--config-path={}", config.display()))
        .arg("--output=json")
        .arg(format!("--output-path={}", out.display()))
        .arg("--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage")
        .env(
            "CHROME_PATH",
            std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        );
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("{}: {e} (run npm ci)", bin.display()));
    assert!(status.success(), "lighthouse failed on {url}: {status}");
    let report: Value = serde_json::from_slice(&std::fs::read(&out).expect("lighthouse report"))
        .expect("lighthouse JSON");
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&config);
    let audit = |id: &str| &report["audits"][id];
    let num = |id: &str| audit(id)["numericValue"].as_f64().unwrap_or(0.0);
    let items = |id: &str| {
        audit(id)["details"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let ours = |item: &Value| {
        item["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(widget_origin))
    };
    let f = |i: &Value, k: &str| i[k].as_f64().unwrap_or(0.0);
    let widget_scripts: Vec<_> = items("bootup-time")
        .iter()
        .filter(|i| ours(i))
        .map(|i| {
            let url = i["url"].as_str().unwrap_or_default();
            (
                url.trim_start_matches(widget_origin).to_owned(),
                f(i, "total"),
                f(i, "scripting"),
                f(i, "scriptParseCompile"),
            )
        })
        .collect();
    Run {
        total_blocking_time_ms: num("total-blocking-time"),
        main_thread_ms: num("mainthread-work-breakdown"),
        widget_bootup_ms: widget_scripts.iter().fold(0.0, |n, s| n + s.1),
        total_bytes: num("total-byte-weight"),
        widget_bytes: items("network-requests")
            .iter()
            .filter(|i| ours(i))
            .fold(0.0, |n, i| n + f(i, "transferSize")),
        widget_scripts,
        main_thread_groups: items("mainthread-work-breakdown")
            .iter()
            .map(|i| {
                (
                    i["group"].as_str().unwrap_or("?").to_owned(),
                    f(i, "duration"),
                )
            })
            .collect(),
    }
}
