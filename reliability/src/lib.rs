//! reliability: what is measured — the application that drives traffic through Waku, and the
//! reliability protocols under test layered inside it.
//!
//! - [`app`]: [`TrafficApp`], the application on every simulated node:
//!   sends the scenario's messages (relay, or lightpush for light clients), receives them
//!   (relay or filter push), and reports created / received / believed status to the oracle;
//! - [`store_check`]: store-based p2p reliability for relay nodes (presence checks and
//!   re-publish; missing-message retrieval over time windows) as a sans-IO machine, with the
//!   go-waku / status-go, nwaku and logos-delivery presets;
//! - [`mvds`]: MVDS batch mode (epochs, exponential backoff, ACKs) as a sans-IO machine, and
//!   its wire format;
//! - [`sds`]: SDS (Lamport clocks, causal history, bloom-filter acks, sync messages,
//!   incoming and outgoing buffers) with SDS-R repair as a sans-IO machine, both wire
//!   numberings (spec / js-waku and nim-sds), and the spec, js-waku, nim-sds and
//!   logos-delivery presets;
//! - [`layer`]: the glue that runs those machines inside the traffic application for the
//!   variants other than `none`;
//! - [`light_client`]: light-client reliability (redundant lightpush with retries, redundant
//!   filter subscriptions with eviction, store queries over offline gaps) as a sans-IO
//!   machine with the js-waku, go-waku, logos-delivery and spec presets; [`light_glue`] wires
//!   it to a light node;
//! - [`config`]: [`ReliabilityConfig`], every protocol's parameters for one node, chosen
//!   by the node's implementation and then overridden by the scenario;
//! - [`variant`]: the registry of reliability variants a scenario can compare.

pub mod app;
pub mod config;
pub mod layer;
pub mod light_client;
pub mod light_glue;
pub mod mvds;
pub mod sds;
pub mod sds_glue;
pub mod store_check;
pub mod variant;

pub use app::{Conversation, Send, TrafficApp, TrafficConfig};
pub use config::ReliabilityConfig;
pub use light_client::LightClientConfig;
pub use variant::{KNOWN_VARIANTS, Variant};
