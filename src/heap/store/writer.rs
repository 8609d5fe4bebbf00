//! Writing an index file: to a temporary name in the target directory, renamed into place
//! when complete, so readers only ever see whole files and two writers do not mix.

use std::borrow::Cow;
use std::io::{BufWriter, Write};
use std::path::Path;

use rayon::prelude::*;

use super::{
    DumpIdentity, Pod, ALIGN, ENTRY_LEN, FORMAT_VERSION, HEADER_LEN, HEAPSIGHT_VERSION, MAGIC,
    NAME_LEN,
};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "not enough space for the index file in {dir}: it needs {}, {} is free",
        crate::format::bytes(*.need),
        crate::format::bytes(*.free)
    )]
    NoSpace { dir: String, need: u64, free: u64 },
    #[error("cancelled")]
    Cancelled,
}

/// Sections collected for one file; borrowed where the caller has them already, made while
/// the file is written where they would be big copies (one at a time, each dropped once
/// written: the analysis is still in memory then, and on a big dump the copies together
/// were more than a memory cap left).
pub struct StoreWriter<'a> {
    identity: DumpIdentity,
    sections: Vec<(String, Section<'a>)>,
}

/// A producer of a section's bytes, called once while the file is written.
type Make<'a> = Box<dyn FnOnce() -> Vec<u8> + 'a>;

enum Section<'a> {
    Ready(Cow<'a, [u8]>),
    /// Its length, and how to make it.
    Later(usize, Make<'a>),
}

impl Section<'_> {
    fn len(&self) -> usize {
        match self {
            Section::Ready(d) => d.len(),
            Section::Later(len, _) => *len,
        }
    }
}

impl<'a> StoreWriter<'a> {
    pub fn new(identity: DumpIdentity) -> Self {
        StoreWriter {
            identity,
            sections: Vec::new(),
        }
    }

    pub fn bytes(&mut self, name: &str, data: impl Into<Cow<'a, [u8]>>) {
        debug_assert!(name.len() <= NAME_LEN);
        self.sections
            .push((name.to_string(), Section::Ready(data.into())));
    }

    /// A section of `len` bytes that `make` makes when the file is written.
    pub fn bytes_later(&mut self, name: &str, len: usize, make: impl FnOnce() -> Vec<u8> + 'a) {
        debug_assert!(name.len() <= NAME_LEN);
        self.sections
            .push((name.to_string(), Section::Later(len, Box::new(make))));
    }

    pub fn array<T: Pod>(&mut self, name: &str, data: &'a [T]) {
        self.bytes(name, bytemuck::cast_slice::<T, u8>(data));
    }

    /// Bytes the file will have.
    pub fn len(&self) -> u64 {
        self.layout().1 as u64
    }

    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// Section offsets and the file length.
    fn layout(&self) -> (Vec<usize>, usize) {
        let mut at = HEADER_LEN;
        let offsets = self
            .sections
            .iter()
            .map(|(_, section)| {
                let o = at.next_multiple_of(ALIGN);
                at = o + section.len();
                o
            })
            .collect();
        (offsets, at + self.sections.len() * ENTRY_LEN)
    }

