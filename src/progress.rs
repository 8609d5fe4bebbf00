//! Progress of a long load, shared between the worker threads and whoever watches them.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

pub mod terminal;

/// The phases of opening a dump, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Decompress,
    Read,
    Index,
    Graph,
    Dominators,
    RetainedSizes,
    Hints,
    SaveIndex,
    Done,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Decompress,
        Phase::Read,
        Phase::Index,
        Phase::Graph,
        Phase::Dominators,
        Phase::RetainedSizes,
        Phase::Hints,
        Phase::SaveIndex,
        Phase::Done,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Phase::Decompress => "decompress",
            Phase::Read => "read records",
            Phase::Index => "index objects",
            Phase::Graph => "reference graph",
            Phase::Dominators => "dominators",
            Phase::RetainedSizes => "retained sizes",
            Phase::Hints => "hints",
            Phase::SaveIndex => "write index",
            Phase::Done => "done",
        }
    }
}

/// Lock-free counters the loader updates and a viewer polls.
pub struct Progress {
    phase: AtomicUsize,
    done: AtomicU64,
    total: AtomicU64,
    cancelled: AtomicBool,
    phase_started: Mutex<Instant>,
    started: Instant,
    /// `HEAPSIGHT_TIMINGS=1` prints each phase's duration to stderr, for benchmarks.
    log_timings: bool,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            phase: AtomicUsize::new(0),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            cancelled: AtomicBool::new(false),
            phase_started: Mutex::new(Instant::now()),
            started: Instant::now(),
            log_timings: std::env::var_os("HEAPSIGHT_TIMINGS").is_some(),
        }
    }
}

/// Resident memory of this process in MB: now, at its peak so far, and the part of now that
/// is mapped file pages (the dump, an index file: the kernel can drop them) (Linux; zeros
/// elsewhere), for benchmark logs.
fn resident_mb() -> (u64, u64, u64) {
    let [rss, peak, file] = memory_status_mb(["VmRSS:", "VmHWM:", "RssFile:"]);
    (rss, peak, file)
}

/// Fields of `/proc/self/status` given in kB (`"VmRSS:"`, `"RssAnon:"`, …), in MB (Linux;
/// zeros elsewhere), for benchmark logs.
pub fn memory_status_mb<const N: usize>(names: [&str; N]) -> [u64; N] {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    names.map(|name| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    })
}

/// CPU seconds (user, system) this process has used and its minor page faults (Linux; zeros
/// elsewhere), for benchmark logs: a phase whose CPU time is close to its wall time ran on one
/// core; every fresh page of memory costs a fault.
fn cpu_seconds_and_faults() -> (f64, f64, u64) {
    // Fields 10, 14 and 15 of /proc/self/stat, after the parenthesised command name; the
    // times in USER_HZ ticks (100 per second on Linux).
    let field = |s: &str, k: usize| s.split_whitespace().nth(k)?.parse::<u64>().ok();
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 1..];
            Some((
                field(rest, 11)? as f64 / 100.0,
                field(rest, 12)? as f64 / 100.0,
                field(rest, 7)?,
            ))
        })
        .unwrap_or((0.0, 0.0, 0))
}

/// A snapshot of [`Progress`] for display.
#[derive(Debug, Clone, Copy)]
pub struct ProgressSnapshot {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
    pub phase_elapsed_s: f64,
    pub elapsed_s: f64,
}

impl ProgressSnapshot {
    /// Seconds left in this phase at the rate so far, once the rate means something.
    pub fn phase_remaining_s(&self) -> Option<f64> {
        if self.done == 0 || self.total == 0 || self.phase_elapsed_s < 0.2 {
            return None;
        }
        let rate = self.done as f64 / self.phase_elapsed_s;
        Some(self.total.saturating_sub(self.done) as f64 / rate)
    }
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn start(&self, phase: Phase, total: u64) {
        if self.log_timings {
            let prev = Phase::ALL[self.phase.load(Ordering::Relaxed).min(Phase::ALL.len() - 1)];
            let snap = self.snapshot();
            eprintln!(
                "[timing] {:<16} {:>8.3} s  (total {:.3} s)",
                prev.label(),
                snap.phase_elapsed_s,
                snap.elapsed_s
            );
        }
        self.phase.store(phase as usize, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        if let Ok(mut t) = self.phase_started.lock() {
            *t = Instant::now();
        }
    }

    /// With `HEAPSIGHT_TIMINGS` set, prints how long the current phase has run so far.
    pub fn mark(&self, step: &str) {
        if self.log_timings {
            let (user, system, faults) = cpu_seconds_and_faults();
            let (rss, peak, file) = resident_mb();
            eprintln!(
                "[timing]   {step:<14} {:>8.3} s  rss {rss} MB (peak {peak}, files {file})  cpu {user:.2}+{system:.2} s  faults {}k",
                self.snapshot().phase_elapsed_s,
                faults / 1000,
            );
        }
    }

    /// Sets how much this phase has to do, once a step finds out (starts nothing).
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    #[inline]
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    #[inline]
    pub fn set(&self, n: u64) {
        self.done.store(n, Ordering::Relaxed);
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        let phase = Phase::ALL[self.phase.load(Ordering::Relaxed).min(Phase::ALL.len() - 1)];
        let phase_elapsed_s = self
            .phase_started
            .lock()
            .map(|t| t.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        ProgressSnapshot {
            phase,
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            phase_elapsed_s,
            elapsed_s: self.started.elapsed().as_secs_f64(),
        }
    }
}
