//! Executes a channel adapter's [`ApiRequest`] with `fetch`, under a timeout (a hung channel
//! must not hold relays forever). A timeout or network error is a retryable failure.

use crate::channels::{ApiRequest, ApiResponse, Failure};
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

/// Default time a channel API gets to answer (override with the `RELAY_TIMEOUT_MS` var).
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

pub fn timeout_ms(env: &worker::Env) -> u64 {
    env.var("RELAY_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_MS)
}

pub async fn send(req: &ApiRequest, timeout_ms: u64) -> Result<ApiResponse, Failure> {
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.set(k, v).map_err(|e| Failure::Permanent {
            reason: format!("bad header: {e}"),
        })?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(req.method.to_owned()))
        .with_headers(headers)
        .with_body(Some(req.body.clone().into()));
    let request = Request::new_with_init(&req.url, &init).map_err(|e| Failure::Permanent {
        reason: format!("bad request: {e}"),
    })?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    // The whole exchange — headers and body — runs under the one timeout.
    let exchange = async {
        let mut resp = fetch.send_with_signal(&signal).await?;
        let status = resp.status_code();
        let retry_after = resp.headers().get("retry-after").ok().flatten();
        let body = resp.text().await?;
        Ok::<_, worker::Error>(ApiResponse {
            status,
            retry_after,
            body,
        })
    };
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    let outcome = match select(Box::pin(exchange), timer).await {
        Either::Left((Ok(resp), _)) => Ok(resp),
        // The error text may carry the URL, which for Telegram holds the bot token: say less.
        Either::Left((Err(_), _)) => Err(Failure::Retry {
            after_ms: None,
            reason: "could not reach the channel API".into(),
        }),
        Either::Right(_) => {
            controller.abort();
            Err(Failure::Retry {
                after_ms: None,
                reason: format!("no answer within {timeout_ms} ms"),
            })
        }
    };
    outcome
}
