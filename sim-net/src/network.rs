//! The simulated network: a [`World`] that hosts sans-IO nodes and carries their messages over
//! fault-injected connections.
//!
//! What it models (DESIGN §5):
//! - **Stream semantics** (default): each transmission attempt is lost with the link's loss
//!   model or when the receiver is unreachable (partitioned, offline, asleep, gone); a loss
//!   costs a retransmission timeout that doubles; after the retransmission budget the sender's
//!   side resets and only the sender learns it. Delivery is in order per direction, with
//!   head-of-line blocking behind a retransmitted segment.
//! - **Datagram semantics**: a lost message is gone; jitter may reorder; duplication.
//! - **Bandwidth**: per node FIFO uplink and downlink with serialization delay, bounded like a
//!   real shaper's queue: a segment arriving at a full queue is dropped (stream: retransmitted
//!   after the RTO; datagram: lost), and queued data drains at whatever rate is in force, so a
//!   backlog built at a throttled rate is not stuck behind it once the rate is restored (the
//!   `queue` module explains the model).
//! - **Connections**: dials cost handshake round trips and time out; graceful close travels as
//!   an in-order FIN; a side that closed or died answers arriving data with a reset; an abrupt
//!   failure is noticed by each side only through its own retransmissions and timeouts.
//! - **Node states**: process running / asleep / crashed / absent, and network up / down.
//!
//! Random draws for a message come from its sender's `net` stream, so one node's traffic does
//! not perturb another's draws.

use std::collections::{BTreeSet, VecDeque};

use sim_core::{
    Action, Audit, AuditHasher, ConnId, Ctx, DialError, DisconnectReason, Engine, Input, Node,
    NodeId, Payload, Scheduler, SimDuration, SimRng, SimTime, TimerId, World,
};

use crate::config::{NetConfig, NodeNet, NodeStats, Semantics};
use crate::conn::{ConnTable, Segment, SideState};
use crate::faults::{Fault, FaultSchedule};
use crate::link::LinkModel;
use crate::queue::{Link, RatePlan};
use crate::routing::{LinkTable, Partition};

/// Receives the observations nodes emit (the recorder lives outside the system under test).
pub trait Recorder<O> {
    /// Called once per observation, in emission order.
    fn record(&mut self, at: SimTime, node: NodeId, observation: O);
}

impl<O> Recorder<O> for Vec<(SimTime, NodeId, O)> {
    fn record(&mut self, at: SimTime, node: NodeId, observation: O) {
        self.push((at, node, observation));
    }
}

/// A recorder that discards everything (benchmarks).
pub struct Discard;

impl<O> Recorder<O> for Discard {
    fn record(&mut self, _: SimTime, _: NodeId, _: O) {}
}

/// What the node's process is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    /// Running normally.
    Running,
    /// Frozen: no input is processed; timers and commands wait for wake-up.
    Asleep,
    /// Dead; its host still answers with resets while its network is up.
    Crashed,
    /// Not part of the network (left, or not yet joined): unreachable.
    Absent,
}

/// A change of a node's state, logged for reports (fault periods in plots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// When.
    pub at: SimTime,
    /// Which node.
    pub node: NodeId,
    /// Process state after the change.
    pub process: Process,
    /// Network state after the change.
    pub network_up: bool,
}

