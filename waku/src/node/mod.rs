//! [`WakuNode`]: a simulated Waku node — the protocol machines its roles need, composed behind
//! the sans-IO [`sim_core::Node`] API, with an [`App`] on top.
//!
//! Per input the node: updates connection bookkeeping, feeds the input to the machine it is
//! for, drains every machine's outputs into frames, dials and timers (`core.rs`), hands the
//! resulting [`WakuEvent`]s to the application, and finally re-arms one timer per machine at
//! its `poll_timeout`. Peers have one connection each: when both ends dial each other, both
//! keep the connection dialled by the lower node id and close the other; when a peer dials
//! again while connected, its new connection replaces the old (half-open) one.
//!
//! Files: `config.rs` (roles, presets), `core.rs` (machines and output processing), `api.rs`
//! (the application API), `tests.rs` (hand-driven tests of the glue).

mod api;
mod config;
mod core;
#[cfg(test)]
mod tests;

use std::rc::Rc;

use sim_core::{AppObservation, Ctx, Input, Node, NodeId, SimTime};

pub use api::{App, Never, NoApp, WakuApi, WakuEvent};
pub use config::{Implementation, NodeConfig, Roles, SIM_CLUSTER_ID, directory_for};

use self::core::{ALL_DIRTY, Core, Dirty, POLLED, TimerKind, dirty_bit};
use crate::lightpush::LightPushWireRequest;
use crate::lightpush::LightPushWireResponse;
use crate::peer_manager::{Directory, Origin};
use crate::proto::PeerExchangeRpc;
use crate::relay::PeerId;
use crate::wire::WakuFrame;

type NodeCtx<'a, 'b> = Ctx<'b, WakuFrame, AppObservation>;

/// A simulated Waku node running application `A`.
pub struct WakuNode<A: App> {
    core: Core,
    app: A,
}

impl<A: App> WakuNode<A> {
    /// A node with `config`, discovering peers from `directory`, running `app`.
    ///
    /// The configuration must be valid (roles and every machine's config); scenario building
    /// validates it and reports errors before nodes are built.
    pub fn new(config: NodeConfig, me: NodeId, directory: Rc<Directory>, app: A) -> Self {
        if let Err(e) = config.roles.validate() {
            panic!("invalid roles for node {me} (validate before building): {e}");
        }
        WakuNode {
            core: Core::new(config, me, directory),
            app,
        }
    }

