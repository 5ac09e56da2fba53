//! Filter service: subscription lifecycle, expiry, limits and status codes, push fan-out,
//! de-duplication, rate limiting, and the implementation quirks behind the presets.

use sim_core::{SimDuration, SimTime};

use super::{PUBSUB, at, msg, peer, ping_req, request, secs, sub_req};
use crate::filter::{
    FilterConfig, FilterOutput, FilterService, FilterServiceConfig, RATE_LIMITED_REQUEST_ID, status,
};
use crate::proto::FilterSubscribeType;

/// nwaku without the rate limiter, so tests can send many requests.
fn nwaku() -> FilterService {
    FilterService::new(FilterServiceConfig {
        rate_limit: None,
        ..FilterServiceConfig::nwaku()
    })
}

fn pushed_to(out: &[FilterOutput]) -> Vec<u32> {
    out.iter()
        .map(|o| match o {
            FilterOutput::Push { to, push } => {
                assert_eq!(push.pubsub_topic.as_deref(), Some(PUBSUB));
                to.0
            }
        })
        .collect()
}

fn deliver(svc: &mut FilterService, now: SimTime, pubsub: &str, ct: &str) -> Vec<u32> {
    let mut out = Vec::new();
    svc.on_message(now, pubsub, &msg(ct, b"x"), &mut out);
    pushed_to(&out)
}

#[test]
fn pushes_only_to_matching_subscribers() {
    let mut svc = nwaku();
    let t = secs(1);
    assert_eq!(
        svc.handle_subscribe(t, peer(1), &sub_req(&["/a/1/x/proto"]))
            .status_code,
        200
    );
    assert_eq!(
        svc.handle_subscribe(t, peer(2), &sub_req(&["/a/1/x/proto", "/a/1/y/proto"]))
            .status_code,
        200
    );
    assert_eq!(
        svc.handle_subscribe(t, peer(3), &sub_req(&["/a/1/z/proto"]))
            .status_code,
        200
    );

    let mut out = Vec::new();
    let m = msg("/a/1/x/proto", b"hello");
    svc.on_message(t, PUBSUB, &m, &mut out);
    assert_eq!(pushed_to(&out), vec![1, 2]);
    let FilterOutput::Push { push, .. } = &out[0];
    assert_eq!(push.waku_message.as_ref(), Some(&m));

    assert_eq!(deliver(&mut svc, t, PUBSUB, "/a/1/y/proto"), vec![2]);
    assert!(deliver(&mut svc, t, PUBSUB, "/a/1/w/proto").is_empty());
    // Same content topic on another pubsub topic: no match.
    assert!(deliver(&mut svc, t, "/waku/2/rs/1/1", "/a/1/z/proto").is_empty());
}

#[test]
fn subscription_expires_after_five_minutes_without_ping_not_before() {
    let mut svc = nwaku();
    let t0 = secs(10);
    svc.handle_subscribe(t0, peer(1), &sub_req(&["/a/1/x/proto"]));
    let ttl = SimDuration::from_mins(5);
    let edge = t0 + ttl;
    let after = edge + SimDuration::from_nanos(1);

    assert!(svc.is_subscribed(edge, peer(1)));
    assert_eq!(deliver(&mut svc, edge, PUBSUB, "/a/1/x/proto"), vec![1]);
    assert_eq!(svc.maintenance(edge), 0);
    assert_eq!(svc.subscriber_count(), 1);

    assert!(!svc.is_subscribed(after, peer(1)));
    assert!(deliver(&mut svc, after, PUBSUB, "/a/1/x/proto").is_empty());
    // Expired but not yet purged: a ping finds nothing.
    assert_eq!(
        svc.handle_subscribe(after, peer(1), &ping_req())
            .status_code,
        404
    );
    assert_eq!(svc.maintenance(after), 1);
    assert_eq!(svc.subscriber_count(), 0);
    assert_eq!(svc.poll_timeout(), Some(after + SimDuration::from_mins(1)));
}

#[test]
fn ping_and_subscribe_refresh_the_ttl() {
    let mut svc = nwaku();
    svc.handle_subscribe(secs(0), peer(1), &sub_req(&["/a/1/x/proto"]));
    let r = svc.handle_subscribe(secs(240), peer(1), &ping_req());
    assert_eq!((r.status_code, r.request_id.as_str()), (200, "p"));
    assert!(svc.is_subscribed(secs(240 + 300), peer(1)));
    assert!(!svc.is_subscribed(secs(240 + 301), peer(1)));

    svc.handle_subscribe(secs(500), peer(1), &sub_req(&["/a/1/x/proto"]));
    assert_eq!(svc.maintenance(secs(800)), 0);
    assert_eq!(
        deliver(&mut svc, secs(800), PUBSUB, "/a/1/x/proto"),
        vec![1]
    );
    assert_eq!(svc.maintenance(secs(801)), 1);
}

