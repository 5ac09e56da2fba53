//! Connections: the two sides' views, per-direction sequencing and the reassembly buffer.
//!
//! A connection has two sides (index 0 = dialer, 1 = listener) and two directions (direction
//! `d` carries data from side `d` to side `1 - d`). Each side keeps its own view: it may still
//! believe the connection is open long after the other side reset it — exactly the situation
//! real recovery strategies stumble on. Storage is a slab with generations, so memory is
//! O(live connections) and a stale event (for a removed connection) is recognised and ignored.

use std::collections::BTreeMap;

use sim_core::{ConnId, NodeId, SimTime};

/// One side's view of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SideState {
    /// Handshake not finished on this side yet: data is buffered, not delivered.
    Connecting,
    /// In use.
    Open,
    /// Closed gracefully by this side: data already sent is still (re)transmitted, then FIN;
    /// anything arriving is answered with a reset.
    Closed,
    /// Gone on this side (reset, timeout, network down, crash): nothing is sent or received.
    Dead,
}

/// What travels in one direction: data or the graceful-close marker.
#[derive(Debug)]
pub enum Segment<M> {
    /// An application message.
    Data(M),
    /// The sender closed its side; delivered in order after all earlier data.
    Fin,
}

/// One direction's sequencing state.
#[derive(Debug)]
pub(crate) struct Direction<M> {
    /// Sequence number of the next segment sent.
    pub(crate) next_seq: u64,
    /// Sequence number the receiver delivers next (stream semantics).
    pub(crate) next_delivery: u64,
    /// Arrived segments (with their wire size) waiting for an earlier one (head-of-line
    /// blocking), by sequence.
    pub(crate) reassembly: BTreeMap<u64, (Segment<M>, u32)>,
    /// Gilbert–Elliott state of this direction.
    pub(crate) burst_bad: bool,
    /// Latest scheduled arrival (datagram semantics without reordering).
    pub(crate) last_arrival: SimTime,
}

impl<M> Direction<M> {
    fn new() -> Self {
        Direction {
            next_seq: 0,
            next_delivery: 0,
            reassembly: BTreeMap::new(),
            burst_bad: false,
            last_arrival: SimTime::ZERO,
        }
    }
}

/// A connection between two nodes.
#[derive(Debug)]
pub(crate) struct Conn<M> {
    /// `ends[0]` dialled `ends[1]`.
    pub(crate) ends: [NodeId; 2],
    /// Each side's view.
    pub(crate) sides: [SideState; 2],
    /// `dirs[d]` carries data from `ends[d]` to `ends[1 - d]`.
    pub(crate) dirs: [Direction<M>; 2],
}

impl<M> Conn<M> {
    /// The side index of `node`; panics if it is not an end (a bug in the caller).
    pub(crate) fn side_of(&self, node: NodeId) -> usize {
        if self.ends[0] == node {
            0
        } else {
            assert_eq!(
                self.ends[1], node,
                "{node} is not an end of this connection"
            );
            1
        }
    }

    /// True once neither side will ever send or accept anything.
    fn finished(&self) -> bool {
        self.sides.iter().all(|s| *s == SideState::Dead)
    }
}

struct SlabEntry<M> {
    generation: u32,
    conn: Option<Conn<M>>,
}

/// All live connections.
pub(crate) struct ConnTable<M> {
    slots: Vec<SlabEntry<M>>,
    free: Vec<u32>,
    live: usize,
}

impl<M> ConnTable<M> {
    pub(crate) fn new() -> Self {
        ConnTable {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    fn split(id: ConnId) -> (usize, u32) {
        ((id.0 & 0xffff_ffff) as usize, (id.0 >> 32) as u32)
    }

    /// Opens a connection from `dialer` to `listener`, both sides still connecting.
    pub(crate) fn open(&mut self, dialer: NodeId, listener: NodeId) -> ConnId {
        let conn = Conn {
            ends: [dialer, listener],
            sides: [SideState::Connecting; 2],
            dirs: [Direction::new(), Direction::new()],
        };
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.slots.len()).expect("over 2^32 live connections");
                self.slots.push(SlabEntry {
                    generation: 0,
                    conn: None,
                });
                index
            }
        };
        let entry = &mut self.slots[index as usize];
        debug_assert!(entry.conn.is_none());
        entry.generation = entry.generation.wrapping_add(1);
        entry.conn = Some(conn);
        self.live += 1;
        ConnId((u64::from(entry.generation) << 32) | u64::from(index))
    }

    /// The connection `id`, unless it was removed.
    pub(crate) fn get(&self, id: ConnId) -> Option<&Conn<M>> {
        let (index, generation) = Self::split(id);
        let entry = self.slots.get(index)?;
        (entry.generation == generation)
            .then_some(entry.conn.as_ref())
            .flatten()
    }

    /// The connection `id` for update, unless it was removed.
    pub(crate) fn get_mut(&mut self, id: ConnId) -> Option<&mut Conn<M>> {
        let (index, generation) = Self::split(id);
        let entry = self.slots.get_mut(index)?;
        if entry.generation != generation {
            return None;
        }
        entry.conn.as_mut()
    }

    /// Removes `id` if both sides are dead; returns whether it was removed.
    pub(crate) fn reap(&mut self, id: ConnId) -> bool {
        let (index, generation) = Self::split(id);
        let Some(entry) = self.slots.get_mut(index) else {
            return false;
        };
        let finished =
            entry.generation == generation && entry.conn.as_ref().is_some_and(|c| c.finished());
        if finished {
            entry.conn = None;
            self.free.push(index as u32);
            self.live -= 1;
        }
        finished
    }

    /// Number of live connections.
    pub(crate) fn live(&self) -> usize {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused() {
        let mut table: ConnTable<()> = ConnTable::new();
        let a = table.open(NodeId(0), NodeId(1));
        table.get_mut(a).unwrap().sides = [SideState::Dead; 2];
        assert!(table.reap(a));
        let b = table.open(NodeId(0), NodeId(1));
        assert_ne!(a, b, "a reused slot gets a new generation");
        assert!(table.get(a).is_none(), "a stale id finds nothing");
        assert!(table.get(b).is_some());
        assert_eq!(table.live(), 1);
    }

    #[test]
    fn reap_keeps_half_open_connections() {
        let mut table: ConnTable<()> = ConnTable::new();
        let a = table.open(NodeId(3), NodeId(4));
        table.get_mut(a).unwrap().sides = [SideState::Dead, SideState::Open];
        assert!(!table.reap(a));
        assert_eq!(table.get(a).unwrap().side_of(NodeId(4)), 1);
    }
}
