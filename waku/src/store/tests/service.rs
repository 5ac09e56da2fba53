//! Query service: pagination both ways, exclusive cursors, time ranges per preset, presence
//! and lookup queries, limits, status codes, request ids, rate limiting, retention timer.

use super::*;
use crate::codec::{decode_frame, encode_frame};
use crate::proto::Bytes;

fn content_request(id: &str, topics: &[&str]) -> StoreQueryRequest {
    StoreQueryRequest {
        include_data: true,
        pubsub_topic: Some(PUBSUB.to_string()),
        content_topics: topics.iter().map(|t| t.to_string()).collect(),
        ..request(id)
    }
}

#[test]
fn pages_concatenate_to_the_full_result_both_ways() {
    for config in [StoreConfig::nwaku(), StoreConfig::spec()] {
        let mut svc = service_with(config, &mixed_messages(57));
        let all = expected(&svc, |_, _, _| true);
        let only_a = expected(&svc, |_, m, _| m.content_topic == CT_A);
        assert_eq!(all.len(), 57);
        for forward in [true, false] {
            for page_size in [1u64, 2, 3, 7, 20, 56, 57, 58, 100] {
                let req = StoreQueryRequest {
                    pagination_forward: forward,
                    pagination_limit: Some(page_size),
                    ..content_request("q", &[CT_A, CT_B])
                };
                let (got, pages) = walk(&mut svc, &req);
                assert_eq!(got, all, "forward={forward} page_size={page_size}");
                assert_eq!(pages, 57usize.div_ceil(page_size as usize).max(1));
                let req = StoreQueryRequest {
                    content_topics: vec![CT_A.to_string()],
                    ..req
                };
                assert_eq!(walk(&mut svc, &req).0, only_a);
            }
        }
    }
}

#[test]
fn unfiltered_query_walks_everything_in_nwaku() {
    let mut msgs = mixed_messages(25);
    msgs.push((OTHER_PUBSUB, msg(CT_A, 5, 1000)));
    let mut svc = service_with(StoreConfig::nwaku(), &msgs);
    let all = expected(&svc, |_, _, _| true);
    for forward in [true, false] {
        let req = StoreQueryRequest {
            pagination_forward: forward,
            pagination_limit: Some(4),
            ..request("all")
        };
        assert_eq!(walk(&mut svc, &req).0, all);
    }
    // nwaku filters on a lone pubsub topic or lone content topics.
    let req = StoreQueryRequest {
        pubsub_topic: Some(OTHER_PUBSUB.to_string()),
        ..request("p")
    };
    assert_eq!(walk(&mut svc, &req).0.len(), 1);
    let req = StoreQueryRequest {
        content_topics: vec![CT_A.to_string()],
        pagination_limit: Some(3),
        ..request("c")
    };
    let want = expected(&svc, |_, m, _| m.content_topic == CT_A);
    assert_eq!(want.len(), 14);
    assert_eq!(walk(&mut svc, &req).0, want);
}

#[test]
fn responses_are_in_forward_order_with_the_spec_cursor() {
    let svc = service_with(StoreConfig::spec(), &mixed_messages(10));
    let all = expected(&svc, |_, _, _| true);
    let fwd = svc
        .query(&StoreQueryRequest {
            pagination_forward: true,
            pagination_limit: Some(4),
            ..content_request("f", &[CT_A, CT_B])
        })
        .unwrap();
    assert_eq!(hashes_of(&fwd), all[..4]);
    // Forward: the cursor is the last entry included.
    assert_eq!(fwd.pagination_cursor, Some(all[3].to_bytes()));
    let bwd = svc
        .query(&StoreQueryRequest {
            pagination_limit: Some(4),
            ..content_request("b", &[CT_A, CT_B])
        })
        .unwrap();
    // Backward (the default): the newest four, still ascending; cursor = first included.
    assert_eq!(hashes_of(&bwd), all[6..]);
    assert_eq!(bwd.pagination_cursor, Some(all[6].to_bytes()));
    // Data and pubsub topic are both present with include_data.
    assert!(
        bwd.messages
            .iter()
            .all(|kv| kv.message.is_some() && kv.pubsub_topic.as_deref() == Some(PUBSUB))
    );
    // The last page has no cursor.
    let last = svc
        .query(&StoreQueryRequest {
            pagination_limit: Some(10),
            ..content_request("l", &[CT_A, CT_B])
        })
        .unwrap();
    assert_eq!(last.pagination_cursor, None);
    assert_eq!(last.messages.len(), 10);
}

