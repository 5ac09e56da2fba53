//! The application API: what the reliability protocols and traffic generators (the `App`
//! running inside a [`WakuNode`](super::WakuNode)) see of Waku.
//!
//! An [`App`] is a sans-IO machine like the protocols below it: the node calls it with
//! [`WakuEvent`]s, commands and timers, and it acts through a [`WakuApi`]: publish on relay,
//! lightpush, filter subscribe, store query, timers, randomness, observations. The same API can
//! be implemented over real libp2p swarms, so a reliability protocol is written once.

use std::fmt::Debug;

use sim_core::{AppObservation, Audit, Ctx, SimDuration, SimRng, SimTime, TimerId};

use super::core::{Core, TimerKind, timer_tag};
use crate::filter::{FilterClientError, FilterClientOutput};
use crate::lightpush::{LightPushClientError, LightPushClientOutput};
use crate::message::MessageId;
use crate::peer_manager::Capabilities;
use crate::proto::WakuMessage;
use crate::relay::{PeerId, PublishError};
use crate::store::{QueryId, StoreClientError, StoreClientOutput, StoreQuery};
use crate::wire::WakuFrame;

/// Something the node tells its application.
#[derive(Clone, Debug)]
pub enum WakuEvent {
    /// A message arrived (relay delivery or filter push), or our own relay publish echoed back
    /// (`own = true`, nwaku's `triggerSelf`).
    Message {
        /// Its pubsub topic.
        pubsub_topic: String,
        /// The message.
        message: WakuMessage,
        /// Relay or filter push.
        path: sim_core::DeliveryPath,
        /// The peer it came from (`None` for our own publish).
        from: Option<PeerId>,
    },
    /// A lightpush request finished (pushed or failed).
    LightPush(LightPushClientOutput),
    /// A store query produced a page, finished or failed.
    Store(StoreClientOutput),
    /// A filter request finished, or a subscription was lost.
    Filter(FilterClientOutput),
    /// A connection to `peer` is up.
    PeerConnected {
        /// The peer.
        peer: PeerId,
    },
    /// The connection to `peer` is gone.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
    },
    /// The host's network went down or came back (as the OS reports it).
    NetworkChanged {
        /// Up or down.
        online: bool,
    },
    /// The peer manager's online check changed its verdict.
    OnlineChanged {
        /// Up or down.
        online: bool,
    },
    /// The keep-alive loop noticed that the host slept for `gap`.
    SleepDetected {
        /// Time since the previous loop run.
        gap: SimDuration,
    },
}

/// The application running on a Waku node (a reliability protocol with its traffic).
pub trait App {
    /// Commands the scenario schedules (e.g. "send message 17 to conversation 3").
    type Command: Debug + Audit;

    /// The node (re)started; relay subscriptions and static dials are already under way.
    fn start(&mut self, api: &mut WakuApi<'_, '_>);
    /// A scheduled command.
    fn command(&mut self, command: Self::Command, api: &mut WakuApi<'_, '_>);
    /// Something happened below.
    fn event(&mut self, event: WakuEvent, api: &mut WakuApi<'_, '_>);
    /// A timer set with [`WakuApi::set_timer`] fired.
    fn timer(&mut self, tag: u64, api: &mut WakuApi<'_, '_>);
    /// The process died: drop volatile state, keep what the application persists.
    fn crash(&mut self);
}

/// An application that does nothing (service nodes without traffic, tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoApp;

/// The command type of [`NoApp`].
#[derive(Clone, Copy, Debug)]
pub enum Never {}

impl Audit for Never {
    fn audit(&self, _: &mut sim_core::AuditHasher) {
        match *self {}
    }
}

impl App for NoApp {
    type Command = Never;
    fn start(&mut self, _: &mut WakuApi<'_, '_>) {}
    fn command(&mut self, command: Never, _: &mut WakuApi<'_, '_>) {
        match command {}
    }
    fn event(&mut self, _: WakuEvent, _: &mut WakuApi<'_, '_>) {}
    fn timer(&mut self, _: u64, _: &mut WakuApi<'_, '_>) {}
    fn crash(&mut self) {}
}

/// The application's handle on the node during one call.
pub struct WakuApi<'a, 'b> {
    pub(super) core: &'a mut Core,
    pub(super) cx: &'a mut Ctx<'b, WakuFrame, AppObservation>,
}

impl WakuApi<'_, '_> {
    /// The node's local time.
    pub fn now(&self) -> SimTime {
        self.cx.now()
    }

