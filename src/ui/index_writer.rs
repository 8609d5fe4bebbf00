//! The index file of a fresh analysis, written behind the window: the dump is on screen as
//! soon as it is analysed, and the file (seconds on a big dump) follows. Opening another dump
//! stops the write and removes the partial file, on the writer's thread; closing the window
//! lets it finish; Ctrl+C in the terminal stops it, removes the partial file, then ends the
//! process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::task::{Poll, Task};
use crate::analysis::{Analysis, IndexState, IndexStatus, OpenError, PendingIndex};
use crate::progress::Progress;

/// Dropped (another dump opened), the write is cancelled and ends on its own thread, which
/// removes the partial file; [`wait_for_writes`] waits for that.
pub struct IndexWriter {
    task: Task<Option<IndexStatus>>,
}

impl IndexWriter {
    pub fn start(pending: PendingIndex, analysis: Arc<Analysis>, ctx: &egui::Context) -> Self {
        // Counted before the thread starts, so that Ctrl+C never misses a write beginning.
        WRITES.fetch_add(1, Ordering::SeqCst);
        let under_way = UnderWay;
        let task = Task::spawn("heapsight-index-writer", ctx, move |progress| {
            let _under_way = under_way;
            let status = match pending.write_behind(&analysis, progress) {
                Ok(status) => Some(status),
                Err(OpenError::Cancelled) => None,
                Err(e) => Some(IndexStatus {
                    state: IndexState::NotWritten,
                    path: None,
                    notes: vec![e.to_string()],
                }),
            };
            // Then the referrer lists the views need (the loader leaves them to the write).
            if status.is_some() {
                analysis.graph.warm();
            }
            status
        });
        if let Ok(mut all) = TO_CANCEL.lock() {
            all.retain(|p| p.strong_count() > 0);
            all.push(Arc::downgrade(&task.progress));
        }
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

fn not_written(why: &str) -> IndexStatus {
    IndexStatus {
        state: IndexState::NotWritten,
        path: None,
        notes: vec![why.to_string()],
    }
}

/// Index files being written, and how to stop them.
static WRITES: AtomicUsize = AtomicUsize::new(0);
static TO_CANCEL: Mutex<Vec<Weak<Progress>>> = Mutex::new(Vec::new());

/// One of [`WRITES`], until its thread has ended (its temporary file gone).
struct UnderWay;

impl Drop for UnderWay {
    fn drop(&mut self) {
        WRITES.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Ctrl+C (or SIGTERM) in the window's terminal: stops the index writes under way, waits (a
/// few seconds at most) until their temporary files are gone, and ends the process.
pub fn stop_writes_and_exit() -> ! {
    if let Ok(all) = TO_CANCEL.lock() {
        all.iter()
            .filter_map(Weak::upgrade)
            .for_each(|p| p.cancel());
    }
    wait_for_writes();
    std::process::exit(130)
}

/// Waits (ten seconds at most) until every write has ended: finished, or cancelled and its
/// temporary file removed.
pub fn wait_for_writes() {
    let deadline = Instant::now() + Duration::from_secs(10);
    while WRITES.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}
