//! The store v3 client: builds [`StoreQueryRequest`]s from a [`StoreQuery`], tracks each
//! request in flight with a deadline, matches responses by `request_id`, follows pagination
//! cursors (optionally by itself, page after page) and reports pages, completion and failures
//! as [`StoreClientOutput`]s.
//!
//! One logical query ([`QueryId`]) may span several requests (one per page), each with a fresh
//! `request_id` (10 random bytes in hex, as nwaku's `generateRequestId`). At most one request
//! of a query is in flight. The table of queries in flight is bounded by
//! [`StoreClientConfig::max_pending`].
//!
//! Responses are matched by `request_id`. nwaku answers errors with an empty `request_id` and
//! rate limiting with `"N/A"`; such a response from a peer is matched to that peer's oldest
//! request in flight (responses on one connection come back in request order, since a store
//! service answers each request at once).

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{NodeId, SimDuration, SimRng, SimTime};

use super::config::{REQUEST_ID_NOT_PARSED, status};
use crate::message::MessageHash;
use crate::proto::{StoreQueryRequest, StoreQueryResponse, WakuMessageKeyValue};

/// Number of random bytes in a generated `request_id` (nwaku `generateRequestId`).
pub const REQUEST_ID_BYTES: usize = 10;

/// A fresh request id: [`REQUEST_ID_BYTES`] bytes from `rng`, lowercase hex (20 characters).
pub fn generate_request_id(rng: &mut SimRng) -> String {
    let mut bytes = [0u8; REQUEST_ID_BYTES];
    rng.fill_bytes(&mut bytes);
    let mut id = String::with_capacity(2 * REQUEST_ID_BYTES);
    for b in bytes {
        id.push(char::from_digit(u32::from(b >> 4), 16).expect("nibble"));
        id.push(char::from_digit(u32::from(b & 0xf), 16).expect("nibble"));
    }
    id
}

/// The hashes of the entries of a response (for a presence query: the ones present).
pub fn response_hashes(messages: &[WakuMessageKeyValue]) -> BTreeSet<MessageHash> {
    messages
        .iter()
        .filter_map(|kv| kv.message_hash.as_deref().and_then(MessageHash::from_slice))
        .collect()
}

/// What to ask a store node: the query criteria, direction, page size, and how many pages
/// the client fetches by itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreQuery {
    /// Return messages (`true`) or hashes only.
    pub include_data: bool,
    /// Content filter: pubsub topic.
    pub pubsub_topic: Option<String>,
    /// Content filter: content topics.
    pub content_topics: Vec<String>,
    /// Only messages at or after this timestamp (ns).
    pub time_start: Option<i64>,
    /// Only messages before this timestamp (ns; nwaku: at or before).
    pub time_end: Option<i64>,
    /// Hash lookup (with `include_data = false`: a presence query).
    pub message_hashes: Vec<MessageHash>,
    /// Start after (forward) or before (backward) this message.
    pub cursor: Option<MessageHash>,
    /// Ascending (`true`) or descending (`false`, the wire default) traversal.
    pub forward: bool,
    /// Requested page size (`None`: the service default).
    pub page_size: Option<u64>,
    /// Pages the client requests by itself, following cursors (1 = only the first page;
    /// 0 is treated as 1; `u32::MAX` = all).
    pub max_pages: u32,
}

impl StoreQuery {
    /// A content-filtered query for `content_topics` on `pubsub_topic`, with data.
    pub fn content(pubsub_topic: impl Into<String>, content_topics: Vec<String>) -> Self {
        Self {
            include_data: true,
            pubsub_topic: Some(pubsub_topic.into()),
            content_topics,
            max_pages: 1,
            ..Self::default()
        }
    }

    /// A presence query: which of `hashes` does the store hold (hashes only, no data).
    pub fn presence(hashes: Vec<MessageHash>) -> Self {
        Self {
            message_hashes: hashes,
            max_pages: 1,
            ..Self::default()
        }
    }

