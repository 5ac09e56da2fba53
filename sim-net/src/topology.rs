//! Who is connected to whom at the start of a run: graph generators and the dial plan.
//!
//! This file owns the [`Topology`] type (an undirected simple graph over node indices
//! `0..n`, stored as sorted adjacency lists) and the generators that build one: full mesh,
//! random k-regular, Erdős–Rényi G(n, p), Barabási–Albert preferential attachment, an explicit
//! edge list, and per-group target degrees. It also owns the [`TopologySpec`] a scenario names.
//!
//! Every edge comes with a **dial direction** ([`Topology::dial_plan`]): which endpoint opens
//! the connection (matters for gossipsub's outbound quota `D_out` and for who reconnects).
//! Each generator documents its rule; all rules are deterministic.
//!
//! Determinism: all randomness comes from the [`SimRng`] passed in, no hash-ordered iteration,
//! no clock. The same (parameters, stream) gives the same graph and dial plan on any machine.
//!
//! Limits: at most [`MAX_NODES`] nodes and [`MAX_EDGES`] edges (a topology costs about 16
//! bytes per edge, about three times that while a random one is built); anything above is
//! rejected with a [`TopologyError`], never a panic. Generators are O(n + m) in time and
//! memory (full mesh and dense random-regular are O(n²) = O(m)).

use std::collections::HashMap; // tidy: unordered-ok (Pairing::copies: lookups only)

use serde::{Deserialize, Serialize};
use sim_core::rng::{SimRng, ln};

/// A node's index in a topology: `0..node_count()`.
pub type NodeIndex = u32;

/// The largest node count a generator accepts.
pub const MAX_NODES: usize = 10_000_000;
/// The largest edge count a generator produces (a full mesh of ~6 300 nodes).
pub const MAX_EDGES: u64 = 20_000_000;

/// Attempts to fix one loop or duplicate edge by a switch before giving up on it.
const ATTEMPTS_PER_BAD_EDGE: usize = 1_000;
/// Fresh pairings `random_regular` tries before reporting failure.
const MAX_RESTARTS: usize = 64;

/// Why a topology could not be built. Messages say what is allowed. Field names follow the
/// generator parameters (`n` nodes, degree `k`, attachment `m`, probability `p`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[allow(
    missing_docs,
    reason = "fields are the generator parameters named in the variant doc"
)]
pub enum TopologyError {
    /// More than [`MAX_NODES`] nodes requested.
    #[error("{generator}: n = {n} nodes is above the limit of {MAX_NODES}")]
    TooManyNodes { generator: &'static str, n: usize },
    /// The graph would have more than [`MAX_EDGES`] edges (expected count for G(n, p)).
    #[error(
        "{generator}: the graph would have {edges} edges, above the limit of {MAX_EDGES}; \
         use fewer nodes or a lower degree"
    )]
    TooManyEdges { generator: &'static str, edges: u64 },
    /// `random_regular` with `k >= n`.
    #[error("random_regular: degree k must be below n (n={n}, k={k})")]
    DegreeTooLarge { n: usize, k: usize },
    /// `random_regular` with `n * k` odd.
    #[error("random_regular: n*k must be even (n={n}, k={k})")]
    OddDegreeSum { n: usize, k: usize },
    /// `erdos_renyi` with `p` outside `[0, 1]` or not a number.
    #[error("erdos_renyi: p must be a probability in [0, 1] (p={p})")]
    InvalidProbability { p: f64 },
    /// `barabasi_albert` with `m = 0` or `m >= n`.
    #[error("barabasi_albert: m must be at least 1 and below n (n={n}, m={m})")]
    InvalidAttachment { n: usize, m: usize },
    /// Edge number `index` of an explicit list names a node `>= n`.
    #[error("from_edges: edge #{index} ({a}, {b}) names a node outside 0..{n}")]
    NodeOutOfRange {
        index: usize,
        a: u32,
        b: u32,
        n: usize,
    },
    /// Edge number `index` of an explicit list joins `node` to itself.
    #[error("from_edges: edge #{index} ({node}, {node}) is a self loop; join two different nodes")]
    SelfLoop { index: usize, node: u32 },
    /// Group number `group` asks for a degree that is not below the total node count `n`.
    #[error(
        "per_group_degrees: group #{group} asks for degree {degree} but there are only {n} \
         nodes in total (the degree must be below the total node count)"
    )]
    GroupDegreeTooLarge {
        group: usize,
        degree: usize,
        n: usize,
    },
    /// Randomised construction did not converge after `attempts` fresh starts (not expected).
    #[error("{generator}: no simple graph after {attempts} attempts (n={n}, k={k}); please report")]
    GenerationFailed {
        generator: &'static str,
        attempts: usize,
        n: usize,
        k: usize,
    },
}