    /// Writes the file to `dest` atomically. `written` is told the bytes of each block and
    /// returns `false` to cancel; on cancel or error (a full disk) the temporary file is
    /// removed.
    pub fn write(self, dest: &Path, written: &dyn Fn(u64) -> bool) -> Result<(), WriteError> {
        let shown = dest.display().to_string();
        let io = |source| WriteError::Io {
            path: shown.clone(),
            source,
        };
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let (offsets, file_len) = self.layout();
        // Refused before a byte is written rather than failing half way (a write error later,
        // a disk filled by someone else meanwhile, still removes the temporary file).
        if let Ok(free) = fs4::available_space(dir) {
            if free < file_len as u64 {
                return Err(WriteError::NoSpace {
                    dir: dir.display().to_string(),
                    need: file_len as u64,
                    free,
                });
            }
        }
        remove_dead_temporaries(dir, &name);
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)
            .map_err(io)?;
        // Ready sections' checksums on every core; the others' once made.
        let ready: Vec<&[u8]> = self
            .sections
            .iter()
            .map(|(_, section)| match section {
                Section::Ready(d) => &**d,
                Section::Later(..) => &[],
            })
            .collect();
        let mut crcs: Vec<u32> = ready.par_iter().map(|d| crc32fast::hash(d)).collect();
        drop(ready);
        let mut out = BufWriter::with_capacity(1 << 20, temp.as_file());
        // Only short of memory: otherwise the cached file makes the next open instant.
        let short = crate::memory::is_short_of(file_len as u64);
        let mut behind = DropBehind::new(temp.as_file(), short);
        let mut at = 0usize;
        out.write_all(&[0u8; HEADER_LEN]).map_err(io)?;
        behind.wrote(&mut out, HEADER_LEN).map_err(io)?;
        at += HEADER_LEN;
        const BLOCK: usize = 4 << 20;
        let StoreWriter { identity, sections } = self;
        let count = sections.len();
        let mut entries = Vec::with_capacity(count);
        for (k, ((name, section), offset)) in sections.into_iter().zip(offsets).enumerate() {
            let data: Cow<'_, [u8]> = match section {
                Section::Ready(d) => d,
                Section::Later(len, make) => {
                    let made = make();
                    if made.len() != len {
                        return Err(io(std::io::Error::other(format!(
                            "section {name} has {} bytes, not the {len} announced",
                            made.len()
                        ))));
                    }
                    crcs[k] = crc32fast::hash(&made);
                    Cow::Owned(made)
                }
            };
            out.write_all(&vec![0u8; offset - at]).map_err(io)?;
            behind.wrote(&mut out, offset - at).map_err(io)?;
            for block in data.chunks(BLOCK) {
                out.write_all(block).map_err(io)?;
                behind.wrote(&mut out, block.len()).map_err(io)?;
                if !written(block.len() as u64) {
                    return Err(WriteError::Cancelled);
                }
            }
            at = offset + data.len();
            entries.push((name, offset, data.len()));
        }
        let mut table = Vec::with_capacity(count * ENTRY_LEN);
        for ((name, offset, len), &crc) in entries.iter().zip(&crcs) {
            let mut entry = [0u8; ENTRY_LEN];
            let n = name.len().min(NAME_LEN);
            entry[..n].copy_from_slice(&name.as_bytes()[..n]);
            entry[32..40].copy_from_slice(&(*offset as u64).to_le_bytes());
            entry[40..48].copy_from_slice(&(*len as u64).to_le_bytes());
            entry[48..52].copy_from_slice(&crc.to_le_bytes());
            table.extend_from_slice(&entry);
        }
        out.write_all(&table).map_err(io)?;
        debug_assert_eq!(at + table.len(), file_len);
        let mut header = [0u8; HEADER_LEN];
        header[..16].copy_from_slice(MAGIC);
        header[16..20].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        header[20..24].copy_from_slice(&(count as u32).to_le_bytes());
        let v = HEAPSIGHT_VERSION.as_bytes();
        header[24..24 + v.len().min(32)].copy_from_slice(&v[..v.len().min(32)]);
        header[56..84].copy_from_slice(&identity.to_bytes());
        header[88..96].copy_from_slice(&(file_len as u64).to_le_bytes());
        header[96..104].copy_from_slice(&(at as u64).to_le_bytes());
        header[104..108].copy_from_slice(&crc32fast::hash(&table).to_le_bytes());
        let crc = crc32fast::hash(&header[..108]);
        header[108..112].copy_from_slice(&crc.to_le_bytes());
        out.flush().map_err(io)?;
        drop(out);
        let mut file = temp.as_file();
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&header).map_err(io)?;
        if !written(0) {
            return Err(WriteError::Cancelled);
        }
        temp.persist(dest).map_err(|e| io(e.error))?;
        Ok(())
    }
}

