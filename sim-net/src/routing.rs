//! Which link model applies between two nodes, and which directions a partition blocks.
//!
//! Both lookups are O(1)-ish per message and take O(nodes + classes²) memory, never
//! O(nodes²): link models are per pair of link *classes* (usually node groups) plus per-node
//! degradations, and a partition is a group label per node plus a small blocked-pairs matrix.

use std::collections::BTreeMap;

use sim_core::NodeId;

use crate::link::LinkModel;

/// Link models by class pair, with degradations layered on top.
pub(crate) struct LinkTable {
    default: LinkModel,
    class_pairs: BTreeMap<(u16, u16), LinkModel>,
    degradations: Vec<LinkModel>,
}

impl LinkTable {
    pub(crate) fn new(default: LinkModel) -> Self {
        LinkTable {
            default,
            class_pairs: BTreeMap::new(),
            degradations: Vec::new(),
        }
    }

    /// Uses `model` between classes `a` and `b`, both directions.
    pub(crate) fn set_class_pair(&mut self, a: u16, b: u16, model: LinkModel) {
        self.class_pairs.insert((a, b), model.clone());
        self.class_pairs.insert((b, a), model);
    }

    /// Registers a degraded model; the returned index is stored on the affected nodes.
    pub(crate) fn add_degradation(&mut self, model: LinkModel) -> u16 {
        assert!(
            self.degradations.len() < u16::MAX as usize,
            "too many link degradations"
        );
        self.degradations.push(model);
        (self.degradations.len() - 1) as u16
    }

    /// The model from a node of class `class_a` (degradation `deg_a`) to one of class
    /// `class_b`: the most recent degradation of either end wins, then the class pair, then the
    /// default.
    pub(crate) fn model(
        &self,
        class_a: u16,
        deg_a: Option<u16>,
        class_b: u16,
        deg_b: Option<u16>,
    ) -> &LinkModel {
        if let Some(d) = deg_a.max(deg_b) {
            return &self.degradations[d as usize];
        }
        if self.class_pairs.is_empty() {
            return &self.default;
        }
        self.class_pairs
            .get(&(class_a, class_b))
            .unwrap_or(&self.default)
    }
}

/// The partition in force: a group per node and the blocked (from, to) group pairs.
pub(crate) struct Partition {
    group_of: Vec<u16>,
    groups: usize,
    blocked: Vec<bool>,
}

impl Partition {
    /// No partition for `node_count` nodes.
    pub(crate) fn new(node_count: usize) -> Self {
        Partition {
            group_of: vec![0; node_count],
            groups: 1,
            blocked: vec![false],
        }
    }

    /// True if traffic from `a` to `b` is blocked.
    #[inline]
    pub(crate) fn blocks(&self, a: NodeId, b: NodeId) -> bool {
        if self.groups == 1 {
            return false;
        }
        let (ga, gb) = (
            self.group_of[a.index()] as usize,
            self.group_of[b.index()] as usize,
        );
        self.blocked[ga * self.groups + gb]
    }

    /// Symmetric partition: listed groups get labels 1..=k, everyone else stays in group 0;
    /// every pair of distinct groups is blocked both ways.
    pub(crate) fn split(&mut self, groups: &[Vec<NodeId>]) {
        self.label(groups);
        let g = self.groups;
        for a in 0..g {
            for b in 0..g {
                self.blocked[a * g + b] = a != b;
            }
        }
    }

    /// One-way partition: traffic from `from` to `to` is blocked, the reverse flows.
    pub(crate) fn one_way(&mut self, from: &[NodeId], to: &[NodeId]) {
        self.label(&[from.to_vec(), to.to_vec()]);
        self.blocked[self.groups + 2] = true; // group 1 → group 2
    }

    /// Removes every partition.
    pub(crate) fn heal(&mut self) {
        self.group_of.iter_mut().for_each(|g| *g = 0);
        self.groups = 1;
        self.blocked = vec![false];
    }

    fn label(&mut self, groups: &[Vec<NodeId>]) {
        self.heal();
        assert!(
            groups.len() < u16::MAX as usize,
            "too many partition groups"
        );
        for (i, group) in groups.iter().enumerate() {
            for node in group {
                self.group_of[node.index()] = (i + 1) as u16;
            }
        }
        self.groups = groups.len() + 1;
        self.blocked = vec![false; self.groups * self.groups];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_and_one_way_partitions() {
        let mut p = Partition::new(6);
        let n = NodeId;
        assert!(!p.blocks(n(0), n(5)));
        p.split(&[vec![n(0), n(1)], vec![n(2)]]);
        assert!(p.blocks(n(0), n(2)) && p.blocks(n(2), n(0)));
        assert!(p.blocks(n(0), n(4)), "unlisted nodes form their own group");
        assert!(!p.blocks(n(0), n(1)) && !p.blocks(n(4), n(5)));
        p.one_way(&[n(3)], &[n(4)]);
        assert!(p.blocks(n(3), n(4)));
        assert!(!p.blocks(n(4), n(3)));
        assert!(
            !p.blocks(n(0), n(2)),
            "a new partition replaces the old one"
        );
        p.heal();
        assert!(!p.blocks(n(3), n(4)));
    }

    #[test]
    fn degradation_beats_class_beats_default() {
        let mut t = LinkTable::new(LinkModel::default());
        let slow = LinkModel::constant(sim_core::SimDuration::from_millis(500));
        let lossy = LinkModel::default().with_loss(0.5);
        t.set_class_pair(1, 2, slow.clone());
        assert_eq!(t.model(2, None, 1, None), &slow);
        assert_eq!(t.model(1, None, 1, None), &LinkModel::default());
        let d = t.add_degradation(lossy.clone());
        assert_eq!(t.model(1, None, 2, Some(d)), &lossy);
    }
}
