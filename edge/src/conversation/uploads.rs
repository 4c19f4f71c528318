//! The conversation's files: the lifecycle of each upload (created → parts stored → complete,
//! or aborted), its limits (size per kind, total per conversation, uploads per window), the
//! cleanup of abandoned uploads, and the attachments a message may carry.
//!
//! The Worker moves the bytes (each part straight to R2, after checking part 1 with
//! [`crate::media::sniff`]); this object keeps the record and is the only one to create,
//! complete or abort an R2 multipart upload, so two requests cannot disagree about a file.

use super::{Conversation, Principal};
use crate::auth::{self, FileGrant};
use crate::error::{Error, Result};
use crate::media::sniff::SniffedFile;
use crate::{http, media};
use beckon_shared::media::{self as limits, FileType};
use beckon_shared::proto::v1::{Attachment, CreateUpload, ErrorCode, Message, Role, Upload};
use beckon_shared::AttachmentId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use worker::{SqlStorage, SqlStorageValue};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS uploads (
  id         TEXT PRIMARY KEY,
  r2_upload  TEXT NOT NULL,
  role       TEXT NOT NULL,
  name       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  file_type  TEXT,
  width      INTEGER,
  height     INTEGER,
  parts      TEXT NOT NULL DEFAULT '{}',
  done       INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
";

/// An internal upload request from the Worker (the principal travels in its header).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum UploadOp {
    Create(CreateUpload),
    Get {
        id: AttachmentId,
    },
    /// The Worker stored part `n` under `etag`; for part 1, what the bytes are.
    Part {
        id: AttachmentId,
        n: u32,
        etag: String,
        #[serde(default)]
        sniffed: Option<SniffedFile>,
    },
    Complete {
        id: AttachmentId,
    },
    Abort {
        id: AttachmentId,
    },
    /// The Worker stored a whole file (an agent's file from a channel) under `id`: record it
    /// complete (once; counted against the conversation's total).
    Import {
        id: AttachmentId,
        name: String,
        size: u64,
        sniffed: SniffedFile,
    },
}

/// The answer to an [`UploadOp`]: the public view, and what the Worker needs to store parts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UploadState {
    pub upload: Upload,
    pub key: String,
    pub r2_upload: String,
    /// Known once part 1 is stored.
    pub file_type: Option<FileType>,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    r2_upload: String,
    role: String,
    name: String,
    size: i64,
    file_type: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    parts: String,
    done: i64,
}

impl Row {
    fn parts(&self) -> BTreeMap<u32, String> {
        serde_json::from_str(&self.parts).unwrap_or_default()
    }

    fn file_type(&self) -> Option<FileType> {
        self.file_type.as_deref().map(FileType::parse)
    }

    fn attachment(&self) -> Result<Attachment> {
        let known = self.file_type();
        let file_type = known.unwrap_or(FileType::Unknown);
        Ok(Attachment {
            id: AttachmentId::parse(&self.id)?,
            // Named for what its bytes are, once they are known (before, as the sender named it).
            name: match known {
                Some(t) => media::serve::fitting_name(t, &self.name),
                None => self.name.clone(),
            },
            kind: file_type,
            mime: media::serve::mime(file_type).to_owned(),
            size: self.size as u64,
            width: self.width.map(|w| w as u32),
            height: self.height.map(|h| h as u32),
            url: String::new(),
            held_in: None,
        })
    }
}

#[derive(Deserialize)]
struct Total {
    n: i64,
    bytes: Option<i64>,
}

/// The uploads table.
pub(super) struct Uploads {
    sql: SqlStorage,
    /// Uploads whose completion or cancel is under way ([`Conversation::upload_turn`]).
    busy: std::cell::RefCell<std::collections::HashSet<String>>,
}

/// An upload's turn to be completed or cancelled; over when dropped.
struct UploadTurn<'a> {
    uploads: &'a Uploads,
    id: String,
}

impl Drop for UploadTurn<'_> {
    fn drop(&mut self) {
        self.uploads.busy.borrow_mut().remove(&self.id);
    }
}

