//! What a channel's webhook may do once it has verified a request: route an agent's reply to
//! the conversation its thread belongs to (by the thread, never by anything the sender
//! claims; its files downloaded from the channel and checked like uploads), take a contact's
//! message into their conversation (opening one if none is going on), report a delivery
//! status, greet a new contact through the site's outbox. Every action is idempotent by the
//! channel's event id, so a redelivered webhook is applied once; every failure of ours is
//! returned, so the webhook answers 5xx and the channel redelivers.

use super::{ContactRoute, Driver, Failure, Inbound, InboundFile};
use crate::conversation::client::ConversationClient;
use crate::conversation::uploads::UploadOp;
use crate::conversation::{self, Opening, PostRequest, Principal, StatusReport};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::media;
use crate::media::sniff::SniffedFile;
use crate::outbox::policy::DeliveryStatus;
use crate::storage::{channels as store, visitors};
use beckon_shared::limits::MAX_MESSAGE_CHARS;
use beckon_shared::media::{self as limits, FileType};
use beckon_shared::proto::v1::{BroadcastChannel, ChannelKind, ConversationOrigin, ErrorCode};
use beckon_shared::{AttachmentId, ConversationId, SiteKey, VisitorId};
use worker::{D1Database, Request, Response};

/// Largest webhook body read; anything larger is refused before it is verified or parsed.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 256 * 1024;

/// How much of a downloaded file [`media::check`] looks at.
const SNIFF_BYTES: usize = 64 * 1024;

/// A name for a channel's file that came without one (Telegram photos): `photo.jpg`.
fn default_name(t: FileType) -> String {
    let ext = match t {
        FileType::Jpeg => "jpg",
        FileType::Quicktime => "mov",
        FileType::Text => "txt",
        FileType::Office => "doc",
        FileType::Unknown => "bin",
        other => other.as_str(),
    };
    let stem = match t.family() {
        limits::Family::Image => "photo",
        limits::Family::Video => "video",
        limits::Family::Document => "document",
    };
    format!("{stem}.{ext}")
}

/// Where an inbound message's files come from: a channel's download (every [`Driver`]), or
/// the parts of an email already in hand.
#[allow(async_fn_in_trait)]
pub trait FileSource {
    async fn fetch(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure>;
}

impl<D: Driver> FileSource for D {
    async fn fetch(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        self.download(file, max_bytes, timeout_ms).await
    }
}

/// A verified webhook's view of the edge.
pub struct Hook<'a> {
    pub edge: &'a Edge,
    pub site: &'a SiteKey,
    pub kind: ChannelKind,
}

/// The refusal of a request whose credentials do not verify.
pub fn unauthorized(what: &str) -> Error {
    Error::new(ErrorCode::InvalidToken, format!("{what} does not verify"))
}

/// The plain "ok" every channel accepts as an acknowledgement.
pub fn ok() -> Result<Response> {
    http::text(200, "text/plain; charset=utf-8", "ok")
}

