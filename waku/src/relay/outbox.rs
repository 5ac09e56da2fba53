//! The per-call outbox: everything one call into the relay wants sent, coalesced into one RPC
//! per peer (as go-libp2p-pubsub piggybacks control on its heartbeat RPCs), in the order peers
//! were first addressed, and split into several RPCs where one would exceed the RPC size
//! limit (as nim-libp2p does).
//!
//! A receiver processes an RPC as subscriptions, then messages, then control, which is also
//! the order in which every sender in this crate means them, so coalescing changes nothing but
//! the number of frames.
//!
//! Sharing: what a call sends is a list of items (a message, an IHAVE, a GRAFT, …), each
//! addressed to one or more peers. Peers that end up with the same item list get the same RPC,
//! built once and shared (`Rc`) by all their [`RelayOutput::Send`]s — a forwarded message
//! with its IDONTWANT goes to most mesh peers identically, as does a heartbeat's IHAVE. The
//! RPCs are exactly those a per-peer build would give; only the copies are saved.
//!
//! Bound: lives for one call (the relay keeps one to reuse its buffers); one item per thing
//! sent and one entry per (peer, item).

use std::rc::Rc;

use prost::Message as _;

use crate::codec::varint_len;
use crate::message::MessageId;
use crate::proto::{
    Bytes, ControlGraft, ControlIDontWant, ControlIHave, ControlIWant, ControlPrune,
    GossipsubMessage, GossipsubRpc, SubOpts,
};

use super::{PeerId, RelayOutput, SentRpc};
use crate::sorted::VecMap;

/// Peers addressed before lookups switch from a scan of `peers` to the `index` map.
const SCAN_MAX: usize = 16;

/// One thing to send: the RPC entry it becomes.
#[derive(Clone, Debug)]
enum Item {
    Subscription(SubOpts),
    /// A message with its relay message id.
    Message(GossipsubMessage, MessageId),
    Graft(ControlGraft),
    Prune(ControlPrune),
    IHave(ControlIHave),
    IWant(ControlIWant),
    IDontWant(ControlIDontWant),
}

/// An item added to the outbox, to address to peers with [`Outbox::push`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ItemId(u32);

/// RPCs being assembled during one call. See the [module docs](self).
#[derive(Clone, Debug, Default)]
pub(crate) struct Outbox {
    /// The items; `None` once moved into an RPC by `flush`.
    items: Vec<Option<Item>>,
    /// Addressed peers, in first-addressed order (a peer's rank is its position).
    peers: Vec<PeerId>,
    /// Rank of each peer, kept only once more than [`SCAN_MAX`] are addressed (a call
    /// usually addresses a handful of peers, where a scan is cheaper than a map).
    index: VecMap<PeerId, u32>,
    /// (peer rank, push number, item), in push order until `flush` sorts them.
    pushes: Vec<(u32, u32, u32)>,
    /// Scratch of `flush`, kept for its buffers.
    scratch: FlushScratch,
}

/// Buffers `flush` reuses between calls.
#[derive(Clone, Debug, Default)]
struct FlushScratch {
    /// Distinct item lists (ranges into `recipe_items`), in order of first use.
    recipes: Vec<(usize, usize)>,
    recipe_items: Vec<u32>,
    /// The recipe of each peer rank.
    recipe_of: Vec<usize>,
    /// Per item, the (recipe, position) of its last use: there it is moved, not cloned.
    last_use: Vec<(usize, usize)>,
    /// The RPCs of each recipe (ranges into `parts`: several when split).
    recipe_parts: Vec<(usize, usize)>,
    parts: Vec<Rc<SentRpc>>,
}

impl Outbox {
    /// Adds `item`; it is sent to the peers it is then pushed to.
    fn add(&mut self, item: Item) -> ItemId {
        self.items.push(Some(item));
        ItemId((self.items.len() - 1) as u32)
    }

    /// Addresses `item` to `peer` (after whatever was addressed to it before).
    pub(crate) fn push(&mut self, peer: PeerId, item: ItemId) {
        let found = if self.peers.len() <= SCAN_MAX {
            self.peers.iter().position(|p| *p == peer).map(|i| i as u32)
        } else {
            if self.index.is_empty() {
                self.index = (self.peers.iter().enumerate())
                    .map(|(i, p)| (*p, i as u32))
                    .collect();
            }
            self.index.get(&peer).copied()
        };
        let rank = found.unwrap_or_else(|| {
            self.peers.push(peer);
            let rank = (self.peers.len() - 1) as u32;
            if !self.index.is_empty() {
                self.index.insert(peer, rank);
            }
            rank
        });
        let seq = self.pushes.len() as u32;
        self.pushes.push((rank, seq, item.0));
    }

