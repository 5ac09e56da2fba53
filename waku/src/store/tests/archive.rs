//! Archive admission, ordering, idempotence, capacity and retention.

use super::*;

fn archive(config: ArchiveConfig) -> Archive {
    Archive::new(config).unwrap()
}

#[test]
fn insert_is_idempotent() {
    let mut a = archive(ArchiveConfig::default());
    let m = msg(CT_A, 0, 1);
    assert_eq!(
        a.insert(t0(), PUBSUB, &m),
        Ok(InsertOutcome::Stored { evicted: None })
    );
    assert_eq!(a.insert(t0(), PUBSUB, &m), Ok(InsertOutcome::Duplicate));
    // Fields outside the hash do not make it a new message.
    let same_hash = m.clone().with_version(1);
    assert_eq!(
        a.insert(t0(), PUBSUB, &same_hash),
        Ok(InsertOutcome::Duplicate)
    );
    assert_eq!(a.len(), 1);
    // The same message on another pubsub topic is another message.
    assert!(matches!(
        a.insert(t0(), OTHER_PUBSUB, &m),
        Ok(InsertOutcome::Stored { .. })
    ));
    assert_eq!(a.len(), 2);
    assert!(a.contains(&m.hash(PUBSUB)));
    assert_eq!(a.get(&m.hash(PUBSUB)).unwrap().pubsub_topic, PUBSUB);
}

#[test]
fn ephemeral_messages_are_not_stored() {
    let mut a = archive(ArchiveConfig::default());
    let m = msg(CT_A, 0, 1).with_ephemeral(true);
    assert_eq!(a.insert(t0(), PUBSUB, &m), Err(InsertError::Ephemeral));
    assert!(a.is_empty());
    let kept = msg(CT_A, 0, 1).with_ephemeral(false);
    assert!(a.insert(t0(), PUBSUB, &kept).is_ok());
}

#[test]
fn missing_timestamp_is_refused() {
    let mut a = archive(ArchiveConfig::default());
    let m = WakuMessage::new(vec![1], CT_A);
    assert_eq!(
        a.insert(t0(), PUBSUB, &m),
        Err(InsertError::MissingTimestamp)
    );
    let zero = m.with_timestamp_ns(0);
    assert_eq!(
        a.insert(t0(), PUBSUB, &zero),
        Err(InsertError::MissingTimestamp)
    );
}

#[test]
fn timestamp_drift_beyond_20s_is_rejected() {
    let mut a = archive(ArchiveConfig::default());
    let s = 1_000_000_000;
    // Exactly ±20 s is accepted (nwaku compares strictly).
    assert!(a.insert(t0(), PUBSUB, &msg(CT_A, -20 * s, 1)).is_ok());
    assert!(a.insert(t0(), PUBSUB, &msg(CT_A, 20 * s, 2)).is_ok());
    assert!(matches!(
        a.insert(t0(), PUBSUB, &msg(CT_A, -20 * s - 1, 3)),
        Err(InsertError::TooOld { .. })
    ));
    assert!(matches!(
        a.insert(t0(), PUBSUB, &msg(CT_A, 20 * s + 1, 4)),
        Err(InsertError::TooFuture { .. })
    ));
    assert_eq!(a.len(), 2);
    // The check is against the node's clock at insertion: the same old message is fine for a
    // node whose clock is behind.
    assert!(
        a.insert(t0() + SimDuration::ZERO, PUBSUB, &msg(CT_A, -19 * s, 5))
            .is_ok()
    );
    // Switched off: anything goes.
    let mut lax = archive(ArchiveConfig {
        max_timestamp_drift: None,
        ..ArchiveConfig::default()
    });
    assert!(lax.insert(t0(), PUBSUB, &msg(CT_A, -3600 * s, 6)).is_ok());
}

#[test]
fn order_is_timestamp_then_hash() {
    let mut a = archive(ArchiveConfig::default());
    let msgs = mixed_messages(30);
    for (p, m) in &msgs {
        a.insert(t0(), p, m).unwrap();
    }
    let keys: Vec<StoreKey> = a.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys.len(), 30);
    for pair in keys.windows(2) {
        assert!(
            pair[0].timestamp < pair[1].timestamp
                || (pair[0].timestamp == pair[1].timestamp && pair[0].hash < pair[1].hash)
        );
    }
    assert_eq!(a.oldest(), keys.first().copied());
    assert_eq!(a.newest(), keys.last().copied());
}

