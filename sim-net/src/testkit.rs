//! A scripted probe node for tests, benchmarks and determinism checks of the network itself.
//!
//! [`Probe`] dials the peers it is given at start, keeps one connection per peer, sends what
//! it is commanded to, and reports every input it sees as a [`ProbeEvent`] observation, so a
//! test can assert exactly what each side learnt and when. Optionally it redials lost peers
//! and pings its connections to detect dead ones (the keep-alive of a real node).

use std::collections::BTreeMap;

use sim_core::{
    Audit, AuditHasher, ConnId, Ctx, DialError, DisconnectReason, Input, Node, NodeId, Payload,
    SimDuration, SimTime,
};

/// A test message: an id, a size and its send time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeMsg {
    /// Identifies the message in observations.
    pub id: u64,
    /// Size charged on the wire.
    pub bytes: u32,
    /// Sender's local time at sending.
    pub sent_at: SimTime,
    /// Keep-alive traffic rather than data.
    pub ping: bool,
}

impl Payload for ProbeMsg {
    const CLASSES: &'static [&'static str] = &["data", "ping"];
    fn wire_bytes(&self) -> u32 {
        self.bytes
    }
    fn class(&self) -> usize {
        usize::from(self.ping)
    }
}

/// What a test can ask a probe to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeCommand {
    /// Send message `id` of `bytes` bytes to `to` (dropped if not connected).
    Send {
        /// Receiver.
        to: NodeId,
        /// Message id.
        id: u64,
        /// Size.
        bytes: u32,
    },
    /// Dial `peer`.
    Dial(NodeId),
    /// Close the connection to `peer`.
    Close(NodeId),
}

impl Audit for ProbeCommand {
    fn audit(&self, h: &mut AuditHasher) {
        match self {
            ProbeCommand::Send { to, id, bytes } => {
                h.write_u64(0);
                h.write_u32(to.0);
                h.write_u64(*id);
                h.write_u32(*bytes);
            }
            ProbeCommand::Dial(peer) => {
                h.write_u64(1);
                h.write_u32(peer.0);
            }
            ProbeCommand::Close(peer) => {
                h.write_u64(2);
                h.write_u32(peer.0);
            }
        }
    }
}

/// What a probe saw, for assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeEvent {
    /// It (re)started.
    Started,
    /// A connection came up.
    Connected {
        /// The peer.
        peer: NodeId,
        /// Whether this probe dialled.
        outbound: bool,
    },
    /// A dial failed.
    DialFailed {
        /// The peer.
        peer: NodeId,
        /// Why.
        reason: DialError,
    },
    /// A connection went away.
    Disconnected {
        /// The peer.
        peer: NodeId,
        /// How this side learnt it.
        reason: DisconnectReason,
    },
    /// A data message arrived.
    Received {
        /// The sender.
        from: NodeId,
        /// Message id.
        id: u64,
        /// Sender's local send time.
        sent_at: SimTime,
    },
    /// A send command found no connection to the receiver.
    SendSkipped {
        /// The intended receiver.
        to: NodeId,
        /// Message id.
        id: u64,
    },
    /// A keep-alive found a peer silent for too long and dropped its connection.
    PeerTimedOut {
        /// The peer.
        peer: NodeId,
    },
    /// The host network changed.
    Network {
        /// Up or down.
        online: bool,
    },
}

/// Behaviour switches of a [`Probe`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeConfig {
    /// Redial a lost peer after this delay.
    pub redial_after: Option<SimDuration>,
    /// Ping every connection at this interval, and drop one silent for 3 intervals.
    pub keepalive: Option<SimDuration>,
}

const TIMER_KEEPALIVE: u64 = u64::MAX;

/// The scripted probe node.
#[derive(Debug)]
pub struct Probe {
    config: ProbeConfig,
    peers: Vec<NodeId>,
    conns: BTreeMap<NodeId, ConnId>,
    last_heard: BTreeMap<NodeId, SimTime>,
}

impl Probe {
    /// A probe that dials `peers` at start.
    pub fn new(peers: Vec<NodeId>, config: ProbeConfig) -> Self {
        Probe {
            config,
            peers,
            conns: BTreeMap::new(),
            last_heard: BTreeMap::new(),
        }
    }

