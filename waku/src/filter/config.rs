//! Filter v2 configuration: service limits and timers, client keep-alive policy, and the
//! named presets (`spec`, `nwaku`, `go_waku`, `js_waku`).
//!
//! Every number names its source; tags are those of `reference/waku-protocols.md` §0 (\[NWAKU\]
//! nwaku @ 7d1c6ab, \[GOWAKU\] go-waku @ 84a4b1b, \[JSW\] js-waku @ 84a6ea6, \[RFC\] rfc-index
//! `12/filter.md`) and `reference/reliability.md` §1 (client keep-alive policies).

use sim_core::SimDuration;

/// Service and client configuration together; `Default` is [`FilterConfig::nwaku`] (whose
/// client is the nwaku-family one; [`FilterClientConfig::default`] is the spec client).
#[derive(Clone, Debug, PartialEq)]
pub struct FilterConfig {
    /// What a filter service node does.
    pub service: FilterServiceConfig,
    /// What a filter client (light node) does.
    pub client: FilterClientConfig,
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self::nwaku()
    }
}

impl FilterConfig {
    /// The RFC's recommendations where it has any, nwaku's numbers where it is silent.
    ///
    /// Service: no idle TTL (the RFC defines none); a client whose pushes keep failing for
    /// **1 minute** is dropped (\[RFC\] 12/filter.md "RECOMMENDED 1 minute"); limits as nwaku.
    /// Client: ping every **1 min**, replace after **2** failed pings (REQ-RES-RELIABILITY,
    /// `reference/reliability.md` §1.1–1.2); check the push origin and criteria (\[RFC\] "SHOULD
    /// verify"); the 5 s ping timeout is go-waku's (the RFC has none).
    pub fn spec() -> Self {
        Self {
            service: FilterServiceConfig {
                subscription_ttl: None,
                unreachable_timeout: Some(SimDuration::from_mins(1)),
                ..FilterServiceConfig::nwaku()
            },
            client: FilterClientConfig {
                ping_interval: SimDuration::from_mins(1),
                ping_timeout: SimDuration::from_secs(5),
                request_timeout: SimDuration::from_secs(10),
                ping_failures_before_lost: 2,
                retry_failed_ping_immediately: false,
                push_check: PushCheck::PeerAndCriterion,
                dedup_ttl: Some(SimDuration::from_mins(1)),
                ..FilterClientConfig::common()
            },
        }
    }

    /// nwaku as deployed (`wakunode2` CLI defaults) for the service; the nwaku-family light
    /// client (logos-delivery edge filter manager / lite-protocol-tester) for the client.
    pub fn nwaku() -> Self {
        Self {
            service: FilterServiceConfig::nwaku(),
            client: FilterClientConfig {
                // logos-delivery subscription_manager.nim: ping loop 30 s, timeout 5 s, a single
                // failed ping evicts the peer; subscribe RPC timeout 15 s
                // (`reference/reliability.md` §1.5). lite-protocol-tester receiver.nim also
                // pings every 30 s and resubscribes on the first failure.
                ping_interval: SimDuration::from_secs(30),
                ping_timeout: SimDuration::from_secs(5),
                request_timeout: SimDuration::from_secs(15),
                ping_failures_before_lost: 1,
                retry_failed_ping_immediately: false,
                // \[NWAKU\] waku_filter_v2/client.nim: the push handler checks neither origin
                // nor criteria.
                push_check: PushCheck::None,
                // RecvService keeps its own received-hash list (7 min); the filter client
                // itself does not de-duplicate.
                dedup_ttl: None,
                ..FilterClientConfig::common()
            },
        }
    }

    /// go-waku full node (service) and light node (client).
    pub fn go_waku() -> Self {
        Self {
            service: FilterServiceConfig::go_waku(),
            client: FilterClientConfig {
                // \[GOWAKU\] filter/client.go `peerPingInterval = 1 min`;
                // filter_health_check.go `PingTimeout = 5 s`, one immediate retry, then the
                // subscriptions on that peer are closed (2 failures in a row).
                ping_interval: SimDuration::from_mins(1),
                ping_timeout: SimDuration::from_secs(5),
                request_timeout: SimDuration::from_secs(10),
                ping_failures_before_lost: 2,
                retry_failed_ping_immediately: true,
                // \[GOWAKU\] filter/client.go `onRequest`: unknown peer ⇒ reset; criteria not
                // subscribed on that peer ⇒ dropped.
                push_check: PushCheck::PeerAndCriterion,
                dedup_ttl: None,
                ..FilterClientConfig::common()
            },
        }
    }

