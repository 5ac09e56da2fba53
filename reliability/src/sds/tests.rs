//! Hand-driven conformance tests of [`SdsChannel`] (no network): the nim-sds and js-waku
//! unit-test expectations of `reference/reliability.md` §2.6 in [`nim`] and [`js`], SDS-R in
//! [`repair`], and here the shared helpers, Lamport clocks, evidence reporting, wire
//! round trips through the channel, and a small lossy network driven only by
//! `poll_timeout` / `handle_timeout`.

mod js;
mod nim;
mod repair;

use std::collections::BTreeSet;

use sim_core::rng::fnv1a64;
use sim_core::{SimDuration, SimRng, SimTime};
use waku::Bytes;

use super::*;

pub(super) fn at_ms(ms: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(ms)
}

pub(super) fn channel(config: SdsConfig, id: &str) -> SdsChannel {
    let rng = SimRng::stream(1, "sds-test", fnv1a64(id.as_bytes()));
    SdsChannel::new(config, id, "0", SimTime::ZERO, rng)
}

pub(super) fn drain(ch: &mut SdsChannel) -> Vec<SdsOutput> {
    std::iter::from_fn(|| ch.poll_output()).collect()
}

/// Sends content message `id` (transport success reported) and returns its broadcast.
pub(super) fn send(ch: &mut SdsChannel, now: SimTime, id: &str) -> SdsMessage {
    ch.send(now, Bytes::from(format!("payload of {id}")), id, None)
        .unwrap();
    ch.transport_result(now, id, true, None);
    drain(ch)
        .into_iter()
        .find_map(|o| match o {
            SdsOutput::Broadcast {
                message,
                kind: BroadcastKind::Content,
            } => Some(message),
            _ => None,
        })
        .expect("a content broadcast")
}

/// Runs `ch`'s timers up to `until`, returning what it output.
pub(super) fn run(ch: &mut SdsChannel, until: SimTime) -> Vec<SdsOutput> {
    let mut outs = Vec::new();
    while let Some(t) = ch.poll_timeout().filter(|t| *t <= until) {
        ch.handle_timeout(t);
        outs.extend(drain(ch));
    }
    outs
}

