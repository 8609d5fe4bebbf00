//! What ties an index file to its dump, and where index files live.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes hashed at each end of the dump.
const BLOCK: u64 = 1 << 20;

/// The dump as it was when the index was made: size, modification time and a hash of its
/// first and last megabyte (a dump rewritten in place with the same size and time, as
/// some copy tools do, still shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpIdentity {
    pub size: u64,
    pub mtime_s: i64,
    pub mtime_ns: u32,
    pub head_crc: u32,
    pub tail_crc: u32,
}

impl DumpIdentity {
    /// Reads the identity of the dump file at `path` (two short reads).
    pub fn of(path: &Path) -> std::io::Result<DumpIdentity> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        let size = meta.len();
        let (mtime_s, mtime_ns) = match meta.modified()?.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => (
                -(e.duration().as_secs() as i64),
                e.duration().subsec_nanos(),
            ),
        };
        let mut block = vec![0u8; BLOCK.min(size) as usize];
        file.read_exact(&mut block)?;
        let head_crc = crc32fast::hash(&block);
        file.seek(SeekFrom::Start(size - block.len() as u64))?;
        file.read_exact(&mut block)?;
        let tail_crc = crc32fast::hash(&block);
        Ok(DumpIdentity {
            size,
            mtime_s,
            mtime_ns,
            head_crc,
            tail_crc,
        })
    }

    pub(super) fn to_bytes(self) -> [u8; 28] {
        let mut b = [0u8; 28];
        b[0..8].copy_from_slice(&self.size.to_le_bytes());
        b[8..16].copy_from_slice(&self.mtime_s.to_le_bytes());
        b[16..20].copy_from_slice(&self.mtime_ns.to_le_bytes());
        b[20..24].copy_from_slice(&self.head_crc.to_le_bytes());
        b[24..28].copy_from_slice(&self.tail_crc.to_le_bytes());
        b
    }

    pub(super) fn from_bytes(b: &[u8]) -> DumpIdentity {
        let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]));
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
        DumpIdentity {
            size: u64_at(0),
            mtime_s: u64_at(8) as i64,
            mtime_ns: u32_at(16),
            head_crc: u32_at(20),
            tail_crc: u32_at(24),
        }
    }
}

/// Suffix of index file names.
pub const SUFFIX: &str = ".heapsight-index";

/// `DIR/NAME.hprof` → `DIR/NAME.hprof.heapsight-index`.
pub fn index_path_beside(dump: &Path) -> PathBuf {
    let mut name = dump.file_name().unwrap_or_default().to_os_string();
    name.push(SUFFIX);
    dump.with_file_name(name)
}

/// `$XDG_CACHE_HOME/heapsight` or `~/.cache/heapsight`.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("heapsight"))
}

/// The index of `dump` in the cache directory: its name plus a hash of its absolute path,
/// so dumps of the same name in different directories do not collide.
pub fn index_path_in_cache(dump: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(dump).unwrap_or_else(|_| dump.to_path_buf());
    let hash = crc32fast::hash(absolute.as_os_str().as_encoded_bytes());
    let name = dump.file_name()?.to_string_lossy();
    Some(cache_dir()?.join(format!("{name}-{hash:08x}{SUFFIX}")))
}
