//! Running the hint scenarios and the checks every scenario must pass.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use heapsight::analysis::hints::{leak_hints, Hint};
use heapsight::analysis::{Analysis, AnalysisOptions};
use heapsight::heap::HeapIndex;
use heapsight::progress::Progress;
use serde_json::Value;

use crate::support::jvm::{self, Compiled, JdkHome, Jvm};

/// Large young generation and fixed heap: no GC once a scenario has made its garbage.
pub const NO_GC_512M: &[&str] = &["-Xms512m", "-Xmx512m", "-Xmn400m"];

pub struct Scenario {
    pub label: String,
    pub dir: tempfile::TempDir,
    pub dump: PathBuf,
    pub report: Value,
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dir.disable_cleanup(true);
            eprintln!("{}: keeping {}", self.label, self.dir.path().display());
        }
    }
}

fn java_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            java_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "java") {
            out.push(p);
        }
    }
}

/// Compiles, runs and dumps `name`; `None` without a JDK. `webapp` also compiles the
/// `tests/java/hints/webapp` tree into `<work>/webapp` and passes that directory: as the
/// argument `webapp=DIR` when `args` has a `webapp=` placeholder, else as the first argument.
///
/// The JVM flags and scenarios work on JDK 11 and later; the JDK is the one on PATH.
pub fn run(name: &str, flags: &[&str], args: &[&str], webapp: bool) -> Option<Scenario> {
    run_on(None, name, flags, args, webapp)
}

/// Like [`run`], on the installed runtime of JDK `major` (`None`: the JDK on PATH). The
/// sources are compiled by the PATH JDK's `javac --release 11` so every runtime loads them.
/// `None` (with a message saying which runtime is missing) when the JDK is not there.
pub fn run_on(
    major: Option<u32>,
    name: &str,
    flags: &[&str],
    args: &[&str],
    webapp: bool,
) -> Option<Scenario> {
    if !jvm::jdk_available() {
        return None;
    }
    let jdk = match major {
        Some(m) => match JdkHome::installed(m) {
            Some(jdk) => jdk,
            None => {
                println!("skipping {name} on JDK {m}: that runtime is not installed");
                return None;
            }
        },
        None => JdkHome::on_path(),
    };
    let release = major.map(|_| "11");
    let label = match major {
        Some(m) => format!("{name} (JDK {m})"),
        None => name.to_string(),
    };
    let started = Instant::now();
    let dir = jvm::work_dir(&format!("hints-{name}-{}", jdk.label)).expect("work directory");
    let src = jvm::java_sources_dir();
    let mut sources = vec![src.join(format!("{name}.java"))];
    java_files(&src.join("hints").join("lib"), &mut sources);
    let classes = dir.path().join("classes");
    let class_names = jvm::javac_release(&sources, &classes, release)
        .unwrap_or_else(|e| panic!("{label} does not compile: {e:#}"));
    let mut all_args: Vec<String> = Vec::new();
    let placeholder = args.contains(&"webapp=");
    if webapp {
        let mut web = Vec::new();
        java_files(&src.join("hints").join("webapp"), &mut web);
        let out = dir.path().join("webapp");
        jvm::javac_release(&web, &out, release)
            .unwrap_or_else(|e| panic!("webapp does not compile: {e:#}"));
        let web_dir = out.to_str().unwrap().to_string();
        if placeholder {
            all_args.extend(args.iter().map(|a| {
                if *a == "webapp=" {
                    format!("webapp={web_dir}")
                } else {
                    a.to_string()
                }
            }));
        } else {
            all_args.push(web_dir);
            all_args.extend(args.iter().map(|s| s.to_string()));
        }
    } else {
        all_args.extend(args.iter().map(|s| s.to_string()));
    }
    let arg_refs: Vec<&str> = all_args.iter().map(|s| s.as_str()).collect();
    let compiled = Compiled {
        main_class: name.to_string(),
        classes_dir: classes,
        class_names,
    };
    let dump = dir.path().join(format!("{name}.hprof"));
    {
        let jvm = Jvm::start_on(&jdk, &compiled, flags, &arg_refs, dir.path())
            .unwrap_or_else(|e| panic!("{label}: the JVM did not get ready: {e:#}"));
        jvm.dump(&dump)
            .unwrap_or_else(|e| panic!("{label}: jmap failed: {e:#}\n{}", jvm.stderr()));
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heapsight"));
    cmd.args(["report", dump.to_str().unwrap(), "--json", "--top", "5"]);
    let out = jvm::run_checked(&mut cmd, jvm::TOOL_TIMEOUT)
        .unwrap_or_else(|e| panic!("heapsight failed: {e:#}"))
        .stdout;
    let report: Value = serde_json::from_str(&out).expect("report JSON");
    println!(
        "{label}: {:.1?}; hints:\n{}",
        started.elapsed(),
        report["hints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| format!(
                "  [{}] {} {} | {}",
                h["severity"], h["rule"], h["title"], h["summary"]
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    Some(Scenario {
        label,
        dir,
        dump,
        report,
    })
}

impl Scenario {
    pub fn hints(&self) -> &Vec<Value> {
        self.report["hints"].as_array().expect("hints array")
    }

    pub fn hint(&self, rule: &str) -> &Value {
        self.hints()
            .iter()
            .find(|h| h["rule"] == rule)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no {rule} hint in {:#}",
                    self.label, self.report["hints"]
                )
            })
    }

    pub fn flag(&self, flag: &str) -> &Value {
        self.report["advice"]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["flag"] == flag)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no {flag} advice in {:#}",
                    self.label, self.report["advice"]["flags"]
                )
            })
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.report["advice"]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["flag"] == flag)
    }

    pub fn live(&self) -> u64 {
        self.report["advice"]["live_set_bytes"].as_u64().unwrap()
    }
}

