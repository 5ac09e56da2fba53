//! Property: for random archives, filters, page sizes and both presets, walking the pages
//! forward or backward yields exactly the brute-force ordered result, each page within the
//! page size, and no entry twice.

use proptest::prelude::*;

use super::*;

/// (pubsub index, content index, timestamp offset in ms, tag) of each message.
fn archive_strategy() -> impl Strategy<Value = Vec<(u8, u8, i64, u32)>> {
    prop::collection::vec((0u8..2, 0u8..3, -15_000i64..15_000, any::<u32>()), 0..120)
}

const PUBSUBS: [&str; 2] = [PUBSUB, OTHER_PUBSUB];
const CONTENTS: [&str; 3] = [CT_A, CT_B, "/app/1/c/proto"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn pages_concatenate_to_the_full_ordered_result(
        spec in archive_strategy(),
        page_size in 1u64..25,
        forward in any::<bool>(),
        nwaku in any::<bool>(),
        filtered in any::<bool>(),
        topic_mask in 1u8..8,
        pubsub_idx in 0usize..2,
        time_start in prop::option::of(-16i64..16),
        time_len in prop::option::of(0i64..32),
    ) {
        let config = if nwaku { StoreConfig::nwaku() } else { StoreConfig::spec() };
        let inclusive = config.time_end_inclusive;
        let msgs: Vec<(&str, WakuMessage)> = spec
            .iter()
            .map(|&(p, c, ms, tag)| {
                // Coarse timestamps (1 s grid) so that ties are common.
                (PUBSUBS[p as usize], msg(CONTENTS[c as usize], (ms / 1000) * 1_000_000_000, tag))
            })
            .collect();
        let mut svc = StoreService::new(config, t0()).unwrap();
        for (p, m) in &msgs {
            svc.handle_message(t0(), p, m).unwrap();
        }
        let topics: Vec<String> = CONTENTS
            .iter()
            .enumerate()
            .filter(|(i, _)| topic_mask & (1 << i) != 0)
            .map(|(_, t)| t.to_string())
            .collect();
        let base = T0_NS as i64;
        // Bounds on the same 1 s grid as the timestamps, so that they often hit a message.
        let start = time_start.map(|t| base + t * 1_000_000_000);
        let end = time_len.map(|len| start.unwrap_or(base - 16_000_000_000) + len * 1_000_000_000);
        let req = StoreQueryRequest {
            include_data: false,
            pubsub_topic: filtered.then(|| PUBSUBS[pubsub_idx].to_string()),
            content_topics: if filtered { topics.clone() } else { Vec::new() },
            time_start: start,
            time_end: end,
            pagination_forward: forward,
            pagination_limit: Some(page_size),
            ..request("prop")
        };
        let want = expected(&svc, |p, m, _| {
            let ts = m.timestamp();
            (!filtered || (p == PUBSUBS[pubsub_idx] && topics.contains(&m.content_topic)))
                && start.is_none_or(|s| ts >= s)
                && end.is_none_or(|e| if inclusive { ts <= e } else { ts < e })
        });

        let mut req_i = req.clone();
        let mut got: Vec<MessageHash> = Vec::new();
        let mut pages = 0usize;
        loop {
            let resp = svc.handle_query(t0(), CLIENT, &req_i);
            prop_assert_eq!(resp.status_code, Some(status::SUCCESS));
            let page = hashes_of(&resp);
            prop_assert!(page.len() as u64 <= page_size);
            pages += 1;
            if forward { got.extend(page) } else { got.splice(0..0, page); }
            match resp.pagination_cursor {
                // A cursor promises more: the next page is not empty.
                Some(c) => req_i.pagination_cursor = Some(c),
                None => break,
            }
            prop_assert!(pages <= want.len() + 1);
        }
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(pages, want.len().div_ceil(page_size as usize).max(1));
        // The same set through a hash lookup (a mixed query only nwaku accepts, so look the
        // hashes up alone, in chunks of at most 100).
        for chunk in want.chunks(100) {
            let lookup = StoreQueryRequest {
                message_hashes: chunk.iter().map(|h| h.to_bytes()).collect(),
                pagination_forward: forward,
                pagination_limit: Some(page_size),
                ..request("lookup")
            };
            let (found, _) = walk(&mut svc, &lookup);
            prop_assert_eq!(&found, &chunk.to_vec());
        }
    }
}
