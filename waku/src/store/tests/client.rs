//! Store client: request construction, matching by request id, timeouts, disconnection, and
//! pagination (automatic and manual) against a real service.

use sim_core::SimRng;

use super::*;

const STORE: NodeId = NodeId(1);

fn client() -> StoreClient {
    StoreClient::new(StoreClientConfig::default())
}

fn sent(out: &[StoreClientOutput]) -> Vec<StoreQueryRequest> {
    out.iter()
        .filter_map(|o| match o {
            StoreClientOutput::Send { request, .. } => Some(request.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn request_ids_are_random_hex_and_queries_build_requests() {
    let mut rng = SimRng::from_seed(1);
    let id = generate_request_id(&mut rng);
    assert_eq!(id.len(), 20);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_ne!(generate_request_id(&mut rng), id);

    let h = msg(CT_A, 0, 1).hash(PUBSUB);
    let req = StoreQuery::presence(vec![h]).to_request("x".into());
    assert!(!req.include_data && !req.pagination_forward);
    assert_eq!(req.message_hashes, vec![h.to_bytes()]);
    let req = StoreQuery::content(PUBSUB, vec![CT_A.into()])
        .time_range(Some(1), Some(2))
        .forward(true)
        .page_size(7)
        .with_cursor(h)
        .to_request("y".into());
    assert_eq!(req.pubsub_topic.as_deref(), Some(PUBSUB));
    assert_eq!((req.time_start, req.time_end), (Some(1), Some(2)));
    assert_eq!(req.pagination_limit, Some(7));
    assert_eq!(req.pagination_cursor, Some(h.to_bytes()));
    assert!(req.include_data && req.pagination_forward);
}

#[test]
fn timeout_fires_for_an_unanswered_request() {
    let mut c = client();
    let mut rng = SimRng::from_seed(2);
    let mut out = Vec::new();
    assert_eq!(c.poll_timeout(), None);
    let q = c
        .query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::presence(vec![]),
            &mut out,
        )
        .unwrap();
    let deadline = t0() + SimDuration::from_secs(30);
    assert_eq!(c.poll_timeout(), Some(deadline));
    out.clear();
    c.handle_timeout(at_ms(29_999), &mut out);
    assert!(out.is_empty());
    c.handle_timeout(deadline, &mut out);
    assert_eq!(
        out,
        [StoreClientOutput::Failed {
            query: q,
            peer: STORE,
            pages: 0,
            error: StoreQueryError::Timeout
        }]
    );
    assert_eq!(c.pending_len(), 0);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn responses_are_matched_by_request_id() {
    let mut c = client();
    let mut rng = SimRng::from_seed(3);
    let mut svc = service_with(StoreConfig::nwaku(), &mixed_messages(6));
    let mut out = Vec::new();
    let qa = c
        .query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::content(PUBSUB, vec![CT_A.into()]),
            &mut out,
        )
        .unwrap();
    let qb = c
        .query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::content(PUBSUB, vec![CT_B.into()]),
            &mut out,
        )
        .unwrap();
    let reqs = sent(&out);
    assert_eq!(reqs.len(), 2);
    assert_ne!(reqs[0].request_id, reqs[1].request_id);
    out.clear();
    // Answer B first: matched to qb by its id.
    let resp_b = svc.handle_query(t0(), CLIENT, &reqs[1]);
    c.handle_response(t0(), &mut rng, STORE, resp_b.clone(), &mut out);
    assert!(matches!(
        &out[..],
        [
            StoreClientOutput::Page { query, page: 0, messages, cursor: None, .. },
            StoreClientOutput::Finished { query: fq, pages: 1, cursor: None, .. },
        ] if *query == qb && *fq == qb && messages.len() == 3
    ));
    out.clear();
    // The same response again (late duplicate) and one from the wrong peer match nothing.
    c.handle_response(t0(), &mut rng, STORE, resp_b, &mut out);
    let resp_a = svc.handle_query(t0(), CLIENT, &reqs[0]);
    c.handle_response(t0(), &mut rng, NodeId(9), resp_a.clone(), &mut out);
    assert!(
        out.iter()
            .all(|o| matches!(o, StoreClientOutput::Unmatched { .. }))
    );
    assert_eq!(out.len(), 2);
    out.clear();
    c.handle_response(t0(), &mut rng, STORE, resp_a, &mut out);
    assert!(matches!(&out[0], StoreClientOutput::Page { query, .. } if *query == qa));
    assert_eq!(c.pending_len(), 0);
}

#[test]
fn error_responses_without_request_id_match_the_oldest_request() {
    let mut c = client();
    let mut rng = SimRng::from_seed(4);
    let mut out = Vec::new();
    let q1 = c
        .query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::presence(vec![]),
            &mut out,
        )
        .unwrap();
    let q2 = c
        .query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::presence(vec![]),
            &mut out,
        )
        .unwrap();
    out.clear();
    c.handle_response(t0(), &mut rng, STORE, rate_limited_response(), &mut out);
    assert_eq!(
        out,
        [StoreClientOutput::Failed {
            query: q1,
            peer: STORE,
            pages: 0,
            error: StoreQueryError::Status {
                code: status::TOO_MANY_REQUESTS,
                desc: "TOO_MANY_REQUESTS".into()
            }
        }]
    );
    out.clear();
    // nwaku's 300 with an empty id.
    let nwaku = StoreService::new(StoreConfig::nwaku(), t0()).unwrap();
    let err = nwaku.error_response("ignored", status::BAD_RESPONSE, "archive error".into());
    assert_eq!(err.request_id, "");
    c.handle_response(t0(), &mut rng, STORE, err, &mut out);
    assert!(matches!(
        &out[..],
        [StoreClientOutput::Failed { query, error: StoreQueryError::Status { code: 300, .. }, .. }]
            if *query == q2
    ));
    // A response without status code is an error.
    out.clear();
    let q3 = c
        .query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::presence(vec![]),
            &mut out,
        )
        .unwrap();
    let id = sent(&out)[0].request_id.clone();
    out.clear();
    let no_status = StoreQueryResponse {
        request_id: id,
        ..StoreQueryResponse::default()
    };
    c.handle_response(t0(), &mut rng, STORE, no_status, &mut out);
    assert!(matches!(
        &out[..],
        [StoreClientOutput::Failed { query, error: StoreQueryError::MissingStatus, .. }]
            if *query == q3
    ));
}

