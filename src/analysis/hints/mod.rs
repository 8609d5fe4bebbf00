//! Leak-pattern hints: rules that look at an analysed dump and say what is leaking, what
//! keeps it, and what to change. One module per family of rules; every rule is a function
//! `fn(&Analysis) -> Vec<Hint>` and its thresholds are small pure functions with unit tests.
//!
//! Hints are plain data (Serialize). Evidence objects carry both the dense object number (for
//! the GUI, to open paths to GC roots) and the dump's hex id (for JSON readers).

pub mod classloaders;
pub mod clients;
pub mod garbage;
mod merge;
pub mod offheap;
pub mod owner;
pub mod present;
pub mod sessions;
pub mod suspects;
pub mod threadlocals;
pub mod threads;
pub mod waste;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Analysis;
use crate::format::bytes;
use crate::heap::{HeapIndex, ObjectId};

/// How urgently a hint deserves a look: follows from its share and its [`Certainty`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

/// How sure a rule is that what it found is a problem, whatever its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    /// A heuristic: worth a look, often fine.
    Possible,
    /// A known pattern or a big accumulation, usually a problem.
    Likely,
    /// A defect by definition (a stopped web app still loaded, clients never closed).
    Certain,
}

/// What kind of problem a hint names. Only `Leak` hints claim that something is leaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// What a hint's bytes at stake (`retained_bytes`) are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stake {
    /// Heap bytes the evidence keeps alive (retained size).
    Retained,
    /// Native memory outside the heap, estimated from the objects that own it.
    EstimatedNative,
    /// Unreachable heap bytes not yet collected.
    Unreachable,
    /// Heap bytes that could be saved.
    Wasted,
}

impl Stake {
    /// The words after the byte count: "12.8 MB retained".
    pub fn words(self) -> &'static str {
        match self {
            Stake::Retained => "retained",
            Stake::EstimatedNative => "of native memory (estimated)",
            Stake::Unreachable => "unreachable",
            Stake::Wasted => "wasted",
        }
    }
}

/// An object that backs a hint; the GUI links it to its paths to GC roots.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// One number of a hint, as a person reads it: `("Dump taken", "2026-11-30 05:12 UTC")`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// One finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hint {
    /// Stable rule name, e.g. `leak_suspect`, `sessions`, `classloader_leak`.
    #[serde(deserialize_with = "rule_name")]
    pub rule: RuleName,
    pub category: Category,
    pub severity: Severity,
    pub certainty: Certainty,
    pub title: String,
    /// Bytes at stake, ranked on: what [`Hint::stake`] says they are.
    pub retained_bytes: u64,
    /// `retained_bytes` as a share of [`Hint::percent_base`], in percent (0 to 100).
    pub percent_of_heap: f64,
    pub stake: Stake,
    /// The base of the percentage in words, with its size: "the live heap (27.0 MB)".
    pub percent_base: String,
    pub percent_base_bytes: u64,
    /// One line for a badge: "12.8 MB retained, 47.3% of the live heap (27.0 MB)".
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// What the dump shows and why it matters.
    pub explanation: String,
    /// What to change.
    pub fix: String,
    /// The numbers behind the hint, by key (counts, bytes, milliseconds), for programs.
    pub numbers: BTreeMap<String, u64>,
    /// The same numbers labelled in words, with units, dates and durations, for people.
    pub facts: Vec<Fact>,
    /// The dump is incomplete (truncated or unreadable in parts): reachability is partial.
    pub partial_reachability: bool,
    /// Objects whose retained bytes make up `retained_bytes` (one hint per cause: no two
    /// leak hints claim the same objects).
    #[serde(skip)]
    pub claimed: Vec<ObjectId>,
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

/// `part` as a percentage of `whole`, at most 100.
pub fn percent_of(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        ((part.min(whole) as f64 * 1000.0 / whole as f64).round() / 10.0).min(100.0)
    }
}

/// The reachable heap, the base of every share.
pub fn reachable_bytes(a: &Analysis) -> u64 {
    a.dominators.reachable_bytes.max(1)
}

/// Why reachability is partial in this dump (it is truncated, or parts could not be read),
/// from the index's warnings; `None` for a complete dump.
pub fn partial_reachability(index: &HeapIndex) -> Option<String> {
    const SIGNS: [&str; 4] = [
        "the dump is truncated",
        "GC roots point to objects that are not in the dump",
        "name a class the dump does not describe",
        "have field data of a different length",
    ];
    index
        .warnings()
        .iter()
        .find(|w| SIGNS.iter().any(|s| w.contains(s)))
        .cloned()
}

/// "unreachable garbage" on a complete dump; on an incomplete one, what is really known.
pub fn unreachable_words(a: &Analysis) -> &'static str {
    if partial_reachability(&a.index).is_some() {
        "not reachable from what the dump holds (it is incomplete)"
    } else {
        "unreachable garbage"
    }
}

