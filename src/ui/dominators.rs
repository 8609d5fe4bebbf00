//! The dominator tree: which objects keep which alive, biggest first.
//!
//! The tree is expanded lazily and flattened into `rows` (one entry per visible line), rebuilt
//! only when something is expanded, collapsed or paged; the table lays out only the rows that
//! are on screen, so a node with 100 000 children scrolls like one with ten.

use std::sync::Arc;

use egui::text::LayoutJob;
use egui::{Align, Color32, FontId, Key, Layout, RichText, Sense, TextFormat, Ui};
use egui_extras::{Column, TableBuilder};
use rustc_hash::{FxHashMap, FxHashSet};

use super::{widgets, Command, Place, Session};
use crate::analysis::dominators::SUPER_ROOT;
use crate::analysis::Analysis;
use crate::format;
use crate::heap::{ClassIndex, ObjectId};

/// Children shown when a node is first expanded.
const FIRST_PAGE: usize = 200;
/// Children added by one click on "show next".
const NEXT_PAGE: usize = 1000;
/// Labels kept for on-screen rows; the cache is dropped when it grows past this.
const LABEL_CACHE_MAX: usize = 20_000;

/// One list of children, the unit that expands and pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ListKey {
    /// Dominator-tree children of an object, or of the super-root (`SUPER_ROOT`: the top level).
    Children(ObjectId),
    /// The children of an object that are instances of one class (grouped mode).
    Group(ObjectId, ClassIndex),
    /// The classes of unreachable objects.
    UnreachableClasses,
    /// The unreachable instances of one class.
    Unreachable(ClassIndex),
}

#[derive(Debug, Clone, Copy)]
enum RowKind {
    Object(ObjectId),
    Group {
        parent: ObjectId,
        class: ClassIndex,
        count: u64,
        shallow: u64,
        retained: u64,
    },
    More {
        list: ListKey,
        shown: usize,
        total: usize,
    },
    UnreachableSection,
    UnreachableClass {
        class: ClassIndex,
        count: u64,
        bytes: u64,
    },
    UnreachableObject(ObjectId),
}

#[derive(Debug, Clone, Copy)]
struct Row {
    kind: RowKind,
    depth: u32,
}

/// The children of one node that share a class.
struct Group {
    class: ClassIndex,
    count: u64,
    shallow: u64,
    retained: u64,
    /// Largest retained size first.
    members: Vec<ObjectId>,
}

/// Unreachable objects per class, from `unreachable_by_class`; the instances themselves are
/// found by one scan over all objects, the first time a class is opened.
struct Unreachable {
    /// (class, count, shallow bytes), most bytes first.
    classes: Vec<(ClassIndex, u64, u64)>,
    count: u64,
    bytes: u64,
    /// Instances of class `c` are `objects[starts[c]..ends[c]]`, largest first.
    instances: Option<(Vec<usize>, Vec<usize>, Vec<ObjectId>)>,
}

impl Unreachable {
    fn new(a: &Analysis) -> Unreachable {
        let mut classes: Vec<(ClassIndex, u64, u64)> = a
            .unreachable_by_class
            .iter()
            .enumerate()
            .filter(|(_, &(n, _))| n > 0)
            .map(|(c, &(n, b))| (c as ClassIndex, n, b))
            .collect();
        classes.sort_by(|x, y| y.2.cmp(&x.2).then(y.1.cmp(&x.1)).then(x.0.cmp(&y.0)));
        Unreachable {
            count: classes.iter().map(|c| c.1).sum(),
            bytes: classes.iter().map(|c| c.2).sum(),
            classes,
            instances: None,
        }
    }

    /// Scans once for the unreachable objects and buckets them by class.
    fn instances_of(&mut self, a: &Analysis, c: ClassIndex) -> &[ObjectId] {
        let (starts, ends, objects) = self.instances.get_or_insert_with(|| {
            let index = &a.index;
            let n = a.unreachable_by_class.len();
            let mut starts = vec![0usize; n + 1];
            for (c, &(count, _)) in a.unreachable_by_class.iter().enumerate() {
                starts[c + 1] = starts[c] + count as usize;
            }
            let mut ends = starts[..n].to_vec();
            let mut objects = vec![0 as ObjectId; starts[n]];
            for o in 0..index.object_count() as ObjectId {
                if !a.dominators.is_reachable(o) {
                    let c = index.class_of(o) as usize;
                    // The counts come from the same predicate; guard anyway.
                    if c < n && ends[c] < starts[c + 1] {
                        objects[ends[c]] = o;
                        ends[c] += 1;
                    }
                }
            }
            for c in 0..n {
                objects[starts[c]..ends[c]]
                    .sort_by_key(|&o| std::cmp::Reverse(index.shallow_size(o)));
            }
            starts.truncate(n);
            (starts, ends, objects)
        });
        match (starts.get(c as usize), ends.get(c as usize)) {
            (Some(&s), Some(&e)) => &objects[s..e],
            _ => &[],
        }
    }
}

