//! The reliability variants a scenario can compare on the same seeds and faults.

/// Every variant name a scenario may list, in the order reports show them.
pub const KNOWN_VARIANTS: &[&str] = &[
    "none",
    "store-check",
    "light-client",
    "mvds",
    "mvds+store-check",
    "sds",
    "sds+repair",
    "sds+light-client",
];

/// A reliability strategy layered on the plain Waku protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// Plain Waku: relay (or lightpush + filter for light clients), no retries, no store use.
    None,
    /// Store-based p2p reliability on relay nodes ([`crate::store_check`]): presence checks
    /// and re-publish for sent messages, missing-message retrieval for received ones. Light
    /// clients behave as in `None`.
    StoreCheck,
    /// Light-client reliability ([`crate::light_client`]): lightpush to several service nodes
    /// with retries, redundant filter subscriptions with eviction and replacement, store
    /// queries over offline gaps. Relay nodes behave as in `None`.
    LightClient,
    /// MVDS batch mode ([`crate::mvds`]) end to end, over relay or lightpush + filter.
    Mvds,
    /// MVDS over store-based p2p reliability (relay nodes; light clients run MVDS alone), as
    /// status-go runs 1:1 chats on desktop.
    MvdsStoreCheck,
    /// SDS ([`crate::sds`]) end to end in every conversation, over relay or lightpush +
    /// filter, without SDS-R; missing dependencies are looked up on a store by hint.
    Sds,
    /// SDS with the SDS-R repair extension.
    SdsRepair,
    /// SDS over light-client reliability: light clients run the `light-client` machine
    /// beneath SDS (relay nodes run SDS alone).
    SdsLightClient,
}

impl Variant {
    /// The variant named `name`, if it exists.
    pub fn parse(name: &str) -> Option<Variant> {
        match name {
            "none" => Some(Variant::None),
            "store-check" => Some(Variant::StoreCheck),
            "light-client" => Some(Variant::LightClient),
            "mvds" => Some(Variant::Mvds),
            "mvds+store-check" => Some(Variant::MvdsStoreCheck),
            "sds" => Some(Variant::Sds),
            "sds+repair" => Some(Variant::SdsRepair),
            "sds+light-client" => Some(Variant::SdsLightClient),
            _ => None,
        }
    }

    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Variant::None => "none",
            Variant::StoreCheck => "store-check",
            Variant::LightClient => "light-client",
            Variant::Mvds => "mvds",
            Variant::MvdsStoreCheck => "mvds+store-check",
            Variant::Sds => "sds",
            Variant::SdsRepair => "sds+repair",
            Variant::SdsLightClient => "sds+light-client",
        }
    }

    /// Whether relay nodes run store-based reliability.
    pub fn uses_store_check(self) -> bool {
        matches!(self, Variant::StoreCheck | Variant::MvdsStoreCheck)
    }

    /// Whether messages go through SDS.
    pub fn uses_sds(self) -> bool {
        matches!(
            self,
            Variant::Sds | Variant::SdsRepair | Variant::SdsLightClient
        )
    }

    /// Whether light clients run the light-client reliability machine.
    pub fn uses_light_client(self) -> bool {
        matches!(self, Variant::LightClient | Variant::SdsLightClient)
    }

    /// Whether messages go through MVDS.
    pub fn uses_mvds(self) -> bool {
        matches!(self, Variant::Mvds | Variant::MvdsStoreCheck)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_parses_and_round_trips() {
        for name in KNOWN_VARIANTS {
            let variant = Variant::parse(name).expect("known variant parses");
            assert_eq!(variant.name(), *name);
        }
        assert_eq!(Variant::parse("store-chek"), None);
    }
}
