//! The filter v2 service side (`/vac/waku/filter-subscribe/2.0.0-beta1` handler and the
//! `/vac/waku/filter-push/2.0.0-beta1` fan-out): who is subscribed to what, subscription
//! expiry, request limits and rate limiting, push de-duplication, and push-failure tracking.
//!
//! Sans-IO: the node hands in each decoded request with the requesting peer and sends back the
//! returned response; it feeds every relayed message to [`FilterService::on_message`] and sends
//! the resulting pushes; it reports each push's fate to [`FilterService::on_push_result`]
//! (a push unanswered after [`FilterServiceConfig::push_timeout`] has failed); and it calls
//! [`FilterService::maintenance`] when [`FilterService::poll_timeout`] is due.
//!
//! Bounds: at most `max_peers` subscribers with at most `max_criteria_per_peer` criteria each
//! (the criterion index holds the same pairs), a de-duplication cache of `dedup_capacity`
//! hashes, and a rate limiter tracking `rate_limiter_capacity` peers.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{NodeId as PeerId, SimTime};

use super::cache::{PeerRateLimiter, TimedCache};
use super::config::{ExpiryRule, FilterServiceConfig, ServiceFlavor};
use super::{FilterCriterion, status};
use crate::message::MessageHash;
use crate::proto::{
    FilterSubscribeRequest, FilterSubscribeResponse, FilterSubscribeType, MessagePush, WakuMessage,
};

/// The request id a service answers with when it rejects a request for rate limiting without
/// reading it (nwaku and go-waku).
pub const RATE_LIMITED_REQUEST_ID: &str = "N/A";

/// What the filter service wants done.
#[derive(Clone, Debug, PartialEq)]
pub enum FilterOutput {
    /// Send `push` to subscriber `to` on the filter-push protocol (one-way, no answer); report
    /// its fate with [`FilterService::on_push_result`].
    Push {
        /// The subscriber.
        to: PeerId,
        /// One message with the pubsub topic it arrived on.
        push: MessagePush,
    },
}

/// One subscribed client.
#[derive(Clone, Debug)]
struct Subscriber {
    /// Last SUBSCRIBE / SUBSCRIBER_PING / UNSUBSCRIBE that touched this entry.
    last_seen: SimTime,
    criteria: BTreeSet<FilterCriterion>,
    /// First failed push since the last successful one.
    failing_since: Option<SimTime>,
}

/// The filter v2 service state machine; see the module documentation.
#[derive(Clone, Debug)]
pub struct FilterService {
    config: FilterServiceConfig,
    subscribers: BTreeMap<PeerId, Subscriber>,
    /// criterion → subscribers holding it; exactly the pairs in `subscribers`.
    index: BTreeMap<FilterCriterion, BTreeSet<PeerId>>,
    dedup: Option<TimedCache<MessageHash>>,
    limiter: Option<PeerRateLimiter>,
    next_maintenance: SimTime,
}