    /// This node's id.
    pub fn id(&self) -> PeerId {
        self.cx.id()
    }

    /// The node's random stream.
    pub fn rng(&mut self) -> &mut SimRng {
        self.cx.rng()
    }

    /// Records an observation for the ground-truth oracle.
    pub fn observe(&mut self, observation: AppObservation) {
        self.cx.observe(observation);
    }

    /// Sets an application timer (`tag` must be below 2^56).
    pub fn set_timer(&mut self, after: SimDuration, tag: u64) -> TimerId {
        self.cx.set_timer(after, timer_tag(TimerKind::App, tag))
    }

    /// Cancels an application timer.
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.cx.cancel_timer(timer);
    }

    /// True if this node runs relay.
    pub fn has_relay(&self) -> bool {
        self.core.machines.relay.is_some()
    }

    /// Publishes on relay (a light client gets [`PublishError::NoPeers`]).
    pub fn relay_publish(
        &mut self,
        pubsub_topic: &str,
        message: WakuMessage,
    ) -> Result<MessageId, PublishError> {
        self.core.relay_publish(pubsub_topic, message, self.cx)
    }

    /// Relay peers currently on `pubsub_topic` (mesh and others).
    pub fn relay_peer_count(&self, pubsub_topic: &str) -> usize {
        self.core
            .machines
            .relay
            .as_ref()
            .map_or(0, |r| r.peers_on_topic(pubsub_topic))
    }

    /// Pushes `message` through the lightpush service `peer`; the outcome arrives as
    /// [`WakuEvent::LightPush`] with the returned request id.
    pub fn lightpush(
        &mut self,
        peer: PeerId,
        pubsub_topic: Option<String>,
        message: WakuMessage,
    ) -> Result<String, LightPushClientError> {
        let now = self.cx.now();
        let m = &mut self.core.machines;
        m.lightpush_client.push(
            now,
            self.cx.rng(),
            peer,
            pubsub_topic,
            message,
            &mut self.core.out.lightpush_client,
        )
    }

    /// Subscribes to `content_topics` on `pubsub_topic` at filter service `peer`.
    pub fn filter_subscribe(
        &mut self,
        peer: PeerId,
        pubsub_topic: &str,
        content_topics: &[String],
    ) -> Result<String, FilterClientError> {
        let now = self.cx.now();
        self.core.machines.filter_client.subscribe(
            now,
            self.cx.rng(),
            peer,
            pubsub_topic,
            content_topics,
            &mut self.core.out.filter_client,
        )
    }

    /// Unsubscribes from everything at filter service `peer`.
    pub fn filter_unsubscribe_all(&mut self, peer: PeerId) -> Result<String, FilterClientError> {
        let now = self.cx.now();
        self.core.machines.filter_client.unsubscribe_all(
            now,
            self.cx.rng(),
            peer,
            &mut self.core.out.filter_client,
        )
    }

    /// Filter service peers this node has subscriptions at.
    pub fn filter_service_peers(&self) -> Vec<PeerId> {
        self.core.machines.filter_client.service_peers()
    }

    /// Sends `query` to store node `peer`; results arrive as [`WakuEvent::Store`].
    pub fn store_query(
        &mut self,
        peer: PeerId,
        query: StoreQuery,
    ) -> Result<QueryId, StoreClientError> {
        let now = self.cx.now();
        self.cx.observe(AppObservation::Counter {
            name: "store_queries",
            delta: 1,
        });
        self.core.machines.store_client.query(
            now,
            self.cx.rng(),
            peer,
            query,
            &mut self.core.out.store_client,
        )
    }

    /// A random known peer offering `capability` (from the peer manager's store).
    pub fn service_peer(&mut self, capability: Capabilities) -> Option<PeerId> {
        self.core
            .machines
            .peer_manager
            .select_service_peer(self.cx.rng(), capability)
    }

    /// Known peers offering `capability`, in id order (from the directory).
    pub fn service_peers(&self, capability: Capabilities) -> Vec<PeerId> {
        self.core
            .directory
            .iter()
            .filter(|r| r.capabilities().contains(capability) && r.id() != self.cx.id())
            .map(|r| r.id())
            .collect()
    }

    /// True if a connection to `peer` is up.
    pub fn is_connected(&self, peer: PeerId) -> bool {
        self.core.conns.contains_key(&peer)
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.core.conns.len()
    }
}
