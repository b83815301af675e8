//! Where each subcommand logs: the daemon to its log file (rotated when it
//! grows large), everything else to stderr, never to stdout, which is the
//! MCP channel of `memgraphd mcp` and the output of the admin commands.

use std::path::Path;

use tracing_subscriber::filter::LevelFilter;

use super::Command;
use crate::config::Paths;

/// Log files past this size are rotated to `<log>.1` when the daemon starts.
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

/// Sets up logging for `command`. `RUST_LOG` sets the level: error, warn,
/// info, debug or trace.
pub fn init(command: &Command, paths: &Paths) {
    match command {
        // Quiet by default: the MCP client shows a server's stderr to the user.
        Command::Mcp { .. } => init_with(None, LevelFilter::ERROR),
        // A spawned daemon's stderr goes nowhere: the log is where its user
        // will look.
        Command::Serve { .. } => init_with(Some(&paths.log), LevelFilter::INFO),
        // A hook's stdout is the model's context and its stderr nobody's:
        // the log is the one place its problems can be read.
        Command::Hook { .. } => init_with(Some(&paths.log), LevelFilter::WARN),
        _ => init_with(None, LevelFilter::WARN),
    }
}

fn init_with(file: Option<&Path>, default: LevelFilter) {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse::<LevelFilter>().ok())
        .unwrap_or(default);
    let builder = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_target(false)
        .with_max_level(level);
    let log = file.and_then(|path| match open_log(path) {
        Ok(log) => Some(log),
        Err(e) => {
            eprintln!(
                "memgraphd: cannot open log {}: {e}; logging to stderr",
                path.display()
            );
            None
        }
    });
    // A subscriber is already set only in tests, which keep theirs.
    let _ = match log {
        Some(log) => builder.with_writer(std::sync::Mutex::new(log)).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let mut old = path.as_os_str().to_owned();
        old.push(".1");
        std::fs::rename(path, old)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}
