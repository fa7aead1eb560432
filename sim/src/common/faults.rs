//! Fault injection: armed fault specs and the per-request decision.
//!
//! Several faults can be armed at once; each keeps its own seeded RNG so
//! a sequence of requests always meets the same sequence of failures.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// One fault as posted to `POST /_sim/faults`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    /// Delay every matching request by this long before answering.
    pub latency_ms: Option<u64>,
    /// Probability of an error answer (defaults to 1 when `error_status`
    /// or `error_code` is set).
    pub error_rate: Option<f64>,
    /// HTTP status of the error answer (default 503 unless `error_code`).
    pub error_status: Option<u16>,
    /// Vendor error code answered in the vendor envelope with HTTP 200.
    pub error_code: Option<i64>,
    /// Probability of closing the connection without any answer.
    pub drop_rate: Option<f64>,
    /// Probability of answering 200 with a broken JSON body.
    pub malformed_rate: Option<f64>,
    /// Send only this many body bytes, then cut the connection.
    pub drop_after_bytes: Option<u64>,
    /// `Retry-After` header of the error answer (`"2"` or an HTTP-date).
    pub retry_after: Option<String>,
    /// Replace the real answer's Content-Type (e.g. `text/html`).
    pub content_type: Option<String>,
    /// Send only this many body bytes, then stall for `stall_ms` before the rest.
    pub stall_after_bytes: Option<u64>,
    /// How long a stalled body stalls (default 60 s).
    pub stall_ms: Option<u64>,
    /// Serve the request as if it had no `Range` header (a file server without range
    /// support: the whole file, `200`).
    pub ignore_range: Option<bool>,
    /// Path prefixes the fault applies to (default: every vendor path).
    pub paths: Option<Vec<String>>,
    /// Fire on at most this many requests, then disarm.
    pub count: Option<u32>,
    /// RNG seed for the rates (default 0).
    pub seed: Option<u64>,
}

impl FaultSpec {
    /// Check ranges; returns a human-readable complaint.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, rate) in
            [("error_rate", self.error_rate), ("drop_rate", self.drop_rate), ("malformed_rate", self.malformed_rate)]
        {
            if let Some(r) = rate {
                if !(0.0..=1.0).contains(&r) {
                    return Err(format!("{name} must be within 0..=1"));
                }
            }
        }
        if let Some(s) = self.error_status {
            if !(100..=999).contains(&s) {
                return Err("error_status must be an HTTP status".into());
            }
        }
        Ok(())
    }

    fn effective_error_rate(&self) -> f64 {
        match self.error_rate {
            Some(r) => r,
            None if self.error_status.is_some() || self.error_code.is_some() => 1.0,
            None => 0.0,
        }
    }

    fn matches(&self, path: &str) -> bool {
        match &self.paths {
            None => true,
            Some(prefixes) => prefixes.iter().any(|p| path.starts_with(p.as_str())),
        }
    }
}

/// How a faulted request ends instead of reaching the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Terminal {
    /// Close the connection without an answer.
    Drop,
    /// Answer with this HTTP status.
    Status(u16),
    /// Answer HTTP 200 with this vendor error code.
    Code(i64),
    /// Answer HTTP 200 with unparseable JSON.
    Malformed,
}

/// The combined effect of all armed faults on one request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Total injected latency.
    pub latency: Duration,
    /// Replace the answer (first firing fault wins).
    pub terminal: Option<Terminal>,
    /// Truncate the real answer's body after this many bytes.
    pub truncate_after: Option<u64>,
    /// `Retry-After` of an error answer.
    pub retry_after: Option<String>,
    /// Content-Type replacing the real answer's.
    pub content_type: Option<String>,
    /// Stall the real answer's body after this many bytes, for this long.
    pub stall: Option<(u64, Duration)>,
    /// Drop the request's `Range` header before it is served.
    pub ignore_range: bool,
}

struct Armed {
    spec: FaultSpec,
    rng: StdRng,
    remaining: Option<u32>,
}

/// The armed faults of one server.
#[derive(Default)]
pub(crate) struct FaultSet {
    armed: Mutex<Vec<Armed>>,
}

impl FaultSet {
    /// Arm one more fault.
    pub(crate) fn arm(&self, spec: FaultSpec) {
        let rng = StdRng::seed_from_u64(spec.seed.unwrap_or(0));
        let remaining = spec.count;
        self.armed.lock().expect("faults lock").push(Armed { spec, rng, remaining });
    }

