//! The `memgraphd` command: parses arguments, sets up logging, and hands
//! over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use memgraphd::shim::{self, ShimConfig};
use memgraphd::store::Durability;

#[derive(Parser)]
#[command(
    name = "memgraphd",
    version,
    about = "Knowledge-graph memory for AI coding agents, shared safely by every session"
)]
struct Cli {
    /// The database file.
    #[arg(long, env = "MEMGRAPHD_DB", global = true)]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve one MCP session on stdin/stdout (what an MCP client launches).
    Mcp,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("memgraphd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let db = cli
        .db
        .context("no database: pass --db or set MEMGRAPHD_DB")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        Command::Mcp => runtime
            .block_on(shim::run(ShimConfig {
                db_path: db,
                durability: Durability::Full,
            }))
            .context("mcp session")?,
    }
    Ok(())
}
