//! Overview: the dump at a glance, with charts of what is big.

use egui::{RichText, Ui};

use super::charts;
use super::widgets::{bytes_label, hint_text, size_bar, wrapped_link_in};
use super::{Command, Place, Session, Tab};
use crate::format;

#[derive(Default)]
pub struct OverviewView {}

impl OverviewView {
    pub fn ui(&mut self, ui: &mut Ui, session: &Session, _place: &Place, out: &mut Vec<Command>) {
        let a = &session.analysis;
        let index = &a.index;
        let dom = &a.dominators;
        egui::ScrollArea::vertical().show(ui, |ui| {
            verdict_box(ui, session, out);
            ui.add_space(12.0);
            ui.add(
                egui::Label::new(RichText::new(session.path.display().to_string()).heading())
                    .truncate(),
            );
            let header = index.header();
            hint_text(
                ui,
                format!(
                    "{}, {}-byte ids, {}; dump taken {}",
                    header.version.as_str(),
                    header.id_size,
                    index.layout().describe(),
                    timestamp(header.timestamp_ms)
                ),
            );
            // Where the analysis came from: a reopened or freshly written index file.
            if let Some(status) = &session.index_status {
                let line = match &session.index_progress {
                    Some(p) => writing_index(&p.snapshot()),
                    None => status.summary(),
                };
                hint_text(ui, line);
                // Why an index was rebuilt or could not be written.
                for note in &status.notes {
                    hint_text(ui, note.clone());
                }
            }
            dumps_box(ui, session, out);
            ui.add_space(8.0);
            // The values wrap beside their names rather than widen the view.
            let names_width = 260.0;
            let values_width = (ui.available_width() - names_width).max(160.0);
            egui::Grid::new("overview-numbers")
                .num_columns(2)
                .spacing([24.0, 6.0])
                .max_col_width(values_width)
                .show(ui, |ui| {
                    ui.label("Heap (shallow, all objects)");
                    bytes_label(ui, a.histogram.total_shallow_bytes);
                    ui.end_row();
                    ui.label("Objects");
                    ui.label(format::thousands(index.object_count() as u64));
                    ui.end_row();
                    ui.label("Classes");
                    ui.label(format::thousands(a.histogram.rows.len() as u64));
                    ui.end_row();
                    ui.label("Threads");
                    ui.label(format::thousands(index.threads().len() as u64));
                    ui.end_row();
                    ui.label("Reachable from GC roots");
                    ui.horizontal(|ui| {
                        let total = a.histogram.total_shallow_bytes.max(1);
                        size_bar(
                            ui,
                            dom.reachable_bytes as f64 / total as f64,
                            &format!(
                                "{}  ({})",
                                format::bytes(dom.reachable_bytes),
                                format::percent(dom.reachable_bytes, total)
                            ),
                            ui.available_width().min(300.0),
                        );
                    });
                    ui.end_row();
                    ui.label("Unreachable (garbage not yet collected)");
                    ui.label(format!(
                        "{} in {} objects",
                        format::bytes(dom.unreachable_bytes),
                        format::thousands(dom.unreachable_objects)
                    ));
                    ui.end_row();
                    ui.label("GC roots");
                    let text: Vec<String> = session
                        .gc_roots
                        .iter()
                        .map(|(k, n)| format!("{k} {}", format::thousands(*n)))
                        .collect();
                    ui.add(egui::Label::new(text.join(", ")).wrap());
                    ui.end_row();
                });
            // The several-dumps warning is the chooser above.
            let several = index.dumps().warning();
            let warnings: Vec<&String> = index
                .warnings()
                .iter()
                .filter(|w| Some(*w) != several.as_ref())
                .collect();
            if !warnings.is_empty() {
                ui.add_space(8.0);
                egui::Frame::group(ui.style())
                    .fill(ui.visuals().warn_fg_color.gamma_multiply(0.12))
                    .show(ui, |ui| {
                        ui.label(RichText::new("Read with warnings").strong());
                        for w in warnings {
                            ui.label(w);
                        }
                    });
            }
            ui.add_space(16.0);
            ui.columns(2, |cols| {
                cols[0].label(RichText::new("Biggest classes (retained)").strong());
                self.top_classes_chart(&mut cols[0], session, out);
                cols[1].label(RichText::new("Biggest objects (dominator tree)").strong());
                top_dominators_chart(&mut cols[1], session, out);
            });
            ui.add_space(16.0);
            ui.label(RichText::new("Objects by shallow size").strong());
            self.size_chart(ui, session);
        });
    }

