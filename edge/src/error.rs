//! The edge's one error type. Handlers return `Result<_, Error>` and use `?`; at the boundary
//! every error becomes a JSON body `{"error":{"code","message"}}` with the status its code
//! implies. Internal failures are logged with their detail and answered with a generic
//! message — nothing about our internals reaches the client.

use beckon_shared::proto::v1::{ApiError, ErrorCode};
use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The client's fault or a refusal: shown to the client as is.
    Client { code: ErrorCode, message: String },
    /// Our fault (a binding failed, a bug): logged, answered with `internal`.
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A refusal with a specific message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Client {
            code,
            message: message.into(),
        }
    }

    /// A refusal with the code's standard sentence.
    pub fn code(code: ErrorCode) -> Self {
        Error::new(code, code.describe())
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::BadRequest, message)
    }

    pub fn internal(detail: impl fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }

    pub fn error_code(&self) -> ErrorCode {
        match self {
            Error::Client { code, .. } => *code,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> u16 {
        status_of(self.error_code())
    }

    /// The JSON body a client sees. Internal detail is replaced by the generic sentence.
    pub fn body(&self) -> ApiError {
        match self {
            Error::Client { code, message } => ApiError::new(*code, message.clone()),
            Error::Internal(_) => {
                ApiError::new(ErrorCode::Internal, ErrorCode::Internal.describe())
            }
        }
    }
}

/// HTTP status of each error code.
pub fn status_of(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::BadRequest
        | ErrorCode::BadFrame
        | ErrorCode::InvalidId
        | ErrorCode::EmptyMessage
        | ErrorCode::MessageTooLong
        | ErrorCode::InvalidText => 400,
        ErrorCode::Unauthorized | ErrorCode::InvalidToken => 401,
        ErrorCode::Forbidden | ErrorCode::OriginNotAllowed | ErrorCode::ChallengeFailed => 403,
        ErrorCode::NotFound | ErrorCode::SiteNotFound | ErrorCode::ConversationNotFound => 404,
        ErrorCode::MethodNotAllowed => 405,
        ErrorCode::Conflict => 409,
        ErrorCode::PayloadTooLarge => 413,
        ErrorCode::UnsupportedFile => 415,
        ErrorCode::RateLimited => 429,
        ErrorCode::Internal | ErrorCode::Unknown => 500,
        _ => 500,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Client { code, message } => write!(f, "{code:?}: {message}"),
            Error::Internal(detail) => write!(f, "internal: {detail}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Error::code(code)
    }
}

impl From<(ErrorCode, String)> for Error {
    fn from((code, message): (ErrorCode, String)) -> Self {
        Error::new(code, message)
    }
}

impl From<worker::Error> for Error {
    fn from(e: worker::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<beckon_shared::IdError> for Error {
    fn from(e: beckon_shared::IdError) -> Self {
        Error::new(ErrorCode::InvalidId, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let e = Error::internal("D1_ERROR: no such table: sites at line 3");
        assert_eq!(e.status(), 500);
        let body = serde_json::to_string(&e.body()).unwrap();
        assert!(!body.contains("D1"), "{body}");
        assert!(body.contains("\"internal\""));
    }

    #[test]
    fn statuses() {
        assert_eq!(Error::code(ErrorCode::InvalidToken).status(), 401);
        assert_eq!(Error::code(ErrorCode::OriginNotAllowed).status(), 403);
        assert_eq!(Error::code(ErrorCode::ConversationNotFound).status(), 404);
        assert_eq!(Error::code(ErrorCode::PayloadTooLarge).status(), 413);
        assert_eq!(Error::bad_request("x").status(), 400);
    }
}
