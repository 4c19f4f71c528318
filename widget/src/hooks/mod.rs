//! The app's connections to the outside, one hook each: the host page's loader
//! ([`use_host_bridge`]), the site's presence socket ([`use_presence`]) and the iframe's size
//! while a teaser shows ([`use_teaser_sizing`]).

mod host_bridge;
mod presence;
mod teaser_sizing;

pub use host_bridge::use_host_bridge;
pub use presence::{use_presence, Presence};
pub use teaser_sizing::use_teaser_sizing;
