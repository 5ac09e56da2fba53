//! The sans-IO node API, in the quinn-proto style.
//!
//! A simulated node is a state machine. The world (for example `sim-net`'s network) calls
//! [`Node::handle`] with one [`Input`] at a time; the node reads the time and acts only through
//! the [`Ctx`] it is given: send on a connection, dial, close, set or cancel timers, draw
//! randomness, emit observations. The node never sees the engine, a socket or a clock, so the
//! same code runs in the simulator, in a unit test driven by hand, and behind a real transport.
//!
//! When the world calls what:
//! - [`Input::Start`] once when the node boots, and again after each restart (after
//!   [`Node::crash`] dropped its volatile state);
//! - [`Input::Connected`] when a connection this node dialled or accepted is up (on this side);
//! - [`Input::Message`] for each message, in order per connection, while this side is open;
//! - [`Input::Disconnected`] once per connection, when *this side* learns it is gone; never
//!   for connections the node closed itself;
//! - [`Input::DialFailed`] when a dial gave up;
//! - [`Input::Timer`] when a timer set through [`Ctx::set_timer`] expires and was not cancelled;
//! - [`Input::Command`] for application commands (the traffic the scenario drives);
//! - [`Input::NetworkChanged`] when the host's network goes down or comes back (what an OS
//!   tells an app; nodes may ignore it).

use std::fmt::Debug;

use crate::audit::{Audit, AuditHasher};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Identifies a node for the whole run (including across restarts).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u32);

/// Identifies one connection between two nodes; never reused within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// Identifies one timer of one node; never reused by that node within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

impl NodeId {
    /// The id as an index into per-node tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A message that travels over simulated connections.
pub trait Payload: Debug {
    /// Names of the traffic classes (protocols) bytes are accounted under.
    const CLASSES: &'static [&'static str];

    /// Encoded size on the wire in bytes, framing included: this is what bandwidth costs.
    fn wire_bytes(&self) -> u32;

    /// Index into [`Payload::CLASSES`] of this message's traffic class.
    fn class(&self) -> usize {
        0
    }

    /// Feeds the message into the audit hash (by default its size and class).
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u32(self.wire_bytes());
        h.write_u64(self.class() as u64);
    }
}

/// Why a dial did not produce a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialError {
    /// This node's own network is down.
    NetworkDown,
    /// Nothing answered before the dial timeout (peer unreachable, asleep, gone).
    Timeout,
    /// The peer's host answered with a reset (its process is not running).
    Refused,
}

/// Why this side of a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The peer closed it gracefully.
    ClosedByPeer,
    /// The peer's host answered with a reset (it had closed or lost the connection).
    Reset,
    /// Data could not be delivered within the retransmission budget.
    Timeout,
    /// This node's network went down.
    NetworkDown,
}

/// One input to a node.
#[derive(Debug)]
pub enum Input<M, C> {
    /// Boot or restart: initialise volatile state, dial peers, set timers.
    Start,
    /// A timer set with [`Ctx::set_timer`] expired.
    Timer {
        /// The timer's id, as returned when it was set.
        timer: TimerId,
        /// The tag given when it was set.
        tag: u64,
    },
    /// A connection is up on this side.
    Connected {
        /// The new connection.
        conn: ConnId,
        /// The node at the other end.
        peer: NodeId,
        /// True when this node dialled.
        outbound: bool,
    },
    /// A dial gave up.
    DialFailed {
        /// The node that was dialled.
        peer: NodeId,
        /// Why.
        reason: DialError,
    },
    /// This side learnt that a connection is gone.
    Disconnected {
        /// The connection.
        conn: ConnId,
        /// The node at the other end.
        peer: NodeId,
        /// How this side learnt it.
        reason: DisconnectReason,
    },
    /// A message arrived.
    Message {
        /// The connection it came on.
        conn: ConnId,
        /// The sender.
        peer: NodeId,
        /// The message.
        msg: M,
    },
    /// An application command.
    Command(C),
    /// The host's network went down (`false`) or came back (`true`).
    NetworkChanged {
        /// Whether the network is now up.
        online: bool,
    },
}

/// What a node asked for during one call; the world carries it out afterwards.
#[derive(Debug)]
pub enum Action<M> {
    /// Send `msg` on `conn`.
    Send {
        /// The connection.
        conn: ConnId,
        /// The message.
        msg: M,
    },
    /// Open a connection to `peer`.
    Dial {
        /// The node to dial.
        peer: NodeId,
    },
    /// Close `conn` gracefully (pending data is still delivered, then the peer learns).
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Start timer `timer` to fire after `after`.
    SetTimer {
        /// The id handed to the node.
        timer: TimerId,
        /// Delay from now.
        after: SimDuration,
        /// Returned with the timer input.
        tag: u64,
    },
    /// Cancel `timer` (a no-op if it already fired).
    CancelTimer {
        /// The timer.
        timer: TimerId,
    },
}

