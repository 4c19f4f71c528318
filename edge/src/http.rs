//! HTTP plumbing shared by the routes: the per-request [`Edge`] context, JSON bodies in and
//! out (with size limits), origin checks, CORS and security headers.

use crate::error::{Error, Result};
use beckon_shared::limits::MAX_JSON_BODY_BYTES;
use beckon_shared::proto::v1::{ErrorCode, SiteSettings};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use worker::{Context, D1Database, Env, Headers, Request, Response};

/// What every handler gets: bindings, the clock and our own origin.
pub struct Edge {
    pub env: Env,
    pub ctx: Context,
    /// Milliseconds since the Unix epoch at the start of the request.
    pub now: i64,
    /// This Worker's public origin, e.g. `http://127.0.0.1:8787`.
    pub self_origin: String,
}

impl Edge {
    pub fn new(req: &Request, env: Env, ctx: Context) -> Result<Edge> {
        let url = req.url()?;
        Ok(Edge {
            env,
            ctx,
            now: now_ms(),
            self_origin: url.origin().ascii_serialization(),
        })
    }

    /// The edge outside an HTTP request (the email handler): its public origin is not known
    /// from a URL, so `PUBLIC_ORIGIN` is used when set.
    pub fn background(env: Env, ctx: Context) -> Edge {
        let self_origin = env
            .var("PUBLIC_ORIGIN")
            .map(|v| v.to_string().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Edge {
            env,
            ctx,
            now: now_ms(),
            self_origin,
        }
    }

    pub fn db(&self) -> Result<D1Database> {
        Ok(self.env.d1("DB")?)
    }

    /// The instance's HMAC key (`TOKEN_SECRET`): tickets, signed file URLs, derived ids.
    pub fn token_secret(&self) -> Result<Vec<u8>> {
        secret(&self.env, "TOKEN_SECRET")
    }

    /// The keys visitor tokens are signed and checked with ([`crate::auth::TokenKeys`]).
    pub fn token_keys(&self) -> Result<crate::auth::TokenKeys> {
        token_keys(&self.env)
    }
}

/// The keys visitor tokens are signed and checked with: `VISITOR_TOKEN_KEYS`, else
/// `TOKEN_SECRET` alone.
pub fn token_keys(env: &Env) -> Result<crate::auth::TokenKeys> {
    let list = env
        .secret("VISITOR_TOKEN_KEYS")
        .map(|s| s.to_string())
        .or_else(|_| env.var("VISITOR_TOKEN_KEYS").map(|v| v.to_string()))
        .ok();
    let fallback = credential_secret(env, "TOKEN_SECRET")?;
    crate::auth::TokenKeys::parse(list.as_deref(), &fallback).map_err(Error::internal)
}

/// A configured secret (or plain var, as `wrangler dev --var` provides) that must be set.
/// Whether third-party API bases on this machine are allowed (`ALLOW_LOOPBACK_API_BASES=on`:
/// set in `.dev.vars` by `make dev` and by the tests, where the fakes of channels and Turnstile
/// run; never in a production deploy).
pub fn loopback_api_bases(env: &Env) -> bool {
    env.var("ALLOW_LOOPBACK_API_BASES")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false)
}

pub fn secret(env: &Env, name: &str) -> Result<Vec<u8>> {
    secret_of_at_least(env, name, 16)
}

/// A secret that signs or is a credential (`TOKEN_SECRET`, `ADMIN_API_KEY`): at least
/// [`crate::auth::MIN_SECRET_CHARS`] characters.
pub fn credential_secret(env: &Env, name: &str) -> Result<Vec<u8>> {
    secret_of_at_least(env, name, crate::auth::MIN_SECRET_CHARS)
}

fn secret_of_at_least(env: &Env, name: &str, min: usize) -> Result<Vec<u8>> {
    let value = env
        .secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .map_err(|_| Error::internal(format!("{name} is not configured")))?;
    if value.len() < min {
        return Err(Error::internal(format!(
            "{name} must be at least {min} characters"
        )));
    }
    Ok(value.into_bytes())
}

/// The runtime's clock (no `Date` object made: it is read several times per message).
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

fn base_headers(content_type: &str) -> Result<Headers> {
    let h = Headers::new();
    h.set("content-type", content_type)?;
    h.set("x-content-type-options", "nosniff")?;
    h.set("cache-control", "no-store")?;
    h.set("referrer-policy", "no-referrer")?;
    Ok(h)
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, body: &T) -> Result<Response> {
    let text = serde_json::to_string(body).map_err(Error::internal)?;
    Ok(Response::ok(text)?
        .with_status(status)
        .with_headers(base_headers("application/json; charset=utf-8")?))
}

