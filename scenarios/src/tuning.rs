//! `[reliability.<protocol>]`: a scenario's parameters for the reliability protocols.
//!
//! Each table names a protocol of [`ReliabilityConfig::PROTOCOLS`] (`store_check`, `mvds`,
//! `light_client`); inside it, `preset = "<name>"` replaces the node's implementation preset
//! (see [`ReliabilityConfig::for_implementation`]) and every other key overrides the field
//! of the same name in the protocol's config struct, with the struct's own types (durations
//! as strings with units). Validation applies every key to a preset and reports the first
//! key that does not fit at its own line; building a run then cannot fail.

use indexmap::IndexMap;
use reliability::ReliabilityConfig;
use reliability::config::{Protocol, preset_names};
use serde::Serialize;
use serde::de::DeserializeOwned;
use waku::node::Implementation;

use crate::error::Problem;
use crate::path;

/// The `[reliability]` tables of a scenario, in file order.
pub type Tuning = IndexMap<String, toml::Table>;

/// Checks every table and key of `tuning`.
pub(crate) fn check(tuning: &Tuning) -> Result<(), Problem> {
    let mut config = ReliabilityConfig::default();
    for (key, table) in tuning {
        let protocol = protocol_of(key)?;
        apply(&mut config, protocol, table).map_err(|p| p.under(&path!["reliability", key]))?;
    }
    Ok(())
}

/// The parameters of a node of `implementation` under `tuning` (already checked).
pub fn config_for(tuning: &Tuning, implementation: Implementation) -> ReliabilityConfig {
    let mut config = ReliabilityConfig::for_implementation(implementation);
    for (key, table) in tuning {
        let result = protocol_of(key).and_then(|p| apply(&mut config, p, table));
        assert!(result.is_ok(), "[reliability] was validated: {result:?}");
    }
    config
}

fn protocol_of(key: &str) -> Result<Protocol, Problem> {
    Protocol::from_key(key).ok_or_else(|| {
        let allowed: Vec<&str> = ReliabilityConfig::PROTOCOLS
            .iter()
            .map(|p| p.key())
            .collect();
        Problem::new(
            path!["reliability", key],
            format!(
                "unknown reliability protocol {key:?}; allowed: {}",
                allowed.join(", ")
            ),
        )
    })
}

/// Applies `preset` first, then every other key of `table`, to `protocol` in `config`.
fn apply(
    config: &mut ReliabilityConfig,
    protocol: Protocol,
    table: &toml::Table,
) -> Result<(), Problem> {
    if let Some(preset) = table.get("preset") {
        let names = preset_names(protocol);
        let ok = preset
            .as_str()
            .is_some_and(|name| config.set_preset(protocol, name));
        if !ok {
            return Err(Problem::new(
                path!["preset"],
                format!("unknown preset {preset}; allowed: {}", names.join(", ")),
            ));
        }
    }
    match protocol {
        Protocol::StoreCheck => override_fields(&mut config.store_check, table),
        Protocol::Mvds => override_fields(&mut config.mvds, table),
        Protocol::LightClient => override_fields(&mut config.light_client, table),
        Protocol::Sds => override_fields(&mut config.sds, table),
        Protocol::SdsRetrieval => override_fields(&mut config.sds_retrieval, table),
    }
}

/// Overrides the fields of `value` named in `table` (except `preset`), one key at a time so
/// an error names its key.
fn override_fields<T: Serialize + DeserializeOwned>(
    value: &mut T,
    table: &toml::Table,
) -> Result<(), Problem> {
    let mut fields = toml::Table::try_from(&*value).expect("reliability configs serialize to TOML");
    for (key, new) in table.iter().filter(|(k, _)| *k != "preset") {
        fields.insert(key.clone(), new.clone());
        *value = fields
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| Problem::new(path![key], clean(&e)))?;
    }
    Ok(())
}