    fn top_classes_chart(&self, ui: &mut Ui, session: &Session, out: &mut Vec<Command>) {
        let a = &session.analysis;
        let mut rows: Vec<(u32, u64)> = a
            .histogram
            .rows
            .iter()
            .map(|r| (r.class, a.retained_by_class[r.class as usize]))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.1));
        rows.truncate(10);
        let items: Vec<(String, u64, String)> = rows
            .iter()
            .map(|&(c, bytes)| {
                let name = &a.index.classes().get(c).name;
                (
                    short_name(name),
                    bytes,
                    format!("{name}: {}", format::bytes(bytes)),
                )
            })
            .collect();
        if charts::ranked_chart(ui, "top-classes", &items).clicked() {
            out.push(Command::ShowTab(Tab::Histogram));
        }
    }

    fn size_chart(&self, ui: &mut Ui, session: &Session) {
        charts::size_chart(ui, &session.size_distribution);
        hint_text(
            ui,
            "Bytes held by objects of each shallow size (powers of two).",
        );
    }
}

/// `#2, taken 2026-11-30 05:45:35 UTC (+1.250 s), 12,345 objects`
fn dump_line(session: &Session, part: &crate::heap::DumpPart) -> String {
    let header = session.analysis.index.header();
    format!(
        "#{}, taken {} (+{:.3} s), {} objects",
        part.number,
        timestamp(header.timestamp_ms + u64::from(part.time_us) / 1000),
        f64::from(part.time_us) / 1e6,
        format::thousands(part.objects as u64)
    )
}

/// A file with several heap dumps (the hprof agent appends one per request): which one is
/// shown, and the others one click away. Nothing for a file with one.
fn dumps_box(ui: &mut Ui, session: &Session, out: &mut Vec<Command>) {
    let dumps = session.analysis.index.dumps();
    if dumps.parts.len() < 2 {
        return;
    }
    ui.add_space(8.0);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(
            RichText::new(format!("This file holds {} heap dumps", dumps.parts.len())).strong(),
        );
        let last = dumps.selected + 1 == dumps.parts.len();
        hint_text(
            ui,
            format!(
                "The hprof agent appends one per request; each is a whole heap, never merged. \
                 Shown: #{}{}.",
                dumps.selected + 1,
                if last { " (the last, the default)" } else { "" }
            ),
        );
        egui::Grid::new("heap-dumps")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for (i, part) in dumps.parts.iter().enumerate() {
                    if i == dumps.selected {
                        ui.label(RichText::new(dump_line(session, part)).strong());
                        ui.label(RichText::new("shown").weak());
                    } else {
                        ui.label(dump_line(session, part));
                        if ui
                            .button(format!("Show dump #{}", part.number))
                            .on_hover_text("Reload the file with this heap dump")
                            .clicked()
                        {
                            out.push(Command::OpenDump(part.number));
                        }
                    }
                    ui.end_row();
                }
            });
    });
}

/// File menu: the heap dumps of the file on screen when it holds several.
pub fn dumps_menu(ui: &mut Ui, session: &Session, out: &mut Vec<Command>) {
    let dumps = session.analysis.index.dumps();
    if dumps.parts.len() < 2 {
        return;
    }
    ui.menu_button("Heap dump in this file", |ui| {
        for (i, part) in dumps.parts.iter().enumerate() {
            let shown = i == dumps.selected;
            if ui.radio(shown, dump_line(session, part)).clicked() && !shown {
                out.push(Command::OpenDump(part.number));
                ui.close();
            }
        }
    });
}