    /// Disarm everything.
    pub(crate) fn clear(&self) {
        self.armed.lock().expect("faults lock").clear();
    }

    /// Currently armed specs with their remaining counts.
    pub(crate) fn list(&self) -> serde_json::Value {
        let armed = self.armed.lock().expect("faults lock");
        serde_json::Value::Array(
            armed.iter().map(|a| serde_json::json!({"spec": a.spec, "remaining": a.remaining})).collect(),
        )
    }

    /// Roll the dice for one request to `path`. A fault counts against its
    /// `count` only when at least one of its effects fired.
    pub(crate) fn decide(&self, path: &str) -> Decision {
        let mut decision = Decision::default();
        let mut armed = self.armed.lock().expect("faults lock");
        for a in armed.iter_mut() {
            if a.remaining == Some(0) || !a.spec.matches(path) {
                continue;
            }
            let mut fired = false;
            if let Some(ms) = a.spec.latency_ms {
                decision.latency += Duration::from_millis(ms);
                fired = true;
            }
            let terminal = roll(&mut a.rng, a.spec.drop_rate.unwrap_or(0.0))
                .then_some(Terminal::Drop)
                .or_else(|| {
                    roll(&mut a.rng, a.spec.effective_error_rate()).then(|| {
                        match (a.spec.error_code, a.spec.error_status) {
                            (Some(code), _) => Terminal::Code(code),
                            (None, status) => Terminal::Status(status.unwrap_or(503)),
                        }
                    })
                })
                .or_else(|| roll(&mut a.rng, a.spec.malformed_rate.unwrap_or(0.0)).then_some(Terminal::Malformed));
            if let Some(t) = terminal {
                fired = true;
                decision.terminal.get_or_insert(t);
            }
            if let Some(n) = a.spec.drop_after_bytes {
                fired = true;
                decision.truncate_after.get_or_insert(n);
            }
            if let Some(ct) = &a.spec.content_type {
                fired = true;
                decision.content_type.get_or_insert_with(|| ct.clone());
            }
            if a.spec.ignore_range == Some(true) {
                fired = true;
                decision.ignore_range = true;
            }
            if let Some(n) = a.spec.stall_after_bytes {
                fired = true;
                decision.stall.get_or_insert((n, Duration::from_millis(a.spec.stall_ms.unwrap_or(60_000))));
            }
            if fired {
                if let Some(ra) = &a.spec.retry_after {
                    decision.retry_after.get_or_insert_with(|| ra.clone());
                }
            }
            if fired {
                if let Some(r) = a.remaining.as_mut() {
                    *r -= 1;
                }
            }
        }
        armed.retain(|a| a.remaining != Some(0));
        decision
    }
}

/// True with probability `rate`; never consumes randomness for 0 or 1 so
/// that certain faults do not perturb the sequence of uncertain ones.
fn roll(rng: &mut StdRng, rate: f64) -> bool {
    if rate <= 0.0 {
        false
    } else if rate >= 1.0 {
        true
    } else {
        rng.random::<f64>() < rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_one_fails_exactly_next_request() {
        let set = FaultSet::default();
        set.arm(FaultSpec { error_status: Some(503), count: Some(1), ..Default::default() });
        assert_eq!(set.decide("/x").terminal, Some(Terminal::Status(503)));
        assert_eq!(set.decide("/x"), Decision::default());
    }

    #[test]
    fn ignore_range_fires_and_counts() {
        let set = FaultSet::default();
        set.arm(FaultSpec { ignore_range: Some(true), count: Some(1), ..Default::default() });
        assert!(set.decide("/attachment").ignore_range);
        assert!(!set.decide("/attachment").ignore_range);
    }

    #[test]
    fn paths_filter_and_seeded_rates_are_deterministic() {
        let run = || {
            let set = FaultSet::default();
            set.arm(FaultSpec {
                drop_rate: Some(0.5),
                paths: Some(vec!["/a".into()]),
                seed: Some(7),
                ..Default::default()
            });
            assert_eq!(set.decide("/b"), Decision::default());
            (0..32).map(|_| set.decide("/a/x").terminal.is_some()).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.iter().any(|b| *b) && first.iter().any(|b| !*b));
    }
}