/// What a click in the table asks for; applied after the table is drawn.
enum Action {
    Toggle(ListKey),
    More(ListKey, usize),
}

pub struct DominatorView {
    session_key: usize,
    group_by_class: bool,
    show_unreachable: bool,
    expanded: FxHashSet<ListKey>,
    /// How many entries of a list are shown, when not the first page.
    limits: FxHashMap<ListKey, usize>,
    groups: FxHashMap<ObjectId, Arc<Vec<Group>>>,
    unreachable: Option<Unreachable>,
    rows: Vec<Row>,
    dirty: bool,
    labels: FxHashMap<ObjectId, Arc<LayoutJob>>,
    /// Theme the cached labels were coloured for.
    labels_dark: bool,
    search: String,
    search_message: Option<String>,
    /// Object to scroll to once the rows are rebuilt.
    pending_reveal: Option<ObjectId>,
    scroll_to: Option<usize>,
    /// Last object revealed: highlighted as well as the selection.
    revealed: Option<ObjectId>,
}

impl Default for DominatorView {
    fn default() -> Self {
        DominatorView {
            session_key: 0,
            group_by_class: false,
            show_unreachable: false,
            expanded: FxHashSet::default(),
            limits: FxHashMap::default(),
            groups: FxHashMap::default(),
            unreachable: None,
            rows: Vec::new(),
            dirty: true,
            labels: FxHashMap::default(),
            labels_dark: true,
            search: String::new(),
            search_message: None,
            pending_reveal: None,
            scroll_to: None,
            revealed: None,
        }
    }
}

fn session_key(session: &Session) -> usize {
    Arc::as_ptr(&session.analysis) as usize
}

/// Parses `0x7f3a12c0`, `7f3a12c0` or `#7f3a12c0` as a hexadecimal object id.
pub fn parse_object_id(text: &str) -> Option<u64> {
    let t = text.trim().trim_start_matches('#');
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let t: String = t.chars().filter(|c| *c != '_' && *c != '\'').collect();
    if t.is_empty() {
        return None;
    }
    u64::from_str_radix(&t, 16).ok()
}

fn children(a: &Analysis, parent: ObjectId) -> &[ObjectId] {
    if parent == SUPER_ROOT {
        a.dominators.top_level()
    } else {
        a.dominators.children(parent)
    }
}

/// A list length rounded up to whole pages, at least `needed`.
fn paged_limit(needed: usize) -> usize {
    if needed <= FIRST_PAGE {
        FIRST_PAGE
    } else {
        FIRST_PAGE + (needed - FIRST_PAGE).div_ceil(NEXT_PAGE) * NEXT_PAGE
    }
}

/// One open list while the rows are flattened.
enum Frame {
    Objects {
        list: ListKey,
        source: Source,
        pos: usize,
        depth: u32,
    },
    Groups {
        parent: ObjectId,
        groups: Arc<Vec<Group>>,
        pos: usize,
        depth: u32,
    },
}

/// Where a list of objects comes from.
enum Source {
    Tree(ObjectId),
    Group(Arc<Vec<Group>>, usize),
}

impl DominatorView {
    fn sync(&mut self, session: &Session) {
        let key = session_key(session);
        if key != self.session_key {
            let (group, unreachable) = (self.group_by_class, self.show_unreachable);
            *self = DominatorView::default();
            self.group_by_class = group;
            self.show_unreachable = unreachable;
            self.session_key = key;
        }
    }

    fn limit(&self, list: ListKey) -> usize {
        self.limits.get(&list).copied().unwrap_or(FIRST_PAGE)
    }

    /// Makes entry `pos` of `list` visible.
    fn ensure_shown(&mut self, list: ListKey, pos: usize) {
        if pos >= self.limit(list) {
            self.limits.insert(list, paged_limit(pos + 1));
        }
    }

