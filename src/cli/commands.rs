//! What each subcommand does and prints. The work itself lives in
//! [`crate::shim`], [`crate::daemon`] and [`crate::admin`]; this is the
//! thin layer that calls it and turns its answer into lines on stdout.

use std::io::IsTerminal;
use std::time::Duration;

use super::{hook, hooks_install, CliError, Command, Exit, HooksCommand, TokenCommand};
use crate::admin::progress::Progress;
use crate::admin::{self, doctor, history, tokens, transfer, AdminError};
use crate::client::{ClientConfig, ClientError};
use crate::config::Paths;
use crate::daemon::{self, DaemonConfig};

/// How long `stop` waits for the daemon to release its lock.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// Runs one subcommand to its end.
pub async fn run(command: Command, paths: Paths) -> Result<Exit, CliError> {
    match command {
        Command::Mcp { daemon, shim } => {
            let config = ClientConfig {
                paths,
                spawn: true,
                serve_args: daemon.as_serve_args(),
                client: "mcp".into(),
            };
            crate::shim::run(config, shim.settings())
                .await
                .map_err(CliError::Mcp)?;
        }
        Command::Serve {
            daemon,
            http,
            shim,
            replicated,
        } => {
            let config = DaemonConfig {
                paths,
                durability: daemon.durability(),
                idle_timeout: (!daemon.idle_timeout.is_zero()).then_some(daemon.idle_timeout),
                http: http.config(shim.settings()),
                replicated,
            };
            match daemon::run(config).await {
                Err(e) if e.is_already_running() => {
                    tracing::info!("{e}; exiting");
                }
                Err(e) => {
                    // A spawned daemon's stderr goes nowhere: the log is
                    // where its user will look.
                    tracing::error!("daemon failed: {}", crate::error_chain(&e));
                    return Err(CliError::Daemon(e));
                }
                Ok(()) => {}
            }
        }
        Command::Status => {
            let exit = match admin::status(&paths).await {
                Ok(status) => {
                    println!("{}", admin::format_status(&status, &paths));
                    Exit::Success
                }
                Err(AdminError::Client(ClientError::NotRunning { .. })) => {
                    println!("memgraphd is not running for {}", paths.db.display());
                    println!("socket: {}", paths.socket.display());
                    if let Some(note) = paths.socket_fallback_note() {
                        println!("warning: {note}");
                    }
                    println!("log:    {}", paths.log.display());
                    Exit::NotRunning
                }
                Err(e) => return Err(CliError::Status(e)),
            };
            let exposed = crate::privacy::exposed(&paths);
            if !exposed.is_empty() {
                println!("warning: {}", crate::privacy::notice(&exposed));
            }
            return Ok(exit);
        }
        Command::Stop => match admin::stop(&paths, STOP_WAIT).await {
            Ok(pid) => println!("stopped memgraphd (pid {pid})"),
            Err(AdminError::Client(ClientError::NotRunning { .. })) => {
                println!("memgraphd is not running for {}", paths.db.display());
            }
            Err(e) => return Err(CliError::Stop(e)),
        },
        Command::Import { file, dry_run } => {
            let mut progress = Progress::stderr();
            match transfer::import(&paths, &file, dry_run, &mut progress).await {
                Ok(summary) => println!("{}", transfer::format_import(&summary, &file)),
                Err(source) => return Err(CliError::Import { file, source }),
            }
        }
        Command::Export { file } => {
            // JSONL on the terminal and a line redrawn over it would garble
            // each other.
            let mut progress = if file.is_none() && std::io::stdout().is_terminal() {
                Progress::to(None)
            } else {
                Progress::stderr()
            };
            if let Err(source) = transfer::export(&paths, file.as_deref(), &mut progress).await {
                return Err(match file {
                    Some(file) => CliError::ExportTo { file, source },
                    None => CliError::Export(source),
                });
            }
        }
        Command::Backup { file } => match admin::backup(&paths, &file).await {
            Ok(bytes) => println!(
                "backed up {} to {} ({bytes} bytes, integrity_check ok)",
                paths.db.display(),
                file.display()
            ),
            Err(source) => return Err(CliError::Backup { file, source }),
        },
        Command::Token { action } => {
            let out = match action {
                TokenCommand::Add { name } => tokens::add(&paths, &name).await,
                TokenCommand::List => tokens::list(&paths).await,
                TokenCommand::Revoke { name } => tokens::revoke(&paths, &name).await,
            };
            println!("{}", out.map_err(CliError::Token)?);
        }
        Command::Doctor => {
            let findings = doctor::run(&paths).await;
            println!("{}", doctor::format(&findings));
            if findings.iter().any(|f| f.verdict == doctor::Verdict::Fail) {
                return Ok(Exit::Failure);
            }
        }
        Command::Hook { event } => hook::run(event, paths).await,
        Command::History {
            entity,
            since,
            project,
            limit,
            json,
        } => {
            let since = since.as_deref().map(since_millis).transpose()?;
            let query = crate::model::HistoryQuery {
                name: entity,
                since,
                project,
                limit: 1,
                before: None,
            };
            let changes = history::history(&paths, query, limit.max(1))
                .await
                .map_err(|source| CliError::History {
                    what: "reading the history",
                    source,
                })?;
            let at = crate::shim::render::rfc3339;
            if json {
                write_stdout(&format!("{}\n", history::format_json(&changes, at)))?;
            } else {
                write_stdout(&format!("{}\n", history::format_table(&changes, at)))?;
            }
        }
        Command::Ui {
            port,
            no_open,
            daemon,
        } => {
            let url = super::ui::url(&paths, daemon.as_serve_args(), port)
                .await
                .map_err(CliError::Ui)?;
            println!("{url}");
            if no_open {
                eprintln!("The link works once, within two minutes; open it in your browser.");
            } else {
                match tokio::task::spawn_blocking({
                    let url = url.clone();
                    move || super::ui::open_in_browser(&url)
                })
                .await
                {
                    Ok(Ok(())) => eprintln!("Opened the web view in your browser."),
                    Ok(Err(why)) => eprintln!(
                        "Could not open a browser ({why}); open the link above yourself, within two minutes."
                    ),
                    Err(e) => eprintln!(
                        "Could not open a browser ({e}); open the link above yourself, within two minutes."
                    ),
                }
            }
        }
        Command::Undo { change, force } => {
            let undone = history::undo(&paths, change, force)
                .await
                .map_err(|source| CliError::History {
                    what: "undoing",
                    source,
                })?;
            println!("change {}: {}", undone.change_id, undone.summary);
        }
        Command::Purge {
            older_than,
            dry_run,
        } => {
            let age = i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
            let before = crate::store::now_millis().saturating_sub(age);
            let purged = history::purge(&paths, before, dry_run)
                .await
                .map_err(|source| CliError::History {
                    what: "purging",
                    source,
                })?;
            println!("{}", history::format_purge(&purged, dry_run));
        }
        Command::Hooks(HooksCommand::Install { dry_run, settings }) => {
            install_hooks(&paths, settings, dry_run).map_err(CliError::HooksInstall)?;
        }
    }
    Ok(Exit::Success)
}

