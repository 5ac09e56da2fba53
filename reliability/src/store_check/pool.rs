//! Store-node selection: one sticky node (go-waku `StorenodeCycle`) or a random node per
//! query (nwaku, logos-delivery), benching a node after consecutive failures.

use std::collections::BTreeMap;

use sim_core::{NodeId, SimRng, SimTime};

use super::{StoreCheckConfig, StoreSelection};

/// The store nodes in use and the benched ones (bounded by the number of store nodes known).
#[derive(Clone, Debug, Default)]
pub struct StorePool {
    active: Option<NodeId>,
    failures: BTreeMap<NodeId, u32>,
    benched: BTreeMap<NodeId, SimTime>,
}

impl StorePool {
    /// The node for the next query among `candidates` (ascending ids), avoiding benched ones
    /// unless every candidate is benched.
    pub fn pick(
        &mut self,
        now: SimTime,
        candidates: &[NodeId],
        selection: StoreSelection,
        rng: &mut SimRng,
    ) -> Option<NodeId> {
        self.benched.retain(|_, until| *until > now);
        if candidates.is_empty() {
            return None;
        }
        if selection == StoreSelection::Sticky
            && let Some(active) = self.active
            && candidates.contains(&active)
            && !self.benched.contains_key(&active)
        {
            return Some(active);
        }
        let usable: Vec<NodeId> = candidates
            .iter()
            .copied()
            .filter(|c| !self.benched.contains_key(c))
            .collect();
        let pool = if usable.is_empty() {
            candidates
        } else {
            &usable
        };
        let choice = pool[rng.index(pool.len())];
        self.active = Some(choice);
        Some(choice)
    }

    /// A query to `peer` succeeded.
    pub fn success(&mut self, peer: NodeId) {
        self.failures.remove(&peer);
    }

    /// A query to `peer` failed; benches it after `failures_to_bench` in a row.
    pub fn failure(&mut self, now: SimTime, peer: NodeId, config: &StoreCheckConfig) {
        if config.failures_to_bench == 0 {
            return;
        }
        let n = self.failures.entry(peer).or_default();
        *n += 1;
        if *n >= config.failures_to_bench {
            self.failures.remove(&peer);
            self.benched.insert(peer, now + config.bench_for);
            if self.active == Some(peer) {
                self.active = None;
            }
        }
    }

    /// Whether `peer` is benched at `now`.
    pub fn is_benched(&self, now: SimTime, peer: NodeId) -> bool {
        self.benched.get(&peer).is_some_and(|until| *until > now)
    }
}
