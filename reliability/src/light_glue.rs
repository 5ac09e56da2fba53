//! Glue between [`crate::layer::Layer`] and the [`LightClient`] machine for light clients under
//! the `light-client` variant: turns its outputs into lightpush requests, filter subscriptions
//! and store queries, and Waku events into its inputs. What the layer must do in return
//! (report a status, deliver a retrieved message) comes back as [`Effect`]s.
//!
//! Store queries: one content query (with data, ascending, 100 per page, at most
//! [`LightClientConfig::max_pages`](crate::light_client::LightClientConfig::max_pages) pages)
//! per pubsub topic of the conversations, to the connected store node number `attempt` (mod
//! their count; every known store node if none is connected).
//!
//! Bounds: lightpush requests and store queries remembered ≤ 10 000 each (oldest forgotten).

use std::collections::BTreeMap;
use std::rc::Rc;

use sim_core::{AppMessageId, AppObservation, BelievedStatus, NodeId, SimTime};
use waku::filter::{FilterClientOutput, FilterRequestKind};
use waku::lightpush::LightPushClientOutput;
use waku::node::{WakuApi, waku_timestamp};
use waku::peer_manager::Capabilities;
use waku::proto::WakuMessage;
use waku::store::{QueryId, StoreClientOutput, StoreQuery};

use crate::app::Conversation;
use crate::light_client::{GapToken, LightClient, LightClientConfig, LightClientOutput, SendKey};

/// Content topics per filter subscription request (the filter protocol's limit).
const MAX_TOPICS_PER_SUBSCRIBE: usize = 100;
/// Requests remembered per map.
const MAX_REQUESTS: usize = 10_000;
/// Store page size asked for.
const PAGE_SIZE: u64 = 100;

/// A message the machine sends: pubsub topic, message, application ids it carries.
pub type Item = (String, WakuMessage, Vec<AppMessageId>);

/// What the layer must do after a call.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Report `status` for these ids.
    Believe(Vec<AppMessageId>, BelievedStatus),
    /// A message retrieved from a store node, with its pubsub topic.
    Deliver(String, WakuMessage),
}

/// The light-client glue of one node.
#[derive(Debug)]
pub struct LightGlue {
    machine: LightClient<Item>,
    /// Pubsub topic → content topics of the conversations.
    interests: BTreeMap<String, Vec<String>>,
    pushes: BTreeMap<String, (SendKey, NodeId)>,
    queries: BTreeMap<QueryId, GapToken>,
    /// Per gap query: store queries still running and whether all succeeded so far.
    gaps: BTreeMap<GapToken, (usize, bool)>,
}

impl LightGlue {
    /// The glue for a light client in `conversations` with these service nodes.
    pub fn new(
        config: LightClientConfig,
        conversations: &[Rc<Conversation>],
        lightpush: Vec<NodeId>,
        filter: Vec<NodeId>,
    ) -> Self {
        let mut interests: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in conversations {
            interests
                .entry(c.pubsub_topic.clone())
                .or_default()
                .push(c.content_topic.clone());
        }
        LightGlue {
            machine: LightClient::new(config, lightpush, filter),
            interests,
            pushes: BTreeMap::new(),
            queries: BTreeMap::new(),
            gaps: BTreeMap::new(),
        }
    }

    /// The machine, for inspection.
    pub fn machine(&self) -> &LightClient<Item> {
        &self.machine
    }

    /// The node (re)started.
    pub fn start(&mut self, api: &mut WakuApi<'_, '_>) -> Vec<Effect> {
        let mut out = Vec::new();
        self.machine.start(&mut out);
        self.outputs(out, api)
    }

    /// The process died.
    pub fn crash(&mut self) {
        self.machine.crash();
        self.pushes.clear();
        self.queries.clear();
        self.gaps.clear();
    }

