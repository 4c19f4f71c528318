//! Admin API keys (`/api/v1/admin/keys`): what a key may do ([`KeyRole`]) on which sites
//! ([`KeySites`]), and the bodies that create and list keys.

use crate::SiteKey;
use serde::{Deserialize, Serialize};

/// What a key may do on its sites.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    crate::json::FromJson,
)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// Read and answer the conversations of its sites: conversation list, messages, replies,
    /// files, the live feed, who is online, contacts (read) and "write first".
    Agent,
    /// Everything on its sites, including keys, channels, rules, broadcasts, audiences,
    /// contact imports and deletions. An owner of every site may also create sites.
    Owner,
}

crate::serde_reads!(KeySites);

/// The sites a key is valid for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "sites")]
pub enum KeySites {
    /// Every site of this instance, including sites created later.
    All,
    /// Only these.
    Only(Vec<SiteKey>),
}

impl KeySites {
    /// From the API's form: `null` (or absent) is every site.
    pub fn from_list(list: Option<Vec<SiteKey>>) -> KeySites {
        match list {
            None => KeySites::All,
            Some(mut l) => {
                l.sort();
                l.dedup();
                KeySites::Only(l)
            }
        }
    }

    /// The API's form: `None` is every site.
    pub fn to_list(&self) -> Option<Vec<SiteKey>> {
        match self {
            KeySites::All => None,
            KeySites::Only(l) => Some(l.clone()),
        }
    }

    pub fn allows(&self, site: &SiteKey) -> bool {
        match self {
            KeySites::All => true,
            KeySites::Only(l) => l.contains(site),
        }
    }

    /// Whether every site `other` names is one of ours.
    pub fn covers(&self, other: &KeySites) -> bool {
        match (self, other) {
            (KeySites::All, _) => true,
            (KeySites::Only(_), KeySites::All) => false,
            (KeySites::Only(_), KeySites::Only(o)) => o.iter().all(|s| self.allows(s)),
        }
    }
}

/// `POST /api/v1/admin/keys`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct NewAdminKey {
    pub label: String,
    /// `agent` unless said otherwise: a new key gets the least it needs.
    #[serde(default = "agent")]
    pub role: KeyRole,
    /// The sites the key is for; `null` or absent: every site (only an owner of every site
    /// may create such a key).
    #[serde(default)]
    pub sites: Option<Vec<SiteKey>>,
}

fn agent() -> KeyRole {
    KeyRole::Agent
}

/// An admin key as listed (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct AdminKeyInfo {
    pub id: String,
    pub label: String,
    pub role: KeyRole,
    /// `null`: every site.
    pub sites: Option<Vec<SiteKey>>,
    pub created_at: i64,
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

/// What the calling key may do, returned by `GET /api/v1/admin/sites` with the sites it
/// sees, so the inbox offers only what the key allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct CallerAccess {
    pub role: KeyRole,
    pub sites: Option<Vec<SiteKey>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(k: &str) -> SiteKey {
        SiteKey::parse(k).unwrap()
    }

    #[test]
    fn sites_allow_and_cover() {
        let demo = KeySites::from_list(Some(vec![s("shop"), s("demo"), s("demo")]));
        assert_eq!(demo, KeySites::Only(vec![s("demo"), s("shop")]));
        assert!(demo.allows(&s("demo")) && !demo.allows(&s("other")));
        assert!(KeySites::All.allows(&s("other")));
        assert!(KeySites::All.covers(&demo));
        assert!(!demo.covers(&KeySites::All));
        assert!(demo.covers(&KeySites::Only(vec![s("shop")])));
        assert!(!demo.covers(&KeySites::Only(vec![s("shop"), s("other")])));
        assert_eq!(KeySites::from_list(None), KeySites::All);
        assert_eq!(KeySites::All.to_list(), None);
        assert!(KeyRole::Owner > KeyRole::Agent);
        let new: NewAdminKey = serde_json::from_str(r#"{"label":"x"}"#).unwrap();
        assert_eq!((new.role, new.sites), (KeyRole::Agent, None));
    }
}
