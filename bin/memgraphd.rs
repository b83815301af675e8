//! The `memgraphd` command: parses arguments, sets up logging, and hands
//! over to the library ([`memgraphd::cli`]).

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use memgraphd::cli::{self, Cli};

fn main() -> ExitCode {
    let args = match Cli::try_parse() {
        Ok(args) => args,
        // Claude Code blocks the user's prompt when a hook exits with 2,
        // clap's code for bad arguments: a hook never does.
        Err(_) if std::env::args().skip(1).any(|a| a == "hook") => {
            return ExitCode::SUCCESS;
        }
        Err(e) => e.exit(),
    };
    let hook = args.command.is_hook();
    match run(args) {
        Ok(_) if hook => ExitCode::SUCCESS,
        Ok(code) => code,
        // A hook logs its own failures; what fails before it runs (no
        // home directory, no runtime) it swallows, for the same reason.
        Err(_) if hook => ExitCode::SUCCESS,
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
