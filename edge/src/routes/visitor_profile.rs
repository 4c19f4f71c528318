//! `GET /api/v1/admin/conversations/{id}/visitor`: who a conversation is with, for the inbox's
//! sidebar — their record (what the site said of them, tags, attributes, consents), what the
//! edge saw of their browser when they started it (`visitor_client`), where they are now and
//! the pages of their latest visit (the site's hub), and their other conversations.

use super::admin::Admin;
use crate::error::Result;
use crate::http::{self, Edge};
use crate::site_hub;
use crate::storage::{conversations, visitors};
use beckon_shared::proto::v1::VisitorProfile;
use beckon_shared::ConversationId;
use worker::Response;

pub async fn get(edge: &Edge, admin: &Admin, id: &ConversationId) -> Result<Response> {
    let row = super::work::indexed(edge, admin, id).await?;
    let db = edge.db()?;
    let (site, visitor) = (&row.site, &row.visitor_id);
    // Four independent reads, at once.
    let (contact, client, conversations, seen) = futures_util::try_join!(
        visitors::contact(&db, site, visitor),
        visitors::client(&db, site, visitor),
        conversations::of_visitor(&db, site, visitor, id, edge.now),
        site_hub::visitor_pages(&edge.env, site, visitor),
    )?;
    http::json(
        200,
        &VisitorProfile {
            visitor_id: visitor.clone(),
            contact,
            client,
            now_on: seen.now_on,
            pages: seen.pages,
            conversations,
        },
    )
}
