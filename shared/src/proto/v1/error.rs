//! Machine-readable error codes shared by WebSocket `error` frames and HTTP error bodies.

use serde::{Deserialize, Serialize};

crate::named! {
/// Why a request or frame was refused. Serialized as a `snake_case` string; clients branch on
/// it (never on the human `message`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode: other Unknown {
    /// The request or its body could not be understood (malformed JSON, missing field, …).
    BadRequest = "bad_request",
    /// A WebSocket frame was not a valid client frame.
    BadFrame = "bad_frame",
    /// An id in the path or body is malformed.
    InvalidId = "invalid_id",
    /// The message body is empty after trimming.
    EmptyMessage = "empty_message",
    /// The message body is over [`crate::limits::MAX_MESSAGE_CHARS`].
    MessageTooLong = "message_too_long",
    /// The text contains characters that are not allowed (control characters).
    InvalidText = "invalid_text",
    /// The body or frame is over its size limit.
    PayloadTooLarge = "payload_too_large",
    /// A file whose bytes are of a kind Beckon does not take (or that could run as a page).
    UnsupportedFile = "unsupported_file",
    /// No credentials were presented.
    Unauthorized = "unauthorized",
    /// Credentials were presented but are not valid (forged, expired, wrong key).
    InvalidToken = "invalid_token",
    /// Valid credentials that do not grant this access.
    Forbidden = "forbidden",
    /// The request's `Origin` is not in the site's allow-list.
    OriginNotAllowed = "origin_not_allowed",
    /// The thing asked for does not exist (or is not visible to the caller).
    NotFound = "not_found",
    /// The site key is unknown.
    SiteNotFound = "site_not_found",
    /// The conversation is unknown.
    ConversationNotFound = "conversation_not_found",
    /// The route exists but not with this HTTP method.
    MethodNotAllowed = "method_not_allowed",
    /// Too many requests; retry later.
    RateLimited = "rate_limited",
    /// The site asks visitors to pass a challenge (Cloudflare Turnstile) before a conversation
    /// starts, and this one's token is missing, expired, used before or could not be checked.
    ChallengeFailed = "challenge_failed",
    /// The request conflicts with existing state (e.g. a site key already taken).
    Conflict = "conflict",
    /// Something failed on our side; the detail is logged, never returned.
    Internal = "internal",
    /// A code this client version does not know.
    Unknown = "unknown",
}
}

impl ErrorCode {
    /// A short, human sentence for the code (clients may show it; logs carry the detail).
    pub fn describe(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "The request could not be understood.",
            ErrorCode::BadFrame => "The frame is not a valid protocol v1 client frame.",
            ErrorCode::InvalidId => "An identifier is malformed.",
            ErrorCode::EmptyMessage => "The message is empty.",
            ErrorCode::MessageTooLong => "The message is too long.",
            ErrorCode::InvalidText => "The text contains characters that are not allowed.",
            ErrorCode::PayloadTooLarge => "The request is too large.",
            ErrorCode::UnsupportedFile => "This kind of file is not accepted.",
            ErrorCode::Unauthorized => "Credentials are required.",
            ErrorCode::InvalidToken => "The credentials are not valid.",
            ErrorCode::Forbidden => "Access to this resource is not allowed.",
            ErrorCode::OriginNotAllowed => "This website is not allowed to use this site's chat.",
            ErrorCode::NotFound => "Not found.",
            ErrorCode::SiteNotFound => "No site with this key.",
            ErrorCode::ConversationNotFound => "No such conversation.",
            ErrorCode::MethodNotAllowed => "This method is not allowed here.",
            ErrorCode::RateLimited => "Too many requests; try again shortly.",
            ErrorCode::ChallengeFailed => {
                "The check that you are a person did not pass; try again."
            }
            ErrorCode::Conflict => "This conflicts with existing data.",
            ErrorCode::Internal => "Something went wrong on our side.",
            ErrorCode::Unknown => "Unknown error.",
        }
    }
}

/// The JSON body of every HTTP error: `{"error":{"code":"…","message":"…"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ApiError {
    pub error: ApiErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ApiErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            error: ApiErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}
