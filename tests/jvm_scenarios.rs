//! Real-JVM scenarios with the JVM's own histogram as the oracle.
//!
//! Each test compiles a program from `tests/java/`, runs it until it is idle, takes
//! `jmap -histo`, `jmap -dump` (all objects, unreachable ones included) and `jmap -histo` again,
//! then runs `heapsight report <dump> --json --top 0` and compares the histograms:
//!
//! * a class is *stable* when jmap counts it the same before and after the dump (attaching jmap
//!   allocates a little); every stable class must have jmap's count exactly, and its shallow
//!   bytes too unless it is in [`BYTES_EXCEPTIONS`];
//! * every class the scenario defines (and arrays of it) must be stable and equal;
//! * [`COUNT_EXCLUSIONS`] are not compared (heapsight must still count some).
//!
//! The tests are skipped (with a message) when no JDK is on PATH, unless `CI` is set.
//! A failing scenario keeps its dump and jmap output under `target/tmp/jvm-scenarios/`; set
//! `HEAPSIGHT_KEEP_JVM_FILES=1` to keep them for passing ones too.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use support::jvm::{self, ClassStats, Comparison, Compiled, Histogram, Jvm, Snapshot};

/// Not compared by count: jmap counts every mirror in the heap (CDS-archived ones included),
/// while a dump describes classes as CLASS DUMP records.
const COUNT_EXCLUSIONS: &[&str] = &["java.lang.Class"];

/// Stable classes whose shallow bytes may differ from jmap's: jmap sizes `java.lang.Class`
/// mirrors with their static fields.
const BYTES_EXCEPTIONS: &[&str] = &["java.lang.Class"];

/// Large young generation and fixed heap: no GC may run once a scenario has made its garbage.
const NO_GC_512M: &[&str] = &["-Xms512m", "-Xmx512m", "-Xmn400m"];

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

#[test]
fn sessions_in_map() {
    let Some(out) = run("SessionsInMap", "g1", NO_GC_512M, &["20000", "5000"]) else {
        return;
    };
    let mut checks = out.checks();
    checks.count("Session", 25_000); // 20 000 in the map + 5 000 garbage
    checks.count("SessionManager", 1);
    checks.count_at_least("java.util.concurrent.ConcurrentHashMap$Node", 20_000);
    checks.count_at_least("java.util.HashMap", 25_000);
    checks.finish();
}

#[test]
fn sessions_in_map_serial_gc() {
    let flags = [NO_GC_512M, &["-XX:+UseSerialGC"]].concat();
    let Some(out) = run("SessionsInMap", "serial", &flags, &["20000", "5000"]) else {
        return;
    };
    let mut checks = out.checks();
    checks.count("Session", 25_000);
    checks.count("SessionManager", 1);
    checks.finish();
}

#[test]
fn sessions_in_map_uncompressed_oops() {
    let flags = [NO_GC_512M, &["-XX:-UseCompressedOops"]].concat();
    let Some(out) = run("SessionsInMap", "wide-oops", &flags, &["5000", "1000"]) else {
        return;
    };
    let mut checks = out.checks();
    checks.count("Session", 6_000);
    checks.count("SessionManager", 1);
    checks.finish();
}

#[test]
fn client_registry_serial_gc() {
    let flags = ["-XX:+UseSerialGC", "-Xms256m", "-Xmx256m", "-Xmn200m"];
    let Some(out) = run("ClientRegistry", "serial", &flags, &["200", "65536", "10"]) else {
        return;
    };
    let mut checks = out.checks();
    checks.count("OssClient", 200); // 10 in use + 190 dropped, not yet collected
    checks.count("ConnectionManager", 200);
    checks.count("IdleConnectionReaper", 1);
    checks.bytes_at_least("byte[]", 200 * 65_536);
    checks.finish();
}

