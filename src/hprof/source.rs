//! The dump's bytes: the file mapped read-only, or, for gzip, a decompressed copy in an
//! unlinked temporary file (in `TMPDIR`): it has no name from the start, so nothing is left
//! behind whatever ends the process (a panic, Ctrl+C, a kill).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use memmap2::{Mmap, UncheckedAdvice};

use super::error::{HprofError, Result};
use crate::progress::{Phase, Progress};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How the file was stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Compression {
    None,
    /// gzip; `block_size` when written by `jcmd GC.heap_dump -gz` (chunked members).
    Gzip {
        compressed_bytes: u64,
        block_size: Option<u64>,
    },
}

/// A dump's bytes, mapped. Never written.
pub struct DumpSource {
    map: Option<Mmap>,
    path: PathBuf,
    compression: Compression,
    // The unlinked decompressed copy; its space is freed when the file and the map close.
    _decompressed: Option<File>,
    /// Which of several heap dumps in the file to read (1-based; `None`: the last).
    dump: Option<usize>,
}

impl DumpSource {
    /// Opens and maps `path`, decompressing gzip (detected by its magic bytes) first.
    pub fn open(path: &Path, progress: &Progress) -> Result<DumpSource> {
        let io_err = |source| HprofError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let mut magic = [0u8; 2];
        let n = read_up_to(&mut file, &mut magic).map_err(io_err)?;
        if n == 2 && magic == GZIP_MAGIC {
            return Self::open_gzip(path, progress);
        }
        let len = file.metadata().map_err(io_err)?.len();
        let map = if len == 0 {
            None
        } else {
            // SAFETY: mapped read-only; heapsight never writes the dump. Another process
            // truncating the file while we read it is outside what we can guard against.
            Some(unsafe { Mmap::map(&file) }.map_err(io_err)?)
        };
        Ok(DumpSource {
            map,
            path: path.to_path_buf(),
            compression: Compression::None,
            _decompressed: None,
            dump: None,
        })
    }

