//! The node's protocol side: the machines its roles need, peer ↔ connection bookkeeping, and
//! the loop that turns machine outputs into frames, timers and application events.
//!
//! Everything here is volatile except the store archive, which survives a crash (nwaku keeps
//! it in a database). Machines are rebuilt on every (re)start.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use sim_core::{AppObservation, ConnId, Ctx, DeliveryPath, SimTime, TimerId};

use super::api::WakuEvent;
use super::config::NodeConfig;
use crate::filter::{FilterClient, FilterClientOutput, FilterOutput, FilterService};
use crate::lightpush::{
    LightPushClient, LightPushClientOutput, LightPushService, LightPushWireRequest,
    LightPushWireResponse,
};
use crate::message::MessageId;
use crate::peer_manager::{Capabilities, Directory, PeerManager, PeerManagerOutput};
use crate::proto::{PeerExchangeRpc, WakuMessage};
use crate::relay::{PeerId, PublishError, Relay, RelayOutput};
use crate::sorted::VecMap;
use crate::store::{Archive, StoreClient, StoreClientOutput, StoreService};
use crate::wire::WakuFrame;

/// Frames queued for a peer while a connection to it is being dialled.
pub(super) const MAX_QUEUED_FRAMES_PER_PEER: usize = 64;
/// Output-processing rounds in one call before it is declared a livelock (a bug).
const MAX_ROUNDS: usize = 100_000;

/// Which machine a timer belongs to (the top byte of its tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TimerKind {
    Relay = 1,
    PeerManager = 2,
    StoreService = 3,
    FilterService = 4,
    FilterClient = 5,
    StoreClient = 6,
    LightPushClient = 7,
    PingTimeout = 8,
    App = 9,
}

/// Machines whose `poll_timeout` the node keeps a timer armed for, in this order.
pub(super) const POLLED: [TimerKind; 7] = [
    TimerKind::Relay,
    TimerKind::PeerManager,
    TimerKind::StoreService,
    TimerKind::FilterService,
    TimerKind::FilterClient,
    TimerKind::StoreClient,
    TimerKind::LightPushClient,
];

/// A set of [`POLLED`] machines (bit `i` = `POLLED[i]`): those whose `poll_timeout` may have
/// changed since the node last re-armed their timers.
pub(super) type Dirty = u8;

/// Every polled machine.
pub(super) const ALL_DIRTY: Dirty = (1 << POLLED.len()) - 1;

/// The [`Dirty`] bit of a polled machine (none for the other timer kinds).
pub(super) fn dirty_bit(kind: TimerKind) -> Dirty {
    POLLED
        .iter()
        .position(|k| *k == kind)
        .map_or(0, |slot| 1 << slot)
}

/// A timer tag: the kind in the top byte, a payload below.
pub(super) fn timer_tag(kind: TimerKind, payload: u64) -> u64 {
    assert!(payload < 1 << 56, "timer payload too large");
    ((kind as u64) << 56) | payload
}

/// The machines of one incarnation of a node.
///
/// Layout: in a large network every event finds its node's state cold in the cache, so what
/// the common events touch is kept together: machines are boxed (a node runs few services,
/// and the relay is large) and `repr(C)` keeps the declared order.
#[repr(C)]
pub(super) struct Machines {
    pub(super) relay: Option<Box<Relay>>,
    pub(super) store: Option<Box<StoreService>>,
    pub(super) filter: Option<Box<FilterService>>,
    pub(super) lightpush: Option<Box<LightPushService>>,
    pub(super) peer_manager: PeerManager,
    pub(super) store_client: StoreClient,
    pub(super) filter_client: FilterClient,
    pub(super) lightpush_client: LightPushClient,
}

/// Output buffers of the machines, drained by [`Core::process`].
#[derive(Default)]
pub(super) struct Outputs {
    pub(super) relay: Vec<RelayOutput>,
    pub(super) peer_manager: Vec<PeerManagerOutput>,
    pub(super) filter: Vec<FilterOutput>,
    pub(super) filter_client: Vec<FilterClientOutput>,
    pub(super) store_client: Vec<StoreClientOutput>,
    pub(super) lightpush_client: Vec<LightPushClientOutput>,
    pub(super) events: VecDeque<WakuEvent>,
    /// Emptied buffers kept for reuse by [`Core::process`] (never hold outputs between calls).
    spare_relay: Vec<RelayOutput>,
    spare_peer_manager: Vec<PeerManagerOutput>,
}

