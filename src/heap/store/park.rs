//! Arrays parked in an unlinked temporary file and mapped back read-only: their pages leave
//! the process's anonymous memory for the page cache, which the kernel writes to disk and
//! drops when memory is short, and reads back when they are touched. A fresh analysis parks
//! what its later passes do not read while its graph arrays are at their largest.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Mmap, MmapMut};

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

/// An array made in place in a temporary file, mapped writable, so that parking it once
/// made copies nothing ([`ScratchArray::park`]). The file's blocks are allocated up front: a
/// full disk fails here rather than as a fault on a write to the mapping. Copying needs a
/// second set of fresh pages, and fresh pages are what the bench machine is slowest at: in a
/// C test there, 400 MB made and parked this way mostly took 0.12–0.57 s, against
/// 0.30–1.28 s for anonymous memory copied into a file (each had a run of 2.7–4 s).
pub struct ScratchArray<T: Pod> {
    file: std::fs::File,
    map: MmapMut,
    _values: std::marker::PhantomData<T>,
}

impl<T: Pod> ScratchArray<T> {
    /// `len` copies of `value` in a temporary file in `dir`; `None` when it cannot be made
    /// (no room, a file system without `fallocate`).
    pub fn filled(dir: &Path, len: usize, value: T) -> Option<ScratchArray<T>> {
        use std::os::fd::AsRawFd;
        let bytes = len
            .checked_mul(std::mem::size_of::<T>())
            .filter(|&b| b > 0)?;
        let file = tempfile::tempfile_in(dir).ok()?;
        // SAFETY: a plain system call on a file descriptor we own.
        if unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, bytes as libc::off_t) } != 0 {
            return None;
        }
        // SAFETY: the file is ours alone (unlinked) and sized to `bytes` just above.
        let mut map = unsafe { MmapMut::map_mut(&file) }.ok()?;
        bytemuck::try_cast_slice_mut::<u8, T>(&mut map)
            .ok()?
            .fill(value);
        Some(ScratchArray {
            file,
            map,
            _values: std::marker::PhantomData,
        })
    }

    /// The array, read-only and out of the process's memory: mapped again read-only, its
    /// pages left to the page cache. A copy in memory if the file cannot be mapped again.
    pub fn park(self) -> Array<T> {
        let len = self.map.len();
        // SAFETY: as in `filled`; the writable mapping goes below, and nothing writes the
        // file again.
        let parked = unsafe { Mmap::map(&self.file) }
            .ok()
            .and_then(|map| Array::mapped(&Arc::new(map), 0..len));
        parked.unwrap_or_else(|| self.to_vec().into())
    }
}

impl<T: Pod> std::ops::Deref for ScratchArray<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        bytemuck::cast_slice(&self.map)
    }
}

impl<T: Pod> std::ops::DerefMut for ScratchArray<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        bytemuck::cast_slice_mut(&mut self.map)
    }
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

    #[test]
    fn scratch_arrays_park_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut made = ScratchArray::<u32>::filled(dir.path(), 3 << 18, u32::MAX).unwrap();
        assert!(made.iter().all(|&v| v == u32::MAX));
        for (i, v) in made.iter_mut().enumerate().step_by(7) {
            *v = i as u32;
        }
        let parked = made.park();
        assert!(parked.is_mapped());
        for (i, &v) in parked.iter().enumerate() {
            assert_eq!(v, if i % 7 == 0 { i as u32 } else { u32::MAX });
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(ScratchArray::<u32>::filled(dir.path(), 0, 0).is_none());
    }
}