    fn open_gzip(path: &Path, progress: &Progress) -> Result<DumpSource> {
        let io_err = |source| HprofError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let compressed_bytes = file.metadata().map_err(io_err)?.len();
        let block_size = read_block_size_comment(path);
        progress.start(Phase::Decompress, compressed_bytes);
        let counting = CountingReader {
            inner: io::BufReader::with_capacity(1 << 20, file),
            progress,
        };
        let mut decoder = MultiGzDecoder::new(counting);
        let dir = std::env::temp_dir();
        let lower_bound = unpacked_size_lower_bound(path, compressed_bytes);
        let no_space = |needed_desc: String| HprofError::NoSpace {
            path: path.display().to_string(),
            needed_desc,
            dir: dir.display().to_string(),
            available: fs4::available_space(&dir).unwrap_or(0),
        };
        if let Ok(available) = fs4::available_space(&dir) {
            if available < lower_bound {
                return Err(no_space(format!("at least {lower_bound} bytes")));
            }
        }
        let mut temp = tempfile::tempfile_in(&dir).map_err(|source| HprofError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let mut buf = vec![0u8; 1 << 20];
        let mut written: u64 = 0;
        loop {
            if progress.is_cancelled() {
                return Err(HprofError::Cancelled);
            }
            let n = match decoder.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(HprofError::Gzip {
                        offset: written,
                        message: e.to_string(),
                    })
                }
            };
            if let Err(e) = temp.write_all(&buf[..n]) {
                if e.kind() == io::ErrorKind::StorageFull {
                    let at_least = lower_bound.max(written + n as u64);
                    return Err(no_space(format!("more than {at_least} bytes")));
                }
                return Err(io_err(e));
            }
            written += n as u64;
        }
        temp.flush().map_err(io_err)?;
        let map = if written == 0 {
            None
        } else {
            // SAFETY: our own unlinked temporary file, mapped read-only and kept until drop.
            Some(unsafe { Mmap::map(&temp) }.map_err(io_err)?)
        };
        Ok(DumpSource {
            map,
            path: path.to_path_buf(),
            compression: Compression::Gzip {
                compressed_bytes,
                block_size,
            },
            _decompressed: Some(temp),
            dump: None,
        })
    }

    /// Reads heap dump number `n` (1-based) of a file holding several; `None`: the last.
    pub fn select_dump(&mut self, n: Option<usize>) {
        self.dump = n;
    }

    pub fn selected_dump(&self) -> Option<usize> {
        self.dump
    }

    /// A source standing for a dump that is not at hand (an index file browsed alone): no
    /// bytes.
    pub fn absent(path: &Path, compression: Compression) -> DumpSource {
        DumpSource {
            map: None,
            path: path.to_path_buf(),
            compression,
            _decompressed: None,
            dump: None,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn compression(&self) -> &Compression {
        &self.compression
    }

    /// Drops the resident pages of a range a pass no longer needs (they are re-read on demand).
    pub fn release(&self, start: usize, len: usize) {
        let Some(map) = &self.map else { return };
        let page = 4096;
        let aligned = start / page * page;
        let end = (start + len).min(map.len());
        if end <= aligned {
            return;
        }
        // SAFETY: the mapping is a read-only file mapping; DONTNEED only discards cached pages,
        // which the kernel reloads from the file on the next access.
        let _ = unsafe {
            map.unchecked_advise_range(UncheckedAdvice::DontNeed, aligned, end - aligned)
        };
    }
}

/// The unpacked size as far as the file tells without unpacking: the last member's ISIZE
/// (the size modulo 4 GiB), lifted to at least half the compressed size. A lower bound: a
/// member may pass 4 GiB, and jcmd's chunked files have many members.
fn unpacked_size_lower_bound(path: &Path, compressed_bytes: u64) -> u64 {
    let isize = (|| {
        use std::io::{Seek, SeekFrom};
        let mut f = File::open(path).ok()?;
        f.seek(SeekFrom::End(-4)).ok()?;
        let mut tail = [0u8; 4];
        f.read_exact(&mut tail).ok()?;
        Some(u32::from_le_bytes(tail) as u64)
    })();
    let Some(mut bytes) = isize else {
        return compressed_bytes / 2;
    };
    while bytes < compressed_bytes / 2 {
        bytes += 1 << 32;
    }
    bytes
}

struct CountingReader<'p, R> {
    inner: R,
    progress: &'p Progress,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// `jcmd GC.heap_dump -gz` writes "HPROF BLOCKSIZE=<n>" in the first member's comment.
fn read_block_size_comment(path: &Path) -> Option<u64> {
    let mut head = [0u8; 512];
    let mut f = File::open(path).ok()?;
    let n = read_up_to(&mut f, &mut head).ok()?;
    let head = &head[..n];
    let flags = *head.get(3)?;
    let mut pos = 10usize;
    if flags & 0x04 != 0 {
        let xlen = u16::from_le_bytes([*head.get(10)?, *head.get(11)?]) as usize;
        pos += 2 + xlen;
    }
    if flags & 0x08 != 0 {
        pos += head.get(pos..)?.iter().position(|&b| b == 0)? + 1;
    }
    if flags & 0x10 == 0 {
        return None;
    }
    let rest = head.get(pos..)?;
    let comment = &rest[..rest.iter().position(|&b| b == 0)?];
    let text = std::str::from_utf8(comment).ok()?;
    text.strip_prefix("HPROF BLOCKSIZE=")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::{Compression as Level, GzBuilder};

    #[test]
    fn decompresses_concatenated_members_and_reads_block_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.bin");
        let mut out = Vec::new();
        let mut first = GzBuilder::new()
            .comment("HPROF BLOCKSIZE=1048576")
            .write(Vec::new(), Level::fast());
        first.write_all(b"hello ").unwrap();
        out.extend(first.finish().unwrap());
        let mut second = GzEncoder::new(Vec::new(), Level::fast());
        second.write_all(b"world").unwrap();
        out.extend(second.finish().unwrap());
        std::fs::write(&path, &out).unwrap();
        let src = DumpSource::open(&path, &Progress::new()).unwrap();
        assert_eq!(src.bytes(), b"hello world");
        assert_eq!(
            src.compression(),
            &Compression::Gzip {
                compressed_bytes: out.len() as u64,
                block_size: Some(1048576)
            }
        );
    }

    #[test]
    fn corrupt_gzip_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.gz");
        std::fs::write(
            &path,
            [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff],
        )
        .unwrap();
        assert!(DumpSource::open(&path, &Progress::new()).is_err());
    }
}