    /// Peers it currently believes connected.
    pub fn connected_peers(&self) -> Vec<NodeId> {
        self.conns.keys().copied().collect()
    }

    fn lost(&mut self, peer: NodeId, cx: &mut Ctx<'_, ProbeMsg, ProbeEvent>) {
        self.conns.remove(&peer);
        self.last_heard.remove(&peer);
        if let Some(delay) = self.config.redial_after
            && self.peers.contains(&peer)
        {
            cx.set_timer(delay, u64::from(peer.0));
        }
    }

    fn keepalive(&mut self, interval: SimDuration, cx: &mut Ctx<'_, ProbeMsg, ProbeEvent>) {
        let now = cx.now();
        let silent: Vec<NodeId> = self
            .last_heard
            .iter()
            .filter(|(_, heard)| {
                now.saturating_duration_since(**heard) > interval.saturating_mul(3)
            })
            .map(|(peer, _)| *peer)
            .collect();
        for peer in silent {
            if let Some(conn) = self.conns.get(&peer) {
                cx.close(*conn);
            }
            cx.observe(ProbeEvent::PeerTimedOut { peer });
            self.lost(peer, cx);
        }
        for conn in self.conns.values() {
            let ping = ProbeMsg {
                id: 0,
                bytes: 40,
                sent_at: now,
                ping: true,
            };
            cx.send(*conn, ping);
        }
        cx.set_timer(interval, TIMER_KEEPALIVE);
    }
}

impl Node for Probe {
    type Msg = ProbeMsg;
    type Command = ProbeCommand;
    type Observation = ProbeEvent;

    fn handle(
        &mut self,
        input: Input<ProbeMsg, ProbeCommand>,
        cx: &mut Ctx<'_, ProbeMsg, ProbeEvent>,
    ) {
        match input {
            Input::Start => {
                cx.observe(ProbeEvent::Started);
                for peer in &self.peers {
                    cx.dial(*peer);
                }
                if let Some(interval) = self.config.keepalive {
                    cx.set_timer(interval, TIMER_KEEPALIVE);
                }
            }
            Input::Connected {
                conn,
                peer,
                outbound,
            } => {
                if let Some(old) = self.conns.insert(peer, conn) {
                    cx.close(old);
                }
                self.last_heard.insert(peer, cx.now());
                cx.observe(ProbeEvent::Connected { peer, outbound });
            }
            Input::DialFailed { peer, reason } => {
                cx.observe(ProbeEvent::DialFailed { peer, reason });
                self.lost(peer, cx);
            }
            Input::Disconnected { conn, peer, reason } => {
                cx.observe(ProbeEvent::Disconnected { peer, reason });
                if self.conns.get(&peer) == Some(&conn) {
                    self.lost(peer, cx);
                }
            }
            Input::Message { peer, msg, .. } => {
                self.last_heard.insert(peer, cx.now());
                if !msg.ping {
                    cx.observe(ProbeEvent::Received {
                        from: peer,
                        id: msg.id,
                        sent_at: msg.sent_at,
                    });
                }
            }
            Input::Timer { tag, .. } => match (tag, self.config.keepalive) {
                (TIMER_KEEPALIVE, Some(interval)) => self.keepalive(interval, cx),
                _ => {
                    let peer = NodeId(tag as u32);
                    if !self.conns.contains_key(&peer) {
                        cx.dial(peer);
                    }
                }
            },
            Input::Command(command) => match command {
                ProbeCommand::Send { to, id, bytes } => match self.conns.get(&to) {
                    Some(conn) => {
                        let msg = ProbeMsg {
                            id,
                            bytes,
                            sent_at: cx.now(),
                            ping: false,
                        };
                        cx.send(*conn, msg);
                    }
                    None => cx.observe(ProbeEvent::SendSkipped { to, id }),
                },
                ProbeCommand::Dial(peer) => cx.dial(peer),
                ProbeCommand::Close(peer) => {
                    if let Some(conn) = self.conns.remove(&peer) {
                        self.last_heard.remove(&peer);
                        cx.close(conn);
                    }
                }
            },
            Input::NetworkChanged { online } => cx.observe(ProbeEvent::Network { online }),
        }
    }

    fn crash(&mut self) {
        self.conns.clear();
        self.last_heard.clear();
    }
}
