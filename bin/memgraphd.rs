//! The `memgraphd` command: parses arguments, sets up logging, and hands
//! over to the library ([`memgraphd::cli`]).

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use memgraphd::cli::{self, Cli};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("memgraphd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Cli) -> anyhow::Result<ExitCode> {
    let paths = args.paths().context("resolving paths")?;
    cli::logging::init(&args.command, &paths);
    // One thread runs all async work, the daemon's included: its tasks only
    // move bytes and hand jobs to the writer thread, and a single thread
    // wakes less often than a pool (16 sessions write faster this way).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let exit = runtime.block_on(cli::run(args.command, paths))?;
    Ok(exit.into())
}
