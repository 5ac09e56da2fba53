//! The lightpush client: builds a v3 [`LightPushRequest`] or, with
//! [`LightpushVersion::V2`], a legacy [`PushRpc`]; tracks each request in flight with a
//! deadline; matches responses by `request_id`; and maps both versions' answers onto one
//! outcome ([`LightPushClientOutput::Pushed`] or [`LightPushClientOutput::Failed`]).
//!
//! Request ids are 10 random bytes in hex (nwaku `generateRequestId`). A response with the
//! id `"N/A"` (rate limited, or undecodable in nwaku) or an empty id is matched to the oldest
//! request in flight to that peer. The pending table is bounded by
//! [`LightPushClientConfig::max_pending`]. Retrying another service node is the reliability
//! layer's business, not this machine's.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{NodeId, SimRng, SimTime};

use super::config::{LightPushClientConfig, LightpushVersion, REQUEST_ID_NOT_PARSED, ShardingMode};
use crate::codec::{self, DecodeError};
use crate::message::MessageHash;
use crate::proto::{LightPushRequest, LightPushResponse, PushRequest, PushRpc, WakuMessage};
use crate::protocol_ids::Protocol;
use crate::sharding::{TopicError, autoshard};
use crate::store::generate_request_id;

/// A request as it goes on the wire, in either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LightPushWireRequest {
    /// `/vac/waku/lightpush/3.0.0`.
    V3(LightPushRequest),
    /// `/vac/waku/lightpush/2.0.0-beta1`.
    V2(PushRpc),
}

impl LightPushWireRequest {
    /// The protocol the request is sent on.
    pub fn protocol(&self) -> Protocol {
        match self {
            Self::V3(_) => Protocol::LightpushV3,
            Self::V2(_) => Protocol::LightpushV2,
        }
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        match self {
            Self::V3(r) => &r.request_id,
            Self::V2(r) => &r.request_id,
        }
    }

    /// Bytes on the wire (length prefix included).
    pub fn frame_len(&self) -> usize {
        match self {
            Self::V3(r) => codec::frame_len(r),
            Self::V2(r) => codec::frame_len(r),
        }
    }

    /// The framed bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::V3(r) => codec::encode_frame(r),
            Self::V2(r) => codec::encode_frame(r),
        }
    }
}

/// A response as it comes off the wire, in either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LightPushWireResponse {
    /// v3.
    V3(LightPushResponse),
    /// v2 (the `PushRpc` envelope with `response` set).
    V2(PushRpc),
}

impl LightPushWireResponse {
    /// Decodes one framed response of `version`.
    pub fn decode(version: LightpushVersion, frame: &[u8]) -> Result<Self, DecodeError> {
        Ok(match version {
            LightpushVersion::V3 => Self::V3(codec::decode_frame(frame)?.0),
            LightpushVersion::V2 => Self::V2(codec::decode_frame(frame)?.0),
        })
    }

    /// The response's request id.
    pub fn request_id(&self) -> &str {
        match self {
            Self::V3(r) => &r.request_id,
            Self::V2(r) => &r.request_id,
        }
    }

    /// Bytes on the wire (length prefix included).
    pub fn frame_len(&self) -> usize {
        match self {
            Self::V3(r) => codec::frame_len(r),
            Self::V2(r) => codec::frame_len(r),
        }
    }
}

/// Why a push failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LightPushFailure {
    /// v3: a non-200 status (v2 rate limiting is reported as 429 too).
    #[error("lightpush service answered {code}: {}", desc.as_deref().unwrap_or(""))]
    Status {
        /// The status code.
        code: u32,
        /// The description, if any.
        desc: Option<String>,
    },
    /// v3: 200 with zero (or no) relay peers, which the nwaku client counts as failure.
    #[error("lightpush service reached no relay peers")]
    NoPeersToRelay {
        /// The description, if any.
        desc: Option<String>,
    },
    /// v2: `is_success = false`.
    #[error("lightpush service refused: {}", info.as_deref().unwrap_or(""))]
    Rejected {
        /// The `info` text.
        info: Option<String>,
    },
    /// v2: an envelope without `response`.
    #[error("lightpush response without a response body")]
    MissingResponse,
    /// No response within the request timeout.
    #[error("lightpush request timed out")]
    Timeout,
    /// The connection to the service node closed with the request in flight.
    #[error("connection to the lightpush peer closed")]
    Disconnected,
}

