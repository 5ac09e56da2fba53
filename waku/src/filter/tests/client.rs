//! Filter client: requests and answers, keep-alive pings and lost-subscription detection per
//! preset, push acceptance, and a client driven against a service by hand.

use sim_core::{NodeId, SimDuration, SimRng, SimTime};

use super::{PUBSUB, msg, peer, secs, topics};
use crate::filter::{
    FilterClient, FilterClientConfig, FilterClientError, FilterClientOutput, FilterConfig,
    FilterCriterion, FilterOutput, FilterRequestKind, FilterService, FilterServiceConfig,
    RATE_LIMITED_REQUEST_ID, status,
};
use crate::proto::{
    FilterSubscribeRequest, FilterSubscribeResponse, FilterSubscribeType, MessagePush,
};

fn answer(req: &FilterSubscribeRequest, code: u32) -> FilterSubscribeResponse {
    FilterSubscribeResponse {
        request_id: req.request_id.clone(),
        status_code: code,
        status_desc: None,
    }
}

/// The single request in `out` (asserting there is exactly one).
fn only_request(out: &[FilterClientOutput]) -> (NodeId, FilterSubscribeRequest) {
    let reqs: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            FilterClientOutput::Request { to, request } => Some((*to, request.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(reqs.len(), 1, "expected one request in {out:?}");
    reqs[0].clone()
}

/// A client subscribed (acknowledged) on `service` to `/a/1/x/proto` at `now`.
fn subscribed(cfg: FilterClientConfig, service: NodeId, now: SimTime) -> (FilterClient, SimRng) {
    let mut rng = SimRng::from_seed(7);
    let mut c = FilterClient::new(cfg);
    let mut out = Vec::new();
    c.subscribe(
        now,
        &mut rng,
        service,
        PUBSUB,
        &topics(&["/a/1/x/proto"]),
        &mut out,
    )
    .expect("valid subscribe");
    let (_, req) = only_request(&out);
    out.clear();
    c.handle_response(now, service, &answer(&req, 200), &mut out);
    assert!(matches!(
        out.as_slice(),
        [FilterClientOutput::Completed {
            kind: FilterRequestKind::Subscribe,
            status: Some(200),
            ..
        }]
    ));
    (c, rng)
}

fn push(ct: &str) -> MessagePush {
    MessagePush {
        waku_message: Some(msg(ct, b"p")),
        pubsub_topic: Some(PUBSUB.to_owned()),
    }
}

/// Runs the client's due work at `now`, answering every ping with `code` (`None` = silence).
fn tick_and_answer(
    c: &mut FilterClient,
    rng: &mut SimRng,
    now: SimTime,
    code: Option<u32>,
) -> Vec<FilterClientOutput> {
    let mut out = Vec::new();
    c.tick(now, rng, &mut out);
    let reqs: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            FilterClientOutput::Request { to, request } => Some((*to, request.clone())),
            _ => None,
        })
        .collect();
    if let Some(code) = code {
        for (to, req) in reqs {
            c.handle_response(now, to, &answer(&req, code), &mut out);
        }
    }
    out
}

fn lost(out: &[FilterClientOutput]) -> Option<NodeId> {
    out.iter().find_map(|o| match o {
        FilterClientOutput::SubscriptionLost { peer, .. } => Some(*peer),
        _ => None,
    })
}

#[test]
fn subscribe_builds_the_request_and_schedules_pings() {
    let mut rng = SimRng::from_seed(1);
    let mut c = FilterClient::new(FilterConfig::go_waku().client);
    let mut out = Vec::new();
    let id = c
        .subscribe(
            secs(3),
            &mut rng,
            peer(5),
            PUBSUB,
            &topics(&["/a/1/x/proto"]),
            &mut out,
        )
        .unwrap();
    let (to, req) = only_request(&out);
    assert_eq!(to, peer(5));
    assert_eq!(req.request_id, id);
    assert_eq!(id.len(), 20, "hex of 10 random bytes, as nwaku");
    assert_eq!(
        req.filter_subscribe_type,
        FilterSubscribeType::Subscribe as i32
    );
    assert_eq!(req.pubsub_topic.as_deref(), Some(PUBSUB));
    assert_eq!(c.poll_timeout(), Some(secs(13)), "request timeout 10 s");
    out.clear();
    c.handle_response(secs(4), peer(5), &answer(&req, 200), &mut out);
    assert_eq!(
        c.subscriptions(peer(5)),
        vec![FilterCriterion::new(PUBSUB, "/a/1/x/proto")]
    );
    assert_eq!(
        c.poll_timeout(),
        Some(secs(64)),
        "first ping one interval later"
    );
    assert_eq!(
        FilterClientConfig::default().ping_interval,
        SimDuration::from_mins(1)
    );
}

