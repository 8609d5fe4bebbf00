//! Retention on real JVM heaps: reachability, retained sizes, dominators and paths to GC roots.
//!
//! Each test compiles a program from `tests/java/`, runs it until it prints `READY`, takes one
//! `jmap -dump` (all objects, unreachable ones included; no GC) and then runs the `heapsight`
//! binary on it: `report --json`, `path --json`, `dominators`.
//!
//! The dump is also opened with the `heapsight` library, but only as an *index*: to find the
//! ids of the objects to ask `path` about, and to check every hop of every path against the
//! raw dump (the field, array slot, static, class or loader named by the hop must really hold
//! the next object). Retention answers themselves always come from the binary.
//!
//! The tests are skipped (with a message) when no JDK is on PATH, unless `CI` is set. A failing
//! test keeps its work directory (classes, dump) under `target/tmp/jvm-scenarios/`; set
//! `HEAPSIGHT_KEEP_JVM_FILES=1` to keep them for passing tests too.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use heapsight::heap::{HeapIndex, ObjectId, ObjectView};
use heapsight::hprof::Value as FieldValue;
use heapsight::progress::Progress;
use serde_json::Value;
use support::jvm::{self, Compiled, Jvm};

/// Large young generation and fixed heap: no GC may run once a scenario has made its garbage.
const NO_GC_512M: &[&str] = &["-Xms512m", "-Xmx512m", "-Xmn400m"];

// ---------------------------------------------------------------------------------------------
// 1. SessionsInMap: unreachable garbage, retained sizes, the dominator list
// ---------------------------------------------------------------------------------------------

const LIVE_SESSIONS: u64 = 20_000;
const GARBAGE_SESSIONS: u64 = 5_000;

