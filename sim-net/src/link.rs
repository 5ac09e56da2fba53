//! Link models: one-way latency distributions, jitter, loss (i.i.d. or Gilbert–Elliott
//! bursts), duplication, and the region latency matrix.
//!
//! A [`LinkModel`] describes the path between two nodes; the network samples it once per
//! transmission attempt. Everything is data (serde) so scenarios can declare and change it
//! during a run. Durations are [`SimDuration`]s; probabilities are floats in `[0, 1]`
//! resolved to 2^-64 by [`SimRng::bernoulli`].

use serde::Deserialize;
use sim_core::{SimDuration, SimRng};

/// A one-way latency distribution.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyDist {
    /// Always `value`.
    Constant {
        /// The latency.
        value: SimDuration,
    },
    /// Uniform in `[min, max]`.
    Uniform {
        /// Lower bound.
        min: SimDuration,
        /// Upper bound.
        max: SimDuration,
    },
    /// Normal with a floor (samples below the floor are raised to it).
    Normal {
        /// Mean.
        mean: SimDuration,
        /// Standard deviation.
        sd: SimDuration,
        /// Minimum.
        floor: SimDuration,
    },
    /// Lognormal with the given median and shape `sigma` (of the underlying normal).
    LogNormal {
        /// Median (= e^mu).
        median: SimDuration,
        /// Shape.
        sigma: f64,
    },
    /// `floor` plus an exponential with mean `mean_extra` (TigerBeetle's packet simulator).
    ExponentialAboveFloor {
        /// Minimum.
        floor: SimDuration,
        /// Mean of the exponential part.
        mean_extra: SimDuration,
    },
}

impl LatencyDist {
    /// A constant latency.
    pub const fn constant(value: SimDuration) -> Self {
        LatencyDist::Constant { value }
    }

    /// Draws one latency.
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        let ns = |d: &SimDuration| d.as_nanos() as f64;
        let value = match self {
            LatencyDist::Constant { value } => return *value,
            LatencyDist::Uniform { min, max } => {
                return SimDuration(rng.range_inclusive(min.0, max.0.max(min.0)));
            }
            LatencyDist::Normal { mean, sd, floor } => rng.normal(ns(mean), ns(sd)).max(ns(floor)),
            LatencyDist::LogNormal { median, sigma } => {
                ns(median) * sim_core::rng::exp(*sigma * rng.standard_normal())
            }
            LatencyDist::ExponentialAboveFloor { floor, mean_extra } => {
                ns(floor) + rng.exponential(ns(mean_extra))
            }
        };
        // Cap at one hour: a latency beyond that is a configuration error, not a network.
        SimDuration(value.clamp(0.0, 3.6e12) as u64)
    }

    /// The distribution's mean (for RTO estimates and documentation).
    pub fn mean(&self) -> SimDuration {
        let ns = |d: &SimDuration| d.as_nanos() as f64;
        let mean = match self {
            LatencyDist::Constant { value } => ns(value),
            LatencyDist::Uniform { min, max } => (ns(min) + ns(max)) / 2.0,
            // Ignores the floor's (usually negligible) effect.
            LatencyDist::Normal { mean, .. } => ns(mean),
            LatencyDist::LogNormal { median, sigma } => {
                ns(median) * sim_core::rng::exp(sigma * sigma / 2.0)
            }
            LatencyDist::ExponentialAboveFloor { floor, mean_extra } => ns(floor) + ns(mean_extra),
        };
        SimDuration(mean as u64)
    }

    /// Checks parameters; the error says what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            LatencyDist::Uniform { min, max } if min > max => Err(format!(
                "uniform latency needs min <= max (min={min}, max={max})"
            )),
            LatencyDist::LogNormal { sigma, .. } if !(0.0..=10.0).contains(sigma) => {
                Err(format!("lognormal sigma must be in [0, 10], got {sigma}"))
            }
            _ => Ok(()),
        }
    }
}

/// Packet loss per transmission attempt.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LossModel {
    /// No loss.
    None,
    /// Each attempt is lost independently with probability `p`.
    Iid {
        /// Loss probability.
        p: f64,
    },
    /// Gilbert–Elliott: a two-state Markov chain (good/bad) stepped once per attempt.
    GilbertElliott {
        /// Probability of moving good → bad.
        p_good_to_bad: f64,
        /// Probability of moving bad → good.
        p_bad_to_good: f64,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
}

