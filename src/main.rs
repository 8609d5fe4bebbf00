//! The heapsight command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use heapsight::analysis::dominators::ReferenceMode;
use heapsight::analysis::graph::build_graph;
use heapsight::analysis::paths::{PathMode, RootIndex};
use heapsight::analysis::{Analysis, AnalysisOptions};
use heapsight::heap::{Census, HeapIndex};
use heapsight::progress::Progress;
use heapsight::report::{
    build_report, census_report, path_report, render_dominator_tree, render_paths, render_text,
    ReportOptions,
};

#[derive(Parser)]
#[command(
    name = "heapsight",
    version,
    about = "A fast viewer for Java heap dumps (HPROF)",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A heap dump to open in the window (the bundled sample dump when none is given)
    file: Option<PathBuf>,
    /// Window only: the view to show once loaded
    #[arg(long, value_enum)]
    view: Option<View>,
    /// Window only: show merged paths to GC roots of this class once loaded
    #[arg(long, value_name = "CLASS")]
    paths_of: Option<String>,
    /// Window only: select this object (0x…) once loaded
    #[arg(long, value_name = "ID")]
    select: Option<String>,
    /// Window only: expand the dominator tree to this object (0x…) once loaded
    #[arg(long, value_name = "ID")]
    reveal: Option<String>,
    /// Window only: colour theme
    #[arg(long, value_enum)]
    theme: Option<ThemeArg>,
    /// Window only: open hint N (1 = the first) and draw the path of its evidence
    #[arg(long, value_name = "N")]
    hint: Option<usize>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum View {
    Overview,
    Histogram,
    Dominators,
    Paths,
    Threads,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ThemeArg {
    Light,
    Dark,
}

#[derive(Subcommand)]
enum Command {
    /// Read a dump and print its summary, class histogram and biggest objects.
    Report {
        /// The heap dump (.hprof, or gzip-compressed)
        dump: PathBuf,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// Rows to print (0 = all); default 30 for text, all for JSON
        #[arg(long)]
        top: Option<usize>,
        /// Only the class histogram: skip the reference graph and retained sizes
        #[arg(long)]
        histogram_only: bool,
        /// Dominator tree over strong references only (ignore Reference.referent)
        #[arg(long)]
        strong_only: bool,
    },
    /// Print the shortest paths from GC roots to one object.
    Path {
        dump: PathBuf,
        /// Object id as in the dump, e.g. 0x7f0012345678
        id: String,
        #[arg(long)]
        json: bool,
        /// Allow paths through weak, soft, phantom and final references
        #[arg(long)]
        include_weak: bool,
        /// How many paths (to distinct GC roots)
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
    /// Print the dominator tree as indented text.
    Dominators {
        dump: PathBuf,
        /// Levels below the GC roots to print
        #[arg(long, default_value_t = 4)]
        depth: usize,
        /// Hide nodes retaining less than this percentage of the reachable heap
        #[arg(long, default_value_t = 1.0)]
        min_percent: f64,
        /// Dominator tree over strong references only (ignore Reference.referent)
        #[arg(long)]
        strong_only: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `heapsight … | head`: the reader left; that is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heapsight: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes the output, reporting a closed pipe as an error instead of panicking like `print!`.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    emit(&(serde_json::to_string_pretty(value)? + "\n"))
}

fn open(dump: &Path, progress: &Progress) -> anyhow::Result<Arc<HeapIndex>> {
    let index = HeapIndex::open(dump, progress)
        .with_context(|| format!("cannot read {}", dump.display()))?;
    Ok(Arc::new(index))
}

fn analyse(
    index: Arc<HeapIndex>,
    strong_only: bool,
    progress: &Progress,
) -> anyhow::Result<Analysis> {
    let options = AnalysisOptions {
        references: if strong_only {
            ReferenceMode::StrongOnly
        } else {
            ReferenceMode::All
        },
    };
    Ok(Analysis::run(index, options, progress)?)
}

fn parse_id(s: &str) -> anyhow::Result<u64> {
    Ok(heapsight::analysis::ids::parse_object_id(s)?)
}

fn run_window(cli: Cli) -> anyhow::Result<()> {
    use heapsight::ui::{StartupAction, Tab};
    let file = cli.file.unwrap_or_else(heapsight::ui::sample_dump_path);
    let mut after_load = Vec::new();
    if let Some(id) = &cli.reveal {
        after_load.push(StartupAction::Reveal(parse_id(id)?));
    }
    if let Some(id) = &cli.select {
        after_load.push(StartupAction::Select(parse_id(id)?));
    }
    if let Some(n) = cli.hint {
        after_load.push(StartupAction::Hint(n.saturating_sub(1)));
    }
    if let Some(v) = cli.view {
        after_load.push(StartupAction::Tab(match v {
            View::Overview => Tab::Overview,
            View::Histogram => Tab::Histogram,
            View::Dominators => Tab::Dominators,
            View::Paths => Tab::Paths,
            View::Threads => Tab::Threads,
        }));
    }
    if let Some(class) = cli.paths_of {
        after_load.push(StartupAction::PathsOfClass(class));
    }
    let theme = cli.theme.map(|t| match t {
        ThemeArg::Light => egui::Theme::Light,
        ThemeArg::Dark => egui::Theme::Dark,
    });
    heapsight::ui::run(Some(file), theme, after_load)
        .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

fn run(mut cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command.take() else {
        return run_window(cli);
    };
    let progress = Progress::new();
    match command {
        Command::Report {
            dump,
            json,
            top,
            histogram_only,
            strong_only,
        } => {
            let top = match top {
                Some(0) => None,
                Some(n) => Some(n),
                None if json => None,
                None => Some(30),
            };
            let options = ReportOptions { top };
            let report = if histogram_only {
                // Counting per class needs no index: no object numbers, no per-object arrays.
                let census = Census::open(&dump, &progress)
                    .with_context(|| format!("cannot read {}", dump.display()))?;
                census_report(&census, options)
            } else {
                let index = open(&dump, &progress)?;
                let analysis = analyse(index.clone(), strong_only, &progress)?;
                progress.mark("analysis");
                let report = build_report(&index, Some(&analysis), options);
                // The process ends once the report is out: giving a gigabyte of arrays back
                // to the kernel page by page would only delay the exit.
                std::mem::forget(analysis);
                report
            };
            progress.mark("report");
            if json {
                emit_json(&report)?;
            } else {
                emit(&render_text(&report))?;
            }
        }
        Command::Path {
            dump,
            id,
            json,
            include_weak,
            limit,
        } => {
            let address = parse_id(&id)?;
            let index = open(&dump, &progress)?;
            let Some(target) = index.find(address) else {
                bail!("no object with id 0x{address:x} in {}", dump.display());
            };
            let graph = build_graph(&index, &progress)?;
            let roots = RootIndex::new(&index);
            let mode = if include_weak {
                PathMode::IncludeWeak
            } else {
                PathMode::ExcludeWeak
            };
            progress.mark("graph");
            let report = path_report(&index, &graph, &roots, target, mode, limit.max(1));
            progress.mark("path query");
            if json {
                emit_json(&report)?;
            } else {
                emit(&render_paths(&report))?;
            }
        }
        Command::Dominators {
            dump,
            depth,
            min_percent,
            strong_only,
        } => {
            let analysis = analyse(open(&dump, &progress)?, strong_only, &progress)?;
            emit(&render_dominator_tree(&analysis, depth, min_percent))?;
        }
    }
    progress.start(heapsight::progress::Phase::Done, 0);
    Ok(())
}
