//! Broadcasts: one message — text with variables, files, an approved WhatsApp template — to
//! many contacts, each once, on the first channel of the broadcast's preference where they are
//! reachable and consented; and the contact records they are chosen from (CSV import, consent).

use super::{Attachment, ChannelKind, ContactChannel};
use crate::ids::{AttachmentId, AudienceId, BroadcastId, ConversationId, VisitorId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A channel a broadcast can reach a person on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, crate::json::FromJson,
)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastChannel {
    /// A message in the visitor's widget conversation (live if they are online, waiting
    /// behind the launcher's unread badge otherwise).
    Web,
    /// A private chat with the site's bot (people who pressed Start).
    Telegram,
    /// The approved template from the business number (people who opted in).
    Whatsapp,
    /// An email from the site's email channel (people who opted in), with one-click
    /// unsubscribe.
    Email,
    /// The Facebook Page's conversation, within 24 hours of the person's last message
    /// (Meta allows nothing automated later).
    Messenger,
    /// The Instagram account's conversation, within the same 24 hours.
    Instagram,
}

impl BroadcastChannel {
    pub const ALL: [BroadcastChannel; 6] = [
        BroadcastChannel::Web,
        BroadcastChannel::Telegram,
        BroadcastChannel::Whatsapp,
        BroadcastChannel::Email,
        BroadcastChannel::Messenger,
        BroadcastChannel::Instagram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastChannel::Web => "web",
            BroadcastChannel::Telegram => "telegram",
            BroadcastChannel::Whatsapp => "whatsapp",
            BroadcastChannel::Email => "email",
            BroadcastChannel::Messenger => "messenger",
            BroadcastChannel::Instagram => "instagram",
        }
    }

    pub fn parse(s: &str) -> Option<BroadcastChannel> {
        BroadcastChannel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The person's own app it reaches them in (none for the widget).
    pub fn contact(self) -> Option<ContactChannel> {
        match self {
            BroadcastChannel::Web => None,
            BroadcastChannel::Telegram => Some(ContactChannel::Telegram),
            BroadcastChannel::Whatsapp => Some(ContactChannel::Whatsapp),
            BroadcastChannel::Email => Some(ContactChannel::Email),
            BroadcastChannel::Messenger => Some(ContactChannel::Messenger),
            BroadcastChannel::Instagram => Some(ContactChannel::Instagram),
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        self.contact().map_or("Website chat", ContactChannel::label)
    }

    /// The site channel it needs set up (none for the widget).
    pub fn site_channel(self) -> Option<ChannelKind> {
        self.contact().map(ContactChannel::channel)
    }
}

impl From<ContactChannel> for BroadcastChannel {
    fn from(c: ContactChannel) -> BroadcastChannel {
        match c {
            ContactChannel::Telegram => BroadcastChannel::Telegram,
            ContactChannel::Whatsapp => BroadcastChannel::Whatsapp,
            ContactChannel::Email => BroadcastChannel::Email,
            ContactChannel::Messenger => BroadcastChannel::Messenger,
            ContactChannel::Instagram => BroadcastChannel::Instagram,
        }
    }
}

/// Who a broadcast goes to: contacts of the site matching every given filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Contacts carrying every one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Contacts whose language starts with this (`pt` matches `pt-BR`).
    #[serde(default)]
    pub language: Option<String>,
    /// Contacts seen at or after this time (ms since the epoch).
    #[serde(default)]
    pub seen_after: Option<i64>,
    /// Contacts whose custom field `name` is exactly `value`, for every pair.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Contacts reachable (and consented) on at least one of these channels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reachable_on: Vec<BroadcastChannel>,
}

/// A saved audience: a named filter over the site's contacts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct SavedAudience {
    pub id: AudienceId,
    pub name: String,
    pub filter: Audience,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST …/audiences`, `PUT …/audiences/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    pub name: String,
    #[serde(default)]
    pub filter: Audience,
}

