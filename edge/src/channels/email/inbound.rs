//! The Worker's `email` handler: replies to relayed conversations. A reply is found by its
//! envelope address (`reply+<conversation>.<tag>@`) or a Message-ID of ours in `In-Reply-To`
//! / `References`, checked against the tag, which also says who answers: the site's agents
//! (mail from the domain of one of its support addresses) or a contact (mail from the very
//! address the conversation was sent to). Either way it must not fail the receiving server's
//! DKIM/SPF checks. Auto-replies, bounces and list mail are accepted and dropped (a rejection
//! would bounce back and loop); mail for nobody is rejected. The new text and the files reach
//! the conversation once per Message-ID: an agent's as an agent's reply, a contact's as theirs.

use super::api;
use super::reply::{self, Reply};
use crate::channels::{Config, Failure, FileSource, Hook, Inbound, InboundFile};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::ChannelKind;
use beckon_shared::ConversationId;
use worker::{Context, Env, ForwardableEmailMessage};

/// The largest message taken (Email Routing passes up to 25 MiB).
pub const MAX_EMAIL_BYTES: u64 = 25 * 1024 * 1024;

/// Handles one inbound email; a refusal is returned to the sending server.
pub async fn receive(
    message: ForwardableEmailMessage,
    env: Env,
    ctx: Context,
) -> worker::Result<()> {
    let edge = crate::http::Edge::background(env, ctx);
    match take(&message, &edge).await {
        Ok(()) => Ok(()),
        // A deliberate refusal goes back to the sender.
        Err(e) if e.status() < 500 => {
            worker::console_warn!("email from {} refused: {e}", message.from());
            message.set_reject(&e.body().error.message);
            Ok(())
        }
        // Our failure: thrown, so the sending server tries again later.
        Err(e) => Err(worker::Error::RustError(format!("email not taken: {e}"))),
    }
}

/// A reply's files, already in hand.
struct Parts(Vec<Vec<u8>>);

impl FileSource for Parts {
    async fn fetch(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        _timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let bytes = file
            .handle
            .parse::<usize>()
            .ok()
            .and_then(|n| self.0.get(n))
            .ok_or(Failure::Rejected {
                reason: "no such part".into(),
            })?;
        if bytes.len() as u64 > max_bytes {
            return Err(Failure::Rejected {
                reason: format!("the file is larger than {max_bytes} bytes"),
            });
        }
        Ok(bytes.clone())
    }
}

fn refuse(why: impl Into<String>) -> Error {
    Error::new(beckon_shared::proto::v1::ErrorCode::Forbidden, why.into())
}

async fn take(message: &ForwardableEmailMessage, edge: &crate::http::Edge) -> Result<()> {
    if message.raw_size() as u64 > MAX_EMAIL_BYTES {
        return Err(refuse("message too large"));
    }
    // Where it belongs — the envelope address, then the Message-IDs it answers — is known
    // before the message is read: mail for nobody costs no parsing.
    let secret = edge.token_secret()?;
    let headers = worker::Headers(message.headers());
    let mut references = vec![message.to()];
    for name in ["in-reply-to", "references"] {
        if let Some(v) = headers.get(name)? {
            references.extend(v.split_whitespace().map(str::to_owned));
        }
    }
    // A contact's tag is bound to their address: it is checked for the sender's.
    let sender = headers.get("from")?.and_then(|v| api::header_address(&v));
    let (conversation, contact) = references
        .iter()
        .filter_map(|r| api::parse_reference(r))
        .find_map(|(c, tag)| {
            if api::tag_matches(&secret, &c, api::Side::Agents, &tag) {
                return Some((c, None));
            }
            let from = sender.as_deref()?;
            api::tag_matches(&secret, &c, api::Side::Contact(from), &tag)
                .then(|| (c, Some(from.to_owned())))
        })
        .ok_or_else(|| refuse("this address does not belong to a conversation"))?;
    let raw = message.raw_bytes().await?;
    let parsed = Reply::parse(&raw).ok_or_else(|| refuse("not an email message"))?;
    if let Some(why) = reply::automatic(&parsed.headers, &message.from()) {
        worker::console_log!("email dropped: {why}");
        return Ok(());
    }
    let id = ConversationId::parse(&conversation).map_err(|_| refuse("unknown conversation"))?;
    // The conversation itself says whose it is (the inbox index may lag behind).
    let client = crate::conversation::client::ConversationClient::new(&edge.env, &id)?;
    let summary = client
        .summary(&crate::conversation::Principal::system("email", None))
        .await
        .map_err(|_| refuse("unknown conversation"))?;
    let site = summary.site;
    let channels = crate::channels::set::get(&edge.env, &site).await?;
    let Some(Config::Email(email)) = channels.get(ChannelKind::Email).map(|a| &a.config) else {
        return Err(refuse("email is not set up for this site"));
    };
    // Our own relays coming back (a loop through a forwarding rule): dropped.
    if parsed.from == email.settings.from {
        worker::console_log!("email dropped: our own relay came back");
        return Ok(());
    }
    match &contact {
        // The parser's From is the header the tag was checked against; the address must still
        // be the conversation's, and the receiving server must have verified it: a contact's
        // reply speaks as the visitor.
        Some(address) if parsed.from != *address => {
            return Err(refuse("the sender is not the conversation's contact"));
        }
        Some(address) => {
            if !client.reaches_by_email(address).await? {
                return Err(refuse("this address no longer belongs to the conversation"));
            }
            let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
            if !reply::authenticated(&parsed.headers, domain) {
                return Err(refuse(
                    "the sender's domain was not authenticated (DMARC, or DKIM of that domain)",
                ));
            }
        }
        None => {
            let sender_domain = parsed.from.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            let ours = email
                .settings
                .to
                .iter()
                .any(|a| a.rsplit_once('@').is_some_and(|(_, d)| d == sender_domain));
            if !ours {
                return Err(refuse(
                    "replies are taken from the site's support addresses only",
                ));
            }
        }
    }
    if reply::spoofed(&parsed.headers) {
        return Err(refuse(
            "the sender's domain failed authentication (DKIM/SPF)",
        ));
    }
    let files: Vec<InboundFile> = parsed
        .files
        .iter()
        .take(beckon_shared::media::MAX_ATTACHMENTS_PER_MESSAGE)
        .enumerate()
        .map(|(n, (name, bytes))| InboundFile {
            handle: n.to_string(),
            name: name.clone(),
            size: Some(bytes.len() as u64),
        })
        .collect();
    let parts = Parts(parsed.files.into_iter().map(|(_, b)| b).collect());
    let event_key = match parsed.message_id {
        Some(m) => m,
        None => {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&raw))
        }
    };
    let hook = Hook {
        edge,
        site: &site,
        kind: ChannelKind::Email,
    };
    if contact.is_some() {
        let key = (ChannelKind::Email.as_str(), event_key.as_str());
        return hook
            .contact_message(
                (summary.visitor_id, id),
                key,
                &parsed.text,
                (&files, &parts),
            )
            .await;
    }
    // A display name as a message author: one line, at most 80 characters.
    let author: String = parsed
        .from_name
        .unwrap_or(parsed.from)
        .chars()
        .filter(|c| !c.is_control())
        .take(beckon_shared::limits::MAX_AUTHOR_CHARS)
        .collect();
    let author = Some(author.trim().to_owned()).filter(|a| !a.is_empty());
    let inbound = Inbound {
        thread_key: conversation,
        event_key,
        author,
        text: parsed.text,
        files,
    };
    hook.agent_reply(inbound, &parts).await
}
