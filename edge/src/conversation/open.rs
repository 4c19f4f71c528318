//! The one way a conversation comes to exist, whoever starts it: a visitor in the widget, an
//! agent reaching out to an online visitor, the business writing first to a contact, or a
//! contact writing unprompted on their own channel.

use super::client::ConversationClient;
use super::{Meta, PostRequest, Principal};
use crate::channels::ContactRoute;
use crate::error::Result;
use crate::storage::visitors;
use beckon_shared::proto::v1::ConversationOrigin;
use beckon_shared::{ConversationId, SiteKey, VisitorId};
use worker::Env;

/// What a new conversation starts with.
pub struct Opening {
    /// Its id: random unless given (a derived id makes concurrent openers agree).
    pub id: Option<ConversationId>,
    pub site: SiteKey,
    /// The visitor identity it belongs to.
    pub owner: VisitorId,
    pub origin: ConversationOrigin,
    pub page_url: Option<String>,
    /// The proactive message the visitor answered (stored first, role `bot`).
    pub teaser: Option<String>,
    /// For a conversation held on a contact's own channel: where the business's messages go.
    /// Their messages there are routed to it from now on.
    pub contact: Option<ContactRoute>,
    /// The business's first message (an agent reaching out, writing first to a contact).
    pub first_message: Option<(Principal, String)>,
    /// The inbox's index may learn of it with the next batch (a broadcast opens thousands).
    pub coalesce_index: bool,
    pub now: i64,
}

impl Opening {
    pub fn new(site: SiteKey, owner: VisitorId, now: i64) -> Opening {
        Opening {
            id: None,
            site,
            owner,
            origin: ConversationOrigin::Visitor,
            page_url: None,
            teaser: None,
            contact: None,
            first_message: None,
            coalesce_index: false,
            now,
        }
    }
}

/// Creates the conversation (opening an open one again changes nothing) and returns its
/// client and id.
pub async fn open(env: &Env, o: Opening) -> Result<(ConversationClient, ConversationId)> {
    let id = o.id.unwrap_or_else(crate::random::conversation_id);
    let meta = Meta {
        id: id.clone(),
        site: o.site.clone(),
        visitor_id: o.owner.clone(),
        origin: o.origin,
        page_url: o.page_url,
        created_at: o.now,
        opening: o.teaser,
        contact: o.contact.clone(),
    };
    let conversation = ConversationClient::new(env, &id)?;
    conversation.init(&meta, o.coalesce_index).await?;
    if let Some(route) = &o.contact {
        let db = env.d1("DB")?;
        visitors::map_contact_thread(
            &db,
            &o.site,
            route.channel,
            &route.address,
            &o.owner,
            &id,
            o.now,
        )
        .await?;
    }
    if let Some((principal, body)) = o.first_message {
        let post = PostRequest {
            principal,
            body,
            client_msg_id: None,
            attachments: Vec::new(),
            files: Vec::new(),
            broadcast: None,
            relay_first: false,
        };
        conversation.post(&post).await?;
    }
    Ok((conversation, id))
}

/// The id of the conversation held on a contact's own chat when none is going on: derived
/// from the site and the address, so every opener (a webhook, a broadcast) agrees on it.
pub fn contact_conversation_id(
    env: &Env,
    site: &SiteKey,
    route: &ContactRoute,
) -> Result<ConversationId> {
    let secret = crate::http::secret(env, "TOKEN_SECRET")?;
    Ok(ConversationId::from_random(crate::auth::derive_id(
        &secret,
        &format!("{}-contact-conversation", route.channel.as_str()),
        &format!("{site}\n{}", route.address),
    )))
}
