//! Leak hints and JVM advice on real JVM heaps: one scenario per incident of
//! `shared/seeds/` (and a clean one). Each test compiles `tests/java/<Scenario>.java` with the
//! stand-in library classes of `tests/java/hints/lib/` (Tomcat, Aliyun OSS, HttpClient, Netty,
//! javacpp, under their real package names), runs it until `READY`, takes one `jmap -dump`
//! (no GC) and runs `heapsight report DUMP --json`; then checks the `hints` and `advice` keys.
//!
//! The combined-incident scenarios, the clean service and the suspect below a web app's loader
//! also run on the JDK 11 and 25 runtimes of `.ci/run` (`target/jdks/<major>`; compiled with
//! `javac --release 11`), one JVM per scenario; a missing runtime skips with a message.
//!
//! Skipped (with a message) without a JDK on PATH, unless `CI` is set. A failing test keeps
//! its work directory under `target/tmp/jvm-scenarios/`.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

#[path = "hints_scenarios/run.rs"]
mod run;

#[path = "hints_scenarios/mixed.rs"]
mod mixed;

use run::*;
use serde_json::Value;

/// `2g`, `768m` → bytes.
fn size(v: &Value) -> u64 {
    let s = v.as_str().unwrap();
    let (n, m) = s.split_at(s.len() - 1);
    n.parse::<u64>().unwrap()
        * match m {
            "g" => 1 << 30,
            "m" => 1 << 20,
            "k" => 1 << 10,
            _ => panic!("size {s}"),
        }
}

/// The -Xmx rule: 4 × live set, rounded up to 64 MB steps (below 1 GB).
fn expected_xmx(live: u64) -> u64 {
    (live * 4).div_ceil(64 << 20).max(1) * (64 << 20)
}

#[test]
fn tomcat_sessions_are_garbage_not_a_leak() {
    let flags = [
        "-Xms64m",
        "-Xmx1g",
        "-XX:MaxHeapFreeRatio=100",
        "-XX:MinHeapFreeRatio=0",
        "-XX:+UseG1GC",
    ];
    let Some(s) = run("TomcatSessions", &flags, &["20000", "300"], false) else {
        return;
    };
    check_all(&s);
    let h = s.hint("sessions");
    assert_eq!(h["category"], "garbage", "{h:#}");
    assert_eq!(num(h, "sessions"), 20_300);
    assert_eq!(num(h, "reachable"), 300);
    assert_eq!(num(h, "unreachable"), 20_000);
    assert_eq!(num(h, "invalid"), 20_000);
    assert_eq!(num(h, "in_manager_maps"), 300);
    assert!(num(h, "expired") >= 20_000);
    // Each garbage session drags its attribute map and 2 KB cart along.
    assert!(num(h, "garbage_bytes") >= 20_000 * 2048, "{h:#}");
    assert_eq!(evidence(h, "session manager").len(), 1, "{}", labels(h));
    assert_eq!(evidence(h, "sessions map").len(), 1, "{}", labels(h));
    assert!(!evidence(h, "garbage session").is_empty());
    let g = s.hint("garbage");
    assert!(num(g, "unreachable_bytes") >= 20_000 * 2048);
    // No leak is claimed for the sessions.
    assert!(
        !s.hints().iter().any(|h| h["rule"] == "leak_suspect"
            && h["title"].as_str().unwrap().contains("StandardSession")),
        "{:#}",
        s.report["hints"]
    );

    // Advice: the heap must be able to shrink; facts read from the dump.
    let jvm = &s.report["advice"]["jvm"];
    assert_eq!(jvm["java_major"], 17, "{jvm:#}");
    assert_eq!(jvm["collector"], "G1", "{jvm:#}");
    assert!(jvm["vm_args"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "-XX:MaxHeapFreeRatio=100"));
    assert_eq!(jvm["max_heap_bytes"], 1u64 << 30);
    let max_free = s.flag("-XX:MaxHeapFreeRatio");
    assert_eq!(max_free["value"], "60");
    assert_eq!(max_free["current"], "100");
    assert_eq!(max_free["setting"], "-XX:MaxHeapFreeRatio=60");
    let min_free = s.flag("-XX:MinHeapFreeRatio");
    assert_eq!(min_free["value"], "10");
    assert_eq!(min_free["current"], "0");
    assert!(s.has_flag("-XX:G1PeriodicGCInterval"));
    // Never "-Xms = -Xmx" next to "let the heap shrink".
    assert!(!s.has_flag("-Xms"), "{:#}", s.report["advice"]["flags"]);
    // -Xmx 1g is far more than 4 × the live set: keep it.
    let xmx = s.flag("-Xmx");
    assert_eq!(xmx["value"], "1g");
    assert_eq!(xmx["current"], "1g");
}

