//! Protocol v1: WebSocket frames between a client (widget or inbox) and a conversation, the
//! HTTP API's request/response bodies, and the machine-readable error codes both use.
//!
//! Every enum a client receives has a catch-all `Unknown` variant, so a widget cached on a
//! visitor's machine survives frames, roles or codes added to the server later.

mod api;
mod channels;
mod error;
mod frames;
mod message;

pub use api::*;
pub use channels::*;
pub use error::*;
pub use frames::*;
pub use message::*;

/// The value of the `v` query parameter / the subprotocol version this module speaks.
pub const VERSION: u32 = 1;
