//! The one table widget of the window, for trees (dominators, paths) and flat lists
//! (histogram, threads): lays out only the rows on screen, draws indents and expand
//! triangles, keeps a keyboard cursor (arrows, Page Up/Down, Home/End, ← → to collapse and
//! expand, Enter to open) and scrolls to it, and starts at the top for fresh contents.

use egui::{Align, Key, Layout, Modifiers, Sense, Ui};
use egui_extras::{Column, TableBuilder};

/// Indent per tree level.
const INDENT: f32 = 14.0;
/// Deep chains (linked lists) would push the text out of view: the indent stops growing.
const MAX_INDENT_LEVELS: u32 = 40;
const TRIANGLE_WIDTH: f32 = 16.0;

/// Whether a row opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expander {
    Leaf,
    Open,
    Closed,
}

impl Expander {
    /// A row's expander: none without children, else open or closed.
    pub fn of(has_children: bool, open: bool) -> Expander {
        match (has_children, open) {
            (false, _) => Expander::Leaf,
            (true, true) => Expander::Open,
            (true, false) => Expander::Closed,
        }
    }
}

/// What the table needs to know of a row before drawing it.
#[derive(Debug, Clone, Copy)]
pub struct RowInfo {
    pub depth: u32,
    pub expander: Expander,
    /// Highlighted (the app's selection).
    pub selected: bool,
}

/// What the user did, for the view to apply after the table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeEvent {
    /// Expand or collapse this row.
    Toggle(usize),
    /// The keyboard cursor moved to this row.
    Cursor(usize),
    /// Enter on this row.
    Activate(usize),
}

/// Per-table state that outlives a frame.
pub struct TreeTableState {
    /// The keyboard cursor (a row index).
    pub cursor: Option<usize>,
    scroll_to: Option<(usize, Option<Align>)>,
    scroll_to_top: bool,
    /// Rows that fit in the view at the last frame: one page.
    page: usize,
    /// The width the columns were last laid out for: a window or panel resize lays them
    /// out again, to fit (egui_extras keeps resizable columns' widths otherwise).
    laid_out_for: Option<f32>,
}

impl Default for TreeTableState {
    fn default() -> Self {
        TreeTableState {
            cursor: None,
            scroll_to: None,
            // Fresh contents start at the top, whatever the last dump's table showed.
            scroll_to_top: true,
            page: 10,
            laid_out_for: None,
        }
    }
}

impl TreeTableState {
    /// Scrolls to the top at the next frame (after sorting, or for new contents).
    pub fn scroll_to_top(&mut self) {
        self.scroll_to_top = true;
        self.cursor = None;
    }

    /// Puts the cursor on `row` and scrolls it into the middle of the view.
    pub fn reveal(&mut self, row: usize) {
        self.cursor = Some(row);
        self.scroll_to = Some((row, Some(Align::Center)));
    }

    /// Moves the cursor from the keyboard; not while a text field has the focus or a menu is
    /// open.
    fn keyboard(
        &mut self,
        ui: &Ui,
        rows: usize,
        info: &dyn Fn(usize) -> RowInfo,
    ) -> Vec<TreeEvent> {
        let mut events = Vec::new();
        if rows == 0 || ui.ctx().text_edit_focused() || ui.ctx().any_popup_open() {
            return events;
        }
        let last = rows - 1;
        let cur = self.cursor.map(|c| c.min(last));
        let page = self.page.max(1);
        let mut target = None;
        ui.ctx().input_mut(|i| {
            let mut key = |k: Key| i.consume_key(Modifiers::NONE, k);
            if key(Key::ArrowDown) {
                target = Some(cur.map_or(0, |c| (c + 1).min(last)));
            } else if key(Key::ArrowUp) {
                target = Some(cur.map_or(0, |c| c.saturating_sub(1)));
            } else if key(Key::PageDown) {
                target = Some(cur.map_or(0, |c| (c + page).min(last)));
            } else if key(Key::PageUp) {
                target = Some(cur.map_or(0, |c| c.saturating_sub(page)));
            } else if key(Key::Home) {
                target = Some(0);
            } else if key(Key::End) {
                target = Some(last);
            } else if let Some(c) = cur {
                let row = info(c);
                if key(Key::ArrowRight) {
                    match row.expander {
                        Expander::Closed => events.push(TreeEvent::Toggle(c)),
                        Expander::Open => target = Some((c + 1).min(last)),
                        Expander::Leaf => {}
                    }
                } else if key(Key::ArrowLeft) {
                    if row.expander == Expander::Open {
                        events.push(TreeEvent::Toggle(c));
                    } else if row.depth > 0 {
                        // To the parent: the nearest row above that is one level up.
                        target = (0..c).rev().find(|&r| info(r).depth < row.depth);
                    }
                } else if key(Key::Enter) {
                    events.push(TreeEvent::Activate(c));
                }
            }
        });
        if let Some(t) = target {
            self.cursor = Some(t);
            self.scroll_to = Some((t, None));
            events.push(TreeEvent::Cursor(t));
        }
        events
    }
}

/// Draws a header cell instead of the plain title (a sort button).
pub type HeaderCell<'a> = &'a mut dyn FnMut(&mut Ui, usize);

/// A column: its header, the width it starts at and the least it shrinks to. The first
/// column takes what the others leave.
pub struct ColumnSpec {
    pub header: &'static str,
    /// `None`: the remainder.
    width: Option<f32>,
    min_width: f32,
}

impl ColumnSpec {
    /// The column that takes the width the others leave (at least `min_width`).
    pub fn remainder(header: &'static str, min_width: f32) -> ColumnSpec {
        ColumnSpec {
            header,
            width: None,
            min_width,
        }
    }