    /// Sends `message` carrying `ids`.
    pub fn send(
        &mut self,
        pubsub_topic: &str,
        message: WakuMessage,
        ids: Vec<AppMessageId>,
        api: &mut WakuApi<'_, '_>,
    ) -> Vec<Effect> {
        let mut out = Vec::new();
        self.machine.send(
            api.now(),
            (pubsub_topic.to_string(), message, ids),
            &mut out,
        );
        self.outputs(out, api)
    }

    /// A lightpush outcome; `None` if it is not one of ours.
    pub fn lightpush(
        &mut self,
        output: &LightPushClientOutput,
        api: &mut WakuApi<'_, '_>,
    ) -> Option<Vec<Effect>> {
        let (request_id, ok) = match output {
            LightPushClientOutput::Pushed { request_id, .. } => (request_id, true),
            LightPushClientOutput::Failed { request_id, .. } => (request_id, false),
            _ => return None,
        };
        let (key, peer) = self.pushes.remove(request_id)?;
        let mut out = Vec::new();
        self.machine.pushed(api.now(), key, peer, ok, &mut out);
        Some(self.outputs(out, api))
    }

    /// A filter event (every one is consumed).
    pub fn filter(
        &mut self,
        output: &FilterClientOutput,
        api: &mut WakuApi<'_, '_>,
    ) -> Vec<Effect> {
        let lost = match output {
            FilterClientOutput::SubscriptionLost { peer, .. } => Some(*peer),
            FilterClientOutput::Completed {
                peer,
                kind: FilterRequestKind::Subscribe,
                status,
                ..
            } if *status != Some(200) => {
                // Forget what the filter client may still hold there before moving on.
                let _ = api.filter_unsubscribe_all(*peer);
                Some(*peer)
            }
            _ => None,
        };
        let Some(peer) = lost else {
            return Vec::new();
        };
        counter(api, "light_filter_evicted", 1);
        let mut out = Vec::new();
        self.machine.subscription_lost(api.now(), peer, &mut out);
        self.outputs(out, api)
    }

    /// The host went offline (`false`) or came back (`true`).
    pub fn online(&mut self, online: bool, api: &mut WakuApi<'_, '_>) -> Vec<Effect> {
        let now = api.now();
        let mut out = Vec::new();
        if online {
            self.machine.came_online(now, &mut out);
        } else {
            self.machine.went_offline(now);
        }
        self.outputs(out, api)
    }

    /// The host slept for `gap`.
    pub fn slept(&mut self, gap: sim_core::SimDuration, api: &mut WakuApi<'_, '_>) -> Vec<Effect> {
        let mut out = Vec::new();
        self.machine.slept(api.now(), gap, &mut out);
        self.outputs(out, api)
    }

    /// A store outcome; `None` if it is not one of ours.
    pub fn store(
        &mut self,
        output: &StoreClientOutput,
        api: &mut WakuApi<'_, '_>,
    ) -> Option<Vec<Effect>> {
        let (query, ok) = match output {
            StoreClientOutput::Page {
                query, messages, ..
            } => {
                self.queries.get(query)?;
                let effects = messages
                    .iter()
                    .filter_map(|kv| Some((kv.pubsub_topic.clone()?, kv.message.clone()?)))
                    .map(|(topic, message)| Effect::Deliver(topic, message))
                    .collect();
                return Some(effects);
            }
            StoreClientOutput::Finished { query, .. } => (query, true),
            StoreClientOutput::Failed { query, .. } => (query, false),
            _ => return None,
        };
        let token = self.queries.remove(query)?;
        if !ok {
            counter(api, "light_store_query_failed", 1);
        }
        let Some(entry) = self.gaps.get_mut(&token) else {
            return Some(Vec::new());
        };
        entry.0 = entry.0.saturating_sub(1);
        entry.1 &= ok;
        if entry.0 > 0 {
            return Some(Vec::new());
        }
        let all_ok = entry.1;
        self.gaps.remove(&token);
        let mut out = Vec::new();
        self.machine.query_done(api.now(), token, all_ok, &mut out);
        Some(self.outputs(out, api))
    }