pub(super) fn delivered(outs: &[SdsOutput]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            SdsOutput::Deliver { message_id, .. } => Some(message_id.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn acknowledged(outs: &[SdsOutput]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            SdsOutput::Acknowledged { message_id } => Some(message_id.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn broadcasts(outs: &[SdsOutput], kind: BroadcastKind) -> Vec<SdsMessage> {
    outs.iter()
        .filter_map(|o| match o {
            SdsOutput::Broadcast { message, kind: k } if *k == kind => Some(message.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn ids(entries: &[HistoryEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.message_id.as_str()).collect()
}

#[test]
fn lamport_clocks_follow_their_style() {
    let mut js = channel(SdsConfig::js_waku(), "a");
    let offset = SdsConfig::js_waku().epoch_offset_ms;
    assert_eq!(js.lamport(), offset);
    let m1 = send(&mut js, at_ms(5), "m1");
    let m2 = send(&mut js, at_ms(5), "m2");
    assert_eq!(m1.lamport_timestamp, Some(offset + 5));
    assert_eq!(m2.lamport_timestamp, Some(offset + 6));
    let mut far = send(&mut channel(SdsConfig::js_waku(), "b"), at_ms(1), "far");
    far.lamport_timestamp = Some(offset + 1_000_000);
    js.receive(at_ms(6), far, None);
    assert_eq!(js.lamport(), offset + 1_000_000);

    let mut nim = channel(SdsConfig::nim_sds(), "a");
    assert_eq!(nim.lamport(), 0);
    let n1 = send(&mut nim, at_ms(2_500), "n1");
    assert_eq!(n1.lamport_timestamp, Some(offset / 1000 + 2 + 1));
    let mut ahead = send(&mut channel(SdsConfig::nim_sds(), "b"), at_ms(0), "ahead");
    ahead.lamport_timestamp = Some(offset);
    nim.receive(at_ms(2_600), ahead, None);
    assert_eq!(nim.lamport(), offset + 1);
}

#[test]
fn evidence_is_reported_once_per_participant_and_outlives_the_ack() {
    let mut a = channel(SdsConfig::js_waku(), "alice");
    let mut b = channel(SdsConfig::js_waku(), "bob");
    let mut c = channel(SdsConfig::js_waku(), "carol");
    let m1 = send(&mut a, at_ms(1), "m1");
    b.receive(at_ms(2), m1.clone(), None);
    c.receive(at_ms(2), m1, None);
    let b1 = send(&mut b, at_ms(3), "b1");
    let b2 = send(&mut b, at_ms(4), "b2");
    let c1 = send(&mut c, at_ms(5), "c1");
    let mut outs = Vec::new();
    for m in [b1, b2, c1] {
        a.receive(at_ms(6), m, None);
        outs.extend(drain(&mut a));
    }
    let evidence: Vec<(&str, &str, AckVia)> = outs
        .iter()
        .filter_map(|o| match o {
            SdsOutput::AckEvidence {
                message_id,
                from_participant,
                via,
            } => Some((message_id.as_str(), from_participant.as_str(), *via)),
            _ => None,
        })
        .collect();
    assert_eq!(
        evidence,
        [
            ("m1", "bob", AckVia::History),
            ("m1", "carol", AckVia::History)
        ]
    );
    assert_eq!(acknowledged(&outs), ["m1"]);
    assert_eq!(a.holders("m1"), Some(2));
}

#[test]
fn channels_read_both_numberings_from_bytes() {
    for config in [SdsConfig::js_waku(), SdsConfig::nim_sds()] {
        let format = config.wire_format;
        let mut a = channel(config.clone(), "alice");
        let mut b = channel(config.clone(), "bob");
        let m1 = send(&mut a, at_ms(1), "m1");
        let bytes = Bytes::from(wire::encode(&m1, format));
        b.receive_bytes(at_ms(2), bytes, None).unwrap();
        assert_eq!(delivered(&drain(&mut b)), ["m1"]);
        // A reply that acknowledges only through its bloom filter, whose shape the spec
        // numbering does not carry.
        let mut reply = send(&mut b, at_ms(3), "b1");
        reply.causal_history.clear();
        a.receive_bytes(at_ms(4), Bytes::from(wire::encode(&reply, format)), None)
            .unwrap();
        let outs = drain(&mut a);
        let hit = outs.iter().any(|o| {
            matches!(o, SdsOutput::PossiblyAcknowledged { message_id, count: 1 } if message_id == "m1")
                || matches!(o, SdsOutput::Acknowledged { message_id } if message_id == "m1")
        });
        assert!(hit, "{format:?}: {outs:?}");
        assert_eq!(a.stats().bloom_unusable, 0);
        assert!(
            b.receive_bytes(at_ms(5), Bytes::from_static(&[0xff]), None)
                .is_err()
        );
    }
}

#[test]
fn send_refuses_empty_content_and_ids() {
    let mut a = channel(SdsConfig::spec(), "alice");
    assert_eq!(
        a.send(at_ms(1), Bytes::new(), "m", None),
        Err(SendError::EmptyContent)
    );
    assert_eq!(
        a.send(at_ms(1), Bytes::from_static(b"x"), "", None),
        Err(SendError::EmptyMessageId)
    );
    assert!(drain(&mut a).is_empty());
}

/// Whether a broadcast copy from one peer to another is lost.
type Loss = dyn Fn(usize, usize, &SdsMessage, BroadcastKind) -> bool;

/// Instant broadcast to every other peer, minus the copies a [`Loss`] drops.
struct Net {
    peers: Vec<SdsChannel>,
    delivered: Vec<BTreeSet<String>>,
    now: SimTime,
}

impl Net {
    fn new(config: &SdsConfig, n: usize) -> Self {
        Net {
            peers: (0..n)
                .map(|i| channel(config.clone(), &format!("p{i}")))
                .collect(),
            delivered: vec![BTreeSet::new(); n],
            now: SimTime::ZERO,
        }
    }

    fn route(&mut self, from: usize, lose: &Loss) {
        let mut queue = vec![(from, drain(&mut self.peers[from]))];
        while let Some((from, outs)) = queue.pop() {
            for out in outs {
                match out {
                    SdsOutput::Deliver { message_id, .. } => {
                        self.delivered[from].insert(message_id);
                    }
                    SdsOutput::Broadcast { message, kind } => {
                        for to in (0..self.peers.len()).filter(|&to| to != from) {
                            if lose(from, to, &message, kind) {
                                continue;
                            }
                            self.peers[to].receive(self.now, message.clone(), None);
                            queue.push((to, drain(&mut self.peers[to])));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn run_until(&mut self, until: SimTime, lose: &Loss) {
        for _ in 0..100_000 {
            let Some(next) = self.peers.iter().filter_map(|p| p.poll_timeout()).min() else {
                break;
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            for i in 0..self.peers.len() {
                if self.peers[i].poll_timeout().is_some_and(|t| t <= self.now) {
                    self.peers[i].handle_timeout(self.now);
                    self.route(i, lose);
                }
            }
        }
        assert!(
            self.peers
                .iter()
                .all(|p| p.poll_timeout().is_none_or(|t| t > until)),
            "timers did not settle"
        );
        self.now = self.now.max(until);
    }
}

#[test]
fn a_lossy_channel_converges_through_repair() {
    let mut net = Net::new(&SdsConfig::spec(), 4);
    // p3 never receives p0's content broadcasts (first sends and resends); repair
    // responses, syncs and everything else get through.
    let lose = |from: usize, to: usize, _: &SdsMessage, kind: BroadcastKind| {
        from == 0 && to == 3 && matches!(kind, BroadcastKind::Content | BroadcastKind::Resend)
    };
    let mut sent = Vec::new();
    for round in 0..5u64 {
        for p in 0..4usize {
            net.run_until(at_ms(round * 7_000 + p as u64 * 1_000), &lose);
            let id = format!("p{p}-{round}");
            net.peers[p]
                .send(net.now, Bytes::from(id.clone()), id.clone(), None)
                .unwrap();
            net.route(p, &lose);
            sent.push((p, id));
        }
    }
    net.run_until(at_ms(10 * 60_000), &lose);
    for (p, id) in &sent {
        for q in (0..4).filter(|q| q != p) {
            assert!(net.delivered[q].contains(id), "p{q} never got {id}");
        }
    }
    assert!(net.peers[3].stats().repair_requests_sent > 0);
    assert!(net.peers[0].stats().repair_responses_sent > 0);
    assert!(
        net.peers
            .iter()
            .all(|p| p.stats().gave_up == 0 && p.incoming_len() == 0)
    );
}