/// Runs the client against `svc` until nothing is in flight; returns every output.
fn run_to_completion(
    c: &mut StoreClient,
    rng: &mut SimRng,
    svc: &mut StoreService,
    mut out: Vec<StoreClientOutput>,
) -> Vec<StoreClientOutput> {
    let mut log = Vec::new();
    while !out.is_empty() {
        let mut next = Vec::new();
        for o in out {
            if let StoreClientOutput::Send { peer, request } = &o {
                let resp = svc.handle_query(t0(), CLIENT, request);
                c.handle_response(t0(), rng, *peer, resp, &mut next);
            }
            log.push(o);
        }
        out = next;
    }
    log
}

#[test]
fn pagination_helper_walks_all_pages() {
    let mut svc = service_with(StoreConfig::nwaku(), &mixed_messages(23));
    let all = expected(&svc, |_, _, _| true);
    let mut rng = SimRng::from_seed(5);
    for forward in [true, false] {
        let mut c = client();
        let mut out = Vec::new();
        let query = StoreQuery::content(PUBSUB, vec![CT_A.into(), CT_B.into()])
            .forward(forward)
            .page_size(5)
            .follow_pages(u32::MAX);
        let q = c.query(t0(), &mut rng, STORE, query, &mut out).unwrap();
        let log = run_to_completion(&mut c, &mut rng, &mut svc, out);
        let mut got: Vec<MessageHash> = Vec::new();
        let mut pages = 0;
        for o in &log {
            if let StoreClientOutput::Page {
                query, messages, ..
            } = o
            {
                assert_eq!(*query, q);
                let page: Vec<_> = response_hashes(messages).into_iter().collect();
                let mut page_in_order: Vec<_> = messages
                    .iter()
                    .map(|kv| MessageHash::from_slice(kv.message_hash.as_ref().unwrap()).unwrap())
                    .collect();
                assert_eq!(page.len(), page_in_order.len());
                if forward {
                    got.append(&mut page_in_order);
                } else {
                    got.splice(0..0, page_in_order);
                }
                pages += 1;
            }
        }
        assert_eq!(got, all, "forward={forward}");
        assert_eq!(pages, 5);
        assert!(matches!(
            log.last(),
            Some(StoreClientOutput::Finished {
                pages: 5,
                cursor: None,
                ..
            })
        ));
        assert_eq!(c.pending_len(), 0);
    }
}

