//! Loading a dump on worker threads, with progress the UI polls and a way to cancel.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::Session;
use crate::analysis::{Analysis, OpenError, OpenOptions};
use crate::progress::{Phase, Progress};

pub enum LoadOutcome {
    Loaded(Box<Session>),
    Failed { path: PathBuf, message: String },
    Cancelled,
}

/// A load running on its own thread and rayon pool (so UI-side parallel work never queues
/// behind it).
pub struct LoadJob {
    pub path: PathBuf,
    pub progress: Arc<Progress>,
    result: Arc<Mutex<Option<LoadOutcome>>>,
    pub started: Instant,
}

impl LoadJob {
    pub fn start(path: PathBuf, ctx: egui::Context) -> LoadJob {
        let progress = Arc::new(Progress::new());
        let result = Arc::new(Mutex::new(None));
        let job = LoadJob {
            path: path.to_path_buf(),
            progress: progress.clone(),
            result: result.clone(),
            started: Instant::now(),
        };
        std::thread::Builder::new()
            .name("heapsight-loader".into())
            .spawn(move || {
                let started = Instant::now();
                let outcome = load(&path, &progress, started);
                if let Ok(mut slot) = result.lock() {
                    *slot = Some(outcome);
                }
                ctx.request_repaint();
            })
            .ok();
        job
    }

    /// The outcome, once, when the load has finished.
    pub fn poll(&self) -> Option<LoadOutcome> {
        self.result.lock().ok()?.take()
    }

    pub fn cancel(&self) {
        self.progress.cancel();
    }
}

fn load(path: &std::path::Path, progress: &Progress, started: Instant) -> LoadOutcome {
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
        match Analysis::open(path, &OpenOptions::for_window(), progress) {
            Err(OpenError::Cancelled) => LoadOutcome::Cancelled,
            Ok((analysis, status)) => {
                // The referrer lists are built in the background after a reopen.
                analysis.graph.warm();
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
                progress.start(Phase::Done, 0);
                LoadOutcome::Loaded(Box::new(Session {
                    load_seconds: started.elapsed().as_secs_f64(),
                    ..session
                }))
            }
            Err(e) => LoadOutcome::Failed {
                path: path.to_path_buf(),
                message: e.to_string(),
            },
        }
    })
}