/// Why the client refused to send a push.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LightPushClientError {
    /// `max_pending` requests are already in flight.
    #[error("{max} lightpush requests already in flight")]
    TooManyPending {
        /// The bound.
        max: usize,
    },
    /// A v2 push needs a pubsub topic, and autosharding could not derive one.
    #[error("lightpush v2 needs a pubsub topic: {0}")]
    NoPubsubTopic(#[source] TopicError),
    /// A v2 push without a topic under static sharding.
    #[error("lightpush v2 needs a pubsub topic under static sharding")]
    NoPubsubTopicStatic,
}

/// What the lightpush client wants done or reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LightPushClientOutput {
    /// Send `request` to `peer` on a new stream of `request.protocol()`.
    Send {
        /// The service node.
        peer: NodeId,
        /// The request.
        request: LightPushWireRequest,
    },
    /// The service node accepted and published the message.
    Pushed {
        /// The request.
        request_id: String,
        /// The service node.
        peer: NodeId,
        /// The message hash, when the pubsub topic is known (given or autosharded here).
        message_hash: Option<MessageHash>,
        /// v3: the peers reached; v2: `None`.
        relay_peer_count: Option<u32>,
    },
    /// The push failed.
    Failed {
        /// The request.
        request_id: String,
        /// The service node.
        peer: NodeId,
        /// The message hash, when the pubsub topic is known.
        message_hash: Option<MessageHash>,
        /// Why.
        error: LightPushFailure,
    },
    /// A response that matches no request in flight.
    Unmatched {
        /// The sender.
        peer: NodeId,
        /// Its request id.
        request_id: String,
    },
}

#[derive(Debug, Clone)]
struct Pending {
    peer: NodeId,
    message_hash: Option<MessageHash>,
    deadline: SimTime,
    sent_seq: u64,
}

/// The lightpush client machine (see the module doc).
#[derive(Debug, Clone)]
pub struct LightPushClient {
    config: LightPushClientConfig,
    next_seq: u64,
    pending: BTreeMap<String, Pending>,
    deadlines: BTreeSet<(SimTime, String)>,
}

impl LightPushClient {
    /// A client with nothing in flight.
    pub fn new(config: LightPushClientConfig) -> Self {
        Self {
            config,
            next_seq: 0,
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LightPushClientConfig {
        &self.config
    }

    /// Number of requests in flight.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Pushes `message` through `peer` at `now`, on `pubsub_topic` or (v3) the topic the
    /// service derives by autosharding. Appends the [`LightPushClientOutput::Send`]; returns
    /// the request id.
    pub fn push(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        peer: NodeId,
        pubsub_topic: Option<String>,
        mut message: WakuMessage,
        out: &mut Vec<LightPushClientOutput>,
    ) -> Result<String, LightPushClientError> {
        if self.pending.len() >= self.config.max_pending {
            return Err(LightPushClientError::TooManyPending {
                max: self.config.max_pending,
            });
        }
        if self.config.stamp_missing_timestamp && message.timestamp() == 0 {
            message.timestamp = Some(i64::try_from(now.as_nanos()).unwrap_or(i64::MAX));
        }
        let derived = match (&pubsub_topic, self.config.sharding) {
            (Some(_), _) => None,
            (
                None,
                ShardingMode::Auto {
                    cluster_id,
                    shard_count,
                },
            ) => Some(
                autoshard(&message.content_topic, cluster_id, shard_count)
                    .map(|shard| shard.pubsub_topic()),
            ),
            (None, ShardingMode::Static) => None,
        };
        let known_topic: Option<String> = match (&pubsub_topic, &derived) {
            (Some(topic), _) => Some(topic.clone()),
            (None, Some(Ok(topic))) => Some(topic.clone()),
            _ => None,
        };
        let v2_topic = match (self.config.version, &known_topic, derived) {
            (LightpushVersion::V3, _, _) => None,
            (LightpushVersion::V2, Some(topic), _) => Some(topic.clone()),
            (LightpushVersion::V2, None, Some(Err(e))) => {
                return Err(LightPushClientError::NoPubsubTopic(e));
            }
            (LightpushVersion::V2, None, _) => {
                return Err(LightPushClientError::NoPubsubTopicStatic);
            }
        };
        let mut request_id = generate_request_id(rng);
        while self.pending.contains_key(&request_id) {
            request_id = generate_request_id(rng);
        }
        let message_hash = known_topic.as_deref().map(|topic| message.hash(topic));
        let request = match v2_topic {
            None => LightPushWireRequest::V3(LightPushRequest {
                request_id: request_id.clone(),
                pubsub_topic,
                message: Some(message),
            }),
            Some(topic) => LightPushWireRequest::V2(PushRpc {
                request_id: request_id.clone(),
                request: Some(PushRequest {
                    pubsub_topic: topic,
                    message: Some(message),
                }),
                response: None,
            }),
        };
        let deadline = now + self.config.request_timeout;
        self.pending.insert(
            request_id.clone(),
            Pending {
                peer,
                message_hash,
                deadline,
                sent_seq: self.next_seq,
            },
        );
        self.next_seq += 1;
        self.deadlines.insert((deadline, request_id.clone()));
        out.push(LightPushClientOutput::Send { peer, request });
        Ok(request_id)
    }

    /// The earliest request deadline.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }

    /// Fails every request whose deadline is at or before `now` with
    /// [`LightPushFailure::Timeout`].
    pub fn handle_timeout(&mut self, now: SimTime, out: &mut Vec<LightPushClientOutput>) {
        while let Some((deadline, request_id)) = self.deadlines.first().cloned() {
            if deadline > now {
                break;
            }
            self.finish(&request_id, Err(LightPushFailure::Timeout), out);
        }
    }

    /// Fails every request in flight to `peer` (its connection closed).
    pub fn peer_disconnected(&mut self, peer: NodeId, out: &mut Vec<LightPushClientOutput>) {
        let ids: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.peer == peer)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.finish(&id, Err(LightPushFailure::Disconnected), out);
        }
    }

