//! The `memgraphd` command: parses arguments, sets up logging, and hands
//! over to the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use memgraphd::admin::{doctor, transfer};
use memgraphd::client::{ClientConfig, ClientError};
use memgraphd::config::Paths;
use memgraphd::daemon::{self, DaemonConfig};
use memgraphd::store::Durability;
use tracing_subscriber::filter::LevelFilter;

/// Knowledge-graph memory for AI coding agents, shared safely by every session.
///
/// Register it with an MCP client, e.g.:
///   claude mcp add memory -s user -- memgraphd mcp
#[derive(Parser)]
#[command(name = "memgraphd", version, about, long_about = None, verbatim_doc_comment)]
struct Cli {
    /// The database file [default: the OS data dir, e.g. ~/.local/share/memgraphd/memory.db]
    #[arg(long, env = "MEMGRAPHD_DB", global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// The daemon's socket [default: derived from the database path]
    #[arg(long, env = "MEMGRAPHD_SOCKET", global = true, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// The daemon's log file [default: memgraphd.log beside the database]
    #[arg(long, env = "MEMGRAPHD_LOG", global = true, value_name = "PATH")]
    log: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve one MCP session on stdin/stdout; starts the daemon if needed.
    ///
    /// This is what an MCP client launches, e.g.:
    ///   claude mcp add memory -s user -- memgraphd mcp
    /// or, trading power-loss safety for speed, with its own database:
    ///   memgraphd mcp --durability normal --db ~/notes/memory.db
    #[command(verbatim_doc_comment)]
    Mcp {
        #[command(flatten)]
        daemon: DaemonArgs,
        /// Cut a read without limit whose answer would be longer than this
        /// many characters, with a cursor for the rest; 0 turns the guard off
        #[arg(long, env = "MEMGRAPHD_MAX_RESULT_CHARS", value_name = "CHARS",
              default_value_t = memgraphd::shim::call::DEFAULT_MAX_RESULT_CHARS)]
        max_result_chars: u64,
        /// all: the nine official tools and memgraphd's own; official: exactly the nine
        #[arg(long, env = "MEMGRAPHD_TOOLS", value_enum, default_value_t = ToolsArg::All)]
        tools: ToolsArg,
    },
    /// Run the daemon in the foreground (for systemd or launchd).
    ///
    /// Shims start it by themselves; run it by hand to supervise it:
    ///   memgraphd serve --idle-timeout 0
    #[command(verbatim_doc_comment)]
    Serve {
        #[command(flatten)]
        daemon: DaemonArgs,
    },
    /// Show the running daemon: version, uptime, paths, sizes, counts.
    ///
    /// Exits non-zero when no daemon runs; never starts one.
    ///   memgraphd status
    #[command(verbatim_doc_comment)]
    Status,
    /// Stop the running daemon after it commits and checkpoints.
    ///
    ///   memgraphd stop
    #[command(verbatim_doc_comment)]
    Stop,
    /// Merge a memory file into the store, through the daemon.
    ///
    /// Reads the official server's memory.jsonl (or the legacy memory.json)
    /// or a @pepk/mcp-memory-sqlite database. Existing entities get the
    /// file's observations added; bad lines are reported and skipped.
    ///   memgraphd import ~/.npm/_npx/<hash>/node_modules/@modelcontextprotocol/server-memory/dist/memory.jsonl
    ///   memgraphd import --dry-run memory.jsonl
    #[command(verbatim_doc_comment)]
    Import {
        /// The file to read
        file: PathBuf,
        /// Read and report, write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the whole graph in the official memory.jsonl format.
    ///
    /// To stdout, or to FILE (written atomically). The official server can
    /// read it back, so you can always go back:
    ///   memgraphd export > memory.jsonl
    ///   memgraphd export memory.jsonl
    #[command(verbatim_doc_comment)]
    Export {
        /// Where to write [default: stdout]
        file: Option<PathBuf>,
    },
    /// Write a consistent copy of the live database, and check it.
    ///
    /// Safe while sessions write. FILE must not exist.
    ///   memgraphd backup ~/memgraphd-backup.db
    #[command(verbatim_doc_comment)]
    Backup {
        /// The new database file
        file: PathBuf,
    },
    /// Check the installation and say what to do about any problem.
    ///
    /// Looks at the database (integrity_check), the WAL, the lock, the
    /// socket and its permissions, and the daemon's version.
    ///   memgraphd doctor
    #[command(verbatim_doc_comment)]
    Doctor,
}

/// How a daemon runs (used by `serve`, and passed on by `mcp` when it
/// starts one).
#[derive(clap::Args, Clone)]
struct DaemonArgs {
    /// full: a commit survives power loss; normal: faster, may lose the last commits on power loss
    #[arg(long, value_enum, default_value_t = DurabilityArg::Full)]
    durability: DurabilityArg,
    /// Exit after this long with no session, e.g. 30m, 2h, 90s; 0 never exits
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    idle_timeout: Duration,
}

#[derive(ValueEnum, Clone, Copy)]
enum ToolsArg {
    All,
    Official,
}

#[derive(ValueEnum, Clone, Copy)]
enum DurabilityArg {
    Full,
    Normal,
}