    fn groups_of(&mut self, a: &Analysis, parent: ObjectId) -> Arc<Vec<Group>> {
        self.groups
            .entry(parent)
            .or_insert_with(|| {
                let mut by_class: FxHashMap<ClassIndex, usize> = FxHashMap::default();
                let mut groups: Vec<Group> = Vec::new();
                for &o in children(a, parent) {
                    let c = a.index.class_of(o);
                    let i = *by_class.entry(c).or_insert_with(|| {
                        groups.push(Group {
                            class: c,
                            count: 0,
                            shallow: 0,
                            retained: 0,
                            members: Vec::new(),
                        });
                        groups.len() - 1
                    });
                    let g = &mut groups[i];
                    g.count += 1;
                    g.shallow += a.index.shallow_size(o);
                    g.retained += a.dominators.retained(o);
                    g.members.push(o);
                }
                groups.sort_by(|x, y| y.retained.cmp(&x.retained).then(y.count.cmp(&x.count)));
                Arc::new(groups)
            })
            .clone()
    }

    /// Flattens the expanded part of the tree into `rows`, without recursion (a dominator
    /// chain can be a million objects deep).
    fn rebuild(&mut self, a: &Analysis) {
        self.dirty = false;
        let mut rows = Vec::new();
        if self.show_unreachable {
            if self.unreachable.is_none() {
                self.unreachable = Some(Unreachable::new(a));
            }
            rows.push(Row {
                kind: RowKind::UnreachableSection,
                depth: 0,
            });
            if self.expanded.contains(&ListKey::UnreachableClasses) {
                let classes = self
                    .unreachable
                    .as_ref()
                    .map(|u| u.classes.clone())
                    .unwrap_or_default();
                let limit = self.limit(ListKey::UnreachableClasses);
                for &(class, count, bytes) in classes.iter().take(limit) {
                    rows.push(Row {
                        kind: RowKind::UnreachableClass {
                            class,
                            count,
                            bytes,
                        },
                        depth: 1,
                    });
                    let list = ListKey::Unreachable(class);
                    if self.expanded.contains(&list) {
                        let limit = self.limit(list);
                        let un = self.unreachable.as_mut().expect("set above");
                        let objs = un.instances_of(a, class);
                        for &o in objs.iter().take(limit) {
                            rows.push(Row {
                                kind: RowKind::UnreachableObject(o),
                                depth: 2,
                            });
                        }
                        if objs.len() > limit {
                            rows.push(Row {
                                kind: RowKind::More {
                                    list,
                                    shown: limit,
                                    total: objs.len(),
                                },
                                depth: 2,
                            });
                        }
                    }
                }
                if classes.len() > limit {
                    rows.push(Row {
                        kind: RowKind::More {
                            list: ListKey::UnreachableClasses,
                            shown: limit,
                            total: classes.len(),
                        },
                        depth: 1,
                    });
                }
            }
        }

        let mut stack: Vec<Frame> = vec![self.open_children(a, SUPER_ROOT, 0)];
        while let Some(frame) = stack.last_mut() {
            match frame {
                Frame::Objects {
                    list,
                    source,
                    pos,
                    depth,
                } => {
                    let objs: &[ObjectId] = match source {
                        Source::Tree(p) => children(a, *p),
                        Source::Group(g, i) => &g[*i].members,
                    };
                    let limit = self.limits.get(list).copied().unwrap_or(FIRST_PAGE);
                    let end = objs.len().min(limit);
                    if *pos >= end {
                        if objs.len() > limit {
                            rows.push(Row {
                                kind: RowKind::More {
                                    list: *list,
                                    shown: limit,
                                    total: objs.len(),
                                },
                                depth: *depth,
                            });
                        }
                        stack.pop();
                        continue;
                    }
                    let o = objs[*pos];
                    let d = *depth;
                    *pos += 1;
                    rows.push(Row {
                        kind: RowKind::Object(o),
                        depth: d,
                    });
                    if self.expanded.contains(&ListKey::Children(o))
                        && !a.dominators.children(o).is_empty()
                    {
                        let f = self.open_children(a, o, d + 1);
                        stack.push(f);
                    }
                }
                Frame::Groups {
                    parent,
                    groups,
                    pos,
                    depth,
                } => {
                    let list = ListKey::Children(*parent);
                    let limit = self.limits.get(&list).copied().unwrap_or(FIRST_PAGE);
                    let end = groups.len().min(limit);
                    if *pos >= end {
                        if groups.len() > limit {
                            rows.push(Row {
                                kind: RowKind::More {
                                    list,
                                    shown: limit,
                                    total: groups.len(),
                                },
                                depth: *depth,
                            });
                        }
                        stack.pop();
                        continue;
                    }
                    let i = *pos;
                    *pos += 1;
                    let g = &groups[i];
                    let (p, d) = (*parent, *depth);
                    rows.push(Row {
                        kind: RowKind::Group {
                            parent: p,
                            class: g.class,
                            count: g.count,
                            shallow: g.shallow,
                            retained: g.retained,
                        },
                        depth: d,
                    });
                    let glist = ListKey::Group(p, g.class);
                    if self.expanded.contains(&glist) {
                        let source = Source::Group(groups.clone(), i);
                        stack.push(Frame::Objects {
                            list: glist,
                            source,
                            pos: 0,
                            depth: d + 1,
                        });
                    }
                }
            }
        }
        self.rows = rows;
        if let Some(o) = self.pending_reveal.take() {
            self.scroll_to = self.rows.iter().position(|r| match r.kind {
                RowKind::Object(x) | RowKind::UnreachableObject(x) => x == o,
                _ => false,
            });
        }
    }