#[test]
fn request_validation_and_limits_give_the_right_codes() {
    let mut svc = nwaku();
    let t = secs(1);
    let p = peer(1);
    let none = request("a", FilterSubscribeType::Subscribe, Some(PUBSUB), &[]);
    assert_eq!(
        svc.handle_subscribe(t, p, &none).status_code,
        status::BAD_REQUEST
    );
    let no_pubsub = request("b", FilterSubscribeType::Subscribe, None, &["/a/1/x/proto"]);
    assert_eq!(
        svc.handle_subscribe(t, p, &no_pubsub).status_code,
        status::BAD_REQUEST
    );
    let many: Vec<String> = (0..101).map(|i| format!("/a/1/t{i}/proto")).collect();
    let many_refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = svc.handle_subscribe(t, p, &sub_req(&many_refs));
    assert_eq!(r.status_code, status::BAD_REQUEST);
    assert_eq!(
        r.status_desc.as_deref(),
        Some("BAD_REQUEST: exceeds maximum content topics: 100")
    );
    assert_eq!(svc.subscriber_count(), 0);

    // 1000 criteria per peer: ten full requests fit, one more topic does not.
    for batch in 0..10 {
        let names: Vec<String> = (0..100)
            .map(|i| format!("/a/1/b{batch}-{i}/proto"))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(svc.handle_subscribe(t, p, &sub_req(&refs)).status_code, 200);
    }
    assert_eq!(svc.criteria(p).len(), 1000);
    let r = svc.handle_subscribe(t, p, &sub_req(&["/a/1/extra/proto"]));
    assert_eq!(r.status_code, status::SERVICE_UNAVAILABLE);
    assert_eq!(svc.criteria(p).len(), 1000);
}

#[test]
fn max_subscribed_peers_is_enforced_per_flavor() {
    let limited = |cfg: FilterServiceConfig| {
        FilterService::new(FilterServiceConfig {
            max_peers: 2,
            rate_limit: None,
            ..cfg
        })
    };
    // nwaku: new peers refused at the limit, existing ones may still add criteria.
    let mut svc = limited(FilterServiceConfig::nwaku());
    let t = secs(1);
    assert_eq!(
        svc.handle_subscribe(t, peer(1), &sub_req(&["/a/1/x/proto"]))
            .status_code,
        200
    );
    assert_eq!(
        svc.handle_subscribe(t, peer(2), &sub_req(&["/a/1/x/proto"]))
            .status_code,
        200
    );
    let r = svc.handle_subscribe(t, peer(3), &sub_req(&["/a/1/x/proto"]));
    assert_eq!(r.status_code, status::SERVICE_UNAVAILABLE);
    assert_eq!(
        svc.handle_subscribe(t, peer(1), &sub_req(&["/a/1/y/proto"]))
            .status_code,
        200
    );

    // go-waku: at the limit even a subscribed peer is refused.
    let mut svc = limited(FilterServiceConfig::go_waku());
    svc.handle_subscribe(t, peer(1), &sub_req(&["/a/1/x/proto"]));
    svc.handle_subscribe(t, peer(2), &sub_req(&["/a/1/x/proto"]));
    let r = svc.handle_subscribe(t, peer(1), &sub_req(&["/a/1/y/proto"]));
    assert_eq!(r.status_code, status::SERVICE_UNAVAILABLE);
    assert_eq!(FilterServiceConfig::go_waku().max_peers, 20);
    assert_eq!(FilterServiceConfig::nwaku().max_peers, 1000);
}

#[test]
fn not_found_for_ping_and_unsubscribe_without_subscription() {
    let mut svc = nwaku();
    let t = secs(1);
    assert_eq!(
        svc.handle_subscribe(t, peer(9), &ping_req()).status_code,
        status::NOT_FOUND
    );
    let unsub = request(
        "u",
        FilterSubscribeType::Unsubscribe,
        Some(PUBSUB),
        &["/a/1/x/proto"],
    );
    assert_eq!(
        svc.handle_subscribe(t, peer(9), &unsub).status_code,
        status::NOT_FOUND
    );
    let all = request("ua", FilterSubscribeType::UnsubscribeAll, None, &[]);
    let r = svc.handle_subscribe(t, peer(9), &all);
    assert_eq!(r.status_code, status::NOT_FOUND);
    assert_eq!(
        r.status_desc.as_deref(),
        Some("NOT_FOUND: peer has no subscriptions")
    );
}

