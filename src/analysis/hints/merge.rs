//! One hint per cause: a specific pattern (clients never closed, sessions, a class-loader
//! leak, thread-local caches) absorbs the generic leak suspect it explains, and a class-loader
//! leak absorbs the hint about the threads that pin it. The absorbed hint's numbers become the
//! specific hint's evidence.

use rustc_hash::FxHashSet;

use super::Hint;
use crate::analysis::Analysis;
use crate::heap::ObjectId;

/// Rules whose hints name a cause, in the order they are tried.
const SPECIFIC: [&str; 4] = [
    "clients_not_closed",
    "classloader_leak",
    "sessions",
    "thread_local_cache",
];

/// Share of a suspect's retained bytes a specific hint must claim to explain it.
const EXPLAINS_SHARE: f64 = 0.5;

/// Bytes of `suspect` that `claimed` accounts for: all of it when a claimed object dominates
/// the suspect, else the claimed objects the suspect dominates.
fn explained_bytes(a: &Analysis, suspect: ObjectId, claimed: &FxHashSet<ObjectId>) -> u64 {
    let tree = &a.dominators;
    let whole = tree.retained(suspect);
    if tree
        .dominators_of(suspect)
        .iter()
        .any(|d| claimed.contains(d))
    {
        return whole;
    }
    let mut sum = 0u64;
    for &c in claimed {
        // Counted once: the highest claimed object under the suspect.
        let chain = tree.dominators_of(c);
        let Some(pos) = chain.iter().position(|&d| d == suspect) else {
            continue;
        };
        if !chain[1..pos].iter().any(|d| claimed.contains(d)) {
            sum += tree.retained(c);
        }
    }
    sum.min(whole)
}

pub fn one_hint_per_cause(a: &Analysis, hints: Vec<Hint>) -> Vec<Hint> {
    let (mut generic, mut rest): (Vec<Hint>, Vec<Hint>) =
        hints.into_iter().partition(|h| h.rule == "leak_suspect");
    let claimed: Vec<FxHashSet<ObjectId>> = rest
        .iter()
        .map(|h| {
            if SPECIFIC.contains(&h.rule) {
                h.claimed.iter().copied().collect()
            } else {
                FxHashSet::default()
            }
        })
        .collect();
    generic.retain(|s| {
        let whole: u64 = s
            .claimed
            .iter()
            .map(|&o| a.dominators.retained(o))
            .sum::<u64>()
            .max(1);
        // The specific hint explaining most of the suspect's bytes takes it.
        let best = claimed
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
            .map(|(i, c)| {
                let explained: u64 = s.claimed.iter().map(|&o| explained_bytes(a, o, c)).sum();
                (i, explained)
            })
            .max_by_key(|&(_, e)| e);
        match best {
            Some((i, explained)) if explained as f64 >= whole as f64 * EXPLAINS_SHARE => {
                absorb(a, &mut rest[i], s);
                false
            }
            _ => true,
        }
    });
    absorb_pinning_threads(&mut rest);
    point_garbage_to_sessions(&mut rest);
    rest.extend(generic);
    rest
}

/// Puts a generic suspect's numbers into the specific hint that explains it.
fn absorb(a: &Analysis, into: &mut Hint, suspect: &Hint) {
    for e in &suspect.evidence {
        if matches!(e.role.as_str(), "suspect" | "owner" | "accumulation point") {
            let mut e = e.clone();
            e.role = format!("leak suspect: {}", e.role);
            into.evidence.push(e);
        }
    }
    let retained: u64 = suspect
        .claimed
        .iter()
        .map(|&o| a.dominators.retained(o))
        .sum();
    into.numbers
        .insert("suspect_retained_bytes".into(), retained);
    if let Some(&n) = suspect.numbers.get("accumulated_objects") {
        into.numbers.insert("suspect_accumulated_objects".into(), n);
    }
    into.explanation.push_str(&format!(
        "\nThe generic leak-suspect analysis points at the same memory: {}. It is reported \
         here, once, because this pattern explains it.",
        suspect.title.trim_start_matches("Leak suspect: ")
    ));
}

/// A class-loader leak already lists the threads of the stopped application among its pins.
fn absorb_pinning_threads(hints: &mut Vec<Hint>) {
    let leaked: FxHashSet<ObjectId> = hints
        .iter()
        .filter(|h| h.rule == "classloader_leak")
        .flat_map(|h| h.evidence.iter())
        .filter(|e| e.role == "leaked loader")
        .map(|e| e.object)
        .collect();
    hints.retain(|h| {
        !(h.rule == "app_threads"
            && h.evidence
                .iter()
                .any(|e| e.role == "loader" && leaked.contains(&e.object)))
    });
}

/// The unreachable sessions are part of the dump's garbage: the garbage hint says how much,
/// so the two are read as one story, not two problems.
fn point_garbage_to_sessions(hints: &mut [Hint]) {
    let Some((n, b)) = hints.iter().find(|h| h.rule == "sessions").and_then(|h| {
        Some((
            *h.numbers.get("unreachable")?,
            *h.numbers.get("garbage_bytes")?,
        ))
    }) else {
        return;
    };
    if n == 0 {
        return;
    }
    if let Some(g) = hints.iter_mut().find(|h| h.rule == "garbage") {
        g.explanation.push_str(&format!(
            " Of this, {} are the {} unreachable sessions of the sessions hint, with their \
             attributes.",
            crate::format::bytes(b),
            crate::format::thousands(n)
        ));
    }
}
