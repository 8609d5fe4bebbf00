//! A file of named, aligned, checksummed sections with a header that ties it to one dump
//! and one heapsight version, read back by mapping it. Knows nothing of what the sections
//! hold: `analysis::persist` decides that. The layout is described in docs/INDEX-FILE.md.

mod array;
mod identity;
mod park;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use rayon::prelude::*;

pub use array::{Array, Pod};
pub use identity::{cache_dir, index_path_beside, index_path_in_cache, DumpIdentity};
pub use park::{park, scratch_dir, ScratchArray};
pub use writer::{StoreWriter, WriteError};

/// First bytes of every index file.
pub const MAGIC: &[u8; 16] = b"HEAPSIGHT INDEX\0";
/// Bumped whenever the header or a section's layout changes.
pub const FORMAT_VERSION: u32 = 8;
/// The heapsight version that writes and accepts index files.
pub const HEAPSIGHT_VERSION: &str = env!("CARGO_PKG_VERSION");

const HEADER_LEN: usize = 128;
const ENTRY_LEN: usize = 56;
const NAME_LEN: usize = 32;
/// Sections start at multiples of this, so any array type maps aligned.
const ALIGN: usize = 64;

/// Why an index file cannot be used. Each case means "rebuild it", never "trust it".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a heapsight index file")]
    Foreign(String),
    #[error("{path} has index format {found}, this heapsight reads format {FORMAT_VERSION}")]
    OtherFormat { path: String, found: u32 },
    #[error("{path} was written by heapsight {found}, this is heapsight {HEAPSIGHT_VERSION}")]
    OtherVersion { path: String, found: String },
    #[error("{path} is truncated: {actual} bytes of {expected}")]
    Truncated {
        path: String,
        expected: u64,
        actual: u64,
    },
    #[error("{path} is corrupt: {what}")]
    Corrupt { path: String, what: String },
}

struct Section {
    name: String,
    offset: usize,
    len: usize,
}

