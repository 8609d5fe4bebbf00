//! The index file (issue 10): the first analysis writes it, the next open of the unchanged
//! dump maps it and answers the same; stale, truncated, corrupt, foreign and other-version
//! files are rebuilt with a message; `--no-index` reads and writes none; the index alone
//! opens without the dump.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use heapsight::analysis::{Analysis, IndexState, OpenOptions};
use heapsight::progress::Progress;
use heapsight::report::{build_report, ReportOptions};
use serde_json::Value;
use support::hprof_writer::*;

/// A heap with chains, a shared object, a cycle, arrays, strings, a weak reference and a
/// thread, so every section of the index has something in it.
fn sample_dump(dir: &Path) -> PathBuf {
    let mut b = HeapBuilder::new(8).segments(2);
    let obj = b.object_class;
    let node = b.class(
        "com.example.Node",
        Some(obj),
        &[("next", Ty::Object), ("v", Ty::Int)],
    );
    let holder = b.class(
        "com.example.Holder",
        Some(obj),
        &[("items", Ty::Object), ("name", Ty::Object)],
    );
    let weak_ref = b.class(
        "java.lang.ref.Reference",
        Some(obj),
        &[("referent", Ty::Object)],
    );
    let mut next = 0;
    for i in 0..300 {
        next = b.instance_with(node, &[("next", Val::Object(next)), ("v", Val::Int(i))]);
    }
    let head = next;
    let shared = b.instance(node);
    let mut items = Vec::new();
    for i in 0..50 {
        let s = b.string(&format!("item-{}", i % 7));
        let n = b.instance_with(node, &[("next", Val::Object(shared)), ("v", Val::Int(i))]);
        items.push(s);
        items.push(n);
    }
    let arr = b.object_array("java.lang.Object[]", &items);
    let name = b.string("the holder");
    let h = b.instance_with(
        holder,
        &[("items", Val::Object(arr)), ("name", Val::Object(name))],
    );
    let a = b.instance(node);
    let c = b.instance_with(node, &[("next", Val::Object(a))]);
    b.set(a, "next", Val::Object(c));
    let w = b.instance_with(weak_ref, &[("referent", Val::Object(c))]);
    b.primitive_array(PrimData::Long(vec![1; 1000])); // garbage
    b.root(Root::JniGlobal {
        object: h,
        jni_ref: 0x99,
    });
    let holder_class = b.class_id("com.example.Holder");
    b.root(Root::StickyClass(holder_class));
    b.root(Root::JniGlobal {
        object: head,
        jni_ref: 0x98,
    });
    b.root(Root::JniGlobal {
        object: w,
        jni_ref: 0x97,
    });
    let t = b.thread(
        "main",
        &[FrameDef::new("com.example.Main", "main", "Main.java", 3)],
    );
    let _ = t;
    b.build().write_to(dir, "app.hprof")
}

fn heapsight(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heapsight"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run heapsight")
}