#[test]
fn oss_clients_never_shut_down() {
    let Some(s) = run("OssClientLeak", NO_GC_512M, &["300"], false) else {
        return;
    };
    check_all(&s);
    let h = s.hint("clients_not_closed");
    assert_eq!(h["category"], "leak");
    assert_eq!(num(h, "instances"), 300, "{h:#}");
    assert!(h["title"]
        .as_str()
        .unwrap()
        .contains("com.aliyun.oss.common.comm.IdleConnectionReaper.connectionManagers"));
    assert!(h["title"]
        .as_str()
        .unwrap()
        .contains("PoolingHttpClientConnectionManager"));
    let threads = evidence(h, "thread");
    assert_eq!(threads.len(), 1, "{}", labels(h));
    assert!(threads[0]["label"]
        .as_str()
        .unwrap()
        .contains("idle_connection_reaper"));
    assert_eq!(evidence(h, "registry").len(), 1);
    assert_eq!(evidence(h, "instance").len(), 5);
    // 300 dropped clients (garbage, no GC ran) + the one shut down, still in main's frame.
    assert_eq!(num(h, "owner_instances"), 301);
    assert_eq!(num(h, "owner_instances_reachable"), 1);
    assert!(h["fix"].as_str().unwrap().contains("shutdown()"));
    // Each manager keeps 4 × 16 KB of buffers.
    assert!(num(h, "retained_bytes") >= 300 * 4 * 16 * 1024);
    // MAT-style: the reaper's list is the leak suspect, its array (capacity ≥ 300) the
    // accumulation point, with the 300 managers under it. One cause, one hint: the clients
    // hint shows the suspect's numbers as its evidence.
    let acc = evidence(h, "leak suspect: accumulation point");
    assert_eq!(acc.len(), 1, "{}", labels(h));
    assert!(
        acc[0]["label"]
            .as_str()
            .unwrap()
            .starts_with("java.lang.Object["),
        "{}",
        labels(h)
    );
    let owner = evidence(h, "leak suspect: owner");
    assert!(
        owner[0]["label"].as_str().unwrap().contains(
            "static field com.aliyun.oss.common.comm.IdleConnectionReaper.connectionManagers"
        ),
        "{}",
        labels(h)
    );
    assert_eq!(num(h, "suspect_accumulated_objects"), 300);
    assert!(num(h, "suspect_retained_bytes") >= num(h, "retained_bytes") - 4096);
    assert!(
        !s.hints().iter().any(|h| h["rule"] == "leak_suspect"),
        "{:#}",
        s.report["hints"]
    );
}

