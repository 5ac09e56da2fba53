//! The store v3 service (`/vac/waku/store-query/3.0.0`): validates a [`StoreQueryRequest`],
//! runs it against the node's [`Archive`], and builds the [`StoreQueryResponse`] with the
//! status codes, descriptions and `request_id` handling of the configured preset; also feeds
//! relayed messages into the archive and runs the retention policy on its timer.
//!
//! The service is stateless per request, as in nwaku: one request in, one response out. Its
//! only other state is the optional rate limiter (bounded peer table) and the next retention
//! run ([`StoreService::poll_timeout`]).

use std::collections::BTreeSet;

use sim_core::{NodeId, SimTime};

use super::archive::{Archive, ArchiveError, ArchiveQuery, InsertError, InsertOutcome};
use super::config::{
    REQUEST_ID_NOT_PARSED, STATUS_DESC_OK, STATUS_DESC_TOO_MANY_REQUESTS, StoreConfig,
    StoreConfigError, status,
};
use super::rate_limit::RateLimiter;
use crate::message::MessageHash;
use crate::proto::{StoreQueryRequest, StoreQueryResponse, WakuMessageKeyValue};

/// Why the service refused a query. [`StoreError::status_code`] gives the code a preset
/// answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// `request_id` is empty (nwaku: a decode error, 400).
    #[error("decoding rpc failed: missing request_id")]
    MissingRequestId,
    /// A message hash that is not 32 bytes long.
    #[error("invalid message hash length: {len}")]
    BadHashLength {
        /// The length found.
        len: usize,
    },
    /// More hashes than allowed.
    #[error("too many message hashes: {count} > {max}")]
    TooManyHashes {
        /// Hashes in the request.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A cursor that is not 32 bytes long.
    #[error("invalid cursor hash length: {len}")]
    BadCursorLength {
        /// The length found.
        len: usize,
    },
    /// The all-zero cursor (nwaku's "empty cursor").
    #[error("all zeroes cursor hash")]
    ZeroCursor,
    /// More content topics than allowed.
    #[error("too many content topics: {count} > {max}")]
    TooManyContentTopics {
        /// Topics in the request.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Message hashes together with content criteria (spec preset only).
    #[error("message_hashes cannot be combined with pubsub_topic, content_topics or a time range")]
    MixedQuery,
    /// `pubsub_topic` without `content_topics` or the reverse (spec preset only).
    #[error("pubsub_topic and content_topics must be set together")]
    UnpairedContentFilter,
    /// The archive could not run the query (unknown cursor).
    #[error("{0}")]
    Archive(#[from] ArchiveError),
}

impl StoreError {
    /// The status code `config` answers this error with.
    pub fn status_code(&self, config: &StoreConfig) -> u32 {
        match self {
            Self::MissingRequestId => status::BAD_REQUEST,
            _ => config.invalid_query_status,
        }
    }

    /// The `status_desc` nwaku would write (`BAD_REQUEST: …` or `BAD_RESPONSE: archive
    /// error: INVALID_QUERY: …`); the spec preset uses the plain description.
    pub fn status_desc(&self, config: &StoreConfig) -> String {
        match (self, self.status_code(config)) {
            (Self::MissingRequestId, _) => format!("BAD_REQUEST: {self}"),
            (Self::Archive(_), status::BAD_RESPONSE) => {
                format!("BAD_RESPONSE: archive error: DRIVER_ERROR: {self}")
            }
            (_, status::BAD_RESPONSE) => {
                format!("BAD_RESPONSE: archive error: INVALID_QUERY: {self}")
            }
            _ => self.to_string(),
        }
    }
}

/// What a store service has done so far (for reports; never read by the protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Queries answered with 200.
    pub queries_ok: u64,
    /// Queries answered with an error status (rate limiting excluded).
    pub queries_failed: u64,
    /// Queries refused by the rate limiter.
    pub rate_limited: u64,
    /// Entries returned over all pages.
    pub entries_returned: u64,
    /// Messages stored.
    pub stored: u64,
    /// Messages offered again after being stored.
    pub duplicates: u64,
    /// Messages refused by admission (ephemeral, timestamp, full archive).
    pub refused: u64,
    /// Messages evicted to stay within capacity.
    pub evicted: u64,
    /// Messages deleted by retention.
    pub pruned: u64,
}

/// A store node's query service and archive (see the module doc).
#[derive(Debug, Clone)]
pub struct StoreService {
    config: StoreConfig,
    archive: Archive,
    limiter: Option<RateLimiter>,
    next_retention: Option<SimTime>,
    stats: StoreStats,
}

impl StoreService {
    /// A service with an empty archive, started at `now` (the first retention run is due
    /// at once, as nwaku runs the policy on start).
    pub fn new(config: StoreConfig, now: SimTime) -> Result<Self, StoreConfigError> {
        let archive = Archive::new(config.archive.clone())?;
        Self::with_archive(config, archive, now)
    }

    /// A service over an existing archive (a restarted node keeps its archive). The
    /// archive's own configuration is kept.
    pub fn with_archive(
        config: StoreConfig,
        archive: Archive,
        now: SimTime,
    ) -> Result<Self, StoreConfigError> {
        config.validate()?;
        let limiter = config
            .rate_limit
            .clone()
            .map(|rate_limit| RateLimiter::new(rate_limit, now));
        let next_retention = archive.config().retention_time.map(|_| now);
        Ok(Self {
            config,
            archive,
            limiter,
            next_retention,
            stats: StoreStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The archive.
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// The archive, mutably (for seeding a scenario).
    pub fn archive_mut(&mut self) -> &mut Archive {
        &mut self.archive
    }

    /// The archive, keeping it past this service (crash and restart).
    pub fn into_archive(self) -> Archive {
        self.archive
    }

    /// Counters.
    pub fn stats(&self) -> StoreStats {
        self.stats
    }

    /// Archives a message received over relay on `pubsub_topic` at local time `now`.
    pub fn handle_message(
        &mut self,
        now: SimTime,
        pubsub_topic: &str,
        msg: &crate::proto::WakuMessage,
    ) -> Result<InsertOutcome, InsertError> {
        let outcome = self.archive.insert(now, pubsub_topic, msg);
        match outcome {
            Ok(InsertOutcome::Stored { evicted }) => {
                self.stats.stored += 1;
                self.stats.evicted += u64::from(evicted.is_some());
            }
            Ok(InsertOutcome::Duplicate) => self.stats.duplicates += 1,
            Err(_) => self.stats.refused += 1,
        }
        outcome
    }

    /// When the retention policy must run next (`None` without time retention).
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.next_retention
    }

    /// Runs the retention policy if due at `now` and schedules the next run one
    /// `retention_interval` later. Returns the number of messages deleted.
    pub fn handle_timeout(&mut self, now: SimTime) -> usize {
        match self.next_retention {
            Some(due) if due <= now => {
                let pruned = self.archive.prune(now);
                self.stats.pruned += pruned as u64;
                self.next_retention = Some(now + self.config.retention_interval);
                pruned
            }
            _ => 0,
        }
    }

    /// Answers a query from `from` at local time `now`: rate limit, then
    /// [`StoreService::query`], then the preset's error-response shape.
    pub fn handle_query(
        &mut self,
        now: SimTime,
        from: NodeId,
        request: &StoreQueryRequest,
    ) -> StoreQueryResponse {
        if let Some(limiter) = self.limiter.as_mut()
            && !limiter.check(now, from)
        {
            self.stats.rate_limited += 1;
            return rate_limited_response();
        }
        match self.query(request) {
            Ok(response) => {
                self.stats.queries_ok += 1;
                self.stats.entries_returned += response.messages.len() as u64;
                response
            }
            Err(error) => {
                self.stats.queries_failed += 1;
                self.error_response(
                    &request.request_id,
                    error.status_code(&self.config),
                    error.status_desc(&self.config),
                )
            }
        }
    }

    /// Runs a query without rate limiting; the `Ok` response has status 200.
    pub fn query(&self, request: &StoreQueryRequest) -> Result<StoreQueryResponse, StoreError> {
        let hashes = self.validate(request)?;
        let cursor = request
            .pagination_cursor
            .as_ref()
            .map(|c| MessageHash::from_slice(c).expect("validated: 32 bytes"));
        let page_size =
            usize::try_from(self.config.page_size(request.pagination_limit)).unwrap_or(usize::MAX);
        let page = self.archive.query(&ArchiveQuery {
            pubsub_topic: request.pubsub_topic.as_deref(),
            content_topics: &request.content_topics,
            time_start: request.time_start,
            time_end: request.time_end,
            time_end_inclusive: self.config.time_end_inclusive,
            hashes: &hashes,
            cursor,
            forward: request.pagination_forward,
            page_size,
        })?;
        let messages = page
            .keys
            .iter()
            .map(|key| {
                let mut kv = WakuMessageKeyValue {
                    message_hash: Some(key.hash.to_bytes()),
                    message: None,
                    pubsub_topic: None,
                };
                if request.include_data {
                    let stored = self
                        .archive
                        .get_by_key(key)
                        .expect("a page only holds stored keys");
                    kv.message = Some(stored.message.clone());
                    kv.pubsub_topic = Some(stored.pubsub_topic.clone());
                }
                kv
            })
            .collect();
        Ok(StoreQueryResponse {
            request_id: request.request_id.clone(),
            status_code: Some(status::SUCCESS),
            status_desc: Some(STATUS_DESC_OK.to_string()),
            messages,
            pagination_cursor: page.cursor.map(|c| c.to_bytes()),
        })
    }

    /// An error response as this preset writes it (nwaku leaves `request_id` empty).
    pub fn error_response(&self, request_id: &str, code: u32, desc: String) -> StoreQueryResponse {
        StoreQueryResponse {
            request_id: if self.config.echo_request_id_on_error {
                request_id.to_string()
            } else {
                String::new()
            },
            status_code: Some(code),
            status_desc: Some(desc),
            messages: Vec::new(),
            pagination_cursor: None,
        }
    }

    /// Checks the request against the preset's rules; returns the hash set.
    fn validate(&self, request: &StoreQueryRequest) -> Result<BTreeSet<MessageHash>, StoreError> {
        let cfg = &self.config;
        if request.request_id.is_empty() {
            return Err(StoreError::MissingRequestId);
        }
        if request.message_hashes.len() > cfg.max_message_hashes {
            return Err(StoreError::TooManyHashes {
                count: request.message_hashes.len(),
                max: cfg.max_message_hashes,
            });
        }
        let mut hashes = BTreeSet::new();
        for bytes in &request.message_hashes {
            let hash = MessageHash::from_slice(bytes)
                .ok_or(StoreError::BadHashLength { len: bytes.len() })?;
            hashes.insert(hash);
        }
        if let Some(cursor) = &request.pagination_cursor {
            let hash = MessageHash::from_slice(cursor)
                .ok_or(StoreError::BadCursorLength { len: cursor.len() })?;
            if hash.is_zero() {
                return Err(StoreError::ZeroCursor);
            }
        }
        let topic_limit_applies =
            !cfg.content_topic_limit_only_with_cursor || request.pagination_cursor.is_some();
        if topic_limit_applies && request.content_topics.len() > cfg.max_content_topics {
            return Err(StoreError::TooManyContentTopics {
                count: request.content_topics.len(),
                max: cfg.max_content_topics,
            });
        }
        let has_content_criteria = request.pubsub_topic.is_some()
            || !request.content_topics.is_empty()
            || request.time_start.is_some()
            || request.time_end.is_some();
        if cfg.reject_mixed_queries && !hashes.is_empty() && has_content_criteria {
            return Err(StoreError::MixedQuery);
        }
        if cfg.require_topic_pairing
            && request.pubsub_topic.is_some() == request.content_topics.is_empty()
        {
            return Err(StoreError::UnpairedContentFilter);
        }
        Ok(hashes)
    }
}

/// The fixed response to a rate-limited request (not parsed, hence `request_id = "N/A"`).
pub fn rate_limited_response() -> StoreQueryResponse {
    StoreQueryResponse {
        request_id: REQUEST_ID_NOT_PARSED.to_string(),
        status_code: Some(status::TOO_MANY_REQUESTS),
        status_desc: Some(STATUS_DESC_TOO_MANY_REQUESTS.to_string()),
        messages: Vec::new(),
        pagination_cursor: None,
    }
}
