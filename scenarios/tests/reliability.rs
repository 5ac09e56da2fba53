//! Store-based reliability strictly improves delivery over `none` on the same seeds, topology
//! and faults: relay nodes that sleep (`store-check`) and light clients that lose network
//! (`light-client`), on small inline versions of `direct-messages-sleep` and
//! `mobile-network-loss`.

mod common;

const SLEEP: &str = r#"
name = "small-sleep"
duration = "40m"
seeds = [1, 2]
variants = ["none", "store-check"]

[heal]
duration = "5m"

[network]
link = { latency = { kind = "log_normal", median = "35ms", sigma = 0.5 }, jitter = "5ms" }

[topology]
kind = "random_regular"
degree = 4

[[group]]
name = "store"
count = 2
roles = ["relay", "store"]
preset = "nwaku"

[[group]]
name = "always-on"
count = 6
roles = ["relay"]
preset = "go-waku"

[[group]]
name = "sleepers"
count = 6
roles = ["relay"]
preset = "go-waku"
availability = { kind = "periodic", outage = "sleep", period = "40m", down_for = "12m", phase = "8m", spread = "10m" }

[[traffic]]
name = "chats"
kind = "direct"
participants = ["always-on", "sleepers"]
conversations = 8
rate = { kind = "poisson", mean = 60, per = "1h" }
message_size = { kind = "constant", value = "500B" }
"#;

const NETWORK_LOSS: &str = r#"
name = "small-network-loss"
duration = "40m"
seeds = [1, 2]
variants = ["none", "light-client"]

[heal]
duration = "5m"

[network]
link = { latency = { kind = "log_normal", median = "40ms", sigma = 0.4 }, jitter = "5ms" }

[topology]
kind = "random_regular"
degree = 4

[[group]]
name = "service"
count = 3
roles = ["relay", "store", "filter", "lightpush"]
preset = "nwaku"

[[group]]
name = "desktops"
count = 5
roles = ["relay"]
preset = "go-waku"

[[group]]
name = "phones"
count = 10
roles = ["light"]
preset = "go-waku"
availability = { kind = "periodic", outage = "offline", period = "20m", down_for = "5m", phase = "5m", spread = "10m" }

[[traffic]]
name = "dms"
kind = "direct"
participants = ["desktops", "phones"]
conversations = 10
rate = { kind = "poisson", mean = 60, per = "1h" }
message_size = { kind = "constant", value = "500B" }
"#;

/// Delivery ratio per (seed, variant), in run order.
fn ratios(text: &str) -> Vec<(u64, String, f64)> {
    common::run_each("inline.toml", text)
        .into_iter()
        .map(|(run, out)| (run.seed, run.variant, common::delivery_ratio(&out)))
        .collect()
}

fn assert_improves(text: &str, better: &str) {
    let all = ratios(text);
    eprintln!("{all:?}");
    for seed in [1, 2] {
        let of = |variant: &str| {
            all.iter()
                .find(|(s, v, _)| *s == seed && v == variant)
                .map(|(_, _, r)| *r)
                .expect("run present")
        };
        let (none, reliable) = (of("none"), of(better));
        assert!(
            none < 1.0,
            "seed {seed}: the faults must lose messages under none"
        );
        assert!(
            reliable > none,
            "seed {seed}: {better} {reliable} must beat none {none}"
        );
    }
}

#[test]
fn store_check_beats_none_when_relay_nodes_sleep() {
    assert_improves(SLEEP, "store-check");
}

#[test]
fn light_client_beats_none_when_light_clients_lose_network() {
    assert_improves(NETWORK_LOSS, "light-client");
}
