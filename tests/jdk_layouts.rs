//! Object layouts of other JDKs: `tests/java/LayoutZoo.java`, compiled with `javac --release 11`,
//! runs on JDK 11, 17, 21 and 25 (G1 and Serial, compressed oops on and off, compact object
//! headers on 25), and heapsight's histogram of each dump must equal `jmap -histo` of the same
//! process: counts for every stable class, bytes for every stable class but the listed
//! exceptions. Every dump must also pass its own address check: most address-adjacent objects
//! sit exactly the computed size apart.
//!
//! The JDK 11, 21 and 25 runtimes come from `.ci/run` (`target/jdks/<major>`); a missing one
//! skips its tests unless `CI` is set. Printed per run: one row of the match table
//! (`MATCH jdk gc oops: classes compared, counts exact, bytes exact, exceptions`).

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use support::jvm::{self, ClassStats, Comparison, Histogram, JdkHome, Jvm};

/// Not compared by count: jmap counts every mirror in the heap (CDS-archived ones included),
/// while a dump describes classes as CLASS DUMP records.
const COUNT_EXCLUSIONS: &[&str] = &["java.lang.Class"];

/// Stable classes whose bytes may differ: jmap sizes `java.lang.Class` mirrors with their
/// static fields, which the dump does not lay out.
const BYTES_EXCEPTIONS: &[&str] = &["java.lang.Class"];

/// Scenario classes with a known size on every 64-bit JDK (compressed oops, 12-byte header):
/// (class, pre-15 size, 15+ size).
const KNOWN_SIZES: &[(&str, u64, u64)] = &[
    ("LayoutZoo$L1", 24, 24),
    ("LayoutZoo$L1I", 32, 24),
    ("LayoutZoo$B2", 24, 16),
];

struct Run {
    label: String,
    comparison: Comparison,
    json: Value,
}