impl Outputs {
    fn is_empty(&self) -> bool {
        self.relay.is_empty()
            && self.peer_manager.is_empty()
            && self.filter.is_empty()
            && self.filter_client.is_empty()
            && self.store_client.is_empty()
            && self.lightpush_client.is_empty()
    }
}

/// The connection in use to one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Link {
    pub(super) conn: ConnId,
    /// True when this node dialled it.
    pub(super) outbound: bool,
}

/// The protocol side of a node. (`repr(C)`: the fields every event touches come first, on
/// few cache lines; see [`Machines`].)
#[repr(C)]
pub(super) struct Core {
    /// Machines that may have been changed since the last [`Core::rearm`]: only their
    /// `poll_timeout` is looked at again (a machine nobody called keeps its deadline, and
    /// looking costs a cache miss per machine in a large network). Whoever hands out a
    /// machine marks it; anything not known to be narrow marks them all.
    pub(super) dirty: Dirty,
    pub(super) armed: [Option<(SimTime, TimerId)>; POLLED.len()],
    pub(super) conns: VecMap<PeerId, Link>,
    pub(super) out: Outputs,
    pub(super) machines: Machines,
    pub(super) pings: VecMap<u64, PeerId>,
    pub(super) next_ping: u64,
    pub(super) queued: BTreeMap<PeerId, Vec<WakuFrame>>,
    /// Archive kept across crashes (taken back when the store service is rebuilt).
    pub(super) archive: Option<Archive>,
    pub(super) directory: Rc<Directory>,
    pub(super) config: NodeConfig,
}

type NodeCtx<'a, 'b> = Ctx<'b, WakuFrame, AppObservation>;

impl Machines {
    fn build(
        config: &NodeConfig,
        me: PeerId,
        directory: &Rc<Directory>,
        now: SimTime,
        archive: Option<Archive>,
    ) -> Machines {
        let roles = config.roles;
        let relay = roles
            .relay
            .then(|| Box::new(Relay::new(config.relay.clone()).expect("relay config validated")));
        let store = roles.store.then(|| {
            Box::new(
                match archive {
                    Some(archive) => StoreService::with_archive(config.store.clone(), archive, now),
                    None => StoreService::new(config.store.clone(), now),
                }
                .expect("store config validated at build"),
            )
        });
        let filter = roles
            .filter
            .then(|| Box::new(FilterService::new(config.filter_service.clone())));
        let lightpush = roles
            .lightpush
            .then(|| Box::new(LightPushService::new(config.lightpush.clone(), now)));
        let peer_manager =
            PeerManager::new(config.peer_manager.clone(), me, Rc::clone(directory), now)
                .expect("peer manager config validated at build");
        Machines {
            relay,
            store,
            filter,
            lightpush,
            store_client: StoreClient::new(config.store_client.clone()),
            filter_client: FilterClient::new(config.filter_client.clone()),
            lightpush_client: LightPushClient::new(config.lightpush_client.clone()),
            peer_manager,
        }
    }

    fn poll_timeout(&self, kind: TimerKind) -> Option<SimTime> {
        match kind {
            TimerKind::Relay => self.relay.as_ref()?.poll_timeout(),
            TimerKind::PeerManager => self.peer_manager.poll_timeout(),
            TimerKind::StoreService => self.store.as_ref()?.poll_timeout(),
            TimerKind::FilterService => self.filter.as_ref()?.poll_timeout(),
            TimerKind::FilterClient => self.filter_client.poll_timeout(),
            TimerKind::StoreClient => self.store_client.poll_timeout(),
            TimerKind::LightPushClient => self.lightpush_client.poll_timeout(),
            TimerKind::PingTimeout | TimerKind::App => None,
        }
    }
}

impl Core {
    pub(super) fn new(config: NodeConfig, me: PeerId, directory: Rc<Directory>) -> Core {
        let machines = Machines::build(&config, me, &directory, SimTime::ZERO, None);
        Core {
            config,
            directory,
            machines,
            archive: None,
            conns: VecMap::new(),
            queued: BTreeMap::new(),
            pings: VecMap::new(),
            next_ping: 0,
            armed: [None; POLLED.len()],
            dirty: ALL_DIRTY,
            out: Outputs::default(),
        }
    }

