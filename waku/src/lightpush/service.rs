//! The lightpush service: validates a v3 [`LightPushRequest`] (or a legacy v2 [`PushRpc`]),
//! resolves its pubsub topic (autosharding when absent), and answers with the preset's status
//! code, handing the caller the message to publish over relay when the push is accepted.
//!
//! The service does not publish: the node knows its relay peers. It either passes the relay
//! peer count for the topic up front ([`LightPushService::handle_request`]), or first asks
//! which topic a valid request resolves to ([`LightPushService::check`]) and then completes it
//! with that topic's peer count ([`LightPushService::complete`]). With zero peers the response
//! is NO_PEERS_TO_RELAY and nothing is published (nwaku's relay `publish` fails with
//! `NoPeersToPublish`). Other publish failures (e.g. a duplicate the relay has already seen,
//! nwaku 420) are answered with [`LightPushService::error_response`].
//!
//! Pipeline (nwaku `waku_lightpush/protocol.nim` and `callbacks.nim`): rate limit → decode
//! checks (request id, message, payload, content topic, meta) → topic resolution → empty
//! topic → served topic (spec preset) → size → peers.

use sim_core::{NodeId, SimTime};

use super::config::{
    LightPushConfig, LightPushStatus, REQUEST_ID_NOT_PARSED, ShardingMode, TOO_MANY_REQUESTS_DESC,
};
use crate::message::MAX_META_BYTES;
use crate::proto::{LightPushRequest, LightPushResponse, PushResponse, PushRpc, WakuMessage};
use crate::sharding::ContentTopic;
use crate::store::rate_limit::RateLimiter;

/// A push that passed validation: what to publish, on which topic, for which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedPush {
    /// The request's id.
    pub request_id: String,
    /// The resolved pubsub topic.
    pub pubsub_topic: String,
    /// The message to publish (timestamp stamped if the preset does so).
    pub message: WakuMessage,
}

/// Why a push was refused: the status and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRefusal {
    /// The request id to answer with (`"N/A"` when the request counts as not parsed).
    pub request_id: String,
    /// The status.
    pub status: LightPushStatus,
    /// A description for `status_desc` / `info`.
    pub desc: String,
}

/// What a lightpush service has done (for reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LightPushStats {
    /// Pushes accepted and handed to relay.
    pub accepted: u64,
    /// Pushes refused for lack of relay peers.
    pub no_peers: u64,
    /// Pushes refused as invalid.
    pub invalid: u64,
    /// Requests refused by the rate limiter.
    pub rate_limited: u64,
}

/// The lightpush service machine (see the module doc).
#[derive(Debug, Clone)]
pub struct LightPushService {
    config: LightPushConfig,
    limiter: Option<RateLimiter>,
    stats: LightPushStats,
}

