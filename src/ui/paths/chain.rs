//! The chosen path drawn as boxes from the GC root (top) down to the object, each edge
//! labelled with the field; only the boxes on screen are drawn.

use egui::{Align2, FontId, Rect, Sense, Stroke, Ui, Vec2};

use super::object::ObjectPathsView;
use super::PathsView;
use crate::analysis::label::root_kinds_text;
use crate::format;
use crate::heap::ObjectId;
use crate::ui::widgets::{self, with_arrows};
use crate::ui::{Command, PathTarget, Place, Session};

impl PathsView {
    pub(super) fn chain_ui(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        view: &mut ObjectPathsView,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;
        let n = view.tree.paths.len();
        if n == 0 {
            return;
        }
        view.chain = view.chain.min(n - 1);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    view.chain > 0,
                    egui::Button::new(with_arrows(ui.style(), "← Previous path")),
                )
                .clicked()
            {
                view.chain -= 1;
                view.chain_scroll_reset = true;
            }
            ui.label(format!("Path {} of {n}", view.chain + 1));
            if ui
                .add_enabled(
                    view.chain + 1 < n,
                    egui::Button::new(with_arrows(ui.style(), "Next path →")),
                )
                .clicked()
            {
                view.chain += 1;
                view.chain_scroll_reset = true;
            }
        });
        let path = view.tree.paths[view.chain].objects.clone();
        widgets::hint_text(
            ui,
            format!(
                "{} reference{} from the GC root; click a box to follow its own paths.",
                path.len() - 1,
                if path.len() == 2 { "" } else { "s" }
            ),
        );
        ui.separator();

        // Draw in reference order: root first.
        let order: Vec<ObjectId> = path.iter().rev().copied().collect();
        let box_h = 46.0;
        let edge_h = 34.0;
        let slot = box_h + edge_h;
        let total_h = order.len() as f32 * slot - edge_h + 8.0;
        let mut scroll = egui::ScrollArea::vertical()
            .id_salt("heapsight.paths.chain")
            .auto_shrink([false, false]);
        if std::mem::take(&mut view.chain_scroll_reset) {
            scroll = scroll.vertical_scroll_offset(0.0);
        }
        scroll.show_viewport(ui, |ui, viewport| {
            let width = ui.available_width().max(160.0);
            let (full, _) = ui.allocate_exact_size(Vec2::new(width, total_h), Sense::hover());
            let first = ((viewport.min.y / slot).floor().max(0.0)) as usize;
            let last = (((viewport.max.y / slot).ceil()) as usize + 1).min(order.len());
            let visuals = ui.visuals().clone();
            for i in first..last {
                let o = order[i];
                let top = full.min.y + i as f32 * slot;
                let rect = Rect::from_min_size(
                    egui::pos2(full.min.x + 4.0, top),
                    Vec2::new(width - 12.0, box_h),
                );
                let is_root = i == 0;
                let is_target = i + 1 == order.len();
                let label = session.label(o);
                let name = label.full();
                let response = ui
                    .interact(
                        rect,
                        ui.make_persistent_id(("heapsight.paths.chain-node", i, o)),
                        Sense::click(),
                    )
                    .on_hover_text(format!(
                        "{name}\nClick: select it and show its own paths to GC roots"
                    ));
                response.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Path node {name}"))
                });
                if response.clicked() {
                    out.push(Command::Select(o));
                    if !is_target {
                        out.push(Command::ShowPaths(PathTarget::Object(o)));
                    }
                }
                response.context_menu(|ui| widgets::object_menu(ui, &a.index, o, out));

                let painter = ui.painter();
                let w = if response.hovered() {
                    &visuals.widgets.hovered
                } else {
                    &visuals.widgets.inactive
                };
                let stroke = if place.selected == Some(o) || is_target {
                    Stroke::new(2.0, visuals.selection.stroke.color)
                } else if is_root {
                    Stroke::new(1.5, visuals.hyperlink_color)
                } else {
                    visuals.widgets.noninteractive.bg_stroke
                };
                painter.rect(rect, 6.0, w.weak_bg_fill, stroke, egui::StrokeKind::Inside);
                let title = match &label.name {
                    Some(n) => format!("{}  {n}", label.short_type_name()),
                    None => label.short_type_name(),
                };
                let clip = rect.shrink(6.0);
                let painter = painter.with_clip_rect(clip);
                painter.text(
                    rect.left_top() + Vec2::new(8.0, 6.0),
                    Align2::LEFT_TOP,
                    title,
                    FontId::proportional(13.5),
                    visuals.strong_text_color(),
                );
                let sub = if is_root {
                    format!("GC root: {}", root_kinds_text(a.roots.kinds(o)))
                } else {
                    format!(
                        "{} shallow · {} retained",
                        format::bytes(a.index.shallow_size(o)),
                        format::bytes(a.dominators.retained(o))
                    )
                };
                painter.text(
                    rect.left_bottom() + Vec2::new(8.0, -6.0),
                    Align2::LEFT_BOTTOM,
                    sub,
                    FontId::proportional(11.5),
                    if is_root {
                        visuals.hyperlink_color
                    } else {
                        visuals.weak_text_color()
                    },
                );

                // The edge to the next box, labelled with the field.
                if i + 1 < order.len() {
                    let x = rect.left() + 22.0;
                    let y0 = rect.bottom();
                    let y1 = y0 + edge_h;
                    let color = visuals.weak_text_color();
                    let painter = ui.painter();
                    painter.line_segment(
                        [egui::pos2(x, y0), egui::pos2(x, y1 - 1.0)],
                        Stroke::new(1.5, color),
                    );
                    painter.add(egui::Shape::convex_polygon(
                        vec![
                            egui::pos2(x - 5.0, y1 - 7.0),
                            egui::pos2(x + 5.0, y1 - 7.0),
                            egui::pos2(x, y1 - 1.0),
                        ],
                        color,
                        Stroke::NONE,
                    ));
                    let field = self.label(a, o, order[i + 1]);
                    painter
                        .with_clip_rect(Rect::from_min_max(
                            egui::pos2(x, y0),
                            egui::pos2(full.right(), y1),
                        ))
                        .text(
                            egui::pos2(x + 10.0, (y0 + y1) / 2.0),
                            Align2::LEFT_CENTER,
                            field,
                            FontId::monospace(12.0),
                            visuals.text_color(),
                        );
                }
            }
        });
    }
}
