//! The parameters of store-based reliability ([`StoreCheckConfig`]) and the presets of the
//! implementations: [`StoreCheckConfig::go_waku`] (= `Default`), [`StoreCheckConfig::nwaku`],
//! [`StoreCheckConfig::logos_delivery`] (`reference/reliability.md` §1.3–§1.5, §1.7).

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

/// How a message missing from the store is published again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RepublishAs {
    /// The identical message (same hash; nwaku, logos-delivery). Relay refuses it as a
    /// duplicate within its seen TTL, and the store refuses it once its timestamp is more
    /// than 20 s old — as in the implementations.
    SameMessage,
    /// A new envelope: new timestamp, new hash, tracked under the new hash (status-go
    /// `EnvelopesMonitor` re-post).
    NewMessage,
}

/// When the receiver side looks for missing messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Retrieval {
    /// Never.
    Off,
    /// Every `period` (go-waku 1 min, nwaku 5 min).
    Periodic {
        /// Time between checks.
        period: SimDuration,
    },
    /// Only after an offline period, from its start (logos-delivery `RecvService`).
    OnReconnect,
}

/// How store nodes are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StoreSelection {
    /// Keep one node until it is benched (go-waku `StorenodeCycle`).
    Sticky,
    /// A random node for every query (nwaku, logos-delivery: "any store peer").
    PerQuery,
}

/// Every parameter of store-based reliability; see the presets for sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreCheckConfig {
    /// Sender: time between presence checks.
    pub check_interval: SimDuration,
    /// Sender: minimum time since the last publish before a message is checked.
    pub min_age: SimDuration,
    /// Sender: hashes per presence query (≤ 100, the store's limit). Batches mix pubsub
    /// topics (go-waku batches per pubsub topic; a hash lookup does not need the topic).
    pub max_hashes_per_query: usize,
    /// Sender: a message not found is re-published (or given up) only if its last publish is
    /// at least this old; younger ones are checked again next tick.
    pub republish_after: SimDuration,
    /// Sender: publishes per message, the first included (1 = never re-publish).
    pub max_attempts: u32,
    /// Sender: give up on a message this long after its first publish, found or not yet.
    pub give_up_after: Option<SimDuration>,
    /// Sender: what a re-publish sends.
    pub republish_as: RepublishAs,
    /// Sender: a message that was propagated (relay accepted it) but never found in the store
    /// is dropped silently at give-up, without a *Failed* verdict (logos-delivery).
    pub silent_give_up: bool,
    /// Sender: most messages tracked.
    pub max_outgoing: usize,
    /// Receiver: when to look for missing messages.
    pub retrieval: Retrieval,
    /// Receiver: the window starts this long before the last successful check (or the start
    /// of the offline period).
    pub start_margin: SimDuration,
    /// Receiver: the window ends this long before now ...
    pub end_lag: SimDuration,
    /// Receiver: ... plus this long after now.
    pub end_lead: SimDuration,
    /// Receiver: the longest window (older messages are not looked for).
    pub max_window: Option<SimDuration>,
    /// Receiver: at start, `last_checked = start − initial_lookback`.
    pub initial_lookback: SimDuration,
    /// Receiver: content topics per query (the store allows 10).
    pub max_content_topics_per_query: usize,
    /// Receiver: page size of the hash listing.
    pub page_size: u64,
    /// Receiver: hashes per fetch (hash lookup with data).
    pub fetch_batch: usize,
    /// Receiver: retries of a failed window or fetch query before waiting for the next period.
    pub query_retries: u32,
    /// Receiver: delay before such a retry.
    pub retry_delay: SimDuration,
    /// Receiver: received hashes are remembered this long ...
    pub received_retention: SimDuration,
    /// Receiver: ... and at most this many.
    pub max_received: usize,
    /// Receiver: most hashes waiting to be fetched.
    pub max_fetch_queue: usize,
    /// Store nodes: selection policy.
    pub selection: StoreSelection,
    /// Store nodes: consecutive failures that bench a node (0 = never).
    pub failures_to_bench: u32,
    /// Store nodes: how long a benched node is avoided.
    pub bench_for: SimDuration,
    /// Most store queries in flight (sender and receiver together).
    pub max_queries_in_flight: usize,
}

