//! The `memgraphd` command line: the arguments ([`Cli`]), what each
//! subcommand does and prints ([`run`]), and where logs go ([`logging`]).
//!
//! The binary only parses, sets up logging and calls [`run`], so everything a
//! subcommand does can be read, and tested, here.

mod commands;
pub mod hook;
pub mod hooks_install;
pub mod logging;
#[cfg(test)]
mod tests;
mod ui;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::admin::AdminError;
use crate::config::{ConfigError, Paths};
use crate::daemon::DaemonError;
use crate::shim::ShimError;
use crate::store::Durability;
use hook::HookEvent;
use hooks_install::InstallError;

pub use commands::run;

/// Knowledge-graph memory for AI coding agents, shared safely by every session.
///
/// Register it with an MCP client, e.g.:
///   claude mcp add memory -s user -- memgraphd mcp
#[derive(Parser)]
#[command(name = "memgraphd", version, verbatim_doc_comment)]
pub struct Cli {
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
    pub command: Command,
}

impl Cli {
    /// The places of the database this invocation works on.
    pub fn paths(&self) -> Result<Paths, ConfigError> {
        Paths::resolve(
            self.db.as_deref(),
            self.socket.as_deref(),
            self.log.as_deref(),
        )
    }
}

/// The subcommands; each doc comment is its `--help`.
// The doc comments are help text for a terminal, where `<hash>` is a
// placeholder, not HTML.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Subcommand)]
pub enum Command {
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
        #[command(flatten)]
        shim: ShimArgs,
    },
    /// Run the daemon in the foreground (for systemd or launchd).
    ///
    /// Shims start it by themselves; run it by hand to supervise it:
    ///   memgraphd serve --idle-timeout 0
    #[command(verbatim_doc_comment)]
    Serve {
        #[command(flatten)]
        daemon: DaemonArgs,
        #[command(flatten)]
        http: HttpArgs,
        /// The size guard and tool set of HTTP sessions
        #[command(flatten)]
        shim: ShimArgs,
        /// The database is replicated by Litestream, which then owns the WAL's checkpoints: the daemon runs none
        #[arg(long, env = "MEMGRAPHD_REPLICATED")]
        replicated: bool,
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
    /// Print memory context for Claude Code, from its hook input on stdin.
    ///
    /// Claude Code runs these on SessionStart and UserPromptSubmit (see
    /// `memgraphd hooks install`). They always exit 0 and print nothing
    /// when anything fails, so a session or a prompt is never held up:
    ///   echo '{"cwd": "'$PWD'"}' | memgraphd hook session-start
    #[command(verbatim_doc_comment)]
    Hook {
        #[command(subcommand)]
        event: HookEvent,
    },
    /// Set up the Claude Code hooks that bring memory into each session.
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Manage the bearer tokens of the HTTP face (serve --http).
    ///
    /// Each person or machine gets its own token; its name is the actor of
    /// the changes made with it.
    ///   memgraphd token add alice
    ///   memgraphd token list
    ///   memgraphd token revoke alice
    #[command(verbatim_doc_comment)]
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Show the recorded changes, newest first.
    ///
    ///   memgraphd history --entity Alice
    ///   memgraphd history --since 2026-12-01T00:00:00Z --project github.com/acme/tools --json
    #[command(verbatim_doc_comment)]
    History {
        /// Only changes that touched this entity, its observations or relations
        #[arg(long, value_name = "NAME")]
        entity: Option<String>,
        /// Only changes at or after this time: RFC 3339, or an age such as 2h or 7d
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Only changes made in this project (its key, as `status` lists it)
        #[arg(long, value_name = "KEY")]
        project: Option<String>,
        /// At most this many changes
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// One JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revert one change by writing a new one.
    ///
    ///   memgraphd undo 42
    #[command(verbatim_doc_comment)]
    Undo {
        /// The change's id, as `history` shows it
        change: i64,
        /// Undo what can be even when later changes touched the same rows
        #[arg(long)]
        force: bool,
    },
    /// Open the web view: search, entities, their history, the graph, live changes.
    ///
    /// Starts the daemon if none runs, asks it to serve the view on
    /// 127.0.0.1 (a free port unless --port; a view already running keeps
    /// its port), prints the URL and opens it in the browser. The URL
    /// carries a login token that works once, within two minutes; the
    /// browser then keeps a session cookie until the daemon stops or the
    /// session is idle for 12 hours. Run it again for a new link.
    ///   memgraphd ui
    ///   memgraphd ui --no-open --port 8788
    #[command(verbatim_doc_comment)]
    Ui {
        /// Serve the view on this port of 127.0.0.1 [default: one the daemon picks]
        #[arg(long, value_name = "PORT")]
        port: Option<u16>,
        /// Print the URL only; do not open a browser
        #[arg(long)]
        no_open: bool,
        /// How a daemon started by this command runs
        #[command(flatten)]
        daemon: DaemonArgs,
    },
    /// Really delete what deletes ended, and old changes nothing needs.
    ///
    /// The live graph is never touched:
    ///   memgraphd purge --older-than 90d --dry-run
    #[command(verbatim_doc_comment)]
    Purge {
        /// Forget what ended longer ago than this, e.g. 90d, 12h
        #[arg(long, value_name = "AGE", value_parser = parse_duration)]
        older_than: Duration,
        /// Count, remove nothing
        #[arg(long)]
        dry_run: bool,
    },
}

/// `memgraphd hooks …`.
#[derive(Subcommand)]
pub enum HooksCommand {
    /// Add the recall hooks to Claude Code's settings.json.
    ///
    /// Keeps every other setting and hook, backs the file up before
    /// changing it, and changes nothing when the hooks are there already:
    ///   memgraphd hooks install --dry-run
    ///   memgraphd hooks install
    #[command(verbatim_doc_comment)]
    Install {
        /// Show what would change, write nothing
        #[arg(long)]
        dry_run: bool,
        /// The settings file [default: ~/.claude/settings.json, or $CLAUDE_CONFIG_DIR/settings.json]
        #[arg(long, value_name = "PATH")]
        settings: Option<PathBuf>,
    },
}

impl Command {
    /// Whether this is a hook, which must exit 0 whatever happens.
    pub fn is_hook(&self) -> bool {
        matches!(self, Command::Hook { .. })
    }
}

/// What `memgraphd token` does.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make a new token for NAME and print it, once; only its hash is kept.
    Add {
        /// Who will use it: letters, digits and . - _ @
        name: String,
    },
    /// Show every token's name, when it was made and when it was last used.
    List,
    /// End the token NAME at once, for its open sessions too.
    Revoke { name: String },
}

