//! The filter v2 client side (light node): SUBSCRIBE / UNSUBSCRIBE / UNSUBSCRIBE_ALL /
//! SUBSCRIBER_PING requests to one or several service peers, their timeouts, the periodic ping
//! that detects a lost subscription, and acceptance of incoming pushes.
//!
//! Sans-IO: request methods append a [`FilterClientOutput::Request`] for the node to send and
//! return its request id; the node hands answers to [`FilterClient::handle_response`] and
//! pushes to [`FilterClient::handle_push`], and calls [`FilterClient::tick`] when
//! [`FilterClient::poll_timeout`] is due (scheduled pings, request timeouts).
//!
//! What happens after a loss is the caller's policy: the client reports
//! [`FilterClientOutput::SubscriptionLost`] after `ping_failures_before_lost` consecutive failed
//! pings, forgets that peer, and the caller resubscribes there or elsewhere (light-client
//! reliability subscribes on several service peers at once).
//!
//! Bounds: at most `max_service_peers` service peers, `max_pending_requests` requests awaiting
//! an answer, `dedup_capacity` remembered message hashes.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{NodeId as PeerId, SimRng, SimTime};

use super::cache::TimedCache;
use super::config::{FilterClientConfig, PushCheck};
use super::service::RATE_LIMITED_REQUEST_ID;
use super::{FilterCriterion, status};
use crate::message::MessageHash;
use crate::proto::{
    FilterSubscribeRequest, FilterSubscribeResponse, FilterSubscribeType, MessagePush, WakuMessage,
};

/// Requests a caller can get wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterClientError {
    /// SUBSCRIBE/UNSUBSCRIBE without content topics.
    #[error("a filter subscribe/unsubscribe needs at least one content topic")]
    NoContentTopics,
    /// More content topics than one request may carry.
    #[error("{count} content topics in one filter request; the limit is {max}")]
    TooManyContentTopics {
        /// Topics given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Subscribing on one more service peer than allowed.
    #[error("already subscribed on {max} filter service peers (the configured maximum)")]
    TooManyServicePeers {
        /// The limit.
        max: usize,
    },
    /// Too many requests awaiting answers.
    #[error("{max} filter requests already await an answer (the configured maximum)")]
    TooManyPendingRequests {
        /// The limit.
        max: usize,
    },
}

/// Which request an answer or timeout belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterRequestKind {
    /// SUBSCRIBER_PING.
    Ping,
    /// SUBSCRIBE.
    Subscribe,
    /// UNSUBSCRIBE.
    Unsubscribe,
    /// UNSUBSCRIBE_ALL.
    UnsubscribeAll,
}

/// What the filter client wants done or reports.
#[derive(Clone, Debug, PartialEq)]
pub enum FilterClientOutput {
    /// Send `request` to service peer `to` on the filter-subscribe protocol.
    Request {
        /// The service peer.
        to: PeerId,
        /// The request (its `request_id` identifies the answer).
        request: FilterSubscribeRequest,
    },
    /// A request finished: answered with `status` (200 = success), or `None` when it timed out.
    Completed {
        /// The service peer.
        peer: PeerId,
        /// The request id.
        request_id: String,
        /// What was asked.
        kind: FilterRequestKind,
        /// The answer's status code; `None` = no answer within the timeout.
        status: Option<u32>,
    },
    /// Pings to `peer` failed `ping_failures_before_lost` times in a row: the subscriptions
    /// there are considered gone and the client has forgotten them.
    SubscriptionLost {
        /// The service peer.
        peer: PeerId,
        /// What the client believed it was subscribed to there.
        criteria: Vec<FilterCriterion>,
    },
}

/// What the client knows about one service peer.
#[derive(Clone, Debug, Default)]
struct ServicePeer {
    /// Criteria the service acknowledged (200).
    active: BTreeSet<FilterCriterion>,
    /// Next scheduled ping; `None` until the first acknowledged SUBSCRIBE.
    next_ping: Option<SimTime>,
    /// The ping awaiting an answer, if any.
    ping_in_flight: Option<String>,
    /// Consecutive failed pings.
    failures: u32,
}

/// A request awaiting its answer.
#[derive(Clone, Debug)]
struct Pending {
    peer: PeerId,
    kind: FilterRequestKind,
    criteria: Vec<FilterCriterion>,
    sent_at: SimTime,
    deadline: SimTime,
}