#[test]
fn unsubscribe_removes_criteria_and_unsubscribe_all_removes_the_peer() {
    let mut svc = nwaku();
    let t = secs(1);
    svc.handle_subscribe(t, peer(1), &sub_req(&["/a/1/x/proto", "/a/1/y/proto"]));
    svc.handle_subscribe(t, peer(2), &sub_req(&["/a/1/x/proto"]));
    let unsub = request(
        "u",
        FilterSubscribeType::Unsubscribe,
        Some(PUBSUB),
        &["/a/1/x/proto"],
    );
    assert_eq!(svc.handle_subscribe(t, peer(1), &unsub).status_code, 200);
    assert_eq!(deliver(&mut svc, t, PUBSUB, "/a/1/x/proto"), vec![2]);
    assert_eq!(deliver(&mut svc, t, PUBSUB, "/a/1/y/proto"), vec![1]);

    let all = request("ua", FilterSubscribeType::UnsubscribeAll, None, &[]);
    assert_eq!(svc.handle_subscribe(t, peer(1), &all).status_code, 200);
    assert!(deliver(&mut svc, secs(2), PUBSUB, "/a/1/y/proto").is_empty());
    assert_eq!(
        svc.handle_subscribe(t, peer(1), &ping_req()).status_code,
        404
    );
    assert_eq!(svc.subscriber_count(), 1);

    // Removing the last criterion removes the peer.
    assert_eq!(svc.handle_subscribe(t, peer(2), &unsub).status_code, 200);
    assert_eq!(svc.subscriber_count(), 0);
}

#[test]
fn nwaku_rate_limit_answers_429_with_na_and_refills() {
    let mut svc = FilterService::new(FilterServiceConfig::nwaku());
    let t = secs(1);
    svc.handle_subscribe(t, peer(1), &sub_req(&["/a/1/x/proto"]));
    for _ in 0..29 {
        assert_eq!(
            svc.handle_subscribe(t, peer(1), &ping_req()).status_code,
            200
        );
    }
    let r = svc.handle_subscribe(t, peer(1), &ping_req());
    assert_eq!(r.status_code, status::TOO_MANY_REQUESTS);
    assert_eq!(r.request_id, RATE_LIMITED_REQUEST_ID);
    // Another peer has its own budget.
    assert_eq!(
        svc.handle_subscribe(t, peer(2), &ping_req()).status_code,
        404
    );
    // A full period later the bucket refills.
    let later = t + SimDuration::from_mins(1);
    assert_eq!(
        svc.handle_subscribe(later, peer(1), &ping_req())
            .status_code,
        200
    );
}

#[test]
fn go_waku_rate_limit_is_one_request_per_second() {
    let mut svc = FilterService::new(FilterServiceConfig::go_waku());
    let t = secs(1);
    assert_eq!(
        svc.handle_subscribe(t, peer(1), &sub_req(&["/a/1/x/proto"]))
            .status_code,
        200
    );
    let half = t + SimDuration::from_millis(500);
    assert_eq!(
        svc.handle_subscribe(half, peer(1), &ping_req()).status_code,
        429
    );
    assert_eq!(
        svc.handle_subscribe(secs(2), peer(1), &ping_req())
            .status_code,
        200
    );
}

#[test]
fn nwaku_deduplicates_pushes_by_message_hash_for_two_minutes() {
    let mut svc = nwaku();
    svc.handle_subscribe(secs(0), peer(1), &sub_req(&["/a/1/x/proto"]));
    assert_eq!(deliver(&mut svc, secs(1), PUBSUB, "/a/1/x/proto"), vec![1]);
    assert!(deliver(&mut svc, secs(60), PUBSUB, "/a/1/x/proto").is_empty());
    // Each sighting refreshes the entry: a duplicate at 179 s (119 s after the last one),
    // pushed again at 299 s (exactly 2 min after the last sighting).
    assert!(deliver(&mut svc, secs(179), PUBSUB, "/a/1/x/proto").is_empty());
    assert_eq!(
        deliver(&mut svc, secs(299), PUBSUB, "/a/1/x/proto"),
        vec![1]
    );
    assert_eq!(svc.dedup_len(), 1);

    let mut go = FilterService::new(FilterConfig::go_waku().service);
    go.handle_subscribe(secs(0), peer(1), &sub_req(&["/a/1/x/proto"]));
    assert_eq!(deliver(&mut go, secs(1), PUBSUB, "/a/1/x/proto"), vec![1]);
    assert_eq!(deliver(&mut go, secs(2), PUBSUB, "/a/1/x/proto"), vec![1]);
}