    /// The application, for inspection after a run.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.core.config
    }

    /// Peers this node is connected to.
    pub fn connected_peers(&self) -> Vec<PeerId> {
        self.core.conns.keys().copied().collect()
    }

    /// The relay mesh for `topic` (empty for light clients).
    pub fn mesh_peers(&self, topic: &str) -> Vec<PeerId> {
        self.core
            .machines
            .relay
            .as_ref()
            .map(|r| r.mesh_peers(topic).collect())
            .unwrap_or_default()
    }

    /// Peers the relay knows (connected relay peers), and how many of them share `topic`.
    pub fn relay_peers(&self, topic: &str) -> (usize, usize) {
        self.core
            .machines
            .relay
            .as_ref()
            .map_or((0, 0), |r| (r.peers().count(), r.peers_on_topic(topic)))
    }

    /// Messages in the store archive (0 without the store role).
    pub fn archived_messages(&self) -> usize {
        self.core
            .machines
            .store
            .as_ref()
            .map_or(0, |s| s.archive().len())
    }

    /// Filter subscribers served (0 without the filter role).
    pub fn filter_subscribers(&self) -> usize {
        self.core
            .machines
            .filter
            .as_ref()
            .map_or(0, |f| f.subscriber_count())
    }

    fn start(&mut self, cx: &mut NodeCtx<'_, '_>) {
        let now = cx.now();
        let me = cx.id();
        self.core.restart(now, me);
        let core = &mut self.core;
        for peer in core.config.static_peers.clone() {
            if let Some(record) = core.directory.get(peer) {
                core.machines
                    .peer_manager
                    .add_peer(now, record, Origin::Static);
            } else {
                core.machines.peer_manager.add_static_peer(now, peer);
            }
            core.machines
                .peer_manager
                .dial(now, peer, &mut core.out.peer_manager);
        }
        if let Some(relay) = core.machines.relay.as_mut() {
            for topic in core.config.pubsub_topics.clone() {
                relay.subscribe(now, &topic, cx.rng(), &mut core.out.relay);
            }
        }
        let mut api = WakuApi { core, cx };
        self.app.start(&mut api);
    }

    fn on_frame(&mut self, from: PeerId, frame: WakuFrame, cx: &mut NodeCtx<'_, '_>) {
        let now = cx.now();
        let core = &mut self.core;
        let m = &mut core.machines;
        match frame {
            WakuFrame::Relay(rpc) => {
                if let Some(relay) = m.relay.as_mut() {
                    relay.handle_rpc(now, from, &rpc, cx.rng(), &mut core.out.relay);
                }
            }
            WakuFrame::StoreRequest(request) => {
                if let Some(store) = m.store.as_mut() {
                    let response = store.handle_query(now, from, &request);
                    core.send(from, WakuFrame::StoreResponse(Box::new(response)), cx);
                }
            }
            WakuFrame::StoreResponse(response) => {
                m.store_client.handle_response(
                    now,
                    cx.rng(),
                    from,
                    *response,
                    &mut core.out.store_client,
                );
            }
            WakuFrame::FilterRequest(request) => {
                if let Some(filter) = m.filter.as_mut() {
                    let response = filter.handle_subscribe(now, from, &request);
                    core.send(from, WakuFrame::FilterResponse(Box::new(response)), cx);
                }
            }
            WakuFrame::FilterResponse(response) => {
                m.filter_client
                    .handle_response(now, from, &response, &mut core.out.filter_client);
            }
            WakuFrame::FilterPush(push) => {
                if let Some((pubsub_topic, message)) = m.filter_client.handle_push(now, from, *push)
                {
                    core.out.events.push_back(WakuEvent::Message {
                        pubsub_topic,
                        message,
                        path: sim_core::DeliveryPath::FilterPush,
                        from: Some(from),
                    });
                }
            }
            WakuFrame::LightPushRequest(request) => {
                core.serve_lightpush(from, LightPushWireRequest::V3(*request), cx);
            }
            WakuFrame::LightPushResponse(response) => {
                core.lightpush_answer(from, LightPushWireResponse::V3(*response));
            }
            WakuFrame::LightPushV2(rpc) if rpc.request.is_some() => {
                core.serve_lightpush(from, LightPushWireRequest::V2(*rpc), cx);
            }
            WakuFrame::LightPushV2(rpc) => {
                core.lightpush_answer(from, LightPushWireResponse::V2(*rpc))
            }
            WakuFrame::PeerExchange(rpc, true) => {
                if core.config.roles.peer_exchange
                    && let Some(query) = rpc.query
                {
                    let response = m
                        .peer_manager
                        .handle_peer_exchange_request(cx.rng(), &query);
                    let rpc = PeerExchangeRpc {
                        response: Some(response),
                        ..Default::default()
                    };
                    core.send(from, WakuFrame::PeerExchange(Box::new(rpc), false), cx);
                }
            }
            WakuFrame::PeerExchange(rpc, false) => {
                if let Some(response) = rpc.response {
                    m.peer_manager.handle_peer_exchange_response(now, &response);
                }
            }
            WakuFrame::Ping(nonce) => core.send(from, WakuFrame::Pong(nonce), cx),
            WakuFrame::Pong(nonce) => {
                if core.pings.remove(&nonce).is_some() {
                    m.peer_manager
                        .on_ping_result(now, from, true, &mut core.out.peer_manager);
                }
            }
        }
    }

    fn on_timer(&mut self, tag: u64, cx: &mut NodeCtx<'_, '_>) {
        let payload = tag & ((1 << 56) - 1);
        let kind = match tag >> 56 {
            9 => {
                let mut api = WakuApi {
                    core: &mut self.core,
                    cx,
                };
                self.app.timer(payload, &mut api);
                return;
            }
            8 => {
                if let Some(peer) = self.core.pings.remove(&payload) {
                    let now = cx.now();
                    self.core.machines.peer_manager.on_ping_result(
                        now,
                        peer,
                        false,
                        &mut self.core.out.peer_manager,
                    );
                }
                return;
            }
            k => POLLED
                .iter()
                .copied()
                .find(|p| *p as u64 == k)
                .expect("timer tags are built by timer_tag"),
        };
        debug_assert_ne!(kind, TimerKind::App);
        self.core.on_poll_timer(kind, cx);
    }

    /// Drains machine outputs and application events until both are exhausted.
    fn settle(&mut self, cx: &mut NodeCtx<'_, '_>) {
        loop {
            self.core.process(cx);
            let Some(event) = self.core.out.events.pop_front() else {
                break;
            };
            // The application may call anything.
            self.core.dirty = ALL_DIRTY;
            let mut api = WakuApi {
                core: &mut self.core,
                cx,
            };
            self.app.event(event, &mut api);
        }
        self.core.rearm(cx);
    }
}