/// The filter v2 client state machine; see the module documentation.
#[derive(Clone, Debug)]
pub struct FilterClient {
    config: FilterClientConfig,
    services: BTreeMap<PeerId, ServicePeer>,
    pending: BTreeMap<String, Pending>,
    dedup: Option<TimedCache<MessageHash>>,
}

impl FilterClient {
    /// A client with no subscriptions.
    pub fn new(config: FilterClientConfig) -> Self {
        assert!(
            config.ping_failures_before_lost > 0,
            "ping_failures_before_lost must be positive"
        );
        let dedup = config
            .dedup_ttl
            .map(|ttl| TimedCache::new(ttl, config.dedup_capacity.max(1)));
        Self {
            config,
            services: BTreeMap::new(),
            pending: BTreeMap::new(),
            dedup,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &FilterClientConfig {
        &self.config
    }

    /// Asks `peer` to push messages on (`pubsub_topic`, each of `content_topics`).
    pub fn subscribe(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        peer: PeerId,
        pubsub_topic: &str,
        content_topics: &[String],
        out: &mut Vec<FilterClientOutput>,
    ) -> Result<String, FilterClientError> {
        self.check_topics(content_topics)?;
        if !self.services.contains_key(&peer)
            && self.services.len() >= self.config.max_service_peers
        {
            return Err(FilterClientError::TooManyServicePeers {
                max: self.config.max_service_peers,
            });
        }
        let criteria = criteria_of(pubsub_topic, content_topics);
        let id = self.send(
            now,
            rng,
            peer,
            FilterRequestKind::Subscribe,
            Some(pubsub_topic),
            content_topics,
            criteria,
            out,
        )?;
        self.services.entry(peer).or_default();
        Ok(id)
    }

    /// Asks `peer` to stop pushing (`pubsub_topic`, each of `content_topics`); pushes for them
    /// are no longer accepted from now on.
    pub fn unsubscribe(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        peer: PeerId,
        pubsub_topic: &str,
        content_topics: &[String],
        out: &mut Vec<FilterClientOutput>,
    ) -> Result<String, FilterClientError> {
        self.check_topics(content_topics)?;
        let criteria = criteria_of(pubsub_topic, content_topics);
        let id = self.send(
            now,
            rng,
            peer,
            FilterRequestKind::Unsubscribe,
            Some(pubsub_topic),
            content_topics,
            criteria.clone(),
            out,
        )?;
        if let Some(service) = self.services.get_mut(&peer) {
            for c in &criteria {
                service.active.remove(c);
            }
            if service.active.is_empty() {
                self.forget(peer);
            }
        }
        Ok(id)
    }

    /// Asks `peer` to drop every subscription of this client; the client forgets the peer at
    /// once.
    pub fn unsubscribe_all(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        peer: PeerId,
        out: &mut Vec<FilterClientOutput>,
    ) -> Result<String, FilterClientError> {
        let id = self.send(
            now,
            rng,
            peer,
            FilterRequestKind::UnsubscribeAll,
            None,
            &[],
            Vec::new(),
            out,
        )?;
        self.forget(peer);
        Ok(id)
    }

    /// Sends a SUBSCRIBER_PING to `peer` now (scheduled pings come from [`FilterClient::tick`]).
    /// Its answer counts towards the failure streak only if `peer` is a service peer.
    pub fn ping(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        peer: PeerId,
        out: &mut Vec<FilterClientOutput>,
    ) -> Result<String, FilterClientError> {
        let id = self.send(
            now,
            rng,
            peer,
            FilterRequestKind::Ping,
            None,
            &[],
            Vec::new(),
            out,
        )?;
        if let Some(service) = self.services.get_mut(&peer) {
            service.ping_in_flight = Some(id.clone());
        }
        Ok(id)
    }

    /// Sends due pings and times out requests unanswered past their deadline.
    pub fn tick(&mut self, now: SimTime, rng: &mut SimRng, out: &mut Vec<FilterClientOutput>) {
        let expired: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(p) = self.pending.remove(&id) {
                self.finish(now, id, p, None, out);
            }
        }
        let due: Vec<PeerId> = self
            .services
            .iter()
            .filter(|(_, s)| s.ping_in_flight.is_none() && s.next_ping.is_some_and(|t| t <= now))
            .map(|(p, _)| *p)
            .collect();
        for peer in due {
            if self.pending.len() >= self.config.max_pending_requests {
                break; // retried at the next tick
            }
            // Cannot fail: no content topics, and the pending bound was checked above.
            let _ = self.ping(now, rng, peer, out);
        }
    }

    /// The earliest time [`FilterClient::tick`] has something to do.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let pings = self
            .services
            .values()
            .filter(|s| s.ping_in_flight.is_none())
            .filter_map(|s| s.next_ping);
        let deadlines = self.pending.values().map(|p| p.deadline);
        pings.chain(deadlines).min()
    }