/// The events the network schedules.
#[derive(Debug)]
pub enum NetEvent<M, C> {
    /// Boot (or restart) a node.
    Start {
        /// The node.
        node: NodeId,
    },
    /// A node's timer.
    Timer {
        /// The node.
        node: NodeId,
        /// Its incarnation when set (a crash invalidates older timers).
        incarnation: u32,
        /// The timer.
        timer: TimerId,
        /// The node's tag.
        tag: u64,
    },
    /// An application command for a node.
    Command {
        /// The node.
        node: NodeId,
        /// The command.
        command: C,
    },
    /// Entry `index` of the fault schedule.
    Fault {
        /// Index into the schedule.
        index: u32,
    },
    /// A dial's first packet reaches the listener.
    DialArrive {
        /// The dialer.
        from: NodeId,
        /// The dialer's incarnation.
        incarnation: u32,
        /// The listener.
        to: NodeId,
        /// When the dial started.
        started: SimTime,
    },
    /// A dial failed (delivered to the dialer).
    DialFailed {
        /// The dialer.
        node: NodeId,
        /// Its incarnation when it dialled.
        incarnation: u32,
        /// The listener.
        peer: NodeId,
        /// Why.
        reason: DialError,
    },
    /// The handshake completed on one side.
    ConnUp {
        /// The connection.
        conn: ConnId,
        /// 0 = dialer, 1 = listener.
        side: u8,
    },
    /// A transmission attempt of a segment reaches the receiver's host.
    Arrive(Attempt<M>),
    /// A segment has come through the receiver's downlink.
    Ready {
        /// The connection.
        conn: ConnId,
        /// Direction.
        dir: u8,
        /// Sequence number.
        seq: u64,
        /// Wire size of the segment.
        bytes: u32,
        /// The segment.
        segment: Segment<M>,
    },
    /// A reset reaches one side.
    Reset {
        /// The connection.
        conn: ConnId,
        /// The side that learns.
        side: u8,
    },
    /// A segment the sender's full uplink queue dropped is offered to it again (stream
    /// semantics, after the retransmission timeout).
    Resend(Attempt<M>),
}

/// One transmission attempt of a segment (the payload of [`NetEvent::Arrive`] and
/// [`NetEvent::Resend`]).
#[derive(Debug)]
pub struct Attempt<M> {
    /// The connection.
    pub conn: ConnId,
    /// Direction (= sending side).
    pub dir: u8,
    /// Sequence number within the direction.
    pub seq: u64,
    /// Retransmissions so far.
    pub attempt: u32,
    /// Wire size of the segment (computed once, at sending).
    pub bytes: u32,
    /// The segment.
    pub segment: Segment<M>,
}

impl<M> Attempt<M> {
    /// Attempt number `attempt` of the segment `id`.
    fn new(id: SegmentId, attempt: u32, segment: Segment<M>) -> Self {
        Attempt {
            conn: id.conn,
            dir: id.dir as u8,
            seq: id.seq,
            attempt,
            bytes: id.bytes,
            segment,
        }
    }

    /// The segment, its attempt number and its payload.
    fn into_parts(self) -> (SegmentId, u32, Segment<M>) {
        let id = SegmentId {
            conn: self.conn,
            dir: usize::from(self.dir),
            seq: self.seq,
            bytes: self.bytes,
        };
        (id, self.attempt, self.segment)
    }
}

impl<M: Payload, C: Audit> Audit for NetEvent<M, C> {
    fn audit(&self, h: &mut AuditHasher) {
        let audit_segment = |h: &mut AuditHasher, s: &Segment<M>, bytes: u32| match s {
            Segment::Data(m) => {
                h.write_u32(bytes);
                h.write_u64(m.class() as u64);
            }
            Segment::Fin => h.write_u64(u64::MAX),
        };
        let audit_attempt = |h: &mut AuditHasher, tag: u64, a: &Attempt<M>| {
            (tag, a.conn.0, u64::from(a.dir)).audit(h);
            (a.seq, u64::from(a.attempt)).audit(h);
            audit_segment(h, &a.segment, a.bytes);
        };
        match self {
            NetEvent::Start { node } => (0u64, node.0).audit(h),
            NetEvent::Timer {
                node,
                incarnation,
                timer,
                tag,
            } => {
                (1u64, node.0).audit(h);
                (u64::from(*incarnation), timer.0, *tag).audit(h);
            }
            NetEvent::Command { node, command } => {
                (2u64, node.0).audit(h);
                command.audit(h);
            }
            NetEvent::Fault { index } => (3u64, *index).audit(h),
            NetEvent::DialArrive {
                from,
                incarnation,
                to,
                started,
            } => {
                (4u64, from.0).audit(h);
                (u64::from(*incarnation), u64::from(to.0), started.0).audit(h);
            }
            NetEvent::DialFailed {
                node,
                incarnation,
                peer,
                reason,
            } => {
                (5u64, node.0).audit(h);
                (u64::from(*incarnation), u64::from(peer.0), *reason as u64).audit(h);
            }
            NetEvent::ConnUp { conn, side } => (6u64, conn.0, u64::from(*side)).audit(h),
            NetEvent::Arrive(attempt) => audit_attempt(h, 7, attempt),
            NetEvent::Ready {
                conn,
                dir,
                seq,
                bytes,
                segment,
            } => {
                (8u64, conn.0, u64::from(*dir)).audit(h);
                seq.audit(h);
                audit_segment(h, segment, *bytes);
            }
            NetEvent::Reset { conn, side } => (9u64, conn.0, u64::from(*side)).audit(h),
            NetEvent::Resend(attempt) => audit_attempt(h, 10, attempt),
        }
    }
}