/// `hooks install`: the hook commands run this binary, with `--db` when
/// the database is not the default one, so they read what the shims write.
fn install_hooks(
    paths: &Paths,
    settings: Option<std::path::PathBuf>,
    dry_run: bool,
) -> Result<(), hooks_install::InstallError> {
    let path = match settings {
        Some(path) => path,
        None => hooks_install::default_settings_path()?,
    };
    let program = std::env::current_exe()
        .ok()
        .and_then(|exe| std::fs::canonicalize(exe).ok())
        .map_or_else(|| "memgraphd".to_owned(), |exe| exe.display().to_string());
    let default_db = Paths::resolve(None, None, None).ok().map(|p| p.db);
    let global_args = if default_db.as_ref() == Some(&paths.db) {
        Vec::new()
    } else {
        vec!["--db".to_owned(), paths.db.display().to_string()]
    };
    let commands: Vec<_> = [hook::HookEvent::SessionStart, hook::HookEvent::Prompt]
        .into_iter()
        .map(|event| {
            (
                event,
                hooks_install::hook_command(&program, &global_args, event),
            )
        })
        .collect();
    let plan = hooks_install::plan(&path, &commands)?;
    if plan.changes.is_empty() {
        println!(
            "the memgraphd hooks are already in {}; nothing to change",
            path.display()
        );
        return Ok(());
    }
    for change in &plan.changes {
        println!("{}{change}", if dry_run { "would " } else { "" });
    }
    if dry_run {
        println!("--- {} would become:", path.display());
        print!("{}", plan.after);
        return Ok(());
    }
    if let Some(backup) = hooks_install::apply(&plan)? {
        println!("backed up the old settings to {}", backup.display());
    }
    println!(
        "wrote {}; new Claude Code sessions will recall memory",
        path.display()
    );
    Ok(())
}

/// `--since`: an RFC 3339 time, or an age (`2h`, `7d`) back from now.
fn since_millis(text: &str) -> Result<i64, CliError> {
    if let Some(at) = crate::shim::history::parse_rfc3339(text) {
        return Ok(at);
    }
    match super::parse_duration(text) {
        Ok(age) => Ok(crate::store::now_millis() - age.as_millis() as i64),
        Err(_) => Err(CliError::Usage(format!(
            "--since {text:?}: expected an RFC 3339 time such as 2026-12-01T10:00:00Z, or an age such as 2h or 7d"
        ))),
    }
}

/// Writes to stdout; a closed pipe (`memgraphd history | head`) is not an
/// error, as for any Unix filter.
pub(super) fn write_stdout(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(CliError::Stdout),
    }
}