    /// js-waku light client; js-waku has no filter service, so the service is nwaku's (what
    /// js-waku talks to in practice).
    pub fn js_waku() -> Self {
        Self {
            service: FilterServiceConfig::nwaku(),
            client: FilterClientConfig {
                // \[JSW\] sdk/src/filter/filter.ts: keepAliveIntervalMs = 60 000,
                // pingsBeforePeerRenewed = 3 (consecutive, across intervals).
                ping_interval: SimDuration::from_mins(1),
                // js-waku sets no ping timeout (a ping fails when its stream errors); the
                // simulator uses nwaku's 10 s dial timeout so a silent peer still fails.
                ping_timeout: SimDuration::from_secs(10),
                request_timeout: SimDuration::from_secs(10),
                ping_failures_before_lost: 3,
                retry_failed_ping_immediately: false,
                // \[JSW\] core filter.ts `onRequest` routes by pubsub/content topic only.
                push_check: PushCheck::Criterion,
                // \[JSW\] subscription.ts `receivedMessages = new TTLSet(60_000)`.
                dedup_ttl: Some(SimDuration::from_mins(1)),
                ..FilterClientConfig::common()
            },
        }
    }
}

/// Which implementation's request-handling quirks the service reproduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceFlavor {
    /// \[NWAKU\] `waku_filter_v2/{protocol,subscriptions}.nim`: 400 only for a missing pubsub
    /// topic, no content topics or more than 100; the max-peers check applies to new peers
    /// only; a peer entry that expired but was not yet purged is revived by SUBSCRIBE;
    /// UNSUBSCRIBE answers 404 for an unknown peer or a criterion nobody subscribed to.
    Nwaku,
    /// \[GOWAKU\] `filter/server.go`, `pb/validation.go`, `subscribers_map.go`: also 400 for an
    /// empty request id, empty pubsub topic or empty content topic; SUBSCRIBE is refused (503)
    /// whenever the subscriber count is at the maximum, even for a peer already subscribed;
    /// UNSUBSCRIBE answers 404 only for an unknown peer or pubsub topic.
    GoWaku,
}

/// How idle subscriptions end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryRule {
    /// nwaku: a subscriber idle for the TTL gets no pushes, answers 404 to pings, and is
    /// purged at the next maintenance.
    Ttl,
    /// go-waku as written: pushes and pings ignore the TTL, and the one-minute cleanup deletes
    /// every subscriber seen **less** than the TTL ago (`if elapsedTime < sub.timeout`), i.e.
    /// every active subscription ends at the first cleanup after it was made or refreshed;
    /// the client only notices through a failed ping (404). \[GOWAKU\] subscribers_map.go
    /// `cleanUp`, unchanged since 2023 (commit 0b01e4b).
    GoWakuInvertedSweep,
}

/// How a per-peer request budget refills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitMode {
    /// Refilled to `requests` once a whole `period` has passed since the bucket was full.
    Strict,
    /// As `Strict`, plus up to 25 % extra for budget left unused (nwaku's default mode).
    Compensating,
    /// A continuous token bucket: one token every `period / requests`, burst `requests`.
    Continuous,
}

/// A per-peer request budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per period (the burst); positive.
    pub requests: u32,
    /// The refill period; positive.
    pub period: SimDuration,
    /// How the budget refills.
    pub mode: RateLimitMode,
}

/// What a filter service node does.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterServiceConfig {
    /// Request-handling quirks.
    pub flavor: ServiceFlavor,
    /// Content topics allowed in one SUBSCRIBE/UNSUBSCRIBE (more ⇒ 400). 100 in nwaku
    /// (`MaxContentTopicsPerRequest`) and go-waku.
    pub max_content_topics_per_request: usize,
    /// Criteria one subscriber may hold (more ⇒ 503). 1000 in nwaku (`MaxFilterCriteriaPerPeer`,
    /// CLI `--filter-max-criteria`) and go-waku (`MaxCriteriaPerSubscription`).
    pub max_criteria_per_peer: usize,
    /// Subscribers served at once (more ⇒ 503). nwaku CLI `--filter-max-peers-to-serve` 1000
    /// (library constant `MaxFilterPeers` 100, conf builder 500); go-waku `DefaultMaxSubscribers` 20.
    pub max_peers: usize,
    /// Idle time (no SUBSCRIBE/PING/UNSUBSCRIBE) after which a subscription ends; `None` =
    /// never. 5 min in nwaku (`DefaultSubscriptionTimeToLiveSec`) and go-waku
    /// (`DefaultIdleSubscriptionTimeout`).
    pub subscription_ttl: Option<SimDuration>,
    /// How the TTL is applied.
    pub expiry_rule: ExpiryRule,
    /// Period of [`FilterService::maintenance`](super::FilterService::maintenance): 1 min in
    /// nwaku (`MaintainSubscriptionsInterval`) and go-waku (`cleanupInterval`).
    pub maintenance_interval: SimDuration,
    /// De-duplication of pushes by message hash: the same hash is pushed at most once per
    /// window, refreshed on each sighting. nwaku `MessageCacheTTL` 2 min; go-waku none.
    pub dedup_ttl: Option<SimDuration>,
    /// Bound on the de-duplication cache (simulator bound; nim's TimedCache is bounded only by
    /// its TTL).
    pub dedup_capacity: usize,
    /// Time the node gives a push before it reports it failed: 20 s in nwaku
    /// (`MessagePushTimeout`, whole fan-out) and go-waku (per stream).
    pub push_timeout: SimDuration,
    /// Drop a subscriber whose pushes have failed without a success for this long; `None` =
    /// push failures never drop anyone (nwaku, go-waku). \[RFC\] recommends 1 min.
    pub unreachable_timeout: Option<SimDuration>,
    /// Per-peer request budget, answered with 429 and request id "N/A" when exceeded.
    /// nwaku `FilterDefaultPerPeerRateLimit` 30 / 1 min (compensating); go-waku full node
    /// `WithFullNodeRateLimiter(1, 1)`: 1 request/s, burst 1.
    pub rate_limit: Option<RateLimit>,
    /// Peers the rate limiter tracks at once (simulator bound; least recently used evicted).
    pub rate_limiter_capacity: usize,
}

