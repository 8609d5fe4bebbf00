//! The heapsight command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use heapsight::heap::HeapIndex;
use heapsight::progress::Progress;
use heapsight::report::{build_report, render_text, ReportOptions};

#[derive(Parser)]
#[command(
    name = "heapsight",
    version,
    about = "A fast viewer for Java heap dumps (HPROF)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a dump and print its summary and class histogram.
    Report {
        /// The heap dump (.hprof, or gzip-compressed)
        dump: PathBuf,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// Histogram rows to print (0 = all); default 30 for text, all for JSON
        #[arg(long)]
        top: Option<usize>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heapsight: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Report { dump, json, top } => {
            let index = HeapIndex::open(&dump, &Progress::new())
                .with_context(|| format!("cannot read {}", dump.display()))?;
            let top = match top {
                Some(0) => None,
                Some(n) => Some(n),
                None if json => None,
                None => Some(30),
            };
            let report = build_report(&index, ReportOptions { top });
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", render_text(&report));
            }
            Ok(())
        }
    }
}