    /// Rebuilds every machine for a (re)start at `now`, keeping the archive.
    pub(super) fn restart(&mut self, now: SimTime, me: PeerId) {
        let archive = self.archive.take();
        self.machines = Machines::build(&self.config, me, &self.directory, now, archive);
    }

    /// Drops volatile state after a crash; the archive is kept.
    pub(super) fn crash(&mut self) {
        if let Some(store) = self.machines.store.take() {
            self.archive = Some(store.into_archive());
        }
        self.conns.clear();
        self.queued.clear();
        self.pings.clear();
        self.armed = [None; POLLED.len()];
        self.dirty = ALL_DIRTY;
        self.out = Outputs::default();
    }

    // ----- sending ---------------------------------------------------------------------

    /// Sends `frame` to `peer`, dialling first (and queueing, bounded) when not connected.
    pub(super) fn send(&mut self, peer: PeerId, frame: WakuFrame, cx: &mut NodeCtx<'_, '_>) {
        if let Some(link) = self.conns.get(&peer) {
            cx.send(link.conn, frame);
            return;
        }
        let queue = self.queued.entry(peer).or_default();
        if queue.is_empty() {
            self.dirty = ALL_DIRTY;
            let me = cx.id();
            let mut pm_out = std::mem::take(&mut self.out.peer_manager);
            let accepted = self.machines.peer_manager.dial(cx.now(), peer, &mut pm_out);
            self.out.peer_manager = pm_out;
            let dialing = self
                .machines
                .peer_manager
                .peer(peer)
                .is_some_and(|info| info.is_dialing());
            if !accepted && peer != me && !dialing {
                // The peer manager refused (limits, backoff): dial anyway for a request the
                // application asked for, as libp2p's dial-on-send does — unless its own dial
                // to the peer is already in flight (a second dial would only race it).
                cx.dial(peer);
            }
        }
        if queue.len() < MAX_QUEUED_FRAMES_PER_PEER {
            queue.push(frame);
        }
    }

    pub(super) fn relay_publish(
        &mut self,
        pubsub_topic: &str,
        message: WakuMessage,
        cx: &mut NodeCtx<'_, '_>,
    ) -> Result<MessageId, PublishError> {
        let Some(relay) = self.machines.relay.as_mut() else {
            return Err(PublishError::NoPeers {
                pubsub_topic: pubsub_topic.to_string(),
                peers: 0,
                required: 1,
            });
        };
        let now = cx.now();
        relay.publish(now, pubsub_topic, message, cx.rng(), &mut self.out.relay)
    }

    // ----- output processing -------------------------------------------------------------

    /// Drains every machine output until none is left; events for the application are queued
    /// in `out.events` for the caller to hand over.
    pub(super) fn process(&mut self, cx: &mut NodeCtx<'_, '_>) {
        for _ in 0..MAX_ROUNDS {
            if self.out.is_empty() {
                return;
            }
            // Each batch is swapped for an empty buffer kept from the previous batch, so the
            // output vectors keep their capacity instead of being reallocated per call.
            // Relay sends touch no machine; every other output may touch any.
            let narrow = self.out.peer_manager.is_empty()
                && self.out.filter.is_empty()
                && self.out.filter_client.is_empty()
                && self.out.store_client.is_empty()
                && self.out.lightpush_client.is_empty()
                && (self.out.relay.iter()).all(|o| matches!(o, RelayOutput::Send { .. }));
            if !narrow {
                self.dirty = ALL_DIRTY;
            }
            let spare = std::mem::take(&mut self.out.spare_relay);
            let mut batch = std::mem::replace(&mut self.out.relay, spare);
            for output in batch.drain(..) {
                self.on_relay_output(output, cx);
            }
            self.out.spare_relay = batch;
            let spare = std::mem::take(&mut self.out.spare_peer_manager);
            let mut batch = std::mem::replace(&mut self.out.peer_manager, spare);
            for output in batch.drain(..) {
                self.on_peer_manager_output(output, cx);
            }
            self.out.spare_peer_manager = batch;
            for FilterOutput::Push { to, push } in std::mem::take(&mut self.out.filter) {
                self.send(to, WakuFrame::FilterPush(Box::new(push)), cx);
            }
            for output in std::mem::take(&mut self.out.filter_client) {
                match output {
                    FilterClientOutput::Request { to, request } => {
                        self.send(to, WakuFrame::FilterRequest(Box::new(request)), cx);
                    }
                    other => self.out.events.push_back(WakuEvent::Filter(other)),
                }
            }
            for output in std::mem::take(&mut self.out.store_client) {
                match output {
                    StoreClientOutput::Send { peer, request } => {
                        self.send(peer, WakuFrame::StoreRequest(Box::new(request)), cx);
                    }
                    other => self.out.events.push_back(WakuEvent::Store(other)),
                }
            }
            for output in std::mem::take(&mut self.out.lightpush_client) {
                match output {
                    LightPushClientOutput::Send { peer, request } => {
                        let frame = match request {
                            LightPushWireRequest::V3(r) => WakuFrame::LightPushRequest(Box::new(r)),
                            LightPushWireRequest::V2(r) => WakuFrame::LightPushV2(Box::new(r)),
                        };
                        self.send(peer, frame, cx);
                    }
                    other => self.out.events.push_back(WakuEvent::LightPush(other)),
                }
            }
        }
        panic!("node {} output processing did not settle", cx.id());
    }