impl Default for FilterServiceConfig {
    fn default() -> Self {
        Self::nwaku()
    }
}

impl FilterServiceConfig {
    /// nwaku `wakunode2` defaults.
    pub fn nwaku() -> Self {
        Self {
            flavor: ServiceFlavor::Nwaku,
            max_content_topics_per_request: 100,
            max_criteria_per_peer: 1000,
            max_peers: 1000,
            subscription_ttl: Some(SimDuration::from_mins(5)),
            expiry_rule: ExpiryRule::Ttl,
            maintenance_interval: SimDuration::from_mins(1),
            dedup_ttl: Some(SimDuration::from_mins(2)),
            dedup_capacity: 20_000,
            push_timeout: SimDuration::from_secs(20),
            unreachable_timeout: None,
            rate_limit: Some(RateLimit {
                requests: 30,
                period: SimDuration::from_mins(1),
                mode: RateLimitMode::Compensating,
            }),
            rate_limiter_capacity: 4096,
        }
    }

    /// go-waku full node defaults.
    pub fn go_waku() -> Self {
        Self {
            flavor: ServiceFlavor::GoWaku,
            max_peers: 20,
            expiry_rule: ExpiryRule::GoWakuInvertedSweep,
            dedup_ttl: None,
            rate_limit: Some(RateLimit {
                requests: 1,
                period: SimDuration::from_secs(1),
                mode: RateLimitMode::Continuous,
            }),
            ..Self::nwaku()
        }
    }
}

/// Which pushes a client accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushCheck {
    /// Any push with a message and a pubsub topic (nwaku client).
    None,
    /// Pushes whose (pubsub topic, content topic) the client subscribed to on any service
    /// peer (js-waku).
    Criterion,
    /// Pushes from a service peer the client subscribed to, for a criterion subscribed on
    /// that peer (go-waku; \[RFC\] "SHOULD verify").
    PeerAndCriterion,
}

/// What a filter client (light node) does.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterClientConfig {
    /// SUBSCRIBER_PING period per service peer.
    pub ping_interval: SimDuration,
    /// A ping unanswered for this long has failed.
    pub ping_timeout: SimDuration,
    /// A SUBSCRIBE/UNSUBSCRIBE unanswered for this long has failed.
    pub request_timeout: SimDuration,
    /// Consecutive failed pings (error status, 404 included, or timeout) after which the
    /// subscriptions on that peer are reported lost. Positive.
    pub ping_failures_before_lost: u32,
    /// Send the next ping at once after a failure instead of at the next interval (go-waku).
    pub retry_failed_ping_immediately: bool,
    /// Which pushes are accepted.
    pub push_check: PushCheck,
    /// Drop a pushed message already received (same message hash) within this window; `None` =
    /// no de-duplication.
    pub dedup_ttl: Option<SimDuration>,
    /// Bound on the de-duplication cache.
    pub dedup_capacity: usize,
    /// Service peers subscribed to at once (simulator bound; js-waku uses 2, status-go 2).
    pub max_service_peers: usize,
    /// Requests awaiting an answer at once (simulator bound).
    pub max_pending_requests: usize,
    /// Content topics per request (the service rejects more): 100 in nwaku and go-waku.
    pub max_content_topics_per_request: usize,
}

/// The spec client (ping every 1 min, lost after 2 failures): nwaku itself has no filter
/// keep-alive loop, so there is no "nwaku default" to take.
impl Default for FilterClientConfig {
    fn default() -> Self {
        FilterConfig::spec().client
    }
}

impl FilterClientConfig {
    /// The bounds shared by every preset.
    fn common() -> Self {
        Self {
            ping_interval: SimDuration::from_mins(1),
            ping_timeout: SimDuration::from_secs(5),
            request_timeout: SimDuration::from_secs(10),
            ping_failures_before_lost: 2,
            retry_failed_ping_immediately: false,
            push_check: PushCheck::PeerAndCriterion,
            dedup_ttl: None,
            dedup_capacity: 10_000,
            max_service_peers: 8,
            max_pending_requests: 64,
            max_content_topics_per_request: 100,
        }
    }
}
