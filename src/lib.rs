//! wakusim: a deterministic, in-process network-fault simulator for the Waku messaging stack.
//!
//! The `wakusim` binary is a thin command line over the workspace crates; this library holds
//! what the binary and the `xtask` tooling share:
//! - [`demo`]: the built-in demo network (flooding nodes under faults), the default main job
//!   until the scenario library lands.

pub mod demo;