#[test]
fn cursors_are_exclusive() {
    let svc = service_with(StoreConfig::spec(), &mixed_messages(10));
    let all = expected(&svc, |_, _, _| true);
    let after = |cursor: MessageHash, forward: bool| {
        let resp = svc
            .query(&StoreQueryRequest {
                pagination_cursor: Some(cursor.to_bytes()),
                pagination_forward: forward,
                ..content_request("c", &[CT_A, CT_B])
            })
            .unwrap();
        hashes_of(&resp)
    };
    assert_eq!(after(all[4], true), all[5..]);
    assert_eq!(after(all[4], false), all[..4]);
    assert!(after(all[9], true).is_empty());
    assert!(after(all[0], false).is_empty());
    // The cursor need not match the filter, only exist.
    let only_a = expected(&svc, |_, m, _| m.content_topic == CT_A);
    let b_cursor = all.iter().find(|h| !only_a.contains(h)).copied().unwrap();
    let resp = svc
        .query(&StoreQueryRequest {
            pagination_cursor: Some(b_cursor.to_bytes()),
            pagination_forward: true,
            ..content_request("c", &[CT_A])
        })
        .unwrap();
    let pos = all.iter().position(|h| *h == b_cursor).unwrap();
    let want: Vec<_> = all[pos + 1..]
        .iter()
        .filter(|h| only_a.contains(h))
        .copied()
        .collect();
    assert_eq!(hashes_of(&resp), want);
}

#[test]
fn time_end_is_exclusive_in_spec_and_inclusive_in_nwaku() {
    let msgs: Vec<_> = (0..5)
        .map(|i| (PUBSUB, msg(CT_A, i64::from(i) * 1_000, i)))
        .collect();
    let base = T0_NS as i64;
    let req = StoreQueryRequest {
        time_start: Some(base + 1_000),
        time_end: Some(base + 3_000),
        pagination_forward: true,
        ..content_request("t", &[CT_A])
    };
    let spec = service_with(StoreConfig::spec(), &msgs);
    let got = spec.query(&req).unwrap();
    let stamps: Vec<i64> = got
        .messages
        .iter()
        .map(|kv| kv.message.as_ref().unwrap().timestamp() - base)
        .collect();
    assert_eq!(stamps, [1_000, 2_000], "start inclusive, end exclusive");
    let nwaku = service_with(StoreConfig::nwaku(), &msgs);
    let got = nwaku.query(&req).unwrap();
    let stamps: Vec<i64> = got
        .messages
        .iter()
        .map(|kv| kv.message.as_ref().unwrap().timestamp() - base)
        .collect();
    assert_eq!(stamps, [1_000, 2_000, 3_000], "nwaku: end inclusive");
    // An empty or inverted range is empty, not an error.
    for (start, end) in [(3_000, 3_000), (4_000, 1_000)] {
        let req = StoreQueryRequest {
            time_start: Some(base + start),
            time_end: Some(base + end),
            ..req.clone()
        };
        assert!(spec.query(&req).unwrap().messages.is_empty());
    }
    // Paging inside a time range, backward, with a cursor.
    let req = StoreQueryRequest {
        time_start: Some(base),
        time_end: Some(base + 4_000),
        pagination_limit: Some(1),
        pagination_forward: false,
        ..content_request("t", &[CT_A])
    };
    let mut spec = spec;
    let (got, pages) = walk(&mut spec, &req);
    assert_eq!(got.len(), 4);
    assert_eq!(pages, 4);
}

