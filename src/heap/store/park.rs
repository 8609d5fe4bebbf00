//! Arrays parked in an unlinked temporary file and mapped back read-only: their pages leave
//! the process's anonymous memory for the page cache, which the kernel writes to disk and
//! drops when memory is short, and reads back when they are touched. A fresh analysis parks
//! what its later passes do not read while its graph arrays are at their largest.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use super::array::{Array, Pod};

/// Where to park: a directory on a disk (not tmpfs, whose pages are memory) where a
/// temporary file can be made. The dump's directory first (its disk has room for a dump),
/// then the cache directory.
pub fn scratch_dir(dump: &Path) -> Option<PathBuf> {
    let beside = std::path::absolute(dump)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    beside
        .into_iter()
        .chain(super::cache_dir())
        .find(|dir| on_disk(dir) && tempfile::tempfile_in(dir).is_ok())
}

/// `dir` exists and its file system keeps files on a disk.
fn on_disk(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    const TMPFS_MAGIC: u64 = 0x0102_1994;
    const RAMFS_MAGIC: u64 = 0x8584_58f6;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid C string and `stat` a writable struct of the right type.
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut stat) } != 0 {
        return false;
    }
    let kind = stat.f_type as u64;
    kind != TMPFS_MAGIC && kind != RAMFS_MAGIC
}

/// `array` moved into a temporary file in `dir` and mapped; the array itself when it is
/// already mapped, empty, or the file cannot be written (a full disk: it stays in memory).
pub fn park<T: Pod>(array: Array<T>, dir: &Path) -> Array<T> {
    if array.is_mapped() || array.is_empty() {
        return array;
    }
    match write_and_map::<T>(bytemuck::cast_slice(&array), dir) {
        Some(parked) => parked,
        None => array,
    }
}

/// As [`park`], for an array still in its vector, which comes back too when the array was
/// parked: its pages, resident already, can serve another array of the same kind.
pub fn park_vec<T: Pod>(vec: Vec<T>, dir: &Path) -> (Array<T>, Option<Vec<T>>) {
    if vec.is_empty() {
        return (vec.into(), None);
    }
    match write_and_map::<T>(bytemuck::cast_slice(&vec), dir) {
        Some(parked) => (parked, Some(vec)),
        None => (vec.into(), None),
    }
}

fn write_and_map<T: Pod>(bytes: &[u8], dir: &Path) -> Option<Array<T>> {
    // Unlinked from the start (O_TMPFILE where the file system has it): nothing is left
    // behind, whatever ends the process.
    let mut file = tempfile::tempfile_in(dir).ok()?;
    file.write_all(bytes).ok()?;
    // SAFETY: the file is ours alone (unlinked, never written again); the mapping is
    // read-only.
    let map = unsafe { Mmap::map(&file) }.ok()?;
    Array::mapped(&Arc::new(map), 0..bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parked_arrays_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<u32> = (0..1u32 << 19)
            .map(|v| v.wrapping_mul(2_654_435_761))
            .collect();
        let parked = park(Array::from(values.clone()), dir.path());
        assert!(parked.is_mapped());
        assert_eq!(&parked[..], &values[..]);
        // Nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Empty arrays stay.
        assert!(!park(Array::<u8>::from(Vec::new()), dir.path()).is_mapped());
    }
}