/// One edge of the dial plan: `dialer` opens the connection to `listener`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dial {
    /// The endpoint that dials.
    pub dialer: NodeIndex,
    /// The endpoint that accepts.
    pub listener: NodeIndex,
}

impl Dial {
    fn new(dialer: NodeIndex, listener: NodeIndex) -> Dial {
        Dial { dialer, listener }
    }

    /// The edge as `(low, high)`.
    pub fn key(self) -> (NodeIndex, NodeIndex) {
        (
            self.dialer.min(self.listener),
            self.dialer.max(self.listener),
        )
    }
}

/// An undirected simple graph over `0..n` with a dial direction for every edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// `adjacency[v]`: the neighbours of `v`, strictly ascending.
    adjacency: Vec<Vec<NodeIndex>>,
    /// One entry per edge, ordered by `(low, high)` like [`Topology::edges`].
    dials: Vec<Dial>,
}

impl Topology {
    /// Builds from loop-free dials; of duplicate edges (either orientation) the first is kept.
    fn from_dials(n: usize, mut dials: Vec<Dial>) -> Topology {
        dials.sort_by_key(|d| d.key()); // stable: the first occurrence stays first
        dials.dedup_by_key(|d| d.key());
        let mut degree = vec![0usize; n];
        for dial in &dials {
            degree[dial.dialer as usize] += 1;
            degree[dial.listener as usize] += 1;
        }
        let mut adjacency: Vec<Vec<NodeIndex>> =
            degree.iter().map(|&d| Vec::with_capacity(d)).collect();
        for dial in &dials {
            adjacency[dial.dialer as usize].push(dial.listener);
            adjacency[dial.listener as usize].push(dial.dialer);
        }
        for list in &mut adjacency {
            list.sort_unstable();
        }
        Topology { adjacency, dials }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.adjacency.len()
    }

    /// The neighbours of `node`, ascending. Panics if `node >= node_count()`.
    pub fn neighbors(&self, node: NodeIndex) -> &[NodeIndex] {
        &self.adjacency[node as usize]
    }

    /// The degree of `node`. Panics if `node >= node_count()`.
    pub fn degree(&self, node: NodeIndex) -> usize {
        self.adjacency[node as usize].len()
    }

    /// Whether `a` and `b` are neighbours (binary search; false for out-of-range nodes).
    pub fn has_edge(&self, a: NodeIndex, b: NodeIndex) -> bool {
        self.adjacency
            .get(a as usize)
            .is_some_and(|list| list.binary_search(&b).is_ok())
    }

    /// Number of undirected edges.
    pub fn edge_count(&self) -> usize {
        self.dials.len()
    }

    /// Every edge once as `(a, b)` with `a < b`, ordered by `a` then `b`.
    pub fn edges(&self) -> impl Iterator<Item = (NodeIndex, NodeIndex)> + '_ {
        self.adjacency.iter().enumerate().flat_map(|(a, list)| {
            let a = a as NodeIndex;
            let start = list.partition_point(|&b| b <= a);
            list[start..].iter().map(move |&b| (a, b))
        })
    }

    /// Who dials whom: one entry per edge, in the same order as [`Topology::edges`].
    ///
    /// Rules: `full_mesh` (and dense `random_regular`, built as a complement) use the
    /// *balanced circulant* rule — for `a < b`, `a` dials `b` when `2(b - a) <= n`, else `b`
    /// dials `a` — so every node dials ⌊(n-1)/2⌋ or ⌈(n-1)/2⌉ peers; `random_regular` and
    /// `per_group_degrees` use the random stub pairing order (first stub dials);
    /// `erdos_renyi` flips a fair coin per edge; `barabasi_albert` has each new node dial its
    /// chosen targets (seed clique: circulant rule); `from_edges` uses the pair as given
    /// (`[dialer, listener]`, first occurrence wins for duplicates).
    pub fn dial_plan(&self) -> &[Dial] {
        &self.dials
    }

    /// How many peers `node` dials in the dial plan (O(m); for reports and tests).
    pub fn out_degree(&self, node: NodeIndex) -> usize {
        self.dials.iter().filter(|d| d.dialer == node).count()
    }

    /// Smallest degree (0 for an empty graph).
    pub fn min_degree(&self) -> usize {
        self.adjacency.iter().map(Vec::len).min().unwrap_or(0)
    }

    /// Largest degree (0 for an empty graph).
    pub fn max_degree(&self) -> usize {
        self.adjacency.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Mean degree `2m / n` (0 for an empty graph).
    pub fn mean_degree(&self) -> f64 {
        2.0 * self.dials.len() as f64 / self.adjacency.len().max(1) as f64
    }

    /// Whether every node reaches every other (breadth-first search; true for 0 or 1 nodes).
    pub fn is_connected(&self) -> bool {
        let n = self.adjacency.len();
        if n <= 1 {
            return true;
        }
        let mut seen = vec![false; n];
        let mut queue = vec![0 as NodeIndex];
        seen[0] = true;
        let mut head = 0;
        while let Some(&v) = queue.get(head) {
            head += 1;
            for &w in &self.adjacency[v as usize] {
                if !seen[w as usize] {
                    seen[w as usize] = true;
                    queue.push(w);
                }
            }
        }
        queue.len() == n
    }
}

