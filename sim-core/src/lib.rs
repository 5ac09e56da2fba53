//! sim-core: the deterministic discrete-event engine. It knows nothing of Waku or networks.
//!
//! - [`time`]: `SimTime`/`SimDuration` in nanoseconds, with human units (`"250ms"`, `"8h"`);
//! - [`rng`]: seeded ChaCha8 streams per (seed, purpose, index) and the simulator's own samplers;
//! - [`queue`]: pending events ordered by (time, sequence number);
//! - [`engine`]: the run loop, stop conditions, livelock guard and audit hash;
//! - [`audit`]: the audit hash and trace comparison used by determinism checks;
//! - [`node`]: the sans-IO node API (inputs in, actions out through a context);
//! - [`observe`]: what applications report (created, received, believed status) for the oracle.
//!
//! A run is a pure function of (code, inputs, seed): no wall clock, no OS randomness, no
//! threads, no iteration over unordered maps.

pub mod audit;
pub mod engine;
pub mod node;
pub mod observe;
pub mod queue;
pub mod rng;
pub mod time;

pub use audit::{Audit, AuditHasher};
pub use engine::{Engine, RunError, Scheduler, StopAt, StopReason, World};
pub use node::{
    Action, ConnId, Ctx, DialError, DisconnectReason, Input, Node, NodeId, Payload, TimerId,
};
pub use observe::{AppMessageId, AppObservation, BelievedStatus, DeliveryPath};
pub use rng::{Ratio, SimRng};
pub use time::{SimDuration, SimTime};