/// How many people each channel reaches (or a broadcast's recipients on each).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ChannelCounts {
    pub web: u32,
    pub telegram: u32,
    pub whatsapp: u32,
    #[serde(default)]
    pub email: u32,
    #[serde(default)]
    pub messenger: u32,
    #[serde(default)]
    pub instagram: u32,
}

impl ChannelCounts {
    /// The count of `channel`.
    pub fn on(&mut self, channel: BroadcastChannel) -> &mut u32 {
        match channel {
            BroadcastChannel::Web => &mut self.web,
            BroadcastChannel::Telegram => &mut self.telegram,
            BroadcastChannel::Whatsapp => &mut self.whatsapp,
            BroadcastChannel::Email => &mut self.email,
            BroadcastChannel::Messenger => &mut self.messenger,
            BroadcastChannel::Instagram => &mut self.instagram,
        }
    }

    pub fn total(&self) -> u32 {
        self.web + self.telegram + self.whatsapp + self.email + self.messenger + self.instagram
    }
}

crate::serde_reads!(Reach);

/// Who a filter matches (`POST …/audience-counts`, `GET …/audiences/{id}`): the contacts, and
/// how many of them each channel reaches (one person may count on several).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    pub contacts: u32,
    #[serde(flatten)]
    pub channels: ChannelCounts,
    /// Reachable on none of them (or not consented).
    pub unreachable: u32,
    pub opted_out: u32,
}

crate::serde_reads!(AudienceWithReach);

/// A saved audience with who it reaches now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceWithReach {
    #[serde(flatten)]
    pub audience: SavedAudience,
    pub reach: Reach,
}

/// The approved WhatsApp template a broadcast uses, its body parameters (variables allowed)
/// in order; the header's media is the broadcast's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct TemplateChoice {
    pub name: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

fn default_language() -> String {
    "en_US".into()
}

/// When a broadcast goes out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Not before this time (ms since the epoch); now if absent.
    #[serde(default)]
    pub at: Option<i64>,
    /// At this local time (`HH:MM`) in each recipient's own time zone, on or after `at`
    /// (recipients without a time zone get the site's default, UTC).
    #[serde(default)]
    pub local_time: Option<String>,
    /// Never in these local hours: a recipient whose moment falls inside waits until they
    /// end, in their own time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
}

/// Local hours a broadcast keeps quiet, `HH:MM` to `HH:MM` (across midnight when `from` is
/// later than `to`, as in 21:00–08:00).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub from: String,
    pub to: String,
}

/// `POST /api/v1/admin/sites/{site}/broadcasts` (and `…/broadcasts/preview`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct BroadcastInput {
    pub name: String,
    /// The message; `{{first_name}}` or `{{first_name|there}}` (with a fallback) are filled
    /// per recipient. A variable without a value and without a fallback is refused up front.
    #[serde(default)]
    pub text: String,
    /// Channels in order of preference: each recipient gets the broadcast once, on the first
    /// where they are reachable and consented.
    pub channels: Vec<BroadcastChannel>,
    #[serde(default)]
    pub audience: Audience,
    /// A saved audience instead of `audience` (its filter as it is when the broadcast is
    /// created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_id: Option<AudienceId>,
    /// Files uploaded with `…/broadcasts/files` (at most one photo, video or PDF per message).
    #[serde(default)]
    pub files: Vec<AttachmentId>,
    /// Required when `channels` includes WhatsApp.
    #[serde(default)]
    pub whatsapp_template: Option<TemplateChoice>,
    /// Up to 3 buttons under the message: `{"label", "action": "reply"}` (the label comes
    /// back as the person's answer) or `{"label", "action": "link", "url"}`. On WhatsApp the
    /// template's approved buttons are used and must match these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<crate::rules::CtaButton>,
    #[serde(default)]
    pub schedule: Schedule,
}

crate::serde_reads!(AudienceCount);

