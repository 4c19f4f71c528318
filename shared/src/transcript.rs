//! A client's view of one conversation: stored messages in `seq` order, sends still waiting
//! for their ack, read cursors and typing. Pure state shared by the widget and the inbox, so
//! the rules "never lose, never duplicate, resume from the right place" are tested natively.

use crate::ids::{ClientMsgId, Seq};
use crate::proto::v1::{Attachment, ErrorCode, Message, ReadCursors, Role, ServerFrame};

/// A message the user sent that the server has not acknowledged yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub client_msg_id: ClientMsgId,
    pub body: String,
    /// Files already uploaded that go with it.
    pub attachments: Vec<Attachment>,
    pub created_at: i64,
    /// Set when the server refused it for good (too long, …); it is not retried.
    pub failed: Option<ErrorCode>,
}

/// Delivery state of a message, from the point of view of the side that wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Waiting for the server's ack (or for the connection to come back).
    Sending,
    /// Refused by the server; will not be retried.
    Failed(ErrorCode),
    /// Stored by the server.
    Delivered,
    /// The other side's read cursor has passed it.
    Read,
}

/// One row of the rendered conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    Stored {
        message: &'a Message,
        mine: bool,
        delivery: Delivery,
    },
    Pending(&'a Pending),
}

/// What applying a frame changed, so the UI knows whether to notify.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// New messages written by the other side.
    pub incoming: usize,
    /// Anything visible changed.
    pub changed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    me: Role,
    messages: Vec<Message>,
    pending: Vec<Pending>,
    read: ReadCursors,
    other_typing: bool,
    away_email: Option<String>,
}

impl Transcript {
    pub fn new(me: Role) -> Self {
        Transcript {
            me,
            messages: Vec::new(),
            pending: Vec::new(),
            read: ReadCursors::default(),
            other_typing: false,
            away_email: None,
        }
    }

