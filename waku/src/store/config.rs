//! Store v3 configuration: the archive's bounds and retention ([`ArchiveConfig`]) and the query
//! service's limits and spec-vs-nwaku quirks ([`StoreConfig`]), with the presets
//! [`StoreConfig::spec`] and [`StoreConfig::nwaku`] (= `Default`).
//!
//! Sources (`reference/waku-protocols.md` §4.4, §4.5, §9.5): nwaku `waku_archive/archive.nim`
//! (`DefaultPageSize` 20, `MaxPageSize` 100, `MaxContentTopicsPerQuery` 10 checked only with a
//! cursor, `MaxMessageTimestampVariance` 20 s, retention job every 30 min), nwaku
//! `waku/node/kernel_api/store.nim` (every archive error answered with status 300),
//! the nwaku drivers (`timestamp <= time_end`), nwaku `postgres_driver.nim`
//! (`MaxHashesPerQuery` 100), nwaku `queue_driver.nim` / `retention_policy_capacity.nim`
//! (capacity 25 000), nwaku `cli_args.nim` (retention `time:` 2 days) and
//! `retention_policy_time.nim` (deletes only once the oldest message is 10 % past the
//! retention time), and the RFC (`rfc-index` 13/store.md: exclusive `time_end`, hash and
//! content criteria must not be mixed, `pubsub_topic` and `content_topics` set together).

use sim_core::SimDuration;

use super::rate_limit::RateLimitConfig;
use crate::message::MAX_TIMESTAMP_DRIFT_NS;

/// Store status codes (nwaku `waku_store/common.nim` `StatusCode`).
pub mod status {
    /// Anything else.
    pub const UNKNOWN: u32 = 0;
    /// The query succeeded (`status_desc = "OK"`).
    pub const SUCCESS: u32 = 200;
    /// nwaku: any archive error, including invalid queries.
    pub const BAD_RESPONSE: u32 = 300;
    /// Malformed request (nwaku: decoding failed, e.g. no `request_id`).
    pub const BAD_REQUEST: u32 = 400;
    /// Rate limited; the response carries `request_id = "N/A"`.
    pub const TOO_MANY_REQUESTS: u32 = 429;
    /// The service cannot answer (e.g. no archive mounted).
    pub const SERVICE_UNAVAILABLE: u32 = 503;
    /// Client side only: the store peer could not be dialled.
    pub const PEER_DIAL_FAILURE: u32 = 504;

    /// Whether `code` means success (2xx).
    pub const fn is_success(code: u32) -> bool {
        code >= 200 && code < 300
    }
}

/// nwaku's `status_desc` on success.
pub const STATUS_DESC_OK: &str = "OK";
/// nwaku's `status_desc` when rate limited (`$ErrorCode.TOO_MANY_REQUESTS`).
pub const STATUS_DESC_TOO_MANY_REQUESTS: &str = "TOO_MANY_REQUESTS";
/// The `request_id` of a response to a request that was not parsed (rate limited).
pub const REQUEST_ID_NOT_PARSED: &str = "N/A";

/// Bounds, retention and admission rules of an [`Archive`](super::Archive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveConfig {
    /// Most messages kept. When full, a new message evicts the oldest one, and a message
    /// older than the oldest kept is refused (nwaku in-memory `QueueDriver`, default capacity
    /// 25 000, the same number as nwaku's `CapacityRetentionPolicy` default). Must be ≥ 1.
    pub capacity: usize,
    /// Messages older than this (by their timestamp) are deleted by [`Archive::prune`]
    /// (nwaku CLI default `time:172800`, 2 days; nwaku's library default is 30 days; RFC 64
    /// asks for at least 12 h). `None` keeps messages until capacity evicts them.
    ///
    /// [`Archive::prune`]: super::Archive::prune
    pub retention_time: Option<SimDuration>,
    /// nwaku's time policy deletes in batches: it does nothing until the oldest message is
    /// older than `retention_time × (1 + slack/100)`, then deletes everything older than
    /// `retention_time`. nwaku: 10; 0 deletes on every run.
    pub retention_slack_percent: u32,
    /// Messages whose timestamp differs from the node's clock by more than this are refused
    /// (RFC 13 "MAY", nwaku `MaxMessageTimestampVariance`, 20 s). `None` accepts any timestamp.
    pub max_timestamp_drift: Option<SimDuration>,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            capacity: 25_000,
            retention_time: Some(SimDuration::from_secs(2 * 24 * 3600)),
            retention_slack_percent: 10,
            max_timestamp_drift: Some(SimDuration::from_nanos(MAX_TIMESTAMP_DRIFT_NS as u64)),
        }
    }
}