const COLUMNS: &str = "id, r2_upload, role, name, size, file_type, width, height, parts, done";

impl Uploads {
    pub fn new(sql: SqlStorage) -> Result<Uploads> {
        sql.exec(SCHEMA, None)?;
        Ok(Uploads {
            sql,
            busy: Default::default(),
        })
    }

    fn get(&self, id: &AttachmentId) -> Result<Option<Row>> {
        let rows: Vec<Row> = self
            .sql
            .exec(
                &format!("SELECT {COLUMNS} FROM uploads WHERE id = ?"),
                vec![id.as_str().into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next())
    }

    fn delete(&self, id: &str) -> Result<()> {
        self.sql
            .exec("DELETE FROM uploads WHERE id = ?", vec![id.into()])?;
        Ok(())
    }

    /// Uploads started since `since`, and the bytes of every upload kept.
    fn totals(&self, since: i64) -> Result<(i64, i64)> {
        let recent: Total = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n, NULL AS bytes FROM uploads WHERE created_at > ?",
                vec![SqlStorageValue::Integer(since)],
            )?
            .one()?;
        let all: Total = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n, SUM(size) AS bytes FROM uploads",
                None,
            )?
            .one()?;
        Ok((recent.n, all.bytes.unwrap_or(0)))
    }

    /// The open upload that expires first.
    pub fn next_expiry(&self) -> Result<Option<i64>> {
        let rows: Vec<Total> = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n, MIN(created_at) AS bytes FROM uploads WHERE done = 0",
                None,
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|t| t.bytes)
            .map(|at| at + limits::UPLOAD_TTL_MS))
    }

    fn expired(&self, now: i64) -> Result<Vec<Row>> {
        Ok(self
            .sql
            .exec(
                &format!("SELECT {COLUMNS} FROM uploads WHERE done = 0 AND created_at <= ?"),
                vec![SqlStorageValue::Integer(now - limits::UPLOAD_TTL_MS)],
            )?
            .to_array()?)
    }

    /// The attachments `ids` name: completed uploads of this conversation by `role`.
    pub fn attachments(&self, ids: &[AttachmentId], role: Role) -> Result<Vec<Attachment>> {
        if ids.len() > limits::MAX_ATTACHMENTS_PER_MESSAGE {
            return Err(Error::bad_request(format!(
                "at most {} files per message",
                limits::MAX_ATTACHMENTS_PER_MESSAGE
            )));
        }
        let mut out: Vec<Attachment> = Vec::with_capacity(ids.len());
        for id in ids {
            let row = self
                .get(id)?
                .filter(|r| r.done == 1 && r.role == role.as_str())
                .ok_or_else(|| {
                    Error::bad_request(format!(
                        "{id} is not a completed upload of yours in this conversation"
                    ))
                })?;
            if !out.iter().any(|a| a.id == *id) {
                out.push(row.attachment()?);
            }
        }
        Ok(out)
    }
}

