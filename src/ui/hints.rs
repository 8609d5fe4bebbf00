//! Right side panel: leak hints and JVM advice, each with its evidence one click from its
//! paths to GC roots.

use egui::{Color32, RichText, Ui};

use super::widgets::{hint_text, wrapped_link};
use super::{Command, PathTarget, Session};
use crate::analysis::hints::{Category, Hint, Severity};
use crate::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Hints,
    Advice,
}

pub struct HintsPanel {
    section: Section,
    /// A hint to open and scroll to at the next frame.
    focus: Option<usize>,
    /// The hint last focused: drawn highlighted.
    focused: Option<usize>,
    /// Scroll offset that brings the focused hint to the top, applied at the next frame.
    scroll_to: Option<f32>,
}

impl Default for HintsPanel {
    fn default() -> Self {
        HintsPanel {
            section: Section::Hints,
            focus: None,
            focused: None,
            scroll_to: None,
        }
    }
}

fn severity_colour(ui: &Ui, s: Severity) -> Color32 {
    let dark = ui.visuals().dark_mode;
    match (s, dark) {
        (Severity::High, true) => Color32::from_rgb(240, 110, 100),
        (Severity::High, false) => Color32::from_rgb(180, 30, 30),
        (Severity::Medium, true) => Color32::from_rgb(235, 180, 80),
        (Severity::Medium, false) => Color32::from_rgb(160, 100, 0),
        (Severity::Low, _) | (Severity::Info, _) => ui.visuals().weak_text_color(),
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

impl HintsPanel {
    /// Opens hint `i` and scrolls to it.
    pub fn focus(&mut self, i: usize) {
        self.section = Section::Hints;
        self.focus = Some(i);
        self.focused = Some(i);
    }

    pub fn ui(&mut self, ui: &mut Ui, session: &Session, out: &mut Vec<Command>) {
        let leaks = session.hints.iter().filter(|h| h.is_leak()).count();
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.section,
                Section::Hints,
                format!("Leak hints ({})", session.hints.len()),
            );
            ui.selectable_value(
                &mut self.section,
                Section::Advice,
                format!("JVM advice ({})", session.advice.flags.len()),
            );
        });
        ui.separator();
        // A scroll bar that comes and goes would change the width the cards were sized for.
        let mut scroll = egui::ScrollArea::vertical()
            .id_salt("hints-scroll")
            .auto_shrink([false, false])
            .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysVisible);
        if let Some(y) = self.scroll_to.take() {
            scroll = scroll.vertical_scroll_offset(y);
        }
        let mut scroll_to = None;
        scroll.show(ui, |ui| match self.section {
                Section::Hints => {
                    if leaks == 0 {
                        ui.label(RichText::new("No leak pattern found.").strong());
                        hint_text(
                            ui,
                            "No rule saw memory kept that should not be. Check the biggest objects in the dominator tree if the heap is still larger than expected.",
                        );
                        ui.add_space(8.0);
                    }
                    let focus = self.focus.take();
                    for (i, h) in session.hints.iter().enumerate() {
                        let response = hint_card(ui, i, h, self.focused == Some(i), focus == Some(i), out);
                        if focus == Some(i) {
                            // Vertically only: a horizontal target shifts the panel sideways.
                            let top = response.rect.top() - ui.min_rect().top();
                            scroll_to = Some(top);
                        }
                    }
                }
                Section::Advice => advice_ui(ui, session),
            });
        if scroll_to.is_some() {
            self.scroll_to = scroll_to;
            ui.ctx().request_repaint();
        }
    }
}

