//! sim-core: the deterministic discrete-event engine.
pub mod rng;
pub mod time;