    /// Announcement that we (un)subscribe `topic`.
    pub(crate) fn add_subscription(&mut self, topic: &str, subscribe: bool) -> ItemId {
        self.add(Item::Subscription(SubOpts {
            subscribe: Some(subscribe),
            topicid: Some(topic.to_string()),
        }))
    }

    /// `message` whose relay message id is `id`: published, forwarded, or answering an
    /// IWANT.
    pub(crate) fn add_message(&mut self, message: GossipsubMessage, id: MessageId) -> ItemId {
        self.add(Item::Message(message, id))
    }

    /// IHAVE advertising the ids `message_ids` (as their bytes) on `topic`.
    pub(crate) fn add_ihave(&mut self, topic: &str, message_ids: Vec<Bytes>) -> ItemId {
        self.add(Item::IHave(ControlIHave {
            topic_id: Some(topic.to_string()),
            message_ids,
        }))
    }

    /// IDONTWANT for the id whose bytes are `id`.
    pub(crate) fn add_idontwant(&mut self, id: Bytes) -> ItemId {
        self.add(Item::IDontWant(ControlIDontWant {
            message_ids: vec![id],
        }))
    }

    /// Announces to `peer` that we (un)subscribe `topic`.
    #[cfg(test)]
    pub(crate) fn subscription(&mut self, peer: PeerId, topic: &str, subscribe: bool) {
        let item = self.add_subscription(topic, subscribe);
        self.push(peer, item);
    }

    /// Sends `message`, whose relay message id is `id`, to `peer`.
    pub(crate) fn message(&mut self, peer: PeerId, message: GossipsubMessage, id: MessageId) {
        let item = self.add_message(message, id);
        self.push(peer, item);
    }

    /// GRAFT for `topic`.
    pub(crate) fn graft(&mut self, peer: PeerId, topic: &str) {
        let item = self.add(Item::Graft(ControlGraft {
            topic_id: Some(topic.to_string()),
        }));
        self.push(peer, item);
    }

    /// PRUNE for `topic` asking the peer to back off `backoff_s` seconds (no peer exchange).
    pub(crate) fn prune(&mut self, peer: PeerId, topic: &str, backoff_s: u64) {
        let item = self.add(Item::Prune(ControlPrune {
            topic_id: Some(topic.to_string()),
            peers: Vec::new(),
            backoff: Some(backoff_s),
        }));
        self.push(peer, item);
    }

    /// IWANT requesting `ids`.
    pub(crate) fn iwant(&mut self, peer: PeerId, ids: &[MessageId]) {
        let item = self.add(Item::IWant(ControlIWant {
            message_ids: ids.iter().map(MessageId::to_bytes).collect(),
        }));
        self.push(peer, item);
    }