    /// A hash lookup returning the messages.
    pub fn lookup(hashes: Vec<MessageHash>) -> Self {
        Self {
            include_data: true,
            ..Self::presence(hashes)
        }
    }

    /// Restricts to `[start, end)` (nwaku: `[start, end]`); `None` leaves a side open.
    #[must_use]
    pub fn time_range(mut self, start: Option<i64>, end: Option<i64>) -> Self {
        self.time_start = start;
        self.time_end = end;
        self
    }

    /// Sets the direction.
    #[must_use]
    pub fn forward(mut self, forward: bool) -> Self {
        self.forward = forward;
        self
    }

    /// Sets the requested page size.
    #[must_use]
    pub fn page_size(mut self, page_size: u64) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// Whether to return messages or hashes only.
    #[must_use]
    pub fn include_data(mut self, include_data: bool) -> Self {
        self.include_data = include_data;
        self
    }

    /// Follow cursors for up to `max_pages` pages in total.
    #[must_use]
    pub fn follow_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = max_pages;
        self
    }

    /// The same query continuing from `cursor` (the pagination helper).
    #[must_use]
    pub fn with_cursor(mut self, cursor: MessageHash) -> Self {
        self.cursor = Some(cursor);
        self
    }

    /// The wire request for this query with `request_id`.
    pub fn to_request(&self, request_id: String) -> StoreQueryRequest {
        StoreQueryRequest {
            request_id,
            include_data: self.include_data,
            pubsub_topic: self.pubsub_topic.clone(),
            content_topics: self.content_topics.clone(),
            time_start: self.time_start,
            time_end: self.time_end,
            message_hashes: self.message_hashes.iter().map(|h| h.to_bytes()).collect(),
            pagination_cursor: self.cursor.map(|c| c.to_bytes()),
            pagination_forward: self.forward,
            pagination_limit: self.page_size,
        }
    }
}

/// One logical query of a [`StoreClient`], possibly several pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryId(pub u64);

/// Store client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreClientConfig {
    /// How long one request may go unanswered. nwaku and go-waku set no store timeout of
    /// their own beyond the 10 s dial timeout; 30 s is this simulator's default, long enough
    /// for a full page of large messages on a slow link.
    pub request_timeout: SimDuration,
    /// Most queries in flight (default 1 024).
    pub max_pending: usize,
}

impl Default for StoreClientConfig {
    fn default() -> Self {
        Self {
            request_timeout: SimDuration::from_secs(30),
            max_pending: 1024,
        }
    }
}

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreQueryError {
    /// The service answered with a non-2xx status.
    #[error("store service answered {code}: {desc}")]
    Status {
        /// The status code.
        code: u32,
        /// The status description ("" if absent).
        desc: String,
    },
    /// The response has no status code (nwaku and go-waku clients treat this as an error).
    #[error("store response without status code")]
    MissingStatus,
    /// The response cursor is not a 32-byte hash.
    #[error("store response cursor of {len} bytes")]
    BadCursor {
        /// Its length.
        len: usize,
    },
    /// No response within the request timeout.
    #[error("store request timed out")]
    Timeout,
    /// The connection to the store peer closed with the request in flight.
    #[error("connection to the store peer closed")]
    Disconnected,
}

/// Why the client refused to start a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreClientError {
    /// `max_pending` queries are already in flight.
    #[error("{max} store queries already in flight")]
    TooManyPending {
        /// The bound.
        max: usize,
    },
}

