//! The app: its state, the command handling (in `logic`) and the frame layout (in `ui`).

use std::path::PathBuf;

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};

use super::dominators::DominatorView;
use super::frame_times::FrameTimes;
use super::hints::HintsPanel;
use super::histogram::HistogramView;
use super::index_writer::IndexWriter;
use super::inspector::InspectorPanel;
use super::loader::{LoadJob, LoadOutcome};
use super::loading::LoadingView;
use super::open::{FileChooser, Purpose};
use super::overview::OverviewView;
use super::paths::PathsView;
use super::startup::StartupAction;
use super::threads::ThreadsView;
use super::widgets::confined;
use super::{start, Command, Place, Session, Tab};
use crate::format;

const RECENT_KEY: &str = "heapsight.recent";
const MAX_RECENT: usize = 8;

/// A load under way, drawn over whatever was there before.
struct Loading {
    job: LoadJob,
    view: LoadingView,
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
    /// The index file of a fresh analysis, while it is written.
    index_writer: Option<IndexWriter>,
}

impl Loaded {
    fn new(mut session: Session, index_writer: Option<IndexWriter>) -> Self {
        session.index_progress = index_writer.as_ref().map(IndexWriter::progress);
        Loaded {
            session,
            index_writer,
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

    /// Shows where the index file went once its write has ended.
    fn poll_index_writer(&mut self, ctx: &egui::Context) {
        let Some(writer) = &mut self.index_writer else {
            return;
        };
        match writer.poll() {
            Some(status) => {
                eprintln!("heapsight: {}", status.summary());
                for note in &status.notes {
                    eprintln!("heapsight: {note}");
                }
                self.session.index_status = Some(status);
                self.session.index_progress = None;
                self.index_writer = None;
            }
            // Twice a second for the overview's percentage.
            None => ctx.request_repaint_after(std::time::Duration::from_millis(500)),
        }
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
    /// The dump on screen; it stays while another loads, and after that load is cancelled.
    loaded: Option<Box<Loaded>>,
    loading: Option<Loading>,
    /// Why the last open failed, shown on the start screen.
    error: Option<String>,
    recent: Vec<PathBuf>,
    commands: Vec<Command>,
    /// Where to go once the first dump has loaded (from the command line).
    after_load: Vec<StartupAction>,
    style_installed: bool,
    chooser: FileChooser,
    hints_open: bool,
    /// A message at the bottom of the window (export written, …).
    status: Option<String>,
    /// Widths of the inspector and hints panels at the last frame.
    panel_widths: Option<(f32, f32)>,
    /// `HEAPSIGHT_FRAME_TIMES=1`: how long building each frame took, printed in batches.
    frame_times: Option<FrameTimes>,
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
        let mut app = HeapsightApp::without_storage(path);
        app.recent = recent;
        app.after_load = after_load;
        app
    }

    /// For tests: an app with no storage.
    pub fn without_storage(path: Option<PathBuf>) -> Self {
        HeapsightApp {
            loaded: None,
            loading: None,
            error: None,
            recent: Vec::new(),
            commands: path.map(Command::Open).into_iter().collect(),
            after_load: Vec::new(),
            style_installed: false,
            chooser: FileChooser::default(),
            hints_open: true,
            status: None,
            panel_widths: None,
            frame_times: FrameTimes::from_env(),
        }
    }

    /// True once a dump is loaded and no other is loading (for tests and scripts).
    pub fn is_loaded(&self) -> bool {
        self.loaded.is_some() && self.loading.is_none()
    }

    /// True while a dump loads.
    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// The file of the dump on screen.
    pub fn loaded_path(&self) -> Option<&std::path::Path> {
        self.loaded.as_ref().map(|l| l.session.path.as_path())
    }

    /// Recently opened dumps, newest first.
    pub fn recent(&self) -> &[PathBuf] {
        &self.recent
    }

    /// The dump on screen with its analysis (for tests and scripts).
    pub fn session(&self) -> Option<&Session> {
        self.loaded.as_ref().map(|l| &l.session)
    }

    /// Widths of the inspector and hints panels at the last frame (hints 0 when hidden).
    /// The histogram's rows as shown (for tests).
    pub fn histogram_rows(&self) -> &[super::histogram::Row] {
        self.loaded.as_ref().map_or(&[], |l| l.histogram.rows())
    }

    pub fn panel_widths(&self) -> Option<(f32, f32)> {
        self.panel_widths
    }

    /// The current tab, when a dump is loaded.
    pub fn current_tab(&self) -> Option<Tab> {
        self.loaded.as_ref().map(|l| l.place().tab)
    }

    /// The selected object, when a dump is loaded.
    pub fn selected(&self) -> Option<crate::heap::ObjectId> {
        self.loaded.as_ref().and_then(|l| l.place().selected)
    }

    /// The error shown on the start screen, if any.
    pub fn load_error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Queues a command as if a view had sent it.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    fn open(&mut self, path: PathBuf, dump: Option<usize>, ctx: &egui::Context) {
        // A second dump replaces the first once it has loaded: one dump per window keeps
        // memory predictable. Starting another load cancels (drops) the one under way.
        self.error = None;
        self.loading = Some(Loading {
            job: LoadJob::start(path, dump, ctx.clone()),
            view: LoadingView::default(),
        });
    }

    /// Applies the outcome of a finished load.
    fn finish_load(&mut self, outcome: LoadOutcome, ctx: &egui::Context) {
        self.loading = None;
        match outcome {
            LoadOutcome::Loaded(session, pending) => {
                let path = session.path.clone();
                self.recent.retain(|p| p != &path);
                self.recent.insert(0, path);
                self.recent.truncate(MAX_RECENT);
                let index = session.analysis.index.clone();
                for action in std::mem::take(&mut self.after_load) {
                    self.commands.extend(action.command(&index));
                }
                // The old dump goes before the new one's views are made.
                self.loaded = None;
                let writer = pending.map(|p| IndexWriter::start(p, session.analysis.clone(), ctx));
                self.loaded = Some(Box::new(Loaded::new(*session, writer)));
            }
            LoadOutcome::Failed { path, message } => {
                // A file that does not open is no longer a recent dump.
                self.recent.retain(|p| p != &path);
                self.error = Some(format!("{}: {message}", path.display()));
            }
            LoadOutcome::Cancelled => {}
        }
    }

    fn handle(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::OpenDialog => self.chooser.ask(Purpose::Open, ctx),
            Command::OpenPrompt => self.chooser.prompt(Purpose::Open, None),
            Command::Open(path) => self.open(path, None, ctx),
            Command::OpenSample => self.open(super::sample_dump_path(), None, ctx),
            Command::OpenDump(number) => {
                // Another heap dump of the file on screen, through the same loader (progress,
                // Cancel back to this one). The last is the default, which the index holds.
                if let Some(l) = &self.loaded {
                    let count = l.session.analysis.index.dumps().parts.len();
                    let dump = (number < count).then_some(number);
                    self.open(l.session.path.clone(), dump, ctx);
                }
            }
            Command::CancelLoad => {
                // Back to where the user was: the task is dropped (and told to stop), the
                // dump on screen stays.
                self.loading = None;
            }
            Command::CloseDump => {
                self.loaded = None;
                self.loading = None;
            }
            Command::Copy(text) => ctx.copy_text(text),
            Command::SaveCsv {
                file_name,
                contents,
            } => self.chooser.ask(
                Purpose::SaveCsv {
                    file_name,
                    contents,
                },
                ctx,
            ),
            Command::WriteFile { path, contents } => {
                self.status = Some(match std::fs::write(&path, contents) {
                    Ok(()) => format!("Saved {}", path.display()),
                    Err(e) => format!("Could not write {}: {e}", path.display()),
                });
            }
            Command::ToggleHints => self.hints_open = !self.hints_open,
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            other => {
                let Some(l) = &mut self.loaded else {
                    return;
                };
                match other {
                    Command::ShowTab(tab) => l.navigate(|p| p.tab = tab),
                    Command::Select(o) => l.navigate(|p| p.selected = Some(o)),
                    Command::Cursor(o) => l.history[l.cursor].selected = Some(o),
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
                    Command::ShowHint(i) => {
                        self.hints_open = true;
                        l.hints.focus(i);
                        if let Some(e) = l.session.hints.get(i).and_then(|h| h.evidence.first()) {
                            let o = e.object;
                            l.navigate(|p| {
                                p.tab = Tab::Paths;
                                p.selected = Some(o);
                                p.path_target = Some(super::PathTarget::Object(o));
                            });
                        }
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
                if ui.button("Open path…  (Ctrl+L)").clicked() {
                    out.push(Command::OpenPrompt);
                    ui.close();
                }
                if ui.button("Open sample dump").clicked() {
                    out.push(Command::OpenSample);
                    ui.close();
                }
                ui.menu_button("Recent", |ui| {
                    if self.recent.is_empty() {
                        ui.label(RichText::new("no recent dumps").weak());
                    }
                    for path in &self.recent {
                        let name = path.file_name().map_or_else(
                            || path.display().to_string(),
                            |n| n.to_string_lossy().into_owned(),
                        );
                        if ui
                            .button(name)
                            .on_hover_text(path.display().to_string())
                            .clicked()
                        {
                            out.push(Command::Open(path.clone()));
                            ui.close();
                        }
                    }
                });
                if let Some(l) = &self.loaded {
                    super::overview::dumps_menu(ui, &l.session, out);
                }
                ui.separator();
                if ui
                    .add_enabled(self.loaded.is_some(), egui::Button::new("Close dump"))
                    .clicked()
                {
                    out.push(Command::CloseDump);
                    ui.close();
                }
                if ui.button("Quit  (Ctrl+Q)").clicked() {
                    out.push(Command::Quit);
                    ui.close();
                }
            });
            if let Some(l) = &self.loaded {
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
                if let Some(l) = &self.loaded {
                    if ui
                        .selectable_label(self.hints_open, "Hints")
                        .on_hover_text("Show or hide the hints panel (F9)")
                        .clicked()
                    {
                        out.push(Command::ToggleHints);
                    }
                    let a = &l.session.analysis;
                    let name = l.session.path.file_name().map_or_else(
                        || l.session.path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    let summary = format!(
                        "{name}  ·  {} objects  ·  {}  ·  opened in {:.1} s",
                        format::thousands(a.index.object_count() as u64),
                        format::bytes(a.histogram.total_shallow_bytes),
                        l.session.load_seconds
                    );
                    ui.add(egui::Label::new(RichText::new(&summary).weak()).truncate())
                        .on_hover_text(l.session.path.display().to_string());
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
            self.commands.push(Command::Open(path));
        }
        let shortcuts = [
            (
                KeyboardShortcut::new(Modifiers::COMMAND, Key::O),
                Command::OpenDialog,
            ),
            (
                KeyboardShortcut::new(Modifiers::COMMAND, Key::L),
                Command::OpenPrompt,
            ),
            (
                KeyboardShortcut::new(Modifiers::COMMAND, Key::Q),
                Command::Quit,
            ),
            (
                KeyboardShortcut::new(Modifiers::ALT, Key::ArrowLeft),
                Command::Back,
            ),
            (
                KeyboardShortcut::new(Modifiers::ALT, Key::ArrowRight),
                Command::Forward,
            ),
            (
                KeyboardShortcut::new(Modifiers::NONE, Key::F9),
                Command::ToggleHints,
            ),
        ];
        ctx.input_mut(|i| {
            for (shortcut, command) in shortcuts {
                if i.consume_shortcut(&shortcut) {
                    self.commands.push(command);
                }
            }
            if self.loading.is_some() && i.consume_key(Modifiers::NONE, Key::Escape) {
                self.commands.push(Command::CancelLoad);
            }
        });
        self.chooser.poll(&mut self.commands);

        if let Some(loading) = &mut self.loading {
            match loading.job.poll() {
                Some(outcome) => self.finish_load(outcome, ctx),
                // Four frames a second: enough for the bars and the clock, and a frame
                // drawn in software (a VM, a remote display) takes CPU from the analysis:
                // at ten a second the loading screen cost a quarter of a core.
                None => ctx.request_repaint_after(std::time::Duration::from_millis(250)),
            }
        }

        if let Some(l) = &mut self.loaded {
            l.poll_index_writer(ctx);
        }

        for command in std::mem::take(&mut self.commands) {
            self.handle(command, ctx);
        }
    }

    /// A closing window lets the index file's write finish: the next open of the dump then
    /// takes a second instead of the whole analysis.
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(writer) = self.loaded.as_mut().and_then(|l| l.index_writer.as_mut()) {
            eprintln!("heapsight: finishing the index file before exiting");
            writer.finish();
        }
        // Those of dumps replaced since: cancelled, their partial files being removed.
        super::index_writer::wait_for_writes();
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        let started = std::time::Instant::now();
        self.frame(ui);
        if let Some(times) = &mut self.frame_times {
            times.record(started);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if let Ok(s) = serde_json::to_string(&self.recent) {
            storage.set_string(RECENT_KEY, s);
        }
    }
}

impl HeapsightApp {
    /// Lays out one frame.
    fn frame(&mut self, ui: &mut Ui) {
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar(ui));
        let mut out = Vec::new();
        if let Some(status) = &self.status {
            let mut close = false;
            egui::Panel::bottom("status").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(status);
                    close = ui.small_button("Dismiss").clicked();
                });
            });
            if close {
                self.status = None;
            }
        }
        self.chooser.ui(ui.ctx(), &mut out);
        if let Some(loading) = &mut self.loading {
            let previous = self.loaded.as_ref().map(|l| l.session.path.clone());
            egui::CentralPanel::default().show(ui, |ui| {
                loading
                    .view
                    .ui(ui, &loading.job, previous.as_deref(), &mut out)
            });
        } else if let Some(l) = &mut self.loaded {
            let place = l.place().clone();
            // Bounded widths: a long value never widens a panel (it is cut, with the whole
            // text on hover), and the middle keeps at least half the window, and 540 points
            // (every table's least width) while the side panels can give them up.
            let width = ui.available_width();
            let max_side = ((width - 540.0) / 2.0).clamp(230.0, (width * 0.25).max(230.0));
            let inspector = egui::Panel::left("inspector")
                .resizable(true)
                .default_size(300.0_f32.min(max_side))
                .size_range(200.0..=max_side.max(200.0))
                .show(ui, |ui| {
                    confined(ui, |ui| l.inspector.ui(ui, &l.session, &place, &mut out));
                })
                .response
                .rect
                .width();
            let hints = egui::Panel::right("hints")
                .resizable(true)
                .default_size(320.0_f32.min(max_side))
                .size_range(220.0..=max_side.max(220.0))
                .show_collapsible(ui, &mut self.hints_open, |ui| {
                    confined(ui, |ui| l.hints.ui(ui, &l.session, &mut out))
                })
                .map_or(0.0, |r| r.response.rect.width());
            self.panel_widths = Some((inspector, hints));
            egui::CentralPanel::default().show(ui, |ui| {
                // A view fits the middle (its tables shrink, its text wraps); narrower than
                // its least width it scrolls sideways rather than growing the middle over
                // the side panels.
                egui::ScrollArea::horizontal()
                    .id_salt(place.tab)
                    .auto_shrink([false, false])
                    .show(ui, |ui| match place.tab {
                        Tab::Overview => l.overview.ui(ui, &l.session, &place, &mut out),
                        Tab::Histogram => l.histogram.ui(ui, &l.session, &place, &mut out),
                        Tab::Dominators => l.dominators.ui(ui, &l.session, &place, &mut out),
                        Tab::Paths => l.paths.ui(ui, &l.session, &place, &mut out),
                        Tab::Threads => l.threads.ui(ui, &l.session, &place, &mut out),
                    });
            });
        } else {
            let error = self.error.clone();
            egui::CentralPanel::default().show(ui, |ui| {
                start::ui(ui, &self.recent, error.as_deref(), &mut out)
            });
        }
        if !out.is_empty() {
            self.commands.extend(out);
            ui.ctx().request_repaint();
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
