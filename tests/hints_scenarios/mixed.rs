//! The seed incidents together in one JVM (`tests/java/MixedIncidents.java`): all five, and
//! pairs of very different sizes. Each incident must be named with its evidence whatever else
//! is in the heap; no hint blames the class loader's class list; nothing is counted twice.

use serde_json::Value;

use super::run::*;

/// No collection after setup: the garbage sessions and dropped clients stay in the dump.
const NO_GC_768M: &[&str] = &["-Xms768m", "-Xmx768m", "-Xmn400m"];

/// One line per hint: rank, rule, bytes at stake, severity (the table of the final report).
fn table(s: &Scenario) {
    for (i, h) in s.hints().iter().enumerate() {
        println!(
            "{} | {} | {} | {} | {} | {}",
            s.label,
            i + 1,
            h["rule"],
            h["category"],
            h["severity"],
            h["summary"]
        );
    }
}

fn title(h: &Value) -> &str {
    h["title"].as_str().unwrap()
}

fn check_clients(s: &Scenario, n: u64) {
    let h = s.hint("clients_not_closed");
    assert_eq!(h["category"], "leak");
    assert_eq!(num(h, "instances"), n, "{h:#}");
    assert!(title(h).contains("IdleConnectionReaper.connectionManagers"));
    assert!(
        labels(h).contains("idle_connection_reaper"),
        "{}",
        labels(h)
    );
    assert!(h["fix"].as_str().unwrap().contains("shutdown()"));
}

fn check_webapp(s: &Scenario) {
    let h = s.hint("classloader_leak");
    assert_eq!(h["category"], "leak");
    assert_eq!(num(h, "stopped_reachable"), 1, "{h:#}");
    let l = labels(h);
    for pin in [
        "pin: thread-local",
        "pin: jdbc driver",
        "pin: timer",
        "pin: thread",
    ] {
        assert!(l.contains(pin), "{pin} missing: {l}");
    }
    assert!(h["fix"].as_str().unwrap().contains("deregisterDriver"));
}

fn check_netty(s: &Scenario, threads: u64) {
    let h = s
        .hints()
        .iter()
        .find(|h| h["rule"] == "thread_local_cache" && title(h).contains("elasticsearch[_client_]"))
        .unwrap_or_else(|| panic!("Netty maps not named: {:#}", s.report["hints"]));
    assert!(
        title(h).contains("elasticsearch[_client_][generic][T#N]"),
        "{h:#}"
    );
    assert_eq!(num(h, "threads"), threads);
    assert!(labels(h).contains("io.netty.util.internal.InternalThreadLocalMap"));
    assert!(h["fix"]
        .as_str()
        .unwrap()
        .contains("FastThreadLocal.removeAll()"));
}

/// The live sessions held by the static MANAGERS list, and the garbage ones said apart.
fn check_sessions(s: &Scenario, live: u64, garbage: u64) {
    let h = s.hint("sessions");
    assert_eq!(h["category"], "leak", "{h:#}");
    assert_eq!(num(h, "reachable"), live);
    assert_eq!(num(h, "unreachable"), garbage);
    let t = title(h);
    assert!(t.contains("MixedIncidents.MANAGERS"), "{t}");
    let owners = evidence(h, "owner");
    assert!(
        owners
            .iter()
            .any(|e| e["label"] == "static field MixedIncidents.MANAGERS"),
        "{}",
        labels(h)
    );
    let text = h["explanation"].as_str().unwrap();
    assert!(text.contains("The problem is the live part"), "{text}");
    if garbage > 0 {
        assert!(t.contains("not the problem"), "{t}");
        assert!(text.contains("not a leak"), "{text}");
    }
    // The generic suspect (the MANAGERS list) is this hint's evidence, not a second hint.
    assert!(
        !s.hints()
            .iter()
            .any(|x| x["rule"] == "leak_suspect" && title(x).contains("MANAGERS")),
        "{:#}",
        s.report["hints"]
    );
}

