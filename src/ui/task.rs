//! Background work for the window: one thread per task, a shared [`Progress`] the view draws
//! and the work polls for cancellation, and the result handed back once. The only way views
//! run anything that may take longer than a frame.

use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::Instant;

use crate::progress::Progress;

/// What a task has come to.
pub enum Poll<T> {
    Running,
    Done(T),
    /// The worker thread panicked or could not start.
    Died,
}

/// A computation on its own thread.
pub struct Task<T> {
    pub progress: Arc<Progress>,
    pub started: Instant,
    rx: Receiver<T>,
    finished: bool,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<T: Send + 'static> Task<T> {
    /// Runs `work` on a new thread named `name`; the window repaints when it ends.
    pub fn spawn(
        name: &str,
        ctx: &egui::Context,
        work: impl FnOnce(&Progress) -> T + Send + 'static,
    ) -> Task<T> {
        let progress = Arc::new(Progress::new());
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let p = progress.clone();
        let spawned = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let result = work(&p);
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        let thread = spawned
            .map_err(|e| eprintln!("heapsight: cannot start a worker thread: {e}"))
            .ok();
        Task {
            progress,
            started: Instant::now(),
            rx,
            finished: false,
            thread,
        }
    }

    /// The result, once.
    pub fn poll(&mut self) -> Poll<T> {
        if self.finished {
            return Poll::Running;
        }
        match self.rx.try_recv() {
            Ok(v) => {
                self.finished = true;
                Poll::Done(v)
            }
            Err(TryRecvError::Empty) => Poll::Running,
            Err(TryRecvError::Disconnected) => {
                self.finished = true;
                Poll::Died
            }
        }
    }

    /// Asks the work to stop; it returns at its next check and its result is dropped.
    pub fn cancel(&self) {
        self.progress.cancel();
    }

    /// Waits for the work to end (finished or, after [`Task::cancel`], stopped), so that
    /// nothing it was writing is left behind when the process exits.
    pub fn join(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl<T> Drop for Task<T> {
    /// A task nobody waits for stops working.
    fn drop(&mut self) {
        self.progress.cancel();
    }
}