/// The node's only window on the world during one [`Node::handle`] call.
pub struct Ctx<'a, M, O> {
    now: SimTime,
    id: NodeId,
    rng: &'a mut SimRng,
    next_timer: &'a mut u64,
    actions: &'a mut Vec<Action<M>>,
    observations: &'a mut Vec<O>,
}

impl<'a, M, O> Ctx<'a, M, O> {
    /// A context for one call. Worlds and test harnesses build these; nodes only use them.
    ///
    /// `now` is the node's local clock (skew included); `next_timer` is the node's timer-id
    /// counter, kept by the caller across calls so ids are never reused.
    pub fn new(
        now: SimTime,
        id: NodeId,
        rng: &'a mut SimRng,
        next_timer: &'a mut u64,
        actions: &'a mut Vec<Action<M>>,
        observations: &'a mut Vec<O>,
    ) -> Self {
        Ctx {
            now,
            id,
            rng,
            next_timer,
            actions,
            observations,
        }
    }

    /// The node's local time (the true time plus any configured clock skew).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The node's own random stream.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// Sends `msg` on `conn`. Sending on a connection the node already learnt is gone is a bug.
    pub fn send(&mut self, conn: ConnId, msg: M) {
        self.actions.push(Action::Send { conn, msg });
    }

    /// Dials `peer`; the answer is [`Input::Connected`] or [`Input::DialFailed`].
    pub fn dial(&mut self, peer: NodeId) {
        self.actions.push(Action::Dial { peer });
    }

    /// Closes `conn` gracefully. No [`Input::Disconnected`] follows for it.
    pub fn close(&mut self, conn: ConnId) {
        self.actions.push(Action::Close { conn });
    }

    /// Sets a timer that fires after `after` with `tag`; returns its id for cancelling.
    pub fn set_timer(&mut self, after: SimDuration, tag: u64) -> TimerId {
        let timer = TimerId(*self.next_timer);
        *self.next_timer += 1;
        self.actions.push(Action::SetTimer { timer, after, tag });
        timer
    }

    /// Cancels `timer`; harmless if it already fired.
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.actions.push(Action::CancelTimer { timer });
    }

    /// Emits an observation for the recorder (never seen by other nodes).
    pub fn observe(&mut self, observation: O) {
        self.observations.push(observation);
    }
}

/// A simulated node: a sans-IO state machine.
pub trait Node {
    /// Messages it exchanges with other nodes.
    type Msg: Payload;
    /// Application commands it accepts.
    type Command: Debug + Audit;
    /// Observations it emits for the recorder.
    type Observation;

    /// Processes one input at `cx.now()`, acting only through `cx`.
    fn handle(
        &mut self,
        input: Input<Self::Msg, Self::Command>,
        cx: &mut Ctx<'_, Self::Msg, Self::Observation>,
    );

    /// The process died: drop all volatile state, keep what a real node persists on disk.
    /// The next input after a crash is [`Input::Start`] (on restart).
    fn crash(&mut self);
}

/// A harness for driving one node by hand in unit tests, without a network.
pub struct Harness<N: Node> {
    /// The node under test.
    pub node: N,
    /// Its local time; tests move it forward.
    pub now: SimTime,
    /// Its random stream.
    pub rng: SimRng,
    next_timer: u64,
    /// Actions from the last call(s); tests inspect and clear them.
    pub actions: Vec<Action<N::Msg>>,
    /// Observations from the last call(s).
    pub observations: Vec<N::Observation>,
}

impl<N: Node> Harness<N> {
    /// Wraps `node` at time zero with a fixed seed.
    pub fn new(node: N, seed: u64) -> Self {
        Harness {
            node,
            now: SimTime::ZERO,
            rng: SimRng::stream(seed, "harness", 0),
            next_timer: 0,
            actions: Vec::new(),
            observations: Vec::new(),
        }
    }

    /// Feeds one input at the harness's current time.
    pub fn input(&mut self, input: Input<N::Msg, N::Command>) {
        let mut cx = Ctx::new(
            self.now,
            NodeId(0),
            &mut self.rng,
            &mut self.next_timer,
            &mut self.actions,
            &mut self.observations,
        );
        self.node.handle(input, &mut cx);
    }

    /// Takes the recorded actions, leaving none.
    pub fn take_actions(&mut self) -> Vec<Action<N::Msg>> {
        std::mem::take(&mut self.actions)
    }
}

impl Audit for NodeId {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u32(self.0);
    }
}

impl Audit for ConnId {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.0);
    }
}

impl Audit for TimerId {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.0);
    }
}
