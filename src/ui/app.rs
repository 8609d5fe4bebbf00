//! The app: its state, the command handling (in `logic`) and the frame layout (in `ui`).

use std::path::PathBuf;

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};

use super::dominators::DominatorView;
use super::hints::HintsPanel;
use super::histogram::HistogramView;
use super::inspector::InspectorPanel;
use super::loader::{LoadJob, LoadOutcome};
use super::loading::LoadingView;
use super::overview::OverviewView;
use super::paths::PathsView;
use super::threads::ThreadsView;
use super::{start, Command, Place, Session, Tab};
use crate::format;

const RECENT_KEY: &str = "heapsight.recent";
const MAX_RECENT: usize = 8;

enum State {
    Start { error: Option<String> },
    Loading(LoadJob, LoadingView),
    Loaded(Box<Loaded>),
}

/// A loaded dump with its views and navigation history.
struct Loaded {
    session: Session,
    history: Vec<Place>,
    cursor: usize,
    overview: OverviewView,
    histogram: HistogramView,
    dominators: DominatorView,
    paths: PathsView,
    inspector: InspectorPanel,
    threads: ThreadsView,
    hints: HintsPanel,
}

impl Loaded {
    fn new(session: Session) -> Self {
        Loaded {
            session,
            history: vec![Place {
                tab: Tab::Overview,
                selected: None,
                path_target: None,
            }],
            cursor: 0,
            overview: OverviewView::default(),
            histogram: HistogramView::default(),
            dominators: DominatorView::default(),
            paths: PathsView::default(),
            inspector: InspectorPanel::default(),
            threads: ThreadsView::default(),
            hints: HintsPanel::default(),
        }
    }

    fn place(&self) -> &Place {
        &self.history[self.cursor]
    }

    /// Goes to a new place, dropping the forward history.
    fn navigate(&mut self, change: impl FnOnce(&mut Place)) {
        let mut next = self.place().clone();
        change(&mut next);
        if next == *self.place() {
            return;
        }
        self.history.truncate(self.cursor + 1);
        self.history.push(next);
        self.cursor = self.history.len() - 1;
    }
}

pub struct HeapsightApp {
    state: State,
    recent: Vec<PathBuf>,
    commands: Vec<Command>,
    /// Where to go once the first dump has loaded (from the command line).
    after_load: Vec<StartupAction>,
    style_installed: bool,
}

/// A place to open at start-up, named before the dump is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupAction {
    Tab(Tab),
    /// Merged paths to GC roots of the first class with this name.
    PathsOfClass(String),
    /// Select the object with this id (shows it in the inspector).
    Select(u64),
    /// Expand the dominator tree down to the object with this id.
    Reveal(u64),
}

