//! Light-client reliability (js-waku SDK, go-waku / status-go light mode, logos-delivery edge
//! node; `reference/reliability.md` §1.3, §1.5, §1.6, §1.7) as a sans-IO machine: the caller
//! passes `now` and inputs and drains [`LightClientOutput`]s — lightpush requests, filter
//! (re)subscriptions, store queries, verdicts. It holds no `WakuApi`; [`crate::layer`] is
//! the glue.
//!
//! **Sending.** Each message is pushed to the first [`LightClientConfig::lightpush_peers`]
//! service nodes of the preference list, in parallel. It is *sent* as soon as one of them
//! answers OK (go-waku: "success if ≥ 1 peer answered OK"). When every push of an attempt
//! failed, the message is retried after [`LightClientConfig::retry_interval`] until
//! [`LightClientConfig::max_attempts`] attempts were made, then it has *failed*. A service
//! node whose push failed is moved to the back of the preference list (replacement: the next
//! attempt uses other nodes; js-waku renews the peer on `NO_RESPONSE`, `REMOTE_PEER_REJECTED`).
//!
//! **Receiving.** Filter subscriptions are kept on [`LightClientConfig::filter_peers`] service
//! nodes. The waku `FilterClient` pings each one every `filter_ping_interval` and reports the
//! subscription lost after `filter_ping_failures` failures in a row (those three parameters
//! are applied to the node's filter client by whoever builds the node, see
//! [`LightClientConfig::apply_to_filter_client`]); the machine then evicts that node, moves it
//! to the back of the list and subscribes on the next node not in use. A SUBSCRIBE answered
//! with an error or not at all evicts the node too.
//!
//! **Gap recovery.** On an offline→online transition (`went_offline` then `came_online`, or a
//! detected sleep) the machine asks for one store query (content topics, with data) over
//! `[offline_since − query_margin, now + query_margin]` (logos-delivery `RecvService`; js-waku
//! `QueryOnConnect` queries since the last successful query), the start bounded by
//! [`LightClientConfig::max_lookback`]. After a lost subscription it queries
//! `[now − lost_lookback, now + query_margin]`, where `lost_lookback` covers the time the
//! filter client needs to notice. A failed query is retried after `retry_interval` on the next
//! store node, up to `max_attempts` times. Windows asked for while a query is in flight are
//! merged into the next one.
//!
//! Bounds: pending sends ≤ [`LightClientConfig::max_pending`] (the oldest is failed); one
//! query window pending plus one in flight.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{NodeId, SimDuration, SimTime};
use waku::filter::FilterClientConfig;

/// Every parameter of light-client reliability.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightClientConfig {
    /// Lightpush service nodes each message is pushed to in parallel (redundancy).
    pub lightpush_peers: usize,
    /// Attempts per message (the first push included).
    pub max_attempts: u32,
    /// Delay before retrying a message whose pushes all failed (also store-query retries).
    pub retry_interval: SimDuration,
    /// Filter service nodes subscribed to at once.
    pub filter_peers: usize,
    /// Filter keep-alive ping interval (applied to the node's filter client).
    pub filter_ping_interval: SimDuration,
    /// Filter ping timeout (applied to the node's filter client).
    pub filter_ping_timeout: SimDuration,
    /// Consecutive failed pings before a filter node is evicted (applied to the node's
    /// filter client).
    pub filter_ping_failures: u32,
    /// Query the store after an offline period (sleep, network loss).
    pub query_on_reconnect: bool,
    /// Query the store after a lost filter subscription.
    pub query_on_subscription_lost: bool,
    /// Widening of a gap window on both ends.
    pub query_margin: SimDuration,
    /// Longest window asked for (its start is clamped to `now − max_lookback`).
    pub max_lookback: SimDuration,
    /// Store pages fetched per query (100 messages per page at most).
    pub max_pages: u32,
    /// Messages awaiting a verdict at most.
    pub max_pending: usize,
}