#[test]
fn presence_query_returns_only_present_hashes_without_data() {
    for config in [StoreConfig::nwaku(), StoreConfig::spec()] {
        let msgs = mixed_messages(6);
        let svc = service_with(config, &msgs);
        let present = [msgs[1].1.hash(PUBSUB), msgs[4].1.hash(PUBSUB)];
        let absent = msg(CT_A, 0, 999).hash(PUBSUB);
        let req = StoreQueryRequest {
            message_hashes: vec![
                present[1].to_bytes(),
                absent.to_bytes(),
                present[0].to_bytes(),
            ],
            ..request("presence")
        };
        let resp = svc.query(&req).unwrap();
        assert_eq!(resp.request_id, "presence");
        assert!(
            resp.messages
                .iter()
                .all(|kv| kv.message.is_none() && kv.pubsub_topic.is_none())
        );
        assert_eq!(
            response_hashes(&resp.messages),
            present.into_iter().collect()
        );
        // A lookup with data returns the messages.
        let resp = svc
            .query(&StoreQueryRequest {
                include_data: true,
                ..req
            })
            .unwrap();
        assert_eq!(resp.messages.len(), 2);
        for kv in &resp.messages {
            let m = kv.message.as_ref().unwrap();
            assert_eq!(
                Some(m.hash(kv.pubsub_topic.as_ref().unwrap()).to_bytes()),
                kv.message_hash
            );
        }
    }
}

#[test]
fn page_size_defaults_to_20_and_is_clamped_to_100() {
    let mut svc = service_with(StoreConfig::nwaku(), &mixed_messages(150));
    let count = |svc: &mut StoreService, limit: Option<u64>| {
        let req = StoreQueryRequest {
            pagination_limit: limit,
            ..content_request("p", &[CT_A, CT_B])
        };
        svc.handle_query(t0(), CLIENT, &req).messages.len()
    };
    assert_eq!(count(&mut svc, None), 20);
    assert_eq!(count(&mut svc, Some(0)), 20);
    assert_eq!(count(&mut svc, Some(5)), 5);
    assert_eq!(count(&mut svc, Some(100)), 100);
    assert_eq!(count(&mut svc, Some(101)), 100);
    assert_eq!(count(&mut svc, Some(u64::MAX)), 100);
    assert_eq!(svc.config().page_size(Some(1000)), 100);
}

fn topics(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("/app/1/t{i}/proto")).collect()
}

#[test]
fn content_topic_limit_per_preset() {
    let msgs = mixed_messages(4);
    let cursor = msgs[0].1.hash(PUBSUB).to_bytes();
    let eleven = StoreQueryRequest {
        pubsub_topic: Some(PUBSUB.to_string()),
        content_topics: topics(11),
        ..request("topics")
    };
    let with_cursor = StoreQueryRequest {
        pagination_cursor: Some(cursor),
        ..eleven.clone()
    };
    let mut spec = service_with(StoreConfig::spec(), &msgs);
    for req in [&eleven, &with_cursor] {
        let resp = spec.handle_query(t0(), CLIENT, req);
        assert_eq!(resp.status_code, Some(status::BAD_REQUEST));
        assert_eq!(resp.request_id, "topics", "spec echoes the id");
    }
    let ten = StoreQueryRequest {
        content_topics: topics(10),
        ..eleven.clone()
    };
    assert_eq!(
        spec.handle_query(t0(), CLIENT, &ten).status_code,
        Some(status::SUCCESS)
    );
    // nwaku only checks with a cursor, and answers 300 with an empty request id.
    let mut nwaku = service_with(StoreConfig::nwaku(), &msgs);
    assert_eq!(
        nwaku.handle_query(t0(), CLIENT, &eleven).status_code,
        Some(status::SUCCESS)
    );
    let resp = nwaku.handle_query(t0(), CLIENT, &with_cursor);
    assert_eq!(resp.status_code, Some(status::BAD_RESPONSE));
    assert_eq!(resp.request_id, "");
    assert!(
        resp.status_desc
            .unwrap()
            .contains("archive error: INVALID_QUERY: too many content topics")
    );
}

#[test]
fn more_than_100_hashes_is_refused() {
    let hashes = |n: u8| -> Vec<Bytes> { (0..n).map(|i| Bytes::from(vec![i + 1; 32])).collect() };
    for (config, code) in [
        (StoreConfig::spec(), status::BAD_REQUEST),
        (StoreConfig::nwaku(), status::BAD_RESPONSE),
    ] {
        let mut svc = service_with(config, &[]);
        let ok = StoreQueryRequest {
            message_hashes: hashes(100),
            ..request("h")
        };
        assert_eq!(
            svc.handle_query(t0(), CLIENT, &ok).status_code,
            Some(status::SUCCESS)
        );
        let too_many = StoreQueryRequest {
            message_hashes: hashes(101),
            ..request("h")
        };
        assert_eq!(
            svc.handle_query(t0(), CLIENT, &too_many).status_code,
            Some(code)
        );
        let bad_len = StoreQueryRequest {
            message_hashes: vec![Bytes::from(vec![1; 31])],
            ..request("h")
        };
        assert_eq!(
            svc.handle_query(t0(), CLIENT, &bad_len).status_code,
            Some(code)
        );
    }
}

