//! Unit tests of the framing codec: round trips of every wire type, size accounting, and the
//! error for each way a frame can be wrong.

use super::*;
use crate::message::MessageHash;
use crate::proto::{
    Bytes, ControlGraft, ControlIDontWant, ControlIHave, ControlIWant, ControlMessage,
    ControlPrune, FilterSubscribeType, GossipsubMessage, GossipsubPeerInfo, PeerExchangePeerInfo,
    PeerExchangeQuery, PeerExchangeResponse, PushRequest, PushResponse, SubOpts,
    WakuMessageKeyValue,
};

fn sample_message(seed: u8) -> WakuMessage {
    WakuMessage::new(vec![seed; 40], format!("/app/1/chat-{seed}/proto"))
        .with_timestamp_ns(1_700_000_000_000_000_000 + i64::from(seed))
        .with_meta(vec![seed; 8])
        .with_version(1)
        .with_rate_limit_proof(vec![0xee; 16])
        .with_ephemeral(seed.is_multiple_of(2))
}

fn hash_bytes(seed: u8) -> Bytes {
    MessageHash([seed; 32]).to_bytes()
}

/// Encodes as a frame, decodes it back, and checks equality, consumed length and `frame_len`.
fn round_trip<M: Frame + PartialEq + std::fmt::Debug>(msg: &M) {
    let frame = encode_frame(msg);
    assert_eq!(frame.len(), frame_len(msg), "{}", M::NAME);
    assert_eq!(frame.len(), frame_len_for_body(encoded_len(msg)));
    let (decoded, consumed) = decode_frame::<M>(&frame).unwrap();
    assert_eq!(&decoded, msg, "{}", M::NAME);
    assert_eq!(consumed, frame.len());
    let (body, consumed) = split_frame(&frame, M::MAX_BODY_BYTES, M::NAME)
        .unwrap()
        .unwrap();
    assert_eq!(consumed, frame.len());
    assert_eq!(decode_body::<M>(body).unwrap(), *msg);
}

#[test]
fn waku_message_round_trip() {
    round_trip(&sample_message(1));
    round_trip(&WakuMessage::new(Vec::new(), "/a/1/b/c"));
    round_trip(&WakuMessage::default());
}

#[test]
fn gossipsub_rpc_round_trip() {
    let data = Bytes::from(sample_message(2).encode_to_vec());
    let rpc = GossipsubRpc {
        subscriptions: vec![
            SubOpts {
                subscribe: Some(true),
                topicid: Some("/waku/2/rs/1/0".into()),
            },
            SubOpts {
                subscribe: Some(false),
                topicid: Some("/waku/2/rs/1/1".into()),
            },
        ],
        publish: vec![GossipsubMessage {
            data: Some(data),
            topic: Some("/waku/2/rs/1/0".into()),
            ..Default::default()
        }],
        control: Some(ControlMessage {
            ihave: vec![ControlIHave {
                topic_id: Some("/waku/2/rs/1/0".into()),
                message_ids: vec![hash_bytes(1), hash_bytes(2)],
            }],
            iwant: vec![ControlIWant {
                message_ids: vec![hash_bytes(3)],
            }],
            graft: vec![ControlGraft {
                topic_id: Some("/waku/2/rs/1/2".into()),
            }],
            prune: vec![ControlPrune {
                topic_id: Some("/waku/2/rs/1/3".into()),
                peers: vec![GossipsubPeerInfo {
                    peer_id: Some(Bytes::from_static(b"peer")),
                    signed_peer_record: Some(Bytes::from_static(b"record")),
                }],
                backoff: Some(60),
            }],
            idontwant: vec![ControlIDontWant {
                message_ids: vec![hash_bytes(4)],
            }],
        }),
    };
    round_trip(&rpc);
    round_trip(&GossipsubRpc::default());
}

#[test]
fn store_round_trip() {
    let request = StoreQueryRequest {
        request_id: "req-1".into(),
        include_data: true,
        pubsub_topic: Some("/waku/2/rs/1/4".into()),
        content_topics: vec!["/app/1/a/proto".into(), "/app/1/b/proto".into()],
        time_start: Some(-5),
        time_end: Some(1_700_000_000_000_000_000),
        message_hashes: vec![hash_bytes(9)],
        pagination_cursor: Some(hash_bytes(8)),
        pagination_forward: true,
        pagination_limit: Some(100),
    };
    round_trip(&request);
    let response = StoreQueryResponse {
        request_id: "req-1".into(),
        status_code: Some(200),
        status_desc: Some("OK".into()),
        messages: vec![
            WakuMessageKeyValue {
                message_hash: Some(hash_bytes(1)),
                message: Some(sample_message(1)),
                pubsub_topic: Some("/waku/2/rs/1/4".into()),
            },
            WakuMessageKeyValue {
                message_hash: Some(hash_bytes(2)),
                message: None,
                pubsub_topic: None,
            },
        ],
        pagination_cursor: Some(hash_bytes(2)),
    };
    round_trip(&response);
}

