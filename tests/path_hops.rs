//! Hops of the shortest paths named from the index file (issue 10, item 5): the fresh
//! analysis records how each object's tree parent refers to it, and those names are the ones
//! read from the dump; an index file opened without its dump names every hop the same.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::path::Path;

use heapsight::analysis::paths::reference_label;
use heapsight::analysis::{Analysis, IndexState, OpenOptions};
use heapsight::heap::ObjectId;
use heapsight::progress::Progress;
use support::hprof_writer::*;
use support::jvm::{self, Jvm};

/// Nulls before references, a `referent` beside a strong field, statics, and an array whose
/// children sit past index 65,535 behind nulls (positions and indices differ).
fn nulls_and_big_arrays(dir: &Path) -> std::path::PathBuf {
    let mut b = HeapBuilder::new(8);
    let obj = b.object_class;
    let node = b.class(
        "com.example.Tree",
        Some(obj),
        &[
            ("left", Ty::Object),
            ("v", Ty::Int),
            ("right", Ty::Object),
            ("same", Ty::Object),
        ],
    );
    let reference = b.class(
        "java.lang.ref.Reference",
        Some(obj),
        &[("referent", Ty::Object), ("queue", Ty::Object)],
    );
    let holder = b.class("com.example.Holder", Some(obj), &[]);
    let mut elements = vec![0u64; 70_000];
    for i in (0..70_000).step_by(7) {
        let leaf = b.instance(node);
        // Left null, right set: the child's position is 1, its field the third.
        elements[i] = b.instance_with(node, &[("right", Val::Object(leaf))]);
    }
    let big = b.object_array("java.lang.Object[]", &elements);
    let twice = b.instance(node);
    let both = b.instance_with(
        node,
        &[("right", Val::Object(twice)), ("same", Val::Object(twice))],
    );
    let queue = b.instance(node);
    let weak = b.instance_with(
        reference,
        &[
            ("referent", Val::Object(both)),
            ("queue", Val::Object(queue)),
        ],
    );
    // Reached first from here, Tree's class object is a child by the class edge, though
    // a field after a null also holds it.
    let classy = b.instance_with(node, &[("right", Val::Object(node))]);
    b.add_static(holder, "CLASSY", Val::Object(classy));
    // An element listed twice, behind nulls: its hop is the first.
    let (x, y) = (b.instance(node), b.instance(node));
    let repeated = b.object_array("java.lang.Object[]", &[0, x, 0, x, y, x]);
    b.add_static(holder, "REPEATED", Val::Object(repeated));
    b.add_static(holder, "BIG", Val::Object(big));
    b.add_static(holder, "NOTHING", Val::Object(0));
    b.add_static(holder, "WEAK", Val::Object(weak));
    b.add_static(holder, "BOTH", Val::Object(both));
    b.root(Root::StickyClass(holder));
    b.build().write_to(dir, "hops.hprof")
}

/// Every hop of the shortest-path tree: its stored name is one of the names the dump gives
/// for that reference; returns the names by child, for comparison after a reopen.
fn check_hops_against_the_dump(a: &Analysis) -> Vec<(ObjectId, String)> {
    let index = &a.index;
    let tree = &a.shortest_paths;
    let mut names = Vec::new();
    for t in 0..index.object_count() as ObjectId {
        let Some(p) = tree.parent(t) else { continue };
        if p == t {
            continue;
        }
        let stored = tree
            .hop_label(index, p, t)
            .unwrap_or_else(|| panic!("no hop stored for {}", index.describe(t)));
        let read = reference_label(index, p, t);
        let is_class_edge = index.class_object(index.class_of(p)) == Some(t);
        assert!(
            read.split(", ").any(|l| l == stored) || (stored == "<class>" && is_class_edge),
            "{} -> {}: stored {stored}, dump says {read}",
            index.describe(p),
            index.describe(t)
        );
        names.push((t, stored));
    }
    names
}

/// Opens `dump` fresh (writing its index), checks the hops, then opens the index file alone
/// with the dump moved away: every hop has the same name. Returns the names by child.
fn hops_survive_the_index_alone(dump: &Path) -> Vec<(ObjectId, String)> {
    let (fresh, status) = Analysis::open(dump, &OpenOptions::default(), &Progress::new()).unwrap();
    assert_eq!(status.state, IndexState::Written);
    assert!(fresh.shortest_paths.hops().is_some());
    let names = check_hops_against_the_dump(&fresh);
    let index_file = status.path.unwrap();
    let moved = dump.with_extension("moved");
    std::fs::rename(dump, &moved).unwrap();
    let (alone, status) =
        Analysis::open(&index_file, &OpenOptions::default(), &Progress::new()).unwrap();
    assert_eq!(status.state, IndexState::IndexOnly);
    assert!(!alone.index.has_dump());
    for (t, name) in &names {
        let p = alone.shortest_paths.parent(*t).unwrap();
        assert_eq!(
            alone.shortest_paths.hop_label(&alone.index, p, *t).as_ref(),
            Some(name)
        );
    }
    std::fs::rename(&moved, dump).unwrap();
    names
}

