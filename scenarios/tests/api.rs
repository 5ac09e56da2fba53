//! Public API behaviour: `--set` overrides, the scenario hash, run expansion and sharding,
//! fault schedules, and robustness of the parser against mangled input.

use scenarios::{apply_overrides, builtin, parse_shard, parse_str, scenario_hash, shard};
use sim_core::{SimDuration, SimRng, SimTime};
use sim_net::{Fault, LossModel};

fn default_text() -> &'static str {
    builtin::get("default").expect("default built-in")
}

#[test]
fn overrides_set_existing_and_new_fields() {
    let text = default_text();
    let out = apply_overrides(
        text,
        &[
            ("network.link.loss.p", "0.2"),
            ("duration", "20m"),
            ("group.mobiles.count", "12"),
            ("group.2.preset", "\"nwaku\""),
            ("traffic.dms.conversations", "7"),
            ("network.handshake_round_trips", "2"),
        ],
    )
    .unwrap();
    assert_eq!(
        out.lines().count(),
        text.lines().count() + 1,
        "one new line, the rest kept"
    );
    assert!(
        out.contains("# Phones on a bad network"),
        "comments are kept"
    );
    let s = parse_str("default.toml", &out).unwrap();
    assert_eq!(s.network.link.loss, LossModel::Iid { p: 0.2 });
    assert_eq!(s.duration, SimDuration::from_mins(20));
    assert_eq!(s.groups[4].count, 12);
    assert_eq!(s.groups[2].preset, Some(scenarios::Preset::Nwaku));
    assert_eq!(s.traffic[0].conversations, 7);
    assert_eq!(s.network.handshake_round_trips, 2);
    // An overridden value stays on its line, so errors still point at the user's file.
    let bad = apply_overrides(text, &[("group.mobiles.count", "0")]).unwrap();
    let err = parse_str("default.toml", &bad).unwrap_err();
    let line = text
        .lines()
        .position(|l| l.starts_with("count = 10"))
        .unwrap()
        + 1;
    assert_eq!(err.line, line, "{err}");
}

#[test]
fn the_queue_limit_defaults_to_five_seconds_and_reaches_the_network() {
    let s = parse_str("default.toml", default_text()).unwrap();
    assert_eq!(s.network.queue_limit, sim_net::DEFAULT_QUEUE_LIMIT);
    assert_eq!(s.net_config().queue_limit, SimDuration::from_secs(5));
    let out = apply_overrides(default_text(), &[("network.queue_limit", "250ms")]).unwrap();
    let s = parse_str("default.toml", &out).unwrap();
    assert_eq!(s.net_config().queue_limit, SimDuration::from_millis(250));
}

#[test]
fn overrides_reject_paths_that_do_not_exist() {
    let text = default_text();
    let cases = [
        (
            "network.link.loss.q",
            "0.1",
            "--set:1:19: network.link.loss.q: unknown field \"q\"",
        ),
        (
            "network.lnik.loss.p",
            "0.1",
            "--set:1:9: network.lnik: \"lnik\" is not set in network",
        ),
        (
            "group.tablets.count",
            "3",
            "--set:1:7: group.tablets: group has no element \"tablets\"",
        ),
        ("group.9.count", "3", "group has no element \"9\""),
        (
            "durationn",
            "5m",
            "--set:1:1: durationn: unknown field \"durationn\"",
        ),
        ("name.x", "1", "name is a plain value"),
        ("network..p", "1", "empty segment"),
        ("group.0", "1", "cannot replace a whole [[table]] element"),
    ];
    for (key, value, want) in cases {
        let err = apply_overrides(text, &[(key, value)]).unwrap_err();
        assert!(err.to_string().contains(want), "{key}: {err}");
    }
    // The second override is the one named.
    let err = apply_overrides(text, &[("duration", "1m"), ("nope", "1")]).unwrap_err();
    assert!(err.to_string().starts_with("--set:2:1: nope"), "{err}");
}

