//! The loading screen: one progress bar per phase, elapsed and remaining time, Cancel.

use std::path::Path;
use std::sync::Arc;

use egui::{ProgressBar, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::loader::LoadJob;
use super::name_filter::NameFilter;
use super::Command;
use crate::analysis::histogram::HistogramPreview;
use crate::format;
use crate::progress::{Phase, ProgressSnapshot};

/// Phases shown, in order: all but `Done` (decompression only for gzip files, shown when it
/// happens).
const SHOWN: &[Phase] = Phase::ALL.split_last().expect("phases").1;

/// Remembers when each phase was seen to finish, since the loader only reports the current
/// one; and the filter of the class list shown meanwhile.
#[derive(Default)]
pub struct LoadingView {
    finished: Vec<(Phase, f64)>,
    last_phase: Option<Phase>,
    last_elapsed: f64,
    /// A gzip file is being unpacked: `Decompress` is also the phase before any starts.
    unpacking: bool,
    filter: String,
    /// The preview rows the filter shows, for the preview and filter they were made for.
    shown: Option<Shown>,
}

struct Shown {
    preview: Arc<HistogramPreview>,
    filter: String,
    rows: Vec<usize>,
    error: Option<String>,
}

/// The rows of `preview` whose class name `filter` matches.
fn filtered(preview: &HistogramPreview, filter: &NameFilter) -> Vec<usize> {
    (0..preview.rows.len())
        .filter(|&i| filter.matches(&preview.rows[i].0))
        .collect()
}

impl LoadingView {
    /// Notes when the phase before `snap`'s finished. `Decompress` is also the phase before
    /// any starts: it counts only when a gzip file was seen being unpacked.
    fn observe(&mut self, snap: &ProgressSnapshot) {
        self.unpacking |= snap.phase == Phase::Decompress && snap.total > 0;
        if self.last_phase == Some(snap.phase) {
            return;
        }
        if let Some(prev) = self
            .last_phase
            .filter(|&p| p != Phase::Decompress || self.unpacking)
        {
            self.finished
                .push((prev, snap.elapsed_s - self.last_elapsed));
        }
        self.last_phase = Some(snap.phase);
        self.last_elapsed = snap.elapsed_s;
    }

    pub fn ui(
        &mut self,
        ui: &mut Ui,
        job: &LoadJob,
        previous: Option<&Path>,
        out: &mut Vec<Command>,
    ) {
        let snap = job.progress().snapshot();
        self.observe(&snap);
        let preview = job.preview();
        ui.vertical_centered(|ui| {
            // Higher up once the largest classes are shown below.
            let top = if preview.is_some() { 0.03 } else { 0.15 };
            ui.add_space(ui.available_height() * top);
            match job.dump {
                Some(n) => ui.heading(format!("Opening heap dump #{n} of {}", job.path.display())),
                None => ui.heading(format!("Opening {}", job.path.display())),
            };
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
                            // The index file is written once the dump is on screen.
                            if phase == Phase::SaveIndex {
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
                                // Not animated: that repaints every frame, and on a
                                // software-rendered display took a core from the analysis
                                // (16 s instead of 10 for 26 M objects). It moves at the
                                // 10 Hz the loading screen polls.
                                ui.add(ProgressBar::new(fraction).desired_width(320.0).text(unit));
                                // The dominator steps count unevenly (a long stretch
                                // counts nothing): the guess from the graph phase first.
                                match self
                                    .guess_remaining(phase, snap.phase_elapsed_s)
                                    .or_else(|| snap.phase_remaining_s())
                                {
                                    Some(r) => ui.label(format!("about {:.0} s left", r.max(1.0))),
                                    None => ui.label(format!("{:.0} s", snap.phase_elapsed_s)),
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
            let back_to = match previous {
                Some(p) => format!(
                    "Stops loading and returns to {}",
                    p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned()
                    )
                ),
                None => "Stops loading and returns to the start screen".to_string(),
            };
            if ui.button("Cancel (Esc)").on_hover_text(back_to).clicked() {
                out.push(Command::CancelLoad);
            }
            if let Some(preview) = preview {
                ui.add_space(16.0);
                ui.strong("Classes so far, largest shallow size first");
                ui.label(
                    RichText::new(format!(
                        "{} objects of {} classes, {} in all. Retained sizes, hints and the \
                         other views follow when the analysis ends.",
                        format::thousands(preview.total_count),
                        format::thousands(preview.classes as u64),
                        format::bytes(preview.total_shallow_bytes)
                    ))
                    .weak(),
                );
                ui.add_space(6.0);
                // A column of its own width, centred, its cells left-aligned like the
                // histogram's.
                let size = egui::vec2(ui.available_width().min(820.0), ui.available_height());
                ui.allocate_ui_with_layout(size, egui::Layout::top_down(egui::Align::Min), |ui| {
                    self.filter_bar(ui, &preview);
                    let rows = self.shown_rows(&preview);
                    preview_table(ui, &preview, rows);
                });
            }
        });
    }

    /// The filter and how many classes it shows, counted after this frame's typing (as the
    /// table below it is).
    fn filter_bar(&mut self, ui: &mut Ui, preview: &Arc<HistogramPreview>) {
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .id_salt("heapsight.loading.filter")
                    .hint_text("class name or regex")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
            let count = format!(
                "{} of {} classes",
                self.shown_rows(preview).len(),
                preview.rows.len()
            );
            let text = match self.shown.as_ref().and_then(|s| s.error.as_ref()) {
                Some(e) => format!("{e}; {count}"),
                None => count,
            };
            ui.label(RichText::new(text).weak());
        });
        ui.add_space(4.0);
    }

    /// The rows the filter shows, worked out again only when the filter or preview changes.
    fn shown_rows(&mut self, preview: &Arc<HistogramPreview>) -> &[usize] {
        let stale = self
            .shown
            .as_ref()
            .is_none_or(|s| s.filter != self.filter || !Arc::ptr_eq(&s.preview, preview));
        if stale {
            let filter = NameFilter::new(&self.filter);
            self.shown = Some(Shown {
                preview: preview.clone(),
                filter: self.filter.clone(),
                rows: filtered(preview, &filter),
                error: filter.error,
            });
        }
        self.shown.as_ref().map_or(&[], |s| &s.rows)
    }

    /// Phases that report no counts for a while (the dominator walks): a guess from the
    /// reference-graph phase, which reads the same objects. The dominators took 2.4–2.8 times
    /// as long, the retained sizes 0.8 (26 M and 103 M objects).
    fn guess_remaining(&self, phase: Phase, elapsed: f64) -> Option<f64> {
        if !matches!(phase, Phase::Dominators | Phase::RetainedSizes) {
            return None;
        }
        let graph = self
            .finished
            .iter()
            .find(|(p, _)| *p == Phase::Graph)
            .map(|(_, s)| *s)?;
        let factor = if phase == Phase::Dominators { 2.5 } else { 0.8 };
        Some((graph * factor - elapsed).max(1.0))
    }
}