    pub fn me(&self) -> Role {
        self.me
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The address the visitor left for answers while they are away.
    pub fn away_email(&self) -> Option<&str> {
        self.away_email.as_deref()
    }

    /// Notes the address the visitor just left (the server confirms it on the next welcome).
    pub fn set_away_email(&mut self, email: Option<String>) {
        self.away_email = email;
    }

    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    pub fn other_typing(&self) -> bool {
        self.other_typing
    }

    pub fn read_cursors(&self) -> ReadCursors {
        self.read
    }

    /// The `seq` to put in `hello`: the highest `seq` up to which nothing is missing, so a
    /// reconnect fills any gap rather than skipping past it.
    pub fn resume_from(&self) -> Seq {
        let mut expect = Seq(1);
        for m in &self.messages {
            if m.seq != expect {
                break;
            }
            expect = expect.next();
        }
        Seq(expect.0 - 1)
    }

    /// The newest stored `seq`.
    pub fn last_seq(&self) -> Seq {
        self.messages.last().map_or(Seq::ZERO, |m| m.seq)
    }

    /// Inserts a stored message in `seq` order; returns `false` if it was already there.
    /// A pending send with the same `client_msg_id` is resolved by it.
    pub fn insert(&mut self, message: Message) -> bool {
        if let Some(id) = &message.client_msg_id {
            if message.role == self.me {
                self.pending.retain(|p| &p.client_msg_id != id);
            }
        }
        match self.messages.binary_search_by_key(&message.seq, |m| m.seq) {
            Ok(_) => false,
            Err(at) => {
                self.messages.insert(at, message);
                true
            }
        }
    }

    /// Records a message the user is sending; it shows as "sending" until acknowledged.
    pub fn queue(&mut self, client_msg_id: ClientMsgId, body: String, now: i64) {
        self.queue_with(client_msg_id, body, Vec::new(), now);
    }

    /// Queues a send with files (already uploaded).
    pub fn queue_with(
        &mut self,
        client_msg_id: ClientMsgId,
        body: String,
        attachments: Vec<Attachment>,
        now: i64,
    ) {
        if self
            .pending
            .iter()
            .any(|p| p.client_msg_id == client_msg_id)
        {
            return;
        }
        self.pending.push(Pending {
            client_msg_id,
            body,
            attachments,
            created_at: now,
            failed: None,
        });
    }

    /// Sends to (re)transmit after a (re)connect: every pending one not refused for good, in
    /// the order they were written.
    pub fn unsent(&self) -> impl Iterator<Item = &Pending> {
        self.pending.iter().filter(|p| p.failed.is_none())
    }

    /// A fresh transcript for another conversation that keeps what the user wrote but has not
    /// sent yet (switching conversations must not swallow a message being typed out).
    pub fn restart(&self) -> Transcript {
        let mut next = Transcript::new(self.me);
        next.pending = self.unsent().cloned().collect();
        next
    }

    /// Drops a failed pending send (the user dismissed it).
    pub fn discard(&mut self, client_msg_id: &ClientMsgId) {
        self.pending.retain(|p| &p.client_msg_id != client_msg_id);
    }

    /// Applies one server frame.
    pub fn apply(&mut self, frame: ServerFrame) -> Applied {
        match frame {
            ServerFrame::Welcome {
                read,
                away_email,
                last_seq,
                ..
            } => {
                // Messages reach the other sockets before they are written; one past the last
                // stored was lost with its commit, and a later one takes its `seq`.
                let held = self.messages.len();
                let stored = self.messages.partition_point(|m| m.seq <= last_seq);
                self.messages.truncate(stored);
                let changed = read != self.read || away_email != self.away_email || stored < held;
                self.away_email = away_email;
                // (A cursor past it would count its successor as read.)
                self.read.visitor = self.read.visitor.min(last_seq);
                self.read.agent = self.read.agent.min(last_seq);
                self.merge_read(Role::Visitor, read.visitor);
                self.merge_read(Role::Agent, read.agent);
                Applied {
                    incoming: 0,
                    changed,
                }
            }
            ServerFrame::Message { message } => {
                let from_other = message.role != self.me;
                if from_other {
                    self.other_typing = false;
                }
                let new = self.insert(message);
                Applied {
                    incoming: usize::from(new && from_other),
                    changed: new,
                }
            }
            ServerFrame::Ack {
                client_msg_id,
                id,
                seq,
                created_at,
                ..
            } => {
                let Some(i) = self
                    .pending
                    .iter()
                    .position(|p| p.client_msg_id == client_msg_id)
                else {
                    return Applied::default();
                };
                let p = self.pending.remove(i);
                self.insert(Message {
                    id,
                    seq,
                    role: self.me,
                    body: p.body,
                    created_at,
                    attachments: Vec::new(),
                    client_msg_id: Some(client_msg_id),
                    author: None,
                    avatar: None,
                    via: None,
                    buttons: Vec::new(),
                });
                Applied {
                    incoming: 0,
                    changed: true,
                }
            }
            // Too fast: the send stays pending and is retried (see the client session).
            ServerFrame::Error {
                code: ErrorCode::RateLimited,
                ..
            } => Applied::default(),
            ServerFrame::Error {
                code,
                client_msg_id: Some(id),
                ..
            } => {
                let mut changed = false;
                for p in self.pending.iter_mut().filter(|p| p.client_msg_id == id) {
                    p.failed = Some(code);
                    changed = true;
                }
                Applied {
                    incoming: 0,
                    changed,
                }
            }
            ServerFrame::Typing { role, active } if role != self.me => {
                let changed = self.other_typing != active;
                self.other_typing = active;
                Applied {
                    incoming: 0,
                    changed,
                }
            }
            ServerFrame::Read { role, seq } => {
                let before = self.read;
                self.merge_read(role, seq);
                Applied {
                    incoming: 0,
                    changed: before != self.read,
                }
            }
            _ => Applied::default(),
        }
    }

    fn merge_read(&mut self, role: Role, seq: Seq) {
        let cursor = match role {
            Role::Visitor => &mut self.read.visitor,
            Role::Agent => &mut self.read.agent,
            _ => return,
        };
        *cursor = (*cursor).max(seq);
    }

    fn my_cursor(&self) -> Seq {
        match self.me {
            Role::Visitor => self.read.visitor,
            _ => self.read.agent,
        }
    }

    fn their_cursor(&self) -> Seq {
        match self.me {
            Role::Visitor => self.read.agent,
            _ => self.read.visitor,
        }
    }

    /// Messages from the other side that this side has not read.
    pub fn unread(&self) -> usize {
        let mine = self.my_cursor();
        self.messages
            .iter()
            .filter(|m| m.seq > mine && m.role != self.me)
            .count()
    }

    /// Marks everything stored as read by this side; returns the cursor to send in a `read`
    /// frame, or `None` if it did not move.
    pub fn mark_read(&mut self) -> Option<Seq> {
        let last = self.last_seq();
        if last <= self.my_cursor() {
            return None;
        }
        self.merge_read(self.me, last);
        Some(last)
    }

    /// The conversation as rows to render: stored messages in order, then pending sends.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let theirs = self.their_cursor();
        let mut out: Vec<Entry<'_>> = self
            .messages
            .iter()
            .map(|m| {
                let mine = m.role == self.me;
                let delivery = if mine && m.seq <= theirs {
                    Delivery::Read
                } else {
                    Delivery::Delivered
                };
                Entry::Stored {
                    message: m,
                    mine,
                    delivery,
                }
            })
            .collect();
        out.extend(self.pending.iter().map(Entry::Pending));
        out
    }
}