#[test]
fn sessions_in_map_retention() {
    let live = LIVE_SESSIONS.to_string();
    let garbage = GARBAGE_SESSIONS.to_string();
    let Some(scenario) = Scenario::run("SessionsInMap", NO_GC_512M, &[&live, &garbage]) else {
        return;
    };
    let report = scenario.report(&[]);
    check_report_invariants(&report);

    let summary = &report["summary"];
    assert!(
        u64_at(summary, "unreachable_objects") > 0,
        "the {GARBAGE_SESSIONS} dropped sessions are unreachable, yet summary says {summary}"
    );
    let session = row(&report, "Session");
    assert_eq!(
        session.count,
        LIVE_SESSIONS + GARBAGE_SESSIONS,
        "scenario setup: Session count (did a GC run?)"
    );
    assert_eq!(
        session.unreachable_count, GARBAGE_SESSIONS,
        "unreachable Sessions: {session:?}"
    );
    assert_eq!(
        session.unreachable_bytes,
        GARBAGE_SESSIONS * session.instance_size(),
        "unreachable Session bytes: {session:?}"
    );
    // Each dropped session owns its own attribute map, unreachable with it.
    let hash_map = row(&report, "java.util.HashMap");
    assert!(
        hash_map.unreachable_count >= GARBAGE_SESSIONS,
        "every dropped session's HashMap is unreachable too: {hash_map:?}"
    );
    assert_eq!(row(&report, "SessionManager").unreachable_count, 0);

    // A live session retains at least itself and its private attribute map; no session
    // dominates another, so the class's minimum retained size is the sum over live sessions.
    let per_live_session = session.instance_size() + hash_map.instance_size();
    assert!(
        session.retained >= LIVE_SESSIONS * session.instance_size(),
        "Session retained {} < {LIVE_SESSIONS} x {} shallow",
        session.retained,
        session.instance_size()
    );
    assert!(
        session.retained >= LIVE_SESSIONS * per_live_session,
        "Session retained {} < {LIVE_SESSIONS} x (Session {} + HashMap {})",
        session.retained,
        session.instance_size(),
        hash_map.instance_size()
    );
    let reachable = u64_at(summary, "reachable_bytes");
    assert!(
        session.retained <= reachable,
        "Session retained {} exceeds the reachable heap {reachable}",
        session.retained
    );

    // The leak: class SessionManager (static SESSIONS) or its map retains every live session,
    // its attribute map and its map node.
    let heap = scenario.heap();
    let manager_class = class_object(&heap, "SessionManager");
    let map = static_object(&heap, "SessionManager", "SESSIONS");
    let node = row(&report, "java.util.concurrent.ConcurrentHashMap$Node");
    let holder = [manager_class, map]
        .iter()
        .find_map(|&o| top_level_entry(&report, &heap, o))
        .unwrap_or_else(|| {
            panic!(
                "neither class SessionManager ({}) nor its SESSIONS map ({}) is a top-level \
                 dominator; biggest: {}",
                id_of(&heap, manager_class),
                id_of(&heap, map),
                report["dominators"][0]
            )
        });
    let held = u64_at(holder, "retained_bytes");
    let minimum = LIVE_SESSIONS * (per_live_session + node.instance_size());
    println!(
        "SessionsInMap: {holder}; minimum expected {minimum}; Session row {session:?}; \
         summary {summary}"
    );
    assert!(
        held >= minimum,
        "{holder} retains {held} < {LIVE_SESSIONS} x (Session + HashMap + map node) = {minimum}"
    );
    assert!(
        held <= reachable,
        "{holder} retains more than the reachable heap"
    );
    assert_eq!(
        report["dominators"][0]["id"], holder["id"],
        "the session store should be the biggest top-level dominator"
    );

    // Paths: a live session hangs off the static map; a dropped one has no path at all.
    let sessions = instances_of(&heap, "Session");
    let is_valid = |o: ObjectId| heap.field(o, "isValid") == Some(FieldValue::Boolean(true));
    let live_session = *sessions
        .iter()
        .find(|&&o| is_valid(o))
        .expect("a live session");
    let dead_session = *sessions
        .iter()
        .find(|&&o| !is_valid(o))
        .expect("an invalidated session");
    let live_paths = scenario.path(&heap, live_session, &[]);
    let first = &live_paths[0];
    let labels = field_labels(first);
    assert!(
        labels.iter().any(|l| l == "static SESSIONS"),
        "a live session's shortest path should go through static SESSIONS: {labels:?}"
    );
    assert_eq!(
        labels.last().map(String::as_str),
        Some(".val"),
        "a map node holds the session in .val: {labels:?}"
    );
    println!("SessionsInMap: live session path {}", describe_path(first));
    let dead = scenario.path_json(&heap, dead_session, &[]);
    assert_eq!(
        dead["paths"],
        Value::Array(Vec::new()),
        "an invalidated (dropped) session must have no path to a GC root: {dead}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. ClientRegistry: the reaper's static list retains the dropped clients' buffers
// ---------------------------------------------------------------------------------------------

const CLIENTS: u64 = 200;
const BUFFER_BYTES: u64 = 65_536;
const KEPT_CLIENTS: u64 = 10;

#[test]
fn client_registry_retention() {
    let flags = ["-XX:+UseSerialGC", "-Xms256m", "-Xmx256m", "-Xmn200m"];
    let args = [
        CLIENTS.to_string(),
        BUFFER_BYTES.to_string(),
        KEPT_CLIENTS.to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let Some(scenario) = Scenario::run("ClientRegistry", &flags, &args) else {
        return;
    };
    let report = scenario.report(&[]);
    check_report_invariants(&report);
    let heap = scenario.heap();

    let managers = row(&report, "ConnectionManager");
    let clients = row(&report, "OssClient");
    assert_eq!(
        managers.count, CLIENTS,
        "scenario setup: ConnectionManagers"
    );
    assert_eq!(
        clients.count, CLIENTS,
        "scenario setup: OssClients (did a GC run?)"
    );
    assert_eq!(
        managers.unreachable_count, 0,
        "every connection manager is pinned by the reaper: {managers:?}"
    );
    assert_eq!(
        clients.unreachable_count,
        CLIENTS - KEPT_CLIENTS,
        "the dropped clients are garbage: {clients:?}"
    );

    let manager_ids = instances_of(&heap, "ConnectionManager");
    let buffer = heap
        .field_object(manager_ids[0], "buffer")
        .expect("ConnectionManager.buffer");
    let buffer_bytes = heap.shallow_size(buffer);
    assert!(
        buffer_bytes >= BUFFER_BYTES,
        "byte[{BUFFER_BYTES}] is {buffer_bytes} bytes"
    );
    let per_manager = managers.instance_size() + buffer_bytes;

    // The managers of the kept clients are held twice (ClientRegistry.ACTIVE and the reaper's
    // list, from different GC roots): each is a top-level dominator retaining its buffer.
    let top_managers: Vec<&Value> = dominator_entries(&report)
        .iter()
        .filter(|d| d["class"] == "ConnectionManager")
        .collect();
    assert_eq!(
        top_managers.len() as u64,
        KEPT_CLIENTS,
        "kept clients' managers should be top-level dominators: {top_managers:?}"
    );
    for d in &top_managers {
        let retained = u64_at(d, "retained_bytes");
        assert!(
            retained >= per_manager && retained < per_manager + 1024,
            "a kept manager retains itself and its buffer ({per_manager}): {d}"
        );
    }

    // The dropped clients' managers are dominated by the reaper's static list: class
    // IdleConnectionReaper retains all their buffers, and none of the kept ones.
    let reaper_class = class_object(&heap, "IdleConnectionReaper");
    let reaper = top_level_entry(&report, &heap, reaper_class).unwrap_or_else(|| {
        panic!(
            "class IdleConnectionReaper ({}) is not a top-level dominator; biggest: {}",
            id_of(&heap, reaper_class),
            report["dominators"][0]
        )
    });
    let held = u64_at(reaper, "retained_bytes");
    let dropped = CLIENTS - KEPT_CLIENTS;
    println!(
        "ClientRegistry: class IdleConnectionReaper {reaper}; {dropped} x (manager {} + \
         buffer {buffer_bytes}) = {}",
        managers.instance_size(),
        dropped * per_manager
    );
    assert!(
        held >= dropped * per_manager,
        "class IdleConnectionReaper retains {held} < {dropped} x {per_manager}"
    );
    assert!(
        held < dropped * per_manager + buffer_bytes,
        "class IdleConnectionReaper retains {held}: more than the {dropped} dropped managers \
         (a kept client's buffer must not be attributed to it)"
    );
    assert_eq!(
        report["dominators"][0]["id"], reaper["id"],
        "the reaper's class should be the biggest top-level dominator"
    );

    // Path to a dropped client's manager: through the reaper's static list, never through the
    // (garbage) client.
    let top_ids: BTreeSet<String> = top_managers
        .iter()
        .map(|d| str_at(d, "id").to_owned())
        .collect();
    let dropped_manager = *manager_ids
        .iter()
        .find(|&&o| !top_ids.contains(&id_of(&heap, o)))
        .expect("a dropped client's manager");
    let list = static_object(&heap, "IdleConnectionReaper", "connectionManagers");
    let paths = scenario.path(&heap, dropped_manager, &[]);
    for p in &paths {
        let hops = hops(p);
        assert!(
            hops.iter()
                .any(|h| str_at(h, "description").contains("IdleConnectionReaper")),
            "every path to a dropped client's manager passes the reaper: {}",
            describe_path(p)
        );
        assert!(
            hops.iter().any(|h| h["id"] == id_of(&heap, list).as_str()
                && h["field"] == "static connectionManagers"
                && h["class"] == "java.util.ArrayList"),
            "every path passes the reaper's static list {}: {}",
            id_of(&heap, list),
            describe_path(p)
        );
        assert!(
            hops.iter().all(|h| h["class"] != "OssClient"),
            "a dropped OssClient is garbage and cannot be on a path: {}",
            describe_path(p)
        );
    }
    println!(
        "ClientRegistry: {} path(s) to a dropped manager, shortest {}",
        paths.len(),
        describe_path(&paths[0])
    );
    // Its shortest path: reaper thread → <class> → static list → elementData → [i] → manager.
    assert_eq!(
        field_labels(&paths[0])[..3],
        ["<class>", "static connectionManagers", ".elementData"],
        "shortest path {}",
        describe_path(&paths[0])
    );

    // A kept client's manager is also reachable through ClientRegistry.ACTIVE and its client.
    let kept_manager = heap
        .find(parse_id(str_at(top_managers[0], "id")))
        .expect("kept manager in the dump");
    let paths = scenario.path(&heap, kept_manager, &[]);
    assert!(
        paths.iter().any(|p| {
            let labels = field_labels(p);
            labels.iter().any(|l| l == "static ACTIVE")
                && labels.last().map(String::as_str) == Some(".connectionManager")
        }),
        "a kept manager has a path through ClientRegistry.ACTIVE and OssClient: {:?}",
        paths.iter().map(describe_path).collect::<Vec<_>>()
    );
    assert!(
        paths.iter().any(|p| field_labels(p)
            .iter()
            .any(|l| l == "static connectionManagers")),
        "a kept manager also has a path through the reaper's list"
    );

    // 6. The dominator tree as text.
    check_dominator_tree_text(&scenario, &report, &heap, list);
}

/// `dominators --depth 3 --min-percent 1`: a header, then the top-level dominators above 1 %
/// (the same, in the same order, as the JSON report's) with their children indented.
fn check_dominator_tree_text(
    scenario: &Scenario,
    report: &Value,
    heap: &HeapIndex,
    list: ObjectId,
) {
    let dump = scenario.dump_arg();
    let text = heapsight(&["dominators", &dump, "--depth", "3", "--min-percent", "1"]);
    println!("ClientRegistry: dominators --depth 3 --min-percent 1\n{text}");
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    for word in ["retained", "shallow", "reachable heap", "depth"] {
        assert!(header.contains(word), "header without {word:?}: {header}");
    }
    let nodes: Vec<TreeLine> = lines
        .filter(|l| !(l.starts_with('(') && l.ends_with("not shown)")))
        .map(|l| parse_tree_line(l).unwrap_or_else(|| panic!("not a tree line: {l:?}\n{text}")))
        .collect();
    assert!(!nodes.is_empty(), "no nodes printed:\n{text}");
    assert_eq!(nodes[0].level, 0, "the first node is a top-level dominator");
    for pair in nodes.windows(2) {
        assert!(
            pair[1].level <= pair[0].level + 1,
            "a node is indented more than one level below its parent:\n{text}"
        );
    }
    for n in &nodes {
        assert!(n.level <= 2, "--depth 3 prints levels 0..=2 only: {n:?}");
        assert!(n.percent >= 0.95, "--min-percent 1 printed {n:?}");
    }

    // The biggest dominator comes first, with its class name.
    let biggest = &report["dominators"][0];
    let biggest_id = str_at(biggest, "id");
    assert!(
        nodes[0].text.contains(biggest_id) && nodes[0].text.contains("IdleConnectionReaper"),
        "the first node should be the biggest dominator {biggest}: {:?}",
        nodes[0]
    );
    // Its biggest child is the reaper's list.
    assert_eq!(nodes[1].level, 1, "{:?}", nodes[1]);
    assert!(
        nodes[1].text.contains(&id_of(heap, list)) && nodes[1].text.contains("ArrayList"),
        "the reaper class's biggest child is its static list: {:?}",
        nodes[1]
    );

    // Level-0 nodes are exactly the JSON's top-level dominators above 1 % of the reachable heap.
    let reachable = u64_at(&report["summary"], "reachable_bytes");
    let expected: Vec<&str> = dominator_entries(report)
        .iter()
        .filter(|d| u64_at(d, "retained_bytes") >= reachable / 100)
        .map(|d| str_at(d, "id"))
        .collect();
    let printed: Vec<&str> = nodes
        .iter()
        .filter(|n| n.level == 0)
        .map(|n| n.text.rsplit("@ ").next().unwrap_or(""))
        .collect();
    assert_eq!(
        printed, expected,
        "top-level nodes of the text tree vs the JSON report"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. ThreadLocalOnPool: buffers reachable only through the pooled threads' ThreadLocalMaps
// ---------------------------------------------------------------------------------------------

const WORKERS: usize = 4;
const CACHED_BUFFER_BYTES: u64 = 1_048_576;

#[test]
fn thread_local_on_pool_paths() {
    let flags = ["-Xms256m", "-Xmx256m", "-Xmn128m"];
    let Some(scenario) = Scenario::run(
        "ThreadLocalOnPool",
        &flags,
        &[&CACHED_BUFFER_BYTES.to_string()],
    ) else {
        return;
    };
    let report = scenario.report(&[]);
    check_report_invariants(&report);
    let heap = scenario.heap();

    let cached = row(&report, "CachedBuffer");
    assert_eq!(
        cached.count, WORKERS as u64,
        "scenario setup: CachedBuffers"
    );
    assert_eq!(cached.unreachable_count, 0, "{cached:?}");

    let buffers = instances_of(&heap, "CachedBuffer");
    let mut threads = BTreeSet::new();
    for &b in &buffers {
        let paths = scenario.path(&heap, b, &[]);
        assert_eq!(
            paths.len(),
            1,
            "a CachedBuffer is reachable from its thread only: {:?}",
            paths.iter().map(describe_path).collect::<Vec<_>>()
        );
        let p = &paths[0];
        let hops = hops(p);
        assert_eq!(
            field_labels(p)
                .iter()
                .map(|l| if l.starts_with('[') {
                    "[i]"
                } else {
                    l.as_str()
                })
                .collect::<Vec<_>>(),
            [".threadLocals", ".table", "[i]", ".value"],
            "path {}",
            describe_path(p)
        );
        assert_eq!(hops[0]["class"], "java.lang.Thread", "{}", describe_path(p));
        assert!(
            root_kinds(p).contains(&"thread_object".to_owned()),
            "the root is a thread object: {p}"
        );
        assert_eq!(hops[1]["class"], "java.lang.ThreadLocal$ThreadLocalMap");
        assert_eq!(
            hops[3]["class"],
            "java.lang.ThreadLocal$ThreadLocalMap$Entry"
        );

        // The thread is named as the pool names it, and retains its buffer.
        let thread = heap
            .find(parse_id(str_at(&hops[0], "id")))
            .expect("thread in the dump");
        let name = heap
            .field_object(thread, "name")
            .and_then(|s| heap.read_string(s))
            .unwrap_or_default();
        assert!(name.starts_with("pool-worker-"), "thread name {name:?}");
        let entry = top_level_entry(&report, &heap, thread)
            .unwrap_or_else(|| panic!("thread {name} is a GC root, so a top-level dominator"));
        let minimum = CACHED_BUFFER_BYTES + cached.instance_size();
        assert!(
            u64_at(entry, "retained_bytes") >= minimum,
            "thread {name} retains its cached buffer ({minimum}): {entry}"
        );
        println!(
            "ThreadLocalOnPool: {name}: {}; thread retains {}",
            describe_path(p),
            entry["retained_bytes"]
        );
        threads.insert(thread);
    }
    assert_eq!(
        threads.len(),
        WORKERS,
        "each buffer hangs off its own worker thread"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. UndeployedLoader: what pins the plugin's class loader
// ---------------------------------------------------------------------------------------------

/// A JDBC driver plugin that leaks its loader three ways: a registered driver, a Timer thread
/// (created while the loader is the context loader, with a plugin task queued), and a
/// ThreadLocal on a long-lived thread. Same as `jvm_scenarios.rs`'s.
const PLUGIN_DRIVER_SOURCE: &str = include_str!("java/plugin/PluginDriver.java");

/// What keeps a path's loader alive, from the hops of the path.
fn pin_kind(heap: &HeapIndex, path: &Value) -> &'static str {
    let hops = hops(path);
    let labels = field_labels(path);
    if hops
        .iter()
        .any(|h| str_at(h, "description").starts_with("class java.sql.DriverManager @"))
        && labels.iter().any(|l| l == "static registeredDrivers")
    {
        return "DriverManager.registeredDrivers";
    }
    if labels.iter().any(|l| l == ".threadLocals") {
        return "ThreadLocal on a thread";
    }
    let root = heap
        .find(parse_id(str_at(&hops[0], "id")))
        .expect("root in the dump");
    let root_class = str_at(&hops[0], "class");
    let thread_name = heap
        .field_object(root, "name")
        .and_then(|s| heap.read_string(s))
        .unwrap_or_default();
    if root_class == "java.util.TimerThread" && thread_name == "plugin-housekeeping" {
        return "the Timer thread";
    }
    if root_class == "plugin.PluginDriver$Housekeeping"
        && root_kinds(path).contains(&"java_frame".to_owned())
    {
        return "the Timer thread's running task (java frame)";
    }
    "other"
}

#[test]
fn undeployed_loader_pins() {
    if !jvm::jdk_available() {
        return;
    }
    let started = Instant::now();
    let dir = jvm::work_dir("retention-UndeployedLoader").expect("work directory");
    let mut compiled = jvm::compile_scenario("UndeployedLoader", &dir.path().join("classes"))
        .expect("UndeployedLoader compiles");
    let plugin_dir = dir.path().join("plugin-classes");
    let plugin_classes = jvm::write_and_compile(
        &[("plugin/PluginDriver.java", PLUGIN_DRIVER_SOURCE)],
        &dir.path().join("plugin-src"),
        &plugin_dir,
    )
    .expect("the plugin compiles");
    compiled.class_names.extend(plugin_classes);
    let plugin_arg = plugin_dir
        .to_str()
        .expect("UTF-8 work directory")
        .to_owned();
    let scenario = Scenario::dump(
        compiled,
        &["-Xms128m", "-Xmx128m"],
        &[&plugin_arg],
        dir,
        started,
    );
    let report = scenario.report(&[]);
    check_report_invariants(&report);
    let heap = scenario.heap();

    // The plugin loader: the loader of plugin.PluginDriver, a reachable URLClassLoader.
    let driver_rows: Vec<&Value> = histogram_rows(&report)
        .iter()
        .filter(|r| r["class"] == "plugin.PluginDriver")
        .collect();
    assert_eq!(
        driver_rows.len(),
        1,
        "one plugin.PluginDriver class: {driver_rows:?}"
    );
    assert_eq!(
        u64_at(driver_rows[0], "unreachable_count"),
        0,
        "the driver is leaked"
    );
    let loader_id = str_at(driver_rows[0], "loader").to_owned();
    let loader = heap
        .find(parse_id(&loader_id))
        .unwrap_or_else(|| panic!("plugin loader {loader_id} not in the dump"));
    assert_eq!(
        class_name(&heap, loader),
        "java.net.URLClassLoader",
        "plugin loader {loader_id}"
    );
    let loader_row = row(&report, "java.net.URLClassLoader");
    assert_eq!(
        loader_row.unreachable_count, 0,
        "the undeployed loader is leaked, so reachable: {loader_row:?}"
    );

    let out = scenario.path_json(&heap, loader, &["--limit", "5"]);
    assert_eq!(out["object"]["class"], "java.net.URLClassLoader");
    let paths = checked_paths(&heap, &out, loader, false);
    assert!(paths.len() <= 5, "--limit 5 gave {} paths", paths.len());
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &paths {
        let kind = pin_kind(&heap, p);
        println!("UndeployedLoader: pin {kind:?}: {}", describe_path(p));
        assert_ne!(
            kind,
            "other",
            "a path to the plugin loader through none of the scenario's leaks: {}",
            describe_path(p)
        );
        *kinds.entry(kind).or_default() += 1;
    }
    assert!(
        kinds.len() >= 2,
        "expected at least two kinds of pin among the paths, got {kinds:?}"
    );
    assert!(
        kinds.contains_key("DriverManager.registeredDrivers"),
        "one path goes through DriverManager's static list: {kinds:?}"
    );
    assert!(
        kinds.contains_key("ThreadLocal on a thread") || kinds.contains_key("the Timer thread"),
        "one path goes through a thread: {kinds:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. WeakOnly: weak and soft references
// ---------------------------------------------------------------------------------------------
//
// Semantics, as heapsight implements them (and as this test pins down):
//
// * `path` follows strong references only unless `--include-weak`: an object reachable only
//   through the `referent` of a `java.lang.ref.Reference` (weak, soft, phantom, or a
//   `WeakHashMap` entry's key) has no path ("none: no GC root reaches this object", `"paths":
//   []`); with `--include-weak` its path ends with a `.referent` hop.
// * `report` (default) builds the dominator tree over *all* references, `referent`s included
//   (Eclipse MAT's definition): such an object is reachable (`unreachable_count` 0) and its
//   `Reference` dominates it, so the holder retains it.
// * `report --strong-only` ignores `referent`s for the dominator tree *and* for reachability:
//   weakly and softly reachable objects count as unreachable (`unreachable_count` 1, retained
//   0), the holder no longer retains them, and `reachable_bytes` shrinks accordingly.
//   Strongly held objects (even when a WeakReference also points at them) are unaffected.

const WEAK_PAYLOAD: u64 = 65_536;

#[test]
fn weak_references() {
    let flags = ["-Xms256m", "-Xmx256m", "-Xmn200m"];
    let Some(scenario) = Scenario::run("WeakOnly", &flags, &[&WEAK_PAYLOAD.to_string()]) else {
        return;
    };
    let all = scenario.report(&[]);
    let strong = scenario.report(&["--strong-only"]);
    check_report_invariants(&all);
    check_report_invariants(&strong);
    let heap = scenario.heap();

    let weak_only = ["WeakTarget", "SoftTarget", "WeakKey"];
    let strongly_held = ["WeakValue", "StrongTarget"];
    for class in weak_only.iter().chain(&strongly_held) {
        assert_eq!(
            row(&all, class).count,
            1,
            "scenario setup: one {class} (did a GC clear the references?)"
        );
    }
    let holder = instances_of(&heap, "RefHolder")[0];
    let payload_bytes = heap.shallow_size(
        heap.field_object(instances_of(&heap, "WeakTarget")[0], "payload")
            .expect("WeakTarget.payload"),
    );
    let per_target = row(&all, "WeakTarget").instance_size() + payload_bytes;

    // Paths.
    for (class, reference_class) in [
        ("WeakTarget", "java.lang.ref.WeakReference"),
        ("SoftTarget", "java.lang.ref.SoftReference"),
        ("WeakKey", "java.util.WeakHashMap$Entry"),
    ] {
        let target = instances_of(&heap, class)[0];
        let json = scenario.path_json(&heap, target, &[]);
        assert_eq!(json["mode"], "exclude_weak");
        assert_eq!(
            json["paths"],
            Value::Array(Vec::new()),
            "{class} is only weakly reachable: no strong path expected: {json}"
        );
        let text = heapsight(&["path", &scenario.dump_arg(), &id_of(&heap, target)]);
        assert!(
            text.contains("none: no GC root reaches this object"),
            "path text for {class}:\n{text}"
        );

        let json = scenario.path_json(&heap, target, &["--include-weak"]);
        assert_eq!(json["mode"], "include_weak");
        let paths = checked_paths(&heap, &json, target, true);
        let p = &paths[0];
        let hops = hops(p);
        println!(
            "WeakOnly: {class} with --include-weak: {}",
            describe_path(p)
        );
        assert_eq!(
            field_labels(p).last().map(String::as_str),
            Some(".referent"),
            "{class} is reached through a referent: {}",
            describe_path(p)
        );
        assert_eq!(
            hops[hops.len() - 2]["class"],
            reference_class,
            "{}",
            describe_path(p)
        );
        assert_eq!(
            hops[0]["id"],
            id_of(&heap, holder).as_str(),
            "the path starts at the ref-holder thread: {}",
            describe_path(p)
        );

        // Reachability: all references count by default, strong ones only with --strong-only.
        let (a, s) = (row(&all, class), row(&strong, class));
        assert_eq!(
            a.unreachable_count, 0,
            "default report: {class} is reachable: {a:?}"
        );
        assert!(
            a.retained >= per_target,
            "default report: {class} retains its payload: {a:?}"
        );
        assert_eq!(
            s.unreachable_count, 1,
            "--strong-only: {class} has no strong path, so it is unreachable: {s:?}"
        );
        assert_eq!(
            s.retained, 0,
            "--strong-only: {class} is out of the tree: {s:?}"
        );
    }

    // A strongly held object keeps its strong path, even with a WeakReference to it.
    let target = instances_of(&heap, "StrongTarget")[0];
    let json = scenario.path_json(&heap, target, &[]);
    let paths = checked_paths(&heap, &json, target, false);
    assert_eq!(
        field_labels(&paths[0]),
        [".strong"],
        "{}",
        describe_path(&paths[0])
    );
    for class in strongly_held {
        for (mode, report) in [("default", &all), ("--strong-only", &strong)] {
            let r = row(report, class);
            assert_eq!(
                r.unreachable_count, 0,
                "{mode}: {class} is strongly held: {r:?}"
            );
            assert!(
                r.retained >= per_target,
                "{mode}: {class} retains its payload: {r:?}"
            );
        }
    }

    // The holder thread (a GC root, so top level) retains all five payloads by default, only
    // the two strongly held ones with --strong-only.
    let held_all = u64_at(
        top_level_entry(&all, &heap, holder).expect("RefHolder is top level"),
        "retained_bytes",
    );
    let held_strong = u64_at(
        top_level_entry(&strong, &heap, holder).expect("RefHolder is top level (strong)"),
        "retained_bytes",
    );
    println!(
        "WeakOnly: RefHolder retains {held_all} (all references), {held_strong} (strong only); \
         per target {per_target}; summaries {} / {}",
        all["summary"], strong["summary"]
    );
    assert!(
        held_all >= 5 * per_target,
        "default: RefHolder retains {held_all}"
    );
    assert!(
        held_strong >= 2 * per_target && held_strong < 3 * per_target,
        "--strong-only: RefHolder retains {held_strong}, expected the 2 strong targets only"
    );
    assert!(
        held_all - held_strong >= 3 * per_target,
        "the three weakly held targets move out of RefHolder's retained size"
    );

    // The summary: same objects and bytes, reachability shrinks by at least the three targets.
    let (sa, ss) = (&all["summary"], &strong["summary"]);
    assert_eq!(sa["objects"], ss["objects"]);
    assert_eq!(sa["shallow_bytes"], ss["shallow_bytes"]);
    assert!(
        u64_at(ss, "unreachable_objects") >= u64_at(sa, "unreachable_objects") + 6,
        "--strong-only: three targets and their payloads become unreachable: {sa} / {ss}"
    );
    assert!(
        u64_at(sa, "reachable_bytes") - u64_at(ss, "reachable_bytes") >= 3 * per_target,
        "--strong-only: reachable bytes shrink by the three targets: {sa} / {ss}"
    );

    // The text tree shows the Reference dominating its referent by default, and no referent
    // with --strong-only.
    let weak_target = id_of(&heap, instances_of(&heap, "WeakTarget")[0]);
    let dump = scenario.dump_arg();
    let tree_args = ["dominators", &dump, "--depth", "4", "--min-percent", "1"];
    let text = heapsight(&tree_args);
    let nodes: Vec<TreeLine> = text.lines().skip(1).filter_map(parse_tree_line).collect();
    let at = nodes
        .iter()
        .position(|n| n.text == format!("WeakTarget @ {weak_target}"))
        .unwrap_or_else(|| panic!("WeakTarget {weak_target} not in the tree:\n{text}"));
    let parent = parent_of(&nodes, at).expect("WeakTarget has a parent");
    let grandparent = parent_of(&nodes, parent).expect("WeakTarget has a grandparent");
    assert_eq!(
        (nodes[grandparent].level, nodes[at].level),
        (0, 2),
        "RefHolder → WeakReference → WeakTarget:\n{text}"
    );
    assert_eq!(
        nodes[grandparent].text,
        format!("RefHolder @ {}", id_of(&heap, holder)),
        "{text}"
    );
    assert!(
        nodes[parent]
            .text
            .starts_with("java.lang.ref.WeakReference @ "),
        "WeakTarget's dominator is its WeakReference:\n{text}"
    );
    let text = heapsight(&[&tree_args[..], &["--strong-only"]].concat());
    assert!(
        !text.contains(&weak_target),
        "--strong-only: WeakTarget is not in the dominator tree:\n{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Running a scenario
// ---------------------------------------------------------------------------------------------

/// A scenario's dump. Its work directory is kept when the test panics.
struct Scenario {
    label: String,
    dump: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dir.disable_cleanup(true);
            eprintln!(
                "{}: keeping {} for inspection",
                self.label,
                self.dir.path().display()
            );
        }
    }
}

impl Scenario {
    /// Compiles `tests/java/<name>.java`, runs it and dumps it; `None` without a JDK.
    fn run(name: &str, jvm_flags: &[&str], args: &[&str]) -> Option<Scenario> {
        if !jvm::jdk_available() {
            return None;
        }
        let started = Instant::now();
        let dir = jvm::work_dir(&format!("retention-{name}")).expect("work directory");
        let compiled = jvm::compile_scenario(name, &dir.path().join("classes"))
            .unwrap_or_else(|e| panic!("scenario {name} does not compile: {e:#}"));
        Some(Scenario::dump(compiled, jvm_flags, args, dir, started))
    }

    /// Runs a compiled scenario until READY and takes one dump; the JVM is killed afterwards.
    fn dump(
        compiled: Compiled,
        jvm_flags: &[&str],
        args: &[&str],
        dir: tempfile::TempDir,
        started: Instant,
    ) -> Scenario {
        let label = compiled.main_class.clone();
        let dump = dir.path().join(format!("{label}.hprof"));
        let jvm = Jvm::start(&compiled, jvm_flags, args, dir.path())
            .unwrap_or_else(|e| panic!("{label}: the scenario JVM did not get ready: {e:#}"));
        jvm.dump(&dump).unwrap_or_else(|e| {
            panic!("{label}: jmap failed: {e:#}\nJVM stderr:\n{}", jvm.stderr())
        });
        drop(jvm);
        println!(
            "{label}: dump of {} bytes after {:.1?}",
            std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0),
            started.elapsed()
        );
        Scenario { label, dump, dir }
    }

    fn dump_arg(&self) -> String {
        self.dump.to_str().expect("UTF-8 dump path").to_owned()
    }

    /// `heapsight report <dump> --json --top 0 <extra>`.
    fn report(&self, extra: &[&str]) -> Value {
        let dump = self.dump_arg();
        let args = [&["report", dump.as_str(), "--json", "--top", "0"], extra].concat();
        heapsight_json(&args)
    }

    /// `heapsight path <dump> <id> --json <extra>`.
    fn path_json(&self, heap: &HeapIndex, o: ObjectId, extra: &[&str]) -> Value {
        let (dump, id) = (self.dump_arg(), id_of(heap, o));
        let args = [&["path", dump.as_str(), id.as_str(), "--json"], extra].concat();
        heapsight_json(&args)
    }

    /// The paths to `o`, each checked hop by hop; at least one.
    fn path(&self, heap: &HeapIndex, o: ObjectId, extra: &[&str]) -> Vec<Value> {
        let json = self.path_json(heap, o, extra);
        let include_weak = extra.contains(&"--include-weak");
        checked_paths(heap, &json, o, include_weak)
    }

    /// The dump opened with the heapsight library, as an index of objects.
    fn heap(&self) -> HeapIndex {
        HeapIndex::open(&self.dump, &Progress::new())
            .unwrap_or_else(|e| panic!("{}: cannot index {}: {e}", self.label, self.dump.display()))
    }
}

/// Runs the heapsight binary; panics with its output when it fails.
fn heapsight(args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heapsight"));
    cmd.args(args);
    jvm::run_checked(&mut cmd, jvm::TOOL_TIMEOUT)
        .unwrap_or_else(|e| panic!("heapsight failed: {e:#}"))
        .stdout
}

fn heapsight_json(args: &[&str]) -> Value {
    let out = heapsight(args);
    serde_json::from_str(&out).unwrap_or_else(|e| {
        panic!(
            "heapsight {args:?} printed invalid JSON ({e}):\n{}",
            out.chars().take(2000).collect::<String>()
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

fn u64_at(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {v}"))
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn histogram_rows(report: &Value) -> &Vec<Value> {
    report["histogram"]
        .as_array()
        .expect("the report has a histogram array")
}

fn dominator_entries(report: &Value) -> &Vec<Value> {
    report["dominators"]
        .as_array()
        .expect("the report has a dominators array")
}

/// A histogram row, summed over loaders.
#[derive(Debug, Default, Clone, Copy)]
struct Row {
    count: u64,
    shallow: u64,
    retained: u64,
    unreachable_count: u64,
    unreachable_bytes: u64,
}

impl Row {
    fn instance_size(&self) -> u64 {
        assert!(self.count > 0, "no instances: {self:?}");
        assert_eq!(
            self.shallow % self.count,
            0,
            "instances of different sizes: {self:?}"
        );
        self.shallow / self.count
    }
}

fn row(report: &Value, class: &str) -> Row {
    let mut out = Row::default();
    let mut found = false;
    for r in histogram_rows(report)
        .iter()
        .filter(|r| r["class"] == class)
    {
        found = true;
        out.count += u64_at(r, "count");
        out.shallow += u64_at(r, "shallow_bytes");
        out.retained += u64_at(r, "retained_bytes");
        out.unreachable_count += u64_at(r, "unreachable_count");
        out.unreachable_bytes += u64_at(r, "unreachable_bytes");
    }
    assert!(found, "no histogram row for {class}");
    out
}

/// What holds for any full report (`--top 0`): totals add up and dominators are sorted.
fn check_report_invariants(report: &Value) {
    let s = &report["summary"];
    let (shallow, reachable, unreachable) = (
        u64_at(s, "shallow_bytes"),
        u64_at(s, "reachable_bytes"),
        u64_at(s, "unreachable_bytes"),
    );
    assert_eq!(
        reachable + unreachable,
        shallow,
        "reachable + unreachable bytes must be all bytes: {s}"
    );
    let rows = histogram_rows(report);
    let sum = |key: &str| rows.iter().map(|r| u64_at(r, key)).sum::<u64>();
    assert_eq!(
        sum("count"),
        u64_at(s, "objects"),
        "histogram counts vs summary"
    );
    assert_eq!(sum("shallow_bytes"), shallow, "histogram bytes vs summary");
    assert_eq!(
        sum("unreachable_count"),
        u64_at(s, "unreachable_objects"),
        "histogram unreachable counts vs summary"
    );
    assert_eq!(
        sum("unreachable_bytes"),
        unreachable,
        "histogram unreachable bytes vs summary"
    );
    for r in rows {
        assert!(
            u64_at(r, "unreachable_count") <= u64_at(r, "count")
                && u64_at(r, "unreachable_bytes") <= u64_at(r, "shallow_bytes"),
            "more unreachable than present: {r}"
        );
        assert!(
            u64_at(r, "retained_bytes") <= reachable,
            "a class retains more than the reachable heap: {r}"
        );
    }

    let doms = dominator_entries(report);
    assert!(!doms.is_empty(), "no top-level dominators");
    for d in doms {
        assert!(
            u64_at(d, "retained_bytes") >= u64_at(d, "shallow_bytes"),
            "retained < shallow: {d}"
        );
    }
    for pair in doms.windows(2) {
        assert!(
            u64_at(&pair[0], "retained_bytes") >= u64_at(&pair[1], "retained_bytes"),
            "dominators not sorted by retained size: {} before {}",
            pair[0],
            pair[1]
        );
    }
    // The top-level dominators partition the reachable heap.
    let total: u64 = doms.iter().map(|d| u64_at(d, "retained_bytes")).sum();
    assert_eq!(
        total, reachable,
        "top-level retained sizes vs reachable bytes"
    );
    let ids: BTreeSet<&str> = doms.iter().map(|d| str_at(d, "id")).collect();
    assert_eq!(ids.len(), doms.len(), "a dominator listed twice");
}

/// The top-level dominator entry of object `o`, if it is one.
fn top_level_entry<'a>(report: &'a Value, heap: &HeapIndex, o: ObjectId) -> Option<&'a Value> {
    let id = id_of(heap, o);
    dominator_entries(report)
        .iter()
        .find(|d| d["id"] == id.as_str())
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

fn hops(path: &Value) -> &Vec<Value> {
    path["hops"].as_array().expect("a path has hops")
}

fn root_kinds(path: &Value) -> Vec<String> {
    path["root_kinds"]
        .as_array()
        .expect("a path has root_kinds")
        .iter()
        .map(|k| k.as_str().expect("root kind is a string").to_owned())
        .collect()
}

/// The `field` of every hop after the root.
fn field_labels(path: &Value) -> Vec<String> {
    hops(path)[1..]
        .iter()
        .map(|h| str_at(h, "field").to_owned())
        .collect()
}

/// `Thread@0x1 .threadLocals→ ThreadLocalMap@0x2 ...`
fn describe_path(path: &Value) -> String {
    let mut out = String::new();
    for h in hops(path) {
        if let Some(f) = h["field"].as_str() {
            out.push_str(&format!(" {f}→ "));
        } else {
            out.push_str(&format!("[{}] ", root_kinds(path).join(",")));
        }
        out.push_str(str_at(h, "description"));
    }
    out
}

/// Checks `path --json` output for `target` and returns its paths (at least one):
///
/// * the object is the target; every path ends at it and starts at a GC root whose kinds are
///   the dump's own root kinds of that object;
/// * every hop after the root names how the previous one refers to it, and the dump confirms
///   every name (field, array slot, static, `<class>`, `<super>`, `<classloader>`);
/// * without `--include-weak`, no hop is only a `referent`;
/// * no object repeats in a path; paths come shortest first and start at distinct roots.
fn checked_paths(
    heap: &HeapIndex,
    json: &Value,
    target: ObjectId,
    include_weak: bool,
) -> Vec<Value> {
    let target_id = id_of(heap, target);
    assert_eq!(
        json["object"]["id"],
        target_id.as_str(),
        "path object: {json}"
    );
    assert_eq!(
        json["mode"],
        if include_weak {
            "include_weak"
        } else {
            "exclude_weak"
        },
        "path mode"
    );
    let paths = json["paths"].as_array().expect("paths array").clone();
    assert!(
        !paths.is_empty(),
        "no path from a GC root to {target_id}: {json}"
    );
    let mut roots = BTreeSet::new();
    let mut last_len = 0;
    for p in &paths {
        let hops = hops(p);
        assert!(!hops.is_empty(), "a path without hops: {p}");
        assert_eq!(
            hops.last().unwrap()["id"],
            target_id.as_str(),
            "a path must end at the target: {}",
            describe_path(p)
        );
        assert!(hops.len() >= last_len, "paths not shortest first: {json}");
        last_len = hops.len();

        let root = heap
            .find(parse_id(str_at(&hops[0], "id")))
            .unwrap_or_else(|| panic!("root {} not in the dump", hops[0]["id"]));
        assert!(
            hops[0].get("field").is_none(),
            "the root hop has no field: {p}"
        );
        let kinds: BTreeSet<String> = root_kinds(p).into_iter().collect();
        let dump_kinds: BTreeSet<String> = heap
            .roots()
            .iter()
            .filter(|r| r.object == root)
            .map(|r| r.kind.as_str().to_owned())
            .collect();
        assert!(
            !kinds.is_empty(),
            "the first hop is not a GC root: {}",
            describe_path(p)
        );
        assert_eq!(kinds, dump_kinds, "root kinds of {}", hops[0]["id"]);
        assert!(roots.insert(root), "two paths from the same root: {json}");

        let mut seen = BTreeSet::new();
        for pair in hops.windows(2) {
            let from = heap
                .find(parse_id(str_at(&pair[0], "id")))
                .expect("hop in the dump");
            let to = heap
                .find(parse_id(str_at(&pair[1], "id")))
                .expect("hop in the dump");
            assert!(
                seen.insert(from),
                "a path visits an object twice: {}",
                describe_path(p)
            );
            let label = str_at(&pair[1], "field");
            assert_ne!(label, "?", "unnamed reference in {}", describe_path(p));
            if let Err(e) = verify_label(heap, from, to, label) {
                panic!(
                    "hop {label:?} is not a reference of the dump ({e}): {}",
                    describe_path(p)
                );
            }
            if !include_weak {
                assert!(
                    label.split(", ").any(|l| l != ".referent"),
                    "a strong path through a referent: {}",
                    describe_path(p)
                );
            }
        }
        for h in hops {
            let o = heap
                .find(parse_id(str_at(h, "id")))
                .expect("hop in the dump");
            assert_eq!(str_at(h, "class"), class_name(heap, o), "hop class: {h}");
            assert_eq!(
                u64_at(h, "shallow_bytes"),
                heap.shallow_size(o),
                "hop size: {h}"
            );
        }
    }
    paths
}

/// Checks every part of a hop label (`.f`, `[i]`, `static s`, `<class>`, `<super>`,
/// `<classloader>`, comma-separated) against the dump.
fn verify_label(heap: &HeapIndex, from: ObjectId, to: ObjectId, label: &str) -> Result<(), String> {
    let to_id = heap.address(to);
    let class_of_from = heap.class_for_object(from).map(|c| heap.classes().get(c));
    for part in label.split(", ") {
        let ok = if let Some(name) = part.strip_prefix("static ") {
            class_of_from.is_some_and(|c| {
                c.statics
                    .iter()
                    .any(|s| &*s.name == name && s.value == FieldValue::Object(to_id))
            })
        } else if let Some(name) = part.strip_prefix('.') {
            heap.fields(from)
                .iter()
                .any(|f| &*f.name == name && f.value == FieldValue::Object(to_id))
        } else if let Some(index) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            let index: usize = index.parse().map_err(|_| format!("bad index {part}"))?;
            matches!(heap.view(from), Some(ObjectView::ObjectArray { elements, .. })
                if elements.get(index) == Some(to_id))
        } else {
            match part {
                "<class>" => heap.class_object(heap.class_of(from)) == Some(to),
                "<super>" => {
                    class_of_from
                        .and_then(|c| c.super_class)
                        .and_then(|s| heap.class_object(s))
                        == Some(to)
                }
                "<classloader>" => class_of_from.is_some_and(|c| c.loader_id == to_id),
                _ => return Err(format!("unknown label {part:?}")),
            }
        };
        if !ok {
            return Err(format!(
                "{part} of {} is not {}",
                heap.describe(from),
                heap.describe(to)
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The dump, through the heapsight library
// ---------------------------------------------------------------------------------------------

fn parse_id(id: &str) -> u64 {
    let hex = id
        .strip_prefix("0x")
        .unwrap_or_else(|| panic!("id {id:?} is not 0x-hex"));
    u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("id {id:?}: {e}"))
}

fn id_of(heap: &HeapIndex, o: ObjectId) -> String {
    format!("0x{:x}", heap.address(o))
}

fn class_name(heap: &HeapIndex, o: ObjectId) -> String {
    heap.classes().get(heap.class_of(o)).name.clone()
}

/// Every instance (or array) of the classes called `name`, in address order.
fn instances_of(heap: &HeapIndex, name: &str) -> Vec<ObjectId> {
    let classes: BTreeSet<u32> = heap.classes().by_name(name).collect();
    let out: Vec<ObjectId> = (0..heap.object_count() as ObjectId)
        .filter(|&o| classes.contains(&heap.class_of(o)) && heap.class_for_object(o).is_none())
        .collect();
    assert!(!out.is_empty(), "no instance of {name} in the dump");
    out
}

/// The class object of the (single) class called `name`.
fn class_object(heap: &HeapIndex, name: &str) -> ObjectId {
    let classes: Vec<u32> = heap.classes().by_name(name).collect();
    assert_eq!(classes.len(), 1, "classes called {name}: {classes:?}");
    heap.class_object(classes[0])
        .unwrap_or_else(|| panic!("class {name} has no class object"))
}

/// The object in static field `field` of class `class`.
fn static_object(heap: &HeapIndex, class: &str, field: &str) -> ObjectId {
    let c = heap.classes().by_name(class).next().expect("class");
    let s = heap
        .classes()
        .get(c)
        .statics
        .iter()
        .find(|s| &*s.name == field)
        .unwrap_or_else(|| panic!("no static {class}.{field}"));
    s.value
        .as_object()
        .and_then(|id| heap.find(id))
        .unwrap_or_else(|| panic!("{class}.{field} is not an object of the dump"))
}

// ---------------------------------------------------------------------------------------------
// `heapsight dominators` text
// ---------------------------------------------------------------------------------------------

/// One node line: `  11.9 MB   90.9%        88 B  <indent>class IdleConnectionReaper @ 0x…`.
#[derive(Debug)]
struct TreeLine {
    percent: f64,
    level: usize,
    text: String,
}

/// The node printed as the parent of `nodes[i]`: the closest earlier node one level up.
fn parent_of(nodes: &[TreeLine], i: usize) -> Option<usize> {
    let level = nodes[i].level.checked_sub(1)?;
    (0..i)
        .rev()
        .find(|&j| nodes[j].level <= level)
        .filter(|&j| nodes[j].level == level)
}

fn parse_tree_line(line: &str) -> Option<TreeLine> {
    fn token(s: &str) -> Option<(&str, &str)> {
        let s = s.trim_start_matches(' ');
        let end = s.find(' ').unwrap_or(s.len());
        (end > 0).then(|| (&s[..end], &s[end..]))
    }
    let (retained, rest) = token(line)?;
    retained.parse::<f64>().ok()?;
    let (_unit, rest) = token(rest)?;
    let (percent, rest) = token(rest)?;
    let percent: f64 = percent.strip_suffix('%')?.parse().ok()?;
    let (shallow, rest) = token(rest)?;
    shallow.parse::<f64>().ok()?;
    let (_unit, rest) = token(rest)?;
    let text = rest.trim_start_matches(' ');
    let spaces = rest.len() - text.len();
    if spaces < 2 || (spaces - 2) % 2 != 0 || text.is_empty() {
        return None;
    }
    Some(TreeLine {
        percent,
        level: (spaces - 2) / 2,
        text: text.to_owned(),
    })
}
