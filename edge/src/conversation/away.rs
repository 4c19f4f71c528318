//! The address a visitor leaves for answers that come while they are away (the widget offers
//! it while no agent is online and the site answers by email): kept with the conversation,
//! recorded on the visitor as the email they gave, and — while no tab of theirs is open —
//! the business's messages go there too, through the site's email channel; the visitor's
//! replies come back into the conversation.

use super::{Conversation, Meta, Principal};
use crate::channels::ContactRoute;
use crate::error::{Error, Result};
use crate::storage::visitors;
use beckon_shared::proto::v1::{email_address, ContactChannel, ErrorCode, Identify};

impl Conversation {
    /// Keeps the address the visitor left (`""` forgets it).
    pub(super) async fn leave_away_email(&self, principal: &Principal, raw: &str) -> Result<()> {
        let Principal::Visitor { site, visitor_id } = principal else {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only the visitor leaves an address for themselves",
            ));
        };
        let email = match raw.trim() {
            "" => None,
            a => Some(email_address(a).ok_or_else(|| {
                Error::bad_request("email must be an address like ana@example.com")
            })?),
        };
        if self.store.away_email()? == email {
            return Ok(());
        }
        // Each change writes the visitor's record: limited like their messages.
        if !self.admits_send(principal) {
            return Err(Error::code(ErrorCode::RateLimited));
        }
        self.store.set_away_email(email.as_deref())?;
        if let Some(e) = email {
            let who = Identify {
                email: Some(e),
                ..Identify::default()
            };
            let now = crate::http::now_ms();
            let before = crate::events::contact_before(&self.env, site, visitor_id).await;
            visitors::claim(&self.env.d1("DB")?, site, visitor_id, &who, now).await?;
            let why = ("away_email", before);
            crate::events::contact_updated(&self.env, site, visitor_id, why, now).await;
        }
        Ok(())
    }

    /// Where the business's messages go besides the agents' channels: the contact's own
    /// channel for a conversation held there, or the address the visitor left while no tab of
    /// theirs is open.
    pub(super) fn contact_route(&self, meta: &Meta) -> Result<Option<ContactRoute>> {
        if meta.contact.is_none() && self.sockets.visitor_present(&self.state) {
            return Ok(None);
        }
        self.reach(meta)
    }

    /// Where the contact is reached outside the widget, present or not: their own channel, or
    /// the address the visitor left, as a route of the email channel.
    pub(super) fn reach(&self, meta: &Meta) -> Result<Option<ContactRoute>> {
        if meta.contact.is_some() {
            return Ok(meta.contact.clone());
        }
        Ok(self.store.away_email()?.map(|address| ContactRoute {
            channel: ContactChannel::Email,
            address,
        }))
    }
}