#[test]
fn max_pages_stops_with_a_cursor_and_next_page_continues() {
    let mut svc = service_with(StoreConfig::nwaku(), &mixed_messages(12));
    let all = expected(&svc, |_, _, _| true);
    let mut rng = SimRng::from_seed(6);
    let mut c = client();
    let mut out = Vec::new();
    let query = StoreQuery::content(PUBSUB, vec![CT_A.into(), CT_B.into()])
        .forward(true)
        .page_size(4)
        .follow_pages(2);
    c.query(t0(), &mut rng, STORE, query.clone(), &mut out)
        .unwrap();
    let log = run_to_completion(&mut c, &mut rng, &mut svc, out);
    let Some(StoreClientOutput::Finished {
        pages: 2,
        cursor: Some(cursor),
        ..
    }) = log.last().cloned()
    else {
        panic!("expected a finished query with a cursor: {log:?}");
    };
    assert_eq!(cursor, all[7]);
    // Manual continuation from the cursor (the remaining page).
    let mut out = Vec::new();
    c.next_page(
        t0(),
        &mut rng,
        STORE,
        &query.follow_pages(1),
        cursor,
        &mut out,
    )
    .unwrap();
    assert_eq!(sent(&out)[0].pagination_cursor, Some(cursor.to_bytes()));
    let log = run_to_completion(&mut c, &mut rng, &mut svc, out);
    let rest: Vec<MessageHash> = log
        .iter()
        .filter_map(|o| match o {
            StoreClientOutput::Page { messages, .. } => Some(messages.clone()),
            _ => None,
        })
        .flatten()
        .map(|kv| MessageHash::from_slice(&kv.message_hash.unwrap()).unwrap())
        .collect();
    assert_eq!(rest, all[8..]);
}

#[test]
fn disconnection_fails_requests_to_that_peer_only() {
    let mut c = client();
    let mut rng = SimRng::from_seed(7);
    let mut out = Vec::new();
    let q1 = c
        .query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::presence(vec![]),
            &mut out,
        )
        .unwrap();
    c.query(
        t0(),
        &mut rng,
        NodeId(2),
        StoreQuery::presence(vec![]),
        &mut out,
    )
    .unwrap();
    out.clear();
    c.peer_disconnected(STORE, &mut out);
    assert_eq!(
        out,
        [StoreClientOutput::Failed {
            query: q1,
            peer: STORE,
            pages: 0,
            error: StoreQueryError::Disconnected
        }]
    );
    assert_eq!(c.pending_len(), 1);
}

#[test]
fn pending_table_is_bounded() {
    let mut c = StoreClient::new(StoreClientConfig {
        max_pending: 2,
        ..StoreClientConfig::default()
    });
    let mut rng = SimRng::from_seed(8);
    let mut out = Vec::new();
    for _ in 0..2 {
        c.query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::presence(vec![]),
            &mut out,
        )
        .unwrap();
    }
    assert_eq!(
        c.query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::presence(vec![]),
            &mut out
        ),
        Err(StoreClientError::TooManyPending { max: 2 })
    );
    let first = QueryId(0);
    assert!(c.cancel(first));
    assert!(!c.cancel(first));
    assert!(
        c.query(
            t0(),
            &mut rng,
            STORE,
            StoreQuery::presence(vec![]),
            &mut out
        )
        .is_ok()
    );
}
