//! Virtual clock: real wall-clock time plus an offset the admin API can
//! advance. All simulated state transitions are computed lazily from it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall clock plus an adjustable offset (microsecond resolution).
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_us: AtomicI64,
}

impl Clock {
    /// Current virtual time in (fractional) Unix seconds.
    pub(crate) fn now(&self) -> f64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default();
        real + self.offset_us.load(Ordering::SeqCst) as f64 / 1e6
    }

    /// Move virtual time forward by `seconds`.
    pub(crate) fn advance(&self, seconds: f64) {
        let us = (seconds * 1e6).round() as i64;
        self.offset_us.fetch_add(us, Ordering::SeqCst);
    }

    /// Total offset from real time, in seconds.
    pub(crate) fn offset(&self) -> f64 {
        self.offset_us.load(Ordering::SeqCst) as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_time_forward() {
        let c = Clock::default();
        let a = c.now();
        c.advance(3600.0);
        assert!(c.now() - a >= 3600.0);
        assert_eq!(c.offset(), 3600.0);
    }
}