impl Entry<'_> {
    /// Delivery state of a row.
    pub fn delivery(&self) -> Delivery {
        match self {
            Entry::Stored { delivery, .. } => *delivery,
            Entry::Pending(p) => p.failed.map_or(Delivery::Sending, Delivery::Failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MessageId;

    fn msg(seq: u64, role: Role, body: &str, cid: Option<&str>) -> Message {
        Message {
            id: MessageId::from_random([seq as u8; 16]),
            seq: Seq(seq),
            role,
            body: body.into(),
            created_at: seq as i64,
            attachments: vec![],
            client_msg_id: cid.map(|c| ClientMsgId::parse(c).unwrap()),
            author: None,
            avatar: None,
            via: None,
            buttons: Vec::new(),
        }
    }

    fn cid(s: &str) -> ClientMsgId {
        ClientMsgId::parse(s).unwrap()
    }

    #[test]
    fn restart_keeps_only_what_is_unsent() {
        let mut t = Transcript::new(Role::Visitor);
        t.insert(msg(1, Role::Agent, "hi", None));
        t.queue(cid("a"), "still sending".into(), 5);
        t.queue(cid("b"), "refused".into(), 6);
        t.pending[1].failed = Some(ErrorCode::MessageTooLong);
        let next = t.restart();
        assert!(next.messages().is_empty());
        assert_eq!(next.me(), Role::Visitor);
        let bodies: Vec<&str> = next.unsent().map(|p| p.body.as_str()).collect();
        assert_eq!(bodies, ["still sending"]);
        assert_eq!(next.pending().len(), 1);
    }

    #[test]
    fn orders_and_dedupes_by_seq() {
        let mut t = Transcript::new(Role::Visitor);
        assert!(t.insert(msg(2, Role::Agent, "b", None)));
        assert!(t.insert(msg(1, Role::Visitor, "a", None)));
        assert!(!t.insert(msg(2, Role::Agent, "b", None)));
        let seqs: Vec<u64> = t.messages().iter().map(|m| m.seq.0).collect();
        assert_eq!(seqs, [1, 2]);
    }

    #[test]
    fn resume_from_stops_at_first_gap() {
        let mut t = Transcript::new(Role::Visitor);
        assert_eq!(t.resume_from(), Seq(0));
        for s in [1, 2, 4] {
            t.insert(msg(s, Role::Agent, "x", None));
        }
        assert_eq!(t.resume_from(), Seq(2));
        t.insert(msg(3, Role::Agent, "x", None));
        assert_eq!(t.resume_from(), Seq(4));
    }

    #[test]
    fn ack_resolves_pending_once_even_when_message_frame_also_arrives() {
        let mut t = Transcript::new(Role::Visitor);
        t.queue(cid("k1"), "hello".into(), 10);
        t.queue(cid("k1"), "hello".into(), 10);
        assert_eq!(t.unsent().count(), 1);
        assert_eq!(t.entries()[0].delivery(), Delivery::Sending);
        let m = msg(1, Role::Visitor, "hello", Some("k1"));
        t.apply(ServerFrame::Ack {
            client_msg_id: cid("k1"),
            id: m.id.clone(),
            seq: Seq(1),
            created_at: 11,
            duplicate: false,
        });
        t.apply(ServerFrame::Message { message: m });
        assert_eq!(t.pending().len(), 0);
        assert_eq!(t.messages().len(), 1);
        assert_eq!(t.entries()[0].delivery(), Delivery::Delivered);
        t.apply(ServerFrame::Read {
            role: Role::Agent,
            seq: Seq(1),
        });
        assert_eq!(t.entries()[0].delivery(), Delivery::Read);
    }

    #[test]
    fn message_frame_before_ack_resolves_pending() {
        let mut t = Transcript::new(Role::Visitor);
        t.queue(cid("k1"), "hello".into(), 10);
        t.apply(ServerFrame::Message {
            message: msg(1, Role::Visitor, "hello", Some("k1")),
        });
        assert!(t.pending().is_empty());
        let late = t.apply(ServerFrame::Ack {
            client_msg_id: cid("k1"),
            id: MessageId::from_random([1; 16]),
            seq: Seq(1),
            created_at: 1,
            duplicate: true,
        });
        assert!(!late.changed);
        assert_eq!(t.messages().len(), 1);
    }

    #[test]
    fn refused_send_is_failed_and_not_retried() {
        let mut t = Transcript::new(Role::Visitor);
        t.queue(cid("k1"), "x".into(), 1);
        t.queue(cid("k2"), "y".into(), 2);
        t.apply(ServerFrame::error(
            ErrorCode::MessageTooLong,
            Some(cid("k1")),
        ));
        let unsent: Vec<_> = t.unsent().map(|p| p.client_msg_id.as_str()).collect();
        assert_eq!(unsent, ["k2"]);
        assert_eq!(
            t.entries()[0].delivery(),
            Delivery::Failed(ErrorCode::MessageTooLong)
        );
        t.discard(&cid("k1"));
        assert_eq!(t.pending().len(), 1);
    }

    #[test]
    fn a_send_refused_as_too_fast_stays_pending_to_be_retried() {
        let mut t = Transcript::new(Role::Visitor);
        t.queue(cid("k1"), "x".into(), 1);
        let a = t.apply(ServerFrame::error(ErrorCode::RateLimited, Some(cid("k1"))));
        assert!(!a.changed);
        let unsent: Vec<_> = t.unsent().map(|p| p.client_msg_id.as_str()).collect();
        assert_eq!(unsent, ["k1"]);
        assert_eq!(t.entries()[0].delivery(), Delivery::Sending);
    }

    #[test]
    fn unread_counts_only_the_other_side_and_mark_read_moves_cursor() {
        let mut t = Transcript::new(Role::Visitor);
        let a = t.apply(ServerFrame::Message {
            message: msg(1, Role::Visitor, "q", None),
        });
        assert_eq!(a.incoming, 0);
        let a = t.apply(ServerFrame::Message {
            message: msg(2, Role::Agent, "a1", None),
        });
        assert_eq!(a.incoming, 1);
        t.apply(ServerFrame::Message {
            message: msg(3, Role::Agent, "a2", None),
        });
        assert_eq!(t.unread(), 2);
        assert_eq!(t.mark_read(), Some(Seq(3)));
        assert_eq!(t.unread(), 0);
        assert_eq!(t.mark_read(), None);
        t.apply(ServerFrame::Welcome {
            conversation_id: crate::ids::ConversationId::from_random([0; 16]),
            origin: Default::default(),
            last_seq: Seq(3),
            read: ReadCursors {
                visitor: Seq(1),
                agent: Seq(0),
            },
            away_email: None,
        });
        assert_eq!(
            t.read_cursors().visitor,
            Seq(3),
            "cursors never move backwards"
        );
    }

    fn welcome(last_seq: u64) -> ServerFrame {
        ServerFrame::Welcome {
            conversation_id: crate::ids::ConversationId::from_random([0; 16]),
            origin: Default::default(),
            last_seq: Seq(last_seq),
            read: ReadCursors::default(),
            away_email: None,
        }
    }

    #[test]
    fn a_message_seen_but_never_stored_is_dropped_by_the_next_welcome() {
        let mut t = Transcript::new(Role::Agent);
        for (seq, body) in [(1, "a"), (2, "b"), (3, "lost with its commit")] {
            t.apply(ServerFrame::Message {
                message: msg(seq, Role::Visitor, body, None),
            });
        }
        assert_eq!(t.resume_from(), Seq(3));
        assert_eq!(t.mark_read(), Some(Seq(3)));
        let a = t.apply(welcome(2));
        assert!(a.changed);
        let bodies: Vec<_> = t.messages().iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["a", "b"]);
        assert_eq!(t.read_cursors().agent, Seq(2), "read up to what is stored");
        // The next message stored takes its place, unread.
        let a = t.apply(ServerFrame::Message {
            message: msg(3, Role::Visitor, "the next one", None),
        });
        assert!(a.changed);
        assert_eq!(t.messages()[2].body, "the next one");
        assert_eq!(t.unread(), 1);
        // A welcome at or past what is held keeps it all.
        t.apply(welcome(3));
        t.apply(welcome(9));
        assert_eq!(t.messages().len(), 3);
    }

    #[test]
    fn typing_is_cleared_by_a_message_from_the_typist() {
        let mut t = Transcript::new(Role::Visitor);
        t.apply(ServerFrame::Typing {
            role: Role::Visitor,
            active: true,
        });
        assert!(!t.other_typing(), "own typing echoes are ignored");
        t.apply(ServerFrame::Typing {
            role: Role::Agent,
            active: true,
        });
        assert!(t.other_typing());
        t.apply(ServerFrame::Message {
            message: msg(1, Role::Agent, "hi", None),
        });
        assert!(!t.other_typing());
    }
}