    /// Emits the RPCs as [`RelayOutput::Send`] in first-addressed peer order, splitting any
    /// RPC larger than `max_rpc_bytes` (subscriptions and control stay in the first part;
    /// messages fill parts in order; a single message larger than the limit travels alone).
    /// The outbox is left empty, ready for the next call.
    pub(crate) fn flush(&mut self, max_rpc_bytes: usize, out: &mut Vec<RelayOutput>) {
        if self.pushes.is_empty() {
            // Most calls send nothing; leave the scratch buffers untouched (and cold).
            self.items.clear();
            return;
        }
        let mut sc = std::mem::take(&mut self.scratch);
        // Each peer's items in push order, then one recipe per distinct item list.
        self.pushes.sort_unstable();
        let mut start = 0;
        while start < self.pushes.len() {
            let rank = self.pushes[start].0;
            let end = start + self.pushes[start..].partition_point(|p| p.0 == rank);
            let list = &self.pushes[start..end];
            let same = |&(a, b): &(usize, usize)| {
                b - a == list.len()
                    && sc.recipe_items[a..b]
                        .iter()
                        .zip(list)
                        .all(|(&item, p)| item == p.2)
            };
            let recipe = match sc.recipes.iter().position(same) {
                Some(recipe) => recipe,
                None => {
                    let a = sc.recipe_items.len();
                    sc.recipe_items.extend(list.iter().map(|p| p.2));
                    sc.recipes.push((a, sc.recipe_items.len()));
                    sc.recipes.len() - 1
                }
            };
            sc.recipe_of.push(recipe);
            start = end;
        }
        sc.last_use.resize(self.items.len(), (0, 0));
        for (r, &(a, b)) in sc.recipes.iter().enumerate() {
            for (pos, &item) in sc.recipe_items[a..b].iter().enumerate() {
                sc.last_use[item as usize] = (r, pos);
            }
        }
        for (r, &(a, b)) in sc.recipes.iter().enumerate() {
            let mut rpc = GossipsubRpc::default();
            let mut ids = Vec::new();
            for (pos, &i) in sc.recipe_items[a..b].iter().enumerate() {
                let slot = &mut self.items[i as usize];
                let item = if sc.last_use[i as usize] == (r, pos) {
                    slot.take()
                } else {
                    slot.clone()
                };
                let item = item.expect("items are moved at their last use");
                add_to_rpc(&mut rpc, &mut ids, item);
            }
            let first = sc.parts.len();
            split(rpc, ids, max_rpc_bytes, &mut sc.parts);
            sc.recipe_parts.push((first, sc.parts.len()));
        }
        for (&to, &recipe) in self.peers.iter().zip(&sc.recipe_of) {
            let (a, b) = sc.recipe_parts[recipe];
            for part in &sc.parts[a..b] {
                out.push(RelayOutput::Send {
                    to,
                    rpc: Rc::clone(part),
                });
            }
        }
        self.items.clear();
        self.peers.clear();
        self.index.clear();
        self.pushes.clear();
        sc.recipes.clear();
        sc.recipe_items.clear();
        sc.recipe_of.clear();
        sc.last_use.clear();
        sc.recipe_parts.clear();
        sc.parts.clear();
        self.scratch = sc;
    }
}

/// Appends `item` to the field of `rpc` it belongs in (a message's id to `ids`).
fn add_to_rpc(rpc: &mut GossipsubRpc, ids: &mut Vec<MessageId>, item: Item) {
    if let Item::Subscription(sub) = item {
        rpc.subscriptions.push(sub);
        return;
    }
    if let Item::Message(message, id) = item {
        rpc.publish.push(message);
        ids.push(id);
        return;
    }
    let control = rpc.control.get_or_insert_with(Default::default);
    match item {
        Item::Graft(graft) => control.graft.push(graft),
        Item::Prune(prune) => control.prune.push(prune),
        Item::IHave(ihave) => control.ihave.push(ihave),
        Item::IWant(iwant) => control.iwant.push(iwant),
        Item::IDontWant(idontwant) => control.idontwant.push(idontwant),
        Item::Subscription(_) | Item::Message(..) => unreachable!("handled above"),
    }
}

