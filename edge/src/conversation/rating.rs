//! The visitor's rating of a closed conversation (CSAT). When an agent closes a conversation
//! held in the widget, it asks once — a bot message with a reply button per score
//! ([`RATING_LABELS`]); the label the visitor taps is the score (a message that neither
//! reopens the conversation nor goes to the agents' channels; another tap changes it),
//! answered with thanks, and their next message within [`RATING_COMMENT_MS`] is its comment
//! (a message like any other: it opens the conversation again, so nothing goes unseen). Kept
//! in the object's `meta`, written to D1 with the conversation's coalesced index writes.

use super::Conversation;
use crate::error::{Error, Result};
use crate::storage;
use beckon_shared::proto::v1::{
    rating_score, ServerFrame, RATING_COMMENT_MS, RATING_LABELS, RATING_QUESTION, RATING_THANKS,
};
use beckon_shared::rules::{CtaAction, CtaButton};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// `via` of the rating's messages: the question, the visitor's tap, the thanks.
pub const VIA: &str = "rating";

const KEY: &str = "rating";

#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Rating {
    /// The question's `seq`, once asked.
    asked: Option<u64>,
    score: Option<u8>,
    rated_at: Option<i64>,
    comment: Option<String>,
    /// D1 has it as it stands.
    written: bool,
}

/// What a visitor's message is to the rating.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Score(u8),
    Comment,
}

/// The rating as stored (read once per instance: the message path asks it of every visitor
/// message).
#[derive(Default)]
pub struct Cache(RefCell<Option<Rating>>);

impl Conversation {
    fn rating(&self) -> Result<Rating> {
        if let Some(r) = self.rating.0.borrow().as_ref() {
            return Ok(r.clone());
        }
        let r: Rating = match self.store.value(KEY)? {
            Some(v) => serde_json::from_str(&v).map_err(Error::internal)?,
            None => Rating::default(),
        };
        *self.rating.0.borrow_mut() = Some(r.clone());
        Ok(r)
    }

    fn set_rating(&self, r: Rating) -> Result<()> {
        self.store
            .set_value(KEY, &serde_json::to_string(&r).map_err(Error::internal)?)?;
        *self.rating.0.borrow_mut() = Some(r);
        Ok(())
    }

    /// What the visitor's message `body` is to the rating, at `now`.
    pub(super) fn rating_answer(&self, body: &str, now: i64) -> Result<Option<Answer>> {
        let r = self.rating()?;
        if r.asked.is_none() {
            return Ok(None);
        }
        // A tap on a button again changes the score.
        if let Some(score) = rating_score(body) {
            return Ok(Some(Answer::Score(score)));
        }
        // (A file alone is no comment: the text that may follow is.)
        Ok(match r.rated_at {
            Some(at)
                if r.comment.is_none()
                    && !body.trim().is_empty()
                    && now - at <= RATING_COMMENT_MS =>
            {
                Some(Answer::Comment)
            }
            _ => None,
        })
    }

    /// Records the visitor's answer (stored already as `body`), and thanks them for a score.
    pub(super) fn record_rating(&self, answer: Answer, body: &str, now: i64) -> Result<()> {
        let mut r = self.rating()?;
        let first = r.score.is_none();
        match answer {
            Answer::Score(score) => {
                r.score = Some(score);
                r.rated_at = r.rated_at.or(Some(now));
            }
            Answer::Comment => r.comment = Some(body.to_owned()),
        }
        r.written = false;
        self.set_rating(r)?;
        if first {
            self.post_bot(RATING_THANKS, Vec::new())?;
        }
        Ok(())
    }

    /// Asks the visitor to rate the conversation, once, for one held in the widget; whether
    /// it asked now.
    pub(super) async fn ask_rating(&self) -> Result<bool> {
        self.messages_settled().await;
        // Not on a contact's own channel, nor before the visitor wrote anything.
        if self.meta()?.contact.is_some() || self.store.last_visitor_at()?.is_none() {
            return Ok(false);
        }
        let mut r = self.rating()?;
        if r.asked.is_some() {
            return Ok(false);
        }
        let buttons = RATING_LABELS
            .iter()
            .map(|l| CtaButton {
                label: (*l).to_owned(),
                action: CtaAction::Reply,
            })
            .collect();
        r.asked = Some(self.post_bot(RATING_QUESTION, buttons)?);
        self.set_rating(r)?;
        self.changed().await;
        Ok(true)
    }

    /// Stores a message of the rating's and shows it in the widget (it goes to no channel);
    /// its `seq`.
    fn post_bot(&self, body: &str, buttons: Vec<CtaButton>) -> Result<u64> {
        let message = self.append_bot(body.to_owned(), VIA, buttons)?;
        let seq = message.seq.0;
        self.sockets.broadcast(
            &self.state,
            &ServerFrame::Message {
                message: self.served(message)?,
            },
            None,
        );
        Ok(seq)
    }

    /// From the coalesced index writes: the rating into D1, if it changed.
    pub(super) async fn write_rating(&self) -> Result<()> {
        let r = self.rating()?;
        let (Some(score), Some(at), false) = (r.score, r.rated_at, r.written) else {
            return Ok(());
        };
        let meta = self.meta()?;
        let db = self.env.d1("DB")?;
        storage::ratings::put(&db, &meta.site, &meta.id, score, r.comment.as_deref(), at).await?;
        // Unless it changed meanwhile.
        let now = self.rating()?;
        if now.score == r.score && now.comment == r.comment {
            self.set_rating(Rating {
                written: true,
                ..now
            })?;
        }
        Ok(())
    }
}