#[test]
fn filter_round_trip() {
    let request = FilterSubscribeRequest {
        request_id: "f-1".into(),
        filter_subscribe_type: FilterSubscribeType::Subscribe as i32,
        pubsub_topic: Some("/waku/2/rs/1/5".into()),
        content_topics: vec!["/app/1/a/proto".into()],
    };
    round_trip(&request);
    assert_eq!(
        request.filter_subscribe_type(),
        FilterSubscribeType::Subscribe
    );
    let ping = FilterSubscribeRequest {
        request_id: "f-2".into(),
        ..Default::default()
    };
    assert_eq!(
        ping.filter_subscribe_type(),
        FilterSubscribeType::SubscriberPing
    );
    round_trip(&ping);
    round_trip(&FilterSubscribeResponse {
        request_id: "f-1".into(),
        status_code: 404,
        status_desc: Some("peer has no subscriptions".into()),
    });
    round_trip(&MessagePush {
        waku_message: Some(sample_message(3)),
        pubsub_topic: Some("/waku/2/rs/1/5".into()),
    });
}

#[test]
fn lightpush_round_trip() {
    round_trip(&LightPushRequest {
        request_id: "l-1".into(),
        pubsub_topic: None,
        message: Some(sample_message(4)),
    });
    round_trip(&LightPushResponse {
        request_id: "l-1".into(),
        status_code: 200,
        status_desc: None,
        relay_peer_count: Some(7),
    });
    round_trip(&PushRpc {
        request_id: "l-2".into(),
        request: Some(PushRequest {
            pubsub_topic: "/waku/2/rs/1/6".into(),
            message: Some(sample_message(5)),
        }),
        response: None,
    });
    round_trip(&PushRpc {
        request_id: "N/A".into(),
        request: None,
        response: Some(PushResponse {
            is_success: false,
            info: Some("exceeds the rate limit".into()),
        }),
    });
}

#[test]
fn peer_exchange_and_metadata_round_trip() {
    round_trip(&PeerExchangeRpc {
        query: Some(PeerExchangeQuery { num_peers: 5 }),
        response: None,
    });
    round_trip(&PeerExchangeRpc {
        query: None,
        response: Some(PeerExchangeResponse {
            peer_infos: vec![PeerExchangePeerInfo {
                enr: Bytes::from_static(b"enr-1"),
            }],
            status_code: Some(200),
            status_desc: None,
        }),
    });
    round_trip(&WakuMetadataRequest {
        cluster_id: Some(1),
        shards: vec![0, 1, 7],
    });
    round_trip(&WakuMetadataResponse {
        cluster_id: Some(16),
        shards: vec![32, 64],
    });
}

#[test]
fn lightpush_v3_field_numbers() {
    // request_id = 1, pubsub_topic = 20, message = 21 (keys 0x0a, 0xa2 0x01, 0xaa 0x01).
    let req = LightPushRequest {
        request_id: "r".into(),
        pubsub_topic: Some("t".into()),
        message: Some(WakuMessage::new(vec![1], "c")),
    };
    assert_eq!(
        req.encode_to_vec(),
        [
            0x0a, 1, b'r', 0xa2, 0x01, 1, b't', 0xaa, 0x01, 6, 0x0a, 1, 1, 0x12, 1, b'c'
        ]
    );
}