fn run(major: Option<u32>, gc: &str, flags: &[&str]) -> Option<Run> {
    if !jvm::jdk_available() {
        return None;
    }
    let jdk = match major {
        Some(m) => JdkHome::installed(m)?,
        None => JdkHome::on_path(),
    };
    let started = Instant::now();
    let label = format!("JDK {} {gc} {}", jdk.label, flags.join(" "));
    let dir = jvm::work_dir(&format!("LayoutZoo-{}-{gc}", jdk.label)).expect("work directory");
    let compiled = jvm::compile_scenario_for("LayoutZoo", &dir.path().join("classes"), "11")
        .unwrap_or_else(|e| panic!("LayoutZoo does not compile for release 11: {e:#}"));
    let mut all_flags = vec!["-Xms64m", "-Xmx64m", "-Xss512k"];
    all_flags.extend_from_slice(flags);
    let dump = dir.path().join("LayoutZoo.hprof");
    let snapshot = {
        let vm = Jvm::start_on(&jdk, &compiled, &all_flags, &["200"], dir.path())
            .unwrap_or_else(|e| panic!("{label}: the JVM did not get ready: {e:#}"));
        vm.snapshot(&dump)
            .unwrap_or_else(|e| panic!("{label}: jmap failed: {e:#}\n{}", vm.stderr()))
    };
    let mut snapshot = snapshot;
    if major == Some(11) {
        // JDK 11 names a lambda `Foo$$Lambda$1/0x…` in jmap but `Foo$$Lambda$1` in the dump.
        for h in [&mut snapshot.before, &mut snapshot.after] {
            *h = without_hidden_suffix(h);
        }
    }
    let json = report_json(&dump);
    let histogram = histogram_of(&json);
    let comparison = Comparison::new(
        &snapshot,
        &histogram,
        &compiled.class_names,
        COUNT_EXCLUSIONS,
        BYTES_EXCEPTIONS,
    );
    let compared = comparison.matched
        + comparison.count_mismatches.len()
        + comparison.byte_mismatches.len()
        + comparison.excused_bytes.len();
    let counts_exact = compared - comparison.count_mismatches.len();
    let bytes_exact = comparison.matched;
    println!(
        "MATCH | {} | {gc} | {} | {compared} | {counts_exact} | {bytes_exact} | {} |",
        jdk.label,
        json["vm"]["layout"].as_str().unwrap_or("?"),
        comparison
            .excused_bytes
            .iter()
            .map(|r| r.class.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("{label}: {:.1?}\n{comparison}", started.elapsed());
    let run = Run {
        label,
        comparison,
        json,
    };
    if !run.comparison.is_ok() || !address_check_ok(&run) {
        let _ = dir.keep();
    }
    Some(run)
}

fn without_hidden_suffix(h: &Histogram) -> Histogram {
    let mut out = Histogram::new();
    for (name, stats) in h {
        let name = match name.find("/0x") {
            Some(at) if name.contains("$$Lambda$") => {
                let dims = &name[name.trim_end_matches("[]").len()..];
                format!("{}{dims}", &name[..at])
            }
            _ => name.clone(),
        };
        jvm::add_row(&mut out, &name, *stats);
    }
    out
}

fn report_json(dump: &Path) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heapsight"));
    cmd.arg("report").arg(dump).args(["--json", "--top", "0"]);
    let output = jvm::run_checked(&mut cmd, jvm::TOOL_TIMEOUT)
        .unwrap_or_else(|e| panic!("heapsight report failed: {e:#}"));
    serde_json::from_str(&output.stdout).expect("report --json prints JSON")
}

fn histogram_of(json: &Value) -> Histogram {
    let mut histogram = Histogram::new();
    for row in json["histogram"].as_array().expect("histogram rows") {
        let class = row["class"].as_str().expect("class name");
        let stats = ClassStats {
            count: row["count"].as_u64().expect("count"),
            bytes: row["shallow_bytes"].as_u64().expect("bytes"),
        };
        jvm::add_row(&mut histogram, &jvm::normalize_class_name(class), stats);
    }
    histogram
}

/// Most address-adjacent objects must sit exactly their computed size apart.
fn address_check_ok(run: &Run) -> bool {
    let gaps = &run.json["vm"]["address_check"];
    let pairs = gaps["pairs"].as_u64().unwrap_or(0);
    let matching = gaps["matching"].as_u64().unwrap_or(0);
    pairs > 1000 && matching * 100 >= pairs * 90
}

fn check(run: Option<Run>, expect_jdk: &str, expect_shape: &str) {
    let Some(run) = run else { return };
    let vm = &run.json["vm"];
    let mut problems = Vec::new();
    if !run.comparison.is_ok() {
        problems.push(format!(
            "histogram differs from jmap's:\n{}",
            run.comparison
        ));
    }
    if !address_check_ok(&run) {
        problems.push(format!("address check failed: {}", vm["address_check"]));
    }
    if vm["jdk"].as_str() != Some(expect_jdk) {
        problems.push(format!("vm.jdk is {}, expected {expect_jdk}", vm["jdk"]));
    }
    if !vm["layout"].as_str().unwrap_or("").contains(expect_shape) {
        problems.push(format!(
            "vm.layout is {}, expected {expect_shape}",
            vm["layout"]
        ));
    }
    if vm["reason"].as_str().unwrap_or("").is_empty() {
        problems.push("vm.reason is empty".into());
    }
    // A real JVM's dump has its system properties: java.version decides, the class shapes
    // agree.
    if vm["jdk_source"] != "system property java.version"
        || vm["java_version"].as_str().is_none()
        || !vm["disagreement"].is_null()
    {
        problems.push(format!(
            "java.version not used or disagreeing: source {}, java.version {}, {}",
            vm["jdk_source"], vm["java_version"], vm["disagreement"]
        ));
    }
    assert!(
        problems.is_empty(),
        "{}:\n{}",
        run.label,
        problems.join("\n")
    );
}

fn check_known_sizes(run: &Option<Run>, packed: bool) {
    let Some(run) = run else { return };
    let h = histogram_of(&run.json);
    for &(class, old, new) in KNOWN_SIZES {
        let stats = h.get(class).copied().unwrap_or_default();
        let size = if packed { new } else { old };
        assert_eq!(
            stats.bytes,
            stats.count * size,
            "{}: {class} should be {size} bytes each: {stats:?}",
            run.label
        );
    }
}

#[test]
fn jdk11_g1() {
    let run = run(Some(11), "g1", &["-XX:+UseG1GC"]);
    check_known_sizes(&run, false);
    check(run, "JDK 9-14", "compressed oops and class pointers");
}

#[test]
fn jdk11_serial_uncompressed_oops() {
    let run = run(
        Some(11),
        "serial",
        &["-XX:+UseSerialGC", "-XX:-UseCompressedOops"],
    );
    check(run, "JDK 9-14", "uncompressed oops and class pointers");
}

#[test]
fn jdk17_g1() {
    let run = run(None, "g1", &["-XX:+UseG1GC"]);
    check_known_sizes(&run, true);
    check(run, "JDK 15-18", "compressed oops and class pointers");
}

#[test]
fn jdk17_serial_uncompressed_oops() {
    let run = run(
        None,
        "serial",
        &["-XX:+UseSerialGC", "-XX:-UseCompressedOops"],
    );
    check(
        run,
        "JDK 15-18",
        "uncompressed oops, compressed class pointers",
    );
}

#[test]
fn jdk21_g1() {
    let run = run(Some(21), "g1", &["-XX:+UseG1GC"]);
    check_known_sizes(&run, true);
    check(run, "JDK 19-23", "compressed oops and class pointers");
}

#[test]
fn jdk21_serial_uncompressed_oops() {
    let run = run(
        Some(21),
        "serial",
        &["-XX:+UseSerialGC", "-XX:-UseCompressedOops"],
    );
    check(
        run,
        "JDK 19-23",
        "uncompressed oops, compressed class pointers",
    );
}

#[test]
fn jdk25_g1() {
    let run = run(Some(25), "g1", &["-XX:+UseG1GC"]);
    check_known_sizes(&run, true);
    check(run, "JDK 24+", "compressed oops and class pointers");
}

#[test]
fn jdk25_serial_uncompressed_oops() {
    let run = run(
        Some(25),
        "serial",
        &["-XX:+UseSerialGC", "-XX:-UseCompressedOops"],
    );
    check(
        run,
        "JDK 24+",
        "uncompressed oops, compressed class pointers",
    );
}

#[test]
fn jdk25_g1_compact_headers() {
    let run = run(
        Some(25),
        "g1",
        &["-XX:+UseG1GC", "-XX:+UseCompactObjectHeaders"],
    );
    check(run, "JDK 24+", "compact object headers, compressed oops");
}

#[test]
fn jdk25_serial_compact_headers_uncompressed_oops() {
    let flags = [
        "-XX:+UseSerialGC",
        "-XX:+UseCompactObjectHeaders",
        "-XX:-UseCompressedOops",
    ];
    let run = run(Some(25), "serial", &flags);
    check(run, "JDK 24+", "compact object headers, uncompressed oops");
}
