//! Protocol v1: WebSocket frames between a client (widget or inbox) and a conversation, the
//! HTTP API's request/response bodies (one module per resource), the paths they live at, and
//! the machine-readable error codes both use.
//!
//! Every enum a client receives has a catch-all `Unknown` variant, so a widget cached on a
//! visitor's machine survives frames, roles or codes added to the server later.

mod broadcasts;
mod channels;
mod contacts;
mod conversation;
mod dashboard;
mod data_requests;
mod error;
mod frames;
mod inbox;
mod keys;
mod message;
pub mod paths;
mod people;
mod prechat;
mod presence;
mod proactive;
mod site;
mod uploads;
mod visitor_profile;
mod work;

pub use broadcasts::*;
pub use channels::*;
pub use contacts::*;
pub use conversation::*;
pub use dashboard::*;
pub use data_requests::*;
pub use error::*;
pub use frames::*;
pub use inbox::*;
pub use keys::*;
pub use message::*;
pub use people::*;
pub use prechat::*;
pub use presence::*;
pub use proactive::*;
pub use site::*;
pub use uploads::*;
pub use visitor_profile::*;
pub use work::*;

/// The value of the `v` query parameter / the subprotocol version this module speaks.
pub const VERSION: u32 = 1;