/// The classes by shallow size (those of `rows`), known seconds after the load starts, while
/// the dominators (minutes on a big dump) are computed.
fn preview_table(ui: &mut Ui, preview: &HistogramPreview, rows: &[usize]) {
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let whole = preview.total_shallow_bytes;
    TableBuilder::new(ui)
        .id_salt("load-preview")
        .auto_shrink([false, false])
        .min_scrolled_height(0.0)
        .striped(true)
        .column(Column::remainder().at_least(200.0).clip(true))
        .column(Column::initial(100.0))
        .column(Column::initial(90.0))
        .column(Column::initial(70.0))
        .header(row_height, |mut h| {
            for title in ["Class", "Objects", "Shallow", "Of heap"] {
                h.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, rows.len(), |mut row| {
                let Some((name, count, bytes)) =
                    rows.get(row.index()).and_then(|&i| preview.rows.get(i))
                else {
                    return;
                };
                row.col(|ui| {
                    ui.add(egui::Label::new(name.as_str()).truncate());
                });
                row.col(|ui| {
                    ui.label(format::thousands(*count));
                });
                row.col(|ui| {
                    ui.label(format::bytes(*bytes));
                });
                row.col(|ui| {
                    ui.label(format::percent(*bytes, whole));
                });
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(phase: Phase, total: u64, elapsed_s: f64) -> ProgressSnapshot {
        ProgressSnapshot {
            phase,
            done: 0,
            total,
            phase_elapsed_s: 0.0,
            elapsed_s,
        }
    }

    #[test]
    fn the_filter_shows_the_matching_classes_largest_first() {
        let preview = Arc::new(HistogramPreview {
            rows: vec![
                ("byte[]".into(), 10, 1000),
                ("com.example.Session".into(), 5, 500),
                ("java.util.HashMap$Node".into(), 4, 400),
                ("com.example.SessionManager".into(), 1, 100),
            ],
            classes: 4,
            total_count: 20,
            total_shallow_bytes: 2000,
        });
        let mut view = LoadingView::default();
        assert_eq!(view.shown_rows(&preview), &[0, 1, 2, 3]);
        view.filter = "session".into();
        assert_eq!(view.shown_rows(&preview), &[1, 3]);
        view.filter = "Session$".into();
        assert_eq!(view.shown_rows(&preview), &[1]);
        // Not a regular expression: matched as text.
        view.filter = "byte[".into();
        assert_eq!(view.shown_rows(&preview), &[0]);
        assert!(view.shown.as_ref().is_some_and(|s| s.error.is_some()));
        // A new preview (another load) is filtered again.
        let other = Arc::new(HistogramPreview::default());
        assert!(view.shown_rows(&other).is_empty());
    }

    #[test]
    fn decompress_is_done_only_for_an_unpacked_file() {
        let mut plain = LoadingView::default();
        plain.observe(&at(Phase::Decompress, 0, 0.0));
        plain.observe(&at(Phase::Read, 100, 0.5));
        plain.observe(&at(Phase::Index, 100, 1.5));
        assert_eq!(plain.finished, vec![(Phase::Read, 1.0)]);

        let mut gzip = LoadingView::default();
        gzip.observe(&at(Phase::Decompress, 0, 0.0));
        gzip.observe(&at(Phase::Decompress, 50, 0.5));
        gzip.observe(&at(Phase::Read, 100, 2.0));
        assert_eq!(gzip.finished, vec![(Phase::Decompress, 2.0)]);
    }
}
