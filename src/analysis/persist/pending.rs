//! The index file of a fresh analysis written after it: at once by `Analysis::open`, or
//! behind the window ([`PendingIndex::write_behind`]) once the dump is on screen.

use std::path::PathBuf;

use super::{save, Analysis, IndexState, IndexStatus, OpenError};
use crate::heap::store::{DumpIdentity, WriteError};
use crate::progress::{Phase, Progress};

/// The index file of a fresh analysis, still to be written: where it may go, and the notes
/// on why an existing one was not used.
pub struct PendingIndex {
    pub(super) dump: PathBuf,
    pub(super) identity: DumpIdentity,
    pub(super) candidates: Vec<PathBuf>,
    pub(super) notes: Vec<String>,
}

impl PendingIndex {
    /// Writes `analysis`'s index file in the first place that takes it (beside the dump, else
    /// in the cache directory); the status says where, or in its notes why nowhere.
    /// `Cancelled` leaves no file.
    pub fn write(self, analysis: &Analysis, progress: &Progress) -> Result<IndexStatus, OpenError> {
        let PendingIndex {
            identity,
            candidates,
            mut notes,
            ..
        } = self;
        progress.start(Phase::SaveIndex, 0);
        let mut written = None;
        for candidate in &candidates {
            if let Some(dir) = candidate.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match save(analysis, identity, candidate, progress) {
                Ok(()) => {
                    written = Some(candidate.clone());
                    break;
                }
                Err(WriteError::Cancelled) => return Err(OpenError::Cancelled),
                Err(e) => notes.push(e.to_string()),
            }
        }
        progress.mark("index written");
        Ok(IndexStatus {
            state: if written.is_some() {
                IndexState::Written
            } else {
                IndexState::NotWritten
            },
            path: written,
            notes,
        })
    }

    /// As [`PendingIndex::write`], behind the window, which holds the whole analysis and its
    /// views meanwhile. Short of the memory the write needs (the largest section made while
    /// writing, about 3 bytes an object, the path hops when read then, 4 more, and the
    /// write-behind windows), it writes nothing and says why: under a memory cap such a write
    /// stalled the window in page reclaim for minutes (the 103 M-object dump under 2.5 GB).
    pub fn write_behind(
        self,
        analysis: &Analysis,
        progress: &Progress,
    ) -> Result<IndexStatus, OpenError> {
        self.write_within(crate::memory::headroom_bytes(), analysis, progress)
    }

    /// As [`PendingIndex::write_behind`] with `headroom` bytes of memory left (`None`: no
    /// limit known).
    pub fn write_within(
        self,
        headroom: Option<u64>,
        analysis: &Analysis,
        progress: &Progress,
    ) -> Result<IndexStatus, OpenError> {
        let objects = analysis.index.object_count() as u64;
        let hops = if analysis.shortest_paths.hops().is_none() {
            4
        } else {
            0
        };
        let need = objects * (3 + hops) + (256 << 20);
        match headroom {
            Some(left) if left < need => {
                let mut notes = self.notes;
                notes.push(format!(
                    "no index file written: {} of memory left, writing it needs about {}; \
                     `heapsight index {}` writes it with less",
                    crate::format::bytes(left),
                    crate::format::bytes(need),
                    self.dump.display()
                ));
                Ok(IndexStatus {
                    state: IndexState::NotWritten,
                    path: None,
                    notes,
                })
            }
            _ => self.write(analysis, progress),
        }
    }
}
