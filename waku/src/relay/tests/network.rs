//! A 20-node network driven by hand: a tiny router hands every `RelayOutput::Send` to the
//! receiving relay with zero latency, and every relay heartbeats once per simulated second.

use std::collections::VecDeque;

use prost::Message as _;
use sim_core::{SimDuration, SimRng, SimTime};

use super::*;
use crate::relay::{PublishError, SentRpc};

struct Net {
    relays: Vec<Relay>,
    rngs: Vec<SimRng>,
    now: SimTime,
    queue: VecDeque<(PeerId, PeerId, Rc<SentRpc>)>,
    /// Per node, the ids delivered to its application, in order.
    delivered: Vec<Vec<MessageId>>,
    /// FNV-1a over every routed RPC (time, from, to, bytes): the run's fingerprint.
    trace: u64,
    rpcs_routed: u64,
}

impl Net {
    /// `n` relays, all subscribed to [`TOPIC`]; each dials `dials` random others.
    fn new(config: &RelayConfig, n: u32, dials: usize, seed: u64) -> Self {
        let mut net = Net {
            relays: (0..n)
                .map(|_| Relay::new(config.clone()).expect("valid config"))
                .collect(),
            rngs: (0..n)
                .map(|i| SimRng::stream(seed, "relay", u64::from(i)))
                .collect(),
            now: SimTime::ZERO,
            queue: VecDeque::new(),
            delivered: vec![Vec::new(); n as usize],
            trace: 0xcbf2_9ce4_8422_2325,
            rpcs_routed: 0,
        };
        for i in 0..n as usize {
            let mut out = Vec::new();
            net.relays[i].subscribe(net.now, TOPIC, &mut net.rngs[i], &mut out);
            net.route(i, out);
        }
        let mut topology = SimRng::stream(seed, "topology", 0);
        let mut links = std::collections::BTreeSet::new();
        for i in 0..n {
            let unlinked: Vec<u32> = (0..n)
                .filter(|&j| j != i && !links.contains(&(i.min(j), i.max(j))))
                .collect();
            for k in topology.sample_indices(unlinked.len(), dials) {
                let j = unlinked[k];
                links.insert((i.min(j), i.max(j)));
                net.connect(i, j);
            }
        }
        net.run_until_quiet();
        net
    }

    fn connect(&mut self, dialer: u32, listener: u32) {
        let mut out = Vec::new();
        self.relays[dialer as usize].add_peer(self.now, PeerId(listener), true, &mut out);
        self.route(dialer as usize, out);
        let mut out = Vec::new();
        self.relays[listener as usize].add_peer(self.now, PeerId(dialer), false, &mut out);
        self.route(listener as usize, out);
    }

    fn route(&mut self, from: usize, out: Vec<RelayOutput>) {
        for o in out {
            match o {
                RelayOutput::Send { to, rpc } => {
                    self.queue.push_back((PeerId(from as u32), to, rpc));
                }
                RelayOutput::Deliver { id, .. } => self.delivered[from].push(id),
                RelayOutput::Disconnect { peer } => panic!("n{from} wants {peer} disconnected"),
                RelayOutput::Grafted { .. } | RelayOutput::Pruned { .. } => {}
            }
        }
    }

