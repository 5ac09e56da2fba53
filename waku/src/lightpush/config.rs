//! Lightpush configuration: the status codes a preset answers with ([`LightPushCodes`]), the
//! service's validation and sharding settings ([`LightPushConfig`]) and the client's
//! ([`LightPushClientConfig`]), with `spec()` and `nwaku()` presets (`Default` = nwaku).
//!
//! Sources (`reference/waku-protocols.md` §6, §9.6): the v3 spec (`waku-org/specs`
//! `standards/core/lightpush.md`: 200, 400, 413, 421, 429, 500, **503 NO_PEERS_TO_RELAY**),
//! nwaku `waku_lightpush/common.nim` (adds 420 INVALID_MESSAGE, 503 SERVICE_NOT_AVAILABLE,
//! 504 OUT_OF_RLN_PROOF, **505 NO_PEERS_TO_RELAY**), nwaku `waku_lightpush/protocol.nim`
//! (request handling, "N/A" ids), `callbacks.nim` (relay validators → 420, so an oversized
//! message is 420, not 413), `client.nim` (200 with 0 relay peers is a failure), the legacy
//! v2 service (`waku_lightpush_legacy/`), go-waku `lightpush/` (v2 only; 10 s request
//! timeout, 1 request/s per peer) and js-waku (10 s task timeout).

use std::collections::BTreeSet;

use sim_core::SimDuration;

use crate::message::MAX_MESSAGE_BYTES;
use crate::sharding::{TWN_CLUSTER_ID, TWN_SHARD_COUNT};
use crate::store::rate_limit::RateLimitConfig;

/// What a lightpush response means, independent of the number a preset gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LightPushStatus {
    /// Published.
    Success,
    /// Malformed request (missing id or message, undecodable message, empty topic).
    BadRequest,
    /// The message is larger than the relay limit.
    PayloadTooLarge,
    /// The message or its topic is not acceptable (nwaku 420).
    InvalidMessage,
    /// The service does not relay on this pubsub topic.
    UnsupportedPubsubTopic,
    /// Rate limited.
    TooManyRequests,
    /// The service failed (nwaku: autosharding error).
    InternalServerError,
    /// The service is not mounted (nwaku 503).
    ServiceNotAvailable,
    /// RLN proof generation failed (nwaku 504; not modelled, listed for completeness).
    OutOfRlnProof,
    /// The service has no relay peers for the topic.
    NoPeersToRelay,
}

/// The code of each [`LightPushStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LightPushCodes {
    /// [`LightPushStatus::Success`]: 200.
    pub success: u32,
    /// [`LightPushStatus::BadRequest`]: 400.
    pub bad_request: u32,
    /// [`LightPushStatus::PayloadTooLarge`]: spec 413; nwaku 420 (its size check is a relay
    /// validator, whose failures are all INVALID_MESSAGE).
    pub payload_too_large: u32,
    /// [`LightPushStatus::InvalidMessage`]: spec 400 (the spec has no 420); nwaku 420.
    pub invalid_message: u32,
    /// [`LightPushStatus::UnsupportedPubsubTopic`]: 421.
    pub unsupported_pubsub_topic: u32,
    /// [`LightPushStatus::TooManyRequests`]: 429.
    pub too_many_requests: u32,
    /// [`LightPushStatus::InternalServerError`]: 500.
    pub internal_server_error: u32,
    /// [`LightPushStatus::ServiceNotAvailable`]: 503.
    pub service_not_available: u32,
    /// [`LightPushStatus::OutOfRlnProof`]: spec 500 (no such code); nwaku 504.
    pub out_of_rln_proof: u32,
    /// [`LightPushStatus::NoPeersToRelay`]: spec 503; nwaku 505.
    pub no_peers_to_relay: u32,
}

impl LightPushCodes {
    /// The spec's table.
    pub const fn spec() -> Self {
        Self {
            success: 200,
            bad_request: 400,
            payload_too_large: 413,
            invalid_message: 400,
            unsupported_pubsub_topic: 421,
            too_many_requests: 429,
            internal_server_error: 500,
            service_not_available: 503,
            out_of_rln_proof: 500,
            no_peers_to_relay: 503,
        }
    }

    /// nwaku's constants and the codes its pipeline actually produces.
    pub const fn nwaku() -> Self {
        Self {
            payload_too_large: 420,
            invalid_message: 420,
            out_of_rln_proof: 504,
            no_peers_to_relay: 505,
            ..Self::spec()
        }
    }

    /// The code for `status`.
    pub const fn code(&self, status: LightPushStatus) -> u32 {
        match status {
            LightPushStatus::Success => self.success,
            LightPushStatus::BadRequest => self.bad_request,
            LightPushStatus::PayloadTooLarge => self.payload_too_large,
            LightPushStatus::InvalidMessage => self.invalid_message,
            LightPushStatus::UnsupportedPubsubTopic => self.unsupported_pubsub_topic,
            LightPushStatus::TooManyRequests => self.too_many_requests,
            LightPushStatus::InternalServerError => self.internal_server_error,
            LightPushStatus::ServiceNotAvailable => self.service_not_available,
            LightPushStatus::OutOfRlnProof => self.out_of_rln_proof,
            LightPushStatus::NoPeersToRelay => self.no_peers_to_relay,
        }
    }

    /// The statuses that `code` stands for in this table (several when a preset shares a
    /// code, e.g. the spec's 503 or nwaku's 420), in declaration order.
    pub fn statuses_of(&self, code: u32) -> Vec<LightPushStatus> {
        use LightPushStatus::*;
        [
            Success,
            BadRequest,
            PayloadTooLarge,
            InvalidMessage,
            UnsupportedPubsubTopic,
            TooManyRequests,
            InternalServerError,
            ServiceNotAvailable,
            OutOfRlnProof,
            NoPeersToRelay,
        ]
        .into_iter()
        .filter(|&s| self.code(s) == code)
        .collect()
    }
}