impl<A: App> Node for WakuNode<A> {
    type Msg = WakuFrame;
    type Command = A::Command;
    type Observation = AppObservation;

    fn handle(&mut self, input: Input<WakuFrame, A::Command>, cx: &mut NodeCtx<'_, '_>) {
        self.core.dirty |= touched_by(&input);
        match input {
            Input::Start => self.start(cx),
            Input::Timer { tag, .. } => self.on_timer(tag, cx),
            Input::Connected {
                conn,
                peer,
                outbound,
            } => self.core.connected(conn, peer, outbound, cx),
            Input::DialFailed { peer, .. } => self.core.dial_failed(peer, cx),
            Input::Disconnected { conn, peer, .. } => {
                if self.core.conns.get(&peer).map(|c| c.conn) == Some(conn) {
                    self.core.conns.remove(&peer);
                    self.core.peer_gone(peer, cx);
                }
            }
            Input::Message { peer, msg, .. } => self.on_frame(peer, msg, cx),
            Input::Command(command) => {
                let mut api = WakuApi {
                    core: &mut self.core,
                    cx,
                };
                self.app.command(command, &mut api);
            }
            Input::NetworkChanged { online } => {
                self.core
                    .machines
                    .peer_manager
                    .set_network_reachable(online);
                self.core
                    .out
                    .events
                    .push_back(WakuEvent::NetworkChanged { online });
            }
        }
        self.settle(cx);
    }

    fn crash(&mut self) {
        self.core.crash();
        self.app.crash();
    }
}

/// The polled machines `input` itself may change before its outputs are processed (which
/// mark more as needed): the relay for a relay frame, the peer manager for a pong or a ping
/// timeout, nothing for a ping (answered on the open connection, or via `Core::send`, which
/// marks), a timer's own machine; everything for any other input.
fn touched_by<C>(input: &Input<WakuFrame, C>) -> Dirty {
    match input {
        Input::Message { msg, .. } => match msg {
            WakuFrame::Relay(_) => dirty_bit(TimerKind::Relay),
            WakuFrame::Ping(_) => 0,
            WakuFrame::Pong(_) => dirty_bit(TimerKind::PeerManager),
            _ => ALL_DIRTY,
        },
        Input::Timer { tag, .. } => match POLLED.iter().find(|k| **k as u64 == tag >> 56) {
            Some(kind) => dirty_bit(*kind),
            None if tag >> 56 == TimerKind::PingTimeout as u64 => dirty_bit(TimerKind::PeerManager),
            None => ALL_DIRTY,
        },
        _ => ALL_DIRTY,
    }
}

/// The local time as a Waku timestamp (nanoseconds).
pub fn waku_timestamp(now: SimTime) -> i64 {
    i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)
}

/// Nodes `0..n` from `(config, app)` pairs, in order, sharing one discovery directory of them
/// all ([`directory_for`]).
pub fn network_nodes<A: App>(nodes: Vec<(NodeConfig, A)>) -> Vec<WakuNode<A>> {
    let configs: Vec<NodeConfig> = nodes.iter().map(|(c, _)| c.clone()).collect();
    let directory = Rc::new(directory_for(&configs));
    nodes
        .into_iter()
        .enumerate()
        .map(|(i, (config, app))| {
            WakuNode::new(config, NodeId(i as u32), Rc::clone(&directory), app)
        })
        .collect()
}