impl LightClientConfig {
    /// js-waku SDK (JSWAKU light_push.ts, retry_manager.ts, filter/subscription.ts,
    /// query_on_connect.ts): 2 lightpush peers, 3 attempts 1 s apart; 2 filter peers pinged
    /// every 60 s, replaced after 3 failures (the 10 s ping timeout is the request timeout);
    /// query on reconnect over the offline period (30 days at most).
    pub fn js_waku() -> Self {
        Self {
            lightpush_peers: 2,
            max_attempts: 3,
            retry_interval: SimDuration::from_secs(1),
            filter_peers: 2,
            filter_ping_interval: SimDuration::from_secs(60),
            filter_ping_timeout: SimDuration::from_secs(10),
            filter_ping_failures: 3,
            query_on_reconnect: true,
            query_on_subscription_lost: true,
            query_margin: SimDuration::ZERO,
            max_lookback: SimDuration::from_mins(30 * 24 * 60),
            max_pages: 20,
            max_pending: 10_000,
        }
    }

    /// go-waku / status-go light mode (GOWAKU message_sender.go, filter_health_check.go;
    /// STATUSGO `MinPeersForFilter = 2`, `DefaultMaxMessageDeliveryAttempts = 3`): 2 lightpush
    /// peers, 3 attempts (envelope-monitor backoff 2 s), 2 filter peers pinged every 60 s with
    /// a 5 s timeout, replaced after 2 failures; missed messages re-queried after an outage.
    pub fn go_waku() -> Self {
        Self {
            retry_interval: SimDuration::from_secs(2),
            filter_ping_timeout: SimDuration::from_secs(5),
            filter_ping_failures: 2,
            query_margin: SimDuration::from_secs(20),
            ..Self::js_waku()
        }
    }

    /// logos-delivery edge node (LOGOS send_service, recv_service, subscription_manager.nim):
    /// 1 lightpush peer retried every 1 s round for up to 1 min (60 attempts), 2 filter peers
    /// pinged every 30 s with a 5 s timeout, evicted at the first failure; one store check
    /// over `[offline_start − 5 s, now + 5 s]` at every offline→online transition.
    pub fn logos_delivery() -> Self {
        Self {
            lightpush_peers: 1,
            max_attempts: 60,
            retry_interval: SimDuration::from_secs(1),
            filter_peers: 2,
            filter_ping_interval: SimDuration::from_secs(30),
            filter_ping_timeout: SimDuration::from_secs(5),
            filter_ping_failures: 1,
            query_on_subscription_lost: false,
            query_margin: SimDuration::from_secs(5),
            ..Self::js_waku()
        }
    }

    /// WAKU-P2P-RELIABILITY (§1.1, §1.7 "spec" column): 2 lightpush peers, N = 3 attempts,
    /// 2 filter peers pinged every 60 s, replaced after 2 failures; store query after an
    /// outage (the 5 s ping timeout is go-waku's, the spec has none).
    pub fn spec() -> Self {
        Self {
            filter_ping_timeout: SimDuration::from_secs(5),
            filter_ping_failures: 2,
            query_margin: SimDuration::from_secs(5),
            ..Self::js_waku()
        }
    }

    /// The named preset (`js-waku`, `go-waku`, `logos-delivery`, `spec`).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "js-waku" => Some(Self::js_waku()),
            "go-waku" => Some(Self::go_waku()),
            "logos-delivery" => Some(Self::logos_delivery()),
            "spec" => Some(Self::spec()),
            _ => None,
        }
    }

    /// The node's filter client with this keep-alive policy.
    pub fn apply_to_filter_client(&self, client: &mut FilterClientConfig) {
        client.ping_interval = self.filter_ping_interval;
        client.ping_timeout = self.filter_ping_timeout;
        client.ping_failures_before_lost = self.filter_ping_failures.max(1);
    }

    /// How far back a lost subscription may have been losing messages: the failed pings and
    /// their timeouts, plus the margin.
    pub fn lost_lookback(&self) -> SimDuration {
        let per_ping = self.filter_ping_interval.as_nanos() + self.filter_ping_timeout.as_nanos();
        SimDuration::from_nanos(
            per_ping
                .saturating_mul(u64::from(self.filter_ping_failures.max(1)))
                .saturating_add(self.query_margin.as_nanos()),
        )
    }
}

