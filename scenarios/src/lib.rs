//! scenarios: the wakusim scenario format (TOML), its strict validation with located errors,
//! the built-in scenario library, and the expansion of a scenario into runs.
//!
//! - [`scenario`]: [`Scenario`], [`load_file`], [`parse_str`] (the parse pipeline);
//! - [`model`], [`traffic`], [`faults`]: what a file declares (network, topology, groups,
//!   traffic, scripted faults with node selectors);
//! - [`units`]: byte sizes and bandwidths with explicit units;
//! - [`layout`]: node numbering and selector resolution;
//! - [`plan`]: what a run builder needs (network config, per-node attributes, fault schedule);
//! - [`expand`]: runs = sweep points × variants × seeds, labels, `--shard i/n`;
//! - [`run`]: building the simulation of one run (Waku nodes, traffic, faults) and running it;
//! - [`overrides`]: `--set key=value`, sweep-point edits, [`scenario_hash`];
//! - [`tuning`]: `[reliability.<protocol>]` presets and parameter overrides;
//! - [`builtin`]: the embedded scenario library;
//! - `error`, `locate`, `validate`: [`ScenarioError`] and how every error gets a file, line,
//!   column and field.
//!
//! The format is documented field by field in `docs/scenario-format.md`.
//!
//! Determinism: no clock, no OS randomness, no unordered iteration; fault schedules draw from
//! `SimRng` streams keyed by the run's seed. Bounded: every list and count has a limit below,
//! and a scenario text is at most [`MAX_SOURCE_BYTES`].

pub mod builtin;
pub mod error;
pub mod expand;
pub mod faults;
pub mod layout;
mod locate;
pub mod model;
pub mod overrides;
pub mod plan;
pub mod run;
pub mod scenario;
pub mod traffic;
pub mod tuning;
pub mod units;
mod validate;

use sim_core::SimDuration;

pub use error::{Problem, ScenarioError};
pub use expand::{RunSpec, SweepPoint, parse_shard, shard};
pub use faults::{FaultAction, FaultEntry, Selector, SelectorItem};
pub use layout::Layout;
pub use model::{Availability, Group, Heal, Network, Preset, Role, Topology};
pub use overrides::{apply_overrides, apply_overrides_in, scenario_hash};
pub use scenario::{Scenario, SweepAxis, load_file, parse_str};
pub use traffic::{Rate, SizeDist, Traffic, TrafficKind};
pub use units::{Bandwidth, ByteSize};

/// The reliability variants a scenario may name: the registry in `reliability::variant`.
pub const KNOWN_VARIANTS: &[&str] = reliability::KNOWN_VARIANTS;

/// Largest scenario text.
pub const MAX_SOURCE_BYTES: usize = 4 << 20;
/// Most node groups.
pub const MAX_GROUPS: usize = 256;
/// Most nodes in total.
pub const MAX_NODES: u64 = 1_000_000;
/// Most `[[traffic]]` entries.
pub const MAX_TRAFFIC: usize = 256;
/// Most `[[fault]]` entries.
pub const MAX_FAULTS: usize = 100_000;
/// Most items in one selector list.
pub const MAX_SELECTOR_ITEMS: usize = 1024;
/// Most seeds.
pub const MAX_SEEDS: usize = 10_000;
/// Most variants.
pub const MAX_VARIANTS: usize = 32;
/// Most sweep axes.
pub const MAX_SWEEP_AXES: usize = 2;
/// Most values per sweep axis.
pub const MAX_SWEEP_VALUES: usize = 64;
/// Most sweep points (product of the axes' value counts).
pub const MAX_SWEEP_POINTS: usize = 1024;
/// Most runs (sweep points × variants × seeds).
pub const MAX_RUNS: usize = 100_000;
/// Longest duration (and heal phase).
pub const MAX_DURATION: SimDuration = SimDuration::from_secs(365 * 86_400);
/// Largest message payload.
pub const MAX_MESSAGE_BYTES: u64 = 1 << 20;
/// Most messages one traffic entry may be expected to send.
pub const MAX_MESSAGES: f64 = 1e8;
/// Most fault events a generator (availability, churn, random faults) may be expected to
/// produce.
pub const MAX_FAULT_EVENTS: f64 = 1e7;
