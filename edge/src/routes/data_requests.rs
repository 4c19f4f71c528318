//! A person's data requests, owners only: everything held about one visitor or contact
//! exported as one JSON document (`GET …/contacts/{visitor_id}/export`, files as signed
//! links), or deleted (`DELETE …/contacts/{visitor_id}`: their conversations with messages,
//! notes and files in R2, channel threads, consents given, broadcast rows, their record), and
//! the log of both (`GET …/data-requests`).

use super::admin::{erase_conversation, Admin};
use crate::auth::FileGrant;
use crate::conversation::client::ConversationClient;
use crate::conversation::Principal;
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::random;
use crate::site_hub;
use crate::storage::{conversations, data_requests, sites, visitors};
use beckon_shared::limits::MAX_HISTORY_PAGE;
use beckon_shared::proto::v1::{
    DataRequest, DataRequestKind, DataRequestList, ErrorCode, ExportedConversation, Message,
    VisitorExport,
};
use beckon_shared::{Seq, SiteKey, VisitorId};
use serde_json::Value;
use worker::Response;

/// The most log entries one answer lists.
const MAX_LOG: i64 = 500;

fn no_such_visitor() -> Error {
    Error::new(ErrorCode::NotFound, "no such visitor on this site")
}

/// Every message of a conversation, oldest first, each file with a fresh signed link (made
/// absolute with `origin`: the document is read away from the inbox).
async fn all_messages(
    client: &ConversationClient,
    principal: &Principal,
    origin: &str,
) -> Result<Vec<Message>> {
    let mut out: Vec<Message> = Vec::new();
    loop {
        let after = out.last().map_or(Seq(0), |m| m.seq);
        let page = client
            .messages(principal, after, Some(MAX_HISTORY_PAGE))
            .await?;
        let full = page.messages.len() >= MAX_HISTORY_PAGE;
        out.extend(page.messages.into_iter().map(|mut m| {
            for a in &mut m.attachments {
                a.url = format!("{origin}{}", a.url);
            }
            m
        }));
        if !full {
            return Ok(out);
        }
    }
}

/// `GET /api/v1/admin/sites/{site}/contacts/{visitor_id}/export`.
pub async fn export(
    edge: &Edge,
    admin: &Admin,
    site: &SiteKey,
    visitor: &VisitorId,
) -> Result<Response> {
    let db = edge.db()?;
    // Links signed from now on last at least until then.
    let files_valid_until = FileGrant::expiry(http::now_ms());
    let mut record = data_requests::record(&db, site, visitor)
        .await?
        .ok_or_else(no_such_visitor)?;
    // JSON kept as text in the table is shown as JSON.
    for field in ["tags", "attributes", "client"] {
        if let Some(Value::String(text)) = record.get(field) {
            if let Ok(v) = serde_json::from_str::<Value>(text) {
                record.insert(field.to_owned(), v);
            }
        }
    }
    let principal = admin.principal("api", None);
    let mut exported = Vec::new();
    // A conversation opened a moment ago may still wait for the index's next batch.
    site_hub::flush(&edge.env, site).await?;
    for id in visitors::conversations_of(&db, site, visitor).await? {
        let client = ConversationClient::new(&edge.env, &id)?;
        let mut summary = client.summary(&principal).await?;
        summary.work = conversations::get(&db, &id, edge.now)
            .await?
            .and_then(|row| row.work);
        exported.push(ExportedConversation {
            summary,
            messages: all_messages(&client, &principal, &edge.self_origin).await?,
            notes: conversations::notes(&db, &id).await?,
        });
    }
    let export = VisitorExport {
        site: site.clone(),
        visitor_id: visitor.clone(),
        exported_at: edge.now,
        files_valid_until,
        record,
        consents: data_requests::consents(&db, site, visitor).await?,
        conversations: exported,
        broadcasts: data_requests::broadcasts(&db, site, visitor).await?,
        pages: site_hub::visitor_pages(&edge.env, site, visitor)
            .await?
            .pages,
    };
    let messages = export.conversations.iter().map(|c| c.messages.len() as u64);
    // Their own files: not a broadcast's, which is the business's, held once for everyone.
    let files = export
        .conversations
        .iter()
        .flat_map(|c| &c.messages)
        .map(|m| m.attachments.iter().filter(|a| a.held_in.is_none()).count() as u64);
    let logged = DataRequest {
        id: random::hex_id("dr_"),
        visitor_id: visitor.clone(),
        kind: DataRequestKind::Export,
        by: admin.who(edge).await?,
        at: edge.now,
        conversations: export.conversations.len() as u64,
        messages: messages.sum(),
        files: files.sum(),
    };
    data_requests::log(&db, site, &logged).await?;
    http::download(
        http::json(200, &export)?,
        &format!("beckon-{site}-{visitor}.json"),
    )
}

/// `DELETE /api/v1/admin/sites/{site}/contacts/{visitor_id}`: 204, then nothing of theirs is
/// left but the log entry (and an opt-out, as the address alone). The log counts every file
/// object deleted (an upload never sent too).
pub async fn delete(
    edge: &Edge,
    admin: &Admin,
    site: &SiteKey,
    visitor: &VisitorId,
) -> Result<Response> {
    let db = edge.db()?;
    if !visitors::exists(&db, site, visitor).await? {
        return Err(no_such_visitor());
    }
    let by = admin.who(edge).await?;
    let (mut count, mut messages, mut files) = (0, 0, 0);
    site_hub::flush(&edge.env, site).await?;
    for conversation in visitors::conversations_of(&db, site, visitor).await? {
        let erased = erase_conversation(edge, &admin.principal("api", None), &conversation).await?;
        count += 1;
        messages += erased.messages;
        files += erased.files;
    }
    data_requests::scrub(&db, site, visitor).await?;
    site_hub::forget_visitor(&edge.env, site, visitor).await?;
    visitors::delete(&db, site, visitor).await?;
    let logged = DataRequest {
        id: random::hex_id("dr_"),
        visitor_id: visitor.clone(),
        kind: DataRequestKind::Delete,
        by,
        at: edge.now,
        conversations: count,
        messages,
        files,
    };
    data_requests::log(&db, site, &logged).await?;
    Ok(Response::empty()?.with_status(204))
}

/// `GET /api/v1/admin/sites/{site}/data-requests`: the newest 500, newest first.
pub async fn list(edge: &Edge, site: &SiteKey) -> Result<Response> {
    let db = edge.db()?;
    sites::require(&db, site).await?;
    http::json(
        200,
        &DataRequestList {
            requests: data_requests::list(&db, site, MAX_LOG).await?,
        },
    )
}