fn check_nodes(generator: &'static str, n: usize) -> Result<(), TopologyError> {
    if n > MAX_NODES {
        return Err(TopologyError::TooManyNodes { generator, n });
    }
    Ok(())
}

fn check_edges(generator: &'static str, edges: u64) -> Result<(), TopologyError> {
    if edges > MAX_EDGES {
        return Err(TopologyError::TooManyEdges { generator, edges });
    }
    Ok(())
}

/// The balanced circulant dial direction for edge `{a, b}` in an `n`-node graph.
fn circulant_dial(a: NodeIndex, b: NodeIndex, n: usize) -> Dial {
    let (low, high) = (a.min(b), a.max(b));
    if 2 * (high - low) as usize <= n {
        Dial::new(low, high)
    } else {
        Dial::new(high, low)
    }
}

/// Every pair of the `n` nodes connected; dial rule: balanced circulant.
///
/// Limit: n(n-1)/2 ≤ [`MAX_EDGES`] (n ≤ 6 324).
pub fn full_mesh(n: usize) -> Result<Topology, TopologyError> {
    check_nodes("full_mesh", n)?;
    let n64 = n as u64;
    check_edges("full_mesh", n64 * n64.saturating_sub(1) / 2)?;
    let mut dials = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for a in 0..n as NodeIndex {
        for b in a + 1..n as NodeIndex {
            dials.push(circulant_dial(a, b, n));
        }
    }
    Ok(Topology::from_dials(n, dials))
}

/// A multigraph from a random stub pairing (configuration model), repaired towards a simple
/// graph by degree-preserving switches.
struct Pairing {
    /// Edges as (first stub, second stub); the first dials.
    pairs: Vec<(NodeIndex, NodeIndex)>,
    /// Copies of each node pair (key `low << 32 | high`). Only looked up, never iterated, so
    /// its hash order cannot reach the output; O(1) checks keep dense degrees fast.
    // tidy: unordered-ok (keyed lookups only, never iterated)
    copies: HashMap<u64, u32>,
}

fn pair_key(a: NodeIndex, b: NodeIndex) -> u64 {
    (u64::from(a.min(b)) << 32) | u64::from(a.max(b))
}

impl Pairing {
    /// Pairs the stubs (node `v` repeated `degrees[v]` times) uniformly at random; with an
    /// odd total the last stub after shuffling (a random node's) is dropped.
    fn random(degrees: &[usize], rng: &mut SimRng) -> Pairing {
        let mut stubs: Vec<NodeIndex> = Vec::with_capacity(degrees.iter().sum());
        for (v, &d) in degrees.iter().enumerate() {
            stubs.extend(std::iter::repeat_n(v as NodeIndex, d));
        }
        rng.shuffle(&mut stubs);
        let pairs: Vec<_> = stubs.chunks_exact(2).map(|c| (c[0], c[1])).collect();
        // tidy: unordered-ok (keyed lookups only, never iterated)
        let mut copies = HashMap::with_capacity(pairs.len());
        for &(a, b) in &pairs {
            *copies.entry(pair_key(a, b)).or_insert(0) += 1;
        }
        Pairing { pairs, copies }
    }

    fn copies(&self, a: NodeIndex, b: NodeIndex) -> u32 {
        self.copies.get(&pair_key(a, b)).copied().unwrap_or(0)
    }

    fn is_bad(&self, i: usize) -> bool {
        let (a, b) = self.pairs[i];
        a == b || self.copies(a, b) > 1
    }

    fn set(&mut self, i: usize, (a, b): (NodeIndex, NodeIndex)) {
        let old = pair_key(self.pairs[i].0, self.pairs[i].1);
        if let Some(count) = self.copies.get_mut(&old) {
            *count -= 1;
            if *count == 0 {
                self.copies.remove(&old);
            }
        }
        *self.copies.entry(pair_key(a, b)).or_insert(0) += 1;
        self.pairs[i] = (a, b);
    }