/// The answer first: the verdict in a sentence or two, each finding a link to its hint and
/// the paths of its evidence.
fn verdict_box(ui: &mut Ui, session: &Session, out: &mut Vec<Command>) {
    let v = &session.verdict;
    let visuals = ui.visuals().clone();
    let (fill, accent) = if v.leaks.is_empty() {
        (visuals.faint_bg_color, visuals.text_color())
    } else if visuals.dark_mode {
        (
            egui::Color32::from_rgb(70, 30, 30),
            egui::Color32::from_rgb(250, 150, 140),
        )
    } else {
        (
            egui::Color32::from_rgb(253, 232, 230),
            egui::Color32::from_rgb(160, 30, 30),
        )
    };
    egui::Frame::group(ui.style())
        .fill(fill)
        .inner_margin(12.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(&v.headline).size(20.0).strong().color(accent));
            let link_item = |ui: &mut Ui,
                             n: usize,
                             item: &crate::analysis::verdict::VerdictItem,
                             out: &mut Vec<Command>| {
                // The number beside, the link wrapping in its own column.
                ui.horizontal_top(|ui| {
                    ui.label(RichText::new(format!("{n}.")).strong());
                    ui.vertical(|ui| {
                        let link = wrapped_link_in(
                            ui,
                            &item.text,
                            egui::FontId::proportional(15.0),
                            6,
                            "Click: open the hint and draw the path that keeps it alive",
                        );
                        if link.clicked() {
                            out.push(Command::ShowHint(item.hint));
                        }
                    });
                });
            };
            for (n, item) in v.leaks.iter().enumerate() {
                link_item(ui, n + 1, item, out);
            }
            if !v.others.is_empty() {
                ui.add_space(4.0);
                ui.label(RichText::new("Also worth a look:").strong());
                for (n, item) in v.others.iter().enumerate() {
                    link_item(ui, n + 1, item, out);
                }
            }
            if let Some(g) = &v.garbage {
                ui.add_space(4.0);
                ui.label(g);
            }
            if v.leaks.is_empty() {
                hint_text(
                    ui,
                    "If the heap is still bigger than expected, the biggest objects below and in \
                     the dominator tree are where to look.",
                );
            }
        });
}

fn top_dominators_chart(ui: &mut Ui, session: &Session, out: &mut Vec<Command>) {
    let a = &session.analysis;
    let index = &a.index;
    let items: Vec<(String, u64, String)> = a
        .dominators
        .top_level()
        .iter()
        .take(10)
        .map(|&o| {
            let bytes = a.dominators.retained(o);
            let name = short_name(&index.classes().get(index.class_of(o)).name);
            let name = match index.class_for_object(o) {
                Some(c) => format!("class {}", short_name(&index.classes().get(c).name)),
                None => name,
            };
            (
                name,
                bytes,
                format!("{}: {}", index.describe(o), format::bytes(bytes)),
            )
        })
        .collect();
    if charts::ranked_chart(ui, "top-dominators", &items).clicked() {
        out.push(Command::ShowTab(Tab::Dominators));
    }
}

/// `HashMap$Node[]` for `java.util.HashMap$Node[]`.
pub fn short_name(name: &str) -> String {
    let base_end = name.find('[').unwrap_or(name.len());
    match name[..base_end].rfind('.') {
        Some(i) => name[i + 1..].to_string(),
        None => name.to_string(),
    }
}

/// `2024-03-01 12:34:56 UTC`
pub fn timestamp(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// "writing an index file for next time: 40 %", while it is written behind the window.
fn writing_index(snap: &crate::progress::ProgressSnapshot) -> String {
    if snap.total == 0 {
        return "writing an index file for next time…".to_string();
    }
    let percent = (snap.done as f64 / snap.total as f64 * 100.0).min(100.0);
    format!("writing an index file for next time: {percent:.0} %")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_times() {
        assert_eq!(short_name("java.util.HashMap$Node[]"), "HashMap$Node[]");
        assert_eq!(short_name("int[]"), "int[]");
        assert_eq!(timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(timestamp(1_570_329_063_605), "2019-10-06 02:31:03 UTC");
    }
}