/// `report --json`, with stderr; the index-location field removed for comparisons.
fn report(dump: &Path, extra: &[&str], env: &[(&str, &Path)]) -> (Value, String, Option<String>) {
    let mut args = vec!["report", dump.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = heapsight(&args, env);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "report failed: {stderr}");
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let index = v
        .as_object_mut()
        .unwrap()
        .remove("index_file")
        .and_then(|i| i.as_str().map(str::to_string));
    (v, stderr, index)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn index_of(dump: &Path) -> PathBuf {
    heapsight::heap::store::index_path_beside(dump)
}

/// A cache directory of the test's own, so no test writes to the real one.
fn cache() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn reopen_answers_exactly_as_a_fresh_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let home = cache();
    let env = [("XDG_CACHE_HOME", home.path())];
    let dump = sample_dump(dir.path());
    let (fresh, _, none) = report(&dump, &["--no-index"], &env);
    assert_eq!(none, None);
    assert_eq!(
        files_in(dir.path()),
        ["app.hprof"],
        "--no-index writes nothing"
    );
    let (first, err1, written) = report(&dump, &[], &env);
    assert_eq!(written.as_deref(), Some(index_of(&dump).to_str().unwrap()));
    assert!(err1.contains("index written to"), "{err1}");
    assert_eq!(first, fresh);
    assert_eq!(
        files_in(dir.path()),
        ["app.hprof", "app.hprof.heapsight-index"]
    );
    let (second, err2, reopened) = report(&dump, &[], &env);
    assert!(err2.contains("reopened from index"), "{err2}");
    assert_eq!(reopened, written);
    assert_eq!(second, fresh);
    // Byte for byte, but for the line naming the index file.
    let raw = |extra: &[&str]| {
        let mut args = vec!["report", dump.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        String::from_utf8(heapsight(&args, &env).stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.contains("\"index_file\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(raw(&[]), raw(&["--no-index"]));
    // Text reports too.
    let text = |extra: &[&str]| {
        let mut args = vec!["report", dump.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = heapsight(&args, &env);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.contains("index file:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(text(&[]), text(&["--no-index"]));
    let dom = |extra: &[&str]| {
        let mut args = vec!["dominators", dump.to_str().unwrap(), "--min-percent", "0"];
        args.extend_from_slice(extra);
        heapsight(&args, &env).stdout
    };
    assert_eq!(dom(&[]), dom(&["--no-index"]));
    assert!(
        home.path().read_dir().unwrap().next().is_none(),
        "nothing in the cache"
    );
}

#[test]
fn paths_from_a_reopened_index_match() {
    let dir = tempfile::tempdir().unwrap();
    let home = cache();
    let env = [("XDG_CACHE_HOME", home.path())];
    let dump = sample_dump(dir.path());
    let (fresh, _, _) = report(&dump, &["--no-index"], &env);
    let id = fresh["dominators"][0]["id"].as_str().unwrap().to_string();
    let path = |extra: &[&str]| {
        let mut args = vec!["path", dump.to_str().unwrap(), &id, "--json"];
        args.extend_from_slice(extra);
        let out = heapsight(&args, &env);
        assert!(out.status.success());
        out.stdout
    };
    let a = path(&["--no-index"]);
    let b = path(&[]); // writes the index
    let c = path(&[]); // reopens it
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn index_command_builds_it_headless() {
    let dir = tempfile::tempdir().unwrap();
    let home = cache();
    let env = [("XDG_CACHE_HOME", home.path())];
    let dump = sample_dump(dir.path());
    let out = heapsight(&["index", dump.to_str().unwrap()], &env);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("index written to"));
    assert!(index_of(&dump).exists());
    let (_, err, _) = report(&dump, &[], &env);
    assert!(err.contains("reopened"), "{err}");
}

/// Opens through the library and returns the report (index location apart) and state.
fn open_report(dump: &Path) -> (Value, IndexState, Vec<String>) {
    let (a, status) = Analysis::open(dump, &OpenOptions::default(), &Progress::new()).unwrap();
    let r = build_report(&a.index, Some(&a), ReportOptions { top: None });
    (serde_json::to_value(r).unwrap(), status.state, status.notes)
}

#[test]
fn stale_truncated_corrupt_foreign_and_other_version_indexes_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let dump = sample_dump(dir.path());
    let index = index_of(&dump);
    let (fresh, state, _) = open_report(&dump);
    assert_eq!(state, IndexState::Written);
    let good = std::fs::read(&index).unwrap();
    let check = |bytes: &[u8], label: &str| {
        std::fs::write(&index, bytes).unwrap();
        let (r, state, notes) = open_report(&dump);
        assert_eq!(state, IndexState::Written, "{label}: {notes:?}");
        assert!(!notes.is_empty(), "{label}: no message");
        assert_eq!(r, fresh, "{label}");
        assert_eq!(std::fs::read(&index).unwrap(), good, "{label}: not rebuilt");
    };
    // Truncated at many offsets, header and sections alike.
    let mut cuts: Vec<usize> = (0..200).collect();
    cuts.extend((200..good.len()).step_by(good.len() / 60 + 1));
    cuts.push(good.len() - 1);
    for cut in cuts {
        check(&good[..cut], &format!("cut at {cut}"));
    }
    // Flipped bytes.
    for at in (0..good.len()).step_by(good.len() / 80 + 1) {
        let mut b = good.clone();
        b[at] ^= 0x41;
        check(&b, &format!("flipped {at}"));
    }
    check(b"#!/bin/sh\necho not an index\n", "foreign");
    check(&std::fs::read(&dump).unwrap(), "a dump");
    let mut other = good.clone();
    other[24..56].fill(0);
    other[24..31].copy_from_slice(b"99.0.0x");
    let crc = crc32fast::hash(&other[..108]);
    other[108..112].copy_from_slice(&crc.to_le_bytes());
    check(&other, "other version");
    let mut other = good.clone();
    other[16] = 77;
    check(&other, "other format");
    // Stale: the dump touched, then changed in place with its old time.
    let mtime = std::fs::metadata(&dump).unwrap().modified().unwrap();
    let later = mtime + std::time::Duration::from_secs(5);
    let set_time = |t| {
        std::fs::File::options()
            .write(true)
            .open(&dump)
            .unwrap()
            .set_modified(t)
            .unwrap()
    };
    set_time(later);
    let (r, state, notes) = open_report(&dump);
    assert_eq!(state, IndexState::Written, "touched: {notes:?}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("another version of the dump")),
        "{notes:?}"
    );
    assert_eq!(r, fresh);
    let (_, state, _) = open_report(&dump);
    assert_eq!(state, IndexState::Reopened);
    // Same size and time, other bytes (a trailing HEAP DUMP END is all the same: flip a
    // byte of the header's timestamp, which the report shows, instead).
    let mut bytes = std::fs::read(&dump).unwrap();
    let ts = bytes.iter().position(|&b| b == 0).unwrap() + 1 + 4 + 7;
    bytes[ts] ^= 1;
    std::fs::write(&dump, &bytes).unwrap();
    set_time(later);
    let (r, state, _) = open_report(&dump);
    assert_eq!(state, IndexState::Written);
    assert_ne!(r["timestamp_ms"], fresh["timestamp_ms"]);
    assert_eq!(
        files_in(dir.path()),
        ["app.hprof", "app.hprof.heapsight-index"]
    );
}

#[test]
fn an_unwritable_dump_directory_falls_back_to_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let home = cache();
    let env = [("XDG_CACHE_HOME", home.path())];
    let dump = sample_dump(dir.path());
    let (fresh, _, _) = report(&dump, &["--no-index"], &env);
    // A directory where the index would go stops even root from writing it there.
    std::fs::create_dir(index_of(&dump)).unwrap();
    let (first, err, at) = report(&dump, &[], &env);
    let at = PathBuf::from(at.expect("index written somewhere"));
    assert!(
        at.starts_with(home.path().join("heapsight")),
        "{at:?}: {err}"
    );
    assert_eq!(first, fresh);
    let (second, err, again) = report(&dump, &[], &env);
    assert!(err.contains("reopened"), "{err}");
    assert_eq!(again.map(PathBuf::from), Some(at));
    assert_eq!(second, fresh);
    std::fs::remove_dir(index_of(&dump)).unwrap();
    // Read-only for real where permissions apply (not as root).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let (third, _, _) = report(&dump, &[], &env);
    assert_eq!(third, fresh);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        files_in(dir.path()).len(),
        files_in(dir.path())
            .iter()
            .filter(|f| !f.ends_with(".tmp"))
            .count()
    );
}

#[test]
fn two_processes_at_once_both_answer_and_leave_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let home = cache();
    let dump = sample_dump(dir.path());
    let (fresh, _, _) = report(&dump, &["--no-index"], &[("XDG_CACHE_HOME", home.path())]);
    for _ in 0..3 {
        let _ = std::fs::remove_file(index_of(&dump));
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_heapsight"))
                .args(["report", dump.to_str().unwrap(), "--json"])
                .env("XDG_CACHE_HOME", home.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success());
            let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
            v.as_object_mut().unwrap().remove("index_file");
            assert_eq!(v, fresh);
        }
        assert_eq!(
            files_in(dir.path()),
            ["app.hprof", "app.hprof.heapsight-index"]
        );
    }
}

#[test]
fn no_index_neither_reads_nor_writes_one() {
    let dir = tempfile::tempdir().unwrap();
    let home = cache();
    let env = [("XDG_CACHE_HOME", home.path())];
    let dump = sample_dump(dir.path());
    std::fs::write(index_of(&dump), b"junk").unwrap();
    let (_, err, at) = report(&dump, &["--no-index"], &env);
    assert_eq!(at, None);
    assert!(!err.contains("junk") && !err.contains("rebuild"), "{err}");
    assert_eq!(std::fs::read(index_of(&dump)).unwrap(), b"junk");
    assert!(home.path().read_dir().unwrap().next().is_none());
}

#[test]
fn the_index_alone_opens_without_the_dump() {
    let dir = tempfile::tempdir().unwrap();
    let home = cache();
    let env = [("XDG_CACHE_HOME", home.path())];
    let dump = sample_dump(dir.path());
    let (fresh, _, _) = report(&dump, &[], &env);
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("server.heapsight-index");
    std::fs::copy(index_of(&dump), &copy).unwrap();
    // With the dump still in place, the index alone finds it.
    let (with_dump, _, at) = report(&copy, &[], &env);
    assert_eq!(at.map(PathBuf::from), Some(copy.clone()));
    assert_eq!(with_dump, fresh);
    // The object with the longest shortest path, and that path as a run with the dump gives it.
    let deep = {
        let (a, _) = Analysis::open(&dump, &OpenOptions::default(), &Progress::new()).unwrap();
        let depth = |o| {
            a.shortest_paths
                .path(&a.index, &a.roots, o)
                .map_or(0, |p| p.len())
        };
        let o = (0..a.index.object_count() as u32)
            .max_by_key(|&o| depth(o))
            .unwrap();
        a.index.address(o)
    };
    let with_dump_path = {
        let id = format!("0x{deep:x}");
        let args = [
            "path",
            dump.to_str().unwrap(),
            &id,
            "--json",
            "--limit",
            "1",
            "--no-index",
        ];
        let out = heapsight(&args, &env);
        assert!(out.status.success());
        let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for p in v["paths"].as_array_mut().unwrap() {
            for h in p["hops"].as_array_mut().unwrap() {
                h.as_object_mut().unwrap().remove("description");
            }
        }
        v["object"].as_object_mut().unwrap().remove("description");
        v
    };
    std::fs::remove_file(&dump).unwrap();
    let (alone, err, _) = report(&copy, &[], &env);
    assert!(err.contains("without its dump"), "{err}");
    for key in [
        "summary",
        "histogram",
        "dominators",
        "file",
        "layout",
        "format",
    ] {
        assert_eq!(alone[key], fresh[key], "{key}");
    }
    assert!(alone["hints"].is_array());
    // Paths name the field of every hop from the index: the shortest path is the one the dump
    // gives (array lengths in the descriptions need the dump).
    let id = format!("0x{deep:x}");
    let path = |file: &Path, extra: &[&str]| {
        let mut args = vec!["path", file.to_str().unwrap(), &id, "--json"];
        args.extend_from_slice(extra);
        let out = heapsight(&args, &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for p in v["paths"].as_array_mut().unwrap() {
            for h in p["hops"].as_array_mut().unwrap() {
                h.as_object_mut().unwrap().remove("description");
            }
        }
        v["object"].as_object_mut().unwrap().remove("description");
        (v, String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (alone_path, err) = path(&copy, &[]);
    assert!(err.contains("more paths need the dump"), "{err}");
    assert_eq!(alone_path, with_dump_path);
    let hops = alone_path["paths"][0]["hops"].as_array().unwrap();
    assert!(hops.len() >= 4, "{hops:?}");
    assert!(hops[1..]
        .iter()
        .all(|h| h["field"].as_str().is_some_and(|f| f != "?")));
    let out = heapsight(
        &["path", copy.to_str().unwrap(), &id, "--include-weak"],
        &env,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("need the dump"));
    assert_eq!(files_in(elsewhere.path()), ["server.heapsight-index"]);
}

#[test]
fn saved_hints_read_back_as_the_rules_made_them() {
    use heapsight::analysis::advice::jvm_advice;
    use heapsight::analysis::hints::leak_hints;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("sample.hprof.gz");
    std::fs::write(&dump, heapsight::ui::SAMPLE_DUMP).unwrap();
    let (a, _) = Analysis::open(&dump, &OpenOptions::default(), &Progress::new()).unwrap();
    let (saved_hints, saved_advice) = a.saved_findings.as_ref().unwrap().parse().unwrap();
    let hints = leak_hints(&a);
    assert!(hints.iter().filter(|h| h.is_leak()).count() >= 2);
    let json = |v: serde_json::Result<String>| v.unwrap();
    assert_eq!(
        json(serde_json::to_string(&saved_hints)),
        json(serde_json::to_string(&hints))
    );
    assert_eq!(
        json(serde_json::to_string(&saved_advice)),
        json(serde_json::to_string(&jvm_advice(&a, &hints)))
    );
    // The window reopens with the saved ones, rules and evidence objects included.
    let (b, status) = Analysis::open(&dump, &OpenOptions::default(), &Progress::new()).unwrap();
    assert_eq!(status.state, IndexState::Reopened);
    let (reopened, _) = b.saved_findings.as_ref().unwrap().parse().unwrap();
    assert_eq!(
        reopened
            .iter()
            .map(|h| (h.rule, h.evidence.len()))
            .collect::<Vec<_>>(),
        hints
            .iter()
            .map(|h| (h.rule, h.evidence.len()))
            .collect::<Vec<_>>()
    );
}

/// A disk that fills up while the index is written (a file-size limit makes every write past
/// it fail, as a full disk does): the report is still right, nothing half-written is left,
/// and stderr says why there is no index.
#[test]
fn a_disk_full_while_writing_leaves_no_file_and_a_right_answer() {
    let dir = tempfile::tempdir().unwrap();
    let home = cache();
    let env = [("XDG_CACHE_HOME", home.path())];
    let dump = sample_dump(dir.path());
    let (fresh, _, _) = report(&dump, &["--no-index"], &env);
    let probe = tempfile::tempdir().unwrap();
    let copy = probe.path().join("app.hprof");
    std::fs::copy(&dump, &copy).unwrap();
    report(&copy, &[], &env);
    let index_len = std::fs::metadata(index_of(&copy)).unwrap().len();
    std::fs::remove_dir_all(home.path().join("heapsight")).ok();
    // `ulimit -f` counts 512-byte blocks in dash and 1024 in bash: half the index either way.
    let blocks = (index_len / 2 / 1024).max(1);
    let script = format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" report \"$1\" --json",);
    let out = Command::new("sh")
        .args([
            "-c",
            &script,
            env!("CARGO_BIN_EXE_heapsight"),
            dump.to_str().unwrap(),
        ])
        .env("XDG_CACHE_HOME", home.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("no index written"), "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_object_mut().unwrap().remove("index_file");
    assert_eq!(v, fresh);
    assert_eq!(files_in(dir.path()), vec!["app.hprof".to_string()]);
    let cached = home.path().join("heapsight");
    assert!(files_in(&cached).is_empty(), "{:?}", files_in(&cached));
}

#[test]
fn a_deferred_write_waits_for_the_caller_and_the_preview_matches_the_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let dump = sample_dump(dir.path());
    let previews = std::sync::Mutex::new(Vec::new());
    let keep = |p| previews.lock().unwrap().push(p);
    let progress = Progress::new();
    let (analysis, status, pending) =
        Analysis::open_deferring_index(&dump, &OpenOptions::default(), &progress, &keep).unwrap();
    // The analysis is done, the file not yet written.
    assert_eq!(status.state, IndexState::Writing);
    assert!(!index_of(&dump).exists());
    let status = pending
        .expect("a write to do")
        .write(&analysis, &progress)
        .unwrap();
    assert_eq!(status.state, IndexState::Written);
    assert_eq!(status.path.as_deref(), Some(index_of(&dump).as_path()));
    assert!(files_in(dir.path()).iter().all(|f| !f.ends_with(".tmp")));

    // One preview, before the dominators: the histogram's rows, by name.
    let previews = previews.into_inner().unwrap();
    assert_eq!(previews.len(), 1);
    let preview = &previews[0];
    let h = &analysis.histogram;
    assert_eq!(preview.total_count, h.total_count);
    assert_eq!(preview.total_shallow_bytes, h.total_shallow_bytes);
    assert_eq!(preview.classes, h.rows.len());
    assert_eq!(preview.rows.len(), h.rows.len());
    for ((name, count, bytes), row) in preview.rows.iter().zip(&h.rows) {
        assert_eq!(name, &analysis.index.classes().get(row.class).name);
        assert_eq!((*count, *bytes), (row.count, row.shallow_bytes));
    }

    // A reopen has nothing to write and shows no preview: it is ready at once.
    let none = |_| panic!("no preview on a reopen");
    let (_, status, pending) =
        Analysis::open_deferring_index(&dump, &OpenOptions::default(), &progress, &none).unwrap();
    assert_eq!(status.state, IndexState::Reopened);
    assert!(pending.is_none());
}

#[test]
fn a_write_behind_the_window_that_memory_cannot_hold_is_not_started() {
    let dir = tempfile::tempdir().unwrap();
    let dump = sample_dump(dir.path());
    let progress = Progress::new();
    let open = || {
        let (analysis, _, pending) =
            Analysis::open_deferring_index(&dump, &OpenOptions::default(), &progress, &|_| {})
                .unwrap();
        (analysis, pending.expect("a write to do"))
    };
    let (analysis, pending) = open();
    let status = pending
        .write_within(Some(1 << 20), &analysis, &progress)
        .unwrap();
    assert_eq!(status.state, IndexState::NotWritten);
    assert!(status.path.is_none());
    let note = status.notes.join("\n");
    assert!(note.contains("no index file written"), "{note}");
    assert!(note.contains("heapsight index"), "{note}");
    assert_eq!(files_in(dir.path()), vec!["app.hprof".to_string()]);
    // With memory to spare it is written.
    let (analysis, pending) = open();
    let status = pending.write_within(None, &analysis, &progress).unwrap();
    assert_eq!(status.state, IndexState::Written);
    assert!(index_of(&dump).exists());
}