    fn on_relay_output(&mut self, output: RelayOutput, cx: &mut NodeCtx<'_, '_>) {
        let now = cx.now();
        match output {
            RelayOutput::Send { to, rpc } => {
                if let Some(link) = self.conns.get(&to) {
                    cx.send(link.conn, WakuFrame::Relay(rpc));
                }
            }
            RelayOutput::Deliver {
                pubsub_topic,
                message,
                from,
                ..
            } => {
                if let Some(store) = self.machines.store.as_mut() {
                    // Refusals (ephemeral, stale timestamps) are the archive's business.
                    let _ = store.handle_message(now, &pubsub_topic, &message);
                }
                if let Some(filter) = self.machines.filter.as_mut() {
                    filter.on_message(now, &pubsub_topic, &message, &mut self.out.filter);
                }
                self.out.events.push_back(WakuEvent::Message {
                    pubsub_topic,
                    message: *message,
                    path: DeliveryPath::Relay,
                    from,
                });
            }
            RelayOutput::Grafted { .. } | RelayOutput::Pruned { .. } => {
                if let Some(relay) = &self.machines.relay {
                    let mesh: Vec<PeerId> = relay
                        .subscriptions()
                        .flat_map(|topic| relay.mesh_peers(topic))
                        .collect();
                    self.machines.peer_manager.set_mesh_peers(mesh);
                }
            }
            RelayOutput::Disconnect { peer } => self.disconnect(peer, cx),
        }
    }

    fn on_peer_manager_output(&mut self, output: PeerManagerOutput, cx: &mut NodeCtx<'_, '_>) {
        match output {
            PeerManagerOutput::Dial(peer) => cx.dial(peer),
            PeerManagerOutput::Disconnect(peer) => self.disconnect(peer, cx),
            PeerManagerOutput::Ping(peer) => {
                let nonce = self.next_ping;
                self.next_ping += 1;
                if let Some(link) = self.conns.get(&peer) {
                    cx.send(link.conn, WakuFrame::Ping(nonce));
                    self.pings.insert(nonce, peer);
                    let timeout = self
                        .config
                        .peer_manager
                        .keepalive
                        .as_ref()
                        .map_or(sim_core::SimDuration::from_secs(5), |k| k.ping_timeout);
                    cx.set_timer(timeout, timer_tag(TimerKind::PingTimeout, nonce));
                } else {
                    let now = cx.now();
                    self.machines.peer_manager.on_ping_result(
                        now,
                        peer,
                        false,
                        &mut self.out.peer_manager,
                    );
                }
            }
            PeerManagerOutput::PeerExchangeRequest { peer, query } => {
                let rpc = PeerExchangeRpc {
                    query: Some(query),
                    ..Default::default()
                };
                self.send(peer, WakuFrame::PeerExchange(Box::new(rpc), true), cx);
            }
            PeerManagerOutput::SleepDetected { gap } => {
                self.out.events.push_back(WakuEvent::SleepDetected { gap });
            }
            PeerManagerOutput::OnlineChanged { online } => {
                self.out
                    .events
                    .push_back(WakuEvent::OnlineChanged { online });
            }
        }
    }