impl DaemonArgs {
    fn durability(&self) -> Durability {
        match self.durability {
            DurabilityArg::Full => Durability::Full,
            DurabilityArg::Normal => Durability::Normal,
        }
    }

    fn as_serve_args(&self) -> Vec<String> {
        let durability = match self.durability {
            DurabilityArg::Full => "full",
            DurabilityArg::Normal => "normal",
        };
        vec![
            "--durability".into(),
            durability.into(),
            "--idle-timeout".into(),
            format!("{}s", self.idle_timeout.as_secs()),
        ]
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s, 30m or 2h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("unknown unit {unit:?}: use s, m or h")),
    };
    Ok(Duration::from_secs(seconds))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("memgraphd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::resolve(cli.db.as_deref(), cli.socket.as_deref(), cli.log.as_deref())
        .context("resolving paths")?;
    // One thread runs all async work, the daemon's included: its tasks only
    // move bytes and hand jobs to the writer thread, and a single thread
    // wakes less often than a pool (16 sessions write faster this way).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        Command::Mcp {
            daemon,
            max_result_chars,
            tools,
        } => {
            // Quiet by default: the MCP client shows a server's stderr to the user.
            init_logging(None, LevelFilter::ERROR);
            let config = ClientConfig {
                paths,
                spawn: true,
                serve_args: daemon.as_serve_args(),
                client: "mcp".into(),
            };
            let settings = memgraphd::shim::call::Settings {
                max_result_chars,
                tools: match tools {
                    ToolsArg::All => memgraphd::shim::call::ToolSet::All,
                    ToolsArg::Official => memgraphd::shim::call::ToolSet::Official,
                },
            };
            runtime
                .block_on(memgraphd::shim::run(config, settings))
                .context("mcp session")?;
        }
        Command::Serve { daemon } => {
            init_logging(Some(&paths.log), LevelFilter::INFO);
            let config = DaemonConfig {
                paths,
                durability: daemon.durability(),
                idle_timeout: (!daemon.idle_timeout.is_zero()).then_some(daemon.idle_timeout),
            };
            match runtime.block_on(daemon::run(config)) {
                Err(e) if e.is_already_running() => {
                    tracing::info!("{e}; exiting");
                }
                Err(e) => {
                    // A spawned daemon's stderr goes nowhere: the log is
                    // where its user will look.
                    tracing::error!("daemon failed: {}", memgraphd::error_chain(&e));
                    return Err(e).context("daemon");
                }
                Ok(()) => {}
            }
        }
        Command::Status => {
            init_logging(None, LevelFilter::WARN);
            match runtime.block_on(memgraphd::admin::status(&paths)) {
                Ok(status) => println!("{}", memgraphd::admin::format_status(&status, &paths)),
                Err(ClientError::NotRunning { .. }) => {
                    println!("memgraphd is not running for {}", paths.db.display());
                    println!("socket: {}", paths.socket.display());
                    println!("log:    {}", paths.log.display());
                    return Ok(ExitCode::from(3));
                }
                Err(e) => return Err(e).context("asking the daemon for its status"),
            }
        }
        Command::Stop => {
            init_logging(None, LevelFilter::WARN);
            match runtime.block_on(memgraphd::admin::stop(&paths, Duration::from_secs(30))) {
                Ok(pid) => println!("stopped memgraphd (pid {pid})"),
                Err(ClientError::NotRunning { .. }) => {
                    println!("memgraphd is not running for {}", paths.db.display());
                }
                Err(e) => return Err(e).context("stopping the daemon"),
            }
        }
        Command::Import { file, dry_run } => {
            init_logging(None, LevelFilter::WARN);
            let summary = runtime
                .block_on(transfer::import(&paths, &file, dry_run))
                .with_context(|| format!("importing {}", file.display()))?;
            println!("{}", transfer::format_import(&summary, &file));
        }
        Command::Export { file } => {
            init_logging(None, LevelFilter::WARN);
            let text = runtime
                .block_on(transfer::export(&paths))
                .context("exporting")?;
            match file {
                Some(file) => transfer::write_atomically(&file, &text)
                    .with_context(|| format!("exporting to {}", file.display()))?,
                None => write_stdout(&text)?,
            }
        }
        Command::Backup { file } => {
            init_logging(None, LevelFilter::WARN);
            let bytes = runtime
                .block_on(memgraphd::admin::backup(&paths, &file))
                .with_context(|| format!("backing up to {}", file.display()))?;
            println!(
                "backed up {} to {} ({bytes} bytes, integrity_check ok)",
                paths.db.display(),
                file.display()
            );
        }
        Command::Doctor => {
            init_logging(None, LevelFilter::WARN);
            let findings = runtime.block_on(doctor::run(&paths));
            println!("{}", doctor::format(&findings));
            if findings.iter().any(|f| f.verdict == doctor::Verdict::Fail) {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes to stdout; a closed pipe (`memgraphd export | head`) is not an error.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

/// Logs go to the log file for the daemon, to stderr otherwise (never to
/// stdout, which is the MCP channel). `RUST_LOG` sets the level: error,
/// warn, info, debug or trace.
fn init_logging(file: Option<&Path>, default: LevelFilter) {
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
    let _ = match log {
        Some(log) => builder.with_writer(std::sync::Mutex::new(log)).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}

/// Log files past this size are rotated to `<log>.1` when the daemon starts.
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

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