/// The HTTP face of `serve`.
#[derive(clap::Args, Clone)]
pub struct HttpArgs {
    /// Also serve MCP over Streamable HTTP at http(s)://ADDR:PORT/mcp, e.g. 127.0.0.1:8787
    #[arg(long, env = "MEMGRAPHD_HTTP", value_name = "ADDR:PORT")]
    http: Option<std::net::SocketAddr>,
    /// Accept requests naming this host (HOST, or HOST:PORT), besides loopback; repeatable
    #[arg(long, value_name = "HOST", requires = "http")]
    http_allow_host: Vec<String>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key
    #[arg(long, value_name = "PATH", requires_all = ["http", "tls_key"])]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "PATH", requires_all = ["http", "tls_cert"])]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address: bearer tokens travel in clear
    #[arg(long, requires = "http", conflicts_with = "tls_cert")]
    insecure_http: bool,
}

impl HttpArgs {
    fn config(&self, settings: crate::shim::call::Settings) -> Option<crate::http::HttpConfig> {
        self.http.map(|addr| crate::http::HttpConfig {
            addr,
            allow_hosts: self.http_allow_host.clone(),
            tls: self
                .tls_cert
                .clone()
                .zip(self.tls_key.clone())
                .map(|(cert, key)| crate::http::tls::TlsFiles { cert, key }),
            insecure: self.insecure_http,
            settings,
        })
    }
}