#[test]
fn capacity_bound_holds_evicting_the_oldest() {
    let mut a = archive(ArchiveConfig {
        capacity: 5,
        ..ArchiveConfig::default()
    });
    let mut hashes = Vec::new();
    for i in 0..12 {
        let m = msg(CT_A, i64::from(i) * 1_000, i);
        hashes.push(m.hash(PUBSUB));
        let outcome = a.insert(t0(), PUBSUB, &m).unwrap();
        let expected_evicted = (i >= 5).then(|| hashes[(i - 5) as usize]);
        assert_eq!(
            outcome,
            InsertOutcome::Stored {
                evicted: expected_evicted
            }
        );
        assert!(a.len() <= 5);
    }
    let kept: Vec<MessageHash> = a.iter().map(|(k, _)| k.hash).collect();
    assert_eq!(kept, hashes[7..]);
    // Full, and older than everything kept: refused (nwaku QueueDriver "too_old").
    assert_eq!(
        a.insert(t0(), PUBSUB, &msg(CT_A, 0, 99)),
        Err(InsertError::OlderThanArchive)
    );
    assert_eq!(
        Archive::new(ArchiveConfig {
            capacity: 0,
            ..ArchiveConfig::default()
        })
        .unwrap_err(),
        StoreConfigError::ZeroCapacity
    );
}

#[test]
fn retention_prunes_old_messages_in_batches() {
    let day = SimDuration::from_secs(24 * 3600);
    let mut a = archive(ArchiveConfig {
        retention_time: Some(day),
        ..ArchiveConfig::default()
    });
    let old = msg(CT_A, 0, 1);
    let newer = msg(CT_A, 10_800_000_000_000, 2); // +3 h
    a.insert(t0(), PUBSUB, &old).unwrap();
    a.insert(at_ms(10_800_000), PUBSUB, &newer).unwrap();
    // Just past one day: within the 10 % slack, nothing happens.
    assert_eq!(a.prune(t0() + day + SimDuration::from_secs(60)), 0);
    assert_eq!(a.len(), 2);
    // Past 1.1 days: everything older than one day goes (the cutoff is t0 + 2.4 h).
    let later = t0() + day + SimDuration::from_secs(8640 + 1);
    assert_eq!(a.prune(later), 1);
    assert!(!a.contains(&old.hash(PUBSUB)));
    assert!(a.contains(&newer.hash(PUBSUB)));

    // Without slack, pruning is exact.
    let mut exact = archive(ArchiveConfig {
        retention_time: Some(day),
        retention_slack_percent: 0,
        ..ArchiveConfig::default()
    });
    exact.insert(t0(), PUBSUB, &old).unwrap();
    assert_eq!(
        exact.prune(t0() + day),
        0,
        "exactly retention_time old is kept"
    );
    assert_eq!(exact.prune(t0() + day + SimDuration::from_nanos(1)), 1);
    assert!(exact.is_empty());

    // No retention time: never pruned.
    let mut forever = archive(ArchiveConfig {
        retention_time: None,
        ..ArchiveConfig::default()
    });
    forever.insert(t0(), PUBSUB, &old).unwrap();
    assert_eq!(forever.prune(t0() + day.saturating_mul(1000)), 0);
}

#[test]
fn removal_keeps_the_topic_indexes_consistent() {
    let mut a = archive(ArchiveConfig::default());
    let m1 = msg(CT_A, 0, 1);
    let m2 = msg(CT_B, 1, 2);
    a.insert(t0(), PUBSUB, &m1).unwrap();
    a.insert(t0(), PUBSUB, &m2).unwrap();
    assert!(a.remove_hash(&m1.hash(PUBSUB)).is_some());
    assert!(a.remove_hash(&m1.hash(PUBSUB)).is_none());
    let none = std::collections::BTreeSet::new();
    let topics = [CT_A.to_string()];
    let q = ArchiveQuery {
        pubsub_topic: Some(PUBSUB),
        content_topics: &topics,
        time_start: None,
        time_end: None,
        time_end_inclusive: false,
        hashes: &none,
        cursor: None,
        forward: true,
        page_size: 10,
    };
    assert!(a.query(&q).unwrap().keys.is_empty());
    let topics = [CT_B.to_string()];
    let q = ArchiveQuery {
        content_topics: &topics,
        ..q
    };
    assert_eq!(a.query(&q).unwrap().keys.len(), 1);
}