    fn open_children(&mut self, a: &Analysis, parent: ObjectId, depth: u32) -> Frame {
        if self.group_by_class {
            Frame::Groups {
                parent,
                groups: self.groups_of(a, parent),
                pos: 0,
                depth,
            }
        } else {
            Frame::Objects {
                list: ListKey::Children(parent),
                source: Source::Tree(parent),
                pos: 0,
                depth,
            }
        }
    }

    /// Expands the tree down to `o` and scrolls to it (or, for garbage, opens the unreachable
    /// objects of its class).
    pub fn reveal(&mut self, session: &Session, o: ObjectId) {
        self.sync(session);
        let a = &*session.analysis;
        if o as usize >= a.index.object_count() {
            return;
        }
        if a.dominators.is_reachable(o) {
            let chain = a.dominators.dominators_of(o);
            let mut parent = SUPER_ROOT;
            for &x in chain.iter().rev() {
                if self.group_by_class {
                    let c = a.index.class_of(x);
                    let groups = self.groups_of(a, parent);
                    if let Some(gi) = groups.iter().position(|g| g.class == c) {
                        self.ensure_shown(ListKey::Children(parent), gi);
                        let glist = ListKey::Group(parent, c);
                        self.expanded.insert(glist);
                        if let Some(pos) = groups[gi].members.iter().position(|&m| m == x) {
                            self.ensure_shown(glist, pos);
                        }
                    }
                } else if let Some(pos) = children(a, parent).iter().position(|&m| m == x) {
                    self.ensure_shown(ListKey::Children(parent), pos);
                }
                if x != o {
                    self.expanded.insert(ListKey::Children(x));
                }
                parent = x;
            }
        } else {
            self.show_unreachable = true;
            let un = self.unreachable.get_or_insert_with(|| Unreachable::new(a));
            let c = a.index.class_of(o);
            let class_pos = un.classes.iter().position(|e| e.0 == c);
            let pos = un.instances_of(a, c).iter().position(|&m| m == o);
            self.expanded.insert(ListKey::UnreachableClasses);
            self.expanded.insert(ListKey::Unreachable(c));
            if let Some(p) = class_pos {
                self.ensure_shown(ListKey::UnreachableClasses, p);
            }
            if let Some(p) = pos {
                self.ensure_shown(ListKey::Unreachable(c), p);
            }
        }
        self.revealed = Some(o);
        self.pending_reveal = Some(o);
        self.dirty = true;
    }

    fn find(&mut self, session: &Session, out: &mut Vec<Command>) {
        let index = &session.analysis.index;
        let Some(address) = parse_object_id(&self.search) else {
            self.search_message = Some("Enter an object id in hex, like 0x7f3a12c0".into());
            return;
        };
        match index.find(address) {
            Some(o) => {
                self.search_message = None;
                self.reveal(session, o);
                out.push(Command::Select(o));
            }
            None => {
                self.search_message = Some(format!("No object 0x{address:x} in this dump"));
            }
        }
    }