/// The window writes the index file behind the dump, its hops read from the dump then (its
/// walk records none): the file is the one a fresh `Analysis::open` writes, byte for byte.
fn hops_read_behind_the_window_are_those_recorded(dump: &Path) {
    let index_file = heapsight::heap::store::index_path_beside(dump);
    let _ = std::fs::remove_file(&index_file);
    let progress = Progress::new();
    let (a, status, pending) =
        Analysis::open_deferring_index(dump, &OpenOptions::default(), &progress, &|_| {}).unwrap();
    assert_eq!(status.state, IndexState::Writing);
    assert!(a.shortest_paths.hops().is_none());
    let status = pending.unwrap().write(&a, &progress).unwrap();
    assert_eq!(status.state, IndexState::Written);
    let behind = std::fs::read(&index_file).unwrap();
    std::fs::remove_file(&index_file).unwrap();
    let (_, status) = Analysis::open(dump, &OpenOptions::default(), &progress).unwrap();
    assert_eq!(status.state, IndexState::Written);
    assert!(
        std::fs::read(&index_file).unwrap() == behind,
        "index files differ"
    );
    std::fs::remove_file(&index_file).unwrap();
}

/// Without an index file no hops are recorded: each is named from the dump, and the same.
fn hops_without_an_index_file(dump: &Path) -> Vec<(ObjectId, String)> {
    let no_index = OpenOptions {
        no_index: true,
        ..OpenOptions::default()
    };
    let (a, status) = Analysis::open(dump, &no_index, &Progress::new()).unwrap();
    assert_eq!(status.state, IndexState::Disabled);
    assert!(a.shortest_paths.hops().is_none());
    check_hops_against_the_dump(&a)
}

#[test]
fn hops_behind_nulls_and_past_index_65535_are_named_without_the_dump() {
    let dir = tempfile::tempdir().unwrap();
    let dump = nulls_and_big_arrays(dir.path());
    hops_read_behind_the_window_are_those_recorded(&dump);
    let names = hops_without_an_index_file(&dump);
    assert_eq!(hops_survive_the_index_alone(&dump), names);
    let (a, status) = Analysis::open(&dump, &OpenOptions::default(), &Progress::new()).unwrap();
    assert_eq!(status.state, IndexState::Reopened);
    let name_of = |t: ObjectId| names.iter().find(|n| n.0 == t).map(|n| n.1.as_str());
    // The last array element is past the u16 places: stored in the exceptions.
    assert!(a.shortest_paths.hops().unwrap().wide_count() > 0);
    let last = a.index.find(elements_address(&a, 69_993)).unwrap();
    assert_eq!(name_of(last), Some("[69993]"));
    assert!(names.iter().any(|n| n.1 == ".right"));
    assert!(names.iter().any(|n| n.1 == "static BIG"));
    assert!(names.iter().any(|n| n.1 == ".queue"));
    assert!(names.iter().any(|n| n.1 == "[1]"));
    assert!(names.iter().any(|n| n.1 == "[4]"));
    assert!(!names.iter().any(|n| n.1 == "[3]" || n.1 == "[5]"));
}

/// The address of element `i` of the one big `Object[]`.
fn elements_address(a: &Analysis, i: usize) -> u64 {
    use heapsight::heap::ObjectView;
    (0..a.index.object_count() as ObjectId)
        .find_map(|o| match a.index.view(o) {
            Some(ObjectView::ObjectArray { elements, .. }) if elements.len() == 70_000 => {
                elements.get(i)
            }
            _ => None,
        })
        .unwrap()
}

#[test]
fn hops_of_a_real_jvm_dump_are_named_without_the_dump() {
    if !jvm::jdk_available() {
        eprintln!("skipped: no JDK on PATH");
        return;
    }
    let dir = jvm::work_dir("path-hops").unwrap();
    let compiled = jvm::compile_scenario("PlainHeap", &dir.path().join("classes")).unwrap();
    let dump = dir.path().join("plain.hprof");
    {
        let vm = Jvm::start(&compiled, &["-Xms64m", "-Xmx64m"], &["1000"], dir.path()).unwrap();
        vm.dump(&dump).unwrap();
    }
    hops_read_behind_the_window_are_those_recorded(&dump);
    let named = hops_without_an_index_file(&dump);
    assert!(named.len() > 10_000, "{} hops", named.len());
    assert_eq!(hops_survive_the_index_alone(&dump), named);
}