    fn run_until_quiet(&mut self) {
        while let Some((from, to, rpc)) = self.queue.pop_front() {
            let bytes = rpc.encode_to_vec();
            for chunk in [
                &self.now.as_nanos().to_le_bytes()[..],
                &from.0.to_le_bytes(),
                &to.0.to_le_bytes(),
                &bytes,
            ] {
                for &b in chunk {
                    self.trace = (self.trace ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
                }
            }
            self.rpcs_routed += 1;
            // The ids a relay ships beside its messages are the ids the receiver would compute.
            assert_eq!(rpc.message_ids().len(), rpc.publish.len());
            for (message, id) in rpc.publish.iter().zip(rpc.message_ids()) {
                let data = message.data.as_deref().unwrap_or_default();
                assert_eq!(*id, crate::message::relay_message_id(data));
            }
            let i = to.index();
            let mut out = Vec::new();
            self.relays[i].handle_rpc(self.now, from, &rpc, &mut self.rngs[i], &mut out);
            self.route(i, out);
        }
    }

    /// One simulated second: every relay heartbeats at its own phase within the second (as
    /// real nodes, which start at different times, do), traffic settling after each.
    fn second(&mut self) {
        let start = self.now;
        let n = self.relays.len() as u64;
        for i in 0..self.relays.len() {
            self.now = start + SimDuration::from_millis(1000 * (i as u64 + 1) / n);
            let mut out = Vec::new();
            self.relays[i].heartbeat(self.now, &mut self.rngs[i], &mut out);
            self.route(i, out);
            self.run_until_quiet();
        }
    }

    fn publish(&mut self, node: usize, tag: u32) -> Result<MessageId, PublishError> {
        let mut out = Vec::new();
        let id = self.relays[node].publish(
            self.now,
            TOPIC,
            waku_message(tag, 200),
            &mut self.rngs[node],
            &mut out,
        )?;
        self.route(node, out);
        self.run_until_quiet();
        Ok(id)
    }

    fn mesh_sizes(&self) -> Vec<usize> {
        self.relays
            .iter()
            .map(|r| r.mesh_peers(TOPIC).count())
            .collect()
    }
}

/// How mesh sizes behaved over the checked seconds.
struct MeshBounds {
    checks: usize,
    in_bounds: usize,
    min: usize,
    max: usize,
}

/// Warm-up, then 30 s of checks after every heartbeat round: meshes symmetric, sizes
/// recorded, and every message published meanwhile delivered exactly once to every node.
/// Returns the run's trace fingerprint and the mesh-size record.
fn run_network(config: &RelayConfig, dials: usize, seed: u64) -> (u64, MeshBounds) {
    let n = 20;
    let mut net = Net::new(config, n, dials, seed);
    for _ in 0..10 {
        net.second();
    }
    let mut published = Vec::new();
    let mut bounds = MeshBounds {
        checks: 0,
        in_bounds: 0,
        min: usize::MAX,
        max: 0,
    };
    for second in 0..30 {
        net.second();
        for size in net.mesh_sizes() {
            bounds.checks += 1;
            bounds.in_bounds += usize::from((config.d_low..=config.d_high).contains(&size));
            bounds.min = bounds.min.min(size);
            bounds.max = bounds.max.max(size);
        }
        for (i, relay) in net.relays.iter().enumerate() {
            for peer in relay.mesh_peers(TOPIC) {
                assert!(
                    net.relays[peer.index()]
                        .mesh_peers(TOPIC)
                        .any(|p| p.index() == i),
                    "seed {seed}: n{i} has {peer} in its mesh but not the reverse"
                );
            }
        }
        if second % 3 == 0 {
            let node = (second as usize * 7) % n as usize;
            published.push(net.publish(node, second).expect("peers to publish to"));
        }
    }
    published.sort();
    for (node, got) in net.delivered.iter().enumerate() {
        let mut got = got.clone();
        got.sort();
        assert_eq!(got, published, "seed {seed}: n{node} got each message once");
    }
    for relay in &net.relays {
        let sizes = relay.state_sizes();
        assert_eq!(sizes.seen_ids, published.len());
        assert!(sizes.cached_messages <= published.len());
    }
    assert!(net.rpcs_routed > 0);
    (net.trace, bounds)
}

#[test]
fn twenty_nodes_nwaku_deliver_everything_and_keep_every_mesh_within_bounds() {
    let config = RelayConfig::nwaku();
    // Sparse: each node dials 5 others (degree 6 to 13).
    for seed in 1..=3 {
        let (_, bounds) = run_network(&config, 5, seed);
        assert_eq!(
            bounds.in_bounds, bounds.checks,
            "seed {seed}: meshes in [{}, {}], got [{}, {}]",
            config.d_low, config.d_high, bounds.min, bounds.max
        );
    }
}

/// go-waku runs D = D_low = 4 and prunes at D_high (>= 8) down to D, so one PRUNE from a
/// neighbour puts a node below D_low until its own next heartbeat, and outbound GRAFTs are
/// accepted above D_high until then: sizes leave [D_low, D_high] briefly. On a sparse graph
/// the prune storms can even leave every candidate backing off for a minute (see the
/// report); here, with degree 16+, excursions are rare and small.
#[test]
fn twenty_nodes_go_waku_deliver_everything_with_meshes_mostly_within_bounds() {
    let config = RelayConfig::go_waku();
    for seed in 1..=3 {
        let (_, bounds) = run_network(&config, 12, seed);
        assert!(
            bounds.in_bounds * 100 >= bounds.checks * 98,
            "seed {seed}: {} of {} mesh sizes in bounds",
            bounds.in_bounds,
            bounds.checks
        );
        assert!(bounds.min + 2 >= config.d_low && bounds.max <= config.d_high + 2);
    }
    // Delivery does not depend on well-formed meshes (flood publish, then mesh forwarding).
    run_network(&config, 5, 1);
}

#[test]
fn a_network_run_is_a_pure_function_of_the_seed() {
    let config = RelayConfig::nwaku();
    let (a, _) = run_network(&config, 5, 7);
    let (b, _) = run_network(&config, 5, 7);
    let (c, _) = run_network(&config, 5, 8);
    assert_eq!(a, b, "same seed, same trace");
    assert_ne!(a, c, "different seed, different trace");
}
