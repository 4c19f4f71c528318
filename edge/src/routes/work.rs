//! Working a conversation (`PATCH /api/v1/admin/conversations/{id}`, `…/{id}/notes`): who
//! has it, open / snoozed / closed, tags, internal notes. All in the inbox's index (D1), never
//! in the conversation's object: nothing of it reaches the visitor or a channel — but the
//! first close after the visitor wrote asks them, in the widget, to rate the conversation
//! (the object posts the question). Every inbox tab on the site hears of a change through the
//! site's hub.

use super::admin::Admin;
use crate::conversation::client::ConversationClient;
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::storage::{conversations, people};
use crate::{random, site_hub};
use beckon_shared::proto::v1::{
    Assignee, ConversationSummary, ErrorCode, InboxEvent, KeyRole, NewNote, Note, NoteList, Work,
    WorkPatch, WorkStatus,
};
use beckon_shared::ConversationId;
use worker::{Request, Response};

/// The conversation's index row, for a caller allowed on its site. A conversation whose row
/// is still waiting in its hub's batch is written first.
pub(super) async fn indexed(
    edge: &Edge,
    admin: &Admin,
    id: &ConversationId,
) -> Result<ConversationSummary> {
    let db = edge.db()?;
    let row = match conversations::get(&db, id, edge.now).await? {
        Some(row) => row,
        None => {
            // The object answers only a caller allowed on its site.
            let summary = ConversationClient::new(&edge.env, id)?
                .summary(&admin.principal("api", None))
                .await?;
            site_hub::publish(&edge.env, &summary.site, &summary, &[], true).await?;
            conversations::get(&db, id, edge.now)
                .await?
                .ok_or_else(|| Error::code(ErrorCode::NotFound))?
        }
    };
    admin.check(KeyRole::Agent, Some(&row.site))?;
    Ok(row)
}

/// The person `who` names (`me` or a person's id), allowed on `site`.
async fn assignee(
    edge: &Edge,
    admin: &Admin,
    who: &str,
    site: &beckon_shared::SiteKey,
) -> Result<Assignee> {
    if who == "me" {
        if admin.session.is_none() {
            return Err(Error::bad_request(
                "only a signed-in person can be assigned: name one by id, or sign in",
            ));
        }
        return admin.who(edge).await;
    }
    let person = people::get(&edge.db()?, who)
        .await?
        .filter(|p| p.scope().allows(site))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NotFound,
                format!("no person {who} works on site {site}"),
            )
        })?;
    Ok(Assignee {
        id: person.id,
        name: person.name,
    })
}

/// `PATCH /api/v1/admin/conversations/{id}`: assign, close, snooze, open again, tag.
pub async fn update(
    mut req: Request,
    edge: &Edge,
    admin: &Admin,
    id: &ConversationId,
) -> Result<Response> {
    let row = indexed(edge, admin, id).await?;
    let patch: WorkPatch = http::read_json(&mut req).await?;
    let patch = patch.validated(edge.now).map_err(Error::bad_request)?;
    let who = match &patch.assignee {
        Some(Some(who)) => Some(Some(assignee(edge, admin, who, &row.site).await?)),
        Some(None) => Some(None),
        None => None,
    };
    let status = patch.status.map(|s| {
        let until = (s == WorkStatus::Snoozed)
            .then_some(patch.snoozed_until)
            .flatten();
        (s, until)
    });
    let change = conversations::WorkChange {
        assignee: who.as_ref().map(Option::as_ref),
        status,
        tags: patch.tags.as_deref(),
    };
    if !conversations::set_work(&edge.db()?, id, &change, edge.now).await? {
        return Err(Error::new(
            ErrorCode::NotFound,
            "that person was removed meanwhile",
        ));
    }
    let work = tell_work(edge, id, &row.site).await?;
    let was = row.work.map(|w| w.status);
    if work.status == WorkStatus::Closed && was != Some(WorkStatus::Closed) {
        // The visitor rates it in the widget (asked once; the close stands either way).
        if let Err(e) = ConversationClient::new(&edge.env, id)?.ask_rating().await {
            worker::console_error!("asking {id} for a rating failed: {e}");
        }
    }
    http::json(200, &work)
}

/// Tells every inbox tab on `site` where conversation `id` stands now; returns it.
pub async fn tell_work(
    edge: &Edge,
    id: &ConversationId,
    site: &beckon_shared::SiteKey,
) -> Result<Work> {
    let now = conversations::get(&edge.db()?, id, edge.now)
        .await?
        .ok_or_else(|| Error::code(ErrorCode::NotFound))?;
    let work = now.work.unwrap_or_default();
    let told = InboxEvent::Work {
        conversation_id: id.clone(),
        work: work.clone(),
    };
    site_hub::tell(&edge.env, site, &told).await?;
    Ok(work)
}

/// `GET /api/v1/admin/conversations/{id}/notes`.
pub async fn list_notes(edge: &Edge, admin: &Admin, id: &ConversationId) -> Result<Response> {
    indexed(edge, admin, id).await?;
    let notes = conversations::notes(&edge.db()?, id).await?;
    http::json(200, &NoteList { notes })
}

/// `POST /api/v1/admin/conversations/{id}/notes`: an internal note, for colleagues only.
pub async fn add_note(
    mut req: Request,
    edge: &Edge,
    admin: &Admin,
    id: &ConversationId,
) -> Result<Response> {
    let row = indexed(edge, admin, id).await?;
    let new: NewNote = http::read_json(&mut req).await?;
    let body = new
        .validated()
        .map_err(|c| Error::bad_request(format!("the note: {}", c.describe())))?;
    let by = admin.who(edge).await?;
    let note = Note {
        id: random::hex_id("nt_"),
        conversation_id: id.clone(),
        author_id: by.id,
        author: by.name,
        body,
        created_at: edge.now,
    };
    conversations::add_note(&edge.db()?, &note).await?;
    let told = InboxEvent::Note {
        conversation_id: id.clone(),
    };
    site_hub::tell(&edge.env, &row.site, &told).await?;
    http::json(201, &note)
}
