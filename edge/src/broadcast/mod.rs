//! Broadcasts: one message to many contacts, each once, on the first channel of the
//! broadcast's preference where they are reachable and consented.
//!
//! - **Accepting** (`routes/broadcasts.rs`): the input is checked up front (channels set up,
//!   the WhatsApp template approved with a header of the file's kind, files within each
//!   channel's limits, every variable filled or with a fallback — [`vars`], [`plan`]), the
//!   recipients are planned from the contact records ([`plan::recipients`]) and stored in D1
//!   (`broadcast_recipients`, one row per channel address), and a tick goes on the queue.
//! - **Never stuck** ([`watch`]): a Durable Object per broadcast queues a tick every 30 s
//!   while it runs, so a tick lost with a stopped runtime only delays it.
//! - **Sending** ([`send`]): the queue consumer claims due recipients in batches, paced per
//!   channel, and posts each one's message into their conversation (their widget
//!   conversation, or the one held on their Telegram or WhatsApp chat) under the client
//!   message id `broadcast-<id>`: the conversation stores it once, however often a batch is
//!   redelivered or the runtime restarts, and its outbox delivers it exactly once with the
//!   channel's retries ([`Mark`] rides along: the template, the header media).
//! - **Tracking**: the conversation reports how far its broadcast message got (sent or
//!   failed from its outbox, delivered and read from channel statuses, replied when the person
//!   answers) back to the recipient's row, in batches with its index writes. The first reply
//!   also relays the broadcast message to the agents' channels, so they see what was answered.
//! - **Opt-out** ([`keywords`]): "STOP" on WhatsApp or Telegram is confirmed to the person and
//!   recorded as their consent; from then on no broadcast plans or sends to them.

pub mod import;
pub mod keywords;
pub mod plan;
pub mod send;
pub mod vars;
pub mod watch;

use beckon_shared::proto::v1::{Attachment, BroadcastChannel, BroadcastInput};
use beckon_shared::rules::CtaButton;
use beckon_shared::{BroadcastId, ClientMsgId};
use serde::{Deserialize, Serialize};

/// The client message id of a broadcast's message in a recipient's conversation (a
/// broadcast reaches a conversation once).
pub fn client_msg_id(broadcast: &BroadcastId) -> ClientMsgId {
    let hex = &broadcast.as_str()[BroadcastId::PREFIX.len()..];
    ClientMsgId::parse(&format!("broadcast-{hex}")).expect("a broadcast id makes a client id")
}

/// A broadcast's message as its conversation keeps it: which broadcast and recipient it is,
/// and how its channel sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub broadcast: String,
    pub channel: BroadcastChannel,
    pub address: String,
    /// The contact record it was planned for: a STOP or mute on any of its addresses holds
    /// for this message too (marks from before it have none: their address alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// WhatsApp: the approved template it goes as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateSend>,
    /// Its buttons (the widget shows them, Telegram as an inline keyboard; WhatsApp's are the
    /// template's own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<CtaButton>,
    /// Telegram: the broadcast's file as Telegram already holds it (its file_id), sent by id
    /// instead of uploaded again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram_file: Option<String>,
}

/// An approved WhatsApp template with this recipient's parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSend {
    pub name: String,
    pub language: String,
    pub parameters: Vec<String>,
    /// The header's media, uploaded to the business number once per broadcast: its kind
    /// (`image`, `video`, `document`) and media id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<(String, String)>,
}

/// A broadcast as accepted (the `spec` column): the input, its files' metadata, and the
/// WhatsApp header's media as uploaded to the business number once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stored {
    pub input: BroadcastInput,
    pub files: Vec<Attachment>,
    #[serde(default)]
    pub whatsapp_header: Option<(String, String)>,
}

/// Why a recipient's message that was waiting for a channel's retry when the broadcast was
/// cancelled never went (`Delivery::broadcast_still_wanted`): they count as cancelled, not
/// failed.
pub const CANCELLED: &str = "the broadcast was cancelled before it reached them";
/// Why one whose person said STOP (or unsubscribed from emails) meanwhile never went: they
/// count as opted out.
pub const SAID_STOP: &str = "they said STOP to these messages";
pub const UNSUBSCRIBED: &str = "they unsubscribed from these emails";

/// What a recipient whose channel's send ended with `reason` counts as: cancelled or opted out
/// (it never went, [`CANCELLED`], [`SAID_STOP`], [`UNSUBSCRIBED`]), else failed.
pub fn stage_of_refusal(reason: &str) -> crate::storage::broadcasts::Stage {
    use crate::storage::broadcasts::Stage;
    match reason {
        CANCELLED => Stage::Cancelled,
        SAID_STOP | UNSUBSCRIBED => Stage::OptedOut,
        _ => Stage::Failed,
    }
}

/// The most buttons under a broadcast (WhatsApp's quick replies: 3) and the longest label
/// (WhatsApp's: 20 characters).
pub const MAX_BUTTONS: usize = 3;
pub const MAX_BUTTON_LABEL: usize = 20;

/// Why a broadcast's buttons are not accepted, if they are not: at most [`MAX_BUTTONS`],
/// labels of 1 to [`MAX_BUTTON_LABEL`] characters, each once; a reply or a link to an http(s)
/// URL.
pub fn check_buttons(buttons: &[CtaButton]) -> Result<(), String> {
    use beckon_shared::rules::CtaAction;
    if buttons.len() > MAX_BUTTONS {
        return Err(format!("at most {MAX_BUTTONS} buttons"));
    }
    for (i, b) in buttons.iter().enumerate() {
        let n = b.label.trim().chars().count();
        if n == 0 || n > MAX_BUTTON_LABEL || b.label.chars().any(char::is_control) {
            return Err(format!(
                "button labels must be 1-{MAX_BUTTON_LABEL} characters on one line"
            ));
        }
        if buttons[..i].iter().any(|o| o.label == b.label) {
            return Err(format!("two buttons are labelled {:?}", b.label));
        }
        match &b.action {
            CtaAction::Reply => {}
            CtaAction::Link { url } if beckon_shared::text::is_web_url(url) => {}
            CtaAction::Link { .. } => {
                return Err(format!(
                    "button {:?}: a link must be a full http(s) URL",
                    b.label
                ))
            }
            CtaAction::Open => {
                return Err(format!(
                    "button {:?}: a broadcast's buttons are reply or link",
                    b.label
                ))
            }
        }
    }
    Ok(())
}
