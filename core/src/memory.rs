//! Memory budgets for script runs.
//!
//! A run's budget ([`Budget`]) counts the heap memory its script allocates: every allocation
//! made on a thread while the run is [entered](Budget::enter) there — the script thread and
//! each `parallel` branch — is charged to it, and every deallocation on such a thread is
//! credited. The runtime checks the budget at every script operation and stops a script that
//! went over it with [`crate::Error::MemoryLimit`] (its `on_exit` blocks still run, with
//! [`Budget::cleanup_headroom`] more room).
//!
//! Counting needs [`CountingAlloc`] as the program's global allocator. A library does not
//! choose the allocator of the program that uses it, so meetkit only provides the type; the
//! `meetkit` binary, the Python module and the C library declare it:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: meetkit::memory::CountingAlloc = meetkit::memory::CountingAlloc;
//! ```
//!
//! Without it, [`counting`] is false, [`crate::script::Limits::default`] has no memory budget,
//! and a run given one explicitly fails at once with a `config` error saying why.
//!
//! What is counted: the run's own threads only. Memory allocated for the run on other
//! threads (the HTTP connection tasks of the shared tokio runtime, download buffers) is not
//! charged; memory allocated elsewhere and freed by the script thread is credited, so the
//! count can be a little low over a long run — never by more than the vendor answers the
//! script received. Memory charged to a run and freed on another thread is not credited
//! (the count errs high there).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::{Error, Result};

/// The memory budget of a run when none is given (`meetkit run --max-memory`, Python and C
/// `max_memory`): 512 MiB.
pub const DEFAULT_MAX_MEMORY: u64 = 512 << 20;

/// A global allocator that wraps [`System`] and charges each allocation to the budget of the
/// run entered on the current thread (none: not counted). Declare it with
/// `#[global_allocator]` in the final program to enforce script memory budgets.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

thread_local! {
    // A raw pointer with a const initialiser: no destructor, no allocation on first use, so
    // the allocator can read it at any time (also while threads are torn down).
    static CURRENT: Cell<*const Budget> = const { Cell::new(std::ptr::null()) };
}

fn charge(delta: i64) {
    let _ = CURRENT.try_with(|current| {
        let budget = current.get();
        if !budget.is_null() {
            // SAFETY: `CURRENT` is non-null only while an `Entered` guard on this thread keeps
            // the budget alive (it holds an `Arc`), and the guard resets it before dropping.
            unsafe { (*budget).used.fetch_add(delta, Ordering::Relaxed) };
        }
    });
}

// SAFETY: every method forwards to `System` unchanged; counting touches no allocation.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `layout` comes from the caller under `GlobalAlloc::alloc`'s contract, forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            charge(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            charge(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (every allocation goes through it) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        charge(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`; `new_size` comes from the caller under `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            charge(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Whether [`CountingAlloc`] is this program's global allocator (checked once, by charging
/// a probe allocation to a throw-away budget).
pub fn counting() -> bool {
    static COUNTING: OnceLock<bool> = OnceLock::new();
    *COUNTING.get_or_init(|| {
        let probe = Budget::new(u64::MAX);
        let entered = probe.enter();
        let before = probe.used.load(Ordering::Relaxed);
        let block = std::hint::black_box(Vec::<u8>::with_capacity(4096));
        let after = probe.used.load(Ordering::Relaxed);
        drop(block);
        drop(entered);
        after - before >= 4096
    })
}

/// The heap memory one run may use, and what it uses now.
#[derive(Debug)]
pub struct Budget {
    limit: AtomicU64,
    used: AtomicI64,
}

impl Budget {
    /// A budget of `limit` bytes, nothing used yet.
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget { limit: AtomicU64::new(limit), used: AtomicI64::new(0) })
    }

    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Raise (or lower) the limit.
    pub fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Bytes charged and not credited back (0 when more was freed than charged).
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed).max(0) as u64
    }

    /// Whether the run uses more than its limit.
    pub fn exceeded(&self) -> bool {
        self.used() > self.limit()
    }

    /// The room `on_exit` blocks get above the limit: a quarter of it, between 8 and 64 MiB.
    pub fn cleanup_headroom(limit: u64) -> u64 {
        (limit / 4).clamp(8 << 20, 64 << 20)
    }

    /// Charge this thread's allocations to the budget until the guard drops (which restores
    /// what the thread was charging before).
    pub fn enter(self: &Arc<Self>) -> Entered {
        let budget = self.clone();
        let previous = CURRENT.with(|c| c.replace(Arc::as_ptr(&budget)));
        Entered { budget, previous }
    }
}

