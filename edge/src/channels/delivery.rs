//! One outgoing item on its way to one channel target, and the I/O a driver may use while
//! sending it — all provided by the outbox that owns the item: the channel's API (under the
//! relay timeout), the conversation's thread in the channel, the ledger of deliveries (so a
//! retry never serves a recipient twice) and the D1 mappings inbound replies are routed by.

use super::{ApiRequest, ApiResponse, ContactRoute, Failure, RelayFile, Target};
use crate::auth::FileGrant;
use crate::storage;
use beckon_shared::proto::v1::{Attachment, ChannelKind, Message};
use beckon_shared::{ConversationId, SiteKey};
use worker::{D1Database, Env};

/// What is being sent.
#[derive(Clone, Debug)]
pub enum Content {
    /// A message of a conversation.
    Message(Message),
    /// A notice of Beckon's own, sent as it is: a channel test, a new contact's greeting.
    Notice(String),
    /// An event of the site for the business's own system (outbound webhooks only).
    Event(SiteEvent),
}

/// Something that happened on a site outside any one message: a contact identified or
/// consenting, a broadcast starting or finishing. Its id is stable: consumers dedupe on it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SiteEvent {
    pub id: String,
    /// `contact.updated`, `broadcast.finished`, …
    pub kind: String,
    pub at: i64,
    pub data: serde_json::Value,
}

/// An outgoing item with its context.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub site: SiteKey,
    /// The site's display name.
    pub site_name: String,
    /// The conversation the item belongs to (none for a site's own notices).
    pub conversation: Option<ConversationId>,
    pub page_url: Option<String>,
    /// For a contact target: the contact's address.
    pub contact: Option<ContactRoute>,
    /// For a broadcast's message to its recipient: how the channel sends it.
    pub broadcast: Option<crate::broadcast::Mark>,
    pub content: Content,
}

/// Who on a target received an item: the target's one destination (a thread, a channel), or
/// one address of several (a WhatsApp number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipient<'a> {
    Destination,
    Address(&'a str),
}

impl Recipient<'_> {
    /// As stored in the ledger (`""` for the one destination).
    pub fn as_str(&self) -> &str {
        match self {
            Recipient::Destination => "",
            Recipient::Address(a) => a,
        }
    }
}

/// How long a link to a file in a channel (a relay sent as text) stays valid: agents open
/// relays days later.
pub const RELAY_LINK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// The ledger's name for part `part` of an item to `to`.
fn part_key(to: Recipient, part: &str) -> String {
    format!("{}#{part}", to.as_str())
}

/// The owner's record of what was delivered, and of the conversation's threads.
pub trait Ledger {
    fn thread(&self, kind: ChannelKind) -> crate::error::Result<Option<String>>;
    fn set_thread(&self, kind: ChannelKind, thread: Option<&str>) -> crate::error::Result<()>;
    /// Whether this item already reached `recipient` on this target.
    fn delivered(&self, recipient: &str) -> crate::error::Result<bool>;
    /// Whether any item of this owner reached `recipient` on this target before.
    fn served_before(&self, recipient: &str) -> crate::error::Result<bool>;
    fn record(&self, recipient: &str, remote_id: &str, now: i64) -> crate::error::Result<()>;
}

pub struct Delivery<'a> {
    pub target: Target,
    pub envelope: &'a Envelope,
    /// The channel asked for this item's fallback form (WhatsApp: the template, after a
    /// free-form send was refused for the 24-hour window).
    pub fallback: bool,
    pub(crate) ledger: &'a dyn Ledger,
    pub(crate) env: &'a Env,
    pub(crate) timeout_ms: u64,
}

