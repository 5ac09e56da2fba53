//! Node numbering and selector resolution.
//!
//! Nodes are numbered group by group in file order: the first group's nodes are
//! `0..count₀`, the next group's follow, and so on. A [`Layout`] answers "which nodes does
//! this selector name" with sorted, de-duplicated [`NodeId`]s, or says which item is wrong
//! and what is allowed.

use std::ops::Range;

use sim_core::NodeId;

use crate::faults::{Part, Selector, SelectorItem};
use crate::model::Group;

/// Where each group's nodes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    names: Vec<String>,
    starts: Vec<u32>,
    counts: Vec<u32>,
    total: u32,
}

impl Layout {
    /// The layout of `groups` (counts saturate at `u32::MAX`; validation bounds them).
    pub fn new(groups: &[Group]) -> Layout {
        let mut starts = Vec::with_capacity(groups.len());
        let mut total: u32 = 0;
        for g in groups {
            starts.push(total);
            total = total.saturating_add(g.count);
        }
        Layout {
            names: groups.iter().map(|g| g.name.clone()).collect(),
            starts,
            counts: groups.iter().map(|g| g.count).collect(),
            total,
        }
    }

    /// Total number of nodes.
    pub fn node_count(&self) -> u32 {
        self.total
    }

    /// The index of the group named `name`.
    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The node ids of group `index` (empty for an unknown index).
    pub fn group_nodes(&self, index: usize) -> std::ops::Range<u32> {
        match (self.starts.get(index), self.counts.get(index)) {
            (Some(&s), Some(&c)) => s..s.saturating_add(c),
            _ => 0..0,
        }
    }

    /// The group a node belongs to.
    pub fn group_of(&self, node: NodeId) -> Option<usize> {
        let i = self.starts.partition_point(|&s| s <= node.0);
        (i > 0 && node.0 < self.total).then(|| i - 1)
    }

    /// The node range of one item; the error says what is allowed.
    pub fn item_range(&self, item: &SelectorItem) -> Result<Range<u32>, String> {
        let (name, part) = match item {
            SelectorItem::All => return Ok(0..self.total),
            SelectorItem::Group { name, part } => (name, part),
        };
        let Some(g) = self.group_index(name) else {
            return Err(format!(
                "unknown group {name:?} in selector \"{item}\" (groups: {})",
                self.names.join(", ")
            ));
        };
        let (start, count) = (self.starts[g], self.counts[g]);
        let range = match *part {
            Part::Whole => 0..count,
            Part::Index(i) if i < count => i..i + 1,
            Part::Index(i) => {
                return Err(format!(
                    "selector \"{item}\": group {name:?} has {count} nodes (indexes 0..{count}), \
                     so there is no node {i}"
                ));
            }
            Part::Range { start: a, end: b } => {
                let (a, b) = (a.unwrap_or(0), b.unwrap_or(count));
                if b > count || a >= b {
                    return Err(format!(
                        "selector \"{item}\": range {a}..{b} is outside group {name:?}, which \
                         has {count} nodes (allowed: ranges within 0..{count})"
                    ));
                }
                a..b
            }
            Part::Percent { basis_points } => {
                let n = (u64::from(count) * u64::from(basis_points)).div_ceil(10_000);
                0..n as u32
            }
        };
        Ok(start + range.start..start + range.end)
    }

    /// The node ranges of a selector, sorted and merged (no overlaps). The error carries the
    /// index of the offending item. Costs O(items), whatever the node count.
    pub fn ranges(&self, selector: &Selector) -> Result<Vec<Range<u32>>, (usize, String)> {
        let mut ranges = Vec::with_capacity(selector.0.len());
        for (i, item) in selector.0.iter().enumerate() {
            ranges.push(self.item_range(item).map_err(|e| (i, e))?);
        }
        ranges.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Range<u32>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        Ok(merged)
    }

    /// How many distinct nodes a selector names.
    pub fn count(&self, selector: &Selector) -> Result<u64, (usize, String)> {
        Ok(self
            .ranges(selector)?
            .iter()
            .map(|r| u64::from(r.end - r.start))
            .sum())
    }

    /// The nodes of a selector: sorted, without duplicates. The error carries the index of
    /// the offending item.
    pub fn resolve(&self, selector: &Selector) -> Result<Vec<NodeId>, (usize, String)> {
        Ok(self
            .ranges(selector)?
            .into_iter()
            .flat_map(|r| r.map(NodeId))
            .collect())
    }

    /// Like [`Layout::resolve`], for selectors already validated (unknown parts select
    /// nothing).
    pub fn resolve_lenient(&self, selector: &Selector) -> Vec<NodeId> {
        let valid: Vec<SelectorItem> = selector
            .0
            .iter()
            .filter(|item| self.item_range(item).is_ok())
            .cloned()
            .collect();
        self.resolve(&Selector(valid)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Availability, BandwidthOverride, Role};

    fn group(name: &str, count: u32) -> Group {
        Group {
            name: name.into(),
            count,
            roles: vec![Role::Relay],
            preset: None,
            link: None,
            bandwidth: BandwidthOverride::default(),
            region: None,
            degree: None,
            availability: Availability::default(),
            joins_at: None,
            leaves_at: None,
            absent_at_start: false,
        }
    }

    fn sel(items: &[&str]) -> Selector {
        Selector(
            items
                .iter()
                .map(|t| SelectorItem::parse(t).unwrap())
                .collect(),
        )
    }

    #[test]
    fn selectors_resolve_to_sorted_ids() {
        let layout = Layout::new(&[group("a", 10), group("b", 3)]);
        let ids = |s: &[&str]| -> Vec<u32> {
            layout
                .resolve(&sel(s))
                .unwrap()
                .into_iter()
                .map(|n| n.0)
                .collect()
        };
        assert_eq!(ids(&["b"]), [10, 11, 12]);
        assert_eq!(ids(&["a[2..4]", "b[1]", "a[3]"]), [2, 3, 11]);
        assert_eq!(ids(&["a[25%]"]), [0, 1, 2]);
        assert_eq!(ids(&["b[1%]"]), [10]);
        assert_eq!(ids(&["a[8..]"]), [8, 9]);
        assert_eq!(ids(&["*"]).len(), 13);
        let (i, err) = layout.resolve(&sel(&["a", "c"])).unwrap_err();
        assert_eq!(i, 1);
        assert!(err.contains("unknown group \"c\""), "{err}");
        let (_, err) = layout.resolve(&sel(&["a[0..999]"])).unwrap_err();
        assert!(err.contains("has 10 nodes"), "{err}");
        assert!(layout.resolve(&sel(&["b[3]"])).is_err());
        assert_eq!(layout.group_of(NodeId(10)), Some(1));
        assert_eq!(layout.group_of(NodeId(9)), Some(0));
        assert_eq!(layout.group_of(NodeId(13)), None);
    }
}