/// Severity from the share of the hint's base and the rule's certainty.
pub fn severity_for(share: f64, certainty: Certainty, category: Category) -> Severity {
    let s = match certainty {
        Certainty::Certain if share >= 5.0 => Severity::High,
        Certainty::Certain => Severity::Medium,
        Certainty::Likely if share >= 20.0 => Severity::High,
        Certainty::Likely if share >= 2.0 => Severity::Medium,
        Certainty::Likely => Severity::Low,
        Certainty::Possible if share >= 20.0 => Severity::Medium,
        Certainty::Possible => Severity::Low,
    };
    // Garbage is never urgent: the next collection frees it.
    if category == Category::Garbage {
        s.min(Severity::Medium)
    } else {
        s
    }
}

/// Fills in shares, severities and labelled facts, lets specific hints absorb the generic
/// suspects they explain, and ranks by bytes at stake.
fn finish(a: &Analysis, hints: Vec<Hint>) -> Vec<Hint> {
    let mut hints = merge::one_hint_per_cause(a, hints);
    let live = reachable_bytes(a);
    let whole = a.dominators.reachable_bytes + a.dominators.unreachable_bytes;
    let partial = partial_reachability(&a.index);
    for h in &mut hints {
        let (base, base_words) = match h.stake {
            Stake::Retained | Stake::Wasted => (live, "the live heap"),
            Stake::Unreachable => (whole.max(1), "the whole dump (live and garbage)"),
            Stake::EstimatedNative => (
                live + h.retained_bytes,
                "the live heap plus this native memory",
            ),
        };
        h.percent_of_heap = percent_of(h.retained_bytes, base);
        h.percent_base_bytes = base;
        h.percent_base = if a.dominators.reachable_bytes == 0 && h.stake != Stake::Unreachable {
            format!("{base_words} (nothing reachable was read)")
        } else {
            format!("{base_words} ({})", bytes(base))
        };
        h.summary = format!(
            "{} {}, {:.1}% of {}",
            bytes(h.retained_bytes),
            h.stake.words(),
            h.percent_of_heap,
            h.percent_base
        );
        h.severity = severity_for(h.percent_of_heap, h.certainty, h.category);
        h.facts = present::facts(&h.numbers);
        if let Some(why) = &partial {
            h.partial_reachability = true;
            h.explanation.push_str(&format!(
                "\nReachability is partial: {why}. Objects the dump lost may keep what is shown \
                 here as unreachable, and retained sizes count only what was read."
            ));
        }
    }
    hints.sort_by(|x, y| {
        y.retained_bytes
            .cmp(&x.retained_bytes)
            .then(y.severity.cmp(&x.severity))
            .then(x.rule.cmp(y.rule))
    });
    hints
}

/// Every leak-pattern hint for an analysed dump, most bytes at stake first.
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

/// Spelled as an alias so that serde's derive does not take the field for a string borrowed
/// from the input (which would tie `Hint` to `'static` input).
pub type RuleName = &'static str;

/// A rule name read back from an index file, as the `&'static str` the rules use: each
/// distinct name is kept once for the life of the process (there are about twenty).
fn rule_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let name = String::deserialize(d)?;
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    Ok(match names.get(name.as_str()) {
        Some(&known) => known,
        None => {
            let leaked: &'static str = Box::leak(name.into_boxed_str());
            names.insert(leaked);
            leaked
        }
    })
}

/// A new hint with no evidence or numbers yet; [`leak_hints`] sets its severity from its
/// share and `certainty`.
pub fn hint(
    rule: &'static str,
    category: Category,
    certainty: Certainty,
    stake: Stake,
    title: String,
) -> Hint {
    Hint {
        rule,
        category,
        severity: Severity::Info,
        certainty,
        title,
        retained_bytes: 0,
        percent_of_heap: 0.0,
        stake,
        percent_base: String::new(),
        percent_base_bytes: 0,
        summary: String::new(),
        evidence: Vec::new(),
        explanation: String::new(),
        fix: String::new(),
        numbers: BTreeMap::new(),
        facts: Vec::new(),
        partial_reachability: false,
        claimed: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(percent_of(1, 3), 33.3);
        assert_eq!(percent_of(5, 0), 0.0);
        assert_eq!(percent_of(7, 3), 100.0);
        assert_eq!(
            severity_for(40.0, Certainty::Likely, Category::Garbage),
            Severity::Medium
        );
        assert_eq!(
            severity_for(1.0, Certainty::Certain, Category::Leak),
            Severity::Medium
        );
        assert_eq!(
            severity_for(1.0, Certainty::Likely, Category::Leak),
            Severity::Low
        );
        assert_eq!(simple_name("java.util.HashMap"), "HashMap");
    }
}
