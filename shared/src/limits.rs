//! Protocol limits as named constants, shared by every side so the widget can refuse what the
//! edge would refuse anyway (and say so before the network round trip).

/// Longest message body, in Unicode scalar values, after trimming.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Most goals (distinct names) one conversation may credit: invented names cannot inflate
/// a rule's metrics.
pub const MAX_GOALS_PER_CONVERSATION: i64 = 5;
/// Largest WebSocket frame the edge accepts, in bytes. A frame above this closes the socket
/// with code 1009 ("message too big").
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
/// Longest client message id (idempotency key).
pub const MAX_CLIENT_MSG_ID_LEN: usize = 64;
/// Longest site key.
pub const MAX_SITE_KEY_LEN: usize = 40;
/// Longest agent display name carried on a message.
pub const MAX_AUTHOR_CHARS: usize = 80;
/// Longest name a visitor gives (`identify`, the pre-chat form).
pub const MAX_CONTACT_NAME_CHARS: usize = 80;
/// Longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest page URL or referrer recorded with a conversation.
pub const MAX_URL_LEN: usize = 2048;
/// A Turnstile token (Cloudflare documents at most 2048 characters).
pub const MAX_CHALLENGE_TOKEN_LEN: usize = 2048;
/// Most messages returned by one history request.
pub const MAX_HISTORY_PAGE: usize = 500;
/// Largest JSON request body the HTTP API accepts, in bytes.
pub const MAX_JSON_BODY_BYTES: usize = 64 * 1024;
/// Longest site display name and greeting.
pub const MAX_SITE_NAME_CHARS: usize = 80;
pub const MAX_GREETING_CHARS: usize = 280;
/// Most allowed origins a site may list.
pub const MAX_ALLOWED_ORIGINS: usize = 50;

/// Tags on a contact or a conversation: how many, and how long each.
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 40;
