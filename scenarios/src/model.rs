//! The scenario data model: what a scenario file deserializes into (network defaults,
//! topology, node groups with roles, presets and availability, the heal phase).
//!
//! Every struct rejects unknown fields. Link models, latency and loss distributions, delivery
//! semantics, outage kinds and random fault profiles are `sim-net`'s own serde types, so a
//! scenario says exactly what the network will do. Traffic lives in `traffic.rs`, faults and
//! node selectors in `faults.rs`; semantic checks in `validate.rs`.

use serde::Deserialize;
use sim_core::SimDuration;
use sim_net::topology::TopologySpec;
use sim_net::{LinkModel, Outage, RegionMatrix, Semantics, StreamParams};

use crate::units::Bandwidth;

/// Declares a string keyword enum whose deserialization error names the bad word and lists
/// the allowed ones: `unknown role "relai" (allowed: relay, store, …)`.
macro_rules! keyword_enum {
    ($(#[$meta:meta])* $name:ident, $noun:literal, { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word used in scenario files.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// Parses the word; the error lists the allowed words.
            pub fn parse(word: &str) -> Result<$name, String> {
                match word {
                    $($word => Ok($name::$variant),)+
                    _ => Err(format!(
                        concat!("unknown ", $noun, " {:?} (allowed: {})"),
                        word,
                        [$($word),+].join(", ")
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        write!(f, concat!("a ", $noun, ", one of {}"), [$($word),+].join(", "))
                    }
                    fn visit_str<E: serde::de::Error>(self, word: &str) -> Result<$name, E> {
                        $name::parse(word).map_err(E::custom)
                    }
                }
                d.deserialize_str(Visitor)
            }
        }
    };
}
pub(crate) use keyword_enum;

keyword_enum!(
    /// What a node does.
    Role, "role", {
        /// Full relay node (gossipsub mesh member).
        Relay = "relay",
        /// Store service (archives relay traffic, answers store queries); needs `relay`.
        Store = "store",
        /// Filter service (pushes to light clients); needs `relay`.
        Filter = "filter",
        /// Lightpush service (publishes for light clients); needs `relay`.
        Lightpush = "lightpush",
        /// Light client: uses lightpush, filter and store of service nodes; no relay.
        Light = "light",
    }
);

keyword_enum!(
    /// Which implementation's defaults a node follows.
    Preset, "preset", {
        /// nwaku (Nim): the reference service node.
        Nwaku = "nwaku",
        /// go-waku (status-go desktop and mobile).
        GoWaku = "go-waku",
        /// js-waku (browser light client only).
        JsWaku = "js-waku",
    }
);

keyword_enum!(
    /// What traffic does while the heal phase runs.
    HealTraffic, "heal traffic mode", {
        /// No new messages: the phase measures convergence of what was sent.
        Stop = "stop",
        /// Traffic keeps flowing.
        Continue = "continue",
    }
);

/// The convergence phase appended after `duration`: every fault is healed at `duration`,
/// then the run continues for `heal.duration`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heal {
    /// Length of the phase (required).
    pub duration: SimDuration,
    /// Whether traffic stops (default) or continues during the phase.
    #[serde(default = "heal_traffic_default")]
    pub traffic: HealTraffic,
}

fn heal_traffic_default() -> HealTraffic {
    HealTraffic::Stop
}

/// Upload and download capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandwidthPair {
    /// Upload capacity (default unlimited).
    #[serde(default)]
    pub up: Bandwidth,
    /// Download capacity (default unlimited).
    #[serde(default)]
    pub down: Bandwidth,
}

/// A group's bandwidth override: each direction optional (unset = network default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandwidthOverride {
    /// Upload capacity.
    pub up: Option<Bandwidth>,
    /// Download capacity.
    pub down: Option<Bandwidth>,
}

/// The TCP-like retransmission model of stream semantics; each field defaults to Linux's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retransmission {
    /// Added to the RTT for the first retransmission timeout (default 200ms).
    pub rto_min: SimDuration,
    /// Cap of the doubling timeout (default 120s).
    pub rto_max: SimDuration,
    /// Retransmissions before the sender resets the connection (default 15).
    pub max_retransmits: u32,
}

impl Default for Retransmission {
    fn default() -> Self {
        let p = StreamParams::default();
        Retransmission {
            rto_min: p.rto_min,
            rto_max: p.rto_max,
            max_retransmits: p.max_retransmits,
        }
    }
}

/// Network-wide defaults: `[network]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// `stream` (default, TCP-like) or `datagram`.
    pub semantics: Semantics,
    /// The link model between nodes without a group override (default: 50 ms constant).
    pub link: LinkModel,
    /// Per-node capacity (default unlimited both ways).
    pub bandwidth: BandwidthPair,
    /// Round trips until a dial completes (default 3).
    pub handshake_round_trips: u32,
    /// A dial not completed by then fails (default 10s).
    pub dial_timeout: SimDuration,
    /// Retransmission model (stream semantics).
    pub retransmission: Retransmission,
    /// Optional base one-way latencies between regions.
    pub regions: Option<RegionMatrix>,
    /// What each node's uplink and downlink queue holds, as transmission time at the rate in
    /// force (default 5s, at most 1h); a segment arriving at a fuller queue is dropped.
    pub queue_limit: SimDuration,
}