/// What the store client wants done or reports.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreClientOutput {
    /// Send `request` to `peer` (one new store stream).
    Send {
        /// The store node.
        peer: NodeId,
        /// The request.
        request: StoreQueryRequest,
    },
    /// A page of results arrived.
    Page {
        /// The query.
        query: QueryId,
        /// The store node.
        peer: NodeId,
        /// 0 for the first page of this query.
        page: u32,
        /// The entries, in forward order.
        messages: Vec<WakuMessageKeyValue>,
        /// The cursor to the next page, if more results remain.
        cursor: Option<MessageHash>,
    },
    /// The query is over: no more pages, or `max_pages` reached (then `cursor` is set and
    /// [`StoreQuery::with_cursor`] continues it).
    Finished {
        /// The query.
        query: QueryId,
        /// The store node.
        peer: NodeId,
        /// Pages received.
        pages: u32,
        /// Where to continue, if results remain.
        cursor: Option<MessageHash>,
    },
    /// The query failed; pages received before are still valid.
    Failed {
        /// The query.
        query: QueryId,
        /// The store node.
        peer: NodeId,
        /// Pages received before the failure.
        pages: u32,
        /// Why.
        error: StoreQueryError,
    },
    /// A response that matches no request in flight (late after a timeout, or unknown).
    Unmatched {
        /// The sender.
        peer: NodeId,
        /// Its `request_id`.
        request_id: String,
    },
}

/// A query in flight.
#[derive(Debug, Clone)]
struct Pending {
    peer: NodeId,
    query: StoreQuery,
    request_id: String,
    deadline: SimTime,
    /// Order of sending, for matching id-less responses to the oldest request.
    sent_seq: u64,
    pages: u32,
}

/// The store client machine (see the module doc).
#[derive(Debug, Clone)]
pub struct StoreClient {
    config: StoreClientConfig,
    next_query: u64,
    next_seq: u64,
    pending: BTreeMap<QueryId, Pending>,
    by_request_id: BTreeMap<String, QueryId>,
    deadlines: BTreeSet<(SimTime, QueryId)>,
}

