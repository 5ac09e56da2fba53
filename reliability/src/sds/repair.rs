//! SDS-R, the repair extension (`reference/reliability.md` §2.2): the outgoing repair buffer
//! (missing messages this participant will ask for) and the incoming repair buffer (requests
//! it will answer), with the spec's timing:
//!
//! - a missing entry is requested from `T_req = now + hash(own ‖ id) mod (T_max − T_min) +
//!   T_min`; requests go out on outgoing messages, lowest `T_req` first, at most
//!   `max_requests_per_message` each, once per entry (js-waku marks them requested; nim-sds
//!   deletes them); an entry not repaired `T_max` after its `T_req` is dropped (nim-sds
//!   sweep, which drops it just after);
//! - a request for a message held locally, from a participant in the same response group
//!   (`hash(own ‖ id) mod G == hash(sender ‖ id) mod G`), is answered at `T_resp = now +
//!   ((hash(own) XOR hash(sender)) mod T_max) · (hash(id) mod T_max) mod T_max` (nim-sds's
//!   overflow-free form; the original sender has distance 0 and answers at once);
//! - seeing the message itself (original or repair) drops it from both buffers, and seeing
//!   someone else's request for it drops it from the outgoing one (suppression).
//!
//! `hash` is the first 8 bytes (big endian) of SHA-256 of the concatenated strings, shared by
//! every simulated node; times are computed in milliseconds, as the implementations do.
//! Bounds: each buffer ≤ `max_buffer` entries (the one due last is evicted).

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};
use sim_core::{SimDuration, SimTime};

use super::config::RepairConfig;
use super::wire::HistoryEntry;