    /// Replaces each loop or duplicate edge `(a, b)` together with a random edge `(c, d)` by
    /// `(a, c), (b, d)` (orientation of `(c, d)` random) when that creates neither a loop nor
    /// an existing edge. Degrees never change and no switch creates a new bad edge. Gives up
    /// on an edge after `ATTEMPTS_PER_BAD_EDGE` tries and on all after 32 tries per edge of
    /// the graph. Returns whether every bad edge was fixed.
    fn repair(&mut self, rng: &mut SimRng) -> bool {
        let m = self.pairs.len();
        let mut budget = 32 * m + 4096;
        let bad: Vec<usize> = (0..m).filter(|&i| self.is_bad(i)).collect();
        let mut all_fixed = true;
        for i in bad {
            let mut attempts = 0;
            while self.is_bad(i) && attempts < ATTEMPTS_PER_BAD_EDGE && budget > 0 && m >= 2 {
                attempts += 1;
                budget -= 1;
                let j = rng.index(m);
                let (a, b) = self.pairs[i];
                let (mut c, mut d) = self.pairs[j];
                if rng.next_u64() & 1 == 1 {
                    std::mem::swap(&mut c, &mut d);
                }
                let creates_bad = a == c
                    || b == d
                    || pair_key(a, c) == pair_key(b, d)
                    || self.copies(a, c) > 0
                    || self.copies(b, d) > 0;
                if j != i && !creates_bad {
                    self.set(i, (a, c));
                    self.set(j, (b, d));
                }
            }
            all_fixed &= !self.is_bad(i);
        }
        all_fixed
    }

    /// The dials without loops (duplicates are merged by [`Topology::from_dials`]).
    fn into_dials(self) -> Vec<Dial> {
        let simple = self.pairs.into_iter().filter(|(a, b)| a != b);
        simple.map(|(a, b)| Dial::new(a, b)).collect()
    }
}

/// A random k-regular simple graph on `n` nodes (every node has exactly `k` neighbours).
///
/// Method: a uniform random stub pairing (configuration model) whose few loops and duplicate
/// edges are removed by random degree-preserving switches, restarting with a fresh pairing in
/// the (rare) case a switch cannot be found. The result is close to, but not exactly,
/// uniform over k-regular graphs. Dense requests (2k > n - 1) are built as the complement of a
/// random (n-1-k)-regular graph. O(n·k) time and memory: n = 10^5, k = 8 takes ~0.1 s and
/// n = 10^6 ~1.5 s (release); near k = n/2 many pairs repeat and 9·10^6 edges take ~10 s.
///
/// Requires `k < n`, `n·k` even, n ≤ [`MAX_NODES`], n·k/2 ≤ [`MAX_EDGES`]. Dial rule: random
/// pairing order (each node dials about k/2 peers); circulant for the dense complement.
pub fn random_regular(n: usize, k: usize, rng: &mut SimRng) -> Result<Topology, TopologyError> {
    check_nodes("random_regular", n)?;
    if k >= n {
        return Err(TopologyError::DegreeTooLarge { n, k });
    }
    if (n as u64 * k as u64) % 2 == 1 {
        return Err(TopologyError::OddDegreeSum { n, k });
    }
    check_edges("random_regular", n as u64 * k as u64 / 2)?;
    if k == n - 1 {
        return full_mesh(n);
    }
    if 2 * k > n - 1 {
        let sparse = random_regular(n, n - 1 - k, rng)?;
        let mut dials = Vec::with_capacity(n * k / 2);
        for a in 0..n as NodeIndex {
            let neighbors = sparse.neighbors(a);
            let mut next = neighbors.partition_point(|&b| b <= a);
            for b in a + 1..n as NodeIndex {
                if neighbors.get(next) == Some(&b) {
                    next += 1;
                } else {
                    dials.push(circulant_dial(a, b, n));
                }
            }
        }
        return Ok(Topology::from_dials(n, dials));
    }
    let degrees = vec![k; n];
    for _ in 0..MAX_RESTARTS {
        let mut pairing = Pairing::random(&degrees, rng);
        if pairing.repair(rng) {
            return Ok(Topology::from_dials(n, pairing.into_dials()));
        }
    }
    Err(TopologyError::GenerationFailed {
        generator: "random_regular",
        attempts: MAX_RESTARTS,
        n,
        k,
    })
}

/// Erdős–Rényi G(n, p): each of the n(n-1)/2 pairs is an edge independently with probability
/// `p`. Geometric skipping (Batagelj–Brandes) makes it O(n + m). Dial rule: a fair coin per
/// edge.
///
/// Requires `p` in `[0, 1]`, n ≤ [`MAX_NODES`] and an expected edge count p·n(n-1)/2 ≤
/// [`MAX_EDGES`] (a draw that exceeds the limit anyway is rejected too).
pub fn erdos_renyi(n: usize, p: f64, rng: &mut SimRng) -> Result<Topology, TopologyError> {
    const NAME: &str = "erdos_renyi";
    check_nodes(NAME, n)?;
    if !(0.0..=1.0).contains(&p) {
        return Err(TopologyError::InvalidProbability { p });
    }
    let pairs = n as f64 * n.saturating_sub(1) as f64 / 2.0;
    check_edges(NAME, (p * pairs).ceil() as u64)?;
    let log_q = ln(1.0 - p);
    let mut dials = Vec::new();
    if p == 0.0 || log_q == 0.0 || n < 2 {
        return Ok(Topology::from_dials(n, dials));
    }
    // Walk the lower triangle (v, w), w < v, row by row, skipping Geometric(p) non-edges.
    let (mut v, mut w): (i64, i64) = (1, -1);
    loop {
        let skip = (ln(rng.open_unit_f64()) / log_q) as i64; // >= 0; `as` floors and saturates
        w = w.saturating_add(1).saturating_add(skip);
        while v < n as i64 && w >= v {
            w -= v;
            v += 1;
        }
        if v >= n as i64 {
            break;
        }
        let (a, b) = if rng.next_u64() & 1 == 0 {
            (w, v)
        } else {
            (v, w)
        };
        dials.push(Dial::new(a as NodeIndex, b as NodeIndex));
        check_edges(NAME, dials.len() as u64)?;
    }
    Ok(Topology::from_dials(n, dials))
}