#[test]
fn caller_errors_are_results() {
    let mut rng = SimRng::from_seed(1);
    let mut c = FilterClient::new(FilterClientConfig {
        max_service_peers: 1,
        ..FilterConfig::js_waku().client
    });
    let mut out = Vec::new();
    assert_eq!(
        c.subscribe(secs(0), &mut rng, peer(1), PUBSUB, &[], &mut out),
        Err(FilterClientError::NoContentTopics)
    );
    let many: Vec<String> = (0..101).map(|i| format!("/a/1/{i}/proto")).collect();
    assert_eq!(
        c.subscribe(secs(0), &mut rng, peer(1), PUBSUB, &many, &mut out),
        Err(FilterClientError::TooManyContentTopics {
            count: 101,
            max: 100
        })
    );
    c.subscribe(
        secs(0),
        &mut rng,
        peer(1),
        PUBSUB,
        &topics(&["/a/1/x/proto"]),
        &mut out,
    )
    .unwrap();
    assert_eq!(
        c.subscribe(
            secs(0),
            &mut rng,
            peer(2),
            PUBSUB,
            &topics(&["/a/1/x/proto"]),
            &mut out
        ),
        Err(FilterClientError::TooManyServicePeers { max: 1 })
    );
    assert_eq!(out.len(), 1);
}

#[test]
fn go_waku_reports_lost_after_two_failed_pings_with_immediate_retry() {
    let cfg = FilterConfig::go_waku().client;
    let (mut c, mut rng) = subscribed(cfg, peer(1), secs(0));
    // First ping at 60 s fails with 404; the retry goes out at once and fails too.
    let out = tick_and_answer(&mut c, &mut rng, secs(60), Some(404));
    assert_eq!(lost(&out), None);
    assert_eq!(c.ping_failures(peer(1)), 1);
    assert_eq!(c.poll_timeout(), Some(secs(60)), "immediate retry");
    let out = tick_and_answer(&mut c, &mut rng, secs(60), Some(404));
    assert_eq!(lost(&out), Some(peer(1)));
    assert!(c.service_peers().is_empty());
}

#[test]
fn js_waku_reports_lost_after_three_consecutive_interval_failures() {
    let (mut c, mut rng) = subscribed(FilterConfig::js_waku().client, peer(1), secs(0));
    assert!(lost(&tick_and_answer(&mut c, &mut rng, secs(60), Some(503))).is_none());
    assert!(lost(&tick_and_answer(&mut c, &mut rng, secs(120), Some(503))).is_none());
    assert_eq!(c.ping_failures(peer(1)), 2);
    // A success resets the streak.
    assert!(lost(&tick_and_answer(&mut c, &mut rng, secs(180), Some(200))).is_none());
    assert_eq!(c.ping_failures(peer(1)), 0);
    for t in [240, 300] {
        assert!(lost(&tick_and_answer(&mut c, &mut rng, secs(t), Some(404))).is_none());
    }
    let out = tick_and_answer(&mut c, &mut rng, secs(360), Some(404));
    assert!(matches!(
        out.last(),
        Some(FilterClientOutput::SubscriptionLost { peer: p, criteria }) if *p == peer(1) && criteria.len() == 1
    ));
}

