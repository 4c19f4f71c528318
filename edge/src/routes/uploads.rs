//! Files over HTTP: create or resume an upload, `PUT` its parts (part 1's bytes decide what the
//! file is before anything is stored), complete or cancel it — with the visitor's token (own
//! conversation only) or an admin key — and download a file through its signed URL.

use super::{admin, visitor};
use crate::auth::FileGrant;
use crate::conversation::client::ConversationClient;
use crate::conversation::uploads::{UploadOp, UploadState};
use crate::conversation::Principal;
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::media::sniff::SniffedFile;
use crate::media::{self, serve};
use crate::rate_limit::{self, Limit};
use beckon_shared::media::{self as limits, FileType};
use beckon_shared::proto::v1::{CreateUpload, ErrorCode, KeyRole};
use beckon_shared::{AttachmentId, ConversationId};
use worker::{Headers, Request, Response};

/// Who is uploading: a visitor (bearer visitor token) or an agent (bearer admin key, or a
/// signed-in person's session, of the conversation's site — the conversation checks).
async fn principal(req: &Request, edge: &Edge) -> Result<Principal> {
    let header = req.headers().get("authorization")?;
    match crate::auth::bearer(header.as_deref()) {
        Some(token) if token.starts_with("vt") => {
            Ok(visitor::visitor_from_token(req, edge, token).await?.1)
        }
        _ => Ok(admin::authorize(req, edge, KeyRole::Agent, None)
            .await?
            .principal("api", None)),
    }
}

async fn run(
    edge: &Edge,
    conv: &ConversationId,
    who: &Principal,
    op: UploadOp,
) -> Result<UploadState> {
    ConversationClient::new(&edge.env, conv)?
        .upload(who, &op)
        .await
}

/// `POST …/uploads`: a new upload, or the one this `upload_key` already started.
pub async fn create(mut req: Request, edge: &Edge, conv: &ConversationId) -> Result<Response> {
    rate_limit::check(&edge.env, &req, Limit::Uploads).await?;
    let who = principal(&req, edge).await?;
    let create: CreateUpload = http::read_json(&mut req).await?;
    http::json(
        200,
        &run(edge, conv, &who, UploadOp::Create(create))
            .await?
            .upload,
    )
}

/// `GET …/uploads/{id}` (which parts are stored, to resume) and `POST …/uploads/{id}/complete`
/// (assembles the parts; the answer carries the attachment): the upload as `op` leaves it.
pub async fn answer(
    req: &Request,
    edge: &Edge,
    conv: &ConversationId,
    op: UploadOp,
) -> Result<Response> {
    rate_limit::check(&edge.env, req, Limit::Files).await?;
    let who = principal(req, edge).await?;
    http::json(200, &run(edge, conv, &who, op).await?.upload)
}

/// `DELETE …/uploads/{id}`: cancels an upload that is not complete.
pub async fn cancel(
    req: &Request,
    edge: &Edge,
    conv: &ConversationId,
    id: &AttachmentId,
) -> Result<Response> {
    rate_limit::check(&edge.env, req, Limit::Files).await?;
    let who = principal(req, edge).await?;
    run(edge, conv, &who, UploadOp::Abort { id: id.clone() }).await?;
    Ok(Response::empty()?.with_status(204))
}