#[test]
fn thread_local_on_pool_uncompressed_oops() {
    let flags = ["-XX:-UseCompressedOops", "-Xms256m", "-Xmx256m", "-Xmn128m"];
    let Some(out) = run("ThreadLocalOnPool", "wide-oops", &flags, &["1048576"]) else {
        return;
    };
    let mut checks = out.checks();
    checks.count("CachedBuffer", 4);
    checks.count("CacheTask", 4);
    checks.count("ThreadLocalOnPool$1", 1); // the thread factory
    checks.bytes_at_least("byte[]", 4 * 1_048_576);
    checks.finish();
}

/// The plugin that `UndeployedLoader` loads through its own `URLClassLoader`.
const PLUGIN_DRIVER_SOURCE: &str = include_str!("java/plugin/PluginDriver.java");

#[test]
fn undeployed_loader() {
    if !jvm::jdk_available() {
        return;
    }
    let started = Instant::now();
    let dir = jvm::work_dir("UndeployedLoader-g1").expect("work directory");
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
    let out = run_compiled(
        compiled,
        "g1",
        &["-Xms128m", "-Xmx128m"],
        &[&plugin_arg],
        dir,
        started,
    );

    let mut checks = out.checks();
    checks.count("plugin.PluginDriver", 1);
    checks.count("plugin.PluginDriver$Housekeeping", 1);
    checks.count("ContainerThread", 1);
    checks.count_at_least("java.net.URLClassLoader", 1);
    // The plugin's classes come from the plugin loader: not the boot loader, not the app loader.
    let plugin_loaders = out.report.loaders_of("plugin.PluginDriver");
    let app_loaders = out.report.loaders_of("UndeployedLoader");
    if plugin_loaders.len() != 1
        || plugin_loaders.contains("0x0")
        || !plugin_loaders.is_disjoint(&app_loaders)
    {
        checks.problem(format!(
            "plugin.PluginDriver should have one non-boot loader distinct from \
             UndeployedLoader's: plugin {plugin_loaders:?}, app {app_loaders:?}"
        ));
    }
    checks.finish();
}

#[test]
fn plain_heap() {
    let Some(out) = run("PlainHeap", "g1", &["-Xms128m", "-Xmx128m"], &["1000"]) else {
        return;
    };
    let mut checks = out.checks();
    plain_heap_expectations(&mut checks);
    checks.finish();
}

#[test]
fn plain_heap_serial_gc_uncompressed_class_pointers() {
    let flags = [
        "-XX:+UseSerialGC",
        "-XX:-UseCompressedOops",
        "-XX:-UseCompressedClassPointers",
        "-Xms128m",
        "-Xmx128m",
    ];
    let Some(out) = run("PlainHeap", "serial-wide", &flags, &["1000"]) else {
        return;
    };
    let mut checks = out.checks();
    plain_heap_expectations(&mut checks);
    checks.finish();
}

