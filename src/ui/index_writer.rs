//! The index file of a fresh analysis, written behind the window: the dump is on screen as
//! soon as it is analysed, and the file (seconds on a big dump) follows. Opening another dump
//! stops the write and removes the partial file; closing the window lets it finish.

use std::sync::Arc;

use super::task::{Poll, Task};
use crate::analysis::{Analysis, IndexState, IndexStatus, OpenError, PendingIndex};
use crate::progress::Progress;

pub struct IndexWriter {
    task: Task<Option<IndexStatus>>,
}

impl IndexWriter {
    pub fn start(pending: PendingIndex, analysis: Arc<Analysis>, ctx: &egui::Context) -> Self {
        let task = Task::spawn("heapsight-index-writer", ctx, move |progress| match pending
            .write(&analysis, progress)
        {
            Ok(status) => Some(status),
            Err(OpenError::Cancelled) => None,
            Err(e) => Some(IndexStatus {
                state: IndexState::NotWritten,
                path: None,
                notes: vec![e.to_string()],
            }),
        });
        IndexWriter { task }
    }

    pub fn progress(&self) -> Arc<Progress> {
        self.task.progress.clone()
    }

    /// Where the file went (or why it did not), once, when the write has ended.
    pub fn poll(&mut self) -> Option<IndexStatus> {
        match self.task.poll() {
            Poll::Running => None,
            Poll::Done(status) => Some(status.unwrap_or_else(|| not_written("cancelled"))),
            Poll::Died => Some(not_written("the index writer stopped unexpectedly")),
        }
    }

    /// Lets the write finish (the window is closing).
    pub fn finish(&mut self) {
        self.task.join();
    }
}

impl Drop for IndexWriter {
    /// Stops the write, and waits until its temporary file is gone.
    fn drop(&mut self) {
        self.task.cancel();
        self.task.join();
    }
}

fn not_written(why: &str) -> IndexStatus {
    IndexStatus {
        state: IndexState::NotWritten,
        path: None,
        notes: vec![why.to_string()],
    }
}
