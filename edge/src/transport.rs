//! Executes a channel adapter's [`ApiRequest`] with `fetch`, under a timeout (a hung channel
//! must not hold relays forever); a stored file spliced into a request is streamed from R2,
//! and a download is capped at the size its caller allows. A request that could not be made
//! (the fetch itself failed: most often no connection) is retryable; one left without a
//! whole answer (timeout, or an answer that broke off) is of unknown fate.

use crate::channels::{ApiRequest, ApiResponse, Failure};
use futures_util::future::{select, Either};
use futures_util::{stream, StreamExt};
use std::time::Duration;
use worker::wasm_bindgen::JsValue;
use worker::worker_sys::FixedLengthStream as FixedLengthStreamSys;
use worker::{
    AbortController, Bucket, Delay, Fetch, FixedLengthStream, Headers, Method, Request, RequestInit,
};

/// Default time a channel API gets to answer (override with the `RELAY_TIMEOUT_MS` var).
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// The most of an API's (or a site's webhook endpoint's) answer that is read: every channel
/// answers in a few KB; what is past this is never read, so no answer can fill the isolate's
/// memory.
const MAX_ANSWER_BYTES: u64 = 1 << 20;

pub fn timeout_ms(env: &worker::Env) -> u64 {
    env.var("RELAY_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_MS)
}

/// Sends `req`, streaming its spliced file (if any) from `media`.
pub async fn send(
    req: &ApiRequest,
    timeout_ms: u64,
    media: Option<&Bucket>,
) -> Result<ApiResponse, Failure> {
    let body = body(req, media).await?;
    exchange(req, body, timeout_ms, |mut resp| async move {
        let status = resp.status_code();
        let retry_after = resp.headers().get("retry-after").ok().flatten();
        // (One cut short reads as what it is: an answer that does not parse.)
        let (bytes, _whole) = read_capped(&mut resp, MAX_ANSWER_BYTES).await?;
        let body = String::from_utf8_lossy(&bytes).into_owned();
        Ok(ApiResponse {
            status,
            retry_after,
            body,
        })
    })
    .await
}

/// Downloads the file at `url` (with `bearer`, if the host needs it); see [`download`].
pub async fn download_url(
    url: &str,
    bearer: Option<&str>,
    timeout_ms: u64,
    max_bytes: u64,
) -> Result<Vec<u8>, Failure> {
    download(
        &ApiRequest::get(url.to_owned(), bearer),
        timeout_ms,
        max_bytes,
    )
    .await
}

/// Downloads `req`'s answer (a file): its bytes, refused beyond `max_bytes` (by its declared
/// length before anything is read, else once more than that has come). A 4xx is [`Failure::Rejected`] (the link is gone or was
/// never ours), anything else not 2xx is retried.
pub async fn download(
    req: &ApiRequest,
    timeout_ms: u64,
    max_bytes: u64,
) -> Result<Vec<u8>, Failure> {
    let too_large = || Failure::Rejected {
        reason: format!("the file is larger than {max_bytes} bytes"),
    };
    let answer = exchange(req, None, timeout_ms, |mut resp| async move {
        let status = resp.status_code();
        if !(200..300).contains(&status) {
            return Ok(Err(status));
        }
        let declared = resp
            .headers()
            .get("content-length")?
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max_bytes) {
            return Ok(Ok(None));
        }
        let (bytes, whole) = read_capped(&mut resp, max_bytes).await?;
        Ok(Ok(whole.then_some(bytes)))
    })
    .await?;
    match answer {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(too_large()),
        Err(status) if (400..500).contains(&status) && status != 429 => Err(Failure::Rejected {
            reason: format!("download: HTTP {status}"),
        }),
        Err(status) => Err(Failure::from_status(status, None, "download")),
    }
}

/// Reads an answer's body up to `max` bytes: what came, and whether that was all of it (a
/// longer one is not read further). Streamed, so a body without a declared length (chunked)
/// is held to `max` too.
async fn read_capped(resp: &mut worker::Response, max: u64) -> worker::Result<(Vec<u8>, bool)> {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let mut stream = match resp.stream() {
        Ok(s) => s,
        // Not a stream: already in memory (an empty body, or one made here).
        Err(_) => {
            let mut bytes = resp.bytes().await?;
            let whole = bytes.len() <= max;
            bytes.truncate(max);
            return Ok((bytes, whole));
        }
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let room = max - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, true))
}

/// The request's body as a JS value: its text, or its text + a stored file + its tail as one
/// fixed-length stream (so the receiver gets a `Content-Length`).
async fn body(req: &ApiRequest, media: Option<&Bucket>) -> Result<Option<JsValue>, Failure> {
    let Some(file) = &req.file else {
        return Ok((req.method != "GET").then(|| req.body.clone().into()));
    };
    let bucket = media.ok_or_else(|| Failure::internal("no file storage for an upload"))?;
    let object = bucket
        .get(&file.key)
        .execute()
        .await
        .map_err(Failure::internal)?
        .ok_or_else(|| Failure::Rejected {
            reason: "the file is no longer stored".into(),
        })?;
    let stored = object
        .body()
        .ok_or_else(|| Failure::internal("stored file without a body"))?
        .stream()
        .map_err(Failure::internal)?;
    let (head, tail) = (
        req.body.clone().into_bytes(),
        file.tail.clone().into_bytes(),
    );
    let length = head.len() as u64 + object.size() + tail.len() as u64;
    let chained = stream::once(async move { Ok(head) })
        .chain(stored)
        .chain(stream::once(async move { Ok(tail) }));
    let fixed: FixedLengthStreamSys = FixedLengthStream::wrap(chained, length).into();
    Ok(Some(fixed.readable().into()))
}

/// Runs the request and `read` (which reads the answer) under one timeout: a hung channel
/// must not hold anything forever.
async fn exchange<T, F, Fut>(
    req: &ApiRequest,
    body: Option<JsValue>,
    timeout_ms: u64,
    read: F,
) -> Result<T, Failure>
where
    F: FnOnce(worker::Response) -> Fut,
    Fut: std::future::Future<Output = worker::Result<T>>,
{
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.set(k, v).map_err(|e| Failure::Permanent {
            reason: format!("bad header: {e}"),
        })?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(req.method.to_owned()))
        .with_headers(headers)
        .with_body(body);
    let request = Request::new_with_init(&req.url, &init).map_err(|e| Failure::Permanent {
        reason: format!("bad request: {e}"),
    })?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    // Error texts may carry the URL, which for Telegram holds the bot token: say less.
    let exchange = async {
        let resp = fetch
            .send_with_signal(&signal)
            .await
            .map_err(|_| Failure::Retry {
                after_ms: None,
                reason: "could not reach the channel API".into(),
            })?;
        // It answered, so the request arrived: an answer that then breaks off leaves what
        // became of it unknown.
        read(resp).await.map_err(|_| Failure::Unanswered {
            reason: "the channel's answer broke off".into(),
        })
    };
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    let outcome = match select(Box::pin(exchange), timer).await {
        // (What was not read of a capped answer stops coming.)
        Either::Left((answer, _)) => {
            controller.abort();
            answer
        }
        Either::Right(_) => {
            controller.abort();
            Err(Failure::Unanswered {
                reason: format!("no answer within {timeout_ms} ms"),
            })
        }
    };
    outcome
}