/// `rpc`, whose messages have the ids `ids`, as one or more RPCs of at most `max_rpc_bytes`
/// (see [`Outbox::flush`]).
fn split(
    rpc: GossipsubRpc,
    ids: Vec<MessageId>,
    max_rpc_bytes: usize,
    parts: &mut Vec<Rc<SentRpc>>,
) {
    let len = rpc.encoded_len();
    if len <= max_rpc_bytes {
        parts.push(Rc::new(SentRpc::with_ids(rpc, len, ids)));
        return;
    }
    let mut part = GossipsubRpc {
        subscriptions: rpc.subscriptions,
        publish: Vec::new(),
        control: rpc.control,
    };
    let mut part_ids = Vec::new();
    let mut part_len = part.encoded_len();
    let mut emit = |part: &mut GossipsubRpc, part_ids: &mut Vec<MessageId>| {
        let part = std::mem::take(part);
        let len = part.encoded_len();
        parts.push(Rc::new(SentRpc::with_ids(
            part,
            len,
            std::mem::take(part_ids),
        )));
    };
    for (message, id) in rpc.publish.into_iter().zip(ids) {
        let len = message.encoded_len();
        let field_len = 1 + varint_len(len as u64) + len;
        if part_len > 0 && part_len + field_len > max_rpc_bytes {
            emit(&mut part, &mut part_ids);
            part_len = 0;
        }
        part.publish.push(message);
        part_ids.push(id);
        part_len += field_len;
    }
    if part_len > 0 {
        emit(&mut part, &mut part_ids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: usize) -> GossipsubMessage {
        GossipsubMessage {
            data: Some(vec![7; n].into()),
            topic: Some("t".into()),
            ..Default::default()
        }
    }

    #[test]
    fn coalesces_per_peer_in_first_addressed_order() {
        let mut ob = Outbox::default();
        ob.graft(PeerId(5), "t");
        ob.subscription(PeerId(2), "t", true);
        ob.prune(PeerId(5), "u", 60);
        let mut out = Vec::new();
        ob.flush(1 << 20, &mut out);
        let peers: Vec<PeerId> = out
            .iter()
            .map(|o| match o {
                RelayOutput::Send { to, .. } => *to,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(peers, vec![PeerId(5), PeerId(2)]);
        let RelayOutput::Send { rpc, .. } = &out[0] else {
            unreachable!()
        };
        let control = rpc.control.as_ref().unwrap();
        assert_eq!((control.graft.len(), control.prune.len()), (1, 1));
    }

    /// Shared items give the RPCs a separate build per peer would, in the same order, and
    /// peers with the same items share one RPC.
    #[test]
    fn shared_items_match_per_peer_builds() {
        let mut ob = Outbox::default();
        let mut reference: Vec<(PeerId, Vec<Item>)> = Vec::new();
        let mut address = |ob: &mut Outbox, peer: PeerId, id: ItemId| {
            ob.push(peer, id);
            let item = ob.items[id.0 as usize].clone().unwrap();
            match reference.iter_mut().find(|(p, _)| *p == peer) {
                Some((_, items)) => items.push(item),
                None => reference.push((peer, vec![item])),
            }
        };
        let dont = ob.add_idontwant(Bytes::from(vec![1; 32]));
        let msg = ob.add_message(big(300), MessageId([3; 32]));
        let ihave = ob.add_ihave("t", vec![Bytes::from(vec![2; 32])]);
        for p in [
            4, 9, 2, 7, 30, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
        ] {
            address(&mut ob, PeerId(p), dont);
            if p % 3 != 0 {
                address(&mut ob, PeerId(p), msg);
            }
        }
        for p in [7, 1, 22] {
            address(&mut ob, PeerId(p), ihave);
        }
        let big_one = ob.add_message(big(900), MessageId([9; 32]));
        address(&mut ob, PeerId(9), big_one);
        address(&mut ob, PeerId(9), msg);
        let mut out = Vec::new();
        ob.flush(1000, &mut out);
        let mut expected = Vec::new();
        for (peer, items) in reference {
            let (mut rpc, mut ids) = (GossipsubRpc::default(), Vec::new());
            for item in items {
                add_to_rpc(&mut rpc, &mut ids, item);
            }
            let mut parts = Vec::new();
            split(rpc, ids, 1000, &mut parts);
            expected.extend(parts.into_iter().map(|part| (peer, (*part).clone())));
        }
        let sent: Vec<(PeerId, SentRpc)> = out
            .iter()
            .map(|o| match o {
                RelayOutput::Send { to, rpc } => (*to, (**rpc).clone()),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(sent, expected);
        let rpc_of = |peer: u32| {
            out.iter()
                .find_map(|o| match o {
                    RelayOutput::Send { to, rpc } if *to == PeerId(peer) => Some(Rc::clone(rpc)),
                    _ => None,
                })
                .unwrap()
        };
        assert!(Rc::ptr_eq(&rpc_of(4), &rpc_of(2)));
        assert!(!Rc::ptr_eq(&rpc_of(4), &rpc_of(30)));
        // The outbox is empty and reusable.
        ob.flush(1000, &mut out);
        assert_eq!(out.len(), sent.len());
    }

    #[test]
    fn splits_rpcs_above_the_limit() {
        let mut ob = Outbox::default();
        ob.graft(PeerId(1), "t");
        for _ in 0..3 {
            ob.message(PeerId(1), big(600), MessageId([6; 32]));
        }
        let mut out = Vec::new();
        ob.flush(1000, &mut out);
        assert_eq!(out.len(), 3);
        for o in &out {
            let RelayOutput::Send { rpc, .. } = o else {
                unreachable!()
            };
            assert!(rpc.encoded_len() <= 1000);
        }
        let RelayOutput::Send { rpc, .. } = &out[0] else {
            unreachable!()
        };
        assert!(rpc.control.is_some() && rpc.publish.len() == 1);
    }
}