/// All five seed incidents in one JVM on JDK `major` (`None`: the JDK on PATH).
fn all_five_incidents_on(major: Option<u32>) {
    let args = [
        "webapp=",
        "oss=300",
        "live=20000",
        "expired=20000",
        "attr=1024",
        "es=16",
        "netty=131072",
        "inflaters=500",
    ];
    let Some(s) = run_on(major, "MixedIncidents", NO_GC_768M, &args, true) else {
        return;
    };
    table(&s);
    check_all(&s);
    check_clients(&s, 300);
    check_sessions(&s, 20_000, 20_000);
    check_webapp(&s);
    check_netty(&s, 16);
    // The JDK is read from the dump's system properties, for the layout and the advice.
    let java = s.report["advice"]["jvm"]["java_major"].as_u64();
    assert_eq!(
        java,
        Some(major.unwrap_or(17) as u64),
        "{:#}",
        s.report["vm"]
    );
    assert_eq!(
        s.report["vm"]["jdk_source"], "system property java.version",
        "{:#}",
        s.report["vm"]
    );
    let z = s.hint("zstream_not_ended");
    assert_eq!(num(z, "not_ended"), 1000, "{z:#}");
    assert_eq!(num(z, "not_ended_reachable"), 500);
    assert_eq!(z["stake"], "estimated_native");
    assert_eq!(z["retained_bytes"], num(z, "estimated_native_bytes"));
}

fn big_sessions_beside_small_netty_maps_on(major: Option<u32>) {
    let args = ["live=40000", "attr=2048", "es=8", "netty=65536"];
    let Some(s) = run_on(major, "MixedIncidents", NO_GC_768M, &args, false) else {
        return;
    };
    table(&s);
    check_all(&s);
    check_sessions(&s, 40_000, 0);
    // 8 × 64 KB beside about 100 MB of sessions: named, ranked below, less severe.
    check_netty(&s, 8);
    assert!(rank(&s, "sessions") < rank(&s, "thread_local_cache"));
    let netty = s.hint("thread_local_cache");
    assert_ne!(netty["severity"], "high", "{netty:#}");
}

fn many_clients_beside_a_small_undeployed_webapp_on(major: Option<u32>) {
    let args = ["webapp=", "oss=1000"];
    let Some(s) = run_on(major, "MixedIncidents", NO_GC_768M, &args, true) else {
        return;
    };
    table(&s);
    check_all(&s);
    check_clients(&s, 1000);
    check_webapp(&s);
    assert!(rank(&s, "clients_not_closed") < rank(&s, "classloader_leak"));
    // A stopped web app still loaded is a defect whatever its size.
    assert_ne!(s.hint("classloader_leak")["severity"], "low");
}

#[test]
fn all_five_incidents_in_one_jvm() {
    all_five_incidents_on(None);
}

#[test]
fn big_sessions_beside_small_netty_maps() {
    big_sessions_beside_small_netty_maps_on(None);
}

#[test]
fn many_clients_beside_a_small_undeployed_webapp() {
    many_clients_beside_a_small_undeployed_webapp_on(None);
}

// The same scenarios on the JDK 11 and 25 runtimes `.ci/run` installs (one JVM each). The
// single-incident scenarios stay on JDK 17 only: the mixed ones cover their patterns.

#[test]
fn jdk11_all_five_incidents_in_one_jvm() {
    all_five_incidents_on(Some(11));
}

#[test]
fn jdk25_all_five_incidents_in_one_jvm() {
    all_five_incidents_on(Some(25));
}

#[test]
fn jdk11_big_sessions_beside_small_netty_maps() {
    big_sessions_beside_small_netty_maps_on(Some(11));
}

#[test]
fn jdk25_big_sessions_beside_small_netty_maps() {
    big_sessions_beside_small_netty_maps_on(Some(25));
}

#[test]
fn jdk11_many_clients_beside_a_small_undeployed_webapp() {
    many_clients_beside_a_small_undeployed_webapp_on(Some(11));
}

#[test]
fn jdk25_many_clients_beside_a_small_undeployed_webapp() {
    many_clients_beside_a_small_undeployed_webapp_on(Some(25));
}

/// The bundled sample (scripts/make-sample.sh: SampleIncidents) is embedded in the binary,
/// written to the cache directory on demand, and shows at least two leak hints.
#[test]
fn bundled_sample_has_two_leak_hints() {
    use heapsight::analysis::hints::leak_hints;
    use heapsight::analysis::{Analysis, AnalysisOptions};
    use heapsight::heap::HeapIndex;
    use heapsight::progress::Progress;
    use std::sync::Arc;

    let path = heapsight::ui::sample_dump_path();
    assert_eq!(
        std::fs::read(&path).expect("sample written"),
        heapsight::ui::SAMPLE_DUMP
    );
    assert!(heapsight::ui::SAMPLE_DUMP.len() < 1536 * 1024);
    // A second call leaves the file as it is.
    assert_eq!(heapsight::ui::sample_dump_path(), path);
    let progress = Progress::new();
    let index = HeapIndex::open(&path, &progress).expect("sample opens");
    let a = Analysis::run(Arc::new(index), AnalysisOptions::default(), &progress)
        .expect("sample analyses");
    let hints = leak_hints(&a);
    let leaks: Vec<&str> = hints
        .iter()
        .filter(|h| h.is_leak())
        .map(|h| h.rule)
        .collect();
    for h in &hints {
        println!("[{:?}] {} | {}", h.severity, h.title, h.summary);
    }
    assert!(leaks.len() >= 2, "{leaks:?}");
    assert!(leaks.contains(&"classloader_leak"), "{leaks:?}");
    assert!(leaks.contains(&"clients_not_closed"), "{leaks:?}");
    check_nothing_counted_twice(&a, &hints);
}

