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

/// The page's HTML: a little shop page with the embed snippet pointing at `edge`.
pub fn page_html(edge: &str, site: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Partner shop</title></head><body><h1>Partner shop</h1><p>A page on another origin.</p>
<script src="{edge}/beckon.js" data-site="{site}" async></script></body></html>"#
    )
}

/// Serves `page_html` on a free port; with `csp`, sends that Content-Security-Policy.
pub async fn serve(edge: &str, site: &str, csp: Option<String>) -> HostPage {
    let html = page_html(edge, site);
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