impl HeapsightApp {
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        path: Option<PathBuf>,
        after_load: Vec<StartupAction>,
    ) -> Self {
        let recent = cc
            .storage
            .and_then(|s| s.get_string(RECENT_KEY))
            .and_then(|s| serde_json::from_str::<Vec<PathBuf>>(&s).ok())
            .unwrap_or_default();
        let mut app = HeapsightApp {
            state: State::Start { error: None },
            recent,
            commands: Vec::new(),
            after_load,
            style_installed: false,
        };
        if let Some(p) = path {
            app.commands.push(Command::Open(p));
        }
        app
    }

    /// For tests: an app with no storage.
    pub fn without_storage(path: Option<PathBuf>) -> Self {
        HeapsightApp {
            state: State::Start { error: None },
            recent: Vec::new(),
            commands: path.map(Command::Open).into_iter().collect(),
            after_load: Vec::new(),
            style_installed: false,
        }
    }

    /// True once a dump is loaded (for tests and scripts).
    pub fn is_loaded(&self) -> bool {
        matches!(self.state, State::Loaded(_))
    }

    /// The current tab, when a dump is loaded.
    pub fn current_tab(&self) -> Option<Tab> {
        match &self.state {
            State::Loaded(l) => Some(l.place().tab),
            _ => None,
        }
    }

    /// The error shown on the start screen, if any.
    pub fn load_error(&self) -> Option<&str> {
        match &self.state {
            State::Start { error } => error.as_deref(),
            _ => None,
        }
    }

    /// Queues a command as if a view had sent it.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    fn open(&mut self, path: PathBuf, ctx: &egui::Context) {
        if let State::Loading(job, _) = &self.state {
            job.cancel();
        }
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path.clone());
        self.recent.truncate(MAX_RECENT);
        self.state = State::Loading(LoadJob::start(path, ctx.clone()), LoadingView::default());
    }

    fn handle(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::OpenDialog => {
                let picked = rfd::FileDialog::new()
                    .set_title("Open a Java heap dump")
                    .add_filter("Heap dumps", &["hprof", "gz", "bin", "dump"])
                    .add_filter("All files", &["*"])
                    .pick_file();
                if let Some(path) = picked {
                    self.open(path, ctx);
                }
            }
            Command::Open(path) => self.open(path, ctx),
            Command::OpenSample => self.open(super::sample_dump_path(), ctx),
            Command::CancelLoad => {
                if let State::Loading(job, _) = &self.state {
                    job.cancel();
                }
            }
            Command::CloseDump => self.state = State::Start { error: None },
            Command::Copy(text) => ctx.copy_text(text),
            other => {
                let State::Loaded(l) = &mut self.state else {
                    return;
                };
                match other {
                    Command::ShowTab(tab) => l.navigate(|p| p.tab = tab),
                    Command::Select(o) => l.navigate(|p| p.selected = Some(o)),
                    Command::ShowPaths(target) => l.navigate(|p| {
                        if let super::PathTarget::Object(o) = target {
                            p.selected = Some(o);
                        }
                        p.tab = Tab::Paths;
                        p.path_target = Some(target);
                    }),
                    Command::RevealInDominatorTree(o) => {
                        l.dominators.reveal(&l.session, o);
                        l.navigate(|p| {
                            p.tab = Tab::Dominators;
                            p.selected = Some(o);
                        });
                    }
                    Command::Back => l.cursor = l.cursor.saturating_sub(1),
                    Command::Forward => l.cursor = (l.cursor + 1).min(l.history.len() - 1),
                    _ => {}
                }
            }
        }
    }

    fn top_bar(&mut self, ui: &mut Ui) {
        let out = &mut self.commands;
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    out.push(Command::OpenDialog);
                    ui.close();
                }
                if ui.button("Open sample dump").clicked() {
                    out.push(Command::OpenSample);
                    ui.close();
                }
                if ui.button("Close dump").clicked() {
                    out.push(Command::CloseDump);
                    ui.close();
                }
            });
            if let State::Loaded(l) = &self.state {
                ui.separator();
                let back = ui
                    .add_enabled(l.cursor > 0, egui::Button::new("←"))
                    .on_hover_text("Back (Alt+←)");
                if back.clicked() {
                    out.push(Command::Back);
                }
                let forward = ui
                    .add_enabled(l.cursor + 1 < l.history.len(), egui::Button::new("→"))
                    .on_hover_text("Forward (Alt+→)");
                if forward.clicked() {
                    out.push(Command::Forward);
                }
                ui.separator();
                let current = l.place().tab;
                for tab in Tab::ALL {
                    if ui.selectable_label(current == tab, tab.label()).clicked() {
                        out.push(Command::ShowTab(tab));
                    }
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                theme_switch(ui);
                if let State::Loaded(l) = &self.state {
                    let a = &l.session.analysis;
                    ui.label(
                        RichText::new(format!(
                            "{}  ·  {} objects  ·  {}  ·  opened in {:.1} s",
                            l.session.path.file_name().map_or_else(
                                || l.session.path.display().to_string(),
                                |n| n.to_string_lossy().into_owned()
                            ),
                            format::thousands(a.index.object_count() as u64),
                            format::bytes(a.histogram.total_shallow_bytes),
                            l.session.load_seconds
                        ))
                        .weak(),
                    );
                }
            });
        });
    }
}