/// Barabási–Albert preferential attachment: a seed clique on nodes `0..=m`, then each new
/// node `v` (in index order) attaches to `m` distinct earlier nodes chosen with probability
/// proportional to their degree. Gives m(m+1)/2 + (n-m-1)·m edges and a power-law degree tail.
///
/// Requires `1 <= m < n` and n ≤ [`MAX_NODES`]. Dial rule: each new node dials its targets;
/// inside the seed clique the circulant rule over m+1 nodes.
pub fn barabasi_albert(n: usize, m: usize, rng: &mut SimRng) -> Result<Topology, TopologyError> {
    check_nodes("barabasi_albert", n)?;
    if m == 0 || m >= n {
        return Err(TopologyError::InvalidAttachment { n, m });
    }
    let (n64, m64) = (n as u64, m as u64);
    let edges = m64 * (m64 + 1) / 2 + (n64 - m64 - 1) * m64;
    check_edges("barabasi_albert", edges)?;
    let mut dials = Vec::with_capacity(edges as usize);
    // Every edge endpoint once: a uniform pick is a degree-proportional pick of a node.
    let mut endpoints: Vec<NodeIndex> = Vec::with_capacity(2 * edges as usize);
    for a in 0..=m as NodeIndex {
        for b in a + 1..=m as NodeIndex {
            dials.push(circulant_dial(a, b, m + 1));
            endpoints.extend([a, b]);
        }
    }
    let mut targets: Vec<NodeIndex> = Vec::with_capacity(m);
    let mut chosen_by = vec![NodeIndex::MAX; n]; // the last new node that picked each node
    for v in m as NodeIndex + 1..n as NodeIndex {
        targets.clear();
        while targets.len() < m {
            let t = endpoints[rng.index(endpoints.len())];
            if chosen_by[t as usize] != v {
                chosen_by[t as usize] = v;
                targets.push(t);
            }
        }
        for &t in &targets {
            dials.push(Dial::new(v, t));
            endpoints.extend([v, t]);
        }
    }
    Ok(Topology::from_dials(n, dials))
}

/// An explicit edge list over nodes `0..n`; each `[dialer, listener]` pair is an undirected
/// edge dialled by its first node. Duplicates (either orientation) are merged, the first
/// occurrence deciding the dial direction.
///
/// Rejects ids `>= n`, self loops, n > [`MAX_NODES`] and more than [`MAX_EDGES`] edges.
pub fn from_edges(n: usize, edges: &[[NodeIndex; 2]]) -> Result<Topology, TopologyError> {
    check_nodes("from_edges", n)?;
    check_edges("from_edges", edges.len() as u64)?;
    for (index, &[a, b]) in edges.iter().enumerate() {
        if a as usize >= n || b as usize >= n {
            return Err(TopologyError::NodeOutOfRange { index, a, b, n });
        }
        if a == b {
            return Err(TopologyError::SelfLoop { index, node: a });
        }
    }
    let dials = edges.iter().map(|&[a, b]| Dial::new(a, b)).collect();
    Ok(Topology::from_dials(n, dials))
}

/// Target and achieved degrees of one node group of [`per_group_degrees`].
#[derive(Clone, Debug, PartialEq)]
pub struct GroupDegrees {
    /// Index of the group's first node (groups are numbered consecutively).
    pub first: NodeIndex,
    /// Nodes in the group.
    pub count: usize,
    /// Requested degree of each node.
    pub target: usize,
    /// Smallest achieved degree (0 for an empty group).
    pub min: usize,
    /// Mean achieved degree (0 for an empty group).
    pub mean: f64,
    /// Largest achieved degree (0 for an empty group); never above `target`.
    pub max: usize,
}

/// A topology from [`per_group_degrees`] with the achieved degrees of each group (overall
/// min/mean via [`Topology::min_degree`] and [`Topology::mean_degree`]).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupedTopology {
    /// The graph.
    pub topology: Topology,
    /// Target and achieved degree per group, in input order.
    pub groups: Vec<GroupDegrees>,
}

