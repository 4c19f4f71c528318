//! The browser side of a Beckon conversation, shared by the widget (visitor) and the inbox
//! (agent): one [`session::Session`] type that owns the transcript and the WebSocket —
//! resume from the last contiguous `seq`, idempotent retried sends, backoff with jitter — plus
//! the HTTP helpers and the message list / composer components both apps render.

pub mod api;
pub mod challenge;
pub mod components;
pub mod i18n;
pub mod persist;
pub mod reconnecting;
pub mod session;
pub mod split;
pub mod upload;
