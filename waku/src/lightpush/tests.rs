//! Lightpush tests, driven by hand: service status codes per preset, topic resolution,
//! validation, rate limiting; client matching, timeouts, and v3 and v2 round trips through
//! the wire codecs.

use sim_core::{NodeId, SimDuration, SimRng, SimTime};

use super::*;
use crate::codec::decode_frame;
use crate::message::MAX_MESSAGE_BYTES;
use crate::proto::{LightPushRequest, PushRpc, WakuMessage};
use crate::sharding::autoshard;
use crate::store::RateLimitConfig;

const T0_NS: u64 = 1_700_000_000_000_000_000;
const TOPIC: &str = "/waku/2/rs/1/3";
const CT: &str = "/toychat/2/huilong/proto"; // autoshards to /waku/2/rs/1/3 in TWN
const CLIENT: NodeId = NodeId(10);
const SERVICE: NodeId = NodeId(20);

fn t0() -> SimTime {
    SimTime(T0_NS)
}

fn message() -> WakuMessage {
    WakuMessage::new(b"hello".to_vec(), CT).with_timestamp_ns(T0_NS as i64)
}

fn request(id: &str, topic: Option<&str>, msg: Option<WakuMessage>) -> LightPushRequest {
    LightPushRequest {
        request_id: id.to_string(),
        pubsub_topic: topic.map(str::to_string),
        message: msg,
    }
}

fn service(config: LightPushConfig) -> LightPushService {
    LightPushService::new(config, t0())
}

#[test]
fn no_relay_peers_is_503_in_spec_and_505_in_nwaku() {
    for (config, code) in [
        (LightPushConfig::spec(), 503),
        (LightPushConfig::nwaku(), 505),
    ] {
        let mut svc = service(config);
        let (resp, publish) = svc.handle_request(
            t0(),
            CLIENT,
            &request("r1", Some(TOPIC), Some(message())),
            0,
        );
        assert_eq!(resp.status_code, code);
        assert_eq!(resp.request_id, "r1");
        assert_eq!(resp.relay_peer_count, None);
        assert!(publish.is_none());
        assert_eq!(svc.stats().no_peers, 1);
    }
    assert_eq!(
        LightPushCodes::spec().statuses_of(503),
        [
            LightPushStatus::ServiceNotAvailable,
            LightPushStatus::NoPeersToRelay
        ]
    );
    assert_eq!(
        LightPushCodes::nwaku().statuses_of(505),
        [LightPushStatus::NoPeersToRelay]
    );
}

#[test]
fn accepted_push_returns_200_with_peer_count_and_the_message_to_publish() {
    let mut svc = service(LightPushConfig::nwaku());
    let (resp, publish) = svc.handle_request(
        t0(),
        CLIENT,
        &request("ok", Some(TOPIC), Some(message())),
        6,
    );
    assert_eq!(resp.status_code, 200);
    assert_eq!(resp.request_id, "ok");
    assert_eq!(resp.relay_peer_count, Some(6));
    assert_eq!(publish, Some((TOPIC.to_string(), message())));
    assert_eq!(svc.stats().accepted, 1);
}

#[test]
fn absent_pubsub_topic_is_autosharded() {
    let mut svc = service(LightPushConfig::nwaku());
    let (resp, publish) = svc.handle_request(t0(), CLIENT, &request("a", None, Some(message())), 2);
    assert_eq!(resp.status_code, 200);
    let (topic, _) = publish.unwrap();
    assert_eq!(topic, autoshard(CT, 1, 8).unwrap().pubsub_topic());
    assert_eq!(topic, TOPIC);
    // Two-step use: resolve the topic first, then complete with its peer count.
    let accepted = svc
        .check(t0(), CLIENT, &request("b", None, Some(message())))
        .unwrap();
    assert_eq!(accepted.pubsub_topic, TOPIC);
    let (resp, _) = svc.complete(accepted, 3);
    assert_eq!(resp.relay_peer_count, Some(3));
}