/// Store v3 service configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Page size when `pagination_limit` is unset or 0 (nwaku and go-waku: 20).
    pub default_page_size: u64,
    /// Larger `pagination_limit`s are clamped to this (nwaku and go-waku: 100).
    pub max_page_size: u64,
    /// Most content topics per query (nwaku and go-waku: 10).
    pub max_content_topics: usize,
    /// nwaku quirk: the content-topic limit is only checked when a cursor is present, so a
    /// first page with 11 topics succeeds. Spec preset: `false` (always checked).
    pub content_topic_limit_only_with_cursor: bool,
    /// Most message hashes per query (nwaku Postgres driver `MaxHashesPerQuery`: 100).
    pub max_message_hashes: usize,
    /// nwaku quirk: `time_end` is inclusive (`timestamp <= time_end` in every nwaku driver).
    /// The RFC says exclusive.
    pub time_end_inclusive: bool,
    /// RFC: a query mixing `message_hashes` with content criteria (`pubsub_topic`,
    /// `content_topics`, `time_start`, `time_end`) is refused. nwaku ANDs them (`false`).
    pub reject_mixed_queries: bool,
    /// RFC: `pubsub_topic` and `content_topics` are set together or not at all; one without
    /// the other is refused. nwaku filters on whichever is given (`false`).
    pub require_topic_pairing: bool,
    /// Status of a query the service refuses (bad cursor, too many topics or hashes, mixed
    /// criteria, unknown cursor): spec preset 400; nwaku 300 (`StoreError.new(300,
    /// "archive error: …")`). A missing `request_id` is always 400 (a decode error in nwaku).
    pub invalid_query_status: u32,
    /// Whether error responses echo the `request_id`. nwaku sends them with an empty
    /// `request_id` (`false`); the RFC says responses carry the request's id.
    pub echo_request_id_on_error: bool,
    /// Request rate limit; `None` (nwaku default `DefaultGlobalNonRelayRateLimit = (0, 0)`).
    pub rate_limit: Option<RateLimitConfig>,
    /// How often the retention policy runs (nwaku `WakuArchiveDefaultRetentionPolicyInterval`,
    /// 30 min); see [`StoreService::poll_timeout`](super::StoreService::poll_timeout).
    pub retention_interval: SimDuration,
    /// The archive behind the service.
    pub archive: ArchiveConfig,
}

impl StoreConfig {
    /// What nwaku does (the `Default`): quirks on, status 300 for refused queries.
    pub fn nwaku() -> Self {
        Self {
            default_page_size: 20,
            max_page_size: 100,
            max_content_topics: 10,
            content_topic_limit_only_with_cursor: true,
            max_message_hashes: 100,
            time_end_inclusive: true,
            reject_mixed_queries: false,
            require_topic_pairing: false,
            invalid_query_status: status::BAD_RESPONSE,
            echo_request_id_on_error: false,
            rate_limit: None,
            retention_interval: SimDuration::from_mins(30),
            archive: ArchiveConfig::default(),
        }
    }

    /// What the RFC says: exclusive `time_end`, limits always checked, mixed or unpaired
    /// criteria refused, refused queries answered 400 with the request's id.
    pub fn spec() -> Self {
        Self {
            content_topic_limit_only_with_cursor: false,
            time_end_inclusive: false,
            reject_mixed_queries: true,
            require_topic_pairing: true,
            invalid_query_status: status::BAD_REQUEST,
            echo_request_id_on_error: true,
            ..Self::nwaku()
        }
    }

    /// The page size used for a request's `pagination_limit`: unset or 0 gives the default,
    /// anything else is clamped to the maximum (nwaku `findMessages`).
    pub fn page_size(&self, pagination_limit: Option<u64>) -> u64 {
        match pagination_limit {
            None | Some(0) => self.default_page_size,
            Some(limit) => limit.min(self.max_page_size),
        }
    }

    /// Checks the values that would make the service misbehave.
    pub fn validate(&self) -> Result<(), StoreConfigError> {
        if self.default_page_size == 0 || self.max_page_size == 0 {
            return Err(StoreConfigError::ZeroPageSize);
        }
        if self.archive.capacity == 0 {
            return Err(StoreConfigError::ZeroCapacity);
        }
        if self.archive.retention_time.is_some() && self.retention_interval.0 == 0 {
            return Err(StoreConfigError::ZeroRetentionInterval);
        }
        Ok(())
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self::nwaku()
    }
}

/// A [`StoreConfig`] that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreConfigError {
    /// `default_page_size` or `max_page_size` is 0.
    #[error("store page sizes must be at least 1")]
    ZeroPageSize,
    /// `archive.capacity` is 0.
    #[error("archive capacity must be at least 1 message")]
    ZeroCapacity,
    /// Retention is on but runs every 0 ns.
    #[error("retention_interval must be positive when retention_time is set")]
    ZeroRetentionInterval,
}