impl Default for Network {
    fn default() -> Self {
        let dial = sim_net::DialParams::default();
        Network {
            semantics: Semantics::Stream,
            link: LinkModel::default(),
            bandwidth: BandwidthPair::default(),
            handshake_round_trips: dial.handshake_round_trips,
            dial_timeout: dial.timeout,
            retransmission: Retransmission::default(),
            regions: None,
            queue_limit: sim_net::DEFAULT_QUEUE_LIMIT,
        }
    }
}

/// Who connects to whom among the relay nodes: `[topology]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Topology {
    /// One of sim-net's generators over all relay nodes.
    Graph(TopologySpec),
    /// sim-net's `per_group_degrees`: each relay group's `degree` is its nodes' target degree.
    PerGroupDegrees,
}

/// The topology kinds, for messages.
pub const TOPOLOGY_KINDS: &str =
    "full_mesh, random_regular, erdos_renyi, barabasi_albert, edges, per_group_degrees";

impl Default for Topology {
    /// A random 8-regular graph.
    fn default() -> Self {
        Topology::Graph(TopologySpec::RandomRegular { degree: 8 })
    }
}

impl<'de> Deserialize<'de> for Topology {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let table = toml::Table::deserialize(d)?;
        let kind = match table.get("kind") {
            None => return Err(D::Error::custom("missing field `kind`")),
            Some(toml::Value::String(kind)) => kind.clone(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "kind must be a string, one of {TOPOLOGY_KINDS} (got {other})"
                )));
            }
        };
        if kind == "per_group_degrees" {
            if let Some(extra) = table.keys().find(|k| *k != "kind") {
                return Err(D::Error::custom(format!(
                    "unknown field `{extra}`, expected `kind` (per_group_degrees takes each \
                     relay group's `degree`)"
                )));
            }
            return Ok(Topology::PerGroupDegrees);
        }
        if !TOPOLOGY_KINDS.split(", ").any(|k| k == kind) {
            return Err(D::Error::custom(format!(
                "unknown topology kind {kind:?} (allowed: {TOPOLOGY_KINDS})"
            )));
        }
        toml::Value::Table(table)
            .try_into::<TopologySpec>()
            .map(Topology::Graph)
            .map_err(|e| D::Error::custom(e.message().trim()))
    }
}

/// When the nodes of a group are unavailable, beyond scripted faults.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Availability {
    /// Never unavailable (default).
    AlwaysOn {},
    /// Down for `down_for` once every `period`, first at `phase` (e.g. a desktop sleeping
    /// 8 h a night: `period = "24h", down_for = "8h", phase = "22h"`). With `spread`, each
    /// node's phase is shifted by its own uniform draw in `[0, spread]`.
    Periodic {
        /// How the node is down.
        outage: Outage,
        /// Cycle length.
        period: SimDuration,
        /// Down time per cycle (below `period`).
        down_for: SimDuration,
        /// Start of the first outage (default 0s).
        #[serde(default)]
        phase: SimDuration,
        /// Per-node random shift of the phase (default 0s: all nodes together).
        #[serde(default)]
        spread: SimDuration,
    },
    /// Each node alternates exponential up (`mean_up`) and down (`mean_down`) periods.
    Churn {
        /// How the node is down.
        outage: Outage,
        /// Mean time between outages.
        mean_up: SimDuration,
        /// Mean outage length.
        mean_down: SimDuration,
        /// When the process starts (default 0s).
        #[serde(default)]
        from: SimDuration,
        /// When it stops (default: the scenario's duration).
        until: Option<SimDuration>,
    },
}

impl Default for Availability {
    fn default() -> Self {
        Availability::AlwaysOn {}
    }
}

/// A set of identical nodes: `[[group]]`. Nodes are numbered group by group in file order.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Unique name (letters, digits, `_`, `-`; starts with a letter).
    pub name: String,
    /// Number of nodes (at least 1).
    pub count: u32,
    /// What the nodes do: `relay`, `store`, `filter`, `lightpush` or `light`.
    pub roles: Vec<Role>,
    /// Implementation defaults (default: `nwaku` for relay nodes, `go-waku` for light
    /// clients).
    pub preset: Option<Preset>,
    /// The link model of paths touching this group (replaces the network default).
    pub link: Option<LinkModel>,
    /// Bandwidth override per direction.
    #[serde(default)]
    pub bandwidth: BandwidthOverride,
    /// Region name from `network.regions` (default: the first region).
    pub region: Option<String>,
    /// Target degree, with `topology.kind = "per_group_degrees"` only.
    pub degree: Option<u32>,
    /// Recurring unavailability (default always on).
    #[serde(default)]
    pub availability: Availability,
    /// The nodes are absent at the start and join at this time.
    pub joins_at: Option<SimDuration>,
    /// The nodes leave for good at this time.
    pub leaves_at: Option<SimDuration>,
    /// The nodes are absent at the start (they join through faults or `joins_at`).
    #[serde(default)]
    pub absent_at_start: bool,
}

impl Group {
    /// Whether the nodes take part in relay (and so in the topology).
    pub fn is_relay(&self) -> bool {
        self.roles.contains(&Role::Relay)
    }

    /// Whether the nodes are light clients.
    pub fn is_light(&self) -> bool {
        self.roles.contains(&Role::Light)
    }

    /// The preset in force, with the default applied.
    pub fn preset(&self) -> Preset {
        self.preset.unwrap_or(if self.is_light() {
            Preset::GoWaku
        } else {
            Preset::Nwaku
        })
    }

    /// Whether the nodes are absent at time zero.
    pub fn starts_absent(&self) -> bool {
        self.absent_at_start || self.joins_at.is_some()
    }
}