#[test]
fn go_waku_cleanup_drops_active_subscriptions_as_written() {
    let mut svc = FilterService::new(FilterServiceConfig {
        rate_limit: None,
        ..FilterServiceConfig::go_waku()
    });
    svc.handle_subscribe(secs(0), peer(1), &sub_req(&["/a/1/x/proto"]));
    // Pushes ignore the TTL entirely ...
    assert_eq!(deliver(&mut svc, secs(30), PUBSUB, "/a/1/x/proto"), vec![1]);
    // ... and the first cleanup removes the (active) subscription.
    assert_eq!(svc.maintenance(secs(60)), 1);
    assert_eq!(
        svc.handle_subscribe(secs(61), peer(1), &ping_req())
            .status_code,
        404
    );
}

#[test]
fn spec_drops_a_subscriber_unreachable_for_a_minute() {
    let mut svc = FilterService::new(FilterServiceConfig {
        rate_limit: None,
        ..FilterConfig::spec().service
    });
    svc.handle_subscribe(secs(0), peer(1), &sub_req(&["/a/1/x/proto"]));
    // No idle TTL in the spec preset.
    assert!(svc.is_subscribed(secs(3600), peer(1)));
    assert!(!svc.on_push_result(secs(10), peer(1), false));
    assert!(!svc.on_push_result(secs(20), peer(1), true));
    assert!(!svc.on_push_result(secs(30), peer(1), false));
    assert!(!svc.on_push_result(secs(89), peer(1), false));
    assert!(svc.on_push_result(secs(90), peer(1), false));
    assert_eq!(svc.subscriber_count(), 0);
    // nwaku never drops on push failures.
    let mut nw = nwaku();
    nw.handle_subscribe(secs(0), peer(1), &sub_req(&["/a/1/x/proto"]));
    assert!(!nw.on_push_result(secs(10), peer(1), false));
    assert!(!nw.on_push_result(secs(200), peer(1), false));
    assert_eq!(nw.maintenance(secs(200)), 0);
}

#[test]
fn nwaku_revives_an_expired_unpurged_subscription_on_subscribe() {
    let mut svc = nwaku();
    svc.handle_subscribe(secs(0), peer(1), &sub_req(&["/a/1/x/proto"]));
    let late = at(SimDuration::from_mins(6));
    assert!(!svc.is_subscribed(late, peer(1)));
    svc.handle_subscribe(late, peer(1), &sub_req(&["/a/1/y/proto"]));
    // The old criterion came back with the new one.
    assert_eq!(deliver(&mut svc, late, PUBSUB, "/a/1/x/proto"), vec![1]);
    assert_eq!(svc.criteria(peer(1)).len(), 2);
}

#[test]
fn go_waku_validation_is_stricter() {
    let mut svc = FilterService::new(FilterServiceConfig {
        rate_limit: None,
        ..FilterServiceConfig::go_waku()
    });
    let t = secs(1);
    let no_id = request("", FilterSubscribeType::SubscriberPing, None, &[]);
    assert_eq!(svc.handle_subscribe(t, peer(1), &no_id).status_code, 400);
    let empty_ct = request(
        "x",
        FilterSubscribeType::Subscribe,
        Some(PUBSUB),
        &["/a/1/x/proto", ""],
    );
    assert_eq!(svc.handle_subscribe(t, peer(1), &empty_ct).status_code, 400);
    let empty_pubsub = request(
        "x",
        FilterSubscribeType::Subscribe,
        Some(""),
        &["/a/1/x/proto"],
    );
    assert_eq!(
        svc.handle_subscribe(t, peer(1), &empty_pubsub).status_code,
        400
    );
    // nwaku accepts an empty pubsub topic string.
    let mut nw = nwaku();
    assert_eq!(
        nw.handle_subscribe(t, peer(1), &empty_pubsub).status_code,
        200
    );
}