/// How a daemon runs (used by `serve`, and passed on by `mcp` when it
/// starts one).
#[derive(clap::Args, Clone)]
pub struct DaemonArgs {
    /// full: a commit survives power loss; normal: faster, may lose the last commits on power loss
    #[arg(long, value_enum, default_value_t = DurabilityArg::Full)]
    durability: DurabilityArg,
    /// Exit after this long with no session, e.g. 30m, 2h, 90s; 0 never exits
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    idle_timeout: Duration,
}

/// How a shim answers (used by `mcp` only).
#[derive(clap::Args, Clone)]
pub struct ShimArgs {
    /// Cut a read without limit whose answer would be longer than this many
    /// characters, with a cursor for the rest; 0 turns the guard off
    #[arg(long, env = "MEMGRAPHD_MAX_RESULT_CHARS", value_name = "CHARS",
          default_value_t = crate::shim::call::DEFAULT_MAX_RESULT_CHARS)]
    max_result_chars: u64,
    /// all: the nine official tools and memgraphd's own; official: exactly the nine
    #[arg(long, env = "MEMGRAPHD_TOOLS", value_enum, default_value_t = ToolsArg::All)]
    tools: ToolsArg,
}

#[derive(ValueEnum, Clone, Copy)]
enum ToolsArg {
    All,
    Official,
}

impl ShimArgs {
    fn settings(&self) -> crate::shim::call::Settings {
        use crate::shim::call::{Settings, ToolSet};
        Settings {
            max_result_chars: self.max_result_chars,
            tools: match self.tools {
                ToolsArg::All => ToolSet::All,
                ToolsArg::Official => ToolSet::Official,
            },
        }
    }
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

    /// The same settings as `serve` flags, for the daemon a shim spawns.
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

/// Parses `90s`, `30m`, `2h` or a bare number of seconds. The error is
/// clap's message for the flag, so it says what a good value looks like.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let unit_secs: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ if number.is_empty() => {
            return Err(format!("{text:?} is not a duration like 90s, 30m or 2h"))
        }
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    let too_long = || format!("{text:?} is too long: at most {} seconds", u64::MAX);
    let n: u64 = number.parse().map_err(|e: std::num::ParseIntError| {
        if *e.kind() == std::num::IntErrorKind::PosOverflow {
            too_long()
        } else {
            format!("{text:?} is not a duration like 90s, 30m or 2h")
        }
    })?;
    let seconds = n.checked_mul(unit_secs).ok_or_else(too_long)?;
    Ok(Duration::from_secs(seconds))
}

/// Why a subcommand failed; each variant names the step, and its source
/// says why.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("mcp session")]
    Mcp(#[source] ShimError),
    #[error("daemon")]
    Daemon(#[source] DaemonError),
    #[error("asking the daemon for its status")]
    Status(#[source] AdminError),
    #[error("stopping the daemon")]
    Stop(#[source] AdminError),
    #[error("importing {}", file.display())]
    Import {
        file: PathBuf,
        #[source]
        source: AdminError,
    },
    #[error("exporting")]
    Export(#[source] AdminError),
    #[error("exporting to {}", file.display())]
    ExportTo {
        file: PathBuf,
        #[source]
        source: AdminError,
    },
    #[error("writing to stdout")]
    Stdout(#[source] std::io::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{what}")]
    History {
        what: &'static str,
        #[source]
        source: AdminError,
    },
    #[error("installing the Claude Code hooks")]
    HooksInstall(#[source] InstallError),
    #[error("backing up to {}", file.display())]
    Backup {
        file: PathBuf,
        #[source]
        source: AdminError,
    },
    #[error("managing tokens")]
    Token(#[source] AdminError),
    #[error("opening the web view")]
    Ui(#[source] crate::client::ClientError),
}

/// How a subcommand that did not fail ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// `doctor` found a problem it reports as a failure.
    Failure,
    /// `status` found no daemon (exit code 3, so scripts can tell).
    NotRunning,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        match exit {
            Exit::Success => std::process::ExitCode::SUCCESS,
            Exit::Failure => std::process::ExitCode::FAILURE,
            Exit::NotRunning => std::process::ExitCode::from(3),
        }
    }
}