/// Audit for small tuples of integers, used above.
trait AuditWords {
    fn audit(&self, h: &mut AuditHasher);
}
impl AuditWords for (u64, u32) {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.0);
        h.write_u32(self.1);
    }
}
impl AuditWords for (u64, u64) {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.0);
        h.write_u64(self.1);
    }
}
impl AuditWords for (u64, u64, u64) {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.0);
        h.write_u64(self.1);
        h.write_u64(self.2);
    }
}

/// What the network keeps per node about its host and connectivity. The node itself, its
/// random streams and timer counter live in separate vectors: every segment reads the state of
/// both ends, so this stays small and its hot fields come first, in one cache line
/// (`repr(C)` keeps the declared order).
#[repr(C)]
struct Slot<N: Node> {
    process: Process,
    network_up: bool,
    degraded: Option<u16>,
    incarnation: u32,
    skew_ms: i64,
    net: NodeNet,
    up_free_at: SimTime,
    down_free_at: SimTime,
    stats: NodeStats,
    /// Ids of the timers set and neither fired nor cancelled, sorted (a handful per node;
    /// ids only grow, so a new one goes at the end).
    live_timers: Vec<u64>,
    /// Inputs that came due while the process slept, handled in order on wake-up.
    deferred: VecDeque<Input<N::Msg, N::Command>>,
    /// Connections this side still considers usable (Connecting or Open).
    conns: BTreeSet<ConnId>,
}

/// The node and what only it uses: its random stream and timer-id counter.
struct Host<N> {
    node: N,
    rng: SimRng,
    next_timer: u64,
}

type Events<N> = NetEvent<<N as Node>::Msg, <N as Node>::Command>;

/// A network of nodes of type `N`, recording observations into `R`.
pub struct Network<N: Node, R: Recorder<N::Observation>> {
    config: NetConfig,
    slots: Vec<Slot<N>>,
    hosts: Vec<Host<N>>,
    /// Each node's `net` stream: draws for the messages it sends.
    net_rngs: Vec<SimRng>,
    conns: ConnTable<N::Msg>,
    links: LinkTable,
    partition: Partition,
    faults: Vec<Fault>,
    /// Each node's scheduled bandwidth changes (from the schedule's `SetBandwidth` faults);
    /// empty when the schedule changes no bandwidth.
    rate_plans: Vec<RatePlan>,
    state_log: Vec<StateChange>,
    /// The recorder; public so callers can read it after a run.
    pub recorder: R,
    actions: Vec<Action<N::Msg>>,
    observations: Vec<N::Observation>,
}

/// How a node starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Presence {
    /// Boots at time zero.
    #[default]
    Present,
    /// Absent until a [`Fault::Join`].
    Absent,
}

