//! The dominator tree: which objects keep which alive, biggest first.
//!
//! The tree is expanded lazily and flattened into `rows` (one entry per visible line), rebuilt
//! only when something is expanded, collapsed or paged; the table lays out only the rows that
//! are on screen, so a node with 100 000 children scrolls like one with ten. The lists come
//! from `analysis::instances`; the unreachable objects are listed by a background task.

mod table;

use std::sync::Arc;

use egui::text::LayoutJob;
use egui::{Key, Ui};
use rustc_hash::{FxHashMap, FxHashSet};

use super::task::{Poll, Task};
use super::tree_table::TreeTableState;
use super::{widgets, Command, Place, Session};
use crate::analysis::dominators::SUPER_ROOT;
use crate::analysis::ids::parse_object_id;
use crate::analysis::instances::{children_by_class, dominated_by, ClassGroup, UnreachableObjects};
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

/// The unreachable objects: listed once, on a worker thread, when first shown.
enum Unreachable {
    Listing(Task<UnreachableObjects>),
    Ready(Arc<UnreachableObjects>),
}

pub struct DominatorView {
    session_key: usize,
    group_by_class: bool,
    show_unreachable: bool,
    expanded: FxHashSet<ListKey>,
    /// How many entries of a list are shown, when not the first page.
    limits: FxHashMap<ListKey, usize>,
    groups: FxHashMap<ObjectId, Arc<Vec<ClassGroup>>>,
    unreachable: Option<Unreachable>,
    rows: Vec<Row>,
    dirty: bool,
    labels: FxHashMap<ObjectId, Arc<LayoutJob>>,
    /// Theme the cached labels were coloured for.
    labels_dark: bool,
    search: String,
    search_message: Option<String>,
    /// Object to put the cursor on once the rows are rebuilt.
    pending_reveal: Option<ObjectId>,
    /// Last object revealed: highlighted as well as the selection.
    revealed: Option<ObjectId>,
    table: TreeTableState,
    /// The selection the cursor was last put on.
    synced_selection: Option<ObjectId>,
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
            revealed: None,
            table: TreeTableState::default(),
            synced_selection: None,
        }
    }
}

fn session_key(session: &Session) -> usize {
    Arc::as_ptr(&session.analysis) as usize
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
        groups: Arc<Vec<ClassGroup>>,
        pos: usize,
        depth: u32,
    },
}

/// Where a list of objects comes from.
enum Source {
    Tree(ObjectId),
    Group(Arc<Vec<ClassGroup>>, usize),
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

    fn groups_of(&mut self, a: &Analysis, parent: ObjectId) -> Arc<Vec<ClassGroup>> {
        self.groups
            .entry(parent)
            .or_insert_with(|| Arc::new(children_by_class(&a.index, &a.dominators, parent)))
            .clone()
    }

    /// The unreachable objects when listed; starts the listing the first time.
    fn unreachable_ready(
        &mut self,
        session: &Session,
        ctx: &egui::Context,
    ) -> Option<Arc<UnreachableObjects>> {
        match &mut self.unreachable {
            None => {
                let a = session.analysis.clone();
                self.unreachable = Some(Unreachable::Listing(Task::spawn(
                    "heapsight-unreachable",
                    ctx,
                    move |_| {
                        UnreachableObjects::new(&a.index, &a.dominators, &a.unreachable_by_class)
                    },
                )));
                None
            }
            Some(Unreachable::Listing(task)) => match task.poll() {
                Poll::Done(u) => {
                    let u = Arc::new(u);
                    self.unreachable = Some(Unreachable::Ready(u.clone()));
                    self.dirty = true;
                    Some(u)
                }
                _ => None,
            },
            Some(Unreachable::Ready(u)) => Some(u.clone()),
        }
    }