impl Delivery<'_> {
    /// Calls the channel's API.
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, Failure> {
        let media = match request.file {
            Some(_) => Some(
                self.env
                    .bucket(crate::media::BUCKET)
                    .map_err(Failure::internal)?,
            ),
            None => None,
        };
        crate::transport::send(request, self.timeout_ms, media.as_ref()).await
    }

    pub fn db(&self) -> Result<D1Database, Failure> {
        self.env.d1("DB").map_err(Failure::internal)
    }

    pub fn now(&self) -> i64 {
        crate::http::now_ms()
    }

    /// The conversation's thread in this channel, if it has one.
    pub fn thread(&self) -> Result<Option<String>, Failure> {
        self.ledger
            .thread(self.target.channel())
            .map_err(Failure::internal)
    }

    /// Keeps `thread` as the conversation's thread, reachable by inbound replies under `key`.
    /// The D1 mapping is written first: a thread we remember must be one replies can be routed
    /// from. If mapping fails the item is retried and opens a fresh thread; no reply is lost.
    pub async fn remember_thread(&self, thread: &str, key: &str) -> Result<(), Failure> {
        self.map_remote(key).await?;
        self.ledger
            .set_thread(self.target.channel(), Some(thread))
            .map_err(Failure::internal)
    }

    /// The thread is gone (deleted in the channel): the next item opens a new one.
    pub fn forget_thread(&self) -> Result<(), Failure> {
        self.ledger
            .set_thread(self.target.channel(), None)
            .map_err(Failure::internal)
    }

    /// Routes inbound events carrying `key` (a thread, a remote message id) to this item's
    /// conversation. Notices belong to no conversation: nothing to map.
    pub async fn map_remote(&self, key: &str) -> Result<(), Failure> {
        let Some(conversation) = &self.envelope.conversation else {
            return Ok(());
        };
        storage::channels::map_thread(
            &self.db()?,
            self.target.channel(),
            &self.envelope.site,
            key,
            conversation,
            self.now(),
        )
        .await
        .map_err(Failure::internal)
    }

    /// For a channel that serves one destination (the agents' channel or endpoint): whether
    /// it is still to be served. A contact target is refused: such a channel has none.
    pub fn destination_pending(&self) -> Result<bool, Failure> {
        if let Target::Contact(k) = self.target {
            return Err(Failure::Permanent {
                reason: format!("{} cannot reach contacts", k.as_str()),
            });
        }
        Ok(!self.delivered(Recipient::Destination)?)
    }

    pub fn delivered(&self, to: Recipient) -> Result<bool, Failure> {
        self.ledger
            .delivered(to.as_str())
            .map_err(Failure::internal)
    }

    /// Whether this is the first item of the owner to reach `to` (a thread's header goes with
    /// the first message that actually lands there).
    pub fn first_to(&self, to: Recipient) -> Result<bool, Failure> {
        Ok(!self
            .ledger
            .served_before(to.as_str())
            .map_err(Failure::internal)?)
    }

    /// Records that `to` received the item as `remote_id`.
    pub fn record(&self, to: Recipient, remote_id: &str) -> Result<(), Failure> {
        self.ledger
            .record(to.as_str(), remote_id, self.now())
            .map_err(Failure::internal)
    }

    /// Whether part `part` of the item (one of several sends: a file, the rest of a caption)
    /// already reached `to`.
    pub fn part_delivered(&self, to: Recipient, part: &str) -> Result<bool, Failure> {
        self.ledger
            .delivered(&part_key(to, part))
            .map_err(Failure::internal)
    }

    /// Records that part `part` reached `to` as `remote_id`.
    pub fn record_part(&self, to: Recipient, part: &str, remote_id: &str) -> Result<(), Failure> {
        self.ledger
            .record(&part_key(to, part), remote_id, self.now())
            .map_err(Failure::internal)
    }

    /// The message being relayed, if the content is one.
    pub fn message(&self) -> Option<&Message> {
        match &self.envelope.content {
            Content::Message(m) => Some(m),
            Content::Notice(_) | Content::Event(_) => None,
        }
    }

    /// The notice's text, or the message's body (an event has none).
    pub fn text(&self) -> &str {
        match &self.envelope.content {
            Content::Message(m) => &m.body,
            Content::Notice(text) => text,
            Content::Event(_) => "",
        }
    }

    /// The site event being posted, if the content is one.
    pub fn event(&self) -> Option<&SiteEvent> {
        match &self.envelope.content {
            Content::Event(e) => Some(e),
            _ => None,
        }
    }

    /// The relay of a conversation message, as agents see it, its file links valid for
    /// [`RELAY_LINK_TTL_MS`].
    pub fn relay<'m>(&'m self, m: &'m Message) -> super::Relay<'m> {
        self.relay_until(m, self.now() + RELAY_LINK_TTL_MS)
    }

    /// The relay with file links valid until `expires` (a fixed time gives the same links
    /// on every attempt).
    pub fn relay_until<'m>(&'m self, m: &'m Message, expires: i64) -> super::Relay<'m> {
        let files = match &self.envelope.conversation {
            Some(c) => m
                .attachments
                .iter()
                .map(|a| RelayFile {
                    attachment: a,
                    key: crate::media::object_key(a.holder(c), &a.id),
                    link: self.file_link(a.holder(c), a, expires),
                })
                .collect(),
            None => Vec::new(),
        };
        super::Relay {
            files,
            site_name: &self.envelope.site_name,
            conversation_id: self
                .envelope
                .conversation
                .as_ref()
                .map_or("", ConversationId::as_str),
            page_url: self.envelope.page_url.as_deref(),
            role: m.role,
            author: m.author.as_deref(),
            via: m.via.as_deref(),
            body: &m.body,
        }
    }

    /// A download link for `a` valid until `expires`, if the edge knows its public origin
    /// (`PUBLIC_ORIGIN`).
    fn file_link(&self, c: &ConversationId, a: &Attachment, expires: i64) -> Option<String> {
        let origin = self.env.var("PUBLIC_ORIGIN").ok()?.to_string();
        let secret = crate::http::secret(self.env, "TOKEN_SECRET").ok()?;
        let grant = FileGrant::for_file(c, a, expires);
        Some(format!(
            "{}{}",
            origin.trim_end_matches('/'),
            grant.url(&secret)
        ))
    }

    /// A broadcast's message (nothing to check for any other): refused — `Rejected`, the
    /// recipient's reported reason — if the broadcast was cancelled, or the person opted out of
    /// the channel (said STOP, unsubscribed) since it was claimed for them. The claim's own
    /// check is older than a retry, which may come hours later.
    pub async fn broadcast_still_wanted(&self) -> Result<(), Failure> {
        use beckon_shared::proto::v1::BroadcastChannel;
        let Some(mark) = &self.envelope.broadcast else {
            return Ok(());
        };
        let db = self.db()?;
        // Opted out on this address, or on any of the contact record's (as the sender checks
        // before the post): read with the broadcast's status, in one round trip.
        let (cancelled, out) = storage::broadcasts::cancelled_or_opted_out(
            &db,
            &mark.broadcast,
            &self.envelope.site,
            (
                mark.contact.as_deref(),
                mark.channel.as_str(),
                &mark.address,
            ),
        )
        .await
        .map_err(Failure::internal)?;
        if cancelled {
            return Err(Failure::Rejected {
                reason: crate::broadcast::CANCELLED.into(),
            });
        }
        if out {
            let reason = match mark.channel {
                BroadcastChannel::Email => crate::broadcast::UNSUBSCRIBED,
                _ => crate::broadcast::SAID_STOP,
            };
            return Err(Failure::Rejected {
                reason: reason.into(),
            });
        }
        Ok(())
    }

    /// The contact's address, for a contact target.
    pub fn contact_address(&self) -> Result<&str, Failure> {
        self.envelope
            .contact
            .as_ref()
            .map(|c| c.address.as_str())
            .ok_or(Failure::Permanent {
                reason: "no contact address".into(),
            })
    }
}