/// Nodes numbered group by group (`groups` is `(count, degree)`), each node of a group with a
/// **target** degree. Configuration model: stubs paired at random, loops and duplicate edges
/// repaired by degree-preserving switches as far as a bounded budget allows, and whatever is
/// left dropped. So degrees are targets: a node can fall short by a few (heavy hubs most
/// likely), never exceed its target; with an odd degree total one random stub is dropped.
/// The achieved min/mean/max per group are in [`GroupedTopology::groups`]. Dial rule: random
/// pairing order.
///
/// Requires each degree below the total node count, total ≤ [`MAX_NODES`] nodes and
/// ≤ [`MAX_EDGES`] edges.
pub fn per_group_degrees(
    groups: &[(usize, usize)],
    rng: &mut SimRng,
) -> Result<GroupedTopology, TopologyError> {
    const NAME: &str = "per_group_degrees";
    let n = groups
        .iter()
        .try_fold(0usize, |acc, &(count, _)| acc.checked_add(count))
        .unwrap_or(usize::MAX);
    check_nodes(NAME, n)?;
    let mut stubs: u64 = 0;
    for (group, &(count, degree)) in groups.iter().enumerate() {
        if count > 0 && degree >= n {
            return Err(TopologyError::GroupDegreeTooLarge { group, degree, n });
        }
        stubs += count as u64 * degree as u64;
    }
    check_edges(NAME, stubs / 2)?;
    let degrees: Vec<usize> = groups
        .iter()
        .flat_map(|&(count, degree)| std::iter::repeat_n(degree, count))
        .collect();
    let mut pairing = Pairing::random(&degrees, rng);
    pairing.repair(rng);
    let topology = Topology::from_dials(n, pairing.into_dials());
    let mut first = 0usize;
    let groups = groups
        .iter()
        .map(|&(count, target)| {
            let achieved = (first..first + count).map(|v| topology.degree(v as NodeIndex));
            let sum: usize = achieved.clone().sum();
            let report = GroupDegrees {
                first: first as NodeIndex,
                count,
                target,
                min: achieved.clone().min().unwrap_or(0),
                mean: sum as f64 / count.max(1) as f64,
                max: achieved.max().unwrap_or(0),
            };
            first += count;
            report
        })
        .collect();
    Ok(GroupedTopology { topology, groups })
}

/// A topology as a scenario names it (the node count comes from the scenario's groups).
///
/// TOML: `topology = { kind = "random_regular", degree = 8 }`, `{ kind = "full_mesh" }`,
/// `{ kind = "erdos_renyi", p = 0.01 }`, `{ kind = "barabasi_albert", m = 3 }`,
/// `{ kind = "edges", edges = [[0, 1], [1, 2]] }`. Unknown fields are rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TopologySpec {
    /// Every pair connected ([`full_mesh`]). A struct variant so that unknown fields are
    /// rejected (serde ignores extra keys on internally tagged unit variants).
    FullMesh {},
    /// Random regular graph ([`random_regular`]).
    RandomRegular {
        /// Neighbours per node; below the node count, node count × degree even.
        degree: u32,
    },
    /// G(n, p) ([`erdos_renyi`]).
    ErdosRenyi {
        /// Edge probability in `[0, 1]`.
        p: f64,
    },
    /// Preferential attachment ([`barabasi_albert`]).
    BarabasiAlbert {
        /// Edges per new node; at least 1 and below the node count.
        m: u32,
    },
    /// Explicit `[dialer, listener]` pairs ([`from_edges`]).
    Edges {
        /// The edges.
        edges: Vec<[NodeIndex; 2]>,
    },
}