/// Returned by [`Budget::enter`]; the thread charges its budget while this lives.
#[derive(Debug)]
pub struct Entered {
    budget: Arc<Budget>,
    previous: *const Budget,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous;
        CURRENT.with(|c| c.set(previous));
        let _ = &self.budget; // dropped after `CURRENT` no longer points at it
    }
}

/// A byte size as `--max-memory` takes it: `536870912`, `512M`, `512MB`, `512MiB`, `1G`,
/// `64k` (units are powers of 1024, case-insensitive). Zero, negative, fractional or
/// unreadable sizes are errors naming `what`.
pub fn parse_size(text: &str, what: &str) -> Result<u64> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => u32::MAX,
    };
    let bad = || {
        Error::config(format!(
            "{what}: `{text}` is not a memory size; give a positive number of bytes with an optional unit \
             (K, M, G, T), e.g. 256M"
        ))
    };
    if number.is_empty() || shift == u32::MAX {
        return Err(bad());
    }
    let n: u64 = number.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(Error::config(format!("{what}: the memory budget must be more than 0 (got `{text}`)")));
    }
    n.checked_mul(1u64 << shift).ok_or_else(bad)
}

/// A size in bytes as text people read (`512 MiB`, `1.50 GiB`, `300 KiB`, `12 bytes`).
pub fn human(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let v = bytes as f64 / size as f64;
            return if bytes.is_multiple_of(size) {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{v:.2} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

// The unit tests of the whole crate run with the counting allocator, so this module's tests
// (and the script runtime's) can check budgets.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOC: CountingAlloc = CountingAlloc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("4096", "--max-memory").unwrap(), 4096);
        assert_eq!(parse_size("256M", "--max-memory").unwrap(), 256 << 20);
        assert_eq!(parse_size("256 MiB", "--max-memory").unwrap(), 256 << 20);
        assert_eq!(parse_size("1g", "--max-memory").unwrap(), 1 << 30);
        assert_eq!(parse_size("64KB", "--max-memory").unwrap(), 64 << 10);
        for bad in ["0", "0M", "-1", "-5M", "1.5G", "", "M", "12 parsecs", "99999999999T"] {
            let e = parse_size(bad, "--max-memory").unwrap_err();
            assert_eq!(e.kind(), "config", "{bad}");
            assert!(e.to_string().contains("--max-memory: "), "{bad}: {e}");
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512 << 20), "512 MiB");
        assert_eq!(human(3 << 29), "1.50 GiB");
        assert_eq!(human((16 << 20) + 30_000), "16.03 MiB");
        assert_eq!(human(12), "12 bytes");
    }

    #[test]
    fn a_budget_counts_this_threads_allocations_only() {
        assert!(counting(), "the unit tests install CountingAlloc");
        let budget = Budget::new(1 << 20);
        let entered = budget.enter();
        let kept = vec![1u8; 300 << 10];
        assert!(budget.used() >= 300 << 10, "{}", budget.used());
        assert!(!budget.exceeded());
        // Another thread is not charged.
        std::thread::spawn(|| std::hint::black_box(vec![1u8; 4 << 20]).len()).join().unwrap();
        assert!(budget.used() < 1 << 20, "{}", budget.used());
        let more = vec![1u8; 1 << 20];
        assert!(budget.exceeded());
        drop(more);
        drop(kept);
        assert!(!budget.exceeded());
        assert!(budget.used() < 64 << 10, "{}", budget.used());
        drop(entered);
        let after = budget.used();
        let _outside = std::hint::black_box(vec![1u8; 1 << 20]);
        assert_eq!(budget.used(), after, "nothing is charged once the guard dropped");
    }

    #[test]
    fn entering_nests() {
        let (outer, inner) = (Budget::new(u64::MAX), Budget::new(u64::MAX));
        let _o = outer.enter();
        {
            let _i = inner.enter();
            std::hint::black_box(vec![0u8; 100_000]);
        }
        let before = outer.used();
        let kept = std::hint::black_box(vec![0u8; 100_000]);
        assert!(outer.used() >= before + 100_000);
        assert!(inner.used() < 100_000, "the inner budget was credited its own free");
        drop(kept);
    }
}