impl LightPushService {
    /// A service started at `now` (the rate limiter's buckets start full).
    pub fn new(config: LightPushConfig, now: SimTime) -> Self {
        let limiter = config
            .rate_limit
            .clone()
            .map(|rate_limit| RateLimiter::new(rate_limit, now));
        Self {
            config,
            limiter,
            stats: LightPushStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LightPushConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> LightPushStats {
        self.stats
    }

    /// Handles a v3 request from `from` at `now`, given the number of relay peers the message
    /// would reach: the response, and the (topic, message) to publish if accepted.
    pub fn handle_request(
        &mut self,
        now: SimTime,
        from: NodeId,
        request: &LightPushRequest,
        relay_peer_count: usize,
    ) -> (LightPushResponse, Option<(String, WakuMessage)>) {
        match self.check(now, from, request) {
            Ok(accepted) => self.complete(accepted, relay_peer_count),
            Err(refusal) => (self.refusal_response(&refusal), None),
        }
    }

    /// Rate limit and validation of a v3 request: the accepted push, or why it is refused
    /// (answer with [`LightPushService::refusal_response`]).
    pub fn check(
        &mut self,
        now: SimTime,
        from: NodeId,
        request: &LightPushRequest,
    ) -> Result<AcceptedPush, PushRefusal> {
        if !self.allow(now, from) {
            return Err(rate_limited());
        }
        self.validate(
            now,
            &request.request_id,
            request.pubsub_topic.as_deref(),
            request.message.as_ref(),
        )
        .inspect_err(|_| self.stats.invalid += 1)
    }

    /// Answers an accepted push given the relay peer count of its topic: 200 with the count
    /// and the message to publish, or NO_PEERS_TO_RELAY with nothing to publish.
    pub fn complete(
        &mut self,
        accepted: AcceptedPush,
        relay_peer_count: usize,
    ) -> (LightPushResponse, Option<(String, WakuMessage)>) {
        if relay_peer_count == 0 {
            self.stats.no_peers += 1;
            let response = self.error_response(
                &accepted.request_id,
                LightPushStatus::NoPeersToRelay,
                "No peers for topic, skipping publish",
            );
            return (response, None);
        }
        self.stats.accepted += 1;
        let response = LightPushResponse {
            request_id: accepted.request_id,
            status_code: self.config.codes.success,
            status_desc: None,
            relay_peer_count: Some(u32::try_from(relay_peer_count).unwrap_or(u32::MAX)),
        };
        (response, Some((accepted.pubsub_topic, accepted.message)))
    }

    /// An error response with this preset's code for `status`.
    pub fn error_response(
        &self,
        request_id: &str,
        status: LightPushStatus,
        desc: &str,
    ) -> LightPushResponse {
        LightPushResponse {
            request_id: request_id.to_string(),
            status_code: self.config.codes.code(status),
            status_desc: Some(desc.to_string()),
            relay_peer_count: None,
        }
    }

    /// Handles a legacy v2 request (see [`LightPushService::handle_request`]).
    pub fn handle_v2_request(
        &mut self,
        now: SimTime,
        from: NodeId,
        rpc: &PushRpc,
        relay_peer_count: usize,
    ) -> (PushRpc, Option<(String, WakuMessage)>) {
        match self.check_v2(now, from, rpc) {
            Ok(accepted) => self.complete_v2(accepted, relay_peer_count),
            Err(refusal) => (self.refusal_response_v2(&refusal), None),
        }
    }

    /// Rate limit and validation of a v2 request (answer a refusal with
    /// [`LightPushService::refusal_response_v2`]).
    pub fn check_v2(
        &mut self,
        now: SimTime,
        from: NodeId,
        rpc: &PushRpc,
    ) -> Result<AcceptedPush, PushRefusal> {
        if !self.allow(now, from) {
            return Err(rate_limited());
        }
        let refuse = |desc: &str| PushRefusal {
            request_id: rpc.request_id.clone(),
            status: LightPushStatus::BadRequest,
            desc: desc.to_string(),
        };
        let result = match rpc.request.as_ref() {
            None => Err(refuse("empty_request_body_failure")),
            Some(request) if request.pubsub_topic.trim().is_empty() => {
                Err(refuse("invalid request: missing PubsubTopic field"))
            }
            Some(request) => self
                .validate(
                    now,
                    &rpc.request_id,
                    Some(&request.pubsub_topic),
                    request.message.as_ref(),
                )
                .map_err(|refusal| PushRefusal {
                    desc: format!("invalid request: {}", refusal.desc),
                    ..refusal
                }),
        };
        result.inspect_err(|_| self.stats.invalid += 1)
    }

    /// Answers an accepted v2 push: `is_success` with "OK", or nwaku's
    /// "not_published_to_any_peer" with zero relay peers.
    pub fn complete_v2(
        &mut self,
        accepted: AcceptedPush,
        relay_peer_count: usize,
    ) -> (PushRpc, Option<(String, WakuMessage)>) {
        if relay_peer_count == 0 {
            self.stats.no_peers += 1;
            let rpc = v2_response(&accepted.request_id, false, "not_published_to_any_peer");
            return (rpc, None);
        }
        self.stats.accepted += 1;
        let rpc = v2_response(&accepted.request_id, true, "OK");
        (rpc, Some((accepted.pubsub_topic, accepted.message)))
    }

    /// The pubsub topic a request would be published on, or why it cannot be.
    pub fn resolve_pubsub_topic(
        &self,
        pubsub_topic: Option<&str>,
        message: &WakuMessage,
    ) -> Result<String, (LightPushStatus, String)> {
        if let Some(topic) = pubsub_topic {
            return Ok(topic.to_string());
        }
        let ShardingMode::Auto {
            cluster_id,
            shard_count,
        } = self.config.sharding
        else {
            return Err((
                LightPushStatus::InvalidMessage,
                "Pubsub topic must be specified when static sharding is enabled".into(),
            ));
        };
        let parsed = ContentTopic::parse(&message.content_topic).map_err(|e| {
            (
                LightPushStatus::InvalidMessage,
                format!("Invalid content-topic: {e}"),
            )
        })?;
        let shard = parsed.shard(cluster_id, shard_count).map_err(|e| {
            (
                LightPushStatus::InternalServerError,
                format!("Auto-sharding error: {e}"),
            )
        })?;
        Ok(shard.pubsub_topic())
    }

    fn allow(&mut self, now: SimTime, from: NodeId) -> bool {
        let allowed = self
            .limiter
            .as_mut()
            .is_none_or(|limiter| limiter.check(now, from));
        if !allowed {
            self.stats.rate_limited += 1;
        }
        allowed
    }

    /// The v3 response to a refused push.
    pub fn refusal_response(&self, refusal: &PushRefusal) -> LightPushResponse {
        self.error_response(&refusal.request_id, refusal.status, &refusal.desc)
    }

    /// The v2 response to a refused push (`is_success = false`, the description as `info`).
    pub fn refusal_response_v2(&self, refusal: &PushRefusal) -> PushRpc {
        v2_response(&refusal.request_id, false, &refusal.desc)
    }

    /// The version-independent checks, in nwaku's order.
    fn validate(
        &self,
        now: SimTime,
        request_id: &str,
        pubsub_topic: Option<&str>,
        message: Option<&WakuMessage>,
    ) -> Result<AcceptedPush, PushRefusal> {
        let decode_error = |desc: String| PushRefusal {
            request_id: if self.config.decode_errors_not_parsed {
                REQUEST_ID_NOT_PARSED.to_string()
            } else {
                request_id.to_string()
            },
            status: LightPushStatus::BadRequest,
            desc: format!("decode_rpc_failure: {desc}"),
        };
        let refuse = |status: LightPushStatus, desc: String| PushRefusal {
            request_id: request_id.to_string(),
            status,
            desc,
        };
        if request_id.is_empty() {
            return Err(decode_error("missing required field: request_id".into()));
        }
        let Some(message) = message else {
            return Err(decode_error("missing required field: message".into()));
        };
        if message.payload.is_empty() {
            return Err(decode_error("missing required field: payload".into()));
        }
        if message.content_topic.is_empty() {
            return Err(decode_error("missing required field: content_topic".into()));
        }
        if message.meta().len() > MAX_META_BYTES {
            return Err(decode_error(format!(
                "meta is {} bytes, more than {MAX_META_BYTES}",
                message.meta().len()
            )));
        }
        let topic = self
            .resolve_pubsub_topic(pubsub_topic, message)
            .map_err(|(status, desc)| refuse(status, desc))?;
        if topic.trim().is_empty() {
            return Err(refuse(
                LightPushStatus::BadRequest,
                "topic must not be empty".into(),
            ));
        }
        if self.config.reject_unserved_topics
            && !self.config.served_pubsub_topics.is_empty()
            && !self.config.served_pubsub_topics.contains(&topic)
        {
            return Err(refuse(
                LightPushStatus::UnsupportedPubsubTopic,
                format!("pubsub topic {topic} is not served by this node"),
            ));
        }
        let mut message = message.clone();
        if self.config.stamp_missing_timestamp && message.timestamp() == 0 {
            message.timestamp = Some(i64::try_from(now.as_nanos()).unwrap_or(i64::MAX));
        }
        let size = prost::Message::encoded_len(&message);
        if size > self.config.max_message_bytes {
            return Err(refuse(
                LightPushStatus::PayloadTooLarge,
                format!(
                    "Message size exceeded maximum of {} bytes",
                    self.config.max_message_bytes
                ),
            ));
        }
        Ok(AcceptedPush {
            request_id: request_id.to_string(),
            pubsub_topic: topic,
            message,
        })
    }
}

/// The refusal of a rate-limited request (not parsed, hence `request_id = "N/A"`).
fn rate_limited() -> PushRefusal {
    PushRefusal {
        request_id: REQUEST_ID_NOT_PARSED.to_string(),
        status: LightPushStatus::TooManyRequests,
        desc: TOO_MANY_REQUESTS_DESC.to_string(),
    }
}

fn v2_response(request_id: &str, is_success: bool, info: &str) -> PushRpc {
    PushRpc {
        request_id: request_id.to_string(),
        request: None,
        response: Some(PushResponse {
            is_success,
            info: Some(info.to_string()),
        }),
    }
}
