//! A third-party website on another loopback port that embeds the widget with the one tag,
//! optionally behind a strict Content-Security-Policy.

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;

pub struct HostPage {
    pub url: String,
    pub origin: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostPage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The embed snippet of `site` at `edge`: one script, the loader with the site's boot script.
pub fn snippet(edge: &str, site: &str) -> String {
    format!(r#"<script src="{edge}/api/v1/sites/{site}/beckon.js" async></script>"#)
}

/// The first snippet, still served: the loader names the site by `data-site` and loads its
/// boot script beside itself.
pub fn classic_snippet(edge: &str, site: &str) -> String {
    format!(r#"<script src="{edge}/beckon.js" data-site="{site}" async></script>"#)
}

/// The page's HTML: a little shop page with the embed snippet pointing at `edge`.
pub fn page_html(edge: &str, site: &str) -> String {
    shop_page(&snippet(edge, site))
}

/// The same shop page with `embed` at the end of its body.
fn shop_page(embed: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Partner shop</title></head><body><h1>Partner shop</h1><p>A page on another origin.</p>
{embed}</body></html>"#
    )
}

/// The shop page with `script` (inline, e.g. a `window.Beckon = {q: …}` stub) run before the
/// embed tag.
pub async fn serve_with_script(edge: &str, site: &str, script: &str) -> HostPage {
    let html = shop_page(&format!("<script>{script}</script>{}", snippet(edge, site)));
    serve_html(html, None).await
}

/// The shop page embedding the widget by the [`classic_snippet`].
pub async fn serve_classic(edge: &str, site: &str) -> HostPage {
    serve_html(shop_page(&classic_snippet(edge, site)), None).await
}

/// Serves `page_html` on a free port; with `csp`, sends that Content-Security-Policy.
pub async fn serve(edge: &str, site: &str, csp: Option<String>) -> HostPage {
    serve_html(page_html(edge, site), csp).await
}

/// Serves Beckon's demo page (`index.html`, a coffee roaster's site) from its own origin,
/// embedding the widget by `embed` (a [`snippet`] or [`classic_snippet`]) — or, with `None`,
/// without the widget: the baseline the host page pays anyway.
pub async fn serve_demo(embed: Option<String>) -> HostPage {
    let html = std::fs::read_to_string(crate::repo_root().join("index.html")).expect("index.html");
    let tag = r#"<script src="/api/v1/sites/demo/beckon.js" async></script>"#;
    assert!(
        html.contains(tag),
        "index.html no longer embeds the widget as {tag}"
    );
    serve_html(html.replace(tag, &embed.unwrap_or_default()), None).await
}

async fn serve_html(html: String, csp: Option<String>) -> HostPage {
    let app = Router::new()
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/",
            get(move || {
                let (html, csp) = (html.clone(), csp.clone());
                async move {
                    let mut resp = Html(html).into_response();
                    if let Some(c) = csp {
                        resp.headers_mut()
                            .insert("content-security-policy", c.parse().unwrap());
                    }
                    resp
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let origin = format!("http://127.0.0.1:{port}");
    HostPage {
        url: format!("{origin}/"),
        origin,
        task,
    }
}

/// The strict policy of the acceptance test: scripts and frames only from the edge, nothing
/// else at all (no `wasm-unsafe-eval`, no inline anything, no connections).
pub fn strict_csp(edge: &str) -> String {
    format!("default-src 'none'; script-src {edge}; frame-src {edge}; base-uri 'none'; form-action 'none'")
}
