//! sim-net