fn hint_card(
    ui: &mut Ui,
    i: usize,
    h: &Hint,
    highlighted: bool,
    open: bool,
    out: &mut Vec<Command>,
) -> egui::Response {
    let mut frame = egui::Frame::group(ui.style());
    if highlighted {
        // Same stroke width as the other cards: the highlight must not change the layout.
        frame = frame
            .stroke(egui::Stroke::new(1.0, ui.visuals().selection.stroke.color))
            .fill(ui.visuals().selection.bg_fill.gamma_multiply(0.25));
    }
    let response = frame.show(ui, |ui| {
        ui.set_width(ui.available_width());
        // Badge and kind on one line, the summary under them: a long label that wraps inside
        // `horizontal_wrapped` would start left of the card and widen the panel.
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(severity_label(h.severity))
                    .color(severity_colour(ui, h.severity))
                    .strong()
                    .small(),
            );
            let kind = match h.category {
                Category::Leak => "leak",
                Category::Garbage if h.partial_reachability => "unreachable (partial dump)",
                Category::Garbage => "garbage, not a leak",
                Category::OffHeap => "off-heap",
                Category::Threads => "threads",
                Category::Waste => "waste",
            };
            ui.add(egui::Label::new(RichText::new(kind).small().weak()).truncate());
        });
        if h.retained_bytes > 0 {
            ui.label(RichText::new(&h.summary).weak());
        }
        ui.label(RichText::new(&h.title).strong());
        egui::CollapsingHeader::new("Details")
            .id_salt(("hint", i))
            .default_open(i < 3)
            .open(open.then_some(true))
            .show(ui, |ui| {
                ui.label(&h.explanation);
                ui.add_space(4.0);
                ui.label(RichText::new("Fix").strong());
                ui.label(&h.fix);
                if !h.facts.is_empty() {
                    ui.add_space(4.0);
                    // One wrapped line each: a grid of long names would widen the panel.
                    for f in &h.facts {
                        let mut job = egui::text::LayoutJob::default();
                        let font = egui::TextStyle::Body.resolve(ui.style());
                        let weak = ui.visuals().weak_text_color();
                        let strong = ui.visuals().text_color();
                        job.append(&f.label, 0.0, egui::TextFormat::simple(font.clone(), weak));
                        job.append(&f.value, 8.0, egui::TextFormat::simple(font, strong));
                        ui.add(egui::Label::new(job).wrap());
                    }
                }
                if !h.evidence.is_empty() {
                    ui.add_space(4.0);
                    ui.label(RichText::new("Evidence").strong());
                    for e in h.evidence.iter().take(12) {
                        // Role and size above, the link under them on at most two lines of
                        // the panel's width (the whole label on hover).
                        let role = if e.retained_bytes > 0 {
                            format!("{} · {} retained", e.role, format::bytes(e.retained_bytes))
                        } else {
                            e.role.clone()
                        };
                        ui.add_space(2.0);
                        ui.add(egui::Label::new(RichText::new(role).weak()).truncate());
                        let link =
                            wrapped_link(ui, &e.label, 2, "Click: show its paths to GC roots");
                        if link.clicked() {
                            out.push(Command::ShowPaths(PathTarget::Object(e.object)));
                        }
                    }
                    if h.evidence.len() > 12 {
                        hint_text(ui, format!("… and {} more", h.evidence.len() - 12));
                    }
                }
            });
    });
    ui.add_space(6.0);
    response.response
}

fn advice_ui(ui: &mut Ui, session: &Session) {
    let advice = &session.advice;
    let jvm = &advice.jvm;
    // Names are short; values (a command line) wrap in what the names leave.
    let values_width = (ui.available_width() - 90.0).max(80.0);
    egui::Grid::new("jvm-facts")
        .num_columns(2)
        .spacing([10.0, 4.0])
        .max_col_width(values_width)
        .show(ui, |ui| {
            let mut row = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    ui.label(RichText::new(k).weak());
                    ui.add(egui::Label::new(v).wrap());
                    ui.end_row();
                }
            };
            row("Java", jvm.java_version.clone());
            row("Vendor", jvm.vendor.clone());
            row("VM", jvm.vm_name.clone());
            row("Collector", jvm.collector.clone());
            row("Command", jvm.command.clone());
            row("Live set", Some(format::bytes(advice.live_set_bytes)));
            row("Garbage", Some(format::bytes(advice.garbage_bytes)));
            row("Threads", Some(format::thousands(jvm.threads)));
        });
    if !jvm.vm_args.is_empty() {
        egui::CollapsingHeader::new(format!("JVM arguments ({})", jvm.vm_args.len()))
            .id_salt("vm-args")
            .show(ui, |ui| {
                for a in &jvm.vm_args {
                    ui.monospace(a);
                }
            });
    }
    ui.add_space(8.0);
    for (i, f) in advice.flags.iter().enumerate() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.monospace(RichText::new(&f.setting).strong());
            if let Some(c) = &f.current {
                hint_text(ui, format!("now: {c}"));
            }
            ui.label(&f.why);
            if !f.evidence.is_empty() {
                egui::CollapsingHeader::new("From this dump")
                    .id_salt(("advice-evidence", i))
                    .show(ui, |ui| {
                        for e in &f.evidence {
                            ui.label(format!("• {e}"));
                        }
                    });
            }
        });
        ui.add_space(6.0);
    }
    if !advice.cannot_tell.is_empty() {
        ui.add_space(4.0);
        ui.label(RichText::new("What the dump cannot tell").strong());
        for c in &advice.cannot_tell {
            hint_text(ui, format!("• {c}"));
        }
    }
}