#[test]
fn topic_resolution_failures_per_preset() {
    let static_sharding = |config: LightPushConfig| LightPushConfig {
        sharding: ShardingMode::Static,
        ..config
    };
    let cases: [(LightPushConfig, u32); 2] = [
        (static_sharding(LightPushConfig::nwaku()), 420),
        (static_sharding(LightPushConfig::spec()), 400),
    ];
    for (config, code) in cases {
        let mut svc = service(config);
        let (resp, publish) =
            svc.handle_request(t0(), CLIENT, &request("s", None, Some(message())), 5);
        assert_eq!(resp.status_code, code);
        assert!(resp.status_desc.unwrap().contains("static sharding"));
        assert!(publish.is_none());
    }
    let mut nwaku = service(LightPushConfig::nwaku());
    let bad_topic = WakuMessage::new(b"x".to_vec(), "not-a-topic").with_timestamp_ns(1);
    let (resp, _) = nwaku.handle_request(t0(), CLIENT, &request("c", None, Some(bad_topic)), 5);
    assert_eq!(resp.status_code, 420);
    let gen1 = WakuMessage::new(b"x".to_vec(), "/1/toychat/2/huilong/proto").with_timestamp_ns(1);
    let (resp, _) = nwaku.handle_request(t0(), CLIENT, &request("g", None, Some(gen1)), 5);
    assert_eq!(
        resp.status_code, 500,
        "nwaku: autosharding error is internal"
    );
    let (resp, _) =
        nwaku.handle_request(t0(), CLIENT, &request("e", Some("  "), Some(message())), 5);
    assert_eq!(resp.status_code, 400);
    assert_eq!(resp.status_desc.as_deref(), Some("topic must not be empty"));
}

#[test]
fn invalid_messages_are_rejected_with_the_preset_code() {
    let empty_payload = WakuMessage::new(Vec::new(), CT).with_timestamp_ns(1);
    let long_meta = message().with_meta(vec![0; 65]);
    let huge = WakuMessage::new(vec![7; MAX_MESSAGE_BYTES], CT).with_timestamp_ns(1);
    for (config, too_large, decode_id) in [
        (LightPushConfig::nwaku(), 420, "N/A"),
        (LightPushConfig::spec(), 413, "bad"),
    ] {
        let mut svc = service(config);
        for msg in [None, Some(empty_payload.clone()), Some(long_meta.clone())] {
            let (resp, publish) =
                svc.handle_request(t0(), CLIENT, &request("bad", Some(TOPIC), msg), 5);
            assert_eq!(resp.status_code, 400);
            assert_eq!(resp.request_id, decode_id);
            assert!(publish.is_none());
        }
        let (resp, _) =
            svc.handle_request(t0(), CLIENT, &request("", Some(TOPIC), Some(message())), 5);
        assert_eq!(resp.status_code, 400);
        let (resp, publish) = svc.handle_request(
            t0(),
            CLIENT,
            &request("big", Some(TOPIC), Some(huge.clone())),
            5,
        );
        assert_eq!(resp.status_code, too_large);
        assert_eq!(resp.request_id, "big");
        assert!(resp.status_desc.unwrap().contains("Message size exceeded"));
        assert!(publish.is_none());
        assert_eq!(svc.stats().invalid, 5);
    }
}

#[test]
fn unserved_topics_are_421_in_spec_only() {
    let served = [TOPIC.to_string()].into_iter().collect();
    let spec = LightPushConfig {
        served_pubsub_topics: served,
        ..LightPushConfig::spec()
    };
    let nwaku = LightPushConfig {
        served_pubsub_topics: spec.served_pubsub_topics.clone(),
        ..LightPushConfig::nwaku()
    };
    let other = "/waku/2/rs/1/4";
    let (resp, _) = service(spec.clone()).handle_request(
        t0(),
        CLIENT,
        &request("u", Some(other), Some(message())),
        3,
    );
    assert_eq!(resp.status_code, 421);
    let (resp, _) =
        service(spec).handle_request(t0(), CLIENT, &request("u", Some(TOPIC), Some(message())), 3);
    assert_eq!(resp.status_code, 200);
    let (resp, publish) =
        service(nwaku).handle_request(t0(), CLIENT, &request("u", Some(other), Some(message())), 3);
    assert_eq!(resp.status_code, 200);
    assert_eq!(publish.unwrap().0, other);
}