impl Conversation {
    /// Runs an upload operation for `principal` (already authorized).
    pub(super) async fn upload_op(
        &self,
        principal: &Principal,
        op: UploadOp,
    ) -> Result<UploadState> {
        let role = principal.role();
        let owned = |row: Option<Row>| {
            row.filter(|r| r.role == role.as_str()).ok_or_else(|| {
                Error::new(ErrorCode::NotFound, "no such upload in this conversation")
            })
        };
        match op {
            UploadOp::Create(create) => self.create_upload(role, create).await,
            UploadOp::Get { id } => self.upload_state(&owned(self.uploads.get(&id)?)?),
            UploadOp::Part {
                id,
                n,
                etag,
                sniffed,
            } => {
                let row = owned(self.uploads.get(&id)?)?;
                if row.done == 1 {
                    return self.upload_state(&row);
                }
                if limits::part_len(row.size as u64, n).is_none() {
                    return Err(Error::bad_request(format!("no part {n} in this upload")));
                }
                let mut parts = row.parts();
                parts.insert(n, etag);
                let parts = serde_json::to_string(&parts).map_err(Error::internal)?;
                match sniffed.filter(|_| n == 1) {
                    Some(s) => self.uploads.sql.exec(
                        "UPDATE uploads SET parts = ?, file_type = ?, width = ?, height = ? WHERE id = ?",
                        vec![
                            parts.into(),
                            s.file_type.as_str().into(),
                            dimension(s.width),
                            dimension(s.height),
                            id.as_str().into(),
                        ],
                    )?,
                    None => self.uploads.sql.exec(
                        "UPDATE uploads SET parts = ? WHERE id = ?",
                        vec![parts.into(), id.as_str().into()],
                    )?,
                };
                self.upload_state(&owned(self.uploads.get(&id)?)?)
            }
            UploadOp::Complete { id } => {
                let _turn = self.upload_turn(&id).await;
                self.complete_upload(&owned(self.uploads.get(&id)?)?).await
            }
            UploadOp::Import {
                id,
                name,
                size,
                sniffed,
            } => {
                // A row of this id is this file whatever role stored it (the id is derived
                // from the channel's event): a refusal would have the caller delete it.
                if let Some(row) = self.uploads.get(&id)? {
                    return self.upload_state(&row);
                }
                self.import_file(role, &id, (&name, size), sniffed)?;
                self.upload_state(&owned(self.uploads.get(&id)?)?)
            }
            UploadOp::Abort { id } => {
                let _turn = self.upload_turn(&id).await;
                let row = owned(self.uploads.get(&id)?)?;
                if row.done == 1 {
                    return Err(Error::new(ErrorCode::Conflict, "this upload is complete"));
                }
                self.abort_upload(&row).await;
                let mut state = self.upload_state(&row)?;
                state.upload.received.clear();
                Ok(state)
            }
        }
    }