/// `PUT …/uploads/{id}/parts/{n}`: stores one part (its exact length); part 1 is checked
/// first — a file of a kind not accepted, or larger than its kind allows, is refused and its
/// upload cancelled, with nothing stored.
pub async fn put_part(
    mut req: Request,
    edge: &Edge,
    conv: &ConversationId,
    id: &AttachmentId,
    part: &str,
) -> Result<Response> {
    rate_limit::check(&edge.env, &req, Limit::Files).await?;
    let who = principal(&req, edge).await?;
    let n: u32 = part
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| Error::bad_request("the part number must be 1 or more"))?;
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|l| l > limits::PART_BYTES) {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("a part has at most {} bytes", limits::PART_BYTES),
        ));
    }
    let state = run(edge, conv, &who, UploadOp::Get { id: id.clone() }).await?;
    let upload = &state.upload;
    if upload.attachment.is_some() {
        // Complete already: a late retry of a part changes nothing.
        return http::json(200, upload);
    }
    let expected = limits::part_len(upload.size, n).ok_or_else(|| {
        Error::bad_request(format!("this upload has parts 1 to {}", upload.parts))
    })?;
    let bytes = http::read_bytes(&mut req, expected).await?;
    if bytes.len() as u64 != expected {
        return Err(Error::bad_request(format!(
            "part {n} must have exactly {expected} bytes (got {})",
            bytes.len()
        )));
    }
    let sniffed = if n == 1 {
        match media::check(&bytes, &upload.name, upload.size) {
            Ok(s) => Some(SniffedFile::from(s)),
            Err(e) => {
                run(edge, conv, &who, UploadOp::Abort { id: id.clone() }).await?;
                return Err(e);
            }
        }
    } else {
        None
    };
    let part = edge
        .env
        .bucket(media::BUCKET)?
        .resume_multipart_upload(&state.key, &state.r2_upload)?
        .upload_part(n as u16, bytes)
        .await
        .map_err(|e| Error::internal(format!("R2 upload part: {e}")))?;
    let op = UploadOp::Part {
        id: id.clone(),
        n,
        etag: part.etag(),
        sniffed,
    };
    http::json(200, &run(edge, conv, &who, op).await?.upload)
}

/// `GET …/attachments/{id}?t&n&e&s`: the file, through its signed URL (no other credential:
/// `<img>` and `<video>` cannot send one), with `Range` support for video.
pub async fn download(
    req: &Request,
    edge: &Edge,
    conv: &ConversationId,
    id: &AttachmentId,
) -> Result<Response> {
    // A link that is not valid counts against the address; a valid one against the address
    // and that file: a provider fetching a broadcast's file for each recipient (Meta, an
    // email service: a few addresses for every site) is not cut off.
    let q = http::query(req)?;
    let grant = match FileGrant::verify(&edge.token_secret()?, conv, id, &q, edge.now) {
        Ok(grant) => {
            rate_limit::check_scoped(&edge.env, req, Limit::Files, &format!("{conv}/{id}")).await?;
            grant
        }
        Err(e) => {
            rate_limit::check(&edge.env, req, Limit::Files).await?;
            return Err(e);
        }
    };
    let file_type: FileType =
        serde_json::from_value(serde_json::Value::String(grant.file_type.clone()))
            .map_err(|_| Error::code(ErrorCode::Forbidden))?;
    let bucket = edge.env.bucket(media::BUCKET)?;
    let key = media::object_key(conv, id);
    let head = bucket
        .head(key.as_str())
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, "this file no longer exists"))?;
    let size = head.size();
    let range = serve::range(req.headers().get("range")?.as_deref(), size);
    if range == serve::Wanted::Unsatisfiable {
        let resp = Response::empty()?.with_status(416);
        resp.headers()
            .set("content-range", &format!("bytes */{size}"))?;
        return Ok(resp);
    }
    let mut get = bucket.get(key.as_str());
    if let serve::Wanted::Part { offset, length } = range {
        get = get.range(worker::Range::OffsetWithLength { offset, length });
    }
    let object = get
        .execute()
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, "this file no longer exists"))?;
    let body = object
        .body()
        .ok_or_else(|| Error::internal("R2 object without a body"))?
        .response_body()?;
    let headers = Headers::new();
    for (k, v) in serve::headers(file_type, &grant.name) {
        headers.set(k, &v)?;
    }
    let (status, length) = match range {
        serve::Wanted::Part { offset, length } => {
            headers.set(
                "content-range",
                &format!("bytes {offset}-{}/{size}", offset + length - 1),
            )?;
            (206, length)
        }
        _ => (200, size),
    };
    headers.set("content-length", &length.to_string())?;
    Ok(Response::from_body(body)?
        .with_status(status)
        .with_headers(headers))
}