impl FilterService {
    /// A service with no subscribers; its first maintenance is due at once.
    pub fn new(config: FilterServiceConfig) -> Self {
        let dedup = config
            .dedup_ttl
            .map(|ttl| TimedCache::new(ttl, config.dedup_capacity.max(1)));
        let limiter = config
            .rate_limit
            .map(|limit| PeerRateLimiter::new(limit, config.rate_limiter_capacity.max(1)));
        Self {
            config,
            subscribers: BTreeMap::new(),
            index: BTreeMap::new(),
            dedup,
            limiter,
            next_maintenance: SimTime::ZERO,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &FilterServiceConfig {
        &self.config
    }

    /// Handles one request from `peer` and returns the response to write back.
    pub fn handle_subscribe(
        &mut self,
        now: SimTime,
        peer: PeerId,
        request: &FilterSubscribeRequest,
    ) -> FilterSubscribeResponse {
        if let Some(limiter) = &mut self.limiter
            && !limiter.allow(now, peer)
        {
            return FilterSubscribeResponse {
                request_id: RATE_LIMITED_REQUEST_ID.to_owned(),
                status_code: status::TOO_MANY_REQUESTS,
                status_desc: Some(self.describe(
                    status::TOO_MANY_REQUESTS,
                    "filter request rejected due rate limit exceeded",
                )),
            };
        }
        let result = match FilterSubscribeType::try_from(request.filter_subscribe_type) {
            Err(_) => Err((
                status::BAD_REQUEST,
                "unknown filter subscribe type".to_owned(),
            )),
            Ok(kind) => self.validate(kind, request).and_then(|()| match kind {
                FilterSubscribeType::SubscriberPing => self.ping(now, peer),
                FilterSubscribeType::Subscribe => self.subscribe(now, peer, request),
                FilterSubscribeType::Unsubscribe => self.unsubscribe(now, peer, request),
                FilterSubscribeType::UnsubscribeAll => self.unsubscribe_all(now, peer),
            }),
        };
        let (status_code, desc) = match result {
            Ok(()) => (status::OK, "OK".to_owned()),
            Err((code, cause)) => (code, self.describe(code, &cause)),
        };
        FilterSubscribeResponse {
            request_id: request.request_id.clone(),
            status_code,
            status_desc: Some(desc),
        }
    }

    /// Pushes `msg`, relayed on `pubsub_topic`, to every live subscriber of
    /// (`pubsub_topic`, `msg.content_topic`), in peer order, unless the de-duplication cache
    /// has seen its hash within the window (the cache is consulted only when someone is
    /// subscribed, as in nwaku).
    pub fn on_message(
        &mut self,
        now: SimTime,
        pubsub_topic: &str,
        msg: &WakuMessage,
        out: &mut Vec<FilterOutput>,
    ) {
        let key = FilterCriterion::new(pubsub_topic, msg.content_topic.as_str());
        let Some(peers) = self.index.get(&key) else {
            return;
        };
        let targets: Vec<PeerId> = peers
            .iter()
            .copied()
            .filter(|p| self.subscribers.get(p).is_some_and(|s| self.alive(now, s)))
            .collect();
        if targets.is_empty() {
            return;
        }
        if let Some(cache) = &mut self.dedup
            && cache.put(now, msg.hash(pubsub_topic))
        {
            return;
        }
        for to in targets {
            out.push(FilterOutput::Push {
                to,
                push: MessagePush {
                    waku_message: Some(msg.clone()),
                    pubsub_topic: Some(pubsub_topic.to_owned()),
                },
            });
        }
    }

    /// The fate of one push to `peer`: delivered (`ok`) or failed (stream error or
    /// [`FilterServiceConfig::push_timeout`] passed). Returns true when the failure made the
    /// service drop the subscriber (only with [`FilterServiceConfig::unreachable_timeout`]).
    pub fn on_push_result(&mut self, now: SimTime, peer: PeerId, ok: bool) -> bool {
        let Some(sub) = self.subscribers.get_mut(&peer) else {
            return false;
        };
        if ok {
            sub.failing_since = None;
            return false;
        }
        let since = *sub.failing_since.get_or_insert(now);
        match self.config.unreachable_timeout {
            Some(limit) if now.saturating_duration_since(since) >= limit => {
                self.remove_peer(peer);
                true
            }
            _ => false,
        }
    }

    /// Periodic upkeep (every [`FilterServiceConfig::maintenance_interval`]): purges expired
    /// subscribers (or, with [`ExpiryRule::GoWakuInvertedSweep`], the recently active ones),
    /// drops unreachable ones, and trims the de-duplication cache. Returns how many
    /// subscribers were removed.
    pub fn maintenance(&mut self, now: SimTime) -> usize {
        self.next_maintenance = now.saturating_add(self.config.maintenance_interval);
        let ttl = self.config.subscription_ttl;
        let unreachable = self.config.unreachable_timeout;
        let rule = self.config.expiry_rule;
        let doomed: Vec<PeerId> = self
            .subscribers
            .iter()
            .filter(|(_, s)| {
                let idle = now.saturating_duration_since(s.last_seen);
                let expired = match (ttl, rule) {
                    (None, _) => false,
                    (Some(ttl), ExpiryRule::Ttl) => idle > ttl,
                    (Some(ttl), ExpiryRule::GoWakuInvertedSweep) => idle < ttl,
                };
                let gone = match (unreachable, s.failing_since) {
                    (Some(limit), Some(since)) => now.saturating_duration_since(since) >= limit,
                    _ => false,
                };
                expired || gone
            })
            .map(|(p, _)| *p)
            .collect();
        for peer in &doomed {
            self.drop_subscriber(*peer);
        }
        if let Some(cache) = &mut self.dedup {
            cache.expire(now);
        }
        doomed.len()
    }

    /// When [`FilterService::maintenance`] is next due.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        Some(self.next_maintenance)
    }

    /// Forgets `peer` entirely: its subscription and its rate-limit budget (nwaku does this
    /// when the peer leaves the peer store).
    pub fn remove_peer(&mut self, peer: PeerId) {
        self.drop_subscriber(peer);
        if let Some(limiter) = &mut self.limiter {
            limiter.remove(peer);
        }
    }

    /// Whether `peer` has a live subscription at `now` (what a SUBSCRIBER_PING would find).
    pub fn is_subscribed(&self, now: SimTime, peer: PeerId) -> bool {
        self.subscribers
            .get(&peer)
            .is_some_and(|s| self.alive(now, s))
    }

    /// Subscriber entries held, live or awaiting purge.
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.len()
    }

