//! Relay sharding (WAKU2-RELAY-SHARDING / RFC 51, 64/WAKU2-NETWORK): static-shard pubsub
//! topics `/waku/2/rs/<cluster_id>/<shard_id>`, content-topic parsing, and autosharding
//! (content topic → shard).
//!
//! Autosharding hashes only the application and version parts of a content topic:
//! `shard = u64_be(SHA-256(application ‖ version)[24..32]) mod shard_count`, as nwaku's
//! `getGenZeroShard` and go-waku's `GetShardFromContentTopic` do. Only generation 0 exists.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Shards per cluster (RFC 51).
pub const MAX_SHARDS_PER_CLUSTER: u32 = 1024;

/// The Waku Network: cluster 1 with 8 autosharded shards (RFC 64).
pub const TWN_CLUSTER_ID: u16 = 1;
/// Number of shards of The Waku Network.
pub const TWN_SHARD_COUNT: u32 = 8;

/// nwaku's default pubsub topic (cluster 0, shard 0).
pub const DEFAULT_PUBSUB_TOPIC: &str = "/waku/2/rs/0/0";
/// The legacy named pubsub topic (deprecated; still go-waku's `DefaultPubsubTopic`).
pub const LEGACY_DEFAULT_PUBSUB_TOPIC: &str = "/waku/2/default-waku/proto";

const STATIC_SHARD_PREFIX: &str = "/waku/2/rs/";

/// Why a topic string or sharding parameter was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// A pubsub topic that is not `/waku/2/rs/<cluster>/<shard>`.
    #[error(
        "pubsub topic {topic:?} is not a static shard topic /waku/2/rs/<cluster_id>/<shard_id>"
    )]
    NotStaticShard {
        /// The topic given.
        topic: String,
    },
    /// A numeric part that is not a decimal u16.
    #[error("{part} {value:?} is not a decimal number in 0..=65535")]
    BadNumber {
        /// Which part (`cluster_id`, `shard_id`, `generation`).
        part: &'static str,
        /// The text found.
        value: String,
    },
    /// A content topic that does not start with `/`.
    #[error("content topic {topic:?} must start with '/'")]
    MissingLeadingSlash {
        /// The topic given.
        topic: String,
    },
    /// A content topic with neither 4 nor 5 parts.
    #[error(
        "content topic {topic:?} has {parts} parts; expected /<application>/<version>/<name>/<encoding> \
         or /<generation>/<application>/<version>/<name>/<encoding>"
    )]
    WrongPartCount {
        /// The topic given.
        topic: String,
        /// Number of `/`-separated parts found.
        parts: usize,
    },
    /// A content topic with an empty part.
    #[error("content topic {topic:?} has an empty {part}")]
    EmptyPart {
        /// The topic given.
        topic: String,
        /// Which part is empty.
        part: &'static str,
    },
    /// Autosharding of a generation other than 0 (nwaku: "Generation > 0 are not supported yet").
    #[error("content topic generation {generation} is not supported (only generation 0 is)")]
    UnsupportedGeneration {
        /// The generation found.
        generation: u16,
    },
    /// A shard count outside `1..=1024`.
    #[error("shard count {count} is outside 1..={MAX_SHARDS_PER_CLUSTER}")]
    BadShardCount {
        /// The count given.
        count: u32,
    },
}

/// One relay shard: a (cluster, shard) pair, whose pubsub topic is `/waku/2/rs/<cluster>/<shard>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelayShard {
    /// Cluster id (0–15 reserved, 1 = The Waku Network, 16 = Status).
    pub cluster_id: u16,
    /// Shard number within the cluster.
    pub shard_id: u16,
}

impl RelayShard {
    /// The shard `shard_id` of cluster `cluster_id`.
    pub const fn new(cluster_id: u16, shard_id: u16) -> Self {
        Self {
            cluster_id,
            shard_id,
        }
    }

    /// The pubsub topic string, e.g. `/waku/2/rs/1/3`.
    pub fn pubsub_topic(&self) -> String {
        self.to_string()
    }

    /// Parses `/waku/2/rs/<cluster_id>/<shard_id>` (decimal u16 parts, as nwaku accepts).
    pub fn parse(topic: &str) -> Result<Self, TopicError> {
        let not_static = || TopicError::NotStaticShard {
            topic: topic.to_string(),
        };
        let rest = topic
            .strip_prefix(STATIC_SHARD_PREFIX)
            .ok_or_else(not_static)?;
        let (cluster, shard) = rest.split_once('/').ok_or_else(not_static)?;
        if shard.contains('/') || cluster.is_empty() || shard.is_empty() {
            return Err(not_static());
        }
        Ok(Self {
            cluster_id: parse_u16("cluster_id", cluster)?,
            shard_id: parse_u16("shard_id", shard)?,
        })
    }
}