    /// Handles an answer from `from`. An answer whose id matches no request sent to `from` is
    /// ignored, except a 429 with request id "N/A" (the service did not read the request),
    /// which answers the oldest request pending at `from`.
    pub fn handle_response(
        &mut self,
        now: SimTime,
        from: PeerId,
        response: &FilterSubscribeResponse,
        out: &mut Vec<FilterClientOutput>,
    ) {
        let id = if response.request_id == RATE_LIMITED_REQUEST_ID
            && response.status_code == status::TOO_MANY_REQUESTS
        {
            self.pending
                .iter()
                .filter(|(_, p)| p.peer == from)
                .min_by_key(|(id, p)| (p.sent_at, (*id).clone()))
                .map(|(id, _)| id.clone())
        } else {
            Some(response.request_id.clone())
        };
        let Some(id) = id else { return };
        match self.pending.get(&id) {
            Some(p) if p.peer == from => {}
            _ => return,
        }
        let p = self.pending.remove(&id).expect("checked present");
        self.finish(now, id, p, Some(response.status_code), out);
    }

    /// Accepts or rejects a push from `from`; on acceptance returns the pubsub topic and the
    /// message. Rejected: no message or no pubsub topic, an origin or criterion the client did
    /// not subscribe to (per [`FilterClientConfig::push_check`]), or a duplicate within the
    /// de-duplication window.
    pub fn handle_push(
        &mut self,
        now: SimTime,
        from: PeerId,
        push: MessagePush,
    ) -> Option<(String, WakuMessage)> {
        let msg = push.waku_message?;
        let pubsub_topic = push.pubsub_topic?;
        let criterion = FilterCriterion::new(pubsub_topic.as_str(), msg.content_topic.as_str());
        let accepted = match self.config.push_check {
            PushCheck::None => true,
            PushCheck::Criterion => self
                .services
                .values()
                .any(|s| s.active.contains(&criterion)),
            PushCheck::PeerAndCriterion => self
                .services
                .get(&from)
                .is_some_and(|s| s.active.contains(&criterion)),
        };
        if !accepted {
            return None;
        }
        if let Some(cache) = &mut self.dedup
            && cache.put(now, msg.hash(&pubsub_topic))
        {
            return None;
        }
        Some((pubsub_topic, msg))
    }

    /// Forgets `peer` (for example when the caller replaces it); returns the criteria the
    /// client believed were active there. Answers still due from it are ignored.
    pub fn remove_service_peer(&mut self, peer: PeerId) -> Vec<FilterCriterion> {
        self.forget(peer)
    }

    /// Service peers the client holds state for, in order.
    pub fn service_peers(&self) -> Vec<PeerId> {
        self.services.keys().copied().collect()
    }

