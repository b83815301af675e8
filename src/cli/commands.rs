//! What each subcommand does and prints. The work itself lives in
//! [`crate::shim`], [`crate::daemon`] and [`crate::admin`]; this is the
//! thin layer that calls it and turns its answer into lines on stdout.

use std::time::Duration;

use super::{CliError, Command, Exit, TokenCommand};
use crate::admin::progress::Progress;
use crate::admin::{self, doctor, tokens, transfer, AdminError};
use crate::client::{ClientConfig, ClientError};
use crate::config::Paths;
use crate::daemon::{self, DaemonConfig};

/// How long `stop` waits for the daemon to release its lock.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// Runs one subcommand to its end.
pub async fn run(command: Command, paths: Paths) -> Result<Exit, CliError> {
    match command {
        Command::Mcp { daemon } => {
            let config = ClientConfig {
                paths,
                spawn: true,
                serve_args: daemon.as_serve_args(),
                client: "mcp".into(),
            };
            crate::shim::run(config).await.map_err(CliError::Mcp)?;
        }
        Command::Serve {
            daemon,
            http,
            replicated,
        } => {
            let config = DaemonConfig {
                paths,
                durability: daemon.durability(),
                idle_timeout: (!daemon.idle_timeout.is_zero()).then_some(daemon.idle_timeout),
                http: http.config(),
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
            let mut progress = Progress::stderr();
            transfer::export(&paths, file.as_deref(), &mut progress)
                .await
                .map_err(CliError::Export)?;
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
    }
    Ok(Exit::Success)
}