impl<N: Node, R: Recorder<N::Observation>> Network<N, R>
where
    N::Msg: Clone,
{
    /// A network of `nodes` (node `i` gets [`NodeId`] `i`), every draw seeded from `seed`.
    ///
    /// Panics if the configuration is invalid: validate it first with [`NetConfig::validate`].
    pub fn new(config: NetConfig, seed: u64, nodes: Vec<N>, recorder: R) -> Self {
        if let Err(e) = config.validate() {
            panic!("invalid network configuration (validate before building): {e}");
        }
        let classes = N::Msg::CLASSES.len().max(1);
        let node_count = nodes.len();
        let slots = (0..node_count)
            .map(|_| Slot {
                process: Process::Running,
                network_up: true,
                degraded: None,
                incarnation: 0,
                skew_ms: 0,
                net: NodeNet::default(),
                up_free_at: SimTime::ZERO,
                down_free_at: SimTime::ZERO,
                stats: NodeStats::new(classes),
                live_timers: Vec::new(),
                deferred: VecDeque::new(),
                conns: BTreeSet::new(),
            })
            .collect::<Vec<_>>();
        let hosts = nodes
            .into_iter()
            .enumerate()
            .map(|(i, node)| Host {
                node,
                rng: SimRng::stream(seed, "node", i as u64),
                next_timer: 0,
            })
            .collect::<Vec<_>>();
        let net_rngs = (0..node_count)
            .map(|i| SimRng::stream(seed, "net", i as u64))
            .collect::<Vec<_>>();
        Network {
            links: LinkTable::new(config.default_link.clone()),
            config,
            slots,
            hosts,
            net_rngs,
            conns: ConnTable::new(),
            partition: Partition::new(node_count),
            faults: Vec::new(),
            rate_plans: Vec::new(),
            state_log: Vec::new(),
            recorder,
            actions: Vec::new(),
            observations: Vec::new(),
        }
    }

    /// Sets a node's bandwidth, link class and region (before the run starts; bandwidth
    /// changes during the run are [`Fault::SetBandwidth`] entries of the schedule).
    pub fn set_node_net(&mut self, node: NodeId, net: NodeNet) {
        self.slots[node.index()].net = net;
    }

    /// Uses `model` for paths between link classes `a` and `b` (both directions).
    pub fn set_class_link(&mut self, a: u16, b: u16, model: LinkModel) {
        self.links.set_class_pair(a, b, model);
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.slots.len()
    }

    /// The node itself, for inspection.
    pub fn node(&self, id: NodeId) -> &N {
        &self.hosts[id.index()].node
    }

    /// What the network counted for a node.
    pub fn stats(&self, id: NodeId) -> &NodeStats {
        &self.slots[id.index()].stats
    }

    /// The node's process state and whether its network is up.
    pub fn state(&self, id: NodeId) -> (Process, bool) {
        let slot = &self.slots[id.index()];
        (slot.process, slot.network_up)
    }

    /// Every node state change so far, in time order.
    pub fn state_log(&self) -> &[StateChange] {
        &self.state_log
    }

    /// Connections currently held by the network (either side not yet dead).
    pub fn live_connections(&self) -> usize {
        self.conns.live()
    }

    /// Connections `id` currently considers usable.
    pub fn connections_of(&self, id: NodeId) -> usize {
        self.slots[id.index()].conns.len()
    }

    /// Builds the engine: present nodes start at time zero (in id order), absent ones wait for
    /// a join, and the fault schedule is queued. Faults must name existing nodes.
    pub fn into_engine(
        mut self,
        presence: &[Presence],
        schedule: &FaultSchedule,
    ) -> Result<Engine<Self>, String> {
        let count = self.slots.len() as u32;
        for (i, entry) in schedule.entries().iter().enumerate() {
            entry
                .fault
                .validate(count)
                .map_err(|e| format!("fault #{i} at {}: {e}", entry.at))?;
        }
        for (i, p) in presence.iter().enumerate() {
            if *p == Presence::Absent {
                self.slots[i].process = Process::Absent;
            }
        }
        self.faults = schedule.entries().iter().map(|e| e.fault.clone()).collect();
        self.rate_plans = rate_plans(schedule, self.slots.len());
        let starts: Vec<NodeId> = (0..count)
            .map(NodeId)
            .filter(|n| self.slots[n.index()].process == Process::Running)
            .collect();
        let mut engine = Engine::new(self);
        for node in starts {
            engine.schedule(SimTime::ZERO, NetEvent::Start { node });
        }
        for (index, entry) in schedule.entries().iter().enumerate() {
            engine.schedule(
                entry.at,
                NetEvent::Fault {
                    index: index as u32,
                },
            );
        }
        Ok(engine)
    }

    // ----- node calls -------------------------------------------------------------------

    /// Calls the node with one input and carries out what it asked for.
    fn dispatch(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        node: NodeId,
        input: Input<N::Msg, N::Command>,
    ) {
        let now = sched.now();
        let slot = &self.slots[node.index()];
        debug_assert_eq!(slot.process, Process::Running, "dispatch to a stopped node");
        let local_now = skewed(now, slot.skew_ms);
        let mut actions = std::mem::take(&mut self.actions);
        let mut observations = std::mem::take(&mut self.observations);
        {
            let host = &mut self.hosts[node.index()];
            let mut cx = Ctx::new(
                local_now,
                node,
                &mut host.rng,
                &mut host.next_timer,
                &mut actions,
                &mut observations,
            );
            host.node.handle(input, &mut cx);
        }
        for observation in observations.drain(..) {
            self.recorder.record(now, node, observation);
        }
        for action in actions.drain(..) {
            self.apply(sched, node, action);
        }
        self.actions = actions;
        self.observations = observations;
    }

    /// Carries out one action. Never calls a node (that would re-enter `dispatch`).
    fn apply(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        node: NodeId,
        action: Action<N::Msg>,
    ) {
        let incarnation = self.slots[node.index()].incarnation;
        match action {
            Action::SetTimer { timer, after, tag } => {
                let live = &mut self.slots[node.index()].live_timers;
                if let Err(at) = live.binary_search(&timer.0) {
                    live.insert(at, timer.0);
                }
                let event = NetEvent::Timer {
                    node,
                    incarnation,
                    timer,
                    tag,
                };
                sched.after(after, event);
            }
            Action::CancelTimer { timer } => {
                events::take_live_timer(&mut self.slots[node.index()].live_timers, timer.0);
            }
            Action::Dial { peer } => self.start_dial(sched, node, peer),
            Action::Send { conn, msg } => self.send(sched, node, conn, Segment::Data(msg)),
            Action::Close { conn } => {
                let open = self.conns.get(conn).is_some_and(|c| {
                    matches!(
                        c.sides[c.side_of(node)],
                        SideState::Open | SideState::Connecting
                    )
                });
                if open {
                    self.send(sched, node, conn, Segment::Fin);
                    let c = self.conns.get_mut(conn).expect("checked above");
                    let side = c.side_of(node);
                    c.sides[side] = SideState::Closed;
                    self.slots[node.index()].conns.remove(&conn);
                }
            }
        }
    }

    fn start_dial(&mut self, sched: &mut Scheduler<'_, Events<N>>, from: NodeId, to: NodeId) {
        let node_count = self.slots.len();
        let slot = &mut self.slots[from.index()];
        slot.stats.dials += 1;
        let incarnation = slot.incarnation;
        let now = sched.now();
        if !slot.network_up || to == from || to.index() >= node_count {
            let reason = if slot.network_up {
                DialError::Refused
            } else {
                DialError::NetworkDown
            };
            let event = NetEvent::DialFailed {
                node: from,
                incarnation,
                peer: to,
                reason,
            };
            sched.at(now, event);
            return;
        }
        let delay = self.sample_delay(from, to);
        let event = NetEvent::DialArrive {
            from,
            incarnation,
            to,
            started: now,
        };
        sched.after(delay, event);
    }

    /// Sends `segment` from `node` on `conn` (uplink, latency), or drops it if this side
    /// cannot send.
    fn send(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        node: NodeId,
        conn: ConnId,
        segment: Segment<N::Msg>,
    ) {
        let Some(c) = self.conns.get_mut(conn) else {
            self.slots[node.index()].stats.sends_on_closed += 1;
            return;
        };
        let side = c.side_of(node);
        if !matches!(c.sides[side], SideState::Open | SideState::Connecting) {
            self.slots[node.index()].stats.sends_on_closed += 1;
            return;
        }
        let peer = c.ends[1 - side];
        let dir = &mut c.dirs[side];
        let seq = dir.next_seq;
        dir.next_seq += 1;
        let bytes = match &segment {
            Segment::Data(m) => m.wire_bytes(),
            Segment::Fin => 0,
        };
        let slot = &mut self.slots[node.index()];
        if let Segment::Data(m) = &segment {
            slot.stats.msgs_sent += 1;
            slot.stats.bytes_sent[m.class()] += u64::from(bytes);
        }
        let id = SegmentId {
            conn,
            dir: side,
            seq,
            bytes,
        };
        self.transmit(sched, id, node, peer, 0, segment);
    }

    /// Offers attempt `attempt` of a segment to `node`'s uplink: queued, then on its way to
    /// `peer` (latency), or dropped when the queue is full — offered again after the
    /// retransmission timeout under stream semantics, lost under datagram semantics.
    fn transmit(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        id: SegmentId,
        node: NodeId,
        peer: NodeId,
        attempt: u32,
        segment: Segment<N::Msg>,
    ) {
        let now = sched.now();
        let slot = &mut self.slots[node.index()];
        let uplink = link(&self.rate_plans, node, true, slot.net.up_bytes_per_s);
        if !uplink.admits(now, slot.up_free_at, self.config.queue_limit) {
            slot.stats.queue_drops += 1;
            match self.config.semantics {
                Semantics::Stream => {
                    self.retransmit(sched, id, node, peer, attempt, segment, true);
                }
                Semantics::Datagram => {
                    slot.stats.msgs_dropped += u64::from(matches!(segment, Segment::Data(_)));
                }
            }
            return;
        }
        let depart = uplink.finish(slot.up_free_at.max(now), id.bytes);
        slot.up_free_at = depart;
        let mut arrival = depart + self.sample_delay(node, peer);
        if self.config.semantics == Semantics::Datagram && !self.link_between(node, peer).reorder {
            let dir = &mut self
                .conns
                .get_mut(id.conn)
                .expect("caller looked it up")
                .dirs[id.dir];
            arrival = arrival.max(dir.last_arrival);
            dir.last_arrival = arrival;
        }
        sched.at(
            arrival,
            NetEvent::Arrive(Attempt::new(id, attempt, segment)),
        );
    }

    /// Stream semantics: attempt `attempt` of a segment from `src` to `dst` was lost (on the
    /// link, at an unreachable receiver, or in a full queue). It is tried again after the
    /// retransmission timeout — through `src`'s uplink again if `requeue` (the uplink dropped
    /// it), else straight to `dst`'s host — or, once the budget is spent, `src`'s side resets.
    #[allow(clippy::too_many_arguments)]
    fn retransmit(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        id: SegmentId,
        src: NodeId,
        dst: NodeId,
        attempt: u32,
        segment: Segment<N::Msg>,
        requeue: bool,
    ) {
        if attempt >= self.config.stream.max_retransmits {
            self.slots[src.index()].stats.msgs_dropped += 1;
            self.kill_side(sched, id.conn, id.dir, Some(DisconnectReason::Timeout));
            return;
        }
        self.slots[src.index()].stats.retransmissions += 1;
        let rto = self.config.stream.rto(self.mean_delay(src, dst), attempt);
        let retry = Attempt::new(id, attempt + 1, segment);
        let event = if requeue {
            NetEvent::Resend(retry)
        } else {
            NetEvent::Arrive(retry)
        };
        sched.after(rto, event);
    }

    // ----- paths ------------------------------------------------------------------------

    fn link_between(&self, a: NodeId, b: NodeId) -> &LinkModel {
        let (sa, sb) = (&self.slots[a.index()], &self.slots[b.index()]);
        self.links.model(
            sa.net.link_class,
            sa.degraded,
            sb.net.link_class,
            sb.degraded,
        )
    }

    /// One attempt's one-way delay from `a` to `b`: link latency, jitter and region base.
    fn sample_delay(&mut self, a: NodeId, b: NodeId) -> SimDuration {
        let base = match &self.config.regions {
            Some(m) => m.base(
                self.slots[a.index()].net.region,
                self.slots[b.index()].net.region,
            ),
            None => SimDuration::ZERO,
        };
        let (sa, sb) = (&self.slots[a.index()], &self.slots[b.index()]);
        let model = self.links.model(
            sa.net.link_class,
            sa.degraded,
            sb.net.link_class,
            sb.degraded,
        );
        let delay = model.sample_delay(&mut self.net_rngs[a.index()]);
        base + delay
    }

    /// Mean one-way latency from `a` to `b` (for retransmission timeouts).
    fn mean_delay(&self, a: NodeId, b: NodeId) -> SimDuration {
        let base = match &self.config.regions {
            Some(m) => m.base(
                self.slots[a.index()].net.region,
                self.slots[b.index()].net.region,
            ),
            None => SimDuration::ZERO,
        };
        base + self.link_between(a, b).latency.mean()
    }

    /// Whether a packet from `a` can reach `b`'s running process right now.
    fn reachable(&self, a: NodeId, b: NodeId) -> bool {
        let (sa, sb) = (&self.slots[a.index()], &self.slots[b.index()]);
        sa.network_up
            && sb.network_up
            && sb.process == Process::Running
            && !self.partition.blocks(a, b)
    }

    /// Whether `b`'s host would answer a packet from `a` with a reset (process dead).
    fn host_resets(&self, a: NodeId, b: NodeId) -> bool {
        let (sa, sb) = (&self.slots[a.index()], &self.slots[b.index()]);
        sa.network_up
            && sb.network_up
            && sb.process == Process::Crashed
            && !self.partition.blocks(a, b)
    }
}

