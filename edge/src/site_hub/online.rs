//! Who is online now: the visitors' chat apps, each one's [`OnlineVisitor`] in its socket's
//! attachment (which outlives hibernation) and mirrored in memory, so a list of a thousand
//! visitors costs no thousand attachment reads. The inbox tabs get the list when it changes —
//! at once if the last one went out [`PRESENCE_EVERY_MS`] ago, else once that interval is up,
//! with every change since: one list however many visitors moved meanwhile.

use super::{send, SiteHub, AGENT, VISITOR};
use crate::http;
use beckon_shared::proto::v1::{InboxEvent, OnlineVisitor};
use std::collections::HashMap;
use worker::WebSocket;

/// The shortest interval between two presence lists told to the inbox tabs.
pub(super) const PRESENCE_EVERY_MS: i64 = 100;

/// The online visitors by presence id (memory; rebuilt from the attachments after a wake).
#[derive(Default)]
pub(super) struct Online {
    by_id: HashMap<String, OnlineVisitor>,
}

impl Online {
    fn set(&mut self, v: OnlineVisitor) {
        self.by_id.insert(v.id.clone(), v);
    }

    fn remove(&mut self, id: &str) {
        self.by_id.remove(id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Those who said where they are, longest on the site first.
    pub(super) fn list(&self) -> Vec<OnlineVisitor> {
        let mut list: Vec<OnlineVisitor> = self
            .by_id
            .values()
            .filter(|v| !v.url.is_empty())
            .cloned()
            .collect();
        list.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.id.cmp(&b.id)));
        list
    }
}

/// How long a change waits for the next list, the last one sent at `last_sent` (ms; 0: never).
fn wait_ms(last_sent: i64, now: i64) -> i64 {
    (last_sent + PRESENCE_EVERY_MS - now).clamp(0, PRESENCE_EVERY_MS)
}

impl SiteHub {
    /// The online visitors, read from the sockets' attachments on first use after a wake; kept
    /// by every change after (a socket that goes away is told by its close or error event).
    fn online_now(&self) -> std::cell::RefMut<'_, Online> {
        std::cell::RefMut::map(self.online.borrow_mut(), |online| {
            online.get_or_insert_with(|| {
                let mut fresh = Online::default();
                for ws in self.state.get_websockets_with_tag(VISITOR) {
                    if let Ok(Some(v)) = ws.deserialize_attachment::<OnlineVisitor>() {
                        fresh.set(v);
                    }
                }
                fresh
            })
        })
    }

    /// Visitor socket `ws` is `v` now (its attachment and the memory).
    pub(super) fn set_online(&self, ws: &WebSocket, v: OnlineVisitor) -> worker::Result<()> {
        ws.serialize_attachment(&v)?;
        let mut online = self.online_now();
        online.set(v);
        Ok(())
    }

    /// Visitor socket `ws` went away (closed, by either side, or failed): out of the list and
    /// its allowance, and the inbox tabs told.
    pub(super) async fn went_offline(&self, ws: &WebSocket) {
        match ws.deserialize_attachment::<OnlineVisitor>() {
            Ok(Some(v)) => {
                self.here_allowance.borrow_mut().remove(&v.id);
                let mut online = self.online_now();
                online.remove(&v.id);
            }
            // Which one it was is unknown: read the list again from the sockets still open.
            _ => *self.online.borrow_mut() = None,
        }
        self.presence_changed().await;
    }

    /// Visitors who said where they are.
    pub(super) fn visitors(&self) -> Vec<OnlineVisitor> {
        self.online_now().list()
    }

    /// The list changed: the inbox tabs get it (coalesced, see the module's doc). A tab that
    /// opens meanwhile gets the list as it joins, so with no tab open nothing is sent.
    pub(super) async fn presence_changed(&self) {
        let now = http::now_ms();
        let last = self.presence_sent.get();
        if last > now {
            return; // a list is due at `last`: it carries this change too
        }
        if self.state.get_websockets_with_tag(AGENT).is_empty() {
            return;
        }
        let wait = wait_ms(last, now);
        // Until the list goes, it is due then (a wait cut short leaves no flag behind).
        self.presence_sent.set(now + wait);
        if wait > 0 {
            worker::Delay::from(std::time::Duration::from_millis(wait as u64)).await;
        }
        self.presence_sent.set(http::now_ms());
        let event = InboxEvent::Presence {
            visitors: self.visitors(),
        };
        for ws in self.state.get_websockets_with_tag(AGENT) {
            send(&ws, &event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(id: &str, url: &str, since: i64) -> OnlineVisitor {
        OnlineVisitor {
            id: id.into(),
            url: url.into(),
            title: String::new(),
            since,
            visitor_id: None,
        }
    }

    #[test]
    fn the_list_holds_who_said_where_they_are_longest_first() {
        let mut online = Online::default();
        online.set(visitor("b", "/pricing", 20));
        online.set(visitor("a", "/", 10));
        online.set(visitor("c", "", 5)); // connected, not yet said where
        online.set(visitor("d", "/docs", 20));
        let ids: Vec<String> = online.list().into_iter().map(|v| v.id).collect();
        assert_eq!(ids, ["a", "b", "d"]);
        online.set(visitor("b", "/checkout", 20));
        online.remove("a");
        let list = online.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].url, "/checkout");
        assert_eq!(online.len(), 3);
    }

    #[test]
    fn a_change_waits_for_the_interval_since_the_last_list_and_no_longer() {
        assert_eq!(wait_ms(0, 1_000_000), 0, "the first list goes at once");
        assert_eq!(wait_ms(1_000, 1_000), PRESENCE_EVERY_MS);
        assert_eq!(wait_ms(1_000, 1_040), 60);
        assert_eq!(wait_ms(1_000, 1_000 + PRESENCE_EVERY_MS), 0);
        assert_eq!(wait_ms(1_000, 5_000), 0);
        // A clock that went back never makes a change wait longer than the interval.
        assert_eq!(wait_ms(5_000, 1_000), PRESENCE_EVERY_MS);
    }
}