const TEMP_SUFFIX: &str = ".tmp";

/// Keeps the file's written pages out of memory when memory is short (a cgroup cap on a
/// server): an index file is written in a few seconds, faster than the disk takes it, and its
/// dirty pages count against the process's memory cgroup like any other. Every
/// [`DropBehind::WINDOW`] bytes the window before last is waited for and dropped from the
/// page cache, and the last one is started; at most two windows stay cached. Elsewhere than
/// on Linux, or with memory to spare, nothing.
struct DropBehind<'f> {
    active: bool,
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    file: &'f std::fs::File,
    /// Bytes handed to the writer (the file's length so far).
    pending: u64,
    /// Bytes started towards the disk, and dropped from the cache.
    started: u64,
    dropped: u64,
}

impl<'f> DropBehind<'f> {
    const WINDOW: u64 = 64 << 20;

    fn new(file: &'f std::fs::File, active: bool) -> Self {
        DropBehind {
            active,
            file,
            pending: 0,
            started: 0,
            dropped: 0,
        }
    }

    /// `bytes` more were given to `out` (which buffers them in front of the file).
    fn wrote(&mut self, out: &mut impl Write, bytes: usize) -> std::io::Result<()> {
        self.pending += bytes as u64;
        if !self.active || self.pending - self.started < Self::WINDOW {
            return Ok(());
        }
        out.flush()?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd = self.file.as_raw_fd();
            let range = |from: u64, to: u64| (from as libc::off64_t, (to - from) as libc::off64_t);
            // SAFETY: plain system calls on an open file descriptor, over written ranges;
            // their errors only cost the memory this saves.
            unsafe {
                let (from, len) = range(self.started, self.pending);
                libc::sync_file_range(fd, from, len, libc::SYNC_FILE_RANGE_WRITE);
                if self.started > self.dropped {
                    let (from, len) = range(self.dropped, self.started);
                    let wait = libc::SYNC_FILE_RANGE_WAIT_BEFORE
                        | libc::SYNC_FILE_RANGE_WRITE
                        | libc::SYNC_FILE_RANGE_WAIT_AFTER;
                    libc::sync_file_range(fd, from, len, wait);
                    libc::posix_fadvise(fd, from, len, libc::POSIX_FADV_DONTNEED);
                }
            }
        }
        self.dropped = self.started;
        self.started = self.pending;
        Ok(())
    }
}

/// A temporary file of a live write changes every second or so.
const DEAD_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes the temporary files of earlier writes of `name` in `dir` that were killed (a
/// SIGKILL, a power cut: nothing ran to remove them) and not touched for ten minutes, so that
/// they do not pile up beside the dump. A live write of another process keeps its file fresh.
fn remove_dead_temporaries(dir: &Path, name: &str) {
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if !file_name.starts_with(&prefix) || !file_name.ends_with(TEMP_SUFFIX) {
            continue;
        }
        let dead = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > DEAD_AFTER);
        if dead {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dropping_written_pages_behind_keeps_every_byte() {
        let file = tempfile::tempfile().unwrap();
        let mut out = BufWriter::new(&file);
        let mut behind = DropBehind::new(&file, true);
        let block: Vec<u8> = (0..(3 << 20) + 7).map(|i| (i % 253) as u8).collect();
        for _ in 0..60 {
            out.write_all(&block).unwrap();
            behind.wrote(&mut out, block.len()).unwrap();
        }
        out.flush().unwrap();
        drop(out);
        assert!(behind.dropped > 0, "windows were dropped");
        let mut reader = &file;
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(0)).unwrap();
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut back).unwrap();
        assert_eq!(back.len(), block.len() * 60);
        assert!(back.chunks(block.len()).all(|c| c == &block[..]));
    }
}