impl Default for LightClientConfig {
    fn default() -> Self {
        Self::js_waku()
    }
}

/// Identifies one message handed to [`LightClient::send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SendKey(pub u64);

/// Identifies one store query asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GapToken(pub u64);

/// What the machine asks the glue to do, or reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LightClientOutput<T> {
    /// Push message `key` through lightpush service `peer` (`copy` 0 is the first copy of
    /// the message, later ones are redundancy or retries).
    Push {
        /// The message.
        key: SendKey,
        /// The service node.
        peer: NodeId,
        /// Pushes of this message before this one.
        copy: u32,
    },
    /// Subscribe to every content topic at filter service `peer`.
    Subscribe {
        /// The service node.
        peer: NodeId,
    },
    /// Query the store for the conversations' messages in `[from, to]` (attempt 0 first).
    Query {
        /// Identifies the answer.
        token: GapToken,
        /// Window start.
        from: SimTime,
        /// Window end.
        to: SimTime,
        /// Attempts before this one (to rotate store nodes).
        attempt: u32,
    },
    /// A service node accepted the message.
    Sent(T),
    /// Every attempt failed.
    Failed(T),
}

#[derive(Clone, Debug)]
struct Pending<T> {
    item: T,
    attempts: u32,
    copies: u32,
    outstanding: BTreeSet<NodeId>,
    retry_at: Option<SimTime>,
}

#[derive(Clone, Copy, Debug)]
struct Gap {
    token: GapToken,
    from: SimTime,
    to: SimTime,
    attempt: u32,
}

/// The light-client reliability machine of one node (see the module doc).
#[derive(Clone, Debug)]
pub struct LightClient<T> {
    config: LightClientConfig,
    lightpush: Vec<NodeId>,
    filter: Vec<NodeId>,
    active: Vec<NodeId>,
    pending: BTreeMap<SendKey, Pending<T>>,
    next_key: u64,
    next_token: u64,
    offline_since: Option<SimTime>,
    in_flight: Option<Gap>,
    wanted: Option<(SimTime, SimTime)>,
    query_retry_at: Option<SimTime>,
}

impl<T: Clone> LightClient<T> {
    /// A machine using `lightpush` and `filter` service nodes (in order of preference).
    pub fn new(config: LightClientConfig, lightpush: Vec<NodeId>, filter: Vec<NodeId>) -> Self {
        LightClient {
            config,
            lightpush,
            filter,
            active: Vec::new(),
            pending: BTreeMap::new(),
            next_key: 0,
            next_token: 0,
            offline_since: None,
            in_flight: None,
            wanted: None,
            query_retry_at: None,
        }
    }

    /// The parameters.
    pub fn config(&self) -> &LightClientConfig {
        &self.config
    }

    /// Filter service nodes subscribed to.
    pub fn filter_in_use(&self) -> &[NodeId] {
        &self.active
    }

    /// Lightpush service nodes in the current order of preference.
    pub fn lightpush_order(&self) -> &[NodeId] {
        &self.lightpush
    }

    /// Messages awaiting a verdict.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The message behind `key`, while it awaits a verdict.
    pub fn item(&self, key: SendKey) -> Option<&T> {
        self.pending.get(&key).map(|p| &p.item)
    }

    /// The node (re)started: subscribe on the first `filter_peers` nodes.
    pub fn start(&mut self, out: &mut Vec<LightClientOutput<T>>) {
        self.active.clear();
        self.top_up(out);
    }

