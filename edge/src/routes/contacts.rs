//! Known contacts and starting a conversation with one on their own channel:
//! - visitors the site identified with `Beckon.identify`, on WhatsApp — where a business may
//!   write first only with an approved template;
//! - people who started the site's Telegram bot (`/start`), in their private chat with it.
//!
//! Their replies there come back into the conversation as the visitor's messages, and the
//! business's next messages go to them. Such a conversation belongs to an identity of the
//! number or Telegram account itself, never to a web visitor who merely claimed it.

use super::admin::Admin;
use crate::channels::ContactRoute;
use crate::conversation::{self, Opening};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::storage::{channels, sites, visitors};
use beckon_shared::proto::v1::{ContactChannel, ContactOutreach, ConversationOrigin, ErrorCode};
use beckon_shared::{SiteKey, VisitorId};
use serde_json::json;
use worker::{Request, Response};

/// The most contacts one page lists.
const MAX_PAGE: i64 = 200;

/// `GET /api/v1/admin/sites/{site}/contacts?q=&tag=&before=&limit=`: most recently seen
/// first; `next_before` (the last one's `<last seen>:<id>`) continues the list.
pub async fn list(req: &Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let q = http::query(req)?;
    let text = |name: &str, max: usize| -> Result<Option<String>> {
        match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => {
                Err(Error::bad_request(format!(
                    "{name} must be one line of at most {max} characters"
                )))
            }
            v => Ok(v.map(str::to_owned)),
        }
    };
    let number = |name: &str| -> Result<Option<i64>> {
        q.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| Error::bad_request(format!("{name} must be a whole number")))
            })
            .transpose()
    };
    let limit = number("limit")?.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let after = match q.get("before") {
        None => None,
        Some(b) => {
            let parsed = b
                .split_once(':')
                .and_then(|(t, id)| Some((t.parse::<i64>().ok()?, VisitorId::parse(id).ok()?)));
            let (t, id) = parsed.ok_or_else(|| {
                Error::bad_request("before must be the previous page's next_before")
            })?;
            Some((t, id.to_string()))
        }
    };
    let query = visitors::ContactQuery {
        // Numbers are kept without their `+`.
        search: text("q", 100)?.map(|s| s.trim_start_matches('+').to_owned()),
        tag: text("tag", 40)?.map(|t| t.to_lowercase()),
        after,
        limit,
    };
    let contacts = visitors::contacts(&db, site, &query).await?;
    let next_before = (contacts.len() as i64 == limit)
        .then(|| {
            contacts
                .last()
                .map(|c| format!("{}:{}", c.last_seen_at, c.visitor_id))
        })
        .flatten();
    http::json(
        200,
        &json!({ "contacts": contacts, "next_before": next_before }),
    )
}

/// `POST /api/v1/admin/sites/{site}/contacts/{visitor_id}/conversations`.
pub async fn reach_out(
    mut req: Request,
    edge: &Edge,
    admin: &Admin,
    site: &SiteKey,
    visitor: &VisitorId,
) -> Result<Response> {
    let input: ContactOutreach = http::read_json(&mut req).await?;
    beckon_shared::text::normalize_body(&input.body)?;
    let db = edge.db()?;
    sites::require(&db, site).await?;
    let contact = visitors::contact(&db, site, visitor)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no contact {visitor}")))?;
    let address = match input.channel {
        ContactChannel::Whatsapp => contact.phone.ok_or_else(|| {
            Error::new(
                ErrorCode::Conflict,
                "this contact has no phone number (Beckon.identify({phone}))",
            )
        })?,
        ContactChannel::Email => contact
            .email
            .as_deref()
            .and_then(beckon_shared::proto::v1::email_address)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Conflict,
                    "this contact has no email address one can write to (Beckon.identify({email}), an import, or the widget's away form)",
                )
            })?,
        ContactChannel::Telegram => visitors::telegram_chat(&db, site, visitor)
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Conflict,
                    "this contact has not started your Telegram bot (a bot may write only to people who pressed Start)",
                )
            })?,
        ContactChannel::Messenger | ContactChannel::Instagram => {
            let address = visitors::meta_address(&db, site, visitor, input.channel)
                .await?
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::Conflict,
                        format!(
                            "this contact has not written to your {} (a Page may write only to people who wrote to it)",
                            match input.channel {
                                ContactChannel::Instagram => "Instagram account",
                                _ => "Facebook Page",
                            }
                        ),
                    )
                })?;
            crate::channels::messenger::window::reachable(
                &db,
                site,
                (input.channel, &address),
                edge.now,
            )
            .await?;
            address
        }
    };
    let key = http::secret(&edge.env, "SECRETS_KEY")?;
    let kind = input.channel.channel();
    if !channels::get(&db, site, kind, &key)
        .await?
        .is_some_and(|c| c.enabled)
    {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!("{} is not set up for this site (Channels)", kind.label()),
        ));
    }
    let owner = match input.channel {
        // Anyone can call `Beckon.identify` with any number or address, and that browser must
        // never read what its owner answers: one identity per address, kept across outreaches.
        ContactChannel::Whatsapp | ContactChannel::Email => {
            match visitors::find_contact_thread(&db, site, input.channel, &address).await? {
                Some((owner, _)) if owner != *visitor => owner,
                _ => visitors::create(&db, site, edge.now).await?,
            }
        }
        // This identity was made from the Telegram or Meta account itself; no browser holds it.
        ContactChannel::Telegram | ContactChannel::Messenger | ContactChannel::Instagram => {
            visitor.clone()
        }
    };
    let route = ContactRoute {
        channel: input.channel,
        address,
    };
    let author = admin.author(edge, "inbox", input.author).await?;
    let (_, id) = conversation::open(
        &edge.env,
        Opening {
            origin: ConversationOrigin::Agent {
                author: author.name().map(str::to_owned),
            },
            contact: Some(route),
            first_message: Some((author, input.body)),
            ..Opening::new(site.clone(), owner, edge.now)
        },
    )
    .await?;
    http::json(201, &json!({ "conversation_id": id }))
}
