//! The built-in scenario library, embedded in the binary from `scenarios/builtin/*.toml`.
//!
//! | name | what it covers |
//! |---|---|
//! | `default` | small mixed network, a few seconds to run: DMs, sleeping desktops, offline mobiles, a partition |
//! | `relay-calibration` | the published Shadow setup: 1000 nwaku nodes, 100 ms links, 83/38 Mbit/s, one publisher |
//! | `direct-messages-sleep` | desktop relay nodes that hibernate at night and doze by day |
//! | `mobile-network-loss` | light clients losing network for minutes |
//! | `flaky-links` | Vac-QA faults: 1 s ± 100 ms latency, 50 % loss, 1 kbit/s, each for 10 s |
//! | `lite-protocol-tester` | lightpush publishers → filter receivers with service-node churn |
//! | `dst-churn-store` | Vac-DST churn: 510 stable nodes, 10 waves of 100 transient ones, 600 × 1 KB |
//! | `community-channel` | owners mostly online, hundreds of desktop and mobile participants |
//!
//! Errors in a built-in name the file as `builtin/<name>.toml`.

use crate::error::ScenarioError;
use crate::scenario::{Scenario, parse_str};

/// The default scenario's name.
pub const DEFAULT: &str = "default";

const ALL: &[(&str, &str)] = &[
    ("default", include_str!("../builtin/default.toml")),
    (
        "relay-calibration",
        include_str!("../builtin/relay-calibration.toml"),
    ),
    (
        "direct-messages-sleep",
        include_str!("../builtin/direct-messages-sleep.toml"),
    ),
    (
        "mobile-network-loss",
        include_str!("../builtin/mobile-network-loss.toml"),
    ),
    ("flaky-links", include_str!("../builtin/flaky-links.toml")),
    (
        "lite-protocol-tester",
        include_str!("../builtin/lite-protocol-tester.toml"),
    ),
    (
        "dst-churn-store",
        include_str!("../builtin/dst-churn-store.toml"),
    ),
    (
        "community-channel",
        include_str!("../builtin/community-channel.toml"),
    ),
    (
        "community-channel-tuning",
        include_str!("../builtin/community-channel-tuning.toml"),
    ),
];

/// Every built-in scenario as `(name, TOML text)`, in a fixed order (`default` first).
pub fn all() -> &'static [(&'static str, &'static str)] {
    ALL
}

/// The TOML text of built-in `name`.
pub fn get(name: &str) -> Option<&'static str> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

/// The names of the built-ins, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|(n, _)| *n)
}

/// Parses built-in `name`; `None` if there is no such built-in.
pub fn load(name: &str) -> Option<Result<Scenario, ScenarioError>> {
    get(name).map(|text| parse_str(&format!("builtin/{name}.toml"), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_validates_and_expands() {
        assert_eq!(ALL[0].0, DEFAULT);
        for (name, _) in all() {
            let s = match load(name) {
                Some(Ok(s)) => s,
                Some(Err(e)) => panic!("{e}"),
                None => panic!("{name} missing"),
            };
            assert_eq!(
                s.name, *name,
                "the file's name field matches its registry name"
            );
            assert!(!s.description.trim().is_empty(), "{name}: describe it");
            let runs = s.runs();
            assert!(!runs.is_empty());
            for point in s.sweep_points() {
                let concrete = s.at_point(&point).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(concrete.sweep.is_empty());
            }
            let seed = s.seeds[0];
            let schedule = s.fault_schedule(seed);
            assert_eq!(schedule, s.fault_schedule(seed), "{name}: deterministic");
            let n = s.node_count();
            assert!(
                schedule
                    .entries()
                    .iter()
                    .all(|e| e.fault.validate(n).is_ok()),
                "{name}"
            );
            let graph = s
                .relay_topology(seed)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(graph.node_count(), s.relay_nodes().len());
            assert_eq!(s.presence().len(), n as usize);
            s.net_config()
                .validate()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert!(get("nope").is_none() && load("nope").is_none());
    }

    #[test]
    fn builtins_say_what_their_sources_say() {
        let s = load("relay-calibration").and_then(Result::ok).unwrap();
        assert_eq!(s.node_count(), 1000);
        let net = s.group_net(1);
        assert_eq!(
            (net.up_bytes_per_s, net.down_bytes_per_s),
            (4_750_000, 10_375_000)
        );
        assert_eq!(s.runs().len(), 3 * 5);

        let s = load("dst-churn-store").and_then(Result::ok).unwrap();
        assert_eq!(s.node_count(), 510 + 1000);
        let joins = s
            .fault_schedule(1)
            .entries()
            .iter()
            .filter(|e| matches!(e.fault, sim_net::Fault::Join { .. }))
            .count();
        assert_eq!(joins, 10 + 1, "10 waves, plus the heal point");

        let s = load("flaky-links").and_then(Result::ok).unwrap();
        let changes = s.bandwidth_schedule();
        assert_eq!(
            changes.len(),
            2 + 2,
            "throttle + restore, plus the heal point per group"
        );
        assert_eq!(changes[0].up_bytes_per_s, 125);
    }
}