    /// The process died: forget everything volatile (pending messages are lost).
    pub fn crash(&mut self) {
        self.active.clear();
        self.pending.clear();
        self.offline_since = None;
        self.in_flight = None;
        self.wanted = None;
        self.query_retry_at = None;
    }

    /// Sends a new message.
    pub fn send(&mut self, now: SimTime, item: T, out: &mut Vec<LightClientOutput<T>>) -> SendKey {
        let _ = now;
        if self.pending.len() >= self.config.max_pending
            && let Some((_, old)) = self.pending.pop_first()
        {
            out.push(LightClientOutput::Failed(old.item));
        }
        let key = SendKey(self.next_key);
        self.next_key += 1;
        self.pending.insert(
            key,
            Pending {
                item,
                attempts: 0,
                copies: 0,
                outstanding: BTreeSet::new(),
                retry_at: None,
            },
        );
        self.attempt(key, out);
        key
    }

    fn attempt(&mut self, key: SendKey, out: &mut Vec<LightClientOutput<T>>) {
        let peers: Vec<NodeId> = self
            .lightpush
            .iter()
            .copied()
            .take(self.config.lightpush_peers.max(1))
            .collect();
        let Some(p) = self.pending.get_mut(&key) else {
            return;
        };
        p.attempts += 1;
        p.retry_at = None;
        if peers.is_empty() {
            let p = self.pending.remove(&key).expect("present");
            out.push(LightClientOutput::Failed(p.item));
            return;
        }
        for peer in peers {
            p.outstanding.insert(peer);
            out.push(LightClientOutput::Push {
                key,
                peer,
                copy: p.copies,
            });
            p.copies += 1;
        }
    }

    /// The push of `key` to `peer` succeeded (`ok`) or failed.
    pub fn pushed(
        &mut self,
        now: SimTime,
        key: SendKey,
        peer: NodeId,
        ok: bool,
        out: &mut Vec<LightClientOutput<T>>,
    ) {
        if !ok {
            demote(&mut self.lightpush, peer);
        }
        let Some(p) = self.pending.get_mut(&key) else {
            return;
        };
        if !p.outstanding.remove(&peer) {
            return;
        }
        if ok {
            let p = self.pending.remove(&key).expect("present");
            out.push(LightClientOutput::Sent(p.item));
            return;
        }
        if !p.outstanding.is_empty() {
            return;
        }
        if p.attempts >= self.config.max_attempts {
            let p = self.pending.remove(&key).expect("present");
            out.push(LightClientOutput::Failed(p.item));
        } else {
            p.retry_at = Some(now.saturating_add(self.config.retry_interval));
        }
    }

    /// The subscription at `peer` is gone (lost after failed pings, or refused): evict it and
    /// subscribe elsewhere; then recover what it may have missed.
    pub fn subscription_lost(
        &mut self,
        now: SimTime,
        peer: NodeId,
        out: &mut Vec<LightClientOutput<T>>,
    ) {
        let Some(i) = self.active.iter().position(|p| *p == peer) else {
            return;
        };
        self.active.remove(i);
        demote(&mut self.filter, peer);
        self.top_up(out);
        if self.config.query_on_subscription_lost {
            let from = SimTime(
                now.as_nanos()
                    .saturating_sub(self.config.lost_lookback().as_nanos()),
            );
            self.want(now, from, out);
        }
    }

    /// The host went offline (network lost, going to sleep).
    pub fn went_offline(&mut self, at: SimTime) {
        if self.offline_since.is_none() {
            self.offline_since = Some(at);
        }
    }

    /// The host is online again: re-subscribe (service nodes may have dropped us) and query
    /// the store over the offline period.
    pub fn came_online(&mut self, now: SimTime, out: &mut Vec<LightClientOutput<T>>) {
        let Some(since) = self.offline_since.take() else {
            return;
        };
        for &peer in &self.active {
            out.push(LightClientOutput::Subscribe { peer });
        }
        if self.config.query_on_reconnect {
            let from = SimTime(
                since
                    .as_nanos()
                    .saturating_sub(self.config.query_margin.as_nanos()),
            );
            self.want(now, from, out);
        }
    }