#[test]
fn scenario_hash_is_stable_and_sensitive() {
    let text = "name = \"h\"\nduration = \"1m\"\n[network]\nlink = { latency = { kind = \"constant\", value = \"5ms\" } }\n";
    let reformatted =
        "# a comment\n[network]\nlink.latency = {value = \"5ms\", kind = \"constant\"}\n\n";
    let reformatted = format!("duration = \"1m\"   # same\nname = 'h'\n{reformatted}");
    let h = scenario_hash(text);
    assert_eq!(h.len(), 64);
    assert!(
        h.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(h, scenario_hash(text));
    assert_eq!(
        h,
        scenario_hash(&reformatted),
        "layout, comments and key order do not count"
    );
    assert_ne!(h, scenario_hash(&text.replace("5ms", "6ms")));
    assert_ne!(h, scenario_hash(&text.replace("1m", "1m1s")));
    // Pinned: the hash must not change across machines, runs or dependency upgrades.
    assert_eq!(
        h,
        "8588ce4e598582f74c6577d76934644cd3e556497bcb8f032192aebee2e0b445"
    );
    let s = parse_str("d.toml", default_text()).unwrap();
    assert_eq!(s.hash(), scenario_hash(default_text()));
    assert_ne!(
        scenario_hash("not = = toml"),
        scenario_hash("not = = toml!")
    );
}

#[test]
fn runs_expand_in_a_fixed_order_with_unique_labels() {
    let text = format!(
        "{}\n[sweep]\n\"network.link.loss.p\" = [0.0, 0.1]\n\"group.mobiles.count\" = [5, 10, 20]\n",
        default_text()
    );
    let s = parse_str("sweep.toml", &text).unwrap();
    let runs = s.runs();
    assert_eq!(runs.len(), 2 * 3 * 3);
    assert_eq!(
        runs[0].label,
        "network.link.loss.p=0.0/group.mobiles.count=5/variant=none/seed=1"
    );
    assert_eq!(
        runs[4].label,
        "network.link.loss.p=0.0/group.mobiles.count=10/variant=none/seed=2"
    );
    assert_eq!(
        runs[17].label,
        "network.link.loss.p=0.1/group.mobiles.count=20/variant=none/seed=3"
    );
    assert!(runs.iter().enumerate().all(|(i, r)| r.index == i));
    let mut labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), runs.len());
    assert_eq!(runs, s.runs(), "deterministic");

    let concrete = s.for_run(&runs[17]).unwrap();
    assert_eq!(concrete.network.link.loss, LossModel::Iid { p: 0.1 });
    assert_eq!(concrete.groups[4].count, 20);
    assert!(concrete.sweep.is_empty());
    assert_eq!(concrete.runs().len(), 3, "only seeds × variants remain");
}

#[test]
fn shards_partition_the_run_list() {
    let s = builtin::load("relay-calibration").unwrap().unwrap();
    let runs = s.runs();
    for n in 1..=runs.len() + 2 {
        let mut merged: Vec<_> = (0..n).flat_map(|i| shard(&runs, i, n)).collect();
        assert_eq!(merged.len(), runs.len(), "disjoint and complete for n={n}");
        merged.sort_by_key(|r| r.index);
        assert_eq!(merged, runs);
    }
    assert!(shard(&runs, 3, 3).is_empty() && shard(&runs, 0, 0).is_empty());
    assert_eq!(parse_shard("0/4"), Ok((0, 4)));
    assert_eq!(parse_shard(" 3 / 4 "), Ok((3, 4)));
    for bad in ["4/4", "1/0", "x/2", "3", "-1/2", ""] {
        assert!(parse_shard(bad).is_err(), "{bad}");
    }
}