#[test]
fn unanswered_pings_time_out_and_count_as_failures() {
    // nwaku-family client: 30 s interval, 5 s timeout, one failure is enough.
    let (mut c, mut rng) = subscribed(FilterConfig::nwaku().client, peer(1), secs(0));
    let out = tick_and_answer(&mut c, &mut rng, secs(30), None);
    assert_eq!(out.len(), 1);
    assert_eq!(c.poll_timeout(), Some(secs(35)));
    let out = tick_and_answer(&mut c, &mut rng, secs(35), None);
    assert!(matches!(
        out[0],
        FilterClientOutput::Completed {
            kind: FilterRequestKind::Ping,
            status: None,
            ..
        }
    ));
    assert_eq!(lost(&out), Some(peer(1)));
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn pushes_are_accepted_only_from_subscribed_peers_and_criteria() {
    let (mut c, _) = subscribed(FilterConfig::go_waku().client, peer(1), secs(0));
    let got = c.handle_push(secs(1), peer(1), push("/a/1/x/proto"));
    assert_eq!(
        got.map(|(t, m)| (t, m.content_topic)),
        Some((PUBSUB.into(), "/a/1/x/proto".into()))
    );
    assert!(
        c.handle_push(secs(1), peer(2), push("/a/1/x/proto"))
            .is_none(),
        "unknown peer"
    );
    assert!(
        c.handle_push(secs(1), peer(1), push("/a/1/y/proto"))
            .is_none(),
        "other topic"
    );
    let no_topic = MessagePush {
        pubsub_topic: None,
        ..push("/a/1/x/proto")
    };
    assert!(c.handle_push(secs(1), peer(1), no_topic).is_none());

    // nwaku's client checks nothing; js-waku only the criterion.
    let (mut nw, _) = subscribed(FilterConfig::nwaku().client, peer(1), secs(0));
    assert!(
        nw.handle_push(secs(1), peer(2), push("/a/1/y/proto"))
            .is_some()
    );
    let (mut js, _) = subscribed(FilterConfig::js_waku().client, peer(1), secs(0));
    assert!(
        js.handle_push(secs(1), peer(2), push("/a/1/x/proto"))
            .is_some()
    );
    assert!(
        js.handle_push(secs(1), peer(2), push("/a/1/y/proto"))
            .is_none()
    );
}

#[test]
fn js_waku_deduplicates_pushes_from_several_service_peers() {
    let (mut c, mut rng) = subscribed(FilterConfig::js_waku().client, peer(1), secs(0));
    let mut out = Vec::new();
    c.subscribe(
        secs(0),
        &mut rng,
        peer(2),
        PUBSUB,
        &topics(&["/a/1/x/proto"]),
        &mut out,
    )
    .unwrap();
    let (_, req) = only_request(&out);
    c.handle_response(secs(0), peer(2), &answer(&req, 200), &mut out);
    assert!(
        c.handle_push(secs(1), peer(1), push("/a/1/x/proto"))
            .is_some()
    );
    assert!(
        c.handle_push(secs(1), peer(2), push("/a/1/x/proto"))
            .is_none()
    );
    assert!(
        c.handle_push(secs(61), peer(2), push("/a/1/x/proto"))
            .is_some()
    );
}

#[test]
fn rate_limited_na_answer_settles_the_oldest_request_to_that_peer() {
    let mut rng = SimRng::from_seed(3);
    let mut c = FilterClient::new(FilterConfig::go_waku().client);
    let mut out = Vec::new();
    let first = c
        .subscribe(
            secs(0),
            &mut rng,
            peer(1),
            PUBSUB,
            &topics(&["/a/1/x/proto"]),
            &mut out,
        )
        .unwrap();
    c.ping(secs(1), &mut rng, peer(1), &mut out).unwrap();
    out.clear();
    let na = FilterSubscribeResponse {
        request_id: RATE_LIMITED_REQUEST_ID.to_owned(),
        status_code: status::TOO_MANY_REQUESTS,
        status_desc: None,
    };
    c.handle_response(secs(2), peer(2), &na, &mut out);
    assert!(out.is_empty(), "answers from another peer are ignored");
    c.handle_response(secs(2), peer(1), &na, &mut out);
    assert!(matches!(
        &out[..],
        [FilterClientOutput::Completed { request_id, status: Some(429), .. }] if *request_id == first
    ));
    // The ping is still pending.
    assert_eq!(c.pending_requests(), 1);
}

#[test]
fn client_and_service_by_hand_sleep_past_the_ttl_loses_the_subscription() {
    let mut svc = FilterService::new(FilterServiceConfig::nwaku());
    let mut c = FilterClient::new(FilterConfig::nwaku().client);
    let mut rng = SimRng::from_seed(11);
    let (me, server) = (peer(1), peer(2));
    let mut out = Vec::new();
    c.subscribe(
        secs(0),
        &mut rng,
        server,
        PUBSUB,
        &topics(&["/a/1/x/proto"]),
        &mut out,
    )
    .unwrap();
    let (_, req) = only_request(&out);
    let resp = svc.handle_subscribe(secs(0), me, &req);
    out.clear();
    c.handle_response(secs(0), server, &resp, &mut out);

    // A relayed message reaches the client.
    let mut pushes = Vec::new();
    svc.on_message(secs(10), PUBSUB, &msg("/a/1/x/proto", b"m1"), &mut pushes);
    let FilterOutput::Push { to, push } = pushes.pop().expect("one push");
    assert_eq!(to, me);
    assert!(c.handle_push(secs(10), server, push).is_some());

    // Pings every 30 s keep it alive.
    for t in [30, 60, 90] {
        out.clear();
        c.tick(secs(t), &mut rng, &mut out);
        let (_, ping) = only_request(&out);
        let r = svc.handle_subscribe(secs(t), me, &ping);
        assert_eq!(r.status_code, 200);
        c.handle_response(secs(t), server, &r, &mut out);
    }
    // The client sleeps 6 minutes: the service expires it; the next ping gets 404.
    let wake = secs(90) + SimDuration::from_mins(6);
    svc.maintenance(wake);
    out.clear();
    c.tick(wake, &mut rng, &mut out);
    let (_, ping) = only_request(&out);
    let r = svc.handle_subscribe(wake, me, &ping);
    assert_eq!(r.status_code, status::NOT_FOUND);
    c.handle_response(wake, server, &r, &mut out);
    assert_eq!(lost(&out), Some(server));
}
