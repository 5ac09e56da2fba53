//! Property tests of every frame decoder: arbitrary bytes, truncated frames and corrupted
//! frames give a value or a [`DecodeError`], never a panic; frames announcing more than the
//! limit are rejected.

use proptest::prelude::*;
use prost::Message;
use waku::codec::{self, DecodeError, Frame};
use waku::proto::{
    FilterSubscribeRequest, FilterSubscribeResponse, GossipsubMessage, GossipsubRpc,
    LightPushRequest, LightPushResponse, MessagePush, PeerExchangeRpc, PushRpc, StoreQueryRequest,
    StoreQueryResponse, WakuMessage, WakuMessageKeyValue, WakuMetadataRequest,
    WakuMetadataResponse,
};

/// Runs `check` once per wire type.
macro_rules! for_each_frame {
    ($check:ident, $($arg:expr),*) => {{
        $check::<WakuMessage>($($arg),*);
        $check::<GossipsubRpc>($($arg),*);
        $check::<StoreQueryRequest>($($arg),*);
        $check::<StoreQueryResponse>($($arg),*);
        $check::<FilterSubscribeRequest>($($arg),*);
        $check::<FilterSubscribeResponse>($($arg),*);
        $check::<MessagePush>($($arg),*);
        $check::<LightPushRequest>($($arg),*);
        $check::<LightPushResponse>($($arg),*);
        $check::<PushRpc>($($arg),*);
        $check::<PeerExchangeRpc>($($arg),*);
        $check::<WakuMetadataRequest>($($arg),*);
        $check::<WakuMetadataResponse>($($arg),*);
    }};
}

/// Every entry point on arbitrary input: no panic, and a successful frame decode consumes a
/// prefix of the input whose body is within the limit.
fn decode_anything<M: Frame>(bytes: &[u8]) {
    if let Ok((_, consumed)) = codec::decode_frame::<M>(bytes) {
        assert!(consumed <= bytes.len());
        assert!(consumed <= M::MAX_BODY_BYTES + 10);
    }
    let _ = codec::decode_body::<M>(bytes);
    let _ = codec::split_frame(bytes, M::MAX_BODY_BYTES, M::NAME);
    let _ = codec::decode_frame_with_limit::<M>(bytes, 16);
}

/// A frame announcing one byte more than the limit is rejected as too large, whatever follows.
fn oversized_is_rejected<M: Frame>(tail: &[u8]) {
    let len = M::MAX_BODY_BYTES as u64 + 1;
    let mut frame = Vec::new();
    prost::encoding::encode_varint(len, &mut frame);
    frame.extend_from_slice(tail);
    match codec::decode_frame::<M>(&frame) {
        Err(DecodeError::TooLarge {
            len_bytes,
            max_bytes,
            ..
        }) => {
            assert_eq!((len_bytes, max_bytes), (len, M::MAX_BODY_BYTES));
        }
        other => panic!("{}: expected TooLarge, got {other:?}", M::NAME),
    }
    assert!(matches!(
        codec::split_frame(&frame, M::MAX_BODY_BYTES, M::NAME),
        Err(DecodeError::TooLarge { .. })
    ));
}

/// Strategy for a WakuMessage with arbitrary field values.
fn waku_message() -> impl Strategy<Value = WakuMessage> {
    (
        prop::collection::vec(any::<u8>(), 0..300),
        "[a-z/0-9]{0,40}",
        prop::option::of(any::<u32>()),
        prop::option::of(any::<i64>()),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..80)),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(payload, topic, version, ts, meta, eph)| WakuMessage {
            payload: payload.into(),
            content_topic: topic,
            version,
            timestamp: ts,
            meta: meta.map(Into::into),
            rate_limit_proof: None,
            ephemeral: eph,
        })
}

/// Valid frames of several types built around one message, to corrupt and truncate.
fn valid_frames(msg: &WakuMessage) -> Vec<Vec<u8>> {
    let data = msg.encode_to_vec();
    vec![
        codec::encode_frame(msg),
        codec::encode_frame(&GossipsubRpc {
            publish: vec![GossipsubMessage {
                data: Some(data.into()),
                topic: Some("/waku/2/rs/1/0".into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        codec::encode_frame(&StoreQueryResponse {
            request_id: "r".into(),
            status_code: Some(200),
            messages: vec![WakuMessageKeyValue {
                message_hash: Some(msg.hash("/waku/2/rs/1/0").to_bytes()),
                message: Some(msg.clone()),
                pubsub_topic: Some("/waku/2/rs/1/0".into()),
            }],
            ..Default::default()
        }),
        codec::encode_frame(&MessagePush {
            waku_message: Some(msg.clone()),
            pubsub_topic: Some("/waku/2/rs/1/0".into()),
        }),
        codec::encode_frame(&LightPushRequest {
            request_id: "r".into(),
            pubsub_topic: None,
            message: Some(msg.clone()),
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        for_each_frame!(decode_anything, &bytes);
    }

    #[test]
    fn oversized_frames_are_rejected(tail in prop::collection::vec(any::<u8>(), 0..64)) {
        for_each_frame!(oversized_is_rejected, &tail);
    }

    #[test]
    fn truncated_and_corrupted_frames_never_panic(
        msg in waku_message(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        for frame in valid_frames(&msg) {
            let truncated = &frame[..cut.index(frame.len())];
            for_each_frame!(decode_anything, truncated);
            let mut corrupted = frame.clone();
            for (at, value) in &flips {
                let i = at.index(corrupted.len());
                corrupted[i] ^= value | 1;
            }
            for_each_frame!(decode_anything, &corrupted);
        }
    }

    #[test]
    fn messages_round_trip_and_sizes_are_exact(msg in waku_message()) {
        let frame = codec::encode_frame(&msg);
        prop_assert_eq!(frame.len(), codec::frame_len(&msg));
        let (decoded, used) = codec::decode_frame_with_limit::<WakuMessage>(&frame, usize::MAX).unwrap();
        prop_assert_eq!(used, frame.len());
        prop_assert_eq!(&decoded, &msg);
        prop_assert_eq!(decoded.hash("/waku/2/rs/0/0"), msg.hash("/waku/2/rs/0/0"));
        let rpc = GossipsubRpc {
            publish: vec![GossipsubMessage {
                data: Some(msg.encode_to_vec().into()),
                topic: Some("/waku/2/rs/0/0".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        prop_assert_eq!(codec::relay_publish_frame_len(&msg, "/waku/2/rs/0/0"), codec::encode_frame(&rpc).len());
    }
}
