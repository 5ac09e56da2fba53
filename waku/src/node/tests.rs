//! Hand-driven tests of [`WakuNode`] glue (no network): what actions a node takes for its
//! application's requests.

use std::rc::Rc;

use sim_core::node::Harness;
use sim_core::{Action, ConnId, DisconnectReason, Input, NodeId};

use super::{App, Implementation, NodeConfig, Roles, WakuApi, WakuEvent, WakuNode, directory_for};
use crate::proto::WakuMessage;
use crate::wire::WakuFrame;

/// Lightpushes one message to node 1 when it starts.
#[derive(Debug, Default)]
struct PushAtStart;

impl App for PushAtStart {
    type Command = u64;

    fn start(&mut self, api: &mut WakuApi<'_, '_>) {
        let message = WakuMessage::new(vec![1, 2, 3], "/test/1/chat/proto");
        let _ = api.lightpush(NodeId(1), None, message);
    }
    fn command(&mut self, _: u64, _: &mut WakuApi<'_, '_>) {}
    fn event(&mut self, _: WakuEvent, _: &mut WakuApi<'_, '_>) {}
    fn timer(&mut self, _: u64, _: &mut WakuApi<'_, '_>) {}
    fn crash(&mut self) {}
}

#[test]
fn a_request_to_a_peer_being_dialled_does_not_dial_it_twice() {
    let mut light = NodeConfig::preset(Implementation::Nwaku, Roles::LIGHT);
    light.static_peers.push(NodeId(1));
    let service = NodeConfig::preset(Implementation::Nwaku, Roles::SERVICE);
    let directory = Rc::new(directory_for(&[light.clone(), service]));
    let node = WakuNode::new(light, NodeId(0), directory, PushAtStart);
    let mut h = Harness::new(node, 1);
    h.input(Input::Start);
    let dials = h
        .take_actions()
        .into_iter()
        .filter(|a| matches!(a, Action::Dial { peer } if *peer == NodeId(1)))
        .count();
    assert_eq!(
        dials, 1,
        "the static dial is in flight; the lightpush waits for it"
    );
}

#[test]
fn a_peer_that_redials_replaces_its_half_open_connection() {
    // Node 0 serves light client 1. The client's network went down (its side of connection 1
    // died; node 0 was not told) and came back: it dials again. Node 0 must use the new
    // connection and close the old one, not the other way round (the client would see every
    // later connection refused while node 0 talks into the dead one).
    let service = NodeConfig::preset(Implementation::Nwaku, Roles::SERVICE);
    let light = NodeConfig::preset(Implementation::GoWaku, Roles::LIGHT);
    let directory = Rc::new(directory_for(&[service.clone(), light]));
    let node = WakuNode::new(service, NodeId(0), directory, super::NoApp);
    let mut h = Harness::new(node, 1);
    h.input(Input::Start);
    let client = NodeId(1);
    let (old, new) = (ConnId(1), ConnId(2));
    for conn in [old, new] {
        h.input(Input::Connected {
            conn,
            peer: client,
            outbound: false,
        });
    }
    let closed = closed_connections(&mut h);
    assert_eq!(closed, vec![old], "the half-open connection is closed");
    assert_eq!(h.node.connected_peers(), vec![client]);
    h.input(Input::Message {
        conn: new,
        peer: client,
        msg: WakuFrame::Ping(7),
    });
    let answered_on: Vec<ConnId> = h
        .take_actions()
        .into_iter()
        .filter_map(|a| match a {
            Action::Send {
                conn,
                msg: WakuFrame::Pong(7),
            } => Some(conn),
            _ => None,
        })
        .collect();
    assert_eq!(answered_on, vec![new], "answers go on the live connection");
    // The old connection's close, when it comes back, changes nothing.
    h.input(Input::Disconnected {
        conn: old,
        peer: client,
        reason: DisconnectReason::Reset,
    });
    assert_eq!(h.node.connected_peers(), vec![client]);
}

#[test]
fn a_simultaneous_dial_keeps_the_connection_dialled_by_the_lower_id() {
    let service = NodeConfig::preset(Implementation::Nwaku, Roles::SERVICE);
    let directory = Rc::new(directory_for(&[service.clone(), service.clone()]));
    let node = WakuNode::new(service, NodeId(0), directory, super::NoApp);
    let mut h = Harness::new(node, 1);
    h.input(Input::Start);
    let (ours, theirs) = (ConnId(1), ConnId(2));
    h.input(Input::Connected {
        conn: theirs,
        peer: NodeId(1),
        outbound: false,
    });
    h.input(Input::Connected {
        conn: ours,
        peer: NodeId(1),
        outbound: true,
    });
    let closed = closed_connections(&mut h);
    assert_eq!(closed, vec![theirs], "node 0 (the lower id) dialled `ours`");
}

/// The connections the node closed since the last look.
fn closed_connections<N: sim_core::Node>(h: &mut Harness<N>) -> Vec<ConnId> {
    h.take_actions()
        .into_iter()
        .filter_map(|a| match a {
            Action::Close { conn } => Some(conn),
            _ => None,
        })
        .collect()
}
