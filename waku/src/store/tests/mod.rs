//! Store v3 tests, driven by hand: archive admission, bounds and retention; the query
//! service's pagination, limits, status codes and presets; the client's matching, timeouts and
//! pagination; and a property test that pages always add up to the full ordered result.

mod archive;
mod client;
mod pages_prop;
mod service;

use sim_core::{NodeId, SimDuration, SimTime};

use super::*;
use crate::message::MessageHash;
use crate::proto::{StoreQueryRequest, StoreQueryResponse, WakuMessage};

/// A realistic clock (2023-11-14), so that timestamps are positive and far from 0.
const T0_NS: u64 = 1_700_000_000_000_000_000;
const PUBSUB: &str = "/waku/2/rs/1/0";
const OTHER_PUBSUB: &str = "/waku/2/rs/1/1";
const CT_A: &str = "/app/1/a/proto";
const CT_B: &str = "/app/1/b/proto";
const CLIENT: NodeId = NodeId(7);

fn t0() -> SimTime {
    SimTime(T0_NS)
}

/// `t0 + offset_ms`.
fn at_ms(offset_ms: u64) -> SimTime {
    t0() + SimDuration::from_millis(offset_ms)
}

/// A message on `ct` stamped `t0 + ts_offset_ns` with a distinguishing payload.
fn msg(ct: &str, ts_offset_ns: i64, tag: u32) -> WakuMessage {
    WakuMessage::new(tag.to_be_bytes().to_vec(), ct).with_timestamp_ns(T0_NS as i64 + ts_offset_ns)
}

/// A service whose archive holds `msgs` (all stored at `t0`, within the drift window).
fn service_with(config: StoreConfig, msgs: &[(&str, WakuMessage)]) -> StoreService {
    let mut svc = StoreService::new(config, t0()).unwrap();
    for (pubsub, m) in msgs {
        assert!(matches!(
            svc.handle_message(t0(), pubsub, m),
            Ok(InsertOutcome::Stored { .. })
        ));
    }
    svc
}

/// `n` messages on [`PUBSUB`]: even tags on [`CT_A`], odd on [`CT_B`], timestamps spread
/// over ±10 s with every third pair sharing a timestamp (ties broken by hash).
fn mixed_messages(n: u32) -> Vec<(&'static str, WakuMessage)> {
    (0..n)
        .map(|i| {
            let ct = if i % 2 == 0 { CT_A } else { CT_B };
            let offset = (i64::from(i / 3) * 100_000_000) - 10_000_000_000;
            (PUBSUB, msg(ct, offset, i))
        })
        .collect()
}

fn request(id: &str) -> StoreQueryRequest {
    StoreQueryRequest {
        request_id: id.to_string(),
        ..StoreQueryRequest::default()
    }
}

fn hashes_of(resp: &StoreQueryResponse) -> Vec<MessageHash> {
    resp.messages
        .iter()
        .map(|kv| MessageHash::from_slice(kv.message_hash.as_ref().unwrap()).unwrap())
        .collect()
}

/// Every page of `req` from `svc`, walked with the response cursors, as one list in forward
/// order (backward pages are prepended), plus the page count.
fn walk(svc: &mut StoreService, req: &StoreQueryRequest) -> (Vec<MessageHash>, usize) {
    let mut req = req.clone();
    let mut all: Vec<MessageHash> = Vec::new();
    let mut pages = 0;
    loop {
        let resp = svc.handle_query(t0(), CLIENT, &req);
        assert_eq!(resp.status_code, Some(status::SUCCESS), "{resp:?}");
        assert_eq!(resp.request_id, req.request_id);
        pages += 1;
        let page = hashes_of(&resp);
        if req.pagination_forward {
            all.extend(page);
        } else {
            all.splice(0..0, page);
        }
        match resp.pagination_cursor {
            Some(cursor) => req.pagination_cursor = Some(cursor),
            None => return (all, pages),
        }
        assert!(pages < 10_000, "pagination does not terminate");
    }
}

/// The archive's full ordered result for a filter, by brute force.
fn expected(
    svc: &StoreService,
    keep: impl Fn(&str, &WakuMessage, MessageHash) -> bool,
) -> Vec<MessageHash> {
    svc.archive()
        .iter()
        .filter(|(key, stored)| keep(&stored.pubsub_topic, &stored.message, key.hash))
        .map(|(key, _)| key.hash)
        .collect()
}