#[test]
fn webapp_redeploy_leaks_its_loader() {
    let Some(s) = run("WebappRedeploy", &["-Xmx256m"], &[], true) else {
        return;
    };
    check_all(&s);
    let h = s.hint("classloader_leak");
    assert_eq!(h["severity"], "high");
    assert_eq!(num(h, "loaders"), 2, "{h:#}");
    assert_eq!(num(h, "stopped"), 1);
    assert_eq!(num(h, "stopped_reachable"), 1);
    assert_eq!(num(h, "duplicated_classes"), 5, "{h:#}");
    let leaked = evidence(h, "leaked loader");
    assert_eq!(leaked.len(), 1, "{}", labels(h));
    assert!(leaked[0]["label"].as_str().unwrap().contains("STOPPED"));
    let pins: Vec<String> = h["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["role"].as_str().unwrap().starts_with("pin: "))
        .map(|e| format!("{} {}", e["role"], e["label"]))
        .collect();
    let has = |kind: &str, text: &str| pins.iter().any(|p| p.contains(kind) && p.contains(text));
    assert!(
        has("pin: thread-local", "http-nio-8080-exec-1"),
        "{pins:#?}"
    );
    assert!(
        has("pin: thread-local", "com.example.shop.ShopContext"),
        "{pins:#?}"
    );
    assert!(
        has("pin: jdbc driver", "com.example.shop.ShopDriver"),
        "{pins:#?}"
    );
    assert!(has("pin: timer", "shop-cancel-timer"), "{pins:#?}");
    assert!(has("pin: thread", "shop-stats-collector"), "{pins:#?}");
    let fix = h["fix"].as_str().unwrap();
    assert!(
        fix.contains("ThreadLocal.remove()") && fix.contains("deregisterDriver"),
        "{fix}"
    );
    // The app thread of the stopped loader is one of its pins, not a second hint.
    assert!(
        !s.hints().iter().any(|h| h["rule"] == "app_threads"),
        "{:#}",
        s.report["hints"]
    );
    assert!(h["title"].as_str().unwrap().contains("pinned by"), "{h:#}");
    // Metaspace, not PermGen, on JDK 17.
    let meta = s.flag("-XX:MaxMetaspaceSize");
    assert!(size(&meta["value"]) >= 256 << 20);
    assert!(!s.has_flag("-XX:MaxPermSize"));
}

#[test]
fn netty_thread_locals_on_client_pool() {
    let Some(s) = run("NettyThreadLocals", &["-Xmx256m"], &["40", "262144"], false) else {
        return;
    };
    check_all(&s);
    let h = s.hint("thread_local_cache");
    assert!(
        h["title"]
            .as_str()
            .unwrap()
            .contains("[_client_][generic][T#N]"),
        "{h:#}"
    );
    assert_eq!(num(h, "threads"), 40);
    assert!(num(h, "retained_bytes") >= 40 * 262_144);
    assert!(labels(h).contains("io.netty.util.internal.InternalThreadLocalMap"));
    assert!(h["fix"]
        .as_str()
        .unwrap()
        .contains("FastThreadLocal.removeAll()"));
    let t = s.hint("many_threads");
    assert_eq!(num(t, "threads"), 40);
    let p = s.hint("javacpp_pointers");
    assert_eq!(num(p, "pointers"), 16);
    assert_eq!(num(p, "max_physical_bytes"), 1 << 30);
    // -Xss × threads, and malloc arenas for native users with many threads.
    let xss = s.flag("-Xss");
    assert_eq!(xss["value"], "512k");
    assert!(s.has_flag("MALLOC_ARENA_MAX"));
}

#[test]
fn inflaters_and_direct_buffers_off_heap() {
    // Read back by the scenario's System.getenv() and reported in the advice.
    std::env::set_var("MALLOC_ARENA_MAX", "4");
    let Some(s) = run("InflaterLeak", NO_GC_512M, &["1000", "1000"], false) else {
        return;
    };
    check_all(&s);
    let h = s.hint("zstream_not_ended");
    assert_eq!(h["category"], "off_heap");
    assert!(h["title"].as_str().unwrap().contains("Inflater"));
    assert_eq!(num(h, "not_ended"), 2000, "{h:#}");
    assert_eq!(num(h, "not_ended_reachable"), 1000);
    assert_eq!(num(h, "not_ended_unreachable"), 1000);
    let d = s.hint("direct_buffers");
    assert_eq!(num(d, "buffers"), 48, "slices own no memory: {d:#}");
    assert_eq!(num(d, "capacity_bytes"), 48 << 20);
    assert_eq!(num(d, "reachable_capacity_bytes"), 48 << 20);
    assert!(num(d, "bits_reserved_memory") >= 48 << 20);
    assert_eq!(num(d, "max_direct_memory"), 512 << 20);
    // No leak claimed: this is native memory.
    assert!(
        !s.hints().iter().any(|h| h["category"] == "leak"),
        "{:#}",
        s.report["hints"]
    );
    // Advice from the numbers: 2 × 48 MB reachable → 128m cap; arenas; env read from the dump.
    let m = s.flag("-XX:MaxDirectMemorySize");
    assert_eq!(m["value"], "128m");
    let arena = s.flag("MALLOC_ARENA_MAX");
    assert_eq!(arena["value"], "2");
    assert_eq!(arena["current"], "4");
    assert_eq!(s.report["advice"]["jvm"]["env"]["MALLOC_ARENA_MAX"], "4");
    assert!(s.has_flag("-XX:NativeMemoryTracking"));
}

#[test]
fn clean_service_gets_no_leak_hint() {
    clean_service_on(None);
}

#[test]
fn jdk11_clean_service_gets_no_leak_hint() {
    clean_service_on(Some(11));
}

#[test]
fn jdk25_clean_service_gets_no_leak_hint() {
    clean_service_on(Some(25));
}

/// The clean service on JDK `major` (`None`: the JDK on PATH): no hint but waste.
fn clean_service_on(major: Option<u32>) {
    let Some(s) = run_on(major, "CleanService", &["-Xms256m", "-Xmx256m"], &[], false) else {
        return;
    };
    check_all(&s);
    let bad: Vec<&Value> = s
        .hints()
        .iter()
        .filter(|h| h["category"] != "waste")
        .collect();
    assert!(bad.is_empty(), "clean service got hints: {bad:#?}");
    let live = s.live();
    let xmx = s.flag("-Xmx");
    // 256m is more than 3 × a live set of a few MB: keep it.
    assert!(256 << 20 >= 3 * live, "live set {live}");
    assert_eq!(xmx["value"], "256m");
    assert_eq!(xmx["current"], "256m");
    let xms = s.flag("-Xms");
    assert_eq!(xms["value"], "256m");
    assert_eq!(xms["current"], "256m");
    assert!(!s.has_flag("-XX:MaxHeapFreeRatio"));
    assert!(!s.has_flag("MALLOC_ARENA_MAX"));
    assert!(expected_xmx(live) <= 256 << 20);
    let cannot = s.report["advice"]["cannot_tell"].as_array().unwrap();
    assert!(cannot
        .iter()
        .any(|c| c.as_str().unwrap().contains("native memory")));
}

#[test]
fn duplicate_strings_count_string_values_only() {
    let Some(s) = run("DuplicateValues", &["-Xms256m", "-Xmx256m"], &[], false) else {
        return;
    };
    check_all(&s);
    let h = s.hint("duplicate_strings");
    // 20 values × 15,000 copies: 14,999 extra copies of each, a String (24 bytes with
    // compressed oops) and its byte[18] (40 bytes) apiece. The JDK's own repeated strings add
    // a little; the 100,000 equal byte[]s outside strings (4 MB) add nothing.
    let ours = 20 * 14_999 * (24 + 40);
    let wasted = num(h, "wasted_bytes");
    assert!(
        (ours..ours + (1 << 20)).contains(&wasted),
        "wasted {wasted}, ours {ours}: {h:#}"
    );
    assert!(num(h, "distinct_duplicated") >= 20, "{h:#}");
    let top = labels(h);
    for line in top.lines().take(5) {
        assert!(
            line.contains("\"duplicate-value-") && line.contains("×15,000"),
            "{top}"
        );
    }
}