/// A serde message without the TOML position (which points into the generated table).
fn clean(e: &toml::de::Error) -> String {
    let message = e.message().trim();
    if message.starts_with("unknown field") {
        format!("{message}, or `preset`")
    } else {
        message.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuning(text: &str) -> Tuning {
        toml::from_str(text).expect("test TOML")
    }

    #[test]
    fn presets_and_fields_override_the_implementation_defaults() {
        let t = tuning(
            "[store_check]\npreset = \"nwaku\"\ncheck_interval = \"7s\"\n\
             [light_client]\nfilter_ping_failures = 5\nretrieval_unused = 1\n",
        );
        let err = check(&t).unwrap_err();
        assert!(err.message.contains("unknown field"), "{}", err.message);
        let t = tuning(
            "[store_check]\npreset = \"nwaku\"\ncheck_interval = \"7s\"\n[light_client]\nfilter_ping_failures = 5\n",
        );
        check(&t).unwrap();
        let config = config_for(&t, Implementation::GoWaku);
        assert_eq!(config.store_check.check_interval.as_millis(), 7_000);
        assert_eq!(
            config.store_check.give_up_after,
            reliability::store_check::StoreCheckConfig::nwaku().give_up_after
        );
        assert_eq!(config.light_client.filter_ping_failures, 5);
        assert_eq!(
            config.light_client.retry_interval,
            reliability::LightClientConfig::go_waku().retry_interval
        );
    }

    #[test]
    fn errors_name_the_key_and_what_is_allowed() {
        let err = check(&tuning("[sds2]\nx = 1\n")).unwrap_err();
        assert!(
            err.message
                .contains("allowed: store_check, mvds, light_client")
        );
        let err = check(&tuning("[mvds]\npreset = \"nope\"\n")).unwrap_err();
        assert_eq!(crate::error::dotted(&err.path), "reliability.mvds.preset");
        assert!(err.message.contains("status-go"), "{}", err.message);
        let err = check(&tuning("[mvds]\nepoch = 3\n")).unwrap_err();
        assert_eq!(crate::error::dotted(&err.path), "reliability.mvds.epoch");
        let err = check(&tuning("[store_check]\nretrieval = \"sometimes\"\n")).unwrap_err();
        assert_eq!(
            crate::error::dotted(&err.path),
            "reliability.store_check.retrieval"
        );
    }

    #[test]
    fn enum_and_optional_fields_are_settable() {
        let t = tuning(
            "[store_check]\nretrieval = { periodic = { period = \"2m\" } }\ngive_up_after = \"90s\"\nselection = \"per_query\"\n",
        );
        check(&t).unwrap();
        let config = config_for(&t, Implementation::GoWaku);
        assert_eq!(
            config.store_check.retrieval,
            reliability::store_check::Retrieval::Periodic {
                period: sim_core::SimDuration::from_mins(2)
            }
        );
        assert_eq!(
            config.store_check.give_up_after,
            Some(sim_core::SimDuration::from_secs(90))
        );
    }

    #[test]
    fn the_documented_sds_tables_apply() {
        // The example in docs/scenario-format.md.
        let t = tuning(
            "[sds]\npreset = \"spec\"\ncausal_history_length = 10\nbloom_capacity = 1000\n\
             bloom_error_rate_ppm = 10000\nsync = { randomized = { interval = \"30s\" } }\n\
             [sds_retrieval]\nretrieval_interval = \"10s\"\n",
        );
        check(&t).unwrap();
        let config = config_for(&t, Implementation::JsWaku);
        assert_eq!(config.sds.causal_history_length, 10);
        assert_eq!(config.sds.bloom_capacity, 1000);
        assert_eq!(
            config.sds.lamport,
            reliability::sds::SdsConfig::spec().lamport
        );
        let err = check(&tuning("[sds]\npreset = \"go-waku\"\n")).unwrap_err();
        assert!(
            err.message
                .contains("spec, js-waku, nim-sds, logos-delivery"),
            "{}",
            err.message
        );
    }
}