/// A response of the given type with no caching.
pub fn text(status: u16, content_type: &str, body: impl Into<String>) -> Result<Response> {
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(base_headers(content_type)?))
}

/// A response to save as a file named `filename` (a name we chose: no quotes in it).
pub fn download(mut resp: Response, filename: &str) -> Result<Response> {
    resp.headers_mut().set(
        "content-disposition",
        &format!("attachment; filename=\"{filename}\""),
    )?;
    Ok(resp)
}

/// The JSON error response for `e`; internal details are logged here and only here.
pub fn error_response(e: &Error) -> worker::Result<Response> {
    if let Error::Internal(detail) = e {
        worker::console_error!("internal error: {detail}");
    }
    let text = serde_json::to_string(&e.body()).unwrap_or_else(|_| "{}".into());
    let headers = base_headers("application/json; charset=utf-8")
        .map_err(|e| worker::Error::from(e.to_string()))?;
    if e.error_code() == ErrorCode::RateLimited {
        headers.set("retry-after", &crate::rate_limit::PERIOD_SECS.to_string())?;
    }
    Ok(Response::ok(text)?
        .with_status(e.status())
        .with_headers(headers))
}

/// Reads a JSON body of at most [`MAX_JSON_BODY_BYTES`]; malformed or oversize input is a
/// client error that says what is wrong.
pub async fn read_json<T: DeserializeOwned>(req: &mut Request) -> Result<T> {
    read_json_or(req, None).await
}

/// Like [`read_json`], but no body (none at all, or an empty one) reads as `default`.
pub async fn read_json_or<T: DeserializeOwned>(req: &mut Request, default: Option<T>) -> Result<T> {
    let bytes = read_bytes(req, MAX_JSON_BODY_BYTES as u64).await?;
    if bytes.is_empty() {
        return default.ok_or_else(|| Error::bad_request("a JSON body is required"));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad_request(format!("invalid JSON body: {e}")))
}

/// Reads a raw body of at most `max` bytes: 413 when it declares or brings more. A body that
/// declares its length is read whole (the runtime holds it to that length); one sent without
/// (chunked) is read piece by piece and refused as soon as it passes `max`, never buffered
/// whole first. No body reads as empty.
pub async fn read_bytes(req: &mut Request, max: u64) -> Result<Vec<u8>> {
    let too_large = || Error::code(ErrorCode::PayloadTooLarge);
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some() {
        if declared.is_some_and(|n| n > max) {
            return Err(too_large());
        }
        let bytes = req.bytes().await?;
        return match bytes.len() as u64 > max {
            true => Err(too_large()),
            false => Ok(bytes),
        };
    }
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req.stream()?;
    let mut body = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = chunk?;
        if (body.len() + chunk.len()) as u64 > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The request's query parameters (last value wins).
pub fn query(req: &Request) -> Result<HashMap<String, String>> {
    Ok(req.url()?.query_pairs().into_owned().collect())
}

/// An optional numeric query parameter, with a clear error when it is not a number.
pub fn query_num<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            Error::bad_request(format!(
                "query parameter {name} must be a non-negative integer"
            ))
        }),
    }
}

/// The `Origin` header, if the caller is a browser that sent one.
/// The value of cookie `name` in the request's `Cookie` header.
pub fn cookie(req: &Request, name: &str) -> Result<Option<String>> {
    Ok(req.headers().get("cookie")?.and_then(|header| {
        header.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_owned())
        })
    }))
}

pub fn origin(req: &Request) -> Result<Option<String>> {
    Ok(req.headers().get("origin")?)
}

/// Browsers send `Origin` on cross-origin requests and WebSocket handshakes: it must be our
/// own origin (the widget's iframe) or one of the site's allowed origins. Non-browser callers
/// send none and are judged by their credentials alone.
pub fn check_origin(req: &Request, edge: &Edge, site: &SiteSettings) -> Result<()> {
    match origin(req)? {
        None => Ok(()),
        Some(o) if o == edge.self_origin || site.allows_origin(&o) => Ok(()),
        Some(o) => Err(Error::new(
            ErrorCode::OriginNotAllowed,
            format!("origin {o} is not allowed for site {}", site.key),
        )),
    }
}

/// Adds CORS headers for an allowed cross-origin caller.
pub fn with_cors(resp: Response, allowed_origin: Option<&str>) -> Result<Response> {
    if let Some(o) = allowed_origin {
        let h = resp.headers();
        h.set("access-control-allow-origin", o)?;
        h.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
        h.set(
            "access-control-allow-headers",
            "authorization, content-type",
        )?;
        h.set("access-control-max-age", "600")?;
        h.append("vary", "Origin")?;
    }
    Ok(resp)
}