    /// Closes the connection to `peer` (if any) and tells every machine it is gone.
    pub(super) fn disconnect(&mut self, peer: PeerId, cx: &mut NodeCtx<'_, '_>) {
        if let Some(link) = self.conns.remove(&peer) {
            cx.close(link.conn);
            self.peer_gone(peer, cx);
        }
    }

    /// A connection to `peer` is up. A second connection to a connected peer is resolved the
    /// same way on both ends:
    /// - dialled in opposite directions (both ends dialled at once): the one dialled by the
    ///   lower id stays;
    /// - dialled by the same end: the new one replaces the old one. When the peer dialled
    ///   again, it no longer has the old connection (its network went down, or it restarted,
    ///   and this end was not told: a half-open connection), so the old one is closed and
    ///   every machine sees the peer leave and come back (the relay re-announces its
    ///   subscriptions, the peer manager and clients start afresh), as libp2p reports the old
    ///   connection's close and the new one's open.
    pub(super) fn connected(
        &mut self,
        conn: ConnId,
        peer: PeerId,
        outbound: bool,
        cx: &mut NodeCtx<'_, '_>,
    ) {
        let now = cx.now();
        let link = Link { conn, outbound };
        if let Some(existing) = self.conns.get(&peer).copied() {
            if existing.outbound != outbound {
                let lower_dialled_new = outbound == (cx.id() < peer);
                if lower_dialled_new {
                    self.conns.insert(peer, link);
                    cx.close(existing.conn);
                } else {
                    cx.close(conn);
                }
                return;
            }
            if outbound {
                // Our own second dial: the old connection is alive on our side.
                self.conns.insert(peer, link);
                cx.close(existing.conn);
                for frame in self.queued.remove(&peer).unwrap_or_default() {
                    cx.send(conn, frame);
                }
                return;
            }
            // The peer redialled: the old connection is half-open.
            self.disconnect(peer, cx);
        }
        self.conns.insert(peer, link);
        self.machines
            .peer_manager
            .on_connected(now, peer, outbound, &mut self.out.peer_manager);
        let relay_peer = self
            .directory
            .get(peer)
            .is_none_or(|r| r.capabilities().contains(Capabilities::RELAY));
        if let Some(relay) = self.machines.relay.as_mut()
            && relay_peer
        {
            relay.add_peer(now, peer, outbound, &mut self.out.relay);
        }
        for frame in self.queued.remove(&peer).unwrap_or_default() {
            cx.send(conn, frame);
        }
        self.out.events.push_back(WakuEvent::PeerConnected { peer });
    }

    /// Bookkeeping when the connection to `peer` ended, however that happened.
    pub(super) fn peer_gone(&mut self, peer: PeerId, cx: &mut NodeCtx<'_, '_>) {
        let now = cx.now();
        let m = &mut self.machines;
        if let Some(relay) = m.relay.as_mut() {
            relay.remove_peer(now, peer, &mut self.out.relay);
        }
        m.peer_manager.on_disconnected(now, peer);
        m.store_client
            .peer_disconnected(peer, &mut self.out.store_client);
        m.lightpush_client
            .peer_disconnected(peer, &mut self.out.lightpush_client);
        self.out
            .events
            .push_back(WakuEvent::PeerDisconnected { peer });
    }

    /// A dial to `peer` failed: queued frames are dropped and pending requests fail.
    pub(super) fn dial_failed(&mut self, peer: PeerId, cx: &mut NodeCtx<'_, '_>) {
        let now = cx.now();
        self.queued.remove(&peer);
        let m = &mut self.machines;
        m.peer_manager.on_dial_failed(now, cx.rng(), peer);
        m.store_client
            .peer_disconnected(peer, &mut self.out.store_client);
        m.lightpush_client
            .peer_disconnected(peer, &mut self.out.lightpush_client);
    }