    fn label(&mut self, a: &Analysis, o: ObjectId, style: &egui::Style) -> Arc<LayoutJob> {
        if self.labels.len() > LABEL_CACHE_MAX || self.labels_dark != style.visuals.dark_mode {
            self.labels_dark = style.visuals.dark_mode;
            self.labels.clear();
        }
        self.labels
            .entry(o)
            .or_insert_with(|| Arc::new(object_job(a, o, style)))
            .clone()
    }

    pub fn ui(&mut self, ui: &mut Ui, session: &Session, place: &Place, out: &mut Vec<Command>) {
        self.sync(session);
        let analysis = session.analysis.clone();
        let a = &*analysis;

        self.toolbar(ui, session, out);
        ui.add_space(4.0);

        if self.dirty {
            self.rebuild(a);
        }

        let reachable = a.dominators.reachable_bytes.max(1);
        let row_height = ui.spacing().interact_size.y;
        let mut actions: Vec<Action> = Vec::new();
        let selected = place.selected;
        let revealed = self.revealed;
        let style = ui.style().clone();

        let mut table = TableBuilder::new(ui)
            .id_salt("heapsight.dominators.table")
            .striped(true)
            .resizable(true)
            .auto_shrink([false, false])
            .cell_layout(Layout::left_to_right(Align::Center))
            .column(Column::remainder().at_least(260.0).clip(true))
            .column(Column::initial(90.0).at_least(60.0).clip(true))
            .column(Column::initial(180.0).at_least(110.0).clip(true))
            .column(Column::initial(70.0).at_least(50.0).clip(true));
        if let Some(r) = self.scroll_to.take() {
            table = table.scroll_to_row(r, Some(Align::Center));
        }
        let rows = std::mem::take(&mut self.rows);
        table
            .header(row_height + 2.0, |mut header| {
                header.col(|ui| {
                    ui.strong("Object");
                });
                header.col(|ui| {
                    ui.strong("Shallow");
                });
                header.col(|ui| {
                    ui.strong("Retained");
                });
                header.col(|ui| {
                    ui.strong("% of heap");
                });
            })
            .body(|body| {
                body.rows(row_height, rows.len(), |mut row| {
                    let r = rows[row.index()];
                    let indent = indent_width(r.depth);
                    match r.kind {
                        RowKind::Object(o) | RowKind::UnreachableObject(o) => {
                            let unreachable = matches!(r.kind, RowKind::UnreachableObject(_));
                            row.set_selected(selected == Some(o) || revealed == Some(o));
                            let expandable = !unreachable && !a.dominators.children(o).is_empty();
                            let open = self.expanded.contains(&ListKey::Children(o));
                            let job = self.label(a, o, &style);
                            row.col(|ui| {
                                ui.add_space(indent);
                                if expandable {
                                    if triangle(ui, open, &job.text) {
                                        actions.push(Action::Toggle(ListKey::Children(o)));
                                    }
                                } else {
                                    ui.add_space(triangle_width(ui));
                                }
                                let response = ui
                                    .add(
                                        egui::Label::new(job.as_ref().clone())
                                            .sense(Sense::click())
                                            .truncate(),
                                    )
                                    .on_hover_text(
                                        "Click: select. Double-click: expand. Right-click: more.",
                                    );
                                if response.clicked() {
                                    out.push(Command::Select(o));
                                }
                                if response.double_clicked() && expandable {
                                    actions.push(Action::Toggle(ListKey::Children(o)));
                                }
                                response
                                    .context_menu(|ui| widgets::object_menu(ui, &a.index, o, out));
                            });
                            row.col(|ui| {
                                widgets::bytes_label(ui, a.index.shallow_size(o));
                            });
                            if unreachable {
                                row.col(|ui| {
                                    widgets::hint_text(ui, "garbage");
                                });
                                row.col(|_| {});
                            } else {
                                let retained = a.dominators.retained(o);
                                row.col(|ui| {
                                    retained_bar(ui, retained, reachable);
                                });
                                row.col(|ui| {
                                    ui.label(format::percent(retained, reachable));
                                });
                            }
                        }
                        RowKind::Group {
                            parent,
                            class,
                            count,
                            shallow,
                            retained,
                        } => {
                            let list = ListKey::Group(parent, class);
                            let open = self.expanded.contains(&list);
                            let name = &a.index.classes().get(class).name;
                            row.col(|ui| {
                                ui.add_space(indent);
                                let text =
                                    format!("{name}  ({} objects)", format::thousands(count));
                                if triangle(ui, open, &text) {
                                    actions.push(Action::Toggle(list));
                                }
                                let response = ui.add(
                                    egui::Label::new(RichText::new(text).strong())
                                        .sense(Sense::click())
                                        .truncate(),
                                );
                                if response.clicked() {
                                    actions.push(Action::Toggle(list));
                                }
                            });
                            row.col(|ui| {
                                widgets::bytes_label(ui, shallow);
                            });
                            row.col(|ui| {
                                retained_bar(ui, retained, reachable);
                            });
                            row.col(|ui| {
                                ui.label(format::percent(retained, reachable));
                            });
                        }
                        RowKind::More { list, shown, total } => {
                            row.col(|ui| {
                                ui.add_space(indent + triangle_width(ui));
                                let rest = total - shown;
                                let next = rest.min(NEXT_PAGE);
                                let text = format!(
                                    "… {} more (show next {})",
                                    format::thousands(rest as u64),
                                    format::thousands(next as u64)
                                );
                                if ui.link(text).clicked() {
                                    actions.push(Action::More(list, shown + next));
                                }
                            });
                            row.col(|_| {});
                            row.col(|_| {});
                            row.col(|_| {});
                        }
                        RowKind::UnreachableSection => {
                            let list = ListKey::UnreachableClasses;
                            let open = self.expanded.contains(&list);
                            let (count, bytes) = self
                                .unreachable
                                .as_ref()
                                .map(|u| (u.count, u.bytes))
                                .unwrap_or_default();
                            row.col(|ui| {
                                ui.add_space(indent);
                                let text = format!(
                                    "Unreachable objects  ({} objects)",
                                    format::thousands(count)
                                );
                                if triangle(ui, open, &text) {
                                    actions.push(Action::Toggle(list));
                                }
                                let response = ui
                                    .add(
                                        egui::Label::new(
                                            RichText::new(text)
                                                .strong()
                                                .color(ui.visuals().warn_fg_color),
                                        )
                                        .sense(Sense::click())
                                        .truncate(),
                                    )
                                    .on_hover_text(
                                        "Objects no GC root reaches: garbage the next GC frees. \
                                         They are not part of the dominator tree.",
                                    );
                                if response.clicked() {
                                    actions.push(Action::Toggle(list));
                                }
                            });
                            row.col(|ui| {
                                widgets::bytes_label(ui, bytes);
                            });
                            row.col(|ui| {
                                widgets::hint_text(ui, "shallow total");
                            });
                            row.col(|_| {});
                        }
                        RowKind::UnreachableClass {
                            class,
                            count,
                            bytes,
                        } => {
                            let list = ListKey::Unreachable(class);
                            let open = self.expanded.contains(&list);
                            let name = &a.index.classes().get(class).name;
                            row.col(|ui| {
                                ui.add_space(indent);
                                let text =
                                    format!("{name}  ({} objects)", format::thousands(count));
                                if triangle(ui, open, &text) {
                                    actions.push(Action::Toggle(list));
                                }
                                let response =
                                    ui.add(egui::Label::new(text).sense(Sense::click()).truncate());
                                if response.clicked() {
                                    actions.push(Action::Toggle(list));
                                }
                            });
                            row.col(|ui| {
                                widgets::bytes_label(ui, bytes);
                            });
                            row.col(|_| {});
                            row.col(|_| {});
                        }
                    }
                });
            });
        self.rows = rows;

        for action in actions {
            match action {
                Action::Toggle(list) => {
                    if !self.expanded.remove(&list) {
                        self.expanded.insert(list);
                    }
                }
                Action::More(list, limit) => {
                    self.limits.insert(list, limit);
                }
            }
            self.dirty = true;
        }
    }