#[test]
fn fault_schedule_of_the_default_scenario() {
    let s = builtin::load("default").unwrap().unwrap();
    let schedule = s.fault_schedule(1);
    let at = |m: u64| SimTime::ZERO + SimDuration::from_mins(m);
    let partition = schedule
        .entries()
        .iter()
        .find(|e| matches!(e.fault, Fault::Partition { .. }))
        .unwrap();
    assert_eq!(partition.at, at(5));
    let Fault::Partition { groups } = &partition.fault else {
        unreachable!()
    };
    assert_eq!(groups[0].len(), 10 + 15 + 1);
    assert!(
        schedule
            .entries()
            .iter()
            .any(|e| e.at == at(6) && e.fault == Fault::Heal)
    );
    let heal_point: Vec<_> = schedule
        .entries()
        .iter()
        .filter(|e| e.at == at(10))
        .collect();
    assert!(
        heal_point.len() >= 6,
        "the heal phase starts at the end of the duration"
    );
    // Sleepers and mobiles have outages; the schedule differs by seed, not by variant.
    assert!(
        schedule
            .entries()
            .iter()
            .any(|e| matches!(e.fault, Fault::Sleep { .. }))
    );
    assert!(
        schedule
            .entries()
            .iter()
            .any(|e| matches!(e.fault, Fault::Offline { .. }))
    );
    assert_ne!(schedule, s.fault_schedule(2));
    assert!(schedule.entries().windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(s.relay_nodes().len(), 60);
    assert_eq!(s.class_links().len(), 5 * 6 / 2);
}

/// Deterministically mangled built-ins must give errors or scenarios, never panics.
#[test]
fn mangled_input_never_panics() {
    let mut rng = SimRng::from_seed(2024);
    let junk = [
        "\"",
        "=",
        "[",
        "]",
        "{",
        "}",
        ",",
        "-1",
        "0",
        "1e400",
        "nan",
        "\n",
        "[[group]]\n",
        "x",
        "..",
        "%",
        "é",
    ];
    let mut outcomes = (0, 0);
    for (name, text) in builtin::all() {
        for _ in 0..60 {
            let mut bytes: Vec<char> = text.chars().collect();
            for _ in 0..1 + rng.index(3) {
                let at = rng.index(bytes.len());
                match rng.index(3) {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => {
                        let j = junk[rng.index(junk.len())];
                        for (k, c) in j.chars().enumerate() {
                            bytes.insert(at + k, c);
                        }
                    }
                    _ => bytes.truncate(at),
                }
            }
            let mangled: String = bytes.into_iter().collect();
            match std::panic::catch_unwind(|| parse_str(name, &mangled)) {
                Ok(Ok(_)) => outcomes.0 += 1,
                Ok(Err(e)) => {
                    outcomes.1 += 1;
                    assert!(e.line >= 1 && e.column >= 1, "{e}");
                }
                Err(_) => panic!("panicked on mangled {name}:\n{mangled}"),
            }
        }
    }
    assert!(
        outcomes.1 > outcomes.0,
        "most mangles are errors: {outcomes:?}"
    );
}

/// The annotated example in docs/scenario-format.md is a valid scenario.
#[test]
fn documented_example_parses() {
    let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenario-format.md");
    let text = std::fs::read_to_string(doc).expect("docs/scenario-format.md");
    let example = text
        .split("## Annotated example")
        .nth(1)
        .and_then(|rest| rest.split("```toml\n").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("an annotated toml block");
    let s = parse_str("scenario-format.md", example).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.runs().len(), 6);
    assert_eq!(s.relay_nodes().len(), 42);
    assert_eq!(s.bandwidth_schedule()[0].up_bytes_per_s, 125);
}

#[test]
fn reliability_parameters_can_be_set_and_swept() {
    use waku::node::Implementation;
    // A sweep over a protocol table the file does not have: each point gets its value.
    let text = format!(
        "{}\n[sweep]\n\"reliability.store_check.check_interval\" = [\"1s\", \"9s\"]\n",
        default_text()
    );
    let s = parse_str("sweep.toml", &text).unwrap();
    let runs = s.runs();
    let last = s.for_run(runs.last().unwrap()).unwrap();
    let config = scenarios::tuning::config_for(&last.reliability, Implementation::Nwaku);
    assert_eq!(config.store_check.check_interval, SimDuration::from_secs(9));
    // Untouched fields keep the node's implementation preset.
    assert_eq!(
        config.store_check.give_up_after,
        reliability::store_check::StoreCheckConfig::nwaku().give_up_after
    );
    let go = scenarios::tuning::config_for(&last.reliability, Implementation::GoWaku);
    assert_eq!(
        go.store_check.republish_as,
        reliability::store_check::RepublishAs::NewMessage
    );

    // `--set` creates the table and a preset applies to every implementation.
    let set = apply_overrides(
        default_text(),
        &[("reliability.light_client.preset", "logos-delivery")],
    )
    .unwrap();
    let s = parse_str("set.toml", &set).unwrap();
    let js = scenarios::tuning::config_for(&s.reliability, Implementation::JsWaku);
    assert_eq!(
        js.light_client,
        reliability::LightClientConfig::logos_delivery()
    );

    // A bad value is located at its --set and names the field.
    let bad = apply_overrides(default_text(), &[("reliability.mvds.epoch", "fast")]).unwrap();
    let err = parse_str("bad.toml", &bad).unwrap_err();
    assert_eq!(err.field, "reliability.mvds.epoch");
}