    /// A column that starts `width` wide and shrinks to `min_width` in a narrow view.
    pub fn sized(header: &'static str, width: f32, min_width: f32) -> ColumnSpec {
        ColumnSpec {
            header,
            width: Some(width),
            min_width,
        }
    }
}

/// The columns for `available` points: sized ones at their widths while the remainder keeps
/// its least; narrower, they shrink in proportion, never below their least (a view narrower
/// than all the least widths scrolls sideways).
fn fitted_columns(columns: &[ColumnSpec], available: f32, spacing: f32) -> Vec<Column> {
    let wanted: f32 = columns.iter().filter_map(|c| c.width).sum();
    let fixed: f32 = columns
        .iter()
        .filter(|c| c.width.is_none())
        .map(|c| c.min_width)
        .sum::<f32>()
        + spacing * columns.len() as f32;
    let scale = if wanted > 0.0 {
        ((available - fixed) / wanted).clamp(0.0, 1.0)
    } else {
        1.0
    };
    columns
        .iter()
        .map(|c| match c.width {
            None => Column::remainder().at_least(c.min_width).clip(true),
            Some(w) => Column::initial((w * scale).max(c.min_width))
                .at_least(c.min_width)
                .clip(true),
        })
        .collect()
}

/// Draws `rows` rows; `info` describes a row, `name` names it for the triangle's accessible
/// label (asked only for rows on screen that open), `first` draws the first column after the indent
/// and triangle, `cell` the others (column index from 1). `header`, when given, draws header
/// cells instead of the plain titles (sort buttons). Returns what the user did.
#[allow(clippy::too_many_arguments)]
pub fn show(
    ui: &mut Ui,
    state: &mut TreeTableState,
    id: &str,
    columns: &[ColumnSpec],
    rows: usize,
    info: &dyn Fn(usize) -> RowInfo,
    name: &dyn Fn(usize) -> String,
    mut header: Option<HeaderCell<'_>>,
    first: &mut dyn FnMut(&mut Ui, usize, &RowInfo),
    cell: &mut dyn FnMut(&mut Ui, usize, usize),
) -> Vec<TreeEvent> {
    let mut events = state.keyboard(ui, rows, info);
    let row_height = ui.spacing().interact_size.y;
    state.page = ((ui.available_height() / row_height) as usize)
        .saturating_sub(2)
        .max(1);
    let available = ui.available_width() - ui.spacing().scroll.allocated_width();
    let fitted = fitted_columns(columns, available, ui.spacing().item_spacing.x);
    let mut table = TableBuilder::new(ui)
        .id_salt(id)
        .striped(true)
        .resizable(true)
        .auto_shrink([false, false])
        .cell_layout(Layout::left_to_right(Align::Center));
    if state
        .laid_out_for
        .is_some_and(|w| (w - available).abs() > 0.5)
    {
        // Columns the user dragged keep their widths until the view itself is resized.
        table.reset();
    }
    state.laid_out_for = Some(available);
    for c in fitted {
        table = table.column(c);
    }
    if std::mem::take(&mut state.scroll_to_top) {
        table = table.vertical_scroll_offset(0.0);
    }
    if let Some((row, align)) = state.scroll_to.take() {
        table = table.scroll_to_row(row.min(rows.saturating_sub(1)), align);
    }
    let cursor = state.cursor;
    table
        .header(row_height + 2.0, |mut h| {
            for (i, c) in columns.iter().enumerate() {
                h.col(|ui| match header.as_mut() {
                    Some(draw) => draw(ui, i),
                    None => {
                        ui.strong(c.header);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_height, rows, |mut row| {
                let r = row.index();
                let ri = info(r);
                row.set_selected(ri.selected || cursor == Some(r));
                row.col(|ui| {
                    ui.add_space(ri.depth.min(MAX_INDENT_LEVELS) as f32 * INDENT);
                    match ri.expander {
                        Expander::Leaf => {
                            if ri.depth > 0 || columns.len() > 1 {
                                ui.add_space(triangle_width(ui));
                            }
                        }
                        e => {
                            if triangle(ui, e == Expander::Open, &name(r)) {
                                events.push(TreeEvent::Toggle(r));
                            }
                        }
                    }
                    first(ui, r, &ri);
                });
                for col in 1..columns.len() {
                    row.col(|ui| cell(ui, r, col));
                }
            });
        });
    events
}

/// Width of the triangle and its spacing: what a leaf row leaves blank.
pub fn triangle_width(ui: &Ui) -> f32 {
    TRIANGLE_WIDTH + ui.spacing().item_spacing.x
}

/// An expand/collapse triangle; true when clicked. Its accessible name says what it opens.
pub fn triangle(ui: &mut Ui, open: bool, what: &str) -> bool {
    let verb = if open { "Collapse" } else { "Expand" };
    let height = ui.spacing().interact_size.y;
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(TRIANGLE_WIDTH, height), Sense::click());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, format!("{verb} {what}"))
    });
    let color = ui.style().interact(&response).text_color();
    let c = rect.center();
    let r = 4.0;
    let points = if open {
        vec![
            c + egui::vec2(-r, -r * 0.55),
            c + egui::vec2(r, -r * 0.55),
            c + egui::vec2(0.0, r * 0.65),
        ]
    } else {
        vec![
            c + egui::vec2(-r * 0.55, -r),
            c + egui::vec2(-r * 0.55, r),
            c + egui::vec2(r * 0.65, 0.0),
        ]
    };
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        color,
        egui::Stroke::NONE,
    ));
    response.on_hover_text(verb).clicked()
}