#[test]
fn missing_timestamp_is_stamped_with_the_service_clock() {
    let mut svc = service(LightPushConfig::nwaku());
    let unstamped = WakuMessage::new(b"x".to_vec(), CT);
    let now = t0() + SimDuration::from_secs(3);
    let (_, publish) =
        svc.handle_request(now, CLIENT, &request("t", Some(TOPIC), Some(unstamped)), 1);
    assert_eq!(publish.unwrap().1.timestamp(), now.as_nanos() as i64);
}

#[test]
fn rate_limited_requests_get_429_not_parsed() {
    let config = LightPushConfig {
        rate_limit: Some(RateLimitConfig::per_peer(1, SimDuration::from_secs(1))),
        ..LightPushConfig::nwaku()
    };
    let mut svc = service(config);
    let req = request("rl", Some(TOPIC), Some(message()));
    assert_eq!(svc.handle_request(t0(), CLIENT, &req, 1).0.status_code, 200);
    let (resp, publish) = svc.handle_request(t0(), CLIENT, &req, 1);
    assert_eq!((resp.status_code, resp.request_id.as_str()), (429, "N/A"));
    assert!(publish.is_none());
    let rpc = PushRpc {
        request_id: "v2".into(),
        request: None,
        response: None,
    };
    let (resp, _) = svc.handle_v2_request(t0(), CLIENT, &rpc, 1);
    assert_eq!(resp.request_id, "N/A");
    assert!(!resp.response.unwrap().is_success);
    assert_eq!(
        svc.handle_request(t0() + SimDuration::from_secs(1), CLIENT, &req, 1)
            .0
            .status_code,
        200
    );
    assert_eq!(svc.stats().rate_limited, 2);
}

/// Sends every `Send` of `out` through the wire codecs to `svc` and the responses back.
fn deliver(
    client: &mut LightPushClient,
    svc: &mut LightPushService,
    out: Vec<LightPushClientOutput>,
    relay_peer_count: usize,
) -> Vec<LightPushClientOutput> {
    let mut results = Vec::new();
    for o in out {
        let LightPushClientOutput::Send { peer, request } = o else {
            results.push(o);
            continue;
        };
        assert_eq!(peer, SERVICE);
        let bytes = request.encode();
        assert_eq!(bytes.len(), request.frame_len());
        let response_bytes = match request {
            LightPushWireRequest::V3(_) => {
                let (req, _) = decode_frame::<LightPushRequest>(&bytes).unwrap();
                let (resp, _) = svc.handle_request(t0(), CLIENT, &req, relay_peer_count);
                crate::codec::encode_frame(&resp)
            }
            LightPushWireRequest::V2(_) => {
                let (rpc, _) = decode_frame::<PushRpc>(&bytes).unwrap();
                let (resp, _) = svc.handle_v2_request(t0(), CLIENT, &rpc, relay_peer_count);
                crate::codec::encode_frame(&resp)
            }
        };
        let response =
            LightPushWireResponse::decode(client.config().version, &response_bytes).unwrap();
        client.handle_response(SERVICE, response, &mut results);
    }
    results
}