    /// The earliest retry.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.machine.poll_timeout()
    }

    /// Retries due now.
    pub fn timer(&mut self, api: &mut WakuApi<'_, '_>) -> Vec<Effect> {
        let mut out = Vec::new();
        self.machine.handle_timeout(api.now(), &mut out);
        self.outputs(out, api)
    }

    fn outputs(
        &mut self,
        out: Vec<LightClientOutput<Item>>,
        api: &mut WakuApi<'_, '_>,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut work: std::collections::VecDeque<_> = out.into();
        while let Some(output) = work.pop_front() {
            match output {
                LightClientOutput::Push { key, peer, copy } => {
                    let Some((topic, message, _)) = self.machine.item(key).cloned() else {
                        continue;
                    };
                    counter(api, "light_pushes", 1);
                    if copy > 0 {
                        counter(api, "light_push_copies", 1);
                        overhead(api, message.payload.len());
                    }
                    match api.lightpush(peer, Some(topic), message) {
                        Ok(request_id) => {
                            if self.pushes.len() >= MAX_REQUESTS {
                                self.pushes.pop_first();
                            }
                            self.pushes.insert(request_id, (key, peer));
                        }
                        Err(_) => {
                            let mut more = Vec::new();
                            self.machine.pushed(api.now(), key, peer, false, &mut more);
                            work.extend(more);
                        }
                    }
                }
                LightClientOutput::Subscribe { peer } => {
                    counter(api, "light_subscribes", 1);
                    for (pubsub_topic, topics) in &self.interests {
                        for chunk in topics.chunks(MAX_TOPICS_PER_SUBSCRIBE) {
                            // Local limits only; a refused SUBSCRIBE comes back as an event.
                            let _ = api.filter_subscribe(peer, pubsub_topic, chunk);
                        }
                    }
                }
                LightClientOutput::Query {
                    token,
                    from,
                    to,
                    attempt,
                } => {
                    let stores =
                        crate::layer::usable_stores(&api.service_peers(Capabilities::STORE), api);
                    let mut started = 0;
                    if !stores.is_empty() {
                        let peer = stores[attempt as usize % stores.len()];
                        counter(api, "light_store_queries", 1);
                        for (pubsub_topic, topics) in &self.interests {
                            let query = StoreQuery {
                                time_start: Some(waku_timestamp(from)),
                                time_end: Some(waku_timestamp(to)),
                                forward: true,
                                page_size: Some(PAGE_SIZE),
                                max_pages: self.machine.config().max_pages.max(1),
                                ..StoreQuery::content(pubsub_topic.clone(), topics.clone())
                            };
                            if let Ok(id) = api.store_query(peer, query) {
                                if self.queries.len() >= MAX_REQUESTS {
                                    self.queries.pop_first();
                                }
                                self.queries.insert(id, token);
                                started += 1;
                            }
                        }
                    }
                    if started == 0 {
                        let mut more = Vec::new();
                        self.machine.query_done(api.now(), token, false, &mut more);
                        work.extend(more);
                    } else {
                        self.gaps.insert(token, (started, true));
                    }
                }
                LightClientOutput::Sent((_, _, ids)) => {
                    effects.push(Effect::Believe(ids, BelievedStatus::Sent));
                }
                LightClientOutput::Failed((_, _, ids)) => {
                    effects.push(Effect::Believe(ids, BelievedStatus::Failed));
                }
            }
        }
        effects
    }
}

fn counter(api: &mut WakuApi<'_, '_>, name: &'static str, delta: u64) {
    api.observe(AppObservation::Counter { name, delta });
}

fn overhead(api: &mut WakuApi<'_, '_>, bytes: usize) {
    if bytes > 0 {
        api.observe(AppObservation::Overhead {
            bytes: u32::try_from(bytes).unwrap_or(u32::MAX),
        });
    }
}
