//! Event handlers of the [`Network`](super::Network): timers and commands, dials, segment
//! arrival and delivery, resets, and the node-state faults.
//!
//! Notification rules (what each side learns, and when) live here; the module doc of
//! `network.rs` states the model they implement.

use super::*;

impl<N: Node, R: Recorder<N::Observation>> Network<N, R>
where
    N::Msg: Clone,
{
    /// Hands a network-originated input to a node: now if it runs, after wake-up if it sleeps,
    /// never if it is dead or absent.
    fn deliver_input(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        node: NodeId,
        input: Input<N::Msg, N::Command>,
    ) {
        let slot = &mut self.slots[node.index()];
        match slot.process {
            Process::Running => self.dispatch(sched, node, input),
            Process::Asleep => slot.deferred.push_back(input),
            Process::Crashed | Process::Absent => {}
        }
    }

    pub(super) fn on_timer(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        node: NodeId,
        incarnation: u32,
        timer: TimerId,
        tag: u64,
    ) {
        let slot = &mut self.slots[node.index()];
        if slot.incarnation != incarnation || !take_live_timer(&mut slot.live_timers, timer.0) {
            return; // cancelled, or set before a crash
        }
        self.deliver_input(sched, node, Input::Timer { timer, tag });
    }

    pub(super) fn on_command(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        node: NodeId,
        command: N::Command,
    ) {
        let slot = &mut self.slots[node.index()];
        if matches!(slot.process, Process::Crashed | Process::Absent) {
            slot.stats.commands_dropped += 1;
            return;
        }
        self.deliver_input(sched, node, Input::Command(command));
    }

    pub(super) fn on_dial_arrive(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        from: NodeId,
        incarnation: u32,
        to: NodeId,
        started: SimTime,
    ) {
        let now = sched.now();
        let dialer = &self.slots[from.index()];
        if dialer.incarnation != incarnation || dialer.process == Process::Crashed {
            return; // the dialer died meanwhile; nobody waits for this dial
        }
        let timeout_at = started + self.config.dial.timeout;
        let fail = |sched: &mut Scheduler<'_, Events<N>>, reason, at| {
            let event = NetEvent::DialFailed {
                node: from,
                incarnation,
                peer: to,
                reason,
            };
            sched.at(at, event);
        };
        if self.reachable(from, to) && self.reachable(to, from) {
            // Every handshake leg is taken to cost what the first packet did.
            let one_way = now - started;
            let round_trips = u64::from(self.config.dial.handshake_round_trips);
            let dialer_ready = started + one_way.saturating_mul(2 * round_trips);
            if dialer_ready > timeout_at {
                fail(sched, DialError::Timeout, timeout_at);
                return;
            }
            let listener_ready = started + one_way.saturating_mul(2 * round_trips - 1);
            let conn = self.conns.open(from, to);
            self.slots[from.index()].conns.insert(conn);
            self.slots[to.index()].conns.insert(conn);
            sched.at(listener_ready, NetEvent::ConnUp { conn, side: 1 });
            sched.at(dialer_ready, NetEvent::ConnUp { conn, side: 0 });
        } else if self.host_resets(from, to) && !self.partition.blocks(to, from) {
            fail(sched, DialError::Refused, now + (now - started));
        } else {
            fail(sched, DialError::Timeout, timeout_at);
        }
    }

    pub(super) fn on_conn_up(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        conn: ConnId,
        side: usize,
    ) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        if c.sides[side] != SideState::Connecting {
            return; // killed during the handshake
        }
        c.sides[side] = SideState::Open;
        let (node, peer) = (c.ends[side], c.ends[1 - side]);
        let input = Input::Connected {
            conn,
            peer,
            outbound: side == 0,
        };
        self.deliver_input(sched, node, input);
        // Data that arrived before this side finished its handshake.
        self.flush(sched, conn, 1 - side);
    }

    pub(super) fn on_arrive(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        id: SegmentId,
        attempt: u32,
        segment: Segment<N::Msg>,
    ) {
        let SegmentId { conn, dir, .. } = id;
        let Some(c) = self.conns.get(conn) else {
            return;
        };
        let (src, dst) = (c.ends[dir], c.ends[1 - dir]);
        let (sender, receiver) = (c.sides[dir], c.sides[1 - dir]);
        if sender == SideState::Dead {
            // The sender's socket is gone; nothing retransmits this segment.
            self.slots[src.index()].stats.msgs_dropped +=
                u64::from(matches!(segment, Segment::Data(_)));
            return;
        }
        let answered_by_reset = self.host_resets(src, dst)
            || (self.reachable(src, dst)
                && matches!(receiver, SideState::Closed | SideState::Dead));
        let lost = !answered_by_reset
            && (!self.reachable(src, dst) || self.draw_loss(conn, dir, src, dst));
        match self.config.semantics {
            Semantics::Stream if lost => {
                self.retransmit(sched, id, src, dst, attempt, segment, false)
            }
            Semantics::Datagram if lost => {
                self.slots[src.index()].stats.msgs_dropped += 1;
            }
            _ if answered_by_reset => {
                if matches!(segment, Segment::Data(_)) {
                    self.slots[src.index()].stats.msgs_dropped += 1;
                }
                if !self.partition.blocks(dst, src) {
                    let delay = self.sample_delay(dst, src);
                    sched.after(
                        delay,
                        NetEvent::Reset {
                            conn,
                            side: dir as u8,
                        },
                    );
                }
            }
            Semantics::Stream => {
                if let Err(segment) = self.downlink(sched, id, segment, dst) {
                    self.retransmit(sched, id, src, dst, attempt, segment, false);
                }
            }
            Semantics::Datagram => {
                let duplicate = self.link_between(src, dst).duplicate;
                let mut copied = false;
                if let Segment::Data(m) = &segment
                    && self.net_rngs[src.index()].bernoulli(duplicate)
                {
                    let copy = Segment::Data(m.clone());
                    copied = self.downlink(sched, id, copy, dst).is_ok();
                }
                // Lost if the full downlink dropped it and no copy got in.
                if let Err(Segment::Data(_)) = self.downlink(sched, id, segment, dst)
                    && !copied
                {
                    self.slots[src.index()].stats.msgs_dropped += 1;
                }
            }
        }
    }

    /// A segment the sender's uplink dropped comes back to it (stream semantics): offered to
    /// the uplink again while the sender's side still sends.
    pub(super) fn on_resend(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        id: SegmentId,
        attempt: u32,
        segment: Segment<N::Msg>,
    ) {
        let Some(c) = self.conns.get(id.conn) else {
            return;
        };
        let (src, dst) = (c.ends[id.dir], c.ends[1 - id.dir]);
        if c.sides[id.dir] == SideState::Dead {
            // The socket is gone, and with it what it had not sent yet.
            self.slots[src.index()].stats.msgs_dropped +=
                u64::from(matches!(segment, Segment::Data(_)));
            return;
        }
        self.transmit(sched, id, src, dst, attempt, segment);
    }

    /// Draws whether one attempt on `dir` is lost (advancing its burst state).
    fn draw_loss(&mut self, conn: ConnId, dir: usize, src: NodeId, dst: NodeId) -> bool {
        let (sa, sb) = (&self.slots[src.index()], &self.slots[dst.index()]);
        let model = self.links.model(
            sa.net.link_class,
            sa.degraded,
            sb.net.link_class,
            sb.degraded,
        );
        let Some(c) = self.conns.get_mut(conn) else {
            return true;
        };
        let rng = &mut self.net_rngs[src.index()];
        model.loss.lose(&mut c.dirs[dir].burst_bad, rng)
    }

    /// Passes a segment through the receiver's downlink queue, then on to delivery; gives it
    /// back if the queue is full (counted as the receiver's queue drop).
    fn downlink(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        id: SegmentId,
        segment: Segment<N::Msg>,
        dst: NodeId,
    ) -> Result<(), Segment<N::Msg>> {
        let now = sched.now();
        let slot = &mut self.slots[dst.index()];
        let downlink = link(&self.rate_plans, dst, false, slot.net.down_bytes_per_s);
        if downlink.unlimited_at(now) {
            self.on_ready(sched, id, segment);
            return Ok(());
        }
        if !downlink.admits(now, slot.down_free_at, self.config.queue_limit) {
            slot.stats.queue_drops += 1;
            return Err(segment);
        }
        let ready = downlink.finish(slot.down_free_at.max(now), id.bytes);
        slot.down_free_at = ready;
        let event = NetEvent::Ready {
            conn: id.conn,
            dir: id.dir as u8,
            seq: id.seq,
            bytes: id.bytes,
            segment,
        };
        sched.at(ready, event);
        Ok(())
    }

    pub(super) fn on_ready(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        id: SegmentId,
        segment: Segment<N::Msg>,
    ) {
        let SegmentId {
            conn,
            dir,
            seq,
            bytes,
        } = id;
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        let receiver = c.sides[1 - dir];
        if !matches!(receiver, SideState::Open | SideState::Connecting) {
            return;
        }
        let (src, dst) = (c.ends[dir], c.ends[1 - dir]);
        let d = &mut c.dirs[dir];
        let in_order = match self.config.semantics {
            Semantics::Datagram => true,
            Semantics::Stream => seq == d.next_delivery && d.reassembly.is_empty(),
        };
        if receiver == SideState::Open && in_order {
            // The common case: nothing is waiting, deliver without buffering.
            d.next_delivery += u64::from(self.config.semantics == Semantics::Stream);
            self.deliver(sched, conn, src, dst, segment, bytes);
            return;
        }
        d.reassembly.insert(seq, (segment, bytes));
        if receiver == SideState::Open {
            self.flush(sched, conn, dir);
        }
    }

    /// Delivers every segment of `dir` that is due: in sequence order for streams (stopping
    /// at a gap), everything buffered for datagrams.
    fn flush(&mut self, sched: &mut Scheduler<'_, Events<N>>, conn: ConnId, dir: usize) {
        loop {
            let Some(c) = self.conns.get_mut(conn) else {
                return;
            };
            if c.sides[1 - dir] != SideState::Open {
                return;
            }
            let d = &mut c.dirs[dir];
            let next = match self.config.semantics {
                Semantics::Stream => {
                    let s = d.reassembly.remove(&d.next_delivery);
                    d.next_delivery += u64::from(s.is_some());
                    s
                }
                Semantics::Datagram => d.reassembly.pop_first().map(|(_, s)| s),
            };
            let Some((segment, bytes)) = next else {
                return;
            };
            let (src, dst) = (c.ends[dir], c.ends[1 - dir]);
            self.deliver(sched, conn, src, dst, segment, bytes);
        }
    }

    fn deliver(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        conn: ConnId,
        src: NodeId,
        dst: NodeId,
        segment: Segment<N::Msg>,
        bytes: u32,
    ) {
        match segment {
            Segment::Data(msg) => {
                let stats = &mut self.slots[dst.index()].stats;
                stats.msgs_received += 1;
                stats.bytes_received[msg.class()] += u64::from(bytes);
                let input = Input::Message {
                    conn,
                    peer: src,
                    msg,
                };
                self.deliver_input(sched, dst, input);
            }
            Segment::Fin => {
                let Some(side) = self.conns.get(conn).map(|c| c.side_of(dst)) else {
                    return;
                };
                self.kill_side(sched, conn, side, Some(DisconnectReason::ClosedByPeer));
                // The FIN arrived, so the closing side's close is complete too.
                if let Some(c) = self.conns.get_mut(conn)
                    && c.sides[1 - side] == SideState::Closed
                {
                    c.sides[1 - side] = SideState::Dead;
                    self.conns.reap(conn);
                }
            }
        }
    }

    /// Ends `side` of `conn`. A side that was open learns `notify` (if any); a dialer still in
    /// its handshake learns that the dial failed; a side that closed itself learns nothing.
    pub(super) fn kill_side(
        &mut self,
        sched: &mut Scheduler<'_, Events<N>>,
        conn: ConnId,
        side: usize,
        notify: Option<DisconnectReason>,
    ) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        let before = c.sides[side];
        if before == SideState::Dead {
            return;
        }
        c.sides[side] = SideState::Dead;
        c.dirs[1 - side].reassembly.clear();
        let (node, peer) = (c.ends[side], c.ends[1 - side]);
        self.conns.reap(conn);
        let slot = &mut self.slots[node.index()];
        slot.conns.remove(&conn);
        let Some(reason) = notify else {
            return;
        };
        match before {
            SideState::Open => {
                if reason != DisconnectReason::ClosedByPeer {
                    slot.stats.conn_failures += 1;
                }
                let input = Input::Disconnected { conn, peer, reason };
                self.deliver_input(sched, node, input);
            }
            SideState::Connecting if side == 0 => {
                slot.stats.dial_failures += 1;
                let reason = match reason {
                    DisconnectReason::NetworkDown => DialError::NetworkDown,
                    DisconnectReason::Reset | DisconnectReason::ClosedByPeer => DialError::Refused,
                    DisconnectReason::Timeout => DialError::Timeout,
                };
                self.deliver_input(sched, node, Input::DialFailed { peer, reason });
            }
            SideState::Connecting | SideState::Closed | SideState::Dead => {}
        }
    }

    // ----- faults -------------------------------------------------------------------------

    pub(super) fn apply_fault(&mut self, sched: &mut Scheduler<'_, Events<N>>, fault: &Fault) {
        match fault {
            Fault::Partition { groups } => self.partition.split(groups),
            Fault::PartitionOneWay { from, to } => self.partition.one_way(from, to),
            Fault::Heal => self.partition.heal(),
            Fault::DegradeLinks { nodes, model } => {
                let index = self.links.add_degradation(model.clone());
                nodes
                    .iter()
                    .for_each(|n| self.slots[n.index()].degraded = Some(index));
            }
            Fault::RestoreLinks { nodes } => {
                nodes
                    .iter()
                    .for_each(|n| self.slots[n.index()].degraded = None);
            }
            // In force through the nodes' rate plans, built from the schedule before the run:
            // a queue needs the rates ahead to time its departures (see the `queue` module).
            Fault::SetBandwidth { .. } => {}
            Fault::ClockSkew { nodes, offset_ms } => {
                nodes
                    .iter()
                    .for_each(|n| self.slots[n.index()].skew_ms = *offset_ms);
            }
            Fault::Offline { nodes } => nodes
                .iter()
                .for_each(|n| self.set_network(sched, *n, false)),
            Fault::Online { nodes } => nodes.iter().for_each(|n| self.set_network(sched, *n, true)),
            Fault::Sleep { nodes } => nodes.iter().for_each(|n| self.sleep(sched, *n)),
            Fault::Wake { nodes } => nodes.iter().for_each(|n| self.wake(sched, *n)),
            Fault::Crash { nodes } => nodes
                .iter()
                .for_each(|n| self.stop(sched, *n, Process::Crashed)),
            Fault::Leave { nodes } => nodes
                .iter()
                .for_each(|n| self.stop(sched, *n, Process::Absent)),
            Fault::Restart { nodes } => nodes
                .iter()
                .for_each(|n| self.start(sched, *n, Process::Crashed)),
            Fault::Join { nodes } => nodes
                .iter()
                .for_each(|n| self.start(sched, *n, Process::Absent)),
        }
    }

    fn log_state(&mut self, now: SimTime, node: NodeId) {
        let slot = &self.slots[node.index()];
        self.state_log.push(StateChange {
            at: now,
            node,
            process: slot.process,
            network_up: slot.network_up,
        });
    }

    /// Network down: every connection of the node dies on its side at once (the OS reports
    /// it); peers are not told and find out through their own timeouts.
    fn set_network(&mut self, sched: &mut Scheduler<'_, Events<N>>, node: NodeId, up: bool) {
        let slot = &mut self.slots[node.index()];
        if slot.network_up == up || slot.process == Process::Absent {
            return;
        }
        slot.network_up = up;
        self.log_state(sched.now(), node);
        if !up {
            let conns = std::mem::take(&mut self.slots[node.index()].conns);
            for conn in conns {
                let side = self.conns.get(conn).map(|c| c.side_of(node));
                if let Some(side) = side {
                    self.kill_side(sched, conn, side, Some(DisconnectReason::NetworkDown));
                }
            }
        }
        self.deliver_input(sched, node, Input::NetworkChanged { online: up });
    }

    fn sleep(&mut self, sched: &mut Scheduler<'_, Events<N>>, node: NodeId) {
        if self.slots[node.index()].process == Process::Running {
            self.slots[node.index()].process = Process::Asleep;
            self.log_state(sched.now(), node);
        }
    }

    /// Wake-up: the process resumes and handles, in order, everything that came due while it
    /// slept (overdue timers, commands, buffered network input).
    fn wake(&mut self, sched: &mut Scheduler<'_, Events<N>>, node: NodeId) {
        if self.slots[node.index()].process != Process::Asleep {
            return;
        }
        self.slots[node.index()].process = Process::Running;
        self.log_state(sched.now(), node);
        while let Some(input) = self.slots[node.index()].deferred.pop_front() {
            if self.slots[node.index()].process != Process::Running {
                break;
            }
            self.dispatch(sched, node, input);
        }
    }

    /// Crash (process dies, host stays: the OS resets the node's connections, so peers learn
    /// after one-way latency) or leave (host gone: peers learn only through timeouts).
    fn stop(&mut self, sched: &mut Scheduler<'_, Events<N>>, node: NodeId, to: Process) {
        let slot = &mut self.slots[node.index()];
        if !matches!(slot.process, Process::Running | Process::Asleep) {
            if to == Process::Absent && slot.process == Process::Crashed {
                slot.process = Process::Absent;
                self.log_state(sched.now(), node);
            }
            return;
        }
        self.hosts[node.index()].node.crash();
        let slot = &mut self.slots[node.index()];
        slot.process = to;
        slot.incarnation += 1;
        slot.live_timers.clear();
        slot.deferred.clear();
        let conns = std::mem::take(&mut slot.conns);
        self.log_state(sched.now(), node);
        for conn in conns {
            let Some(c) = self.conns.get(conn) else {
                continue;
            };
            let side = c.side_of(node);
            let peer = c.ends[1 - side];
            self.kill_side(sched, conn, side, None);
            if to == Process::Crashed
                && self.slots[node.index()].network_up
                && !self.partition.blocks(node, peer)
            {
                let delay = self.sample_delay(node, peer);
                sched.after(
                    delay,
                    NetEvent::Reset {
                        conn,
                        side: (1 - side) as u8,
                    },
                );
            }
        }
    }

    /// Restart after a crash, or join after being absent: the node boots afresh.
    fn start(&mut self, sched: &mut Scheduler<'_, Events<N>>, node: NodeId, from: Process) {
        let slot = &mut self.slots[node.index()];
        if slot.process != from {
            return;
        }
        slot.process = Process::Running;
        if from == Process::Absent {
            slot.network_up = true;
        }
        self.log_state(sched.now(), node);
        self.dispatch(sched, node, Input::Start);
    }
}

/// Removes `timer` from the sorted `live` ids; false if it was not there.
pub(super) fn take_live_timer(live: &mut Vec<u64>, timer: u64) -> bool {
    match live.binary_search(&timer) {
        Ok(at) => {
            live.remove(at);
            true
        }
        Err(_) => false,
    }
}