/// An index file, mapped and verified.
pub struct Store {
    path: PathBuf,
    map: Arc<Mmap>,
    identity: DumpIdentity,
    sections: Vec<Section>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

impl Store {
    /// Maps `path` and checks its header, table and every section's checksum.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let io = |source| StoreError::Io {
            path: shown.clone(),
            source,
        };
        let corrupt = |what: &str| StoreError::Corrupt {
            path: shown.clone(),
            what: what.to_string(),
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the file is mapped read-only. Index files are only ever replaced by rename,
        // never written in place, so the mapped inode does not change under us.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let b: &[u8] = &map;
        if b.len() < MAGIC.len() || &b[..MAGIC.len()] != MAGIC {
            return Err(StoreError::Foreign(shown));
        }
        if b.len() < HEADER_LEN {
            return Err(StoreError::Truncated {
                path: shown,
                expected: HEADER_LEN as u64,
                actual: b.len() as u64,
            });
        }
        let format = u32_at(b, 16);
        if format != FORMAT_VERSION {
            return Err(StoreError::OtherFormat {
                path: shown,
                found: format,
            });
        }
        if crc32fast::hash(&b[..108]) != u32_at(b, 108) {
            return Err(corrupt("header checksum mismatch"));
        }
        let version = String::from_utf8_lossy(&b[24..56])
            .trim_end_matches('\0')
            .to_string();
        if version != HEAPSIGHT_VERSION {
            return Err(StoreError::OtherVersion {
                path: shown,
                found: version,
            });
        }
        let file_len = u64_at(b, 88);
        if file_len != b.len() as u64 {
            return Err(StoreError::Truncated {
                path: shown,
                expected: file_len,
                actual: b.len() as u64,
            });
        }
        let identity = DumpIdentity::from_bytes(&b[56..84]);
        let count = u32_at(b, 20) as usize;
        let table_at = u64_at(b, 96) as usize;
        let table = table_at
            .checked_add(count.saturating_mul(ENTRY_LEN))
            .and_then(|end| b.get(table_at..end))
            .ok_or_else(|| corrupt("section table out of bounds"))?;
        if crc32fast::hash(table) != u32_at(b, 104) {
            return Err(corrupt("section table checksum mismatch"));
        }
        let mut sections = Vec::with_capacity(count);
        let mut checks = Vec::with_capacity(count);
        for e in table.chunks_exact(ENTRY_LEN) {
            let name = String::from_utf8_lossy(&e[..NAME_LEN])
                .trim_end_matches('\0')
                .to_string();
            let offset = u64_at(e, 32) as usize;
            let len = u64_at(e, 40) as usize;
            if offset % ALIGN != 0 || offset.checked_add(len).is_none_or(|end| end > b.len()) {
                return Err(corrupt(&format!("section {name} out of bounds")));
            }
            checks.push((offset, len, u32_at(e, 48)));
            sections.push(Section { name, offset, len });
        }
        // Padding and reserved bytes must be zero, so no byte of the file goes unchecked.
        let mut spans: Vec<(usize, usize)> = checks.iter().map(|&(o, l, _)| (o, o + l)).collect();
        spans.sort_unstable();
        let mut at = 112;
        for (start, end) in spans.into_iter().chain([(table_at, table_at)]) {
            if start < at || b[at..start].iter().any(|&x| x != 0) {
                return Err(corrupt("overlapping sections or non-zero padding"));
            }
            at = end;
        }
        if b[84..88].iter().any(|&x| x != 0) {
            return Err(corrupt("non-zero reserved bytes"));
        }
        // Every byte is checked once: a flipped bit anywhere means a rebuild, not a wrong
        // answer. Big sections are split so both cores share the work.
        const CHUNK: usize = 8 << 20;
        let bad = checks.par_iter().position_any(|&(offset, len, crc)| {
            let data = &b[offset..offset + len];
            let parts: Vec<(u32, usize)> = data
                .par_chunks(CHUNK)
                .map(|c| (crc32fast::hash(c), c.len()))
                .collect();
            let mut whole = crc32fast::Hasher::new_with_initial_len(0, 0);
            for (c, n) in parts {
                whole.combine(&crc32fast::Hasher::new_with_initial_len(c, n as u64));
            }
            whole.finalize() != crc
        });
        if let Some(i) = bad {
            return Err(corrupt(&format!(
                "section {} checksum mismatch",
                sections[i].name
            )));
        }
        Ok(Store {
            path: path.to_path_buf(),
            map: Arc::new(map),
            identity,
            sections,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The dump this index was made from, as it was then.
    pub fn identity(&self) -> &DumpIdentity {
        &self.identity
    }

    /// Size of the whole file.
    pub fn file_len(&self) -> u64 {
        self.map.len() as u64
    }

    fn find(&self, name: &str) -> Result<&Section, StoreError> {
        self.sections
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| StoreError::Corrupt {
                path: self.path.display().to_string(),
                what: format!("no section {name}"),
            })
    }

    /// A section's bytes.
    pub fn bytes(&self, name: &str) -> Result<&[u8], StoreError> {
        let s = self.find(name)?;
        Ok(&self.map[s.offset..s.offset + s.len])
    }

    /// A section as a mapped array of `T`.
    pub fn array<T: Pod>(&self, name: &str) -> Result<Array<T>, StoreError> {
        let s = self.find(name)?;
        Array::mapped(&self.map, s.offset..s.offset + s.len).ok_or_else(|| StoreError::Corrupt {
            path: self.path.display().to_string(),
            what: format!(
                "section {name} is not an array of {}",
                std::any::type_name::<T>()
            ),
        })
    }

    /// (name, bytes) of every section, for size reports.
    pub fn section_sizes(&self) -> Vec<(String, u64)> {
        self.sections
            .iter()
            .map(|s| (s.name.clone(), s.len as u64))
            .collect()
    }
}

/// Whether `path` starts like an index file (a dump given by mistake starts otherwise).
pub fn is_index_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 16];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|_| &magic == MAGIC)
}

#[cfg(test)]
mod tests;
