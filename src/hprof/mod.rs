//! The HPROF format: header, top-level records and heap-dump sub-records, read in place from
//! the mapped bytes. Knows nothing of object graphs.

pub mod cursor;
pub mod error;
pub mod header;
pub mod records;
pub mod source;
pub mod subrecords;
pub mod types;

pub use error::{HprofError, Result};
pub use header::{parse_header, FormatVersion, Header};
pub use records::{IdList, Record, RecordAt, RecordIter};
pub use source::{Compression, DumpSource};
pub use subrecords::{
    ClassDump, FieldDecl, GcRoot, StaticField, SubRecord, SubRecordAt, SubRecordIter,
};
pub use types::{BasicType, RootKind, Value};
