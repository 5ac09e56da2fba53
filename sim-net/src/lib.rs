//! sim-net: the fault-injecting simulated network that hosts sans-IO nodes (DESIGN §5).
//!
//! - [`link`]: latency distributions, jitter, loss (i.i.d., Gilbert–Elliott), duplication,
//!   region matrix;
//! - [`config`]: network-wide parameters (semantics, retransmission, dials) and per-node
//!   counters;
//! - [`network`]: the [`Network`] world: connections, delivery, node states, faults;
//! - `queue`: each node's bandwidth-limited, bounded uplink and downlink queues (internal);
//! - [`faults`]: fault schedules as data, churn/periodic processes, random fault generation;
//! - [`topology`]: graph generators for who connects to whom;
//! - `conn`, `routing`: connection table, link lookup and partitions (internal).

pub mod config;
mod conn;
pub mod faults;
pub mod link;
pub mod network;
mod queue;
mod routing;
pub mod topology;

pub use config::{
    DEFAULT_QUEUE_LIMIT, DialParams, NetConfig, NodeNet, NodeStats, Semantics, StreamParams,
};
pub use conn::Segment;
pub use faults::{Fault, FaultSchedule, Outage, RandomFaultProfile, ScheduledFault};
pub use link::{LatencyDist, LinkModel, LossModel, RegionMatrix};
pub use network::{Attempt, Discard, NetEvent, Network, Presence, Process, Recorder, StateChange};
pub mod testkit;
