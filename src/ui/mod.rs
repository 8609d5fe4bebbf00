//! The desktop app (egui). Views read `analysis` results only; all state changes go through
//! [`Command`]s handled in `App::logic`, drawing happens in `App::ui`.

mod app;
mod charts;
pub mod dominators;
mod frame_times;
mod hints;
pub mod histogram;
mod index_writer;
pub mod inspector;
mod loader;
mod loading;
mod name_filter;
pub mod open;
pub mod overview;
pub mod paths;
mod start;
mod startup;
pub mod task;
pub mod threads;
pub mod tree_table;
pub mod widgets;

use std::path::PathBuf;
use std::sync::Arc;

pub use app::HeapsightApp;
pub use loader::{LoadJob, LoadOutcome};
pub use startup::StartupAction;

use crate::analysis::advice::{jvm_advice, Advice};
use crate::analysis::hints::{leak_hints, Hint};
use crate::analysis::histogram::size_distribution;
use crate::analysis::label::{NamedClasses, ObjectLabel};
use crate::analysis::verdict::{verdict, Verdict};
use crate::analysis::{Analysis, IndexStatus};
use crate::heap::{ClassIndex, ObjectId};
use crate::progress::Progress;

/// The app's look: egui's fonts plus Hack as a fallback for proportional text, for the arrows and triangles
/// (← → ▶ ▼) that Ubuntu-Light lacks.
pub fn install_style(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(family) = fonts.families.get_mut(&egui::FontFamily::Proportional) {
        if !family.iter().any(|f| f == "Hack") {
            family.push("Hack".to_owned());
        }
    }
    ctx.set_fonts(fonts);
    // Rows of tables are clickable; labels that select text would swallow those clicks.
    ctx.all_styles_mut(|style| style.interaction.selectable_labels = false);
}

/// The gzip sample dump of `assets/`, embedded so an installed binary can open it.
pub const SAMPLE_DUMP: &[u8] = include_bytes!("../../assets/sample.hprof.gz");

/// The sample dump as a file: the embedded bytes written into the user's cache directory
/// (`~/.cache/heapsight/sample.hprof.gz` on Linux), only when missing or different and
/// atomically (a temporary file renamed into place); the system's temporary directory when
/// the cache directory is not writable.
pub fn sample_dump_path() -> PathBuf {
    let dirs = [dirs::cache_dir(), Some(std::env::temp_dir())];
    let mut first = None;
    for dir in dirs.into_iter().flatten() {
        let path = dir.join("heapsight").join("sample.hprof.gz");
        if write_sample(&path).is_ok() {
            return path;
        }
        first.get_or_insert(path);
    }
    // Nowhere writable: opening the path reports why.
    first.unwrap_or_else(|| PathBuf::from("sample.hprof.gz"))
}

