//! `GET /api/v1/admin/conversations/{id}/visitor`: who a conversation is with — the inbox's
//! sidebar. Coarse on purpose: a device class and browser family (never the raw user agent),
//! country and city (never an address), page paths (never a query, host or title).

use super::{Contact, ConversationSummary};
use crate::ids::VisitorId;
use serde::{Deserialize, Serialize};

/// What the edge saw of the visitor's browser when they last started a conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct VisitorClient {
    /// `desktop`, `phone`, `tablet` or `other`.
    pub device: String,
    /// Family and major version, e.g. `Chrome 131`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// e.g. `Android 14`, `iOS 17.5`, `macOS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// The browser's first language (`Accept-Language`), e.g. `id-ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2, from the edge's request metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// When (ms since the epoch).
    pub at: i64,
}

/// A page the visitor opened (its path only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct PageSeen {
    pub url: String,
    pub at: i64,
}

/// The sidebar's whole answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct VisitorProfile {
    pub visitor_id: VisitorId,
    /// Their record: what the site's page or an import said of them, tags, attributes and
    /// consents (absent once the visitor was deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<VisitorClient>,
    /// The page they are on now, if their chat app is running on the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now_on: Option<PageSeen>,
    /// The pages of their latest visit since they first chatted, oldest first (at most
    /// [`MAX_PAGES_SEEN`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<PageSeen>,
    /// Their other conversations on the site, newest first (at most
    /// [`MAX_PAST_CONVERSATIONS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversations: Vec<ConversationSummary>,
}

/// The most pages of one visit kept and shown.
pub const MAX_PAGES_SEEN: usize = 20;
/// The most other conversations shown.
pub const MAX_PAST_CONVERSATIONS: usize = 10;