#[test]
fn mixed_and_unpaired_criteria_per_preset() {
    let msgs = mixed_messages(6);
    let target = msgs[2].1.hash(PUBSUB); // on CT_A
    let mixed = StoreQueryRequest {
        message_hashes: vec![target.to_bytes()],
        ..content_request("m", &[CT_B])
    };
    let spec = service_with(StoreConfig::spec(), &msgs);
    assert_eq!(spec.query(&mixed), Err(StoreError::MixedQuery));
    let time_only = StoreQueryRequest {
        message_hashes: vec![target.to_bytes()],
        time_start: Some(0),
        ..request("m")
    };
    assert_eq!(spec.query(&time_only), Err(StoreError::MixedQuery));
    // nwaku ANDs hash and content criteria: CT_B excludes the CT_A message.
    let nwaku = service_with(StoreConfig::nwaku(), &msgs);
    assert!(nwaku.query(&mixed).unwrap().messages.is_empty());
    let mixed_a = StoreQueryRequest {
        content_topics: vec![CT_A.to_string()],
        ..mixed
    };
    assert_eq!(hashes_of(&nwaku.query(&mixed_a).unwrap()), [target]);

    let lone_pubsub = StoreQueryRequest {
        pubsub_topic: Some(PUBSUB.to_string()),
        ..request("u")
    };
    let lone_topics = StoreQueryRequest {
        content_topics: vec![CT_A.to_string()],
        ..request("u")
    };
    for req in [&lone_pubsub, &lone_topics] {
        assert_eq!(spec.query(req), Err(StoreError::UnpairedContentFilter));
        assert!(nwaku.query(req).is_ok());
    }
}

#[test]
fn malformed_requests_and_cursors() {
    let msgs = mixed_messages(3);
    let mut spec = service_with(StoreConfig::spec(), &msgs);
    let mut nwaku = service_with(StoreConfig::nwaku(), &msgs);
    // Missing request id: 400 in both (a decode error in nwaku).
    for svc in [&mut spec, &mut nwaku] {
        let resp = svc.handle_query(t0(), CLIENT, &content_request("", &[CT_A]));
        assert_eq!(resp.status_code, Some(status::BAD_REQUEST));
    }
    let unknown = msg(CT_A, 0, 4242).hash(PUBSUB);
    let cases = [
        (Bytes::from(vec![5; 31]), "invalid cursor hash length"),
        (MessageHash::ZERO.to_bytes(), "all zeroes cursor hash"),
        (unknown.to_bytes(), "cursor not found"),
    ];
    for (cursor, desc) in cases {
        let req = StoreQueryRequest {
            pagination_cursor: Some(cursor),
            ..content_request("cur", &[CT_A])
        };
        let resp = spec.handle_query(t0(), CLIENT, &req);
        assert_eq!(resp.status_code, Some(status::BAD_REQUEST));
        assert_eq!(resp.request_id, "cur");
        assert!(resp.status_desc.unwrap().contains(desc));
        let resp = nwaku.handle_query(t0(), CLIENT, &req);
        assert_eq!(resp.status_code, Some(status::BAD_RESPONSE));
        assert_eq!(resp.request_id, "");
        assert!(
            resp.status_desc
                .unwrap()
                .starts_with("BAD_RESPONSE: archive error")
        );
    }
    assert_eq!(spec.stats().queries_failed, 4);
}

#[test]
fn success_echoes_the_request_id_and_encodes() {
    let mut svc = service_with(StoreConfig::nwaku(), &mixed_messages(3));
    let req = content_request("abc123", &[CT_A, CT_B]);
    let resp = svc.handle_query(t0(), CLIENT, &req);
    assert_eq!(resp.request_id, "abc123");
    assert_eq!(resp.status_desc.as_deref(), Some("OK"));
    // Request and response survive the wire.
    let (decoded, _) = decode_frame::<StoreQueryRequest>(&encode_frame(&req)).unwrap();
    assert_eq!(decoded, req);
    let (decoded, _) = decode_frame::<StoreQueryResponse>(&encode_frame(&resp)).unwrap();
    assert_eq!(decoded, resp);
    assert_eq!(svc.stats().queries_ok, 1);
    assert_eq!(svc.stats().entries_returned, 3);
}

