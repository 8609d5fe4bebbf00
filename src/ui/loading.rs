//! The loading screen: one progress bar per phase, elapsed and remaining time, Cancel.

use egui::{ProgressBar, RichText, Ui};

use super::loader::LoadJob;
use super::Command;
use crate::format;
use crate::progress::Phase;

/// Phases shown, in order: all but `Done` (decompression only for gzip files, shown when it
/// happens).
const SHOWN: &[Phase] = Phase::ALL.split_last().expect("phases").1;

/// Remembers when each phase was seen to finish, since the loader only reports the current one.
#[derive(Default)]
pub struct LoadingView {
    finished: Vec<(Phase, f64)>,
    last_phase: Option<Phase>,
    last_elapsed: f64,
}

impl LoadingView {
    pub fn ui(&mut self, ui: &mut Ui, job: &LoadJob, out: &mut Vec<Command>) {
        let snap = job.progress.snapshot();
        if self.last_phase != Some(snap.phase) {
            if let Some(prev) = self.last_phase {
                self.finished
                    .push((prev, snap.elapsed_s - self.last_elapsed));
            }
            self.last_phase = Some(snap.phase);
            self.last_elapsed = snap.elapsed_s;
        }
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.15);
            ui.heading(format!("Opening {}", job.path.display()));
            ui.add_space(16.0);
            ui.set_max_width(560.0);
            let current = SHOWN.iter().position(|&p| p == snap.phase);
            ui.horizontal(|ui| {
                ui.add_space(((ui.available_width() - 600.0) / 2.0).max(0.0));
                egui::Grid::new("load-phases")
                    .num_columns(3)
                    .spacing([12.0, 8.0])
                    .show(ui, |ui| {
                        for (i, &phase) in SHOWN.iter().enumerate() {
                            if phase == Phase::Decompress
                                && snap.phase != Phase::Decompress
                                && !self.finished.iter().any(|(p, _)| *p == phase)
                            {
                                continue;
                            }
                            ui.label(phase.label());
                            if let Some(&(_, secs)) =
                                self.finished.iter().find(|(p, _)| *p == phase)
                            {
                                ui.add(ProgressBar::new(1.0).desired_width(320.0));
                                ui.label(format!("done in {secs:.1} s"));
                            } else if Some(i) == current {
                                let fraction = if snap.total > 0 {
                                    snap.done as f32 / snap.total as f32
                                } else {
                                    0.0
                                };
                                let unit = match phase {
                                    Phase::Decompress | Phase::Read | Phase::Index => {
                                        format!(
                                            "{} of {}",
                                            format::bytes(snap.done),
                                            format::bytes(snap.total)
                                        )
                                    }
                                    _ => format!(
                                        "{} of {} objects",
                                        format::thousands(snap.done),
                                        format::thousands(snap.total)
                                    ),
                                };
                                ui.add(
                                    ProgressBar::new(fraction)
                                        .desired_width(320.0)
                                        .animate(true)
                                        .text(unit),
                                );
                                match snap.phase_remaining_s() {
                                    Some(r) => ui.label(format!("about {r:.0} s left")),
                                    None => ui.label(""),
                                };
                            } else {
                                ui.add(ProgressBar::new(0.0).desired_width(320.0));
                                ui.label(RichText::new("waiting").weak());
                            }
                            ui.end_row();
                        }
                    });
            });
            ui.add_space(12.0);
            ui.label(format!("elapsed {:.1} s", snap.elapsed_s));
            ui.add_space(12.0);
            if ui.button("Cancel").clicked() {
                out.push(Command::CancelLoad);
            }
        });
    }
}