impl eframe::App for HeapsightApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if !self.style_installed {
            super::install_style(ctx);
            self.style_installed = true;
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            // A second dump replaces the first: one dump per window keeps memory predictable.
            self.commands.push(Command::Open(path));
        }
        let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        let back = KeyboardShortcut::new(Modifiers::ALT, Key::ArrowLeft);
        let forward = KeyboardShortcut::new(Modifiers::ALT, Key::ArrowRight);
        ctx.input_mut(|i| {
            if i.consume_shortcut(&open) {
                self.commands.push(Command::OpenDialog);
            }
            if i.consume_shortcut(&back) {
                self.commands.push(Command::Back);
            }
            if i.consume_shortcut(&forward) {
                self.commands.push(Command::Forward);
            }
        });

        if let State::Loading(job, _) = &self.state {
            match job.poll() {
                Some(LoadOutcome::Loaded(session)) => {
                    let index = session.analysis.index.clone();
                    for action in std::mem::take(&mut self.after_load) {
                        let command = match action {
                            StartupAction::Tab(t) => Some(Command::ShowTab(t)),
                            StartupAction::PathsOfClass(name) => index
                                .classes()
                                .by_name(&name)
                                .next()
                                .map(|c| Command::ShowPaths(super::PathTarget::Class(c))),
                            StartupAction::Select(id) => index.find(id).map(Command::Select),
                            StartupAction::Reveal(id) => {
                                index.find(id).map(Command::RevealInDominatorTree)
                            }
                        };
                        self.commands.extend(command);
                    }
                    self.state = State::Loaded(Box::new(Loaded::new(*session)));
                }
                Some(LoadOutcome::Failed { path, message }) => {
                    self.state = State::Start {
                        error: Some(format!("{}: {message}", path.display())),
                    };
                }
                Some(LoadOutcome::Cancelled) => self.state = State::Start { error: None },
                None => ctx.request_repaint_after(std::time::Duration::from_millis(100)),
            }
        }

        for command in std::mem::take(&mut self.commands) {
            self.handle(command, ctx);
        }
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar(ui));
        let mut out = Vec::new();
        match &mut self.state {
            State::Start { error } => {
                let error = error.clone();
                egui::CentralPanel::default().show(ui, |ui| {
                    start::ui(ui, &self.recent, error.as_deref(), &mut out)
                });
            }
            State::Loading(job, view) => {
                egui::CentralPanel::default().show(ui, |ui| view.ui(ui, job, &mut out));
            }
            State::Loaded(l) => {
                let place = l.place().clone();
                egui::Panel::left("inspector")
                    .resizable(true)
                    .default_size(300.0)
                    .min_size(220.0)
                    .show(ui, |ui| {
                        l.inspector.ui(ui, &l.session, &place, &mut out);
                    });
                egui::Panel::right("hints")
                    .resizable(true)
                    .default_size(330.0)
                    .min_size(220.0)
                    .show(ui, |ui| l.hints.ui(ui, &l.session, &mut out));
                egui::CentralPanel::default().show(ui, |ui| match place.tab {
                    Tab::Overview => l.overview.ui(ui, &l.session, &place, &mut out),
                    Tab::Histogram => l.histogram.ui(ui, &l.session, &place, &mut out),
                    Tab::Dominators => l.dominators.ui(ui, &l.session, &place, &mut out),
                    Tab::Paths => l.paths.ui(ui, &l.session, &place, &mut out),
                    Tab::Threads => l.threads.ui(ui, &l.session, &place, &mut out),
                });
            }
        }
        if !out.is_empty() {
            self.commands.extend(out);
            ui.ctx().request_repaint();
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if let Ok(s) = serde_json::to_string(&self.recent) {
            storage.set_string(RECENT_KEY, s);
        }
    }
}

/// Light / dark theme buttons (text, so no icon font is needed).
fn theme_switch(ui: &mut Ui) {
    let dark = ui.visuals().dark_mode;
    if ui.selectable_label(!dark, "Light").clicked() {
        ui.ctx().set_theme(egui::Theme::Light);
    }
    if ui.selectable_label(dark, "Dark").clicked() {
        ui.ctx().set_theme(egui::Theme::Dark);
    }
}
