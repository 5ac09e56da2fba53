//! Publishing: flood publish, errors, local delivery, nim's flood bandwidth limit, fanout.

use sim_core::SimDuration;

use super::*;
use crate::message::MessageError;
use crate::relay::PublishError;

fn publish(h: &mut Harness, topic: &str, msg: WakuMessage) -> Result<MessageId, PublishError> {
    let (now, mut out) = (h.now, Vec::new());
    let result = h.relay.publish(now, topic, msg, &mut h.rng, &mut out);
    h.out.extend(out);
    result
}

#[test]
fn flood_publish_sends_to_every_topic_peer() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let mut h = builder(config).peers(20).build();
        // Five more peers that do not subscribe to the topic.
        for i in 21..=25 {
            let now = h.now;
            h.relay.add_peer(now, PeerId(i), false, &mut Vec::new());
        }
        h.tick();
        h.take();
        let id = publish(&mut h, TOPIC, waku_message(1, 100)).unwrap();
        assert_eq!(h.delivered(), vec![id], "own message delivered locally");
        let mut to = messages_to(&h.sends());
        to.sort();
        assert_eq!(to, (1..=20).map(PeerId).collect::<Vec<_>>());
    }
}

#[test]
fn publish_fails_without_peers_for_invalid_messages_and_duplicates() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let mut h = builder(config.clone()).build();
        assert_eq!(
            publish(&mut h, TOPIC, waku_message(1, 10)),
            Err(PublishError::NoPeers {
                pubsub_topic: TOPIC.into(),
                peers: 0,
                required: 1
            })
        );
        let mut h = builder(config).peers(3).build();
        assert_eq!(
            publish(&mut h, "/waku/2/rs/1/5", waku_message(1, 10)),
            Err(PublishError::NoPeers {
                pubsub_topic: "/waku/2/rs/1/5".into(),
                peers: 0,
                required: 1
            }),
            "connected peers, none on that topic"
        );
        assert_eq!(
            publish(&mut h, TOPIC, WakuMessage::new(Vec::new(), "/a/1/b/c")),
            Err(PublishError::InvalidMessage(MessageError::EmptyPayload))
        );
        let id = publish(&mut h, TOPIC, waku_message(1, 10)).unwrap();
        assert_eq!(
            publish(&mut h, TOPIC, waku_message(1, 10)),
            Err(PublishError::Duplicate(id))
        );
    }
}

#[test]
fn nim_limits_flood_publish_to_what_one_heartbeat_of_bandwidth_serves() {
    let mut h = builder(RelayConfig::nwaku()).peers(100).build();
    // ~140 kB at 100 Mbit/s = 11 ms per copy ⇒ 1000 ms / 11 ms = 90 peers.
    publish(&mut h, TOPIC, waku_message(1, 140_000)).unwrap();
    assert_eq!(messages_to(&h.sends()).len(), 90);
    let mut h = builder(RelayConfig::go_waku()).peers(100).build();
    publish(&mut h, TOPIC, waku_message(1, 140_000)).unwrap();
    assert_eq!(messages_to(&h.sends()).len(), 100);
}

#[test]
fn fanout_serves_unsubscribed_publishing_and_expires_after_its_ttl() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let config = RelayConfig {
            flood_publish: false,
            ..config
        };
        let (d, ttl) = (config.d, config.fanout_ttl);
        let mut h = builder(config).peers(10).subscribe(false).build();
        publish(&mut h, TOPIC, waku_message(1, 10)).unwrap();
        let mut to = messages_to(&h.sends());
        to.sort();
        let fanout: Vec<PeerId> = h.relay.fanout_peers(TOPIC).collect();
        assert_eq!(fanout.len(), d);
        assert_eq!(to, fanout, "sent to the fanout peers");
        assert!(
            h.delivered().is_empty(),
            "not subscribed: no local delivery"
        );

        // The same fanout serves later publishes while it lives.
        h.tick();
        publish(&mut h, TOPIC, waku_message(2, 10)).unwrap();
        let mut to = messages_to(&h.sends());
        to.sort();
        assert_eq!(to, fanout);

        let ttl_s = ttl.as_nanos() / 1_000_000_000;
        for _ in 0..ttl_s {
            h.tick();
        }
        assert_eq!(h.relay.fanout_peers(TOPIC).count(), d, "alive at the TTL");
        h.tick();
        assert_eq!(
            h.relay.fanout_peers(TOPIC).count(),
            0,
            "expired after the TTL"
        );
    }
}

#[test]
fn fanout_gossips_ihave_to_other_topic_peers() {
    let config = RelayConfig {
        flood_publish: false,
        ..RelayConfig::go_waku()
    };
    let mut h = builder(config).peers(10).subscribe(false).build();
    let id = publish(&mut h, TOPIC, waku_message(1, 10)).unwrap();
    let fanout: Vec<PeerId> = h.relay.fanout_peers(TOPIC).collect();
    h.tick();
    let ihaves = ihaves_to(&h.sends());
    assert!(!ihaves.is_empty());
    assert!(
        ihaves
            .iter()
            .all(|(p, ids)| !fanout.contains(p) && ids == &vec![id])
    );
}

#[test]
fn subscribing_turns_the_fanout_into_the_mesh_go() {
    let config = RelayConfig {
        flood_publish: false,
        ..RelayConfig::go_waku()
    };
    let mut h = builder(config).peers(10).subscribe(false).build();
    publish(&mut h, TOPIC, waku_message(1, 10)).unwrap();
    let fanout: Vec<PeerId> = h.relay.fanout_peers(TOPIC).collect();
    h.advance(SimDuration::from_secs(1));
    let (now, mut out) = (h.now, Vec::new());
    h.relay.subscribe(now, TOPIC, &mut h.rng, &mut out);
    assert_eq!(h.mesh(), fanout);
    assert_eq!(h.relay.fanout_peers(TOPIC).count(), 0);
}