/// `hash(parts…)`: the first 8 bytes of SHA-256 over the concatenation, big endian.
pub fn repair_hash(parts: &[&str]) -> u64 {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The delay before requesting `message_id`: `hash(own ‖ id) mod (T_max − T_min) + T_min`.
pub fn request_delay(config: &RepairConfig, own_id: &str, message_id: &str) -> SimDuration {
    let min_ms = config.t_min.as_millis();
    let range_ms = config.t_max.as_millis().saturating_sub(min_ms);
    if range_ms == 0 {
        return config.t_min;
    }
    SimDuration::from_millis(repair_hash(&[own_id, message_id]) % range_ms + min_ms)
}

/// The delay before answering a request for `message_id` sent by `sender_id`:
/// `(hash(own) XOR hash(sender)) · hash(id) mod T_max` (0 for the original sender).
pub fn response_delay(
    config: &RepairConfig,
    own_id: &str,
    sender_id: &str,
    message_id: &str,
) -> SimDuration {
    let max_ms = config.t_max.as_millis();
    let distance = repair_hash(&[own_id]) ^ repair_hash(&[sender_id]);
    if max_ms == 0 || distance == 0 {
        return SimDuration::ZERO;
    }
    let d = u128::from(distance % max_ms);
    let m = u128::from(repair_hash(&[message_id]) % max_ms);
    SimDuration::from_millis((d * m % u128::from(max_ms)) as u64)
}

/// Whether `own_id` answers requests for `message_id` sent by `sender_id`.
pub fn in_response_group(groups: u64, own_id: &str, sender_id: &str, message_id: &str) -> bool {
    groups <= 1
        || repair_hash(&[own_id, message_id]) % groups
            == repair_hash(&[sender_id, message_id]) % groups
}

#[derive(Clone, Debug)]
struct Request {
    entry: HistoryEntry,
    t_req: SimTime,
    requested: bool,
}

/// Both repair buffers of one participant.
#[derive(Clone, Debug, Default)]
pub(crate) struct Repair {
    requests: BTreeMap<String, Request>,
    /// Not yet requested, by `T_req`.
    eligible: BTreeSet<(SimTime, String)>,
    /// All requests by `T_req` (expiry).
    by_t_req: BTreeSet<(SimTime, String)>,
    responses: BTreeMap<String, SimTime>,
    by_t_resp: BTreeSet<(SimTime, String)>,
}

impl Repair {
    pub(crate) fn pending_requests(&self) -> usize {
        self.requests.len()
    }

    pub(crate) fn pending_responses(&self) -> usize {
        self.responses.len()
    }

    pub(crate) fn request_time(&self, id: &str) -> Option<SimTime> {
        self.requests.get(id).map(|r| r.t_req)
    }

    pub(crate) fn response_time(&self, id: &str) -> Option<SimTime> {
        self.responses.get(id).copied()
    }

    /// `entry` is missing: schedule a request (an existing one keeps its `T_req`).
    pub(crate) fn add_missing(
        &mut self,
        now: SimTime,
        config: &RepairConfig,
        own_id: &str,
        entry: &HistoryEntry,
    ) {
        if self.requests.contains_key(&entry.message_id) {
            return;
        }
        let t_req = now + request_delay(config, own_id, &entry.message_id);
        if self.requests.len() >= config.max_buffer.max(1) {
            match self.by_t_req.last() {
                Some((last, id)) if *last > t_req => {
                    let id = id.clone();
                    self.drop_request(&id);
                }
                _ => return,
            }
        }
        let id = entry.message_id.clone();
        self.eligible.insert((t_req, id.clone()));
        self.by_t_req.insert((t_req, id.clone()));
        self.requests.insert(
            id,
            Request {
                entry: entry.clone(),
                t_req,
                requested: false,
            },
        );
    }

    fn drop_request(&mut self, id: &str) -> bool {
        let Some(r) = self.requests.remove(id) else {
            return false;
        };
        self.eligible.remove(&(r.t_req, id.to_string()));
        self.by_t_req.remove(&(r.t_req, id.to_string()));
        true
    }

    fn drop_response(&mut self, id: &str) -> bool {
        let Some(t) = self.responses.remove(id) else {
            return false;
        };
        self.by_t_resp.remove(&(t, id.to_string()));
        true
    }

    /// The earliest `T_req` not yet requested.
    pub(crate) fn next_eligible(&self) -> Option<SimTime> {
        self.eligible.first().map(|(t, _)| *t)
    }

    /// Whether a request is due and not yet sent.
    pub(crate) fn has_eligible(&self, now: SimTime) -> bool {
        self.next_eligible().is_some_and(|t| t <= now)
    }

    /// Up to `max` due requests, lowest `T_req` first, marked as requested.
    pub(crate) fn take_eligible(&mut self, now: SimTime, max: usize) -> Vec<HistoryEntry> {
        let mut taken = Vec::new();
        while taken.len() < max {
            match self.eligible.first() {
                Some((t, _)) if *t <= now => {}
                _ => break,
            }
            let (_, id) = self.eligible.pop_first().expect("checked above");
            if let Some(r) = self.requests.get_mut(&id) {
                r.requested = true;
                taken.push(r.entry.clone());
            }
        }
        taken
    }

    /// The message `id` was seen (received, delivered or declared met): nothing to ask for
    /// or answer any more. Returns (request dropped, response dropped).
    pub(crate) fn seen(&mut self, id: &str) -> (bool, bool) {
        (self.drop_request(id), self.drop_response(id))
    }

    /// Someone asked for `entry`: drop our own request for it and, if `held` locally and in
    /// the response group, schedule an answer (an earlier one is kept). Returns whether an
    /// own request was suppressed.
    pub(crate) fn on_request(
        &mut self,
        now: SimTime,
        config: &RepairConfig,
        own_id: &str,
        entry: &HistoryEntry,
        held: bool,
    ) -> bool {
        let suppressed = self.drop_request(&entry.message_id);
        let Some(sender) = entry.sender_id.as_deref().filter(|s| !s.is_empty()) else {
            return suppressed;
        };
        if !held
            || self.responses.contains_key(&entry.message_id)
            || !in_response_group(
                config.num_response_groups,
                own_id,
                sender,
                &entry.message_id,
            )
        {
            return suppressed;
        }
        let t_resp = now + response_delay(config, own_id, sender, &entry.message_id);
        if self.responses.len() >= config.max_buffer.max(1) {
            match self.by_t_resp.last() {
                Some((last, id)) if *last > t_resp => {
                    let id = id.clone();
                    self.drop_response(&id);
                }
                _ => return suppressed,
            }
        }
        self.responses.insert(entry.message_id.clone(), t_resp);
        self.by_t_resp.insert((t_resp, entry.message_id.clone()));
        suppressed
    }

    /// The earliest due answer or request expiry.
    pub(crate) fn next_sweep(&self, t_max: SimDuration) -> Option<SimTime> {
        let response = self.by_t_resp.first().map(|(t, _)| *t);
        let expiry = self.by_t_req.first().map(|(t, _)| t.saturating_add(t_max));
        match (response, expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Removes and returns the answers due at `now` (earliest first) and drops requests
    /// `T_max` or more past their `T_req`.
    pub(crate) fn sweep(&mut self, now: SimTime, t_max: SimDuration) -> Vec<String> {
        let mut due = Vec::new();
        while let Some((t, _)) = self.by_t_resp.first() {
            if *t > now {
                break;
            }
            let (_, id) = self.by_t_resp.pop_first().expect("checked above");
            self.responses.remove(&id);
            due.push(id);
        }
        while let Some((t, id)) = self.by_t_req.first() {
            if t.saturating_add(t_max) > now {
                break;
            }
            let id = id.clone();
            self.drop_request(&id);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_delays_stay_within_bounds() {
        let config = RepairConfig::nim_sds();
        for i in 0..200 {
            let id = format!("msg-{i}");
            let req = request_delay(&config, "me", &id);
            assert!(req >= config.t_min && req < config.t_max, "{req:?}");
            let resp = response_delay(&config, "me", &format!("peer-{i}"), &id);
            assert!(resp < config.t_max, "{resp:?}");
        }
        assert_eq!(
            response_delay(&config, "alice", "alice", "m"),
            SimDuration::ZERO
        );
        let flat = RepairConfig {
            t_max: SimDuration::from_secs(30),
            ..RepairConfig::js_waku()
        };
        assert_eq!(request_delay(&flat, "me", "m"), flat.t_min);
        assert_eq!(repair_hash(&["ab", "c"]), repair_hash(&["a", "bc"]));
    }

    #[test]
    fn response_groups_split_participants() {
        assert!(in_response_group(1, "a", "b", "m"));
        let groups = 4;
        let members = (0..400)
            .filter(|i| in_response_group(groups, &format!("p{i}"), "sender", "m"))
            .count();
        assert!(
            (60..140).contains(&members),
            "{members} of 400 in one of 4 groups"
        );
        assert!(in_response_group(groups, "sender", "sender", "m"));
    }

    #[test]
    fn eligible_requests_go_lowest_first_and_only_once() {
        let config = RepairConfig::spec();
        let mut repair = Repair::default();
        let now = SimTime::ZERO;
        for i in 0..5 {
            repair.add_missing(now, &config, "me", &HistoryEntry::new(format!("m{i}")));
        }
        assert!(!repair.has_eligible(now));
        let later = now + config.t_max;
        let mut order: Vec<(SimTime, String)> = (0..5)
            .map(|i| {
                let id = format!("m{i}");
                (repair.request_time(&id).unwrap(), id)
            })
            .collect();
        order.sort();
        let first = repair.take_eligible(later, 3);
        let ids: Vec<&str> = first.iter().map(|e| e.message_id.as_str()).collect();
        let want: Vec<&str> = order[..3].iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, want);
        assert_eq!(repair.take_eligible(later, 3).len(), 2);
        assert!(repair.take_eligible(later, 3).is_empty());
        assert_eq!(repair.pending_requests(), 5);
        assert_eq!(repair.seen("m0"), (true, false));
        // Requests expire T_max after their T_req.
        repair.sweep(
            later + config.t_max + SimDuration::from_secs(1),
            config.t_max,
        );
        assert_eq!(repair.pending_requests(), 0);
    }
}
