//! Lightpush (`/vac/waku/lightpush/3.0.0`, with the legacy `/vac/waku/lightpush/2.0.0-beta1`
//! as a switch): a light client hands a message to a service node, which publishes it over
//! relay and answers with a status code and the number of relay peers reached.
//!
//! * [`service`]: [`LightPushService`], validation, topic resolution (autosharding), rate
//!   limiting and the response, handing the accepted message to the caller to publish;
//! * [`client`]: [`LightPushClient`], v3 or v2 requests, pending table with timeouts, response
//!   matching, one outcome for both versions;
//! * [`config`]: [`LightPushConfig`], [`LightPushClientConfig`] and [`LightPushCodes`] with
//!   `spec()` and `nwaku()` presets (NO_PEERS_TO_RELAY is 503 in the spec, 505 in nwaku).
//!
//! Machines are sans-IO: `now` and `&mut SimRng` come in; the client's wishes go out as
//! [`LightPushClientOutput`]s; the service returns its response and the message to publish.
//! The rate limiter is the store module's ([`crate::store::rate_limit`]).

pub mod client;
pub mod config;
pub mod service;

pub use client::{
    LightPushClient, LightPushClientError, LightPushClientOutput, LightPushFailure,
    LightPushWireRequest, LightPushWireResponse,
};
pub use config::{
    LightPushClientConfig, LightPushCodes, LightPushConfig, LightPushStatus, LightpushVersion,
    ShardingMode,
};
pub use service::{AcceptedPush, LightPushService, LightPushStats, PushRefusal};

#[cfg(test)]
mod tests;