impl Default for LightPushCodes {
    fn default() -> Self {
        Self::nwaku()
    }
}

/// How the service finds the pubsub topic of a request that names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardingMode {
    /// Static sharding: a request without `pubsub_topic` is refused (nwaku: 420 "Pubsub topic
    /// must be specified when static sharding is enabled").
    Static,
    /// Autosharding of the content topic in `cluster_id` with `shard_count` shards.
    Auto {
        /// The cluster.
        cluster_id: u16,
        /// Shards in the cluster (1..=1024).
        shard_count: u32,
    },
}

impl ShardingMode {
    /// The Waku Network: cluster 1, 8 autosharded shards (RFC 64).
    pub const TWN: Self = Self::Auto {
        cluster_id: TWN_CLUSTER_ID,
        shard_count: TWN_SHARD_COUNT,
    };
}

/// nwaku's description of a rate-limited request (`TooManyRequestsMessage`).
pub const TOO_MANY_REQUESTS_DESC: &str = "Request rejected due to too many requests";
/// The `request_id` of a response to a request that was not parsed.
pub const REQUEST_ID_NOT_PARSED: &str = "N/A";

/// Lightpush service settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightPushConfig {
    /// Status codes.
    pub codes: LightPushCodes,
    /// Largest encoded message relayed (nwaku and go-waku: 150 KiB).
    pub max_message_bytes: usize,
    /// Topic derivation when a request names no pubsub topic (default: The Waku Network).
    pub sharding: ShardingMode,
    /// The pubsub topics this node relays on; empty = all. Only consulted with
    /// `reject_unserved_topics`.
    pub served_pubsub_topics: BTreeSet<String>,
    /// Spec: a topic the node does not serve is refused with 421 UNSUPPORTED_PUBSUB_TOPIC.
    /// nwaku never checks (`false`): it publishes through gossipsub fanout, and the caller's
    /// relay peer count for that topic decides.
    pub reject_unserved_topics: bool,
    /// nwaku: a request that fails to decode (no `request_id`, no message, or a message its
    /// decoder refuses: empty payload or content topic, meta over 64 bytes) is answered with
    /// `request_id = "N/A"`. Spec preset: the id is echoed.
    pub decode_errors_not_parsed: bool,
    /// nwaku's relay `publish` stamps a message without timestamp with the node's clock.
    pub stamp_missing_timestamp: bool,
    /// Request rate limit (nwaku default: none; go-waku v2: 1 request/s per peer).
    pub rate_limit: Option<RateLimitConfig>,
}

impl LightPushConfig {
    /// nwaku's service (the `Default`).
    pub fn nwaku() -> Self {
        Self {
            codes: LightPushCodes::nwaku(),
            max_message_bytes: MAX_MESSAGE_BYTES,
            sharding: ShardingMode::TWN,
            served_pubsub_topics: BTreeSet::new(),
            reject_unserved_topics: false,
            decode_errors_not_parsed: true,
            stamp_missing_timestamp: true,
            rate_limit: None,
        }
    }

    /// The spec's codes, 421 for unserved topics, request ids echoed.
    pub fn spec() -> Self {
        Self {
            codes: LightPushCodes::spec(),
            reject_unserved_topics: true,
            decode_errors_not_parsed: false,
            ..Self::nwaku()
        }
    }
}

impl Default for LightPushConfig {
    fn default() -> Self {
        Self::nwaku()
    }
}

/// Which lightpush protocol a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum LightpushVersion {
    /// `/vac/waku/lightpush/3.0.0` (nwaku, js-waku).
    #[default]
    V3,
    /// `/vac/waku/lightpush/2.0.0-beta1` (go-waku; legacy in nwaku).
    V2,
}

/// Lightpush client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightPushClientConfig {
    /// Protocol version.
    pub version: LightpushVersion,
    /// How long a request may go unanswered (go-waku 10 s, js-waku 10 s).
    pub request_timeout: SimDuration,
    /// Most requests in flight (default 1 024).
    pub max_pending: usize,
    /// nwaku client: a 200 with `relay_peer_count` 0 (or absent) is a failure
    /// (NO_PEERS_TO_RELAY). Spec preset: `false`, a 200 is a success.
    pub zero_peers_is_failure: bool,
    /// nwaku client `ensureTimestampSet`: stamp a message without timestamp with `now`.
    pub stamp_missing_timestamp: bool,
    /// Autosharding used to name the topic when none is given: v2 requests must name one
    /// (go-waku derives it this way); v3 requests leave it out and only the reported message
    /// hash uses it. `Static` leaves v3 topics unknown and refuses topic-less v2 pushes.
    pub sharding: ShardingMode,
}

impl LightPushClientConfig {
    /// The nwaku client (v3, zero peers is a failure): the `Default`.
    pub fn nwaku() -> Self {
        Self {
            version: LightpushVersion::V3,
            request_timeout: SimDuration::from_secs(10),
            max_pending: 1024,
            zero_peers_is_failure: true,
            stamp_missing_timestamp: true,
            sharding: ShardingMode::TWN,
        }
    }

    /// A client that takes the spec at its word: 200 is success whatever the peer count.
    pub fn spec() -> Self {
        Self {
            zero_peers_is_failure: false,
            ..Self::nwaku()
        }
    }

    /// The go-waku client: v2 only.
    pub fn go_waku() -> Self {
        Self {
            version: LightpushVersion::V2,
            ..Self::spec()
        }
    }
}

impl Default for LightPushClientConfig {
    fn default() -> Self {
        Self::nwaku()
    }
}