impl LossModel {
    /// Decides one attempt; `bad` is the per-direction Gilbert–Elliott state.
    pub fn lose(&self, bad: &mut bool, rng: &mut SimRng) -> bool {
        match self {
            LossModel::None => false,
            LossModel::Iid { p } => rng.bernoulli(*p),
            LossModel::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_good,
                loss_bad,
            } => {
                let flip = if *bad { *p_bad_to_good } else { *p_good_to_bad };
                if rng.bernoulli(flip) {
                    *bad = !*bad;
                }
                rng.bernoulli(if *bad { *loss_bad } else { *loss_good })
            }
        }
    }

    /// The long-run loss rate.
    pub fn mean_loss(&self) -> f64 {
        match self {
            LossModel::None => 0.0,
            LossModel::Iid { p } => *p,
            LossModel::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_good,
                loss_bad,
            } => {
                let total = p_good_to_bad + p_bad_to_good;
                if total == 0.0 {
                    return *loss_good;
                }
                let share_bad = p_good_to_bad / total;
                share_bad * loss_bad + (1.0 - share_bad) * loss_good
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        let probabilities: &[(&str, f64)] = match self {
            LossModel::None => &[],
            LossModel::Iid { p } => &[("p", *p)],
            LossModel::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_good,
                loss_bad,
            } => &[
                ("p_good_to_bad", *p_good_to_bad),
                ("p_bad_to_good", *p_bad_to_good),
                ("loss_good", *loss_good),
                ("loss_bad", *loss_bad),
            ],
        };
        check_probabilities(probabilities)
    }
}

fn check_probabilities(fields: &[(&str, f64)]) -> Result<(), String> {
    match fields.iter().find(|(_, p)| !(0.0..=1.0).contains(p)) {
        Some((name, p)) => Err(format!("{name} must be a probability in [0, 1], got {p}")),
        None => Ok(()),
    }
}

/// Everything that shapes one direction of a path between two nodes.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkModel {
    /// One-way propagation latency.
    pub latency: LatencyDist,
    /// Extra delay drawn uniformly from `[0, jitter]` per attempt.
    #[serde(default)]
    pub jitter: SimDuration,
    /// Datagram semantics only: whether jitter may reorder messages on a connection.
    /// (Stream semantics always deliver in order.)
    #[serde(default)]
    pub reorder: bool,
    /// Loss per transmission attempt.
    #[serde(default = "no_loss")]
    pub loss: LossModel,
    /// Datagram semantics only: probability that a delivered message is delivered twice.
    #[serde(default)]
    pub duplicate: f64,
}

fn no_loss() -> LossModel {
    LossModel::None
}

impl Default for LinkModel {
    /// 50 ms constant latency, no jitter, no loss.
    fn default() -> Self {
        LinkModel::constant(SimDuration::from_millis(50))
    }
}

impl LinkModel {
    /// A perfect link with constant latency.
    pub fn constant(latency: SimDuration) -> Self {
        LinkModel {
            latency: LatencyDist::constant(latency),
            jitter: SimDuration::ZERO,
            reorder: false,
            loss: LossModel::None,
            duplicate: 0.0,
        }
    }

    /// This model with i.i.d. loss `p`.
    pub fn with_loss(mut self, p: f64) -> Self {
        self.loss = LossModel::Iid { p };
        self
    }

    /// One attempt's one-way delay: latency plus jitter.
    pub fn sample_delay(&self, rng: &mut SimRng) -> SimDuration {
        let latency = self.latency.sample(rng);
        if self.jitter.0 == 0 {
            latency
        } else {
            latency + SimDuration(rng.range_inclusive(0, self.jitter.0))
        }
    }

    /// Checks parameters; the error says what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        self.latency.validate()?;
        self.loss.validate()?;
        check_probabilities(&[("duplicate", self.duplicate)])
    }
}

/// One-way base latencies between regions, added to the link model's latency.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionMatrix {
    /// Region names, in matrix order.
    pub regions: Vec<String>,
    /// `one_way[a][b]`: base latency from region `a` to region `b`.
    pub one_way: Vec<Vec<SimDuration>>,
}