    /// The criteria `peer` holds, in order.
    pub fn criteria(&self, peer: PeerId) -> Vec<FilterCriterion> {
        self.subscribers
            .get(&peer)
            .map(|s| s.criteria.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Entries in the de-duplication cache (0 when de-duplication is off).
    pub fn dedup_len(&self) -> usize {
        self.dedup.as_ref().map_or(0, TimedCache::len)
    }

    // ----- request handlers -------------------------------------------------------------

    fn alive(&self, now: SimTime, sub: &Subscriber) -> bool {
        match (self.config.subscription_ttl, self.config.expiry_rule) {
            (Some(ttl), ExpiryRule::Ttl) => now.saturating_duration_since(sub.last_seen) <= ttl,
            _ => true,
        }
    }

    fn validate(
        &self,
        kind: FilterSubscribeType,
        req: &FilterSubscribeRequest,
    ) -> Result<(), (u32, String)> {
        let bad = |cause: &str| Err((status::BAD_REQUEST, cause.to_owned()));
        let max = self.config.max_content_topics_per_request;
        let with_criteria = matches!(
            kind,
            FilterSubscribeType::Subscribe | FilterSubscribeType::Unsubscribe
        );
        match self.config.flavor {
            ServiceFlavor::Nwaku => {
                if with_criteria {
                    if req.pubsub_topic.is_none() || req.content_topics.is_empty() {
                        return bad("pubsubTopic and contentTopics must be specified");
                    }
                    if req.content_topics.len() > max {
                        return bad(&format!("exceeds maximum content topics: {max}"));
                    }
                }
            }
            ServiceFlavor::GoWaku => {
                if req.request_id.is_empty() {
                    return bad("missing RequestId field");
                }
                if with_criteria {
                    if req.pubsub_topic.as_deref().is_none_or(str::is_empty) {
                        return bad("missing PubsubTopic field");
                    }
                    if req.content_topics.is_empty() {
                        return bad("at least one contenttopic should be specified");
                    }
                    if req.content_topics.iter().any(String::is_empty) {
                        return bad("one or more content topics specified is empty");
                    }
                    if req.content_topics.len() > max {
                        return bad(&format!("exceeds maximum content topics: {max}"));
                    }
                }
            }
        }
        Ok(())
    }

    fn ping(&mut self, now: SimTime, peer: PeerId) -> Result<(), (u32, String)> {
        if !self.is_subscribed(now, peer) {
            return Err(not_found());
        }
        let sub = self.subscribers.get_mut(&peer).expect("checked subscribed");
        sub.last_seen = now;
        Ok(())
    }

    fn subscribe(
        &mut self,
        now: SimTime,
        peer: PeerId,
        req: &FilterSubscribeRequest,
    ) -> Result<(), (u32, String)> {
        let pubsub = req.pubsub_topic.as_deref().unwrap_or_default();
        let requested: BTreeSet<FilterCriterion> = req
            .content_topics
            .iter()
            .map(|ct| FilterCriterion::new(pubsub, ct.as_str()))
            .collect();
        let max_peers = self.config.max_peers;
        let max_criteria = self.config.max_criteria_per_peer;
        let unavailable_peers = || {
            let cause = match self.config.flavor {
                ServiceFlavor::Nwaku => {
                    format!("node has reached maximum number of subscriptions: {max_peers}")
                }
                ServiceFlavor::GoWaku => "node has reached maximum number of subscriptions".into(),
            };
            Err((status::SERVICE_UNAVAILABLE, cause))
        };
        let too_many_criteria = || {
            Err((
                status::SERVICE_UNAVAILABLE,
                "peer has reached maximum number of filter criteria".to_owned(),
            ))
        };
        match self.config.flavor {
            ServiceFlavor::Nwaku => match self.subscribers.get(&peer) {
                Some(sub) if sub.criteria.len() + requested.len() > max_criteria => {
                    return too_many_criteria();
                }
                Some(_) => {}
                None if self.subscribers.len() >= max_peers => return unavailable_peers(),
                None => {}
            },
            ServiceFlavor::GoWaku => {
                if self.subscribers.len() >= max_peers {
                    return unavailable_peers();
                }
                if let Some(sub) = self.subscribers.get(&peer)
                    && sub.criteria.len() + req.content_topics.len() > max_criteria
                {
                    return too_many_criteria();
                }
            }
        }
        let sub = self.subscribers.entry(peer).or_insert_with(|| Subscriber {
            last_seen: now,
            criteria: BTreeSet::new(),
            failing_since: None,
        });
        sub.last_seen = now;
        for criterion in requested {
            if sub.criteria.insert(criterion.clone()) {
                self.index.entry(criterion).or_default().insert(peer);
            }
        }
        Ok(())
    }

    fn unsubscribe(
        &mut self,
        now: SimTime,
        peer: PeerId,
        req: &FilterSubscribeRequest,
    ) -> Result<(), (u32, String)> {
        let pubsub = req.pubsub_topic.as_deref().unwrap_or_default();
        let flavor = self.config.flavor;
        let Some(sub) = self.subscribers.get_mut(&peer) else {
            return Err(not_found());
        };
        if flavor == ServiceFlavor::GoWaku && !sub.criteria.iter().any(|c| c.pubsub_topic == pubsub)
        {
            return Err(not_found());
        }
        sub.last_seen = now;
        let mut result = Ok(());
        let mut seen = BTreeSet::new();
        for ct in &req.content_topics {
            let criterion = FilterCriterion::new(pubsub, ct.as_str());
            if !seen.insert(criterion.clone()) {
                continue;
            }
            // nwaku stops at the first criterion nobody holds (those before it stay removed);
            // go-waku ignores unknown content topics.
            if flavor == ServiceFlavor::Nwaku && !self.index.contains_key(&criterion) {
                result = Err(not_found());
                break;
            }
            if sub.criteria.remove(&criterion) {
                unindex(&mut self.index, &criterion, peer);
            }
        }
        if sub.criteria.is_empty() {
            self.subscribers.remove(&peer);
        }
        result
    }

    fn unsubscribe_all(&mut self, now: SimTime, peer: PeerId) -> Result<(), (u32, String)> {
        let present = match self.config.flavor {
            ServiceFlavor::Nwaku => self.is_subscribed(now, peer),
            ServiceFlavor::GoWaku => self.subscribers.contains_key(&peer),
        };
        if !present {
            return Err(not_found());
        }
        self.drop_subscriber(peer);
        Ok(())
    }

    fn drop_subscriber(&mut self, peer: PeerId) {
        if let Some(sub) = self.subscribers.remove(&peer) {
            for criterion in &sub.criteria {
                unindex(&mut self.index, criterion, peer);
            }
        }
    }

    /// The status description each implementation writes.
    fn describe(&self, code: u32, cause: &str) -> String {
        match self.config.flavor {
            ServiceFlavor::GoWaku => cause.to_owned(),
            ServiceFlavor::Nwaku => {
                let kind = match code {
                    status::BAD_REQUEST => "BAD_REQUEST",
                    status::NOT_FOUND => "NOT_FOUND",
                    status::TOO_MANY_REQUESTS => return cause.to_owned(),
                    status::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
                    _ => "UNKNOWN",
                };
                format!("{kind}: {cause}")
            }
        }
    }
}

fn not_found() -> (u32, String) {
    (status::NOT_FOUND, "peer has no subscriptions".to_owned())
}

fn unindex(
    index: &mut BTreeMap<FilterCriterion, BTreeSet<PeerId>>,
    criterion: &FilterCriterion,
    peer: PeerId,
) {
    if let Some(peers) = index.get_mut(criterion) {
        peers.remove(&peer);
        if peers.is_empty() {
            index.remove(criterion);
        }
    }
}