fn plain_heap_expectations(checks: &mut Checks<'_>) {
    checks.count("Point", 1_001); // 1 000 points + one in `mixed`
    checks.count("Point[]", 1);
    checks.count("PlainHeap$Node", 1_000);
    checks.count("Color", 3);
    checks.count_at_least("long[][]", 1);
    checks.count_at_least("byte[][]", 1);
    for array in [
        "boolean[]",
        "char[]",
        "short[]",
        "int[]",
        "long[]",
        "float[]",
        "double[]",
    ] {
        checks.count_at_least(array, 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Running a scenario
// ---------------------------------------------------------------------------------------------

/// Everything one scenario run produced.
struct Outcome {
    label: String,
    snapshot: Snapshot,
    report: Report,
    comparison: Comparison,
    /// Classes, dump and jmap output: removed on drop, unless asked to keep them or a check
    /// fails.
    dir: RefCell<tempfile::TempDir>,
}

/// Compiles and runs scenario `name`; `None` when the test must be skipped (no JDK).
fn run(name: &str, label: &str, jvm_flags: &[&str], args: &[&str]) -> Option<Outcome> {
    if !jvm::jdk_available() {
        return None;
    }
    let started = Instant::now();
    let dir = jvm::work_dir(&format!("{name}-{label}")).expect("work directory");
    let compiled = jvm::compile_scenario(name, &dir.path().join("classes"))
        .unwrap_or_else(|e| panic!("scenario {name} does not compile: {e:#}"));
    Some(run_compiled(compiled, label, jvm_flags, args, dir, started))
}

fn run_compiled(
    compiled: Compiled,
    label: &str,
    jvm_flags: &[&str],
    args: &[&str],
    dir: tempfile::TempDir,
    started: Instant,
) -> Outcome {
    let label = format!("{}[{label}]", compiled.main_class);
    let snapshot = {
        let jvm = Jvm::start(&compiled, jvm_flags, args, dir.path())
            .unwrap_or_else(|e| panic!("{label}: the scenario JVM did not get ready: {e:#}"));
        let dump = dir.path().join(format!("{}.hprof", compiled.main_class));
        let snapshot = jvm.snapshot(&dump).unwrap_or_else(|e| {
            panic!("{label}: jmap failed: {e:#}\nJVM stderr:\n{}", jvm.stderr())
        });
        println!(
            "{label}: pid {}, dump of {} bytes after {:.1?}",
            jvm.pid(),
            std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0),
            started.elapsed()
        );
        snapshot
        // The JVM is killed here.
    };
    let report = Report::of(&snapshot.dump);
    let comparison = Comparison::new(
        &snapshot,
        &report.histogram,
        &compiled.class_names,
        COUNT_EXCLUSIONS,
        BYTES_EXCEPTIONS,
    );
    println!(
        "{label}: finished in {:.1?}\n{comparison}",
        started.elapsed()
    );
    Outcome {
        label,
        snapshot,
        report,
        comparison,
        dir: RefCell::new(dir),
    }
}

impl Outcome {
    /// Starts the checks with the JSON contract and the comparison against jmap.
    fn checks(&self) -> Checks<'_> {
        let mut checks = Checks {
            outcome: self,
            problems: Vec::new(),
        };
        checks.contract();
        let mut histogram_only = histogram_only_json(&self.snapshot.dump);
        without_jdk_choice(&mut histogram_only);
        let full = without_retention(&self.report.json);
        if histogram_only != full {
            checks.problem(format!(
                "`report --histogram-only` (the census) differs from the full report's histogram:\n  census:  {}\n  indexed: {}",
                histogram_only.to_string().chars().take(3000).collect::<String>(),
                full.to_string().chars().take(3000).collect::<String>()
            ));
        }
        let mut report = self.report.json.clone();
        let mut parked = parked_report_json(&self.snapshot.dump);
        for json in [&mut report, &mut parked] {
            if let Some(o) = json.as_object_mut() {
                o.remove("index_file");
            }
        }
        if parked != report {
            checks.problem(format!(
                "the report with the file offsets parked (HEAPSIGHT_PARK=1) differs:\n  parked: {}\n  report: {}",
                parked.to_string().chars().take(3000).collect::<String>(),
                report.to_string().chars().take(3000).collect::<String>()
            ));
        }
        if !self.comparison.is_ok() {
            checks.problem(format!(
                "histogram differs from jmap's:\n{}",
                self.comparison
            ));
        }
        checks
    }
}

/// Collects every problem of one scenario, then fails once with all of them.
struct Checks<'a> {
    outcome: &'a Outcome,
    problems: Vec<String>,
}

