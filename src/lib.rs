//! wakusim: a deterministic, in-process network-fault simulator for the Waku messaging stack.
//!
//! The `wakusim` binary is a thin command line over the workspace crates; this library holds
//! what the binary and the `xtask` tooling share:
//! - [`demo`]: the flooding demo network under faults (`wakusim demo`), also used by the
//!   benchmarks and `cargo xtask determinism` to exercise the network without Waku.

pub mod demo;