impl Default for StoreCheckConfig {
    fn default() -> Self {
        Self::go_waku()
    }
}

impl StoreCheckConfig {
    /// go-waku / status-go (§1.3): `MessageSentCheck` (3 s tick, 3 s minimum age, 10 s expiry,
    /// ≤ 50 hashes), `EnvelopesMonitor` (3 attempts, re-post = new envelope),
    /// `MissingMessageVerifier` (1 min, window `[last − 20 s, now − 20 s]`, ≤ 10 content
    /// topics, page 100, fetch 50, 3 retries 2 s apart), `StorenodeCycle` (sticky node, 2
    /// failures ⇒ benched 3 min). The received-hash cache stands for status-go's message
    /// database (kept 2 days here).
    pub fn go_waku() -> Self {
        Self {
            check_interval: SimDuration::from_secs(3),
            min_age: SimDuration::from_secs(3),
            max_hashes_per_query: 50,
            republish_after: SimDuration::from_secs(10),
            max_attempts: 3,
            give_up_after: None,
            republish_as: RepublishAs::NewMessage,
            silent_give_up: false,
            max_outgoing: 10_000,
            retrieval: Retrieval::Periodic {
                period: SimDuration::from_mins(1),
            },
            start_margin: SimDuration::from_secs(20),
            end_lag: SimDuration::from_secs(20),
            end_lead: SimDuration::ZERO,
            max_window: None,
            initial_lookback: SimDuration::from_secs(20),
            max_content_topics_per_query: 10,
            page_size: 100,
            fetch_batch: 50,
            query_retries: 3,
            retry_delay: SimDuration::from_secs(2),
            received_retention: SimDuration::from_secs(2 * 24 * 3600),
            max_received: 100_000,
            max_fetch_queue: 10_000,
            selection: StoreSelection::Sticky,
            failures_to_bench: 2,
            bench_for: SimDuration::from_mins(3),
            max_queries_in_flight: 8,
        }
    }

    /// nwaku `DeliveryMonitor` (§1.4): `SendMonitor` (3 s loop, 3 s age, re-publish the same
    /// message on every miss, failure after 1 min, all tracked hashes in one query — capped
    /// at the store's 100), `RecvMonitor` (5 min, window `[last − 5 s, now + 5 s]`, fetch all
    /// — 100 per lookup, received hashes kept 7 min), any store peer per query.
    pub fn nwaku() -> Self {
        Self {
            max_hashes_per_query: 100,
            republish_after: SimDuration::ZERO,
            max_attempts: u32::MAX,
            give_up_after: Some(SimDuration::from_mins(1)),
            republish_as: RepublishAs::SameMessage,
            retrieval: Retrieval::Periodic {
                period: SimDuration::from_mins(5),
            },
            start_margin: SimDuration::from_secs(5),
            end_lag: SimDuration::ZERO,
            end_lead: SimDuration::from_secs(5),
            initial_lookback: SimDuration::ZERO,
            fetch_batch: 100,
            query_retries: 0,
            received_retention: SimDuration::from_mins(7),
            selection: StoreSelection::PerQuery,
            failures_to_bench: 0,
            ..Self::go_waku()
        }
    }

    /// logos-delivery (§1.5): `SendService` (store validation every 3 s for messages
    /// propagated > 3 s ago, not found ⇒ re-publish the same message, 1 min ⇒ dropped:
    /// silently if it was propagated, with an error if it never was), `RecvService` (no
    /// polling; on every offline→online transition one check over `[offline start − 5 s,
    /// now + 5 s]`, dedup list 7 min), any store peer. The 1 s service loop re-publishes at the
    /// next loop turn after a miss; here the re-publish follows the miss at once.
    pub fn logos_delivery() -> Self {
        Self {
            retrieval: Retrieval::OnReconnect,
            silent_give_up: true,
            ..Self::nwaku()
        }
    }

    /// The named preset (`go-waku`, `nwaku`, `logos-delivery`).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "go-waku" => Some(Self::go_waku()),
            "nwaku" => Some(Self::nwaku()),
            "logos-delivery" => Some(Self::logos_delivery()),
            _ => None,
        }
    }
}