impl TopologySpec {
    /// Builds the topology over `n` nodes, drawing from `rng` where the generator is random.
    pub fn build(&self, n: usize, rng: &mut SimRng) -> Result<Topology, TopologyError> {
        match self {
            TopologySpec::FullMesh {} => full_mesh(n),
            TopologySpec::RandomRegular { degree } => random_regular(n, *degree as usize, rng),
            TopologySpec::ErdosRenyi { p } => erdos_renyi(n, *p, rng),
            TopologySpec::BarabasiAlbert { m } => barabasi_albert(n, *m as usize, rng),
            TopologySpec::Edges { edges } => from_edges(n, edges),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TopologyError as E;
    use proptest::prelude::*;

    fn rng(seed: u64) -> SimRng {
        SimRng::stream(seed, "topology-test", 0)
    }

    /// Sorted, loop-free, symmetric; edges ordered; dial plan in edge order.
    fn assert_simple(t: &Topology) {
        for v in 0..t.node_count() as NodeIndex {
            let list = t.neighbors(v);
            assert!(
                list.windows(2).all(|w| w[0] < w[1]) && !list.contains(&v),
                "{v}"
            );
            assert!(list.iter().all(|&w| t.has_edge(w, v)), "asymmetric at {v}");
        }
        let edges: Vec<_> = t.edges().collect();
        assert!(edges.len() == t.edge_count() && edges.windows(2).all(|w| w[0] < w[1]));
        assert!(t.dial_plan().iter().map(|d| d.key()).eq(edges));
    }

    fn assert_regular(t: &Topology, k: usize) {
        assert_simple(t);
        assert!((0..t.node_count() as NodeIndex).all(|v| t.degree(v) == k));
    }

    #[test]
    fn full_mesh_is_complete_and_dials_balanced() {
        for n in [0, 1, 2, 5, 6] {
            let t = full_mesh(n).unwrap();
            assert_regular(&t, n.saturating_sub(1));
            for v in 0..n as NodeIndex {
                assert!(
                    [(n - 1) / 2, n / 2].contains(&t.out_degree(v)),
                    "n={n} v={v}"
                );
            }
        }
        assert!(matches!(full_mesh(100_000), Err(E::TooManyEdges { .. })));
        assert!(matches!(
            full_mesh(MAX_NODES + 1),
            Err(E::TooManyNodes { .. })
        ));
    }

    #[test]
    fn generators_are_deterministic_per_seed() {
        let gens: [fn(&mut SimRng) -> Topology; 4] = [
            |r| random_regular(300, 6, r).unwrap(),
            |r| erdos_renyi(300, 0.03, r).unwrap(),
            |r| barabasi_albert(300, 3, r).unwrap(),
            |r| {
                per_group_degrees(&[(100, 10), (200, 4)], r)
                    .unwrap()
                    .topology
            },
        ];
        for generate in gens {
            let a = generate(&mut rng(1));
            assert_eq!(a, generate(&mut rng(1)));
            assert_ne!(a, generate(&mut rng(2)));
        }
    }

    #[test]
    fn random_regular_is_exact_and_connected() {
        for (n, k, seed) in [(1000, 6, 1), (20_000, 8, 2), (1000, 6, 3), (20_000, 8, 4)] {
            let t = random_regular(n, k, &mut rng(seed)).unwrap();
            assert_regular(&t, k);
            assert!(t.is_connected(), "n={n} k={k} seed={seed}");
            let outs: usize = (0..50).map(|v| t.out_degree(v)).sum(); // about k/2 each
            assert!((100..=300).contains(&outs), "{outs}");
        }
        assert_regular(&random_regular(100_000, 8, &mut rng(7)).unwrap(), 8);
    }

    #[test]
    fn random_regular_edge_cases_and_errors() {
        for (n, k) in [
            (1, 0),
            (10, 0),
            (7, 6),
            (4, 2),
            (6, 3),
            (10, 8),
            (11, 8),
            (50, 46),
        ] {
            assert_regular(&random_regular(n, k, &mut rng(5)).unwrap(), k);
        }
        let odd = random_regular(5, 3, &mut rng(1)).unwrap_err();
        assert_eq!(
            odd.to_string(),
            "random_regular: n*k must be even (n=5, k=3)"
        );
        let big = random_regular(5, 5, &mut rng(1));
        assert_eq!(big, Err(E::DegreeTooLarge { n: 5, k: 5 }));
        assert!(random_regular(0, 0, &mut rng(1)).is_err());
        assert!(random_regular(MAX_NODES + 2, 2, &mut rng(1)).is_err());
        let dense = random_regular(1_000_000, 100, &mut rng(1));
        assert!(matches!(dense, Err(E::TooManyEdges { .. })));
    }

    #[test]
    fn erdos_renyi_edge_count_and_extremes() {
        let (n, p) = (2000usize, 0.01);
        let pairs = (n * (n - 1) / 2) as f64;
        let (mean, sigma) = (p * pairs, (pairs * p * (1.0 - p)).sqrt());
        for seed in 0..5 {
            let t = erdos_renyi(n, p, &mut rng(seed)).unwrap();
            assert_simple(&t);
            let m = t.edge_count() as f64;
            assert!((m - mean).abs() <= 3.0 * sigma, "m={m} mean={mean}");
        }
        for (n, p, edges) in [
            (500, 0.0, 0),
            (500, 1e-320, 0),
            (60, 1.0, 1770),
            (1, 1.0, 0),
        ] {
            let t = erdos_renyi(n, p, &mut rng(1)).unwrap();
            assert_simple(&t);
            assert_eq!(t.edge_count(), edges);
        }
        for p in [-0.1, 1.5, f64::NAN] {
            let err = erdos_renyi(10, p, &mut rng(1));
            assert!(matches!(err, Err(E::InvalidProbability { .. })));
        }
        let dense = erdos_renyi(1_000_000, 0.5, &mut rng(1));
        assert!(matches!(dense, Err(E::TooManyEdges { .. })));
    }

    #[test]
    fn barabasi_albert_counts_and_heavy_tail() {
        for (n, m) in [(10_000usize, 3usize), (500, 1), (40, 39), (41, 39)] {
            let t = barabasi_albert(n, m, &mut rng(3)).unwrap();
            assert_simple(&t);
            assert_eq!(t.edge_count(), m * (m + 1) / 2 + (n - m - 1) * m);
            assert!(t.is_connected() && t.min_degree() >= m);
            if n > m + 1 {
                assert_eq!(t.out_degree(n as NodeIndex - 1), m); // new nodes dial
            }
            if n == 10_000 {
                let (max, mean) = (t.max_degree(), t.mean_degree());
                assert!(max as f64 > 10.0 * mean, "max={max} mean={mean}");
            }
        }
        for (n, m) in [(10, 0), (10, 10), (0, 1)] {
            let err = barabasi_albert(n, m, &mut rng(1));
            assert_eq!(err, Err(E::InvalidAttachment { n, m }));
        }
    }

    #[test]
    fn from_edges_validates_and_dedups() {
        let t = from_edges(5, &[[2, 1], [0, 3], [1, 2], [3, 0], [1, 0]]).unwrap();
        assert_simple(&t);
        assert!(t.edges().eq([(0, 1), (0, 3), (1, 2)]) && !t.is_connected());
        let plan = [Dial::new(1, 0), Dial::new(0, 3), Dial::new(2, 1)];
        assert_eq!(t.dial_plan(), plan);
        let out = from_edges(3, &[[0, 1], [1, 3]]).unwrap_err();
        assert_eq!(
            out,
            E::NodeOutOfRange {
                index: 1,
                a: 1,
                b: 3,
                n: 3
            }
        );
        let self_loop = from_edges(3, &[[2, 2]]).unwrap_err();
        assert_eq!(self_loop, E::SelfLoop { index: 0, node: 2 });
        assert!(self_loop.to_string().contains("self loop"));
        assert_eq!(from_edges(0, &[]).unwrap().node_count(), 0);
    }

    #[test]
    fn per_group_degrees_near_targets() {
        let groups = [(2000, 8), (500, 30), (0, 3), (3000, 2)];
        let g = per_group_degrees(&groups, &mut rng(9)).unwrap();
        assert_simple(&g.topology);
        assert_eq!(g.topology.node_count(), 5500);
        assert!(g.groups.iter().map(|r| r.first).eq([0, 2000, 2500, 2500]));
        for r in g.groups.iter().filter(|r| r.count > 0) {
            assert!(r.max <= r.target && r.min + 2 >= r.target, "{r:?}");
            assert!(r.mean >= r.target as f64 - 0.05, "{r:?}");
        }
        assert!(g.topology.min_degree() >= 1 && g.topology.mean_degree() > 5.0);
        let odd = per_group_degrees(&[(5, 3)], &mut rng(1)).unwrap(); // one stub dropped
        assert!(odd.topology.edge_count() <= 7);
        let big = per_group_degrees(&[(3, 1), (2, 5)], &mut rng(1)).unwrap_err();
        assert_eq!(
            big,
            E::GroupDegreeTooLarge {
                group: 1,
                degree: 5,
                n: 5
            }
        );
        assert!(per_group_degrees(&[(usize::MAX, 1), (2, 1)], &mut rng(1)).is_err());
    }

    #[test]
    fn spec_deserializes_strictly_and_builds() {
        use serde::de::{IntoDeserializer, value::Error, value::MapDeserializer};
        let parse = |fields: &[(&'static str, &'static str)]| {
            let map = fields.iter().map(|&(k, v)| (k, v.into_deserializer()));
            TopologySpec::deserialize(MapDeserializer::<_, Error>::new(map))
        };
        assert_eq!(
            parse(&[("kind", "full_mesh")]),
            Ok(TopologySpec::FullMesh {})
        );
        assert!(parse(&[("kind", "full_mesh"), ("extra", "x")]).is_err());
        assert!(parse(&[("kind", "ring")]).is_err());
        let mut r = rng(4);
        let specs = [
            TopologySpec::FullMesh {},
            TopologySpec::RandomRegular { degree: 4 },
            TopologySpec::ErdosRenyi { p: 0.2 },
            TopologySpec::BarabasiAlbert { m: 2 },
            TopologySpec::Edges {
                edges: vec![[0, 1], [1, 2]],
            },
        ];
        for spec in specs {
            let t = spec.build(20, &mut r).unwrap();
            assert!(t.node_count() == 20 && t.edge_count() > 0);
        }
        assert!(
            TopologySpec::RandomRegular { degree: 3 }
                .build(5, &mut r)
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn random_regular_is_regular_for_small_pairs(n in 1usize..70, k in 0usize..70, seed: u64) {
            let k = k % n;
            let k = if (n * k) % 2 == 1 { k - 1 } else { k };
            assert_regular(&random_regular(n, k, &mut rng(seed)).unwrap(), k);
        }
    }
}
