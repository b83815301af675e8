//! Starting `memgraphd serve` detached, reaping it, and asking an old daemon
//! to stop with a signal.
//!
//! A spawned daemon gets its own session and no inherited stdio: an MCP
//! client waits for EOF on the pipes it gave the shim, so a daemon holding
//! them would hang the client.

use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use crate::config::Paths;

/// A daemon this process started. A reaper thread waits for it, so that it
/// never lingers as a zombie while this process lives, and keeps its exit
/// status for [`Spawned::exit`].
#[derive(Debug)]
pub struct Spawned {
    pid: u32,
    exit: Arc<Mutex<Option<ExitStatus>>>,
}

impl Spawned {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How the daemon ended, once it has. A daemon that found another one
    /// holding the lock exits at once, successfully.
    pub fn exit(&self) -> Option<ExitStatus> {
        self.exit.lock().ok().and_then(|status| *status)
    }
}

/// Starts `memgraphd serve` for these paths, detached from this process,
/// with `serve_args` (durability, idle timeout) passed on.
pub fn start_daemon(paths: &Paths, serve_args: &[String]) -> std::io::Result<Spawned> {
    let mut cmd = Command::new(current_exe()?);
    cmd.arg("serve")
        .arg("--db")
        .arg(&paths.db)
        .arg("--socket")
        .arg(&paths.socket)
        .arg("--log")
        .arg(&paths.log)
        .args(serve_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe and touches no memory of the
        // parent; it only detaches the child from the terminal and its group.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn()?;
    let pid = child.id();
    tracing::info!(pid, "started the daemon");
    let exit: Arc<Mutex<Option<ExitStatus>>> = Arc::default();
    let slot = exit.clone();
    std::thread::Builder::new()
        .name("memgraphd-reaper".into())
        .spawn(move || {
            if let (Ok(status), Ok(mut slot)) = (child.wait(), slot.lock()) {
                *slot = Some(status);
            }
        })?;
    Ok(Spawned { pid, exit })
}

/// This binary. On Linux a binary replaced on disk (an upgrade) shows as
/// `/path/memgraphd (deleted)`; the path itself holds the new one.
fn current_exe() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let text = exe.to_string_lossy();
    Ok(match text.strip_suffix(" (deleted)") {
        Some(stripped) => PathBuf::from(stripped),
        None => exe,
    })
}

/// Asks a process to stop, as `kill` does: for a daemon too old to read a
/// `Shutdown` request, since a signal needs no protocol.
pub fn terminate(pid: u32) {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        // SAFETY: kill has no memory preconditions; the pid came from the
        // daemon itself, which runs as this user (the client checks that).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
    }
}
