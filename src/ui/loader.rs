//! Loading a dump on worker threads, with progress the UI polls and a way to cancel.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::task::{Poll, Task};
use super::Session;
use crate::analysis::histogram::HistogramPreview;
use crate::analysis::{Analysis, OpenError, OpenOptions, PendingIndex};
use crate::progress::{Phase, Progress};

pub enum LoadOutcome {
    /// With the index file still to write, after a fresh analysis.
    Loaded(Box<Session>, Option<PendingIndex>),
    Failed {
        path: PathBuf,
        message: String,
    },
    Cancelled,
}

/// A load running as a [`Task`] with its own rayon pool (so UI-side parallel work never
/// queues behind it).
pub struct LoadJob {
    pub path: PathBuf,
    /// Which heap dump of a file holding several (1-based; `None`: the last).
    pub dump: Option<usize>,
    task: Task<LoadOutcome>,
    /// The largest classes, once the objects are indexed (a fresh analysis only).
    preview: Arc<Mutex<Option<Arc<HistogramPreview>>>>,
}

impl LoadJob {
    pub fn start(path: PathBuf, dump: Option<usize>, ctx: egui::Context) -> LoadJob {
        let p = path.clone();
        let preview = Arc::new(Mutex::new(None));
        let slot = preview.clone();
        let repaint = ctx.clone();
        let task = Task::spawn("heapsight-loader", &ctx, move |progress| {
            let show = move |rows: HistogramPreview| {
                if let Ok(mut shown) = slot.lock() {
                    *shown = Some(Arc::new(rows));
                }
                repaint.request_repaint();
            };
            load(&p, dump, progress, Instant::now(), &show)
        });
        LoadJob {
            path,
            dump,
            task,
            preview,
        }
    }

    /// The largest classes by shallow size, once the objects are indexed.
    pub fn preview(&self) -> Option<Arc<HistogramPreview>> {
        self.preview.lock().ok().and_then(|p| p.clone())
    }

    pub fn progress(&self) -> &Progress {
        &self.task.progress
    }

    /// The outcome, once, when the load has finished.
    pub fn poll(&mut self) -> Option<LoadOutcome> {
        match self.task.poll() {
            Poll::Running => None,
            Poll::Done(outcome) => Some(outcome),
            Poll::Died => Some(LoadOutcome::Failed {
                path: self.path.clone(),
                message: "the loader stopped unexpectedly (see the log)".into(),
            }),
        }
    }

    pub fn cancel(&self) {
        self.task.cancel();
    }
}

fn load(
    path: &std::path::Path,
    dump: Option<usize>,
    progress: &Progress,
    started: Instant,
    preview: &crate::analysis::Preview<'_>,
) -> LoadOutcome {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("heapsight-worker-{i}"))
        .build()
    {
        Ok(pool) => pool,
        Err(e) => {
            return LoadOutcome::Failed {
                path: path.to_path_buf(),
                message: format!("cannot start worker threads: {e}"),
            }
        }
    };
    pool.install(|| {
        let options = OpenOptions {
            dump,
            ..OpenOptions::for_window()
        };
        // The index file is written behind the window, once the dump is on screen.
        match Analysis::open_deferring_index(path, &options, progress, preview) {
            Err(OpenError::Cancelled) => LoadOutcome::Cancelled,
            Ok(_) if progress.is_cancelled() => LoadOutcome::Cancelled,
            Ok((analysis, status, pending)) => {
                for note in &status.notes {
                    eprintln!("heapsight: {note}");
                }
                eprintln!("heapsight: {}", status.summary());
                progress.start(Phase::Hints, 0);
                let session = Session::new(
                    path.to_path_buf(),
                    Arc::new(analysis),
                    started.elapsed().as_secs_f64(),
                );
                // The referrer lists, which only views need, are built in the background
                // once the hints are found (the analysis builds none), or after the index
                // file is written: not beside the write, whose memory they would add to.
                if pending.is_none() {
                    session.analysis.graph.warm();
                }
                progress.start(Phase::Done, 0);
                LoadOutcome::Loaded(
                    Box::new(Session {
                        load_seconds: started.elapsed().as_secs_f64(),
                        index_status: Some(status),
                        ..session
                    }),
                    pending,
                )
            }
            Err(e) => LoadOutcome::Failed {
                path: path.to_path_buf(),
                message: e.to_string(),
            },
        }
    })
}
