//! The heapsight command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use heapsight::analysis::dominators::ReferenceMode;
use heapsight::analysis::paths::PathMode;
use heapsight::analysis::{Analysis, IndexStatus, OpenError, OpenOptions};
use heapsight::heap::store::is_index_file;
use heapsight::heap::Census;
use heapsight::hprof::DumpSource;
use heapsight::progress::terminal::TerminalBar;
use heapsight::progress::Progress;
use heapsight::report::{
    build_report, build_report_json, census_report, path_report, render_dominator_tree,
    render_paths, render_text, ReportOptions,
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
    /// Analyse from scratch: read and write no index file
    #[arg(long)]
    no_index: bool,
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
        /// Which heap dump of a file holding several (1 = first; default: the last)
        #[arg(long = "dump", value_name = "N")]
        dump_number: Option<usize>,
        /// Analyse from scratch: read and write no index file
        #[arg(long)]
        no_index: bool,
    },
    /// Analyse a dump and write its index file (beside it, or in the cache directory), so
    /// the next open is instant; copy that file to browse the analysis without the dump.
    Index { dump: PathBuf },
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
        /// Which heap dump of a file holding several (1 = first; default: the last)
        #[arg(long = "dump", value_name = "N")]
        dump_number: Option<usize>,
        /// Analyse from scratch: read and write no index file
        #[arg(long)]
        no_index: bool,
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
        /// Which heap dump of a file holding several (1 = first; default: the last)
        #[arg(long = "dump", value_name = "N")]
        dump_number: Option<usize>,
        /// Analyse from scratch: read and write no index file
        #[arg(long)]
        no_index: bool,
    },
}

/// CPUID leaf 1, ECX bit 23.
#[cfg(all(target_arch = "x86_64", target_feature = "popcnt"))]
fn cpu_has_popcnt() -> bool {
    // SAFETY: CPUID leaf 1 exists on every x86-64 CPU.
    #[allow(unused_unsafe)]
    let leaf = unsafe { std::arch::x86_64::__cpuid(1) };
    leaf.ecx & (1 << 23) != 0
}

fn main() -> ExitCode {
    // Built for x86-64-v2 (.cargo/config.toml): say so rather than die of SIGILL. CPUID
    // itself, not `is_x86_feature_detected!`, which is constant true in such a build.
    #[cfg(all(target_arch = "x86_64", target_feature = "popcnt"))]
    if !cpu_has_popcnt() {
        eprintln!(
            "heapsight: this build needs an x86-64 CPU with POPCNT (x86-64-v2, 2009 or later); rebuild without .cargo/config.toml for older ones"
        );
        return ExitCode::FAILURE;
    }
    heapsight::memory::return_freed_memory_promptly();
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

/// Opens heap dump `number` of the file (`None`: the last) for the census.
fn open_source(
    dump: &Path,
    number: Option<usize>,
    progress: &Progress,
) -> Result<DumpSource, heapsight::hprof::HprofError> {
    let mut source = DumpSource::open(dump, progress)?;
    source.select_dump(number);
    Ok(source)
}

/// Opens a dump (through its index file unless `no_index`) or an index file alone, and says
/// on stderr what happened with the index. `release_graph`: the command needs no referrers.
fn analyse(
    dump: &Path,
    strong_only: bool,
    no_index: bool,
    dump_number: Option<usize>,
    (progress, bar): (&Progress, &TerminalBar),
    release_graph: bool,
) -> anyhow::Result<(Arc<Analysis>, IndexStatus)> {
    let options = OpenOptions {
        references: if strong_only {
            ReferenceMode::StrongOnly
        } else {
            ReferenceMode::All
        },
        no_index,
        dump: dump_number,
        release_graph,
    };
    let (analysis, status) = match Analysis::open(dump, &options, progress) {
        Err(OpenError::Cancelled) => bail!("cancelled; no index file written"),
        other => other.with_context(|| format!("cannot read {}", dump.display()))?,
    };
    bar.finish();
    for note in &status.notes {
        eprintln!("heapsight: {note}");
    }
    if status.state != heapsight::analysis::IndexState::Disabled {
        eprintln!("heapsight: {}", status.summary());
    }
    Ok((Arc::new(analysis), status))
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
        heapsight::analysis::persist::set_window_no_index(cli.no_index);
        return run_window(cli);
    };
    let progress = Arc::new(Progress::new());
    let bar = heapsight::progress::terminal::attach(&progress);
    let progress = (&*progress, &bar);
    match command {
        Command::Report {
            dump,
            json,
            top,
            histogram_only,
            strong_only,
            dump_number: number,
            no_index,
        } => {
            let top = match top {
                Some(0) => None,
                Some(n) => Some(n),
                None if json => None,
                None => Some(30),
            };
            let options = ReportOptions { top };
            let report = if histogram_only && !is_index_file(&dump) {
                // Counting per class needs no index: no object numbers, no per-object arrays.
                let census = open_source(&dump, number, progress.0)
                    .and_then(|source| Census::from_source(source, progress.0))
                    .with_context(|| format!("cannot read {}", dump.display()))?;
                census_report(&census, options)
            } else {
                let (analysis, status) =
                    analyse(&dump, strong_only, no_index, number, progress, true)?;
                progress.0.mark("analysis");
                let a = Some(&*analysis);
                let mut report = if json {
                    build_report_json(&analysis.index, a, options)
                } else {
                    build_report(&analysis.index, a, options)
                };
                report.index_file = status.path.map(|p| p.display().to_string());
                // The process ends once the report is out: giving a gigabyte of arrays back
                // to the kernel page by page would only delay the exit.
                std::mem::forget(analysis);
                report
            };
            progress.0.mark("report");
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
            no_index,
            dump_number,
        } => {
            let address = parse_id(&id)?;
            let (analysis, status) = analyse(&dump, false, no_index, dump_number, progress, false)?;
            let index = &analysis.index;
            let Some(target) = index.find(address) else {
                bail!("no object with id 0x{address:x} in {}", dump.display());
            };
            let mode = if include_weak {
                PathMode::IncludeWeak
            } else {
                PathMode::ExcludeWeak
            };
            if status.state == heapsight::analysis::IndexState::IndexOnly {
                if include_weak {
                    bail!(
                        "paths through weak references need the dump: {}",
                        status.summary()
                    );
                }
                if limit > 1 {
                    eprintln!(
                        "heapsight: the index alone holds one shortest path per object; more \
                         paths need the dump"
                    );
                }
            }
            let report = path_report(&analysis, target, mode, limit.max(1));
            progress.0.mark("path query");
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
            no_index,
            dump_number,
        } => {
            let (analysis, _) = analyse(&dump, strong_only, no_index, dump_number, progress, true)?;
            emit(&render_dominator_tree(&analysis, depth, min_percent))?;
        }
        Command::Index { dump } => {
            let (analysis, status) = analyse(&dump, false, false, None, progress, true)?;
            if status.path.is_none() {
                bail!("no index file written for {}", dump.display());
            }
            let objects = analysis.index.object_count();
            emit(&format!("{} ({objects} objects)\n", status.summary()))?;
            std::mem::forget(analysis);
        }
    }
    bar.finish();
    progress.0.start(heapsight::progress::Phase::Done, 0);
    Ok(())
}
