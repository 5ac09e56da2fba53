//! 12/WAKU2-FILTER v2 as sans-IO state machines: the service a full node runs
//! ([`FilterService`]: subscriptions, expiry, limits, push fan-out) and the client a light node
//! runs ([`FilterClient`]: requests, keep-alive pings, lost-subscription detection, push
//! acceptance), with the presets of [`FilterConfig`].
//!
//! A filter criterion is a (pubsub topic, content topic) pair; a subscription is the set of
//! criteria one client peer holds on one service peer. Behaviour and numbers follow
//! `reference/waku-protocols.md` §5 and the implementations it cites; where nwaku and go-waku
//! differ the difference is a [`ServiceFlavor`], [`ExpiryRule`] or numeric switch.

mod cache;
mod client;
mod config;
mod service;

#[cfg(test)]
mod tests;

pub use client::{FilterClient, FilterClientError, FilterClientOutput, FilterRequestKind};
pub use config::{
    ExpiryRule, FilterClientConfig, FilterConfig, FilterServiceConfig, PushCheck, RateLimit,
    RateLimitMode, ServiceFlavor,
};
pub use service::{FilterOutput, FilterService, RATE_LIMITED_REQUEST_ID};

/// Filter status codes (nwaku `FilterSubscribeErrorKind`; go-waku uses the `net/http` values).
pub mod status {
    /// Success.
    pub const OK: u32 = 200;
    /// Client-side: the answer could not be read or decoded.
    pub const BAD_RESPONSE: u32 = 300;
    /// Missing pubsub topic, no or too many content topics, empty topic string.
    pub const BAD_REQUEST: u32 = 400;
    /// Ping, unsubscribe or unsubscribe-all without a subscription.
    pub const NOT_FOUND: u32 = 404;
    /// Per-peer rate limit exceeded (request id "N/A").
    pub const TOO_MANY_REQUESTS: u32 = 429;
    /// Maximum subscribers or maximum criteria per subscriber reached.
    pub const SERVICE_UNAVAILABLE: u32 = 503;
    /// Client-side: the service peer could not be dialled.
    pub const PEER_DIAL_FAILURE: u32 = 504;
}

/// One filter criterion: messages relayed on `pubsub_topic` with `content_topic`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilterCriterion {
    /// The pubsub topic (shard) the message arrives on.
    pub pubsub_topic: String,
    /// The message's content topic.
    pub content_topic: String,
}

impl FilterCriterion {
    /// The criterion (`pubsub_topic`, `content_topic`).
    pub fn new(pubsub_topic: impl Into<String>, content_topic: impl Into<String>) -> Self {
        Self {
            pubsub_topic: pubsub_topic.into(),
            content_topic: content_topic.into(),
        }
    }
}
