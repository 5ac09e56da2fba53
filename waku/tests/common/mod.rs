//! A test application and network builder shared by the node integration tests.

#![allow(dead_code, unreachable_pub)]

use sim_core::{
    AppMessageId, AppObservation, Audit, AuditHasher, DeliveryPath, Engine, NodeId, SimTime,
};
use sim_net::{FaultSchedule, NetConfig, NetEvent, Network, Presence};
use waku::filter::FilterClientOutput;
use waku::node::{App, NodeConfig, WakuApi, WakuEvent, WakuNode, network_nodes, waku_timestamp};
use waku::peer_manager::Capabilities;
use waku::proto::WakuMessage;

pub const CONTENT_TOPIC: &str = "/test/1/chat/proto";

pub type Log = Vec<(SimTime, NodeId, AppObservation)>;
pub type Sim = Engine<Network<WakuNode<TestApp>, Log>>;

/// Publishes on command (relay, or lightpush for light clients); light clients subscribe with
/// filter at start and resubscribe elsewhere when a subscription is lost.
#[derive(Debug, Default)]
pub struct TestApp {
    pub filter_service: Option<NodeId>,
    pub lightpush_service: Option<NodeId>,
}

#[derive(Clone, Copy, Debug)]
pub struct Publish {
    pub id: u64,
    pub bytes: u32,
}

impl Audit for Publish {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.id);
        h.write_u32(self.bytes);
    }
}

fn topic() -> String {
    waku::sharding::RelayShard::new(waku::node::SIM_CLUSTER_ID, 0).pubsub_topic()
}

impl App for TestApp {
    type Command = Publish;

    fn start(&mut self, api: &mut WakuApi<'_, '_>) {
        if let Some(service) = self.filter_service {
            api.filter_subscribe(service, &topic(), &[CONTENT_TOPIC.to_string()])
                .expect("subscribe");
        }
    }

    fn command(&mut self, command: Publish, api: &mut WakuApi<'_, '_>) {
        let mut payload = vec![0u8; command.bytes.max(8) as usize];
        payload[..8].copy_from_slice(&command.id.to_be_bytes());
        let message =
            WakuMessage::new(payload, CONTENT_TOPIC).with_timestamp_ns(waku_timestamp(api.now()));
        api.observe(AppObservation::Created {
            id: AppMessageId(command.id),
            recipients: Vec::new(),
            payload_bytes: command.bytes,
        });
        if api.has_relay() {
            let _ = api.relay_publish(&topic(), message);
        } else if let Some(service) = self.lightpush_service {
            let _ = api.lightpush(service, Some(topic()), message);
        }
    }

    fn event(&mut self, event: WakuEvent, api: &mut WakuApi<'_, '_>) {
        match event {
            WakuEvent::Message {
                message,
                path,
                from: Some(_),
                ..
            } => {
                let id = u64::from_be_bytes(message.payload[..8].try_into().expect("8 bytes"));
                api.observe(AppObservation::Received {
                    id: AppMessageId(id),
                    path,
                });
            }
            WakuEvent::Filter(FilterClientOutput::SubscriptionLost { peer, .. }) => {
                api.observe(AppObservation::Counter {
                    name: "subscription_lost",
                    delta: 1,
                });
                let next = api
                    .service_peers(Capabilities::FILTER)
                    .into_iter()
                    .find(|p| *p != peer);
                if let Some(next) = next {
                    self.filter_service = Some(next);
                    api.filter_subscribe(next, &topic(), &[CONTENT_TOPIC.to_string()])
                        .expect("resubscribe");
                }
            }
            WakuEvent::SleepDetected { .. } => api.observe(AppObservation::Counter {
                name: "sleep_detected",
                delta: 1,
            }),
            _ => {}
        }
    }

    fn timer(&mut self, _: u64, _: &mut WakuApi<'_, '_>) {}
    fn crash(&mut self) {}
}

/// Builds a network of `nodes` (config and app each) and its engine with `faults`.
pub fn build(
    nodes: Vec<(NodeConfig, TestApp)>,
    net: NetConfig,
    seed: u64,
    faults: &FaultSchedule,
) -> Sim {
    let count = nodes.len();
    let nodes = network_nodes(nodes);
    Network::new(net, seed, nodes, Log::new())
        .into_engine(&vec![Presence::Present; count], faults)
        .expect("valid faults")
}

pub fn publish(sim: &mut Sim, at: SimTime, node: u32, id: u64, bytes: u32) {
    sim.schedule(
        at,
        NetEvent::Command {
            node: NodeId(node),
            command: Publish { id, bytes },
        },
    );
}

/// (time, receiver, message id, path) of every reception.
pub fn receptions(sim: &Sim) -> Vec<(SimTime, NodeId, u64, DeliveryPath)> {
    sim.world
        .recorder
        .iter()
        .filter_map(|(t, n, o)| match o {
            AppObservation::Received { id, path } => Some((*t, *n, id.0, *path)),
            _ => None,
        })
        .collect()
}

pub fn counter(sim: &Sim, node: NodeId, name: &str) -> u64 {
    sim.world
        .recorder
        .iter()
        .filter_map(|(_, n, o)| match o {
            AppObservation::Counter { name: c, delta } if *n == node && *c == name => Some(*delta),
            _ => None,
        })
        .sum()
}