impl RegionMatrix {
    /// Checks that the matrix is square and matches the region list.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.regions.len();
        if n == 0 || n > u16::MAX as usize {
            return Err(format!("region matrix needs 1..=65535 regions, got {n}"));
        }
        if self.one_way.len() != n || self.one_way.iter().any(|row| row.len() != n) {
            return Err(format!(
                "region matrix must be {n}x{n} to match the region list"
            ));
        }
        Ok(())
    }

    /// The base latency from region `a` to region `b`.
    pub fn base(&self, a: u16, b: u16) -> SimDuration {
        self.one_way[a as usize][b as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean, p50 and p99 of `n` samples, in nanoseconds.
    fn sample_stats(dist: &LatencyDist, n: usize) -> (f64, f64, f64) {
        let mut rng = SimRng::from_seed(77);
        let mut samples: Vec<u64> = (0..n).map(|_| dist.sample(&mut rng).0).collect();
        samples.sort_unstable();
        let mean = samples.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let quantile = |q: f64| samples[((n as f64 * q) as usize).min(n - 1)] as f64;
        (mean, quantile(0.5), quantile(0.99))
    }

    fn within(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance * expected
    }

    /// 10^5 samples match each distribution's analytic mean, p50 and p99 within 2%.
    #[test]
    fn latency_samples_match_their_distribution() {
        let ms = |v: f64| v * 1e6;
        let cases: Vec<(LatencyDist, f64, f64, f64)> = vec![
            (
                LatencyDist::Uniform {
                    min: SimDuration::from_millis(50),
                    max: SimDuration::from_millis(150),
                },
                ms(100.0),
                ms(100.0),
                ms(149.0),
            ),
            (
                // Floor 5 sd below the mean: no visible effect.
                LatencyDist::Normal {
                    mean: SimDuration::from_millis(100),
                    sd: SimDuration::from_millis(10),
                    floor: SimDuration::from_millis(50),
                },
                ms(100.0),
                ms(100.0),
                ms(100.0 + 2.326_348 * 10.0),
            ),
            (
                LatencyDist::LogNormal {
                    median: SimDuration::from_millis(80),
                    sigma: 0.5,
                },
                ms(80.0 * 1.133_148_453),
                ms(80.0),
                ms(80.0 * 3.200_712_5), // e^(0.5 * 2.326348)
            ),
            (
                LatencyDist::ExponentialAboveFloor {
                    floor: SimDuration::from_millis(20),
                    mean_extra: SimDuration::from_millis(30),
                },
                ms(50.0),
                ms(20.0 + 30.0 * std::f64::consts::LN_2),
                ms(20.0 + 30.0 * 4.605_170),
            ),
        ];
        for (dist, mean, p50, p99) in cases {
            let (m, q50, q99) = sample_stats(&dist, 100_000);
            assert!(within(m, mean, 0.02), "{dist:?}: mean {m} vs {mean}");
            assert!(within(q50, p50, 0.02), "{dist:?}: p50 {q50} vs {p50}");
            assert!(within(q99, p99, 0.02), "{dist:?}: p99 {q99} vs {p99}");
            assert!(
                within(dist.mean().0 as f64, mean, 0.001),
                "{dist:?}: analytic mean"
            );
        }
    }

    #[test]
    fn gilbert_elliott_long_run_loss_matches() {
        let model = LossModel::GilbertElliott {
            p_good_to_bad: 0.01,
            p_bad_to_good: 0.09,
            loss_good: 0.0,
            loss_bad: 0.8,
        };
        let mut rng = SimRng::from_seed(5);
        let mut bad = false;
        let n = 400_000;
        let lost = (0..n).filter(|_| model.lose(&mut bad, &mut rng)).count();
        let rate = lost as f64 / n as f64;
        assert!(
            (rate - model.mean_loss()).abs() < 0.01,
            "{rate} vs {}",
            model.mean_loss()
        );
        assert!((model.mean_loss() - 0.08).abs() < 1e-12);
    }

    #[test]
    fn validation_names_the_field() {
        let bad = LinkModel::default().with_loss(1.5);
        assert_eq!(
            bad.validate().unwrap_err(),
            "p must be a probability in [0, 1], got 1.5"
        );
        let bad = LatencyDist::Uniform {
            min: SimDuration::from_millis(5),
            max: SimDuration::from_millis(1),
        };
        assert!(bad.validate().unwrap_err().contains("min <= max"));
        let matrix = RegionMatrix {
            regions: vec!["eu".into(), "us".into()],
            one_way: vec![vec![SimDuration::ZERO; 2]],
        };
        assert!(matrix.validate().unwrap_err().contains("2x2"));
    }
}