#[test]
fn relay_publish_frame_len_matches_real_encoding() {
    for (payload_len, topic) in [
        (0, ""),
        (10, "/waku/2/rs/1/0"),
        (200, "/waku/2/rs/16/1023"),
        (150_000, "t"),
    ] {
        let msg = WakuMessage::new(vec![7; payload_len], "/app/1/x/proto").with_timestamp_ns(42);
        let rpc = GossipsubRpc {
            publish: vec![GossipsubMessage {
                data: Some(Bytes::from(msg.encode_to_vec())),
                topic: Some(topic.into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            relay_publish_frame_len(&msg, topic),
            encode_frame(&rpc).len(),
            "{payload_len}"
        );
    }
}

#[test]
fn frames_are_consumed_one_at_a_time() {
    let a = WakuMetadataRequest {
        cluster_id: Some(1),
        shards: vec![1],
    };
    let b = WakuMetadataRequest {
        cluster_id: Some(2),
        shards: vec![],
    };
    let mut stream = encode_frame(&a);
    encode_frame_to(&b, &mut stream);
    let (first, used) = decode_frame::<WakuMetadataRequest>(&stream).unwrap();
    let (second, rest) = decode_frame::<WakuMetadataRequest>(&stream[used..]).unwrap();
    assert_eq!((first, second), (a, b));
    assert_eq!(used + rest, stream.len());
}

#[test]
fn incomplete_input_is_reported_precisely() {
    let frame = encode_frame(&sample_message(6));
    assert_eq!(
        decode_frame::<WakuMessage>(&[]),
        Err(DecodeError::IncompleteLengthPrefix {
            message: "WakuMessage"
        })
    );
    // A 2-byte prefix cut after its first byte.
    let big = encode_frame(&WakuMessage::new(vec![0; 300], "/a/1/b/c"));
    assert_eq!(
        decode_frame::<WakuMessage>(&big[..1]),
        Err(DecodeError::IncompleteLengthPrefix {
            message: "WakuMessage"
        })
    );
    let cut = &frame[..frame.len() - 3];
    assert_eq!(
        decode_frame::<WakuMessage>(cut),
        Err(DecodeError::Truncated {
            message: "WakuMessage",
            len_bytes: (frame.len() - 1) as u64,
            available_bytes: frame.len() - 4,
        })
    );
    for end in 0..frame.len() {
        assert_eq!(
            split_frame(&frame[..end], MAX_MESSAGE_BYTES, "WakuMessage"),
            Ok(None),
            "{end}"
        );
    }
}

#[test]
fn oversized_frames_are_rejected_before_the_body_arrives() {
    // Prefix announcing 1025 bytes of metadata, no body at all.
    let prefix = [0x81, 0x08];
    let expected = DecodeError::TooLarge {
        message: "WakuMetadataResponse",
        len_bytes: 1025,
        max_bytes: METADATA_MAX_FRAME_BYTES,
    };
    assert_eq!(
        decode_frame::<WakuMetadataResponse>(&prefix),
        Err(expected.clone())
    );
    assert_eq!(
        split_frame(&prefix, METADATA_MAX_FRAME_BYTES, "WakuMetadataResponse"),
        Err(expected)
    );
    // A relay RPC carrying a maximum-size message exceeds the whole-frame limit, as in nim-libp2p.
    let msg = WakuMessage::new(vec![1; MAX_MESSAGE_BYTES - 16], "/a/1/b/c");
    assert_eq!(msg.validate(MAX_MESSAGE_BYTES), Ok(()));
    let rpc = GossipsubRpc {
        publish: vec![GossipsubMessage {
            data: Some(msg.encode_to_vec().into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert!(matches!(
        decode_frame::<GossipsubRpc>(&encode_frame(&rpc)),
        Err(DecodeError::TooLarge {
            max_bytes: RELAY_MAX_RPC_BYTES,
            ..
        })
    ));
    // ...which a preset with a larger limit accepts.
    assert!(decode_frame_with_limit::<GossipsubRpc>(&encode_frame(&rpc), 1 << 20).is_ok());
    // Unframed bodies are limited too.
    assert!(matches!(
        decode_body::<WakuMetadataRequest>(&[0; 2000]),
        Err(DecodeError::TooLarge {
            len_bytes: 2000,
            ..
        })
    ));
}

#[test]
fn bad_length_prefixes_are_rejected() {
    // 11 continuation bytes: longer than any u64 varint.
    assert!(matches!(
        decode_frame::<WakuMessage>(&[0xff; 11]),
        Err(DecodeError::BadLengthPrefix { .. })
    ));
    // 10 bytes whose last one sets bits above 2^64.
    let mut overflow = [0xff; 10];
    overflow[9] = 0x02;
    assert!(matches!(
        decode_frame::<WakuMessage>(&overflow),
        Err(DecodeError::BadLengthPrefix { .. })
    ));
    // u64::MAX is a valid varint, and far too large.
    let mut max = [0xff; 10];
    max[9] = 0x01;
    assert!(matches!(
        decode_frame::<WakuMessage>(&max),
        Err(DecodeError::TooLarge {
            len_bytes: u64::MAX,
            ..
        })
    ));
    // A non-minimal but valid prefix (0x80 0x00 = 0) is accepted, as go's ReadUvarint does.
    assert_eq!(
        decode_frame::<WakuMetadataRequest>(&[0x80, 0x00]),
        Ok((WakuMetadataRequest::default(), 2))
    );
}

#[test]
fn malformed_protobuf_names_the_message() {
    // Field 1 (payload, length-delimited) announcing 5 bytes with only 1 present.
    let body = [0x0a, 5, 0];
    let frame = [&[body.len() as u8][..], &body].concat();
    let err = decode_frame::<WakuMessage>(&frame).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Malformed {
            message: "WakuMessage",
            ..
        }
    ));
    assert!(
        err.to_string()
            .starts_with("malformed WakuMessage protobuf: "),
        "{err}"
    );
    // Wire type 7 does not exist.
    let err = decode_body::<StoreQueryRequest>(&[0x0f]).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Malformed {
            message: "StoreQueryRequest",
            ..
        }
    ));
    // Invalid UTF-8 in a string field.
    let err = decode_body::<FilterSubscribeRequest>(&[0x0a, 1, 0xff]).unwrap_err();
    assert!(matches!(err, DecodeError::Malformed { .. }));
}

#[test]
fn unknown_fields_are_skipped() {
    // nwaku's lightpush v3 request may carry an eligibility proof in field 22.
    let mut body = LightPushRequest {
        request_id: "r".into(),
        ..Default::default()
    }
    .encode_to_vec();
    body.extend_from_slice(&[0xb2, 0x01, 2, 0xde, 0xad]);
    let decoded = decode_body::<LightPushRequest>(&body).unwrap();
    assert_eq!(decoded.request_id, "r");
}
