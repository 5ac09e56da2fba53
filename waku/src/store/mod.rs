//! Store v3 (`/vac/waku/store-query/3.0.0`, RFC 13 WAKU2-STORE): the archive a store node
//! keeps, the query service that answers [`StoreQueryRequest`]s from it, and the client
//! that asks, times out and follows pagination.
//!
//! * [`archive`]: [`Archive`], messages keyed by message hash and ordered by (timestamp,
//!   hash), indexed per pubsub and content topic; admission (ephemeral, ±20 s timestamp
//!   check), idempotent insert, capacity bound, time retention, page computation;
//! * [`service`]: [`StoreService`], request validation, status codes, response building,
//!   optional rate limit, retention timer;
//! * [`client`]: [`StoreClient`], request construction, pending table with timeouts,
//!   response matching, automatic or manual pagination;
//! * [`config`]: [`StoreConfig`] with the presets [`StoreConfig::spec`] and
//!   [`StoreConfig::nwaku`], status codes;
//! * [`rate_limit`]: the token-bucket [`RateLimiter`] shared by the request/response services.
//!
//! Machines are sans-IO: time comes in as `now` (the node's clock; Waku timestamps are
//! `now` in ns), randomness as `&mut SimRng`, and the client's wishes go out as
//! [`StoreClientOutput`]s. Message sizes on the wire are those of the prost types
//! (`crate::codec::frame_len`).
//!
//! [`StoreQueryRequest`]: crate::proto::StoreQueryRequest

pub mod archive;
pub mod client;
pub mod config;
pub mod rate_limit;
pub mod service;

pub use archive::{
    Archive, ArchiveError, ArchivePage, ArchiveQuery, InsertError, InsertOutcome, StoreKey,
    StoredMessage,
};
pub use client::{
    QueryId, StoreClient, StoreClientConfig, StoreClientError, StoreClientOutput, StoreQuery,
    StoreQueryError, generate_request_id, response_hashes,
};
pub use config::{ArchiveConfig, StoreConfig, StoreConfigError, status};
pub use rate_limit::{RateLimitConfig, RateLimiter, TokenRate};
pub use service::{StoreError, StoreService, StoreStats, rate_limited_response};

#[cfg(test)]
mod tests;