impl Checks<'_> {
    fn problem(&mut self, message: String) {
        self.problems.push(message);
    }

    /// jmap's (first) count and ours for `class`.
    fn counts(&self, class: &str) -> (ClassStats, ClassStats) {
        let jmap = self
            .outcome
            .snapshot
            .before
            .get(class)
            .copied()
            .unwrap_or_default();
        let ours = self
            .outcome
            .report
            .histogram
            .get(class)
            .copied()
            .unwrap_or_default();
        (jmap, ours)
    }

    /// Both jmap and heapsight see exactly `expected` instances of `class`.
    fn count(&mut self, class: &str, expected: u64) {
        let (jmap, ours) = self.counts(class);
        if jmap.count != expected {
            self.problem(format!(
                "scenario setup: jmap sees {} {class} instead of {expected} (did a GC run, \
                 or does the scenario not build what it should?)",
                jmap.count
            ));
        }
        if ours.count != expected {
            self.problem(format!(
                "heapsight counts {} {class}, expected {expected}",
                ours.count
            ));
        }
    }

    /// Both jmap and heapsight see at least `minimum` instances of `class`.
    fn count_at_least(&mut self, class: &str, minimum: u64) {
        let (jmap, ours) = self.counts(class);
        if jmap.count < minimum || ours.count < minimum {
            self.problem(format!(
                "expected at least {minimum} {class}: jmap has {}, heapsight {}",
                jmap.count, ours.count
            ));
        }
    }

    /// heapsight sizes all instances of `class` to at least `minimum` bytes.
    fn bytes_at_least(&mut self, class: &str, minimum: u64) {
        let (jmap, ours) = self.counts(class);
        if jmap.bytes < minimum || ours.bytes < minimum {
            self.problem(format!(
                "expected at least {minimum} bytes of {class}: jmap has {}, heapsight {}",
                jmap.bytes, ours.bytes
            ));
        }
    }

    /// What the JSON contract promises, whatever the scenario.
    fn contract(&mut self) {
        let json = &self.outcome.report.json;
        if json["format"] != "JAVA PROFILE 1.0.2" {
            self.problem(format!("format is {}", json["format"]));
        }
        if json["id_size"] != 8 {
            self.problem(format!("id_size is {}", json["id_size"]));
        }
        if json["timestamp_ms"].as_u64().unwrap_or(0) == 0 {
            self.problem(format!("timestamp_ms is {}", json["timestamp_ms"]));
        }
        if !json["warnings"].is_array() {
            self.problem(format!("warnings is not an array: {}", json["warnings"]));
        }
        let summary = &json["summary"];
        for key in ["objects", "classes", "shallow_bytes", "threads"] {
            if summary[key].as_u64().unwrap_or(0) == 0 {
                self.problem(format!("summary.{key} is {}", summary[key]));
            }
        }
        let roots: u64 = summary["gc_roots"]
            .as_object()
            .map(|kinds| kinds.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        if roots == 0 {
            self.problem(format!("summary.gc_roots is {}", summary["gc_roots"]));
        }
        for class in COUNT_EXCLUSIONS {
            let ours = self.outcome.report.histogram.get(*class).copied();
            if ours.unwrap_or_default().count == 0 {
                self.problem(format!("heapsight counts no {class}"));
            }
        }
    }

    /// Fails the test with every problem found, after printing the full comparison.
    fn finish(self) {
        let outcome = self.outcome;
        if !self.problems.is_empty() {
            // Keep the dump and jmap's histograms for whoever investigates.
            outcome.dir.borrow_mut().disable_cleanup(true);
        }
        assert!(
            self.problems.is_empty(),
            "{}: {} problem(s):\n\n{}\n\n(dump kept at {}, summary: {})",
            outcome.label,
            self.problems.len(),
            self.problems.join("\n\n"),
            outcome.snapshot.dump.display(),
            outcome.report.json["summary"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// heapsight's report
// ---------------------------------------------------------------------------------------------

/// `heapsight report <dump> --json --top 0`, parsed.
struct Report {
    json: Value,
    /// Rows summed by (normalized) class name.
    histogram: Histogram,
    /// Loader ids seen per class name.
    loaders: BTreeMap<String, BTreeSet<String>>,
}

/// `heapsight report --histogram-only --json --top 0`, which counts without indexing.
fn histogram_only_json(dump: &Path) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heapsight"));
    cmd.arg("report")
        .arg(dump)
        .args(["--histogram-only", "--json", "--top", "0"]);
    let output = jvm::run_checked(&mut cmd, jvm::TOOL_TIMEOUT)
        .unwrap_or_else(|e| panic!("heapsight report --histogram-only failed: {e:#}"));
    serde_json::from_str(&output.stdout).expect("--histogram-only --json prints JSON")
}

/// `heapsight report --no-index --json --top 0` with the file offsets parked in a temporary
/// file during the graph passes (done by default only on big dumps).
fn parked_report_json(dump: &Path) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heapsight"));
    cmd.arg("report")
        .arg(dump)
        .args(["--no-index", "--json", "--top", "0"])
        .env("HEAPSIGHT_PARK", "1");
    let output = jvm::run_checked(&mut cmd, jvm::TOOL_TIMEOUT)
        .unwrap_or_else(|e| panic!("heapsight report (parked) failed: {e:#}"));
    serde_json::from_str(&output.stdout).expect("report --json prints JSON")
}

/// A full report without what only retention analysis adds.
fn without_retention(full: &Value) -> Value {
    let mut json = full.clone();
    if let Some(o) = json.as_object_mut() {
        for key in ["dominators", "hints", "advice", "index_file"] {
            o.remove(key);
        }
    }
    if let Some(s) = json["summary"].as_object_mut() {
        for key in [
            "reachable_bytes",
            "unreachable_objects",
            "unreachable_bytes",
        ] {
            s.remove(key);
        }
    }
    if let Some(rows) = json["histogram"].as_array_mut() {
        for row in rows.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["retained_bytes", "unreachable_count", "unreachable_bytes"] {
                row.remove(key);
            }
        }
    }
    without_jdk_choice(&mut json);
    json
}

/// Only the full report reads objects, so only it knows the dump's java.version: the census
/// tells the generation from the class shapes (the same one here, the test checks the rest).
fn without_jdk_choice(json: &mut Value) {
    if let Some(vm) = json["vm"].as_object_mut() {
        for key in ["reason", "java_version", "jdk_source", "disagreement"] {
            vm.remove(key);
        }
    }
}

impl Report {
    fn of(dump: &Path) -> Report {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_heapsight"));
        cmd.arg("report").arg(dump).args(["--json", "--top", "0"]);
        let output = jvm::run_checked(&mut cmd, jvm::TOOL_TIMEOUT)
            .unwrap_or_else(|e| panic!("heapsight report failed: {e:#}"));
        let json: Value = serde_json::from_str(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "heapsight report --json printed invalid JSON ({e}):\n{}",
                output.stdout.chars().take(2000).collect::<String>()
            )
        });
        let rows = json["histogram"]
            .as_array()
            .unwrap_or_else(|| panic!("no histogram array in the report: {}", json["summary"]));
        let mut histogram = Histogram::new();
        let mut loaders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in rows {
            let field = |key: &str| {
                row.get(key)
                    .unwrap_or_else(|| panic!("histogram row without {key}: {row}"))
            };
            let class = field("class").as_str().expect("class is a string");
            let loader = field("loader").as_str().expect("loader is a string");
            let count = field("count").as_u64().expect("count is an integer");
            let bytes = field("shallow_bytes")
                .as_u64()
                .expect("shallow_bytes is an integer");
            let name = jvm::normalize_class_name(class);
            loaders
                .entry(name.clone())
                .or_default()
                .insert(loader.to_owned());
            jvm::add_row(&mut histogram, &name, ClassStats { count, bytes });
        }
        Report {
            json,
            histogram,
            loaders,
        }
    }

    fn loaders_of(&self, class: &str) -> BTreeSet<String> {
        self.loaders.get(class).cloned().unwrap_or_default()
    }
}
