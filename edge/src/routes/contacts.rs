//! Known contacts (visitors the site identified with `Beckon.identify`) and starting a
//! conversation with one on their own channel — today WhatsApp, where a business may write
//! first only with an approved template. Their replies there come back into the conversation
//! as the visitor's messages, and the business's next messages go to them (free-form inside
//! their 24-hour window, the template outside it). Such a conversation belongs to an identity
//! of the number itself, never to the web visitor who told us the number.

use super::admin::authenticate;
use crate::conversation::client::ConversationClient;
use crate::conversation::{ContactRoute, Meta, PostRequest, Principal};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::random;
use crate::storage::{channels, sites, visitors};
use beckon_shared::proto::v1::{
    ChannelKind, ContactChannel, ContactOutreach, ConversationOrigin, ErrorCode,
};
use beckon_shared::{SiteKey, VisitorId};
use serde_json::json;
use worker::{Request, Response};

/// `GET /api/v1/admin/sites/{site}/contacts`.
pub async fn list(req: &Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    authenticate(req, edge).await?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    http::json(
        200,
        &json!({ "contacts": visitors::contacts(&db, site, 200).await? }),
    )
}

/// `POST /api/v1/admin/sites/{site}/contacts/{visitor_id}/conversations`.
pub async fn reach_out(
    mut req: Request,
    edge: &Edge,
    site: &SiteKey,
    visitor: &VisitorId,
) -> Result<Response> {
    authenticate(&req, edge).await?;
    let input: ContactOutreach = http::read_json(&mut req).await?;
    beckon_shared::text::normalize_body(&input.body)?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let contact = visitors::contact(&db, site, visitor)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no contact {visitor}")))?;
    let address = match input.channel {
        ContactChannel::Whatsapp => {
            let phone = contact.phone.ok_or_else(|| {
                Error::bad_request("this contact has no phone number (Beckon.identify({phone}))")
            })?;
            let key = http::secret(&edge.env, "SECRETS_KEY")?;
            let whatsapp = channels::get(&db, site, ChannelKind::Whatsapp, &key).await?;
            if !whatsapp.is_some_and(|c| c.enabled) {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "WhatsApp is not set up for this site (Channels)",
                ));
            }
            phone
        }
    };
    // The conversation belongs to the phone number, not to the browser that claimed it:
    // anyone can call `Beckon.identify` with any number, and that browser must never read
    // what the number's owner answers. One identity per number, kept across outreaches.
    let owner = match visitors::find_contact_thread(&db, site, "whatsapp", &address).await? {
        Some((owner, _)) if owner != *visitor => owner,
        _ => {
            let owner = random::visitor_id();
            visitors::create(&db, site, &owner, edge.now).await?;
            owner
        }
    };
    let id = random::conversation_id();
    let meta = Meta {
        id: id.clone(),
        site: site.clone(),
        visitor_id: owner.clone(),
        origin: ConversationOrigin::Agent {
            author: input.author.clone(),
        },
        page_url: None,
        created_at: edge.now,
        opening: None,
        contact: Some(ContactRoute {
            channel: input.channel,
            address: address.clone(),
        }),
    };
    let conversation = ConversationClient::new(&edge.env, &id)?;
    conversation.init(&meta).await?;
    visitors::map_contact_thread(&db, site, "whatsapp", &address, &owner, &id, edge.now).await?;
    let post = PostRequest {
        principal: Principal::Agent {
            name: input.author,
            via: "inbox".into(),
        },
        body: input.body,
        client_msg_id: None,
    };
    conversation.post(&post).await?;
    http::json(201, &json!({ "conversation_id": id }))
}
