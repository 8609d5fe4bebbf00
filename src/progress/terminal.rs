//! Progress of a command-line run on stderr: one bar per phase with rate and time left,
//! only when stderr is a terminal. Ctrl+C asks the run to stop at its next check, so no
//! half-written index file is left behind; a second Ctrl+C ends the process at once.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Phase, Progress};

/// The drawing thread; `finish` stops it and clears the bar.
pub struct TerminalBar {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl TerminalBar {
    pub fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl Drop for TerminalBar {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Cancels `progress` on Ctrl+C, and draws it on stderr if that is a terminal.
pub fn attach(progress: &Arc<Progress>) -> TerminalBar {
    let p = progress.clone();
    // Fails only if a handler is set already (a second attach): the first one serves.
    let _ = ctrlc::set_handler(move || {
        if p.is_cancelled() {
            std::process::exit(130);
        }
        p.cancel();
    });
    let stop = Arc::new(AtomicBool::new(false));
    let thread = if std::io::stderr().is_terminal() {
        let (p, s) = (progress.clone(), stop.clone());
        std::thread::Builder::new()
            .name("heapsight-progress".into())
            .spawn(move || draw(&p, &s))
            .ok()
    } else {
        None
    };
    TerminalBar {
        stop,
        thread: Mutex::new(thread),
    }
}

fn style(phase: Phase, total: u64) -> ProgressStyle {
    let template = match (phase, total) {
        (_, 0) => "{prefix:>16} {spinner} {elapsed}",
        (Phase::SaveIndex | Phase::Decompress, _) => {
            "{prefix:>16} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}"
        }
        _ => "{prefix:>16} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta}",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn draw(progress: &Progress, stop: &AtomicBool) {
    let mut shown: Option<(Phase, u64, ProgressBar)> = None;
    while !stop.load(Ordering::Relaxed) {
        let snap = progress.snapshot();
        if snap.phase == Phase::Done {
            break;
        }
        let changed = shown
            .as_ref()
            .is_none_or(|(phase, total, _)| *phase != snap.phase || *total != snap.total);
        if changed {
            if let Some((_, _, bar)) = shown.take() {
                bar.finish_and_clear();
            }
            let bar = ProgressBar::with_draw_target(
                Some(snap.total),
                ProgressDrawTarget::stderr_with_hz(10),
            );
            bar.set_style(style(snap.phase, snap.total));
            bar.set_prefix(snap.phase.label());
            shown = Some((snap.phase, snap.total, bar));
        }
        if let Some((_, _, bar)) = &shown {
            bar.set_position(snap.done.min(snap.total.max(snap.done)));
            bar.tick();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if let Some((_, _, bar)) = shown {
        bar.finish_and_clear();
    }
}