/// On a truncated dump (here the sample cut at 90%: its GC roots, written last, are lost)
/// every hint says that reachability is partial, and none calls objects garbage.
#[test]
fn truncated_dump_says_reachability_is_partial() {
    use heapsight::analysis::hints::{leak_hints, Category};
    use heapsight::analysis::{Analysis, AnalysisOptions};
    use heapsight::heap::HeapIndex;
    use heapsight::progress::Progress;
    use std::io::Read;
    use std::sync::Arc;

    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(heapsight::ui::SAMPLE_DUMP)
        .read_to_end(&mut raw)
        .expect("sample decompresses");
    raw.truncate(raw.len() * 9 / 10);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.hprof");
    std::fs::write(&path, &raw).unwrap();
    let progress = Progress::new();
    let index = HeapIndex::open(&path, &progress).expect("a truncated dump still opens");
    assert!(index
        .warnings()
        .iter()
        .any(|w| w.contains("the dump is truncated")));
    let a = Analysis::run(Arc::new(index), AnalysisOptions::default(), &progress).unwrap();
    let hints = leak_hints(&a);
    assert!(!hints.is_empty());
    for h in &hints {
        println!("[{:?}] {} | {}", h.severity, h.title, h.summary);
        assert!(h.partial_reachability, "{h:#?}");
        assert!(h.explanation.contains("Reachability is partial"), "{h:#?}");
        let text = format!("{} {} {}", h.title, h.explanation, h.fix);
        for claim in ["not a leak", "garbage not yet collected", "Nothing to fix"] {
            assert!(!text.contains(claim), "{claim:?} in {text}");
        }
    }
    let g = hints
        .iter()
        .find(|h| h.category == Category::Garbage)
        .expect("the unread part is reported");
    assert!(g.title.contains("incomplete"), "{}", g.title);
}

/// A plain leak below a web application's class loader (a static list of the running web
/// app, no seed pattern): the suspect is the static field, found by descending through the
/// loader, its class list and the class; not the loader or its list.
#[test]
fn suspect_below_a_web_app_loader_names_the_static_field() {
    suspect_below_a_web_app_loader_on(None);
}

/// On JDK 11 a loader keeps its classes in a `Vector`, not an `ArrayList`.
#[test]
fn jdk11_suspect_below_a_web_app_loader_names_the_static_field() {
    suspect_below_a_web_app_loader_on(Some(11));
}

#[test]
fn jdk25_suspect_below_a_web_app_loader_names_the_static_field() {
    suspect_below_a_web_app_loader_on(Some(25));
}

fn suspect_below_a_web_app_loader_on(major: Option<u32>) {
    let args = ["webapp=", "cache=5000", "oss=50"];
    let Some(s) = run_on(major, "MixedIncidents", NO_GC_768M, &args, true) else {
        return;
    };
    table(&s);
    check_all(&s);
    let suspects: Vec<&Value> = s
        .hints()
        .iter()
        .filter(|h| h["rule"] == "leak_suspect")
        .collect();
    assert_eq!(suspects.len(), 1, "{:#}", s.report["hints"]);
    let h = suspects[0];
    assert!(title(h).contains("static ShopCache.ORDERS"), "{h:#}");
    assert_eq!(num(h, "accumulated_objects"), 5000);
    let owner = evidence(h, "owner");
    assert_eq!(
        owner[0]["label"],
        "static field com.example.shop.ShopCache.ORDERS",
        "{}",
        labels(h)
    );
    assert!(h["fix"]
        .as_str()
        .unwrap()
        .contains("com.example.shop.ShopCache.ORDERS"));
    // Its bytes are not the class-loader leak's: the running web app holds them.
    check_clients(&s, 50);
    check_webapp(&s);
}
