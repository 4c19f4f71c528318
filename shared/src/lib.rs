//! Beckon's shared core: the wire protocol, identifiers, limits and pure logic used by the
//! widget, the web inbox (console) and the edge. Nothing in this crate performs I/O, so all
//! of it is unit-tested natively.

// The derive (`json::FromJson`) names this crate by its name, also from inside it.
extern crate self as beckon_shared;

pub mod backoff;
pub mod i18n;
pub mod ids;
pub mod json;
pub mod limits;
pub mod media;
pub mod named;
pub mod proto;
pub mod rules;
pub mod tagged;
pub mod text;
pub mod transcript;

pub use ids::{
    AttachmentId, AudienceId, BroadcastId, ClientMsgId, ConversationId, IdError, MessageId, RuleId,
    Seq, SiteKey, VisitorId,
};