impl fmt::Display for RelayShard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{STATIC_SHARD_PREFIX}{}/{}",
            self.cluster_id, self.shard_id
        )
    }
}

impl FromStr for RelayShard {
    type Err = TopicError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Decimal digits only (no sign, no spaces), value in `u16`.
fn parse_u16(part: &'static str, value: &str) -> Result<u16, TopicError> {
    let bad = || TopicError::BadNumber {
        part,
        value: value.to_string(),
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    value.parse().map_err(|_| bad())
}

/// A parsed content topic `[/<generation>]/<application>/<version>/<name>/<encoding>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentTopic<'a> {
    /// The generation prefix, if present.
    pub generation: Option<u16>,
    /// Application name (hashed by autosharding).
    pub application: &'a str,
    /// Application version (hashed by autosharding).
    pub version: &'a str,
    /// Topic name.
    pub name: &'a str,
    /// Payload encoding, e.g. `proto`.
    pub encoding: &'a str,
}

impl<'a> ContentTopic<'a> {
    /// Parses a content topic as nwaku does: 4 or 5 non-empty `/`-separated parts after a
    /// leading `/`; with 5, the first is a numeric generation.
    pub fn parse(topic: &'a str) -> Result<Self, TopicError> {
        let rest = topic
            .strip_prefix('/')
            .ok_or_else(|| TopicError::MissingLeadingSlash {
                topic: topic.to_string(),
            })?;
        let parts: Vec<&str> = rest.split('/').collect();
        let (generation, named) = match parts.len() {
            4 => (None, &parts[..]),
            5 => {
                if parts[0].is_empty() {
                    return Err(TopicError::EmptyPart {
                        topic: topic.to_string(),
                        part: "generation",
                    });
                }
                (Some(parse_u16("generation", parts[0])?), &parts[1..])
            }
            n => {
                return Err(TopicError::WrongPartCount {
                    topic: topic.to_string(),
                    parts: n,
                });
            }
        };
        for (value, part) in named
            .iter()
            .zip(["application", "version", "topic-name", "encoding"])
        {
            if value.is_empty() {
                return Err(TopicError::EmptyPart {
                    topic: topic.to_string(),
                    part,
                });
            }
        }
        Ok(Self {
            generation,
            application: named[0],
            version: named[1],
            name: named[2],
            encoding: named[3],
        })
    }

