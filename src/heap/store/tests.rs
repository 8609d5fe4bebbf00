use super::*;

fn identity() -> DumpIdentity {
    DumpIdentity {
        size: 1234,
        mtime_s: 1_700_000_000,
        mtime_ns: 5,
        head_crc: 7,
        tail_crc: 9,
    }
}

fn write_sample(dir: &Path) -> (PathBuf, Vec<u32>, Vec<u64>) {
    let path = dir.join("x.heapsight-index");
    let a: Vec<u32> = (0..10_000).map(|i| i * 3).collect();
    let b: Vec<u64> = (0..777).map(|i| i << 40).collect();
    let mut w = StoreWriter::new(identity());
    w.array("a", &a);
    w.bytes("odd", vec![1u8, 2, 3]);
    w.array("b", &b);
    w.write(&path, &|_| true).unwrap();
    (path, a, b)
}

#[test]
fn sections_round_trip_mapped_and_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let (path, a, b) = write_sample(dir.path());
    let store = Store::open(&path).unwrap();
    assert_eq!(store.identity(), &identity());
    let ma: Array<u32> = store.array("a").unwrap();
    let mb: Array<u64> = store.array("b").unwrap();
    assert!(ma.is_mapped() && mb.is_mapped());
    assert_eq!(&ma[..], &a[..]);
    assert_eq!(&mb[..], &b[..]);
    assert_eq!(store.bytes("odd").unwrap(), &[1, 2, 3]);
    assert!(store.bytes("missing").is_err());
    assert!(store.array::<u64>("odd").is_err());
    // Only the file itself: the temporary name is gone.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn every_truncation_and_flipped_byte_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, _) = write_sample(dir.path());
    let good = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad");
    for cut in (0..good.len()).step_by(97) {
        std::fs::write(&bad, &good[..cut]).unwrap();
        assert!(Store::open(&bad).is_err(), "truncated at {cut}");
    }
    for at in (0..good.len()).step_by(89) {
        let mut b = good.clone();
        b[at] ^= 0x10;
        std::fs::write(&bad, &b).unwrap();
        assert!(Store::open(&bad).is_err(), "flipped byte {at}");
    }
}

#[test]
fn foreign_and_other_versions_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, _) = write_sample(dir.path());
    let good = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad");
    std::fs::write(&bad, b"JAVA PROFILE 1.0.2\0 and so on").unwrap();
    assert!(matches!(Store::open(&bad), Err(StoreError::Foreign(_))));
    let mut b = good.clone();
    b[16..20].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    std::fs::write(&bad, &b).unwrap();
    assert!(matches!(
        Store::open(&bad),
        Err(StoreError::OtherFormat { .. })
    ));
    let mut b = good.clone();
    b[24..56].fill(0);
    b[24..29].copy_from_slice(b"0.0.1");
    let crc = crc32fast::hash(&b[..108]);
    b[108..112].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&bad, &b).unwrap();
    assert!(matches!(
        Store::open(&bad),
        Err(StoreError::OtherVersion { .. })
    ));
}

#[test]
fn a_failed_or_cancelled_write_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.heapsight-index");
    let data = vec![7u8; 9 << 20];
    let mut w = StoreWriter::new(identity());
    w.bytes("big", &data[..]);
    assert!(matches!(
        w.write(&path, &|_| false),
        Err(WriteError::Cancelled)
    ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let mut w = StoreWriter::new(identity());
    w.bytes("big", &data[..]);
    let missing = dir.path().join("no such dir").join("x");
    assert!(matches!(
        w.write(&missing, &|_| true),
        Err(WriteError::Io { .. })
    ));
}

#[test]
fn a_killed_write_is_cleared_by_the_next_and_a_live_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let temp = |tag: &str| dir.path().join(format!(".x.heapsight-index.{tag}.tmp"));
    // Left by a write killed an hour ago, by one under way now, and another index's.
    let dead = std::fs::File::create(temp("dead")).unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    dead.set_modified(hour_ago).unwrap();
    std::fs::write(temp("live"), b"partial").unwrap();
    let other = dir.path().join(".y.heapsight-index.old.tmp");
    std::fs::File::create(&other)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    write_sample(dir.path());
    assert!(!temp("dead").exists());
    assert!(temp("live").exists());
    assert!(other.exists());
    assert!(dir.path().join("x.heapsight-index").exists());
}

#[test]
fn identity_sees_a_changed_tail() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("d.hprof");
    std::fs::write(&dump, vec![1u8; 3 << 20]).unwrap();
    let before = DumpIdentity::of(&dump).unwrap();
    let mtime = std::fs::metadata(&dump).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&dump).unwrap();
    let last = bytes.len() - 1;
    bytes[last] = 2;
    std::fs::write(&dump, &bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&dump)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let after = DumpIdentity::of(&dump).unwrap();
    assert_eq!((before.size, before.mtime_s), (after.size, after.mtime_s));
    assert_ne!(before, after);
}

#[test]
fn sections_made_while_writing_round_trip_and_a_wrong_length_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.heapsight-index");
    // Bigger than the drop-behind window, between two ready sections.
    let big: Vec<u8> = (0..(150usize << 20)).map(|i| (i % 251) as u8).collect();
    let made = big.clone();
    let mut w = StoreWriter::new(identity());
    w.bytes("before", vec![1u8, 2, 3]);
    w.bytes_later("later", made.len(), move || made);
    let after = [4u8; 5];
    w.bytes("after", &after[..]);
    let expected_len = w.len();
    w.write(&path, &|_| true).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), expected_len);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.bytes("before").unwrap(), &[1, 2, 3]);
    assert!(store.bytes("later").unwrap() == &big[..]);
    assert_eq!(store.bytes("after").unwrap(), &after);
    drop(store);
    std::fs::remove_file(&path).unwrap();
    // A maker that breaks its word: an error, and no file of any name.
    let mut w = StoreWriter::new(identity());
    w.bytes_later("later", 10, || vec![0u8; 11]);
    let err = w.write(&path, &|_| true).unwrap_err().to_string();
    assert!(
        err.contains("section later has 11 bytes, not the 10 announced"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