fn write_sample(path: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write as _;
    let same = std::fs::metadata(path).is_ok_and(|m| m.len() == SAMPLE_DUMP.len() as u64)
        && std::fs::read(path).is_ok_and(|b| b == SAMPLE_DUMP);
    if same {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(SAMPLE_DUMP)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Opens the window; with `path`, loads that dump at once, then goes to `after_load`.
pub fn run(
    path: Option<PathBuf>,
    theme: Option<egui::Theme>,
    after_load: Vec<StartupAction>,
) -> eframe::Result {
    // HEAPSIGHT_WINDOW_SIZE=1280x720 and HEAPSIGHT_ZOOM=2: for screenshots and for trying
    // small screens and high-DPI scaling on any display.
    let size = std::env::var("HEAPSIGHT_WINDOW_SIZE")
        .ok()
        .and_then(|s| {
            let (w, h) = s.split_once('x')?;
            Some([w.trim().parse::<f32>().ok()?, h.trim().parse::<f32>().ok()?])
        })
        .unwrap_or([1400.0, 860.0]);
    let zoom = std::env::var("HEAPSIGHT_ZOOM")
        .ok()
        .and_then(|z| z.parse::<f32>().ok())
        .filter(|z| (0.5..=4.0).contains(z));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("heapsight")
            .with_inner_size(size)
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        // A size asked for in the environment wins over the one remembered from last time.
        persist_window: std::env::var_os("HEAPSIGHT_WINDOW_SIZE").is_none(),
        ..Default::default()
    };
    // A write of an index file stops cleanly: no temporary file left beside the dump.
    let _ = ctrlc::set_handler(|| index_writer::stop_writes_and_exit());
    eframe::run_native(
        "heapsight",
        options,
        Box::new(move |cc| {
            if let Some(t) = theme {
                cc.egui_ctx.set_theme(t);
            }
            if let Some(z) = zoom {
                cc.egui_ctx.set_zoom_factor(z);
            }
            Ok(Box::new(HeapsightApp::new(cc, path, after_load)))
        }),
    )
}

/// A loaded dump and everything computed from it.
pub struct Session {
    pub path: PathBuf,
    pub analysis: Arc<Analysis>,
    pub hints: Vec<Hint>,
    pub advice: Advice,
    pub load_seconds: f64,
    /// Which classes are threads and loaders, for labels with names.
    pub names: NamedClasses,
    /// The answer in a few sentences, from the hints.
    pub verdict: Verdict,
    /// How the index file served this open, or that it is being written.
    pub index_status: Option<IndexStatus>,
    /// The index file's write while it runs behind the window.
    pub index_progress: Option<Arc<Progress>>,
    /// Objects and bytes per power-of-two shallow size (the overview's chart).
    pub size_distribution: Vec<(u64, u64)>,
    /// GC roots of each kind (the overview's line; a big dump has millions of roots).
    pub gc_roots: std::collections::BTreeMap<&'static str, u64>,
}

impl Session {
    /// Hints and advice for an analysed dump: those saved with its index, else computed.
    pub fn new(path: PathBuf, analysis: Arc<Analysis>, load_seconds: f64) -> Session {
        let (hints, advice) = analysis
            .saved_findings
            .as_ref()
            .and_then(|saved| saved.parse())
            .unwrap_or_else(|| {
                let hints = leak_hints(&analysis);
                let advice = jvm_advice(&analysis, &hints);
                (hints, advice)
            });
        let names = NamedClasses::new(&analysis.index);
        let verdict = verdict(&analysis, &hints);
        let size_distribution = size_distribution(&analysis.index);
        Session {
            verdict,
            size_distribution,
            gc_roots: analysis.index.roots_by_kind(),
            path,
            analysis,
            hints,
            advice,
            load_seconds,
            names,
            index_status: None,
            index_progress: None,
        }
    }

    /// The parts of `o`'s label (with thread and loader names).
    pub fn label(&self, o: ObjectId) -> ObjectLabel {
        ObjectLabel::of(&self.analysis.index, &self.names, o)
    }
}

/// The main views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Overview,
    Histogram,
    Dominators,
    Paths,
    Threads,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Overview,
        Tab::Histogram,
        Tab::Dominators,
        Tab::Paths,
        Tab::Threads,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Histogram => "Histogram",
            Tab::Dominators => "Dominator tree",
            Tab::Paths => "Paths to GC roots",
            Tab::Threads => "Threads",
        }
    }
}

/// What the paths view explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathTarget {
    /// Shortest paths of one object.
    Object(ObjectId),
    /// Merged shortest paths of all instances of a class.
    Class(ClassIndex),
}

/// Where the user is: restored by back and forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub tab: Tab,
    pub selected: Option<ObjectId>,
    pub path_target: Option<PathTarget>,
}

/// Everything a view can ask the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The system file chooser (or the path field when there is none).
    OpenDialog,
    /// The path field.
    OpenPrompt,
    Open(PathBuf),
    OpenSample,
    /// Heap dump number N (1-based) of the file on screen, when it holds several.
    OpenDump(usize),
    CancelLoad,
    CloseDump,
    ShowTab(Tab),
    /// Select an object: the inspector shows it.
    Select(ObjectId),
    /// Move the selection without a new history entry (keyboard).
    Cursor(ObjectId),
    ShowPaths(PathTarget),
    /// Open the dominator tree expanded down to this object.
    RevealInDominatorTree(ObjectId),
    Back,
    Forward,
    Copy(String),
    /// Ask where to save `contents` as CSV.
    SaveCsv {
        file_name: String,
        contents: String,
    },
    WriteFile {
        path: PathBuf,
        contents: String,
    },
    ToggleHints,
    /// Open hint `i` in the hints panel and the paths of its first evidence.
    ShowHint(usize),
    Quit,
}