#[test]
fn rate_limited_queries_get_429_not_parsed() {
    let config = StoreConfig {
        rate_limit: Some(RateLimitConfig::per_peer(2, SimDuration::from_secs(1))),
        ..StoreConfig::nwaku()
    };
    let mut svc = service_with(config, &mixed_messages(3));
    let req = content_request("r", &[CT_A]);
    assert_eq!(
        svc.handle_query(t0(), CLIENT, &req).status_code,
        Some(status::SUCCESS)
    );
    assert_eq!(
        svc.handle_query(t0(), CLIENT, &req).status_code,
        Some(status::SUCCESS)
    );
    let resp = svc.handle_query(t0(), CLIENT, &req);
    assert_eq!(resp, rate_limited_response());
    assert_eq!(resp.request_id, "N/A");
    assert_eq!(resp.status_code, Some(status::TOO_MANY_REQUESTS));
    // Another peer has its own budget; the first recovers after the period.
    assert_eq!(
        svc.handle_query(t0(), NodeId(8), &req).status_code,
        Some(status::SUCCESS)
    );
    assert_eq!(
        svc.handle_query(at_ms(600), CLIENT, &req).status_code,
        Some(status::SUCCESS)
    );
    assert_eq!(svc.stats().rate_limited, 1);
}

#[test]
fn retention_runs_on_the_service_timer() {
    let config = StoreConfig {
        archive: ArchiveConfig {
            retention_time: Some(SimDuration::from_mins(60)),
            retention_slack_percent: 0,
            ..ArchiveConfig::default()
        },
        ..StoreConfig::nwaku()
    };
    let mut svc = service_with(config, &mixed_messages(4));
    // Due at start, as nwaku runs the policy on start.
    assert_eq!(svc.poll_timeout(), Some(t0()));
    assert_eq!(svc.handle_timeout(t0()), 0);
    assert_eq!(svc.poll_timeout(), Some(t0() + SimDuration::from_mins(30)));
    // Not due yet: nothing happens.
    assert_eq!(svc.handle_timeout(at_ms(1000)), 0);
    let due = svc.poll_timeout().unwrap();
    assert_eq!(svc.handle_timeout(due), 0, "30 min old messages are kept");
    let later = t0() + SimDuration::from_mins(61);
    assert_eq!(svc.handle_timeout(later), 4);
    assert!(svc.archive().is_empty());
    assert_eq!(svc.stats().pruned, 4);
    assert_eq!(svc.poll_timeout(), Some(later + SimDuration::from_mins(30)));
    // Without time retention there is no timer.
    let no_timer = StoreConfig {
        archive: ArchiveConfig {
            retention_time: None,
            ..ArchiveConfig::default()
        },
        ..StoreConfig::nwaku()
    };
    assert_eq!(
        StoreService::new(no_timer, t0()).unwrap().poll_timeout(),
        None
    );
}

#[test]
fn relayed_messages_feed_the_archive_and_restart_keeps_it() {
    let mut svc = StoreService::new(StoreConfig::nwaku(), t0()).unwrap();
    let m = msg(CT_A, 0, 1);
    assert!(svc.handle_message(t0(), PUBSUB, &m).is_ok());
    assert_eq!(
        svc.handle_message(t0(), PUBSUB, &m),
        Ok(InsertOutcome::Duplicate)
    );
    assert_eq!(
        svc.handle_message(t0(), PUBSUB, &m.clone().with_ephemeral(true)),
        Err(InsertError::Ephemeral)
    );
    let stats = svc.stats();
    assert_eq!((stats.stored, stats.duplicates, stats.refused), (1, 1, 1));
    let archive = svc.into_archive();
    let restarted = StoreService::with_archive(StoreConfig::nwaku(), archive, at_ms(5)).unwrap();
    assert!(restarted.archive().contains(&m.hash(PUBSUB)));
    assert_eq!(
        StoreService::new(
            StoreConfig {
                max_page_size: 0,
                ..StoreConfig::spec()
            },
            t0()
        )
        .unwrap_err(),
        StoreConfigError::ZeroPageSize
    );
}