pub fn num(h: &Value, key: &str) -> u64 {
    h["numbers"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no number {key} in {h:#}"))
}

pub fn evidence<'a>(h: &'a Value, role: &str) -> Vec<&'a Value> {
    h["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["role"] == role)
        .collect()
}

pub fn labels(h: &Value) -> String {
    h["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}: {}", e["role"], e["label"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every evidence entry names an object by number and by hex id.
pub fn check_evidence_shape(s: &Scenario) {
    for h in s.hints() {
        for e in h["evidence"].as_array().unwrap() {
            assert!(e["object"].is_u64(), "{e}");
            assert!(e["id"].as_str().unwrap().starts_with("0x"), "{e}");
        }
        assert!(!h["fix"].as_str().unwrap().is_empty());
        assert!(!h["explanation"].as_str().unwrap().is_empty());
    }
}

/// The hints of the scenario's dump computed in this process (for what JSON does not carry:
/// the objects each hint claims).
pub fn analyse(s: &Scenario) -> (Arc<Analysis>, Vec<Hint>) {
    let progress = Progress::new();
    let index = HeapIndex::open(&s.dump, &progress).expect("dump opens");
    let a = Arc::new(
        Analysis::run(Arc::new(index), AnalysisOptions::default(), &progress)
            .expect("dump analyses"),
    );
    let hints = leak_hints(&a);
    (a, hints)
}

/// Words that mean a class loader's list of classes was blamed.
const LOADER_LIST: [&str; 4] = [
    "ClassLoaders$AppClassLoader",
    "ClassLoaders$PlatformClassLoader",
    "sun.misc.Launcher$AppClassLoader",
    ".classes",
];

/// No leak hint names the application class loader's class list (or the loader) as the
/// culprit: not in its title, its fix, or its suspect / owner / accumulation point evidence.
pub fn check_no_loader_list_blamed(s: &Scenario) {
    for h in s.hints().iter().filter(|h| h["category"] == "leak") {
        let mut texts = vec![
            h["title"].as_str().unwrap().to_string(),
            h["fix"].as_str().unwrap().to_string(),
        ];
        for e in h["evidence"].as_array().unwrap() {
            let role = e["role"].as_str().unwrap();
            if role.contains("suspect") || role.contains("owner") || role.contains("accumulation") {
                texts.push(e["label"].as_str().unwrap().to_string());
            }
        }
        for t in &texts {
            for w in LOADER_LIST {
                assert!(!t.contains(w), "{}: {w} blamed in {t:?}\n{h:#}", s.label);
            }
        }
        assert!(
            !h["fix"]
                .as_str()
                .unwrap()
                .contains("Find who adds to Object[]"),
            "{h:#}"
        );
        if h["rule"] == "leak_suspect" {
            let t = h["title"].as_str().unwrap();
            assert!(
                !t.contains("ClassLoader"),
                "{}: a loader blamed: {t}",
                s.label
            );
        }
    }
}

/// Every number labelled in words: no key of `numbers` in the text a person reads, every
/// percentage at most 100 with its base stated, facts labelled without raw keys.
pub fn check_readable(s: &Scenario) {
    for h in s.hints() {
        let numbers = h["numbers"].as_object().unwrap();
        let text = format!(
            "{}\n{}\n{}\n{}",
            h["title"].as_str().unwrap(),
            h["explanation"].as_str().unwrap(),
            h["fix"].as_str().unwrap(),
            h["summary"].as_str().unwrap()
        );
        for key in numbers.keys().filter(|k| k.contains('_')) {
            assert!(!text.contains(key.as_str()), "raw key {key} in {text}");
        }
        let pct = h["percent_of_heap"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&pct), "{h:#}");
        let base = h["percent_base"].as_str().unwrap();
        assert!(!base.is_empty(), "{h:#}");
        assert!(h["summary"].as_str().unwrap().contains(base), "{h:#}");
        let facts = h["facts"].as_array().unwrap();
        assert_eq!(facts.len(), numbers.len(), "{h:#}");
        for f in facts {
            let label = f["label"].as_str().unwrap();
            assert!(!label.contains('_'), "{label}");
            assert!(!f["value"].as_str().unwrap().is_empty());
        }
        for f in facts.iter().filter(|f| f["label"] == "Dump taken") {
            assert!(f["value"].as_str().unwrap().ends_with(" UTC"), "{f}");
        }
    }
}

/// No two leak hints claim the same retained bytes: no object one claims is, or is under,
/// an object another claims.
pub fn check_nothing_counted_twice(a: &Analysis, hints: &[Hint]) {
    let leaks: Vec<&Hint> = hints.iter().filter(|h| h.is_leak()).collect();
    for (i, x) in leaks.iter().enumerate() {
        let mine: std::collections::HashSet<u32> = x.claimed.iter().copied().collect();
        for y in leaks.iter().skip(i + 1) {
            let theirs: std::collections::HashSet<u32> = y.claimed.iter().copied().collect();
            for &o in &y.claimed {
                assert!(
                    !a.dominators
                        .dominators_of(o)
                        .iter()
                        .any(|d| mine.contains(d)),
                    "{:?} and {:?} both claim 0x{:x}",
                    x.title,
                    y.title,
                    a.index.address(o)
                );
            }
            for &o in &x.claimed {
                assert!(
                    !a.dominators
                        .dominators_of(o)
                        .iter()
                        .any(|d| theirs.contains(d)),
                    "{:?} and {:?} both claim 0x{:x}",
                    y.title,
                    x.title,
                    a.index.address(o)
                );
            }
        }
    }
    // Ranked by bytes at stake.
    for w in hints.windows(2) {
        assert!(
            w[0].retained_bytes >= w[1].retained_bytes,
            "{} before {}",
            w[0].title,
            w[1].title
        );
    }
}

/// All the checks every scenario passes.
pub fn check_all(s: &Scenario) {
    check_evidence_shape(s);
    check_no_loader_list_blamed(s);
    check_readable(s);
    let (a, hints) = analyse(s);
    check_nothing_counted_twice(&a, &hints);
}

/// Position (1-based) of the first hint of `rule` in the ranked list.
pub fn rank(s: &Scenario, rule: &str) -> usize {
    s.hints()
        .iter()
        .position(|h| h["rule"] == rule)
        .map_or(0, |p| p + 1)
}