    /// Flattens the expanded part of the tree into `rows`, without recursion (a dominator
    /// chain can be a million objects deep).
    fn rebuild(&mut self, a: &Analysis) {
        self.dirty = false;
        let mut rows = Vec::new();
        if self.show_unreachable {
            rows.push(Row {
                kind: RowKind::UnreachableSection,
                depth: 0,
            });
            let ready = match &self.unreachable {
                Some(Unreachable::Ready(u)) => Some(u.clone()),
                _ => None,
            };
            if let (true, Some(un)) = (self.expanded.contains(&ListKey::UnreachableClasses), ready)
            {
                let limit = self.limit(ListKey::UnreachableClasses);
                for &(class, count, bytes) in un.classes.iter().take(limit) {
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
                        let objs = un.instances_of(class);
                        rows.extend(objs.iter().take(limit).map(|&o| Row {
                            kind: RowKind::UnreachableObject(o),
                            depth: 2,
                        }));
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
                if un.classes.len() > limit {
                    rows.push(Row {
                        kind: RowKind::More {
                            list: ListKey::UnreachableClasses,
                            shown: limit,
                            total: un.classes.len(),
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
                        Source::Tree(p) => dominated_by(&a.dominators, *p),
                        Source::Group(g, i) => &g[*i].members,
                    };
                    let limit = self.limits.get(list).copied().unwrap_or(FIRST_PAGE);
                    if *pos >= objs.len().min(limit) {
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
                    if *pos >= groups.len().min(limit) {
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
            if let Some(r) = self.row_of(o) {
                self.table.reveal(r);
            }
        }
    }

    fn row_of(&self, o: ObjectId) -> Option<usize> {
        self.rows.iter().position(|r| match r.kind {
            RowKind::Object(x) | RowKind::UnreachableObject(x) => x == o,
            _ => false,
        })
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

    /// Expands the tree down to `o` and puts the cursor on it (or, for garbage, opens the
    /// unreachable objects of its class).
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
                } else if let Some(pos) = dominated_by(&a.dominators, parent)
                    .iter()
                    .position(|&m| m == x)
                {
                    self.ensure_shown(ListKey::Children(parent), pos);
                }
                if x != o {
                    self.expanded.insert(ListKey::Children(x));
                }
                parent = x;
            }
        } else {
            // The instance list comes from the unreachable-objects task; opening the class
            // is enough, the object is found once the list is there.
            self.show_unreachable = true;
            let c = a.index.class_of(o);
            self.expanded.insert(ListKey::UnreachableClasses);
            self.expanded.insert(ListKey::Unreachable(c));
            let position = |u: &UnreachableObjects| {
                (
                    u.classes.iter().position(|e| e.0 == c),
                    u.instances_of(c).iter().position(|&m| m == o),
                )
            };
            let found = match &self.unreachable {
                Some(Unreachable::Ready(u)) => Some(position(u)),
                _ => None,
            };
            match found {
                Some((class_pos, pos)) => {
                    if let Some(p) = class_pos {
                        self.ensure_shown(ListKey::UnreachableClasses, p);
                    }
                    if let Some(p) = pos {
                        self.ensure_shown(ListKey::Unreachable(c), p);
                    }
                }
                None => {
                    // Computed here: reveal() is called from commands, and tests call it
                    // before the first frame.
                    let u =
                        UnreachableObjects::new(&a.index, &a.dominators, &a.unreachable_by_class);
                    let (class_pos, pos) = position(&u);
                    self.unreachable = Some(Unreachable::Ready(Arc::new(u)));
                    if let Some(p) = class_pos {
                        self.ensure_shown(ListKey::UnreachableClasses, p);
                    }
                    if let Some(p) = pos {
                        self.ensure_shown(ListKey::Unreachable(c), p);
                    }
                }
            }
        }
        self.revealed = Some(o);
        self.pending_reveal = Some(o);
        self.synced_selection = Some(o);
        self.dirty = true;
    }

    fn find(&mut self, session: &Session, out: &mut Vec<Command>) {
        let index = &session.analysis.index;
        let address = match parse_object_id(&self.search) {
            Ok(a) => a,
            Err(e) => {
                self.search_message = Some(e.to_string());
                return;
            }
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

    pub fn ui(&mut self, ui: &mut Ui, session: &Session, place: &Place, out: &mut Vec<Command>) {
        self.sync(session);
        if self.show_unreachable {
            self.unreachable_ready(session, ui.ctx());
        }
        self.toolbar(ui, session, out);
        ui.add_space(4.0);
        if self.dirty {
            self.rebuild(&session.analysis);
        }
        // A selection made elsewhere (inspector, paths) moves the cursor when it is listed.
        if place.selected != self.synced_selection {
            self.synced_selection = place.selected;
            self.table.cursor = place.selected.and_then(|o| self.row_of(o));
        }
        self.table_ui(ui, session, place, out);
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
                .on_hover_text(
                    "An object id (address): 0x… or hex digits with letters are hex, plain \
                     digits decimal. Enter expands the tree down to it.",
                );
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
                    self.table.scroll_to_top();
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

#[cfg(test)]
mod tests {
    use super::*;

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
