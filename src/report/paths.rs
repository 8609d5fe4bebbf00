//! `heapsight path`: paths from GC roots to one object, as text or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::paths::{hop_name, shortest_paths, PathMode};
use crate::analysis::Analysis;
use crate::format::bytes;
use crate::heap::{HeapIndex, ObjectId};

#[derive(Debug, Serialize)]
pub struct PathReport {
    pub object: Hop,
    pub mode: &'static str,
    pub paths: Vec<PathEntry>,
}

#[derive(Debug, Serialize)]
pub struct PathEntry {
    pub root_kinds: Vec<&'static str>,
    /// From the GC root (first) to the object (last).
    pub hops: Vec<Hop>,
}

#[derive(Debug, Serialize)]
pub struct Hop {
    pub id: String,
    pub class: String,
    pub description: String,
    pub shallow_bytes: u64,
    /// How the previous hop refers to this one (`.field`, `[index]`); none for the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

fn hop(index: &HeapIndex, o: ObjectId, field: Option<String>) -> Hop {
    Hop {
        id: format!("0x{:x}", index.address(o)),
        class: index.classes().get(index.class_of(o)).name.clone(),
        description: index.describe(o),
        shallow_bytes: index.shallow_size(o),
        field,
    }
}

/// Up to `limit` shortest paths from GC roots to `target` (only the shortest one from an
/// index file without its dump).
pub fn path_report(a: &Analysis, target: ObjectId, mode: PathMode, limit: usize) -> PathReport {
    let (index, roots) = (&*a.index, &a.roots);
    let found = shortest_paths(a, target, mode, limit, 20_000_000);
    let paths = found
        .into_iter()
        .map(|p| {
            let mut chain: Vec<ObjectId> = p.objects;
            chain.reverse(); // root first
            let root = chain[0];
            let hops = chain
                .iter()
                .enumerate()
                .map(|(i, &o)| {
                    let field = (i > 0).then(|| hop_name(a, chain[i - 1], o));
                    hop(index, o, field)
                })
                .collect();
            PathEntry {
                root_kinds: roots.kinds(root).map(|k| k.as_str()).collect(),
                hops,
            }
        })
        .collect();
    PathReport {
        object: hop(index, target, None),
        mode: match mode {
            PathMode::ExcludeWeak => "exclude_weak",
            PathMode::IncludeWeak => "include_weak",
        },
        paths,
    }
}

pub fn render_paths(r: &PathReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Paths from GC roots to {} ({} shallow){}:",
        r.object.description,
        bytes(r.object.shallow_bytes),
        if r.mode == "exclude_weak" {
            ", not through weak/soft/phantom references"
        } else {
            ", weak references included"
        }
    );
    if r.paths.is_empty() {
        if r.mode == "exclude_weak" {
            out.push_str(
                "  none: no GC root reaches this object through strong references. It is garbage \
                 not yet collected, or held only through weak/soft references (try --include-weak)\n",
            );
        } else {
            out.push_str(
                "  none: no GC root reaches this object (it is garbage not yet collected)\n",
            );
        }
    }
    for (i, p) in r.paths.iter().enumerate() {
        let _ = writeln!(out, "\n#{} ({} references)", i + 1, p.hops.len() - 1);
        for (j, h) in p.hops.iter().enumerate() {
            match &h.field {
                None => {
                    let _ = writeln!(
                        out,
                        "  {}  [GC root: {}]",
                        h.description,
                        p.root_kinds.join(", ")
                    );
                }
                Some(f) => {
                    let _ = writeln!(out, "  {}└─ {f} → {}", "   ".repeat(j - 1), h.description);
                }
            }
        }
    }
    out
}
