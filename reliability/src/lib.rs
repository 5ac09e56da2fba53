//! reliability: what is measured — the application that drives traffic through Waku, and the
//! reliability protocols under test layered inside it.
//!
//! - [`app`]: [`TrafficApp`](app::TrafficApp), the application on every simulated node:
//!   sends the scenario's messages (relay, or lightpush for light clients), receives them
//!   (relay or filter push), and reports created / received / believed status to the oracle;
//! - [`variant`]: the registry of reliability variants a scenario can compare.

pub mod app;
pub mod variant;

pub use app::{Conversation, Send, TrafficApp, TrafficConfig};
pub use variant::{KNOWN_VARIANTS, Variant};
