//! [`ReliabilityConfig`]: the parameters of every reliability protocol on one node.
//!
//! A node starts from the presets of its implementation ([`ReliabilityConfig::for_implementation`]:
//! an nwaku node runs nwaku's store check, a go-waku node go-waku's, a js-waku light client
//! js-waku's SDK policy), then a scenario's `[reliability.<protocol>]` tables replace the
//! preset by name and override single fields ([`ReliabilityConfig::PROTOCOLS`] lists the
//! tables and [`preset_names`] the presets each allows). Field names are the config structs'
//! own: [`StoreCheckConfig`], [`MvdsConfig`], [`LightClientConfig`], [`SdsConfig`],
//! [`SdsGlueConfig`].

use sim_core::SimDuration;
use waku::node::Implementation;

use crate::light_client::LightClientConfig;
use crate::mvds::MvdsConfig;
use crate::sds::SdsConfig;
use crate::sds_glue::SdsGlueConfig;
use crate::store_check::StoreCheckConfig;

/// Parameters of every reliability protocol (presets plus overrides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReliabilityConfig {
    /// Store-based p2p reliability (default: [`StoreCheckConfig::go_waku`]).
    pub store_check: StoreCheckConfig,
    /// MVDS (default: [`MvdsConfig::status_go`]).
    pub mvds: MvdsConfig,
    /// A payload from a peer not heard from for this long (or never since the process
    /// started) is a peer-online event for MVDS (the reference does not say what raises the
    /// event in status-go; this is the simulator's trigger).
    pub mvds_peer_silence: SimDuration,
    /// Light-client reliability (default: [`LightClientConfig::js_waku`]).
    pub light_client: LightClientConfig,
    /// SDS, the same for every node of a run (default: [`SdsConfig::spec`]; the variant
    /// decides whether SDS-R is on).
    pub sds: SdsConfig,
    /// Store lookups of SDS's missing dependencies (default: js-waku's).
    pub sds_retrieval: SdsGlueConfig,
}

impl Default for ReliabilityConfig {
    fn default() -> Self {
        Self {
            store_check: StoreCheckConfig::go_waku(),
            mvds: MvdsConfig::status_go(),
            mvds_peer_silence: SimDuration::from_mins(1),
            light_client: LightClientConfig::js_waku(),
            sds: SdsConfig::spec(),
            sds_retrieval: SdsGlueConfig::default(),
        }
    }
}

/// One protocol's parameters as a scenario names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `[reliability.store_check]`.
    StoreCheck,
    /// `[reliability.mvds]`.
    Mvds,
    /// `[reliability.light_client]`.
    LightClient,
    /// `[reliability.sds]`.
    Sds,
    /// `[reliability.sds_retrieval]`.
    SdsRetrieval,
}

impl Protocol {
    /// The table name in a scenario.
    pub fn key(self) -> &'static str {
        match self {
            Protocol::StoreCheck => "store_check",
            Protocol::Mvds => "mvds",
            Protocol::LightClient => "light_client",
            Protocol::Sds => "sds",
            Protocol::SdsRetrieval => "sds_retrieval",
        }
    }

    /// The protocol whose table is named `key`.
    pub fn from_key(key: &str) -> Option<Protocol> {
        ReliabilityConfig::PROTOCOLS
            .iter()
            .copied()
            .find(|p| p.key() == key)
    }
}

/// The preset names `protocol` accepts, in documentation order.
pub fn preset_names(protocol: Protocol) -> &'static [&'static str] {
    match protocol {
        Protocol::StoreCheck => &["go-waku", "nwaku", "logos-delivery"],
        Protocol::Mvds => &["status-go"],
        Protocol::LightClient => &["js-waku", "go-waku", "logos-delivery", "spec"],
        Protocol::Sds => SdsConfig::PRESETS,
        Protocol::SdsRetrieval => &["js-waku"],
    }
}

impl ReliabilityConfig {
    /// The protocols a scenario may tune, in documentation order.
    pub const PROTOCOLS: &'static [Protocol] = &[
        Protocol::StoreCheck,
        Protocol::Mvds,
        Protocol::LightClient,
        Protocol::Sds,
        Protocol::SdsRetrieval,
    ];

    /// The presets of `implementation`: nwaku ⇒ nwaku's store check and logos-delivery's
    /// edge policy (nwaku's successor; nwaku itself has no light-client reliability);
    /// go-waku ⇒ go-waku / status-go for both; js-waku ⇒ the js-waku SDK (and go-waku's
    /// store check, which only relay nodes run). MVDS is status-go's everywhere; SDS is the
    /// spec's everywhere (a channel's participants must share a wire format, and the
    /// implementations' presets differ in it).
    pub fn for_implementation(implementation: Implementation) -> Self {
        let (store_check, light_client) = match implementation {
            Implementation::Nwaku => (
                StoreCheckConfig::nwaku(),
                LightClientConfig::logos_delivery(),
            ),
            Implementation::GoWaku => (StoreCheckConfig::go_waku(), LightClientConfig::go_waku()),
            Implementation::JsWaku => (StoreCheckConfig::go_waku(), LightClientConfig::js_waku()),
        };
        Self {
            store_check,
            light_client,
            ..Self::default()
        }
    }

    /// Replaces `protocol`'s parameters by its preset `name`; false if there is no such
    /// preset (see [`preset_names`]).
    pub fn set_preset(&mut self, protocol: Protocol, name: &str) -> bool {
        match protocol {
            Protocol::StoreCheck => StoreCheckConfig::preset(name).map(|c| self.store_check = c),
            Protocol::Mvds => MvdsConfig::preset(name).map(|c| self.mvds = c),
            Protocol::LightClient => LightClientConfig::preset(name).map(|c| self.light_client = c),
            Protocol::Sds => SdsConfig::preset(name).map(|c| self.sds = c),
            Protocol::SdsRetrieval => {
                (name == "js-waku").then(|| self.sds_retrieval = SdsGlueConfig::default())
            }
        }
        .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_preset_exists_and_unknown_ones_do_not() {
        for &protocol in ReliabilityConfig::PROTOCOLS {
            assert_eq!(Protocol::from_key(protocol.key()), Some(protocol));
            for name in preset_names(protocol) {
                let mut config = ReliabilityConfig::default();
                assert!(config.set_preset(protocol, name), "{protocol:?} {name}");
            }
            assert!(!ReliabilityConfig::default().set_preset(protocol, "nope"));
        }
    }

    #[test]
    fn implementations_get_their_own_presets() {
        let nwaku = ReliabilityConfig::for_implementation(Implementation::Nwaku);
        assert_eq!(nwaku.store_check, StoreCheckConfig::nwaku());
        let js = ReliabilityConfig::for_implementation(Implementation::JsWaku);
        assert_eq!(js.light_client, LightClientConfig::js_waku());
        let go = ReliabilityConfig::for_implementation(Implementation::GoWaku);
        assert_eq!(go.light_client, LightClientConfig::go_waku());
        assert_ne!(nwaku.store_check, go.store_check);
    }
}