    fn toolbar(&mut self, ui: &mut Ui, session: &Session, out: &mut Vec<Command>) {
        let a = &*session.analysis;
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Find object:");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.search)
                        .id_salt("heapsight.dominators.search")
                        .hint_text("0x7f3a12c0")
                        .desired_width(160.0),
                )
                .labelled_by(label.id)
                .on_hover_text("An object id (address) in hex; Enter expands the tree down to it");
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if ui.button("Find").clicked() || enter {
                self.find(session, out);
            }
            ui.separator();
            if ui
                .checkbox(&mut self.group_by_class, "Group children by class")
                .on_hover_text("Aggregate the children of each node per class")
                .changed()
            {
                self.dirty = true;
                if let Some(o) = self.revealed {
                    // Keep the revealed object in view in the new layout.
                    self.reveal(session, o);
                }
            }
            let unreachable_total = a.dominators.unreachable_objects;
            if ui
                .checkbox(&mut self.show_unreachable, "Show unreachable objects")
                .on_hover_text(format!(
                    "{} objects ({}) no GC root reaches",
                    format::thousands(unreachable_total),
                    format::bytes(a.dominators.unreachable_bytes)
                ))
                .changed()
            {
                if self.show_unreachable {
                    self.expanded.insert(ListKey::UnreachableClasses);
                    self.scroll_to = Some(0);
                }
                self.dirty = true;
            }
            ui.separator();
            widgets::hint_text(
                ui,
                format!(
                    "{} reachable objects, {}",
                    format::thousands(a.dominators.reachable_objects),
                    format::bytes(a.dominators.reachable_bytes)
                ),
            );
        });
        if let Some(msg) = &self.search_message {
            ui.colored_label(ui.visuals().error_fg_color, msg);
        }
    }
}

