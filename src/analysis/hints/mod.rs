//! Leak-pattern hints: rules that look at an analysed dump and say what is leaking, what
//! keeps it, and what to change. One module per family of rules; every rule is a function
//! `fn(&Analysis) -> Vec<Hint>` and its thresholds are small pure functions with unit tests.
//!
//! Hints are plain data (Serialize). Evidence objects carry both the dense object number (for
//! the GUI, to open paths to GC roots) and the dump's hex id (for JSON readers).

pub mod classloaders;
pub mod clients;
pub mod garbage;
pub mod offheap;
pub mod sessions;
pub mod suspects;
pub mod threadlocals;
pub mod threads;
pub mod waste;

use std::collections::BTreeMap;

use serde::Serialize;

use super::Analysis;
use crate::heap::{HeapIndex, ObjectId};

/// How urgently a hint deserves a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

/// What kind of problem a hint names. Only `Leak` hints claim that something is leaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Memory kept alive that should not be.
    Leak,
    /// Unreachable objects not yet collected: not a leak.
    Garbage,
    /// Native memory that the heap dump can count but not size.
    OffHeap,
    /// Threads and thread pools.
    Threads,
    /// Memory used inefficiently (duplicates, empty collections, big arrays).
    Waste,
}

/// An object that backs a hint; the GUI links it to its paths to GC roots.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Dense object number in the heap index.
    pub object: ObjectId,
    /// The dump's identifier, `0x…`.
    pub id: String,
    /// What this object is to the hint: `accumulation point`, `holder`, `instance`, ...
    pub role: String,
    /// `java.util.HashMap @ 0x…`, or a richer label (thread name, loader state).
    pub label: String,
    pub retained_bytes: u64,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Hint {
    /// Stable rule name, e.g. `leak_suspect`, `sessions`, `classloader_leak`.
    pub rule: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    /// Bytes at stake: retained by the evidence (or unreachable, for garbage).
    pub retained_bytes: u64,
    /// `retained_bytes` as a share of the reachable heap, in percent.
    pub percent_of_heap: f64,
    pub evidence: Vec<Evidence>,
    /// What the dump shows and why it matters.
    pub explanation: String,
    /// What to change.
    pub fix: String,
    /// The numbers behind the hint, by name (counts, bytes).
    pub numbers: BTreeMap<String, u64>,
}

impl Hint {
    pub fn is_leak(&self) -> bool {
        self.category == Category::Leak
    }
}

/// Builds an evidence entry for `o`.
pub fn evidence(a: &Analysis, o: ObjectId, role: &str, label: Option<String>) -> Evidence {
    let index = &a.index;
    Evidence {
        object: o,
        id: format!("0x{:x}", index.address(o)),
        role: role.to_string(),
        label: label.unwrap_or_else(|| index.describe(o)),
        retained_bytes: a.dominators.retained(o),
    }
}

/// Reachable from a GC root through strong references only (a `referent` of a weak, soft,
/// phantom reference or cleaner does not count), by the shortest-path tree.
pub fn strongly_reachable(a: &Analysis, o: ObjectId) -> bool {
    a.dominators.is_reachable(o) && a.shortest_paths.path(&a.index, &a.roots, o).is_some()
}

/// `part` as a percentage of `whole`.
pub fn percent_of(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// The reachable heap, the base of every share.
pub fn reachable_bytes(a: &Analysis) -> u64 {
    a.dominators.reachable_bytes.max(1)
}

/// Fills in `percent_of_heap` and sorts: most severe first, then most bytes.
fn finish(a: &Analysis, mut hints: Vec<Hint>) -> Vec<Hint> {
    let reachable = reachable_bytes(a);
    for h in &mut hints {
        h.percent_of_heap = percent_of(h.retained_bytes, reachable);
    }
    hints.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(y.retained_bytes.cmp(&x.retained_bytes))
            .then(x.rule.cmp(y.rule))
    });
    hints
}

/// Every leak-pattern hint for an analysed dump, most severe first.
pub fn leak_hints(a: &Analysis) -> Vec<Hint> {
    type Rule = fn(&Analysis) -> Vec<Hint>;
    const RULES: [Rule; 9] = [
        suspects::hints,
        clients::hints,
        sessions::hints,
        garbage::hints,
        classloaders::hints,
        threadlocals::hints,
        threads::hints,
        offheap::hints,
        waste::hints,
    ];
    use rayon::prelude::*;
    let hints: Vec<Hint> = RULES.par_iter().flat_map_iter(|rule| rule(a)).collect();
    finish(a, hints)
}

/// `java.util.HashMap`'s simple name `HashMap`, `Outer$Inner` → `Outer$Inner`.
pub fn simple_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// A short label for an object: a thread's name, or `describe`.
pub fn label_of(index: &HeapIndex, o: ObjectId) -> String {
    if super::java::is_thread(index, o) {
        if let Some(name) = super::java::field_string(index, o, "name") {
            return format!("thread \"{name}\" ({})", super::java::class_name(index, o));
        }
    }
    index.describe(o)
}

/// A new hint with no evidence or numbers yet.
pub fn hint(rule: &'static str, category: Category, severity: Severity, title: String) -> Hint {
    Hint {
        rule,
        category,
        severity,
        title,
        retained_bytes: 0,
        percent_of_heap: 0.0,
        evidence: Vec::new(),
        explanation: String::new(),
        fix: String::new(),
        numbers: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(percent_of(1, 3), 33.3);
        assert_eq!(percent_of(5, 0), 0.0);
        assert_eq!(simple_name("java.util.HashMap"), "HashMap");
    }
}