impl StoreClient {
    /// A client with nothing in flight.
    pub fn new(config: StoreClientConfig) -> Self {
        Self {
            config,
            next_query: 0,
            next_seq: 0,
            pending: BTreeMap::new(),
            by_request_id: BTreeMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &StoreClientConfig {
        &self.config
    }

    /// Number of queries in flight.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Starts `query` against `peer` at `now`: appends the first [`StoreClientOutput::Send`].
    pub fn query(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        peer: NodeId,
        query: StoreQuery,
        out: &mut Vec<StoreClientOutput>,
    ) -> Result<QueryId, StoreClientError> {
        if self.pending.len() >= self.config.max_pending {
            return Err(StoreClientError::TooManyPending {
                max: self.config.max_pending,
            });
        }
        let id = QueryId(self.next_query);
        self.next_query += 1;
        let pending = Pending {
            peer,
            query,
            request_id: String::new(),
            deadline: now,
            sent_seq: 0,
            pages: 0,
        };
        self.send_page(now, rng, id, pending, out);
        Ok(id)
    }

    /// The next page of a query whose response carried `cursor` (the manual pagination
    /// helper; the same as `query(.., previous.with_cursor(cursor), ..)`).
    pub fn next_page(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        peer: NodeId,
        previous: &StoreQuery,
        cursor: MessageHash,
        out: &mut Vec<StoreClientOutput>,
    ) -> Result<QueryId, StoreClientError> {
        self.query(now, rng, peer, previous.clone().with_cursor(cursor), out)
    }

    /// Abandons a query; a later response to it is reported as unmatched.
    pub fn cancel(&mut self, query: QueryId) -> bool {
        self.take(query).is_some()
    }

    /// The earliest request deadline.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.deadlines.first().map(|&(deadline, _)| deadline)
    }

    /// Fails every request whose deadline is at or before `now` with
    /// [`StoreQueryError::Timeout`].
    pub fn handle_timeout(&mut self, now: SimTime, out: &mut Vec<StoreClientOutput>) {
        while let Some(&(deadline, id)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.fail(id, StoreQueryError::Timeout, out);
        }
    }

    /// Fails every request in flight to `peer` (its connection closed).
    pub fn peer_disconnected(&mut self, peer: NodeId, out: &mut Vec<StoreClientOutput>) {
        let ids: Vec<QueryId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.peer == peer)
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.fail(id, StoreQueryError::Disconnected, out);
        }
    }

    /// Handles a response from `from` at `now`: reports the page, then either sends the next
    /// page request, or reports the query finished or failed.
    pub fn handle_response(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        from: NodeId,
        response: StoreQueryResponse,
        out: &mut Vec<StoreClientOutput>,
    ) {
        let Some(id) = self.match_response(from, &response.request_id) else {
            out.push(StoreClientOutput::Unmatched {
                peer: from,
                request_id: response.request_id,
            });
            return;
        };
        let Some(code) = response.status_code else {
            self.fail(id, StoreQueryError::MissingStatus, out);
            return;
        };
        if !status::is_success(code) {
            let desc = response.status_desc.unwrap_or_default();
            self.fail(id, StoreQueryError::Status { code, desc }, out);
            return;
        }
        let cursor = match response.pagination_cursor.as_deref() {
            None => None,
            Some(bytes) => match MessageHash::from_slice(bytes) {
                Some(hash) => Some(hash),
                None => {
                    let len = bytes.len();
                    self.fail(id, StoreQueryError::BadCursor { len }, out);
                    return;
                }
            },
        };
        let mut pending = self.take(id).expect("matched queries are pending");
        out.push(StoreClientOutput::Page {
            query: id,
            peer: pending.peer,
            page: pending.pages,
            messages: response.messages,
            cursor,
        });
        pending.pages += 1;
        match cursor {
            Some(next) if pending.pages < pending.query.max_pages.max(1) => {
                pending.query.cursor = Some(next);
                self.send_page(now, rng, id, pending, out);
            }
            _ => out.push(StoreClientOutput::Finished {
                query: id,
                peer: pending.peer,
                pages: pending.pages,
                cursor,
            }),
        }
    }

    /// Registers `pending` as `id` with a fresh request id and deadline, and asks to send it.
    fn send_page(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        id: QueryId,
        mut pending: Pending,
        out: &mut Vec<StoreClientOutput>,
    ) {
        let mut request_id = generate_request_id(rng);
        while self.by_request_id.contains_key(&request_id) {
            request_id = generate_request_id(rng);
        }
        pending.request_id = request_id.clone();
        pending.deadline = now + self.config.request_timeout;
        pending.sent_seq = self.next_seq;
        self.next_seq += 1;
        out.push(StoreClientOutput::Send {
            peer: pending.peer,
            request: pending.query.to_request(request_id.clone()),
        });
        self.by_request_id.insert(request_id, id);
        self.deadlines.insert((pending.deadline, id));
        self.pending.insert(id, pending);
    }

    /// The query a response belongs to: by `request_id`, or for an empty / `"N/A"` id the
    /// oldest request in flight to `from`.
    fn match_response(&self, from: NodeId, request_id: &str) -> Option<QueryId> {
        if let Some(&id) = self.by_request_id.get(request_id) {
            return (self.pending[&id].peer == from).then_some(id);
        }
        if request_id.is_empty() || request_id == REQUEST_ID_NOT_PARSED {
            return self
                .pending
                .iter()
                .filter(|(_, p)| p.peer == from)
                .min_by_key(|(_, p)| p.sent_seq)
                .map(|(&id, _)| id);
        }
        None
    }

    fn take(&mut self, id: QueryId) -> Option<Pending> {
        let pending = self.pending.remove(&id)?;
        self.by_request_id.remove(&pending.request_id);
        self.deadlines.remove(&(pending.deadline, id));
        Some(pending)
    }

    fn fail(&mut self, id: QueryId, error: StoreQueryError, out: &mut Vec<StoreClientOutput>) {
        if let Some(pending) = self.take(id) {
            out.push(StoreClientOutput::Failed {
                query: id,
                peer: pending.peer,
                pages: pending.pages,
                error,
            });
        }
    }
}