#[test]
fn v3_round_trip_reports_the_peer_count_and_hash() {
    let mut client = LightPushClient::new(LightPushClientConfig::nwaku());
    let mut svc = service(LightPushConfig::nwaku());
    let mut rng = SimRng::from_seed(1);
    let mut out = Vec::new();
    let id = client
        .push(t0(), &mut rng, SERVICE, None, message(), &mut out)
        .unwrap();
    assert_eq!(id.len(), 20);
    let results = deliver(&mut client, &mut svc, out, 4);
    assert_eq!(
        results,
        [LightPushClientOutput::Pushed {
            request_id: id,
            peer: SERVICE,
            message_hash: Some(message().hash(TOPIC)),
            relay_peer_count: Some(4),
        }]
    );
    assert_eq!(client.pending_len(), 0);
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn zero_peer_answers_per_client_preset() {
    let mut rng = SimRng::from_seed(2);
    // A service answering 200 with 0 peers (as a spec-reading service might).
    let zero = |id: &str| {
        LightPushWireResponse::V3(crate::proto::LightPushResponse {
            request_id: id.to_string(),
            status_code: 200,
            status_desc: None,
            relay_peer_count: Some(0),
        })
    };
    for (config, failure) in [
        (LightPushClientConfig::nwaku(), true),
        (LightPushClientConfig::spec(), false),
    ] {
        let mut client = LightPushClient::new(config);
        let mut out = Vec::new();
        let id = client
            .push(
                t0(),
                &mut rng,
                SERVICE,
                Some(TOPIC.into()),
                message(),
                &mut out,
            )
            .unwrap();
        out.clear();
        client.handle_response(SERVICE, zero(&id), &mut out);
        assert_eq!(
            matches!(
                &out[..],
                [LightPushClientOutput::Failed {
                    error: LightPushFailure::NoPeersToRelay { .. },
                    ..
                }]
            ),
            failure
        );
    }
    // A real no-peers answer is a status failure.
    let mut client = LightPushClient::new(LightPushClientConfig::nwaku());
    let mut svc = service(LightPushConfig::nwaku());
    let mut out = Vec::new();
    client
        .push(
            t0(),
            &mut rng,
            SERVICE,
            Some(TOPIC.into()),
            message(),
            &mut out,
        )
        .unwrap();
    let results = deliver(&mut client, &mut svc, out, 0);
    assert!(matches!(
        &results[..],
        [LightPushClientOutput::Failed {
            error: LightPushFailure::Status { code: 505, .. },
            ..
        }]
    ));
}

#[test]
fn client_timeout_fires_and_late_answers_are_unmatched() {
    let mut client = LightPushClient::new(LightPushClientConfig::nwaku());
    let mut rng = SimRng::from_seed(3);
    let mut out = Vec::new();
    let id = client
        .push(
            t0(),
            &mut rng,
            SERVICE,
            Some(TOPIC.into()),
            message(),
            &mut out,
        )
        .unwrap();
    let deadline = t0() + SimDuration::from_secs(10);
    assert_eq!(client.poll_timeout(), Some(deadline));
    out.clear();
    client.handle_timeout(SimTime(deadline.0 - 1), &mut out);
    assert!(out.is_empty());
    client.handle_timeout(deadline, &mut out);
    assert_eq!(
        out,
        [LightPushClientOutput::Failed {
            request_id: id.clone(),
            peer: SERVICE,
            message_hash: Some(message().hash(TOPIC)),
            error: LightPushFailure::Timeout,
        }]
    );
    out.clear();
    let late = LightPushService::new(LightPushConfig::nwaku(), t0()).error_response(
        &id,
        LightPushStatus::InternalServerError,
        "late",
    );
    client.handle_response(SERVICE, LightPushWireResponse::V3(late), &mut out);
    assert_eq!(
        out,
        [LightPushClientOutput::Unmatched {
            peer: SERVICE,
            request_id: id
        }]
    );
}

#[test]
fn client_matches_by_id_and_not_parsed_answers_to_the_oldest() {
    let mut client = LightPushClient::new(LightPushClientConfig::nwaku());
    let svc = service(LightPushConfig::nwaku());
    let mut rng = SimRng::from_seed(4);
    let mut out = Vec::new();
    let first = client
        .push(
            t0(),
            &mut rng,
            SERVICE,
            Some(TOPIC.into()),
            message(),
            &mut out,
        )
        .unwrap();
    let second = client
        .push(
            t0(),
            &mut rng,
            SERVICE,
            Some(TOPIC.into()),
            message(),
            &mut out,
        )
        .unwrap();
    let other = client
        .push(
            t0(),
            &mut rng,
            NodeId(21),
            Some(TOPIC.into()),
            message(),
            &mut out,
        )
        .unwrap();
    out.clear();
    // The second first, by id; then a rate-limited "N/A" goes to the oldest, the first.
    let ok = |id: &str| {
        LightPushWireResponse::V3(crate::proto::LightPushResponse {
            request_id: id.to_string(),
            status_code: 200,
            status_desc: None,
            relay_peer_count: Some(2),
        })
    };
    client.handle_response(SERVICE, ok(&second), &mut out);
    let na = svc.error_response("N/A", LightPushStatus::TooManyRequests, "slow down");
    client.handle_response(SERVICE, LightPushWireResponse::V3(na), &mut out);
    assert!(
        matches!(&out[0], LightPushClientOutput::Pushed { request_id, .. } if *request_id == second)
    );
    assert!(matches!(
        &out[1],
        LightPushClientOutput::Failed { request_id, error: LightPushFailure::Status { code: 429, .. }, .. }
            if *request_id == first
    ));
    out.clear();
    // The wrong peer cannot answer for `other`; its disconnection fails it.
    client.handle_response(SERVICE, ok(&other), &mut out);
    assert!(matches!(
        &out[..],
        [LightPushClientOutput::Unmatched { .. }]
    ));
    out.clear();
    client.peer_disconnected(NodeId(21), &mut out);
    assert!(matches!(
        &out[..],
        [LightPushClientOutput::Failed {
            error: LightPushFailure::Disconnected,
            ..
        }]
    ));
    assert_eq!(client.pending_len(), 0);
    // Bounded.
    let mut small = LightPushClient::new(LightPushClientConfig {
        max_pending: 1,
        ..LightPushClientConfig::nwaku()
    });
    small
        .push(t0(), &mut rng, SERVICE, None, message(), &mut out)
        .unwrap();
    assert_eq!(
        small.push(t0(), &mut rng, SERVICE, None, message(), &mut out),
        Err(LightPushClientError::TooManyPending { max: 1 })
    );
}

#[test]
fn v2_round_trip_maps_onto_the_same_outcome() {
    let mut client = LightPushClient::new(LightPushClientConfig::go_waku());
    let mut svc = service(LightPushConfig::nwaku());
    let mut rng = SimRng::from_seed(5);
    let mut out = Vec::new();
    // No topic given: the v2 client autoshards (v2 requests must name a topic).
    let id = client
        .push(t0(), &mut rng, SERVICE, None, message(), &mut out)
        .unwrap();
    let LightPushClientOutput::Send {
        request: LightPushWireRequest::V2(rpc),
        ..
    } = &out[0]
    else {
        panic!("expected a v2 request: {out:?}");
    };
    assert_eq!(rpc.request.as_ref().unwrap().pubsub_topic, TOPIC);
    let results = deliver(&mut client, &mut svc, out, 3);
    assert_eq!(
        results,
        [LightPushClientOutput::Pushed {
            request_id: id,
            peer: SERVICE,
            message_hash: Some(message().hash(TOPIC)),
            relay_peer_count: None,
        }]
    );
    // No relay peers: refused with nwaku's legacy text.
    let mut out = Vec::new();
    client
        .push(
            t0(),
            &mut rng,
            SERVICE,
            Some(TOPIC.into()),
            message(),
            &mut out,
        )
        .unwrap();
    let results = deliver(&mut client, &mut svc, out, 0);
    assert!(matches!(
        &results[..],
        [LightPushClientOutput::Failed { error: LightPushFailure::Rejected { info: Some(info) }, .. }]
            if info == "not_published_to_any_peer"
    ));
    // Invalid v2 requests.
    let bad = PushRpc {
        request_id: "x".into(),
        request: None,
        response: None,
    };
    let (resp, publish) = svc.handle_v2_request(t0(), CLIENT, &bad, 3);
    assert_eq!(resp.request_id, "x");
    assert_eq!(
        resp.response.unwrap().info.as_deref(),
        Some("empty_request_body_failure")
    );
    assert!(publish.is_none());
    let no_topic = PushRpc {
        request_id: "y".into(),
        request: Some(crate::proto::PushRequest {
            pubsub_topic: String::new(),
            message: Some(message()),
        }),
        response: None,
    };
    let (resp, _) = svc.handle_v2_request(t0(), CLIENT, &no_topic, 3);
    assert!(!resp.response.unwrap().is_success);
    // Static sharding and no topic: the v2 client cannot build the request.
    let mut static_client = LightPushClient::new(LightPushClientConfig {
        sharding: ShardingMode::Static,
        ..LightPushClientConfig::go_waku()
    });
    assert_eq!(
        static_client.push(t0(), &mut rng, SERVICE, None, message(), &mut Vec::new()),
        Err(LightPushClientError::NoPubsubTopicStatic)
    );
    assert_eq!(
        LightPushWireRequest::V2(PushRpc::default()).protocol(),
        crate::protocol_ids::Protocol::LightpushV2
    );
}