    async fn create_upload(&self, role: Role, create: CreateUpload) -> Result<UploadState> {
        let meta = self.meta()?;
        let name = limits::check_name(&create.name)
            .map_err(|e| Error::bad_request(e.describe()))?
            .to_owned();
        if create.size == 0 {
            return Err(Error::bad_request("The file is empty."));
        }
        let claimed_max = match create.mime.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => limits::claimed_limit(m).ok_or_else(|| {
                Error::new(
                    ErrorCode::UnsupportedFile,
                    format!("Files of type {m} are not accepted: send images, videos, PDFs, text or Office documents."),
                )
            })?,
            None => limits::MAX_FILE_BYTES,
        };
        if create.size > claimed_max {
            return Err(Error::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "The file is {} MB; at most {} MB for this kind.",
                    mb(create.size),
                    mb(claimed_max)
                ),
            ));
        }
        let secret = http::secret(&self.env, "TOKEN_SECRET")?;
        let id = AttachmentId::from_random(auth::derive_id(
            &secret,
            "upload",
            &format!("{}\n{}\n{}", meta.id, role.as_str(), create.upload_key),
        ));
        if let Some(row) = self.uploads.get(&id)? {
            if row.name != name || row.size as u64 != create.size {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "this upload_key was used for another file",
                ));
            }
            if row.r2_upload.is_empty() {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "this upload is being created; retry",
                ));
            }
            return self.upload_state(&row);
        }
        let now = http::now_ms();
        let (recent, bytes) = self.uploads.totals(now - limits::UPLOAD_WINDOW_MS)?;
        if recent >= limits::MAX_UPLOADS_PER_WINDOW as i64 {
            return Err(Error::new(
                ErrorCode::RateLimited,
                "Too many files in a short time; try again in a few minutes.",
            ));
        }
        if bytes as u64 + create.size > limits::MAX_CONVERSATION_BYTES {
            return Err(Error::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "This conversation holds its maximum of {} MB of files.",
                    mb(limits::MAX_CONVERSATION_BYTES)
                ),
            ));
        }
        // The row first (without its R2 upload): a concurrent create with the same key sees it.
        self.uploads.sql.exec(
            "INSERT INTO uploads (id, r2_upload, role, name, size, created_at) VALUES (?, '', ?, ?, ?, ?)",
            vec![
                id.as_str().into(),
                role.as_str().into(),
                name.as_str().into(),
                SqlStorageValue::Integer(create.size as i64),
                SqlStorageValue::Integer(now),
            ],
        )?;
        let key = media::object_key(&meta.id, &id);
        let created = async {
            let upload = self
                .env
                .bucket(media::BUCKET)?
                .create_multipart_upload(key)
                .execute()
                .await?;
            Ok::<_, worker::Error>(upload.upload_id().await)
        }
        .await;
        let r2_upload = match created {
            Ok(u) => u,
            Err(e) => {
                self.uploads.delete(id.as_str())?;
                return Err(Error::internal(format!("R2 multipart create: {e}")));
            }
        };
        self.uploads.sql.exec(
            "UPDATE uploads SET r2_upload = ? WHERE id = ?",
            vec![r2_upload.into(), id.as_str().into()],
        )?;
        self.uploads_due(self.uploads.next_expiry()?).await;
        self.upload_state(
            &self
                .uploads
                .get(&id)?
                .ok_or_else(|| Error::internal("upload row vanished"))?,
        )
    }

    fn import_file(
        &self,
        role: Role,
        id: &AttachmentId,
        (name, size): (&str, u64),
        s: SniffedFile,
    ) -> Result<()> {
        let (_, bytes) = self.uploads.totals(http::now_ms())?;
        if bytes as u64 + size > limits::MAX_CONVERSATION_BYTES {
            return Err(Error::code(ErrorCode::PayloadTooLarge));
        }
        self.uploads.sql.exec(
            "INSERT INTO uploads (id, r2_upload, role, name, size, file_type, width, height, done, created_at) \
             VALUES (?, '', ?, ?, ?, ?, ?, ?, 1, ?)",
            vec![
                id.as_str().into(),
                role.as_str().into(),
                name.into(),
                SqlStorageValue::Integer(size as i64),
                s.file_type.as_str().into(),
                dimension(s.width),
                dimension(s.height),
                SqlStorageValue::Integer(http::now_ms()),
            ],
        )?;
        Ok(())
    }

    async fn complete_upload(&self, row: &Row) -> Result<UploadState> {
        if row.done == 1 {
            return self.upload_state(row);
        }
        let size = row.size as u64;
        let parts = row.parts();
        let missing: Vec<u32> = (1..=limits::part_count(size))
            .filter(|n| !parts.contains_key(n))
            .collect();
        if !missing.is_empty() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("parts {missing:?} are not uploaded yet"),
            ));
        }
        let meta = self.meta()?;
        let id = AttachmentId::parse(&row.id)?;
        let upload = self
            .env
            .bucket(media::BUCKET)?
            .resume_multipart_upload(media::object_key(&meta.id, &id), &row.r2_upload)?;
        let object = upload
            .complete(
                parts
                    .iter()
                    .map(|(n, etag)| worker::UploadedPart::new(*n as u16, etag.clone())),
            )
            .await
            .map_err(|e| Error::internal(format!("R2 multipart complete: {e}")))?;
        if object.size() != size {
            return Err(Error::internal(format!(
                "stored {} bytes for an upload of {size}",
                object.size()
            )));
        }
        self.uploads.sql.exec(
            "UPDATE uploads SET done = 1 WHERE id = ?",
            vec![row.id.as_str().into()],
        )?;
        self.upload_state(
            &self
                .uploads
                .get(&id)?
                .ok_or_else(|| Error::internal("upload row vanished"))?,
        )
    }

    /// Waits until no completion or cancel of upload `id` is under way, then takes the turn
    /// (until the returned guard drops). R2 completes or aborts a multipart upload while this
    /// object serves other requests: a cancel that came meanwhile aborted what R2 then
    /// completed, and left a file no row (and no limit) counted. In turn, each sees what the
    /// other left: a completed upload is not cancelled, a cancelled one is not completed.
    async fn upload_turn(&self, id: &AttachmentId) -> UploadTurn<'_> {
        while self.uploads.busy.borrow().contains(id.as_str()) {
            worker::Delay::from(std::time::Duration::from_millis(20)).await;
        }
        self.uploads.busy.borrow_mut().insert(id.to_string());
        UploadTurn {
            uploads: &self.uploads,
            id: id.to_string(),
        }
    }

    /// Aborts the R2 upload (best effort: R2 aborts it anyway after a week) and forgets it.
    async fn abort_upload(&self, row: &Row) {
        if let (Ok(meta), Ok(id), Ok(bucket)) = (
            self.meta(),
            AttachmentId::parse(&row.id),
            self.env.bucket(media::BUCKET),
        ) {
            if !row.r2_upload.is_empty() {
                if let Ok(u) =
                    bucket.resume_multipart_upload(media::object_key(&meta.id, &id), &row.r2_upload)
                {
                    if let Err(e) = u.abort().await {
                        worker::console_warn!("aborting upload {}: {e}", row.id);
                    }
                }
            }
        }
        if let Err(e) = self.uploads.delete(&row.id) {
            worker::console_error!("forgetting upload {}: {e}", row.id);
        }
    }

    /// Aborts every upload not completed (the conversation is being deleted).
    pub(super) async fn abort_open_uploads(&self) -> Result<()> {
        let rows: Vec<Row> = self
            .uploads
            .sql
            .exec(
                &format!("SELECT {COLUMNS} FROM uploads WHERE done = 0"),
                None,
            )?
            .to_array()?;
        for row in rows {
            self.abort_upload(&row).await;
        }
        Ok(())
    }

    /// From the alarm: aborts uploads left open past their time.
    pub(super) async fn sweep_uploads(&self) -> Result<()> {
        for row in self.uploads.expired(http::now_ms())? {
            // (One being completed right now is left to that.)
            if !self.uploads.busy.borrow().contains(&row.id) {
                self.abort_upload(&row).await;
            }
        }
        self.uploads_due(self.uploads.next_expiry()?).await;
        Ok(())
    }

    fn upload_state(&self, row: &Row) -> Result<UploadState> {
        let meta = self.meta()?;
        let id = AttachmentId::parse(&row.id)?;
        let attachment = if row.done == 1 {
            Some(self.signed(row.attachment()?)?)
        } else {
            None
        };
        Ok(UploadState {
            upload: Upload {
                id: id.clone(),
                name: row.name.clone(),
                size: row.size as u64,
                part_bytes: limits::PART_BYTES,
                parts: limits::part_count(row.size as u64),
                received: row.parts().into_keys().collect(),
                attachment,
            },
            key: media::object_key(&meta.id, &id),
            r2_upload: row.r2_upload.clone(),
            file_type: row.file_type(),
        })
    }

    /// `attachment` with a fresh signed URL.
    fn signed(&self, mut attachment: Attachment) -> Result<Attachment> {
        let meta = self.meta()?;
        let grant = FileGrant::for_file(
            attachment.holder(&meta.id),
            &attachment,
            FileGrant::expiry(http::now_ms()),
        );
        attachment.url = grant.url(&http::secret(&self.env, "TOKEN_SECRET")?);
        Ok(attachment)
    }

    /// `message` as served: its files with fresh signed URLs (nothing to do for text).
    pub(super) fn served(&self, mut message: Message) -> Result<Message> {
        if !message.attachments.is_empty() {
            message.attachments = std::mem::take(&mut message.attachments)
                .into_iter()
                .map(|a| self.signed(a))
                .collect::<Result<_>>()?;
        }
        Ok(message)
    }
}

/// An image's width or height as stored (NULL when unknown).
fn dimension(d: Option<u32>) -> SqlStorageValue {
    d.map_or(SqlStorageValue::Null, |v| {
        SqlStorageValue::Integer(v as i64)
    })
}

fn mb(bytes: u64) -> u64 {
    bytes.div_ceil(1024 * 1024)
}