    /// The shard this content topic maps to in a cluster with `shard_count` autosharded shards.
    pub fn shard(&self, cluster_id: u16, shard_count: u32) -> Result<RelayShard, TopicError> {
        match self.generation {
            None | Some(0) => {}
            Some(generation) => return Err(TopicError::UnsupportedGeneration { generation }),
        }
        let shard_id = gen_zero_shard_id(self.application, self.version, shard_count)?;
        Ok(RelayShard::new(cluster_id, shard_id))
    }
}

/// Generation-0 autosharding: the last 8 bytes of SHA-256(application ‖ version) as a
/// big-endian u64, modulo `shard_count` (which must be in `1..=1024`).
pub fn gen_zero_shard_id(
    application: &str,
    version: &str,
    shard_count: u32,
) -> Result<u16, TopicError> {
    if shard_count == 0 || shard_count > MAX_SHARDS_PER_CLUSTER {
        return Err(TopicError::BadShardCount { count: shard_count });
    }
    let mut hasher = Sha256::new();
    hasher.update(application.as_bytes());
    hasher.update(version.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&digest[24..32]);
    let shard = u64::from_be_bytes(tail) % u64::from(shard_count);
    Ok(u16::try_from(shard).expect("shard < shard_count <= 1024 fits in u16"))
}

/// Autosharding of a content topic string: parse, then [`ContentTopic::shard`].
pub fn autoshard(
    content_topic: &str,
    cluster_id: u16,
    shard_count: u32,
) -> Result<RelayShard, TopicError> {
    ContentTopic::parse(content_topic)?.shard(cluster_id, shard_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_autosharding_vector() {
        // WAKU2-RELAY-SHARDING example: SHA-256("myapp" ‖ "1") = 8e54…4928, 8 shards → 0.
        let digest: [u8; 32] = Sha256::digest(b"myapp1").into();
        assert_eq!(digest[0..4], [0x8e, 0x54, 0x11, 0x78]);
        assert_eq!(digest[28..32], [0x80, 0x2d, 0x49, 0x28]);
        assert_eq!(gen_zero_shard_id("myapp", "1", 8), Ok(0));
    }

    #[test]
    fn nwaku_autosharding_vectors() {
        // nwaku tests/waku_core/topics/test_sharding.nim (cluster 1, 8 shards).
        let cases = [
            ("/toychat/2/huilong/proto", 3),
            ("/0/toychat/2/huilong/proto", 3),
            ("/toychat2/2/huilong/proto", 6),
            ("/0/toychat2/2/huilong/proto", 6),
            ("/toychat/2/huilong/proto2", 3),
            ("/0/toychat/2/huilong/proto2", 3),
            ("/0/toychat/4/huilong/proto2", 7),
        ];
        for (topic, shard) in cases {
            assert_eq!(
                autoshard(topic, TWN_CLUSTER_ID, TWN_SHARD_COUNT),
                Ok(RelayShard::new(1, shard)),
                "{topic}"
            );
        }
        assert_eq!(
            autoshard("/toychat/2/huilong/proto", 1, 8)
                .unwrap()
                .pubsub_topic(),
            "/waku/2/rs/1/3"
        );
    }

    #[test]
    fn autosharding_rejects_what_nwaku_rejects() {
        assert_eq!(
            autoshard("/1/toychat/2/huilong/proto", 1, 8),
            Err(TopicError::UnsupportedGeneration { generation: 1 })
        );
        assert!(matches!(
            autoshard("invalid", 1, 8),
            Err(TopicError::MissingLeadingSlash { .. })
        ));
        assert!(matches!(
            autoshard("/a/b/c", 1, 8),
            Err(TopicError::WrongPartCount { parts: 3, .. })
        ));
        assert!(matches!(
            autoshard("/a//c/d", 1, 8),
            Err(TopicError::EmptyPart {
                part: "version",
                ..
            })
        ));
        assert!(matches!(
            autoshard("/x/a/1/c/d", 1, 8),
            Err(TopicError::BadNumber {
                part: "generation",
                ..
            })
        ));
        assert_eq!(
            autoshard("/a/1/c/d", 1, 0),
            Err(TopicError::BadShardCount { count: 0 })
        );
        assert_eq!(
            autoshard("/a/1/c/d", 1, 1025),
            Err(TopicError::BadShardCount { count: 1025 })
        );
        // One shard: everything lands on shard 0 (nwaku's default outside TWN).
        assert_eq!(autoshard("/a/1/c/d", 0, 1), Ok(RelayShard::new(0, 0)));
    }

    #[test]
    fn content_topic_parts() {
        let t = ContentTopic::parse("/0/app/1/chat/proto").unwrap();
        assert_eq!(
            (t.generation, t.application, t.version, t.name, t.encoding),
            (Some(0), "app", "1", "chat", "proto")
        );
        let t = ContentTopic::parse(crate::message::DEFAULT_CONTENT_TOPIC).unwrap();
        assert_eq!(
            (t.generation, t.application, t.version),
            (None, "waku", "2")
        );
    }

    #[test]
    fn static_shard_topics_round_trip() {
        let shard = RelayShard::new(16, 1023);
        assert_eq!(shard.pubsub_topic(), "/waku/2/rs/16/1023");
        assert_eq!(RelayShard::parse("/waku/2/rs/16/1023"), Ok(shard));
        assert_eq!("/waku/2/rs/0/0".parse(), Ok(RelayShard::new(0, 0)));
        assert_eq!(
            RelayShard::parse(DEFAULT_PUBSUB_TOPIC).unwrap().to_string(),
            DEFAULT_PUBSUB_TOPIC
        );
        for bad in [
            LEGACY_DEFAULT_PUBSUB_TOPIC,
            "/waku/2/rs/1",
            "/waku/2/rs/1/",
            "/waku/2/rs//3",
            "/waku/2/rs/1/3/4",
            "waku/2/rs/1/3",
        ] {
            assert!(
                matches!(
                    RelayShard::parse(bad),
                    Err(TopicError::NotStaticShard { .. })
                ),
                "{bad}"
            );
        }
        for bad in [
            "/waku/2/rs/+1/3",
            "/waku/2/rs/1/-3",
            "/waku/2/rs/65536/0",
            "/waku/2/rs/1/x",
        ] {
            assert!(
                matches!(RelayShard::parse(bad), Err(TopicError::BadNumber { .. })),
                "{bad}"
            );
        }
    }
}