fn indent_width(depth: u32) -> f32 {
    // Deep chains (linked lists) would push the text out of view: cap the indent.
    (depth.min(40) as f32) * 14.0
}

const TRIANGLE_WIDTH: f32 = 16.0;

fn triangle_width(ui: &Ui) -> f32 {
    TRIANGLE_WIDTH + ui.spacing().item_spacing.x
}

/// An expand/collapse triangle; true when clicked. Its accessible name says what it opens.
pub(crate) fn triangle(ui: &mut Ui, open: bool, what: &str) -> bool {
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

fn retained_bar(ui: &mut Ui, retained: u64, reachable: u64) {
    let width = (ui.available_width() - 4.0).max(40.0);
    widgets::size_bar(
        ui,
        retained as f64 / reachable as f64,
        &format::bytes(retained),
        width,
    )
    .on_hover_text(format!("{} bytes retained", format::thousands(retained)));
}

/// `java.util.HashMap @ 0x7f3a…` with the address muted, and GC-root kinds if any.
fn object_job(a: &Analysis, o: ObjectId, style: &egui::Style) -> LayoutJob {
    let text = a.index.describe(o);
    let font = egui::TextStyle::Body.resolve(style);
    let visuals = &style.visuals;
    let strong = visuals.text_color();
    let weak = visuals.weak_text_color();
    let mut job = LayoutJob::default();
    let (name, rest) = match text.rfind(" @ ") {
        Some(i) => text.split_at(i),
        None => (text.as_str(), ""),
    };
    append(&mut job, name, font.clone(), strong);
    append(&mut job, rest, font.clone(), weak);
    let kinds: Vec<&str> = a.roots.kinds(o).map(|k| k.as_str()).collect();
    if !kinds.is_empty() {
        let text = format!("  GC root: {}", kinds.join(", ").replace('_', " "));
        append(&mut job, &text, font, visuals.hyperlink_color);
    }
    job
}

/// `text` as a label whose arrows (`←→▲▼`, which the default proportional font lacks) are set
/// in the monospace font. Uncoloured: the label's own colour applies.
pub(crate) fn with_arrows(style: &egui::Style, text: &str) -> LayoutJob {
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

fn append(job: &mut LayoutJob, text: &str, font: FontId, color: Color32) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids() {
        assert_eq!(parse_object_id("0x7f3a"), Some(0x7f3a));
        assert_eq!(parse_object_id(" 7F3A "), Some(0x7f3a));
        assert_eq!(parse_object_id("#ff"), Some(0xff));
        assert_eq!(parse_object_id("0x"), None);
        assert_eq!(parse_object_id("zz"), None);
    }

    #[test]
    fn pages() {
        assert_eq!(paged_limit(1), FIRST_PAGE);
        assert_eq!(paged_limit(FIRST_PAGE), FIRST_PAGE);
        assert_eq!(paged_limit(FIRST_PAGE + 1), FIRST_PAGE + NEXT_PAGE);
        assert_eq!(
            paged_limit(FIRST_PAGE + NEXT_PAGE + 1),
            FIRST_PAGE + 2 * NEXT_PAGE
        );
    }
}
