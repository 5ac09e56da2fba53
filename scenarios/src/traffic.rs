//! Application traffic as a scenario declares it: `[[traffic]]` entries of direct messages
//! (1:1 pairs), private groups (k members) and community channels (n members), with who
//! takes part, how many conversations, the sending rate, message sizes, content topics and
//! shard assignment.
//!
//! This is only the declaration; the traffic generators (reliability crate) turn it into
//! messages with the run's seeded `traffic` stream.

use serde::Deserialize;
use sim_core::SimDuration;

use crate::faults::Selector;
use crate::model::keyword_enum;
use crate::units::ByteSize;

keyword_enum!(
    /// The shape of a conversation.
    TrafficKind, "traffic kind", {
        /// 1:1 direct messages between two members.
        Direct = "direct",
        /// A private group chat of `members` nodes.
        PrivateGroup = "private_group",
        /// A community channel of `members` nodes.
        CommunityChannel = "community_channel",
    }
);

keyword_enum!(
    /// What a rate counts.
    RatePer, "rate unit", {
        /// The rate applies to each conversation; each message's sender is drawn uniformly
        /// among the conversation's senders.
        Conversation = "conversation",
        /// The rate applies to each sender of each conversation.
        Sender = "sender",
    }
);

/// When messages are sent.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rate {
    /// One message every `every` (the first after one interval from `start`).
    Constant {
        /// Interval (positive).
        every: SimDuration,
    },
    /// A Poisson process with `mean` messages per `per`.
    Poisson {
        /// Mean messages per period (positive).
        mean: f64,
        /// The period.
        per: SimDuration,
    },
    /// Bursts of `messages` messages `spacing` apart; bursts arrive as a Poisson process
    /// with mean gap `mean_gap`.
    Bursty {
        /// Messages per burst (at least 1).
        messages: u32,
        /// Gap between messages of a burst.
        #[serde(default)]
        spacing: SimDuration,
        /// Mean time between burst starts (positive).
        mean_gap: SimDuration,
    },
}

impl Rate {
    /// Mean messages per second (for bounds and documentation).
    pub fn per_second(&self) -> f64 {
        match self {
            Rate::Constant { every } => 1.0 / every.as_secs_f64().max(1e-9),
            Rate::Poisson { mean, per } => mean / per.as_secs_f64().max(1e-9),
            Rate::Bursty {
                messages, mean_gap, ..
            } => f64::from(*messages) / mean_gap.as_secs_f64().max(1e-9),
        }
    }
}

/// Application payload sizes.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SizeDist {
    /// Always `value`.
    Constant {
        /// The size.
        value: ByteSize,
    },
    /// Uniform in `[min, max]`.
    Uniform {
        /// Smallest.
        min: ByteSize,
        /// Largest.
        max: ByteSize,
    },
    /// Lognormal with median `median` and shape `sigma`, capped at `max`.
    LogNormal {
        /// Median size.
        median: ByteSize,
        /// Shape of the underlying normal, in `[0, 10]`.
        sigma: f64,
        /// Cap (default: the largest allowed message).
        max: Option<ByteSize>,
    },
}

impl Default for SizeDist {
    /// 1 KiB.
    fn default() -> Self {
        SizeDist::Constant {
            value: ByteSize(1024),
        }
    }
}

/// Which pubsub shard a conversation's content topics go to.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ShardAssignment {
    /// Every conversation on shard `index` (static sharding).
    Fixed {
        /// Shard index (0..1024).
        index: u16,
    },
    /// Autosharding: the shard is derived from each content topic over `shards` shards.
    Auto {
        /// Number of shards (1..=1024).
        shards: u16,
    },
}

impl Default for ShardAssignment {
    /// Shard 0.
    fn default() -> Self {
        ShardAssignment::Fixed { index: 0 }
    }
}

/// One traffic source: `[[traffic]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// Optional name, unique among traffic entries (for reports).
    pub name: Option<String>,
    /// `direct`, `private_group` or `community_channel`.
    pub kind: TrafficKind,
    /// The nodes conversation members are drawn from.
    pub participants: Selector,
    /// Nodes added to every conversation on top of the drawn members (e.g. community owners).
    #[serde(default)]
    pub always_in: Option<Selector>,
    /// If set, only members matching it send; the others only receive.
    #[serde(default)]
    pub senders: Option<Selector>,
    /// Number of conversations (pairs, groups or channels).
    pub conversations: u32,
    /// Members drawn per conversation: 2 for `direct` (the default there), `k` for
    /// `private_group` (required), `n` for `community_channel` (default: every participant).
    pub members: Option<u32>,
    /// How often messages are sent.
    pub rate: Rate,
    /// Whether `rate` is per conversation (default) or per sender.
    #[serde(default = "rate_per_default")]
    pub rate_per: RatePer,
    /// Payload sizes (default constant 1 KiB).
    #[serde(default)]
    pub message_size: SizeDist,
    /// Content topics per conversation (default 1).
    #[serde(default = "one")]
    pub content_topics: u32,
    /// Shard assignment (default: fixed shard 0).
    #[serde(default)]
    pub shard: ShardAssignment,
    /// When sending starts (default 0s).
    #[serde(default)]
    pub start: SimDuration,
    /// When sending stops (default: the scenario's duration).
    pub stop: Option<SimDuration>,
    /// At most this many messages per rate stream: per conversation, or per sender with
    /// `rate_per = "sender"` (default: no cap).
    pub max_messages: Option<u64>,
}

fn rate_per_default() -> RatePer {
    RatePer::Conversation
}

fn one() -> u32 {
    1
}