impl Hook<'_> {
    pub fn db(&self) -> Result<D1Database> {
        self.edge.db()
    }

    pub fn now(&self) -> i64 {
        self.edge.now
    }

    /// The raw body, at most [`MAX_WEBHOOK_BODY_BYTES`].
    pub async fn read_body(&self, req: &mut Request) -> Result<Vec<u8>> {
        http::read_bytes(req, MAX_WEBHOOK_BODY_BYTES as u64).await
    }

    /// The site's display name.
    pub async fn site_name(&self) -> Result<String> {
        Ok(crate::channels::set::get(&self.edge.env, self.site)
            .await?
            .site_name
            .clone())
    }

    /// Stores an agent's reply in the conversation its thread belongs to (once per event),
    /// with its files downloaded from `source` into the conversation's storage.
    pub async fn agent_reply(&self, inbound: Inbound, source: &impl FileSource) -> Result<()> {
        let db = self.db()?;
        let Some(conversation) =
            store::find_thread(&db, self.kind, self.site, &inbound.thread_key).await?
        else {
            worker::console_log!(
                "{} reply in an unknown thread of site {}: ignored",
                self.kind.as_str(),
                self.site
            );
            return Ok(());
        };
        let principal = Principal::system(self.kind.as_str(), inbound.author.clone());
        let key = (self.kind.as_str(), inbound.event_key.as_str());
        self.post_with_files(
            &conversation,
            principal,
            (&inbound.text, &inbound.files, source),
            key,
        )
        .await
    }

    /// Posts `text` and `files` (downloaded from `source`; a file that cannot be taken is a
    /// note in the text instead) to `conversation` once per channel event `key`.
    async fn post_with_files(
        &self,
        conversation: &ConversationId,
        principal: Principal,
        (text, files, source): (&str, &[InboundFile], &impl FileSource),
        (prefix, event_id): (&str, &str),
    ) -> Result<()> {
        let mut body: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
        let mut attachments = Vec::new();
        for (n, file) in files.iter().enumerate() {
            let key = format!("{prefix}\n{event_id}\n{n}");
            match self
                .import(conversation, &principal, source, file, &key)
                .await?
            {
                Ok(id) => attachments.push(id),
                Err(note) => {
                    if !body.is_empty() {
                        body.push('\n');
                    }
                    body.push_str(&note);
                }
            }
        }
        if body.trim().is_empty() && attachments.is_empty() {
            return Ok(());
        }
        // The notes never push a message past its limit.
        let body = body.chars().take(MAX_MESSAGE_CHARS).collect();
        self.post(
            conversation,
            principal,
            (body, attachments),
            (prefix, event_id),
        )
        .await
    }

    /// Downloads `file` from the channel, checks what its bytes are and stores it as a file
    /// of `conversation` (under an id derived from `key`: a redelivered webhook stores it
    /// once). `Ok(Err(note))`: the file cannot be taken, and `note` says so in the message;
    /// `Err`: a failure of ours or a transient one of the channel (the webhook is retried).
    async fn import(
        &self,
        conversation: &ConversationId,
        principal: &Principal,
        source: &impl FileSource,
        file: &InboundFile,
        key: &str,
    ) -> Result<std::result::Result<AttachmentId, String>> {
        let named = file.name.as_deref().unwrap_or("file");
        let refused = |why: &str| Ok(Err(format!("[{named} was not relayed: {why}]")));
        if file.size.is_some_and(|n| n > limits::MAX_FILE_BYTES) {
            return refused("too large");
        }
        let timeout = crate::transport::timeout_ms(&self.edge.env);
        let bytes = match source.fetch(file, limits::MAX_FILE_BYTES, timeout).await {
            Ok(b) => b,
            Err(Failure::Rejected { reason }) => {
                worker::console_warn!("{} file not downloaded: {reason}", self.kind.as_str());
                return refused("it could not be downloaded");
            }
            Err(f) => {
                return Err(Error::internal(format!(
                    "downloading a file: {}",
                    f.reason()
                )))
            }
        };
        let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
        let sniffed = match media::check(head, named, bytes.len() as u64) {
            Ok(s) => s,
            Err(e) => return refused(&e.body().error.message),
        };
        let name = match file.name.as_deref().map(limits::check_name) {
            Some(Ok(n)) => n.to_owned(),
            _ => default_name(sniffed.file_type),
        };
        let id = AttachmentId::from_random(crate::auth::derive_id(
            &self.edge.token_secret()?,
            "channel-file",
            &format!("{conversation}\n{key}"),
        ));
        let size = bytes.len() as u64;
        let bucket = self.edge.env.bucket(media::BUCKET)?;
        let object = media::object_key(conversation, &id);
        bucket
            .put(&object, bytes)
            .http_metadata(worker::HttpMetadata {
                content_type: Some(sniffed.mime.to_owned()),
                ..Default::default()
            })
            .execute()
            .await?;
        let op = UploadOp::Import {
            id: id.clone(),
            name,
            size,
            sniffed: SniffedFile::from(sniffed),
        };
        let client = ConversationClient::new(&self.edge.env, conversation)?;
        match client.upload(principal, &op).await {
            Ok(_) => Ok(Ok(id)),
            // Refused (the object answered; an error of unknown fate may have recorded it):
            // not the conversation's — an id it already had would have been taken —, so no
            // limit counts it and no deletion of the conversation would find it (one deleted
            // while this downloaded had listed its files already). It must not stay; a
            // retried webhook stores it again.
            Err(e) if (400..500).contains(&e.status()) => {
                if let Err(e) = bucket.delete(&object).await {
                    worker::console_error!("a refused file left in storage ({object}): {e}");
                }
                if e.error_code() == ErrorCode::PayloadTooLarge {
                    refused("the conversation is full")
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Posts `body` and `attachments` to `conversation` once per channel event `key`
    /// (prefix, event id).
    async fn post(
        &self,
        conversation: &ConversationId,
        principal: Principal,
        (body, attachments): (String, Vec<AttachmentId>),
        (prefix, event_id): (&str, &str),
    ) -> Result<()> {
        let post = PostRequest {
            principal,
            body,
            client_msg_id: Some(super::api::idempotency_key(prefix, event_id)),
            attachments,
            files: Vec::new(),
            broadcast: None,
            relay_first: false,
        };
        ConversationClient::new(&self.edge.env, conversation)?
            .post(&post)
            .await?;
        Ok(())
    }

    /// The contact and conversation a message from `route` belongs to, if any.
    pub async fn contact_thread(
        &self,
        route: &ContactRoute,
    ) -> Result<Option<(VisitorId, ConversationId)>> {
        visitors::find_contact_thread(&self.db()?, self.site, route.channel, &route.address).await
    }

    /// Stores a contact's message (text, and files downloaded from `source`) as the visitor's
    /// in `thread`, once per channel event (`event_id`, namespaced by the channel's `prefix`).
    pub async fn contact_message(
        &self,
        (visitor, conversation): (VisitorId, ConversationId),
        key: (&str, &str),
        text: &str,
        (files, source): (&[InboundFile], &impl FileSource),
    ) -> Result<()> {
        let principal = Principal::Visitor {
            site: self.site.clone(),
            visitor_id: visitor,
        };
        self.post_with_files(&conversation, principal, (text, files, source), key)
            .await
    }

    /// Opens the conversation of a contact who wrote unprompted, owned by `owner`, under an
    /// id derived from the site and the contact's address: every webhook handling that
    /// contact's messages at the same time agrees on it.
    pub async fn open_for_contact(
        &self,
        owner: &VisitorId,
        route: ContactRoute,
    ) -> Result<ConversationId> {
        let id = conversation::contact_conversation_id(&self.edge.env, self.site, &route)?;
        conversation::open(
            &self.edge.env,
            Opening {
                id: Some(id.clone()),
                origin: ConversationOrigin::Visitor,
                contact: Some(route),
                ..Opening::new(self.site.clone(), owner.clone(), self.now())
            },
        )
        .await?;
        Ok(id)
    }

    /// Reports a delivery status of the message the channel knows as `remote_id` to its
    /// conversation. With `fallback`, the message goes out again in the channel's fallback
    /// form, and `fallback` says why.
    ///
    /// A status for an id we never mapped, to a contact (`to`), goes to that contact's
    /// conversation: it may be the answer to a broadcast send whose fate was left unknown
    /// (`Outbox::arrived_after_all`), which then counts as sent.
    pub async fn delivery_status(&self, mut report: StatusReport) -> Result<()> {
        if report.status == DeliveryStatus::Failed || report.fallback.is_some() {
            report.to = None;
        }
        let db = self.db()?;
        let conversation =
            match store::find_thread(&db, self.kind, self.site, &report.remote_id).await? {
                Some(conversation) => conversation,
                None => match &report.to {
                    Some(route) => match self.contact_thread(route).await? {
                        Some((_, conversation)) => conversation,
                        None => return Ok(()),
                    },
                    None => return Ok(()),
                },
            };
        ConversationClient::new(&self.edge.env, &conversation)?
            .relay_status(&report)
            .await
    }

    /// A contact's "STOP" (or "START"): recorded as their consent to broadcasts from now on
    /// (under `also` too: other forms of the same address), and confirmed to them through the
    /// site's outbox (once per event) in the channel's format (`format`). Whether the message
    /// was such a keyword.
    pub async fn consent_keyword(
        &self,
        (route, also): (&ContactRoute, &[String]),
        event_key: &str,
        text: &str,
        format: impl Fn(&str) -> String,
    ) -> Result<bool> {
        use crate::broadcast::keywords::{self, Keyword};
        use crate::storage::contacts::{self, Source};
        let Some(keyword) = keywords::keyword(text) else {
            return Ok(false);
        };
        let db = self.db()?;
        let channel = BroadcastChannel::from(route.channel);
        let address = (channel, route.address.as_str());
        let site_name = self.site_name().await?;
        let opted_in = matches!(keyword, Keyword::Start);
        let addresses = || std::iter::once(&route.address).chain(also);
        if opted_in {
            let mut out = false;
            for a in addresses() {
                out |= contacts::opted_out(&db, self.site, channel, a).await?;
            }
            if !out {
                return Ok(true);
            }
        }
        for a in addresses() {
            let at = (channel, a.as_str());
            contacts::set_consent(&db, self.site, at, opted_in, Source::Keyword, self.now())
                .await?;
        }
        let confirmation = match keyword {
            Keyword::Stop => keywords::stop_confirmation(&site_name),
            Keyword::Start => keywords::start_confirmation(&site_name),
        };
        crate::events::consent_changed(
            &self.edge.env,
            self.site,
            address,
            opted_in,
            ("keyword", event_key),
        )
        .await;
        let key = format!("consent:{}:{event_key}", route.channel.as_str());
        crate::site_outbox::notice(
            &self.edge.env,
            self.site,
            route,
            &key,
            &format(&confirmation),
        )
        .await?;
        Ok(true)
    }

    /// Greets a contact (through the site's outbox: retried, and once per contact address).
    pub async fn greet(&self, route: &ContactRoute, text: String) -> Result<()> {
        let key = format!("greeting:{}:{}", route.channel.as_str(), route.address);
        crate::site_outbox::notice(&self.edge.env, self.site, route, &key, &text).await
    }
}