/// One direction of `node`'s access link (`up` or down): its configured rate and the
/// scheduled changes.
fn link(plans: &[RatePlan], node: NodeId, up: bool, base: u64) -> Link<'_> {
    let steps = match plans.get(node.index()) {
        Some(plan) if up => plan.up.as_slice(),
        Some(plan) => plan.down.as_slice(),
        None => &[],
    };
    Link { base, steps }
}

/// Every node's bandwidth changes in `schedule` (which is in time order, equal times in
/// insertion order, as the engine applies them); empty when there are none.
fn rate_plans(schedule: &FaultSchedule, node_count: usize) -> Vec<RatePlan> {
    let mut plans = Vec::new();
    for entry in schedule.entries() {
        if let Fault::SetBandwidth {
            nodes,
            up_bytes_per_s,
            down_bytes_per_s,
        } = &entry.fault
        {
            if plans.is_empty() {
                plans = vec![RatePlan::default(); node_count];
            }
            for n in nodes {
                let plan = &mut plans[n.index()];
                plan.up.push((entry.at, *up_bytes_per_s));
                plan.down.push((entry.at, *down_bytes_per_s));
            }
        }
    }
    plans
}

/// Where a segment belongs: connection, direction, sequence number, and its wire size.
#[derive(Clone, Copy, Debug)]
struct SegmentId {
    conn: ConnId,
    dir: usize,
    seq: u64,
    bytes: u32,
}

