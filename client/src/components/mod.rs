//! Components both apps render. Message text only ever reaches the DOM as text nodes.

mod attachment;
mod composer;
mod files;
pub mod icons;
mod message_list;
mod teaser;

pub use attachment::{human_size, FileView};
pub use composer::Composer;
pub use message_list::MessageList;
pub use teaser::{Teaser, TeaserProps};
