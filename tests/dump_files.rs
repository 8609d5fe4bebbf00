//! Files as users bring them: several heap dumps in one file (the old hprof agent appends one
//! per request), gzip'ed dumps that must leave nothing in the temporary directory (also when
//! the process is killed), and percentages that stay within 100 on odd dumps.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::hprof_writer::*;

fn heapsight() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heapsight"))
}

fn run_json(args: &[&str], tmpdir: &Path) -> Value {
    let out = heapsight()
        .args(args)
        .env("TMPDIR", tmpdir)
        .output()
        .expect("heapsight runs");
    assert!(
        out.status.success(),
        "heapsight {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Two dumps of the same process in one file, as the hprof agent writes them: the second
/// repeats the first's object ids.
fn two_dumps(segments: usize) -> Vec<u8> {
    let first = sessions_heap(10, segments).build();
    let second = sessions_heap(25, segments).build();
    let mut bytes = first.raw.clone();
    bytes.extend_from_slice(&second.raw[second.header_len..]);
    bytes
}

fn count_of(json: &Value, class: &str) -> u64 {
    json["histogram"]
        .as_array()
        .expect("histogram")
        .iter()
        .filter(|r| r["class"] == class)
        .map(|r| r["count"].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn a_file_with_two_dumps_is_read_as_the_last_by_default() {
    for segments in [0, 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.hprof");
        std::fs::write(&path, two_dumps(segments)).unwrap();
        let p = path.to_str().unwrap();
        for extra in [&[][..], &["--histogram-only"][..]] {
            let mut args = vec!["report", p, "--json"];
            args.extend_from_slice(extra);
            let json = run_json(&args, dir.path());
            assert_eq!(
                json["dumps"].as_array().map(Vec::len),
                Some(2),
                "{}",
                json["dumps"]
            );
            assert_eq!(json["dump"], 2);
            assert_eq!(
                count_of(&json, "Session"),
                25,
                "segments {segments} {extra:?}"
            );
            let warnings = json["warnings"].to_string();
            assert!(warnings.contains("2 heap dumps"), "{warnings}");
            assert!(!warnings.contains("duplicate"), "{warnings}");
            if extra.is_empty() {
                // Read as the second dump alone would be: nothing merged, nothing orphaned.
                let alone = dir.path().join("alone.hprof");
                std::fs::write(&alone, sessions_heap(25, segments).build().raw).unwrap();
                let single = run_json(&["report", alone.to_str().unwrap(), "--json"], dir.path());
                for key in ["objects", "unreachable_objects", "reachable_bytes"] {
                    assert_eq!(json["summary"][key], single["summary"][key], "{key}");
                }
            }
            let mut args = vec!["report", p, "--json", "--dump", "1"];
            args.extend_from_slice(extra);
            let json = run_json(&args, dir.path());
            assert_eq!(json["dump"], 1);
            assert_eq!(count_of(&json, "Session"), 10);
        }
        let out = heapsight()
            .args(["report", p, "--dump", "3"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no heap dump number 3") && err.contains("holds 2"),
            "{err}"
        );
    }
}

#[test]
fn path_and_dominators_take_the_dump_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.hprof");
    std::fs::write(&path, two_dumps(0)).unwrap();
    let p = path.to_str().unwrap();
    let json = run_json(&["report", p, "--json", "--dump", "1"], dir.path());
    let holder = json["dominators"][0]["id"]
        .as_str()
        .expect("a dominator")
        .to_owned();
    let paths = run_json(&["path", p, &holder, "--json", "--dump", "1"], dir.path());
    assert!(
        !paths.to_string().contains("no GC root"),
        "the holder is a GC root in dump 1: {paths}"
    );
    let out = heapsight()
        .args(["dominators", p, "--dump", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_empty(dir: &Path, when: &str) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "{when}: left in TMPDIR: {left:?}");
}

#[test]
fn gzip_dumps_leave_nothing_in_the_temporary_directory() {
    let work = tempfile::tempdir().unwrap();
    let gz = sessions_heap(2_000, 2).gzip(Gzip::Single).build();
    let path = gz.write_to(work.path(), "dump.hprof.gz");
    let p = path.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["report", p],
        vec!["report", p, "--json"],
        vec!["report", p, "--histogram-only"],
        vec!["dominators", p],
        vec!["path", p, "0x1"],
    ] {
        let out = heapsight()
            .args(&args)
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap();
        if args[0] != "path" {
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_empty(tmp.path(), &format!("after {args:?}"));
    }
}

#[test]
fn a_killed_gzip_run_leaves_nothing_behind() {
    let work = tempfile::tempdir().unwrap();
    // Big enough that unpacking and indexing take a while.
    let gz = sessions_heap(400_000, 8).gzip(Gzip::Single).build();
    let path = gz.write_to(work.path(), "big.hprof.gz");
    let tmp = tempfile::tempdir().unwrap();
    for delay_ms in [5, 40, 150] {
        let mut child = heapsight()
            .args(["report", path.to_str().unwrap()])
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no destructor runs
        let _ = child.wait();
        assert_empty(tmp.path(), &format!("after a kill at {delay_ms} ms"));
    }
}

#[test]
fn unpacking_fails_clearly_without_space() {
    // A gzip trailer that promises 4 GiB - 1 bytes: more than the small filesystem below has.
    let Some(small) = small_filesystem() else {
        eprintln!("skipped: no filesystem small enough to test running out of space");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut gz = sessions_heap(10, 0).gzip(Gzip::Single).build().bytes;
    let n = gz.len();
    gz[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let path = work.path().join("huge.hprof.gz");
    std::fs::write(&path, &gz).unwrap();
    let out = heapsight()
        .args(["report", path.to_str().unwrap()])
        .env("TMPDIR", &small)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not enough space")
            && err.contains("4294967295 bytes")
            && err.contains(small.to_str().unwrap()),
        "{err}"
    );
}

/// A directory on a filesystem with less than 4 GiB free, if there is one.
fn small_filesystem() -> Option<std::path::PathBuf> {
    for candidate in ["/run/lock", "/run", "/dev/shm", "/boot"] {
        let dir = Path::new(candidate);
        if let Ok(free) = fs4::available_space(dir) {
            if free < (4 << 30) && tempfile::tempdir_in(dir).is_ok() {
                return Some(dir.to_path_buf());
            }
        }
    }
    None
}

#[test]
fn percentages_stay_within_100_on_truncated_and_garbage_heavy_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let dump = sessions_heap(5_000, 4).build();
    let cut = dump.raw.len() * 2 / 3;
    let truncated = dir.path().join("cut.hprof");
    std::fs::write(&truncated, &dump.raw[..cut]).unwrap();
    // Ten times more unreachable objects than reachable ones.
    let mut b = sessions_heap(500, 2);
    let object = b.object_class;
    let junk = b.class("Junk", Some(object), &[("a", Ty::Long), ("b", Ty::Object)]);
    for _ in 0..5_000 {
        b.instance(junk);
    }
    let garbage = b.build().write_to(dir.path(), "garbage.hprof");
    for path in [truncated, garbage] {
        check_percentages(&path, dir.path());
    }
}

fn check_percentages(path: &Path, dir: &Path) {
    let p = path.to_str().unwrap();
    let json = run_json(&["report", p, "--json"], dir);
    fn walk(v: &Value, found: &mut Vec<(String, f64)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k.contains("percent") {
                        if let Some(f) = x.as_f64() {
                            found.push((k.clone(), f));
                        }
                    }
                    walk(x, found);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&json, &mut found);
    assert!(
        found.iter().all(|(_, f)| (0.0..=100.0).contains(f)),
        "{found:?}"
    );
    let out = heapsight().args(["report", p]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in text.split_whitespace() {
        let word = word
            .trim_start_matches('(')
            .trim_end_matches([',', ')', ';']);
        if let Some(number) = word.strip_suffix('%') {
            let value: f64 = number.replace(',', "").parse().unwrap_or(0.0);
            assert!(value <= 100.0, "{word} in:\n{text}");
        }
    }
}