    /// Criteria `peer` acknowledged, in order.
    pub fn subscriptions(&self, peer: PeerId) -> Vec<FilterCriterion> {
        self.services
            .get(&peer)
            .map(|s| s.active.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Consecutive failed pings to `peer` so far.
    pub fn ping_failures(&self, peer: PeerId) -> u32 {
        self.services.get(&peer).map_or(0, |s| s.failures)
    }

    /// Requests awaiting an answer.
    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }

    // ----- internals ------------------------------------------------------------------

    fn check_topics(&self, content_topics: &[String]) -> Result<(), FilterClientError> {
        if content_topics.is_empty() {
            return Err(FilterClientError::NoContentTopics);
        }
        let max = self.config.max_content_topics_per_request;
        if content_topics.len() > max {
            return Err(FilterClientError::TooManyContentTopics {
                count: content_topics.len(),
                max,
            });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        peer: PeerId,
        kind: FilterRequestKind,
        pubsub_topic: Option<&str>,
        content_topics: &[String],
        criteria: Vec<FilterCriterion>,
        out: &mut Vec<FilterClientOutput>,
    ) -> Result<String, FilterClientError> {
        if self.pending.len() >= self.config.max_pending_requests {
            return Err(FilterClientError::TooManyPendingRequests {
                max: self.config.max_pending_requests,
            });
        }
        let request_id = loop {
            let id = request_id(rng);
            if !self.pending.contains_key(&id) {
                break id;
            }
        };
        let (wire_kind, timeout) = match kind {
            FilterRequestKind::Ping => (
                FilterSubscribeType::SubscriberPing,
                self.config.ping_timeout,
            ),
            FilterRequestKind::Subscribe => {
                (FilterSubscribeType::Subscribe, self.config.request_timeout)
            }
            FilterRequestKind::Unsubscribe => (
                FilterSubscribeType::Unsubscribe,
                self.config.request_timeout,
            ),
            FilterRequestKind::UnsubscribeAll => (
                FilterSubscribeType::UnsubscribeAll,
                self.config.request_timeout,
            ),
        };
        self.pending.insert(
            request_id.clone(),
            Pending {
                peer,
                kind,
                criteria,
                sent_at: now,
                deadline: now.saturating_add(timeout),
            },
        );
        out.push(FilterClientOutput::Request {
            to: peer,
            request: FilterSubscribeRequest {
                request_id: request_id.clone(),
                filter_subscribe_type: wire_kind as i32,
                pubsub_topic: pubsub_topic.map(str::to_owned),
                content_topics: content_topics.to_vec(),
            },
        });
        Ok(request_id)
    }

    /// Applies the outcome of request `id` (`status` `None` = timed out).
    fn finish(
        &mut self,
        now: SimTime,
        id: String,
        p: Pending,
        status: Option<u32>,
        out: &mut Vec<FilterClientOutput>,
    ) {
        let ok = status == Some(status::OK);
        out.push(FilterClientOutput::Completed {
            peer: p.peer,
            request_id: id.clone(),
            kind: p.kind,
            status,
        });
        match p.kind {
            FilterRequestKind::Subscribe => {
                let Some(service) = self.services.get_mut(&p.peer) else {
                    return;
                };
                if ok {
                    service.active.extend(p.criteria);
                    if service.next_ping.is_none() {
                        service.next_ping = Some(now.saturating_add(self.config.ping_interval));
                    }
                } else if service.active.is_empty() && !self.has_pending(p.peer) {
                    self.forget(p.peer);
                }
            }
            FilterRequestKind::Ping => self.ping_outcome(now, p.peer, &id, ok, out),
            FilterRequestKind::Unsubscribe | FilterRequestKind::UnsubscribeAll => {}
        }
    }

    fn ping_outcome(
        &mut self,
        now: SimTime,
        peer: PeerId,
        id: &str,
        ok: bool,
        out: &mut Vec<FilterClientOutput>,
    ) {
        let limit = self.config.ping_failures_before_lost;
        let interval = self.config.ping_interval;
        let retry_now = self.config.retry_failed_ping_immediately;
        let Some(service) = self.services.get_mut(&peer) else {
            return;
        };
        if service.ping_in_flight.as_deref() == Some(id) {
            service.ping_in_flight = None;
        }
        if ok {
            service.failures = 0;
            service.next_ping = Some(now.saturating_add(interval));
            return;
        }
        service.failures += 1;
        if service.failures >= limit {
            let criteria = self.forget(peer);
            out.push(FilterClientOutput::SubscriptionLost { peer, criteria });
        } else if retry_now {
            service.next_ping = Some(now);
        } else {
            service.next_ping = Some(now.saturating_add(interval));
        }
    }

    fn has_pending(&self, peer: PeerId) -> bool {
        self.pending.values().any(|p| p.peer == peer)
    }

    fn forget(&mut self, peer: PeerId) -> Vec<FilterCriterion> {
        self.services
            .remove(&peer)
            .map(|s| s.active.into_iter().collect())
            .unwrap_or_default()
    }
}

/// nwaku's request id: the hex of 10 random bytes (`generateRequestId`).
fn request_id(rng: &mut SimRng) -> String {
    let mut bytes = [0u8; 10];
    rng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn criteria_of(pubsub_topic: &str, content_topics: &[String]) -> Vec<FilterCriterion> {
    let set: BTreeSet<FilterCriterion> = content_topics
        .iter()
        .map(|ct| FilterCriterion::new(pubsub_topic, ct.as_str()))
        .collect();
    set.into_iter().collect()
}