    /// Re-arms one timer per machine at its `poll_timeout` when that changed (looking only
    /// at the machines marked [`Core::dirty`]).
    pub(super) fn rearm(&mut self, cx: &mut NodeCtx<'_, '_>) {
        let now = cx.now();
        let dirty = std::mem::take(&mut self.dirty);
        for (slot, kind) in POLLED.iter().enumerate() {
            if dirty & (1 << slot) == 0 {
                continue;
            }
            let wanted = self.machines.poll_timeout(*kind);
            let armed = self.armed[slot].map(|(at, _)| at);
            if wanted == armed {
                continue;
            }
            if let Some((_, timer)) = self.armed[slot].take() {
                cx.cancel_timer(timer);
            }
            if let Some(at) = wanted {
                let timer = cx.set_timer(at.saturating_duration_since(now), timer_tag(*kind, 0));
                self.armed[slot] = Some((at, timer));
            }
        }
    }

    /// A polled machine's timer fired: run it.
    pub(super) fn on_poll_timer(&mut self, kind: TimerKind, cx: &mut NodeCtx<'_, '_>) {
        let now = cx.now();
        if let Some(slot) = POLLED.iter().position(|k| *k == kind) {
            self.armed[slot] = None;
        }
        let m = &mut self.machines;
        let out = &mut self.out;
        match kind {
            TimerKind::Relay => {
                if let Some(relay) = m.relay.as_mut() {
                    relay.heartbeat(now, cx.rng(), &mut out.relay);
                }
            }
            TimerKind::PeerManager => m.peer_manager.tick(now, cx.rng(), &mut out.peer_manager),
            TimerKind::StoreService => {
                if let Some(store) = m.store.as_mut() {
                    store.handle_timeout(now);
                }
            }
            TimerKind::FilterService => {
                if let Some(filter) = m.filter.as_mut() {
                    filter.maintenance(now);
                }
            }
            TimerKind::FilterClient => m.filter_client.tick(now, cx.rng(), &mut out.filter_client),
            TimerKind::StoreClient => m.store_client.handle_timeout(now, &mut out.store_client),
            TimerKind::LightPushClient => {
                m.lightpush_client
                    .handle_timeout(now, &mut out.lightpush_client);
            }
            TimerKind::PingTimeout | TimerKind::App => unreachable!("not a polled machine"),
        }
    }

    /// Answers a lightpush request as a service node: validate, publish on relay, respond.
    pub(super) fn serve_lightpush(
        &mut self,
        from: PeerId,
        request: LightPushWireRequest,
        cx: &mut NodeCtx<'_, '_>,
    ) {
        let now = cx.now();
        let Some(service) = self.machines.lightpush.as_mut() else {
            return;
        };
        let checked = match &request {
            LightPushWireRequest::V3(r) => service.check(now, from, r),
            LightPushWireRequest::V2(r) => service.check_v2(now, from, r),
        };
        let accepted = match checked {
            Ok(accepted) => accepted,
            Err(refusal) => {
                let frame = match request {
                    LightPushWireRequest::V3(_) => {
                        WakuFrame::LightPushResponse(Box::new(service.refusal_response(&refusal)))
                    }
                    LightPushWireRequest::V2(_) => {
                        WakuFrame::LightPushV2(Box::new(service.refusal_response_v2(&refusal)))
                    }
                };
                self.send(from, frame, cx);
                return;
            }
        };
        let peers = self
            .machines
            .relay
            .as_ref()
            .map_or(0, |r| r.peers_on_topic(&accepted.pubsub_topic));
        let service = self.machines.lightpush.as_mut().expect("checked above");
        let (frame, publish) = match request {
            LightPushWireRequest::V3(_) => {
                let (response, publish) = service.complete(accepted, peers);
                (WakuFrame::LightPushResponse(Box::new(response)), publish)
            }
            LightPushWireRequest::V2(_) => {
                let (response, publish) = service.complete_v2(accepted, peers);
                (WakuFrame::LightPushV2(Box::new(response)), publish)
            }
        };
        if let Some((topic, message)) = publish {
            // A duplicate or an empty mesh is already reflected in the answer's peer count.
            let _ = self.relay_publish(&topic, message, cx);
        }
        self.send(from, frame, cx);
    }

    /// Hands a lightpush answer to the client.
    pub(super) fn lightpush_answer(&mut self, from: PeerId, response: LightPushWireResponse) {
        self.machines.lightpush_client.handle_response(
            from,
            response,
            &mut self.out.lightpush_client,
        );
    }
}