/// The node-local clock: true time shifted by the node's skew.
fn skewed(now: SimTime, skew_ms: i64) -> SimTime {
    let offset = skew_ms.unsigned_abs().saturating_mul(1_000_000);
    if skew_ms >= 0 {
        SimTime(now.0.saturating_add(offset))
    } else {
        SimTime(now.0.saturating_sub(offset))
    }
}

impl<N: Node, R: Recorder<N::Observation>> World for Network<N, R>
where
    N::Msg: Clone,
{
    type Event = Events<N>;

    fn handle(&mut self, now: SimTime, event: Self::Event, sched: &mut Scheduler<'_, Self::Event>) {
        debug_assert_eq!(now, sched.now());
        match event {
            NetEvent::Start { node } => {
                if self.slots[node.index()].process == Process::Running {
                    self.dispatch(sched, node, Input::Start);
                }
            }
            NetEvent::Timer {
                node,
                incarnation,
                timer,
                tag,
            } => self.on_timer(sched, node, incarnation, timer, tag),
            NetEvent::Command { node, command } => self.on_command(sched, node, command),
            NetEvent::Fault { index } => {
                let fault = self.faults[index as usize].clone();
                self.apply_fault(sched, &fault);
            }
            NetEvent::DialArrive {
                from,
                incarnation,
                to,
                started,
            } => self.on_dial_arrive(sched, from, incarnation, to, started),
            NetEvent::DialFailed {
                node,
                incarnation,
                peer,
                reason,
            } => {
                let slot = &mut self.slots[node.index()];
                if slot.incarnation == incarnation && slot.process == Process::Running {
                    slot.stats.dial_failures += 1;
                    self.dispatch(sched, node, Input::DialFailed { peer, reason });
                }
            }
            NetEvent::ConnUp { conn, side } => self.on_conn_up(sched, conn, side as usize),
            NetEvent::Arrive(attempt) => {
                let (id, attempt, segment) = attempt.into_parts();
                self.on_arrive(sched, id, attempt, segment);
            }
            NetEvent::Ready {
                conn,
                dir,
                seq,
                bytes,
                segment,
            } => {
                let id = SegmentId {
                    conn,
                    dir: dir as usize,
                    seq,
                    bytes,
                };
                self.on_ready(sched, id, segment);
            }
            NetEvent::Reset { conn, side } => {
                self.kill_side(sched, conn, side as usize, Some(DisconnectReason::Reset));
            }
            NetEvent::Resend(attempt) => {
                let (id, attempt, segment) = attempt.into_parts();
                self.on_resend(sched, id, attempt, segment);
            }
        }
    }
}

#[path = "network_events.rs"]
mod events;
