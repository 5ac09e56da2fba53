//! Hand-driven tests of [`WakuNode`] glue (no network): what actions a node takes for its
//! application's requests.

use std::rc::Rc;

use sim_core::node::Harness;
use sim_core::{Action, Input, NodeId};

use super::{App, Implementation, NodeConfig, Roles, WakuApi, WakuEvent, WakuNode, directory_for};
use crate::proto::WakuMessage;

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