    /// Handles a response of either version from `from`.
    pub fn handle_response(
        &mut self,
        from: NodeId,
        response: LightPushWireResponse,
        out: &mut Vec<LightPushClientOutput>,
    ) {
        let Some(request_id) = self.match_response(from, response.request_id()) else {
            out.push(LightPushClientOutput::Unmatched {
                peer: from,
                request_id: response.request_id().to_string(),
            });
            return;
        };
        let outcome = match response {
            LightPushWireResponse::V3(r) => self.v3_outcome(r),
            LightPushWireResponse::V2(rpc) => v2_outcome(rpc),
        };
        self.finish(&request_id, outcome, out);
    }

    fn v3_outcome(&self, r: LightPushResponse) -> Result<Option<u32>, LightPushFailure> {
        if r.status_code != 200 {
            return Err(LightPushFailure::Status {
                code: r.status_code,
                desc: r.status_desc,
            });
        }
        match r.relay_peer_count {
            None | Some(0) if self.config.zero_peers_is_failure => {
                Err(LightPushFailure::NoPeersToRelay {
                    desc: r.status_desc,
                })
            }
            count => Ok(count),
        }
    }

    fn match_response(&self, from: NodeId, request_id: &str) -> Option<String> {
        if let Some(p) = self.pending.get(request_id) {
            return (p.peer == from).then(|| request_id.to_string());
        }
        if request_id.is_empty() || request_id == REQUEST_ID_NOT_PARSED {
            return self
                .pending
                .iter()
                .filter(|(_, p)| p.peer == from)
                .min_by_key(|(_, p)| p.sent_seq)
                .map(|(id, _)| id.clone());
        }
        None
    }

    fn finish(
        &mut self,
        request_id: &str,
        outcome: Result<Option<u32>, LightPushFailure>,
        out: &mut Vec<LightPushClientOutput>,
    ) {
        let Some(p) = self.pending.remove(request_id) else {
            return;
        };
        self.deadlines.remove(&(p.deadline, request_id.to_string()));
        out.push(match outcome {
            Ok(relay_peer_count) => LightPushClientOutput::Pushed {
                request_id: request_id.to_string(),
                peer: p.peer,
                message_hash: p.message_hash,
                relay_peer_count,
            },
            Err(error) => LightPushClientOutput::Failed {
                request_id: request_id.to_string(),
                peer: p.peer,
                message_hash: p.message_hash,
                error,
            },
        });
    }
}

/// The outcome of a v2 response envelope.
fn v2_outcome(rpc: PushRpc) -> Result<Option<u32>, LightPushFailure> {
    let Some(response) = rpc.response else {
        return Err(LightPushFailure::MissingResponse);
    };
    if response.is_success {
        Ok(None)
    } else if rpc.request_id == REQUEST_ID_NOT_PARSED {
        Err(LightPushFailure::Status {
            code: 429,
            desc: response.info,
        })
    } else {
        Err(LightPushFailure::Rejected {
            info: response.info,
        })
    }
}
