//! Errors of the format layer: each names the byte offset and what was expected there.

use std::io;

/// Why a dump could not be read. Offsets are positions in the (decompressed) HPROF stream.
#[derive(Debug, thiserror::Error)]
pub enum HprofError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("the file is empty: expected an HPROF header \"JAVA PROFILE 1.0.x\" at byte 0")]
    Empty,
    #[error("not an HPROF heap dump: expected \"JAVA PROFILE 1.0.x\" at byte 0, found {found}")]
    NotHprof { found: String },
    #[error("unsupported identifier size {size} at byte {offset}: expected 4 or 8")]
    BadIdSize { size: u32, offset: u64 },
    #[error("the file ends at byte {offset} inside the header: expected {expected}")]
    TruncatedHeader { offset: u64, expected: &'static str },
    #[error(
        "unknown heap-dump sub-record tag 0x{tag:02x} at byte {offset}: expected a GC root, \
         class, instance or array tag"
    )]
    UnknownSubRecord { tag: u8, offset: u64 },
    #[error(
        "{what} at byte {offset} needs {needed} bytes but its record ends after {available}: \
         length past the end"
    )]
    LengthPastEnd {
        what: &'static str,
        offset: u64,
        needed: u64,
        available: u64,
    },
    #[error("invalid basic type {ty} at byte {offset}: expected one of 2, 4..=11")]
    BadBasicType { ty: u8, offset: u64 },
    #[error("gzip stream is corrupt after {offset} decompressed bytes: {message}")]
    Gzip { offset: u64, message: String },
    #[error("the dump is {bytes} bytes: heapsight indexes dumps below 1 TiB (byte 1099511627776)")]
    TooLarge { bytes: u64 },
    #[error(
        "not enough space to unpack {path}: it needs {needed_desc} in {dir} (the temporary \
         directory; set TMPDIR to use another), which has {available} bytes free"
    )]
    NoSpace {
        path: String,
        /// "68157440 bytes", "at least 68157440 bytes".
        needed_desc: String,
        dir: String,
        available: u64,
    },
    #[error("there is no heap dump number {requested} in this file: it holds {available}")]
    NoSuchDump { requested: usize, available: usize },
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T> = std::result::Result<T, HprofError>;
