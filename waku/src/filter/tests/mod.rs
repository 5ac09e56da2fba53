//! Hand-driven tests of the filter service and client (no network): requests, pushes and
//! time are fed in directly and the outputs inspected.

mod client;
mod service;

use sim_core::{NodeId, SimDuration, SimTime};

use crate::proto::{FilterSubscribeRequest, FilterSubscribeType, WakuMessage};

pub(super) const PUBSUB: &str = "/waku/2/rs/1/0";

pub(super) fn at(d: SimDuration) -> SimTime {
    SimTime::ZERO + d
}

pub(super) fn secs(s: u64) -> SimTime {
    at(SimDuration::from_secs(s))
}

pub(super) fn peer(n: u32) -> NodeId {
    NodeId(n)
}

pub(super) fn topics(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

pub(super) fn request(
    id: &str,
    kind: FilterSubscribeType,
    pubsub: Option<&str>,
    content: &[&str],
) -> FilterSubscribeRequest {
    FilterSubscribeRequest {
        request_id: id.to_owned(),
        filter_subscribe_type: kind as i32,
        pubsub_topic: pubsub.map(str::to_owned),
        content_topics: topics(content),
    }
}

pub(super) fn sub_req(content: &[&str]) -> FilterSubscribeRequest {
    request("r", FilterSubscribeType::Subscribe, Some(PUBSUB), content)
}

pub(super) fn ping_req() -> FilterSubscribeRequest {
    request("p", FilterSubscribeType::SubscriberPing, None, &[])
}

pub(super) fn msg(content_topic: &str, payload: &'static [u8]) -> WakuMessage {
    WakuMessage::new(payload, content_topic).with_timestamp_ns(1)
}
