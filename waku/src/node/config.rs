//! What a simulated Waku node is: its roles, the implementation it imitates, its topics, and
//! the configuration of every protocol machine it runs, with presets per implementation.

use sim_core::NodeId as PeerId;

use crate::filter::{FilterClientConfig, FilterServiceConfig};
use crate::lightpush::{LightPushClientConfig, LightPushConfig};
use crate::peer_manager::{Capabilities, Directory, PeerManagerConfig, PeerRecord};
use crate::relay::RelayConfig;
use crate::sharding::RelayShard;
use crate::store::{StoreClientConfig, StoreConfig};

/// The protocols a node serves. A light client runs no relay and uses the services of others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    /// Runs relay (gossipsub).
    pub relay: bool,
    /// Serves store queries from its archive (needs relay to fill it).
    pub store: bool,
    /// Serves filter subscriptions (needs relay).
    pub filter: bool,
    /// Serves lightpush (needs relay).
    pub lightpush: bool,
    /// Answers peer-exchange queries.
    pub peer_exchange: bool,
}

impl Roles {
    /// A plain relay node.
    pub const RELAY: Roles = Roles {
        relay: true,
        store: false,
        filter: false,
        lightpush: false,
        peer_exchange: false,
    };

    /// A light client: no relay, no services.
    pub const LIGHT: Roles = Roles {
        relay: false,
        store: false,
        filter: false,
        lightpush: false,
        peer_exchange: false,
    };

    /// A service node: relay plus every service.
    pub const SERVICE: Roles = Roles {
        relay: true,
        store: true,
        filter: true,
        lightpush: true,
        peer_exchange: true,
    };

    /// True for a light client.
    pub fn is_light(&self) -> bool {
        !self.relay
    }

    /// The capabilities other nodes see (ENR `waku2` bits).
    pub fn capabilities(&self) -> Capabilities {
        let mut bits = 0;
        for (on, cap) in [
            (self.relay, Capabilities::RELAY),
            (self.store, Capabilities::STORE),
            (self.filter, Capabilities::FILTER),
            (self.lightpush, Capabilities::LIGHTPUSH),
            (self.peer_exchange, Capabilities::PEER_EXCHANGE),
        ] {
            if on {
                bits |= cap.bits();
            }
        }
        Capabilities::from_bits(bits)
    }

    /// Checks the combination; services need relay.
    pub fn validate(&self) -> Result<(), String> {
        if !self.relay && (self.store || self.filter || self.lightpush) {
            return Err("store, filter and lightpush services need the relay role".into());
        }
        Ok(())
    }
}

/// The implementation a node imitates; selects the protocol presets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Implementation {
    /// nwaku (and logos-delivery).
    #[default]
    Nwaku,
    /// go-waku (status-go).
    GoWaku,
    /// js-waku (browser light clients).
    JsWaku,
}

impl Implementation {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Nwaku => "nwaku",
            Implementation::GoWaku => "go-waku",
            Implementation::JsWaku => "js-waku",
        }
    }
}

/// The cluster simulated nodes belong to (The Waku Network's, so autosharding works).
pub const SIM_CLUSTER_ID: u16 = 1;

/// Everything needed to build a [`WakuNode`](super::WakuNode).
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Served protocols.
    pub roles: Roles,
    /// Imitated implementation (informational once the configs below are set).
    pub implementation: Implementation,
    /// Pubsub topics a relay node subscribes to at start.
    pub pubsub_topics: Vec<String>,
    /// Peers dialled at start and kept as static peers (the scenario's topology edges this
    /// node dials, or a light client's service nodes).
    pub static_peers: Vec<PeerId>,
    /// Relay parameters.
    pub relay: RelayConfig,
    /// Store service parameters.
    pub store: StoreConfig,
    /// Store client parameters.
    pub store_client: StoreClientConfig,
    /// Filter service parameters.
    pub filter_service: FilterServiceConfig,
    /// Filter client parameters.
    pub filter_client: FilterClientConfig,
    /// Lightpush service parameters.
    pub lightpush: LightPushConfig,
    /// Lightpush client parameters.
    pub lightpush_client: LightPushClientConfig,
    /// Peer manager parameters.
    pub peer_manager: PeerManagerConfig,
}

impl NodeConfig {
    /// The presets of `implementation` for a node with `roles` on the default pubsub topic.
    pub fn preset(implementation: Implementation, roles: Roles) -> NodeConfig {
        let (relay, peer_manager, filter_client, lightpush_client) = match implementation {
            Implementation::Nwaku => (
                RelayConfig::nwaku(),
                PeerManagerConfig::nwaku(),
                crate::filter::FilterConfig::nwaku().client,
                LightPushClientConfig::nwaku(),
            ),
            Implementation::GoWaku => (
                RelayConfig::go_waku(),
                PeerManagerConfig::go_waku(),
                crate::filter::FilterConfig::go_waku().client,
                LightPushClientConfig::go_waku(),
            ),
            Implementation::JsWaku => (
                RelayConfig::nwaku(),
                PeerManagerConfig::go_waku(),
                crate::filter::FilterConfig::js_waku().client,
                LightPushClientConfig::nwaku(),
            ),
        };
        let filter_service = match implementation {
            Implementation::GoWaku => FilterServiceConfig::go_waku(),
            _ => FilterServiceConfig::nwaku(),
        };
        let shard = RelayShard::new(SIM_CLUSTER_ID, 0);
        let mut peer_manager = peer_manager;
        peer_manager.relay = roles.relay;
        peer_manager.cluster_id = shard.cluster_id;
        peer_manager.shards = vec![shard.shard_id];
        NodeConfig {
            roles,
            implementation,
            pubsub_topics: vec![shard.pubsub_topic()],
            static_peers: Vec::new(),
            relay,
            store: StoreConfig::nwaku(),
            store_client: StoreClientConfig::default(),
            filter_service,
            filter_client,
            lightpush: LightPushConfig::nwaku(),
            lightpush_client,
            peer_manager,
        }
    }
}

/// The discovery directory for nodes `0..configs.len()` with these configurations.
pub fn directory_for(configs: &[NodeConfig]) -> Directory {
    let records = configs.iter().enumerate().map(|(i, config)| {
        PeerRecord::new(
            PeerId(i as u32),
            config.roles.capabilities(),
            config.peer_manager.cluster_id,
            config.peer_manager.shards.iter().copied(),
        )
        .expect("valid shard list")
    });
    Directory::new(records).expect("distinct node ids")
}
