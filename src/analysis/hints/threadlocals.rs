//! Thread-local caches: large values in threads' `ThreadLocalMap`s (and Netty's
//! `InternalThreadLocalMap` on `FastThreadLocalThread`s), per thread name pattern.

use rustc_hash::FxHashMap;

use super::{evidence, hint, simple_name, Category, Certainty, Hint, Stake};
use crate::analysis::java;
use crate::analysis::Analysis;
use crate::format::{bytes, percent, thousands};
use crate::heap::ObjectId;

/// A thread-name pattern whose thread-local values retain less than this is not reported,
/// whatever else is in the heap: size sets the rank and severity, not whether it is shown.
pub const THREAD_LOCAL_MIN_BYTES: u64 = 1 << 20;
/// The floor for Netty's `InternalThreadLocalMap` on threads Netty does not own (a known
/// pattern: named from much smaller sizes).
pub const NETTY_MIN_BYTES: u64 = 256 << 10;

pub fn fires(retained: u64, netty: bool) -> bool {
    retained
        >= if netty {
            NETTY_MIN_BYTES
        } else {
            THREAD_LOCAL_MIN_BYTES
        }
}

#[derive(Default)]
struct Group {
    threads: Vec<(ObjectId, String)>,
    values: Vec<(ObjectId, u64, String)>,
    retained: u64,
    classes: FxHashMap<String, u64>,
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let index = &a.index;
    let tree = &a.dominators;
    let reachable = super::reachable_bytes(a);
    let mut groups: FxHashMap<String, Group> = FxHashMap::default();
    for t in index.threads() {
        let Some(thread) = t.object else { continue };
        let mut values: Vec<ObjectId> = java::thread_locals(index, thread)
            .into_iter()
            .filter_map(|e| e.value)
            .collect();
        // Netty's FastThreadLocalThread keeps its map in a field.
        values.extend(index.field_object(thread, "threadLocalMap"));
        if values.is_empty() {
            continue;
        }
        let g = groups
            .entry(java::thread_name_pattern(&t.name))
            .or_default();
        g.threads.push((thread, t.name.clone()));
        for v in values {
            let r = tree.retained(v);
            g.retained += r;
            *g.classes
                .entry(java::class_name(index, v).to_string())
                .or_default() += 1;
            g.values.push((v, r, t.name.clone()));
        }
    }
    let mut out = Vec::new();
    let mut list: Vec<(String, Group)> = groups.into_iter().collect();
    list.sort_by_key(|(_, g)| std::cmp::Reverse(g.retained));
    for (pattern, mut g) in list {
        let netty = g
            .classes
            .keys()
            .any(|c| c.starts_with("io.netty.util.internal.InternalThreadLocalMap"));
        if !fires(g.retained, netty) {
            continue;
        }
        g.values.sort_by_key(|v| std::cmp::Reverse(v.1));
        let mut classes: Vec<(String, u64)> = g.classes.into_iter().collect();
        classes.sort_by_key(|c| std::cmp::Reverse(c.1));
        let top_class = classes.first().map(|c| c.0.clone()).unwrap_or_default();
        let mut h = hint(
            "thread_local_cache",
            Category::Leak,
            if netty {
                Certainty::Likely
            } else {
                Certainty::Possible
            },
            Stake::Retained,
            format!(
                "Thread-local values on {} threads \"{pattern}\" retain {} (mostly {})",
                g.threads.len(),
                bytes(g.retained),
                simple_name(&top_class)
            ),
        );
        h.retained_bytes = g.retained;
        h.claimed = g.values.iter().map(|v| v.0).collect();
        h.numbers.insert("threads".into(), g.threads.len() as u64);
        h.numbers.insert("values".into(), g.values.len() as u64);
        h.numbers.insert("retained_bytes".into(), g.retained);
        for (v, _, name) in g.values.iter().take(8) {
            h.evidence.push(evidence(
                a,
                *v,
                "thread-local value",
                Some(format!("{} on thread \"{name}\"", index.describe(*v))),
            ));
        }
        for (t, name) in g.threads.iter().take(3) {
            h.evidence.push(evidence(
                a,
                *t,
                "thread",
                Some(format!("thread \"{name}\"")),
            ));
        }
        let class_list: Vec<String> = classes
            .iter()
            .take(5)
            .map(|(c, n)| format!("{c} ×{}", thousands(*n)))
            .collect();
        h.explanation = format!(
            "{} threads named like \"{pattern}\" keep {} values in their ThreadLocal maps, \
             retaining {} ({} of the {} live heap): {}. A thread-local lives as long as its \
             thread; on pooled threads that is forever, so per-thread caches grow with the \
             pool size and are never released. (heapsight names thread-local values from {} \
             per thread-name pattern, Netty's InternalThreadLocalMap from {}, whatever else \
             the heap holds; size sets the rank and severity.)",
            g.threads.len(),
            thousands(g.values.len() as u64),
            bytes(g.retained),
            percent(g.retained, reachable),
            bytes(reachable),
            class_list.join(", "),
            bytes(THREAD_LOCAL_MIN_BYTES),
            bytes(NETTY_MIN_BYTES),
        );
        h.fix = if netty {
            "These are Netty per-thread caches (InternalThreadLocalMap: buffers, pooled \
             allocator caches) on threads Netty does not own, so they are never cleaned. Call \
             FastThreadLocal.removeAll() when such a thread is done with Netty, run Netty work \
             on Netty's own event loops, cap the client's thread pool, or replace an outdated \
             client (e.g. the Elasticsearch 5.x transport client) that creates them. Tomcat's \
             'checkThreadLocalMapForLeaks' warnings point at the same objects."
                .to_string()
        } else {
            format!(
                "Call remove() on the ThreadLocal in a finally block after each use, keep \
                 per-thread caches small (or bounded), and size the thread pool ({} threads \
                 here) to what is needed.",
                g.threads.len()
            )
        };
        out.push(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold() {
        // Size alone decides, not the share of a big heap.
        assert!(fires(2 << 20, false));
        assert!(!fires(512 << 10, false));
        assert!(fires(512 << 10, true));
        assert!(!fires(100 << 10, true));
    }
}
