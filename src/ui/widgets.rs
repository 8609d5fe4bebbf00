//! Small widgets shared by the views.

use egui::text::LayoutJob;
use egui::{Color32, FontId, Response, RichText, Sense, TextFormat, Ui, Vec2};

use super::Command;
use crate::format;
use crate::heap::{HeapIndex, ObjectId};

/// A horizontal bar filled to `fraction`, with `text` on it: sizes as inline bars.
pub fn size_bar(ui: &mut Ui, fraction: f64, text: &str, width: f32) -> Response {
    let height = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let visuals = ui.visuals();
    let bg = visuals.extreme_bg_color;
    let fill = if visuals.dark_mode {
        Color32::from_rgb(52, 101, 164)
    } else {
        Color32::from_rgb(150, 190, 235)
    };
    ui.painter().rect_filled(rect, 2.0, bg);
    let mut filled = rect;
    filled.set_width(rect.width() * fraction.clamp(0.0, 1.0) as f32);
    ui.painter().rect_filled(filled, 2.0, fill);
    ui.painter().text(
        rect.right_center() - Vec2::new(4.0, 0.0),
        egui::Align2::RIGHT_CENTER,
        text,
        egui::TextStyle::Body.resolve(ui.style()),
        visuals.text_color(),
    );
    response
}

/// The object's class and address as a link that selects it.
pub fn object_link(
    ui: &mut Ui,
    index: &HeapIndex,
    o: ObjectId,
    out: &mut Vec<Command>,
) -> Response {
    let response = ui
        .link(index.describe(o))
        .on_hover_text("Select: show fields in the inspector");
    if response.clicked() {
        out.push(Command::Select(o));
    }
    response.context_menu(|ui| object_menu(ui, index, o, out));
    response
}

/// Actions on an object: paths, dominator tree, copy.
pub fn object_menu(ui: &mut Ui, index: &HeapIndex, o: ObjectId, out: &mut Vec<Command>) {
    if ui.button("Paths to GC roots").clicked() {
        out.push(Command::ShowPaths(super::PathTarget::Object(o)));
        ui.close();
    }
    if ui.button("Show in dominator tree").clicked() {
        out.push(Command::RevealInDominatorTree(o));
        ui.close();
    }
    if ui.button("Copy id").clicked() {
        out.push(Command::Copy(format!("0x{:x}", index.address(o))));
        ui.close();
    }
}

/// `1.2 MB` with the exact byte count on hover.
pub fn bytes_label(ui: &mut Ui, n: u64) -> Response {
    ui.label(format::bytes(n))
        .on_hover_text(format!("{} bytes", format::thousands(n)))
}

/// A muted explanatory line.
pub fn hint_text(ui: &mut Ui, text: impl Into<String>) -> Response {
    ui.label(RichText::new(text.into()).weak())
}

/// `text` as a label whose arrows (`←→▲▼`, which the default proportional font lacks) are set
/// in the monospace font. Uncoloured: the label's own colour applies.
pub fn with_arrows(style: &egui::Style, text: &str) -> LayoutJob {
    let body = egui::TextStyle::Body.resolve(style);
    let mono = FontId::monospace(body.size);
    let color = Color32::PLACEHOLDER;
    let mut job = LayoutJob::default();
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        if matches!(ch, '←' | '→' | '▲' | '▼') {
            if start < i {
                append(&mut job, &text[start..i], body.clone(), color);
            }
            let end = i + ch.len_utf8();
            append(&mut job, &text[i..end], mono.clone(), color);
            start = end;
        }
    }
    if start < text.len() {
        append(&mut job, &text[start..], body, color);
    }
    job
}

/// Appends `text` in `font` and `color` to `job`.
pub fn append(job: &mut LayoutJob, text: &str, font: FontId, color: Color32) {
    job.append(
        text,
        0.0,
        TextFormat {
            font_id: font,
            color,
            ..Default::default()
        },
    );
}

/// A link that wraps onto at most `max_rows` lines of the width available and elides the
/// rest, with the whole text on hover. Laid out on its own, never inside `horizontal_wrapped`
/// (egui starts a wrapped label there at the row's left edge, which widens its panel).
pub fn wrapped_link(ui: &mut Ui, text: &str, max_rows: usize, hover: &str) -> Response {
    let font = egui::TextStyle::Body.resolve(ui.style());
    wrapped_link_in(ui, text, font, max_rows, hover)
}

/// [`wrapped_link`] in another font.
pub fn wrapped_link_in(
    ui: &mut Ui,
    text: &str,
    font: FontId,
    max_rows: usize,
    hover: &str,
) -> Response {
    let colour = ui.visuals().hyperlink_color;
    let mut job = LayoutJob::simple(text.to_owned(), font, colour, ui.available_width());
    job.wrap.max_rows = max_rows;
    job.wrap.overflow_character = Some('…');
    let response = ui
        .add(
            egui::Label::new(job)
                .sense(Sense::click())
                .show_tooltip_when_elided(false),
        )
        .on_hover_cursor(egui::CursorIcon::PointingHand);
    if response.hovered() {
        ui.painter().hline(
            response.rect.x_range(),
            response.rect.bottom(),
            egui::Stroke::new(1.0, colour),
        );
    }
    response.on_hover_text(format!("{text}\n\n{hover}"))
}

/// Draws `add` in the width `ui` has, clipped to it: a side panel's contents never widen the
/// panel. (A right panel widened by its contents would report its edge further right than it
/// draws, and the middle would paint over it.)
pub fn confined<R>(ui: &mut Ui, add: impl FnOnce(&mut Ui) -> R) -> R {
    let rect = ui.available_rect_before_wrap();
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
    child.shrink_clip_rect(rect);
    let r = add(&mut child);
    ui.advance_cursor_after_rect(rect);
    r
}
