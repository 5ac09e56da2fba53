//! libp2p protocol IDs of the Waku protocols (nwaku `waku/waku_core/codecs.nim`), in one place,
//! and [`Protocol`], the enum the simulator uses to tag streams and account bytes per protocol.

/// Waku relay: gossipsub with Waku's own protocol ID.
pub const RELAY: &str = "/vac/waku/relay/2.0.0";
/// Store v3 query.
pub const STORE_QUERY_V3: &str = "/vac/waku/store-query/3.0.0";
/// Legacy store v2 (mounted by nwaku only with `--legacy-store`).
pub const STORE_LEGACY_V2: &str = "/vac/waku/store/2.0.0-beta4";
/// Filter v2 subscribe (client → service, request/response).
pub const FILTER_SUBSCRIBE: &str = "/vac/waku/filter-subscribe/2.0.0-beta1";
/// Filter v2 push (service → client, one-way).
pub const FILTER_PUSH: &str = "/vac/waku/filter-push/2.0.0-beta1";
/// Lightpush v3.
pub const LIGHTPUSH_V3: &str = "/vac/waku/lightpush/3.0.0";
/// Legacy lightpush v2 (the only lightpush go-waku implements).
pub const LIGHTPUSH_V2: &str = "/vac/waku/lightpush/2.0.0-beta1";
/// Peer exchange.
pub const PEER_EXCHANGE: &str = "/vac/waku/peer-exchange/2.0.0-alpha1";
/// Metadata (cluster and shards, exchanged on every new connection).
pub const METADATA: &str = "/vac/waku/metadata/1.0.0";
/// libp2p ping, used for keep-alive.
pub const PING: &str = "/ipfs/ping/1.0.0";

/// Plain gossipsub IDs that nwaku also advertises after [`RELAY`].
pub const MESHSUB_V1_2: &str = "/meshsub/1.2.0";
/// Gossipsub v1.1.
pub const MESHSUB_V1_1: &str = "/meshsub/1.1.0";
/// Gossipsub v1.0.
pub const MESHSUB_V1_0: &str = "/meshsub/1.0.0";

/// A Waku protocol (one per protocol ID above, legacy store excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// [`RELAY`].
    Relay,
    /// [`STORE_QUERY_V3`].
    StoreQuery,
    /// [`FILTER_SUBSCRIBE`].
    FilterSubscribe,
    /// [`FILTER_PUSH`].
    FilterPush,
    /// [`LIGHTPUSH_V3`].
    LightpushV3,
    /// [`LIGHTPUSH_V2`].
    LightpushV2,
    /// [`PEER_EXCHANGE`].
    PeerExchange,
    /// [`METADATA`].
    Metadata,
    /// [`PING`].
    Ping,
}

impl Protocol {
    /// Every protocol, in declaration order.
    pub const ALL: [Self; 9] = [
        Self::Relay,
        Self::StoreQuery,
        Self::FilterSubscribe,
        Self::FilterPush,
        Self::LightpushV3,
        Self::LightpushV2,
        Self::PeerExchange,
        Self::Metadata,
        Self::Ping,
    ];

    /// The libp2p protocol ID.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Relay => RELAY,
            Self::StoreQuery => STORE_QUERY_V3,
            Self::FilterSubscribe => FILTER_SUBSCRIBE,
            Self::FilterPush => FILTER_PUSH,
            Self::LightpushV3 => LIGHTPUSH_V3,
            Self::LightpushV2 => LIGHTPUSH_V2,
            Self::PeerExchange => PEER_EXCHANGE,
            Self::Metadata => METADATA,
            Self::Ping => PING,
        }
    }

    /// A short stable name for reports (`relay`, `store`, `filter_subscribe`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Relay => "relay",
            Self::StoreQuery => "store",
            Self::FilterSubscribe => "filter_subscribe",
            Self::FilterPush => "filter_push",
            Self::LightpushV3 => "lightpush_v3",
            Self::LightpushV2 => "lightpush_v2",
            Self::PeerExchange => "peer_exchange",
            Self::Metadata => "metadata",
            Self::Ping => "ping",
        }
    }

    /// The protocol whose ID is exactly `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.id() == id)
    }

    /// The protocol a handler would accept `proposed` for: nwaku and go-waku mount handlers with
    /// a prefix matcher (`proposed.starts_with(id)`), so a longer ID with the same prefix is
    /// accepted too.
    pub fn match_prefix(proposed: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .filter(|p| proposed.starts_with(p.id()))
            .max_by_key(|p| p.id().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_round_trip() {
        for p in Protocol::ALL {
            assert_eq!(Protocol::from_id(p.id()), Some(p));
            assert_eq!(Protocol::match_prefix(p.id()), Some(p));
            assert_eq!(Protocol::ALL.iter().filter(|q| q.id() == p.id()).count(), 1);
            assert_eq!(
                Protocol::ALL
                    .iter()
                    .filter(|q| q.name() == p.name())
                    .count(),
                1
            );
        }
        assert_eq!(Protocol::from_id("/vac/waku/store/2.0.0-beta4"), None);
        assert_eq!(Protocol::from_id(MESHSUB_V1_1), None);
    }

    #[test]
    fn prefix_matching_like_nwaku() {
        assert_eq!(
            Protocol::match_prefix("/vac/waku/lightpush/3.0.0/extra"),
            Some(Protocol::LightpushV3)
        );
        assert_eq!(Protocol::match_prefix("/vac/waku/lightpush/"), None);
        assert_eq!(
            Protocol::match_prefix("/vac/waku/filter-push/2.0.0-beta1"),
            Some(Protocol::FilterPush)
        );
    }
}