/// How many would receive a broadcast where, before it is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceCount {
    /// Recipients per channel.
    #[serde(flatten)]
    pub channels: ChannelCounts,
    /// Matching contacts reachable on none of the broadcast's channels (or not consented).
    pub unreachable: u32,
    /// Matching contacts left out because the person opted out: on this record, or on another
    /// record of the same person (their stop holds for all of them).
    pub opted_out: u32,
}

/// What one channel's recipients see (the first recipient's variables filled in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ChannelPreview {
    pub channel: BroadcastChannel,
    /// How the message is sent there: `message`, `photo with caption`, `template …`.
    pub form: String,
    pub text: String,
}

/// `POST …/broadcasts/preview`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct BroadcastPreview {
    pub count: AudienceCount,
    pub previews: Vec<ChannelPreview>,
}

/// Per-stage counts of a broadcast's recipients on one channel (each stage includes the
/// later ones: a read message was delivered and sent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Funnel {
    pub recipients: u32,
    pub queued: u32,
    pub sent: u32,
    pub delivered: u32,
    pub read: u32,
    pub replied: u32,
    pub goals: u32,
    pub goal_value: f64,
    pub failed: u32,
    pub opted_out: u32,
    pub cancelled: u32,
}

/// One channel's funnel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ChannelFunnel {
    pub channel: BroadcastChannel,
    pub funnel: Funnel,
}

/// A broadcast and where it stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Broadcast {
    pub id: BroadcastId,
    pub name: String,
    /// `scheduled`, `running`, `paused`, `cancelled` or `done`.
    pub status: String,
    pub created_at: i64,
    pub send_at: i64,
    #[serde(default)]
    pub started_at: Option<i64>,
    #[serde(default)]
    pub finished_at: Option<i64>,
    /// While scheduled, running or paused: when the next recipient not yet sent is due (later
    /// than now while everyone left waits for their local time or their quiet hours to end).
    #[serde(default)]
    pub next_at: Option<i64>,
    pub input: BroadcastInput,
    /// Every channel together.
    pub total: Funnel,
    pub channels: Vec<ChannelFunnel>,
    /// Recipients sent per second since it started (while running).
    pub rate: f64,
}

/// One recipient's result (`GET …/broadcasts/{id}/recipients`, also as CSV).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct RecipientResult {
    pub contact_id: VisitorId,
    pub channel: BroadcastChannel,
    pub address: String,
    /// `queued`, `sent`, `delivered`, `read`, `replied`, `failed`, `opted_out`, `cancelled`.
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    /// When it goes (a local-time schedule: their own time zone's moment).
    pub due_at: i64,
}

/// `POST …/broadcasts/{id}/pause|resume|cancel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastAction {
    Pause,
    Resume,
    Cancel,
}

/// A file uploaded for broadcasts (`POST …/broadcasts/files`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct BroadcastFile {
    pub attachment: Attachment,
}

/// What a contacts import did (`POST …/contacts/import`, a CSV body).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ImportReport {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Rows not imported, each with its line number in the file (the header is line 1) and
    /// why.
    pub rejected: Vec<RejectedRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct RejectedRow {
    pub line: u32,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_an_edge_before_messenger_still_read() {
        let old = r#"{"contacts": 3, "web": 1, "telegram": 1, "whatsapp": 0,
                      "unreachable": 1, "opted_out": 0}"#;
        let r: Reach = serde_json::from_str(old).unwrap();
        assert_eq!(
            (
                r.contacts,
                r.channels.web,
                r.channels.messenger,
                r.unreachable
            ),
            (3, 1, 0, 1)
        );
        let mut c = AudienceCount::default();
        *c.channels.on(BroadcastChannel::Instagram) += 2;
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            (json["instagram"].as_u64(), json["web"].as_u64()),
            (Some(2), Some(0))
        );
        assert_eq!(c.channels.total(), 2);
    }
}