    /// The host slept for `gap` (detected on waking).
    pub fn slept(&mut self, now: SimTime, gap: SimDuration, out: &mut Vec<LightClientOutput<T>>) {
        self.went_offline(SimTime(now.as_nanos().saturating_sub(gap.as_nanos())));
        self.came_online(now, out);
    }

    /// The store query `token` finished (`ok`) or failed.
    pub fn query_done(
        &mut self,
        now: SimTime,
        token: GapToken,
        ok: bool,
        out: &mut Vec<LightClientOutput<T>>,
    ) {
        let Some(gap) = self.in_flight else {
            return;
        };
        if gap.token != token {
            return;
        }
        self.in_flight = None;
        if !ok && gap.attempt + 1 < self.config.max_attempts {
            self.in_flight = Some(Gap {
                attempt: gap.attempt + 1,
                ..gap
            });
            self.query_retry_at = Some(now.saturating_add(self.config.retry_interval));
            return;
        }
        self.issue(out);
    }

    /// The earliest time [`LightClient::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let sends = self.pending.values().filter_map(|p| p.retry_at).min();
        [sends, self.query_retry_at].into_iter().flatten().min()
    }

    /// Retries due at `now`.
    pub fn handle_timeout(&mut self, now: SimTime, out: &mut Vec<LightClientOutput<T>>) {
        let due: Vec<SendKey> = self
            .pending
            .iter()
            .filter(|(_, p)| p.retry_at.is_some_and(|t| t <= now))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            self.attempt(key, out);
        }
        if self.query_retry_at.is_some_and(|t| t <= now) {
            self.query_retry_at = None;
            if let Some(gap) = self.in_flight {
                out.push(LightClientOutput::Query {
                    token: gap.token,
                    from: gap.from,
                    to: gap.to,
                    attempt: gap.attempt,
                });
            }
        }
    }

    /// Subscribes on service nodes not in use until `filter_peers` are.
    fn top_up(&mut self, out: &mut Vec<LightClientOutput<T>>) {
        let want = self.config.filter_peers.max(1);
        for &peer in &self.filter {
            if self.active.len() >= want {
                break;
            }
            if !self.active.contains(&peer) {
                self.active.push(peer);
                out.push(LightClientOutput::Subscribe { peer });
            }
        }
    }

    /// Asks for `[from − …, now + margin]`, merged with any window already waiting.
    fn want(&mut self, now: SimTime, from: SimTime, out: &mut Vec<LightClientOutput<T>>) {
        let floor = SimTime(
            now.as_nanos()
                .saturating_sub(self.config.max_lookback.as_nanos()),
        );
        let from = from.max(floor);
        let to = now.saturating_add(self.config.query_margin);
        self.wanted = Some(match self.wanted {
            Some((f, t)) => (f.min(from), t.max(to)),
            None => (from, to),
        });
        if self.in_flight.is_none() {
            self.issue(out);
        }
    }

    fn issue(&mut self, out: &mut Vec<LightClientOutput<T>>) {
        let Some((from, to)) = self.wanted.take() else {
            return;
        };
        let token = GapToken(self.next_token);
        self.next_token += 1;
        self.in_flight = Some(Gap {
            token,
            from,
            to,
            attempt: 0,
        });
        out.push(LightClientOutput::Query {
            token,
            from,
            to,
            attempt: 0,
        });
    }
}

/// Moves `peer` to the back of `list` (replacement by the next node in order).
fn demote(list: &mut Vec<NodeId>, peer: NodeId) {
    if let Some(i) = list.iter().position(|p| *p == peer) {
        let p = list.remove(i);
        list.push(p);
    }
}
