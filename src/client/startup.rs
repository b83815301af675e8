//! Reaching the daemon, starting or replacing it as needed, as three parts:
//! [`Client::probe`] looks (the socket, the lock, the daemon this start-up
//! spawned) and reports a [`Probe`]; [`next_step`] decides from it alone
//! what to do; [`Client::establish`] does that one [`Step`] and looks
//! again, until it has a connection or a [`Failure`] to report.
//!
//! `next_step` is pure, so every state start-up can meet has a unit test
//! (`startup/tests.rs`): no daemon, a stale socket, a daemon starting, an
//! older or newer daemon, a daemon of another user, a refused connect, a
//! timeout.
//!
//! # Invariants
//! - A client never removes the socket file: a stale one is replaced by the
//!   daemon it spawns, which holds the lock when it does.
//! - Each old daemon is asked to stop, or signalled, once: a pid signalled
//!   twice might belong to another process by then.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{is_older, Client, ClientError, Conn, Greeting, START_WAIT};
use crate::config::Paths;
use crate::instance::lock::InstanceLock;
use crate::instance::spawn::{self, Spawned};
use crate::instance::{address, socket};
use crate::protocol::{Op, PROTOCOL_VERSION};

/// How long one connect and greeting may take: a daemon answers a hello at
/// once, so one that does not is hung (or not a daemon at all).
pub(super) const HELLO_WAIT: Duration = Duration::from_secs(2);
/// A daemon spawned this recently may not have taken the lock yet; it is on
/// its way, so do not spawn another.
const SPAWN_GRACE: Duration = Duration::from_secs(1);

/// What answered on the daemon's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// No file at the socket path.
    NoSocket,
    /// A file, but nothing listens on it: a daemon died, or one that holds
    /// the lock has not bound yet.
    ConnectRefused,
    /// Connecting failed in a way that will not pass by waiting (no
    /// permission, not a socket); the reason says how.
    Unreachable(String),
    /// The process listening runs as another user.
    OtherUser(u32),
    /// The connection failed or was closed before a greeting, in a way that
    /// may pass: a daemon shutting down or busy.
    Dropped,
    /// The connection was made but no greeting came within [`HELLO_WAIT`].
    TimedOut,
    /// A daemon of our protocol greeted us.
    Welcome { version: String, pid: u32 },
    /// A daemon of another protocol refused our hello.
    Refused {
        protocol: u32,
        version: String,
        pid: u32,
        reason: String,
    },
}

/// How the daemon this start-up spawned ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Exit {
    pub success: bool,
    pub status: String,
}

/// One look at the daemon's places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Probe {
    pub answer: Answer,
    /// Whether some process holds the instance lock: a daemon lives, or is
    /// starting (the lock is the first thing a daemon takes).
    pub locked: bool,
    /// How the daemon this start-up spawned last has ended, if it has.
    pub spawned_exit: Option<Exit>,
}

/// What this start-up has done so far, which `next_step` weighs with what
/// the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Attempt {
    /// Whether this client may start a daemon (the shim may; `status` not).
    pub may_spawn: bool,
    /// When to give up waiting; moved on when an old daemon is told to go.
    pub deadline: Instant,
    /// When this start-up last spawned a daemon.
    pub spawned: Option<Instant>,
    /// The old daemon asked to stop with a `Shutdown` request.
    pub asked_to_stop: Option<u32>,
    /// The old daemon sent SIGTERM.
    pub terminated: Option<u32>,
}

impl Attempt {
    pub fn new(may_spawn: bool, now: Instant) -> Attempt {
        Attempt {
            may_spawn,
            deadline: now + START_WAIT,
            spawned: None,
            asked_to_stop: None,
            terminated: None,
        }
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Keep the connection the probe made.
    Use,
    /// Ask this older daemon (of our protocol) to stop, over the probe's
    /// connection.
    AskToStop {
        pid: u32,
    },
    /// Signal this daemon, too old to read a `Shutdown`, to stop.
    Terminate {
        pid: u32,
    },
    /// Start a daemon.
    Spawn,
    /// Look again shortly.
    Wait,
    Fail(Failure),
}

/// Why start-up gave up; [`Failure::into_error`] adds the paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    NotRunning,
    StartFailed { status: String },
    StartTimeout,
    NoAnswer,
    DaemonNewer { version: String, protocol: u32 },
    Refused(String),
    OtherUser(u32),
    Unreachable(String),
    OldDaemonStays { version: String, pid: u32 },
}

impl Failure {
    fn into_error(self, paths: &Paths) -> ClientError {
        let socket = paths.socket.clone();
        let log = paths.log.clone();
        match self {
            Failure::NotRunning => ClientError::NotRunning {
                db: paths.db.clone(),
            },
            Failure::StartFailed { status } => ClientError::StartFailed { status, log },
            Failure::StartTimeout => ClientError::StartTimeout { log },
            Failure::NoAnswer => ClientError::NoAnswer { socket, log },
            Failure::DaemonNewer { version, protocol } => {
                ClientError::DaemonNewer { version, protocol }
            }
            Failure::Refused(reason) => ClientError::Refused(reason),
            Failure::OtherUser(uid) => ClientError::OtherUser { socket, uid },
            Failure::Unreachable(reason) => ClientError::Unreachable { socket, reason },
            Failure::OldDaemonStays { version, pid } => {
                ClientError::OldDaemonStays { version, pid }
            }
        }
    }
}

/// Decides what start-up does next, from what it found and what it did.
pub(super) fn next_step(probe: &Probe, attempt: &Attempt, now: Instant) -> Step {
    let out_of_time = now >= attempt.deadline;
    match &probe.answer {
        Answer::Welcome { version, pid } if is_older(version) => {
            if attempt.asked_to_stop != Some(*pid) {
                Step::AskToStop { pid: *pid }
            } else if out_of_time {
                Step::Fail(Failure::OldDaemonStays {
                    version: version.clone(),
                    pid: *pid,
                })
            } else {
                Step::Wait
            }
        }
        Answer::Welcome { .. } => Step::Use,
        Answer::Refused {
            protocol,
            version,
            pid,
            reason,
        } => {
            // A lower protocol is older whatever the version says: the
            // protocol is bumped between releases of one version.
            if !is_older(version) && *protocol >= PROTOCOL_VERSION {
                Step::Fail(if *protocol > PROTOCOL_VERSION {
                    Failure::DaemonNewer {
                        version: version.clone(),
                        protocol: *protocol,
                    }
                } else {
                    Failure::Refused(reason.clone())
                })
            } else if attempt.terminated != Some(*pid) {
                Step::Terminate { pid: *pid }
            } else if out_of_time {
                Step::Fail(Failure::OldDaemonStays {
                    version: version.clone(),
                    pid: *pid,
                })
            } else {
                Step::Wait
            }
        }
        Answer::OtherUser(uid) => Step::Fail(Failure::OtherUser(*uid)),
        Answer::Unreachable(reason) => Step::Fail(Failure::Unreachable(reason.clone())),
        Answer::TimedOut if out_of_time => Step::Fail(Failure::NoAnswer),
        Answer::TimedOut => Step::Wait,
        Answer::NoSocket | Answer::ConnectRefused | Answer::Dropped => {
            if !attempt.may_spawn {
                return Step::Fail(Failure::NotRunning);
            }
            // Ours exited with an error and no other daemon took over: it
            // failed to start (a bad path, a database from a newer build).
            // Say so now rather than after the whole wait.
            if let Some(exit) = probe.spawned_exit.as_ref().filter(|e| !e.success) {
                if !probe.locked {
                    return Step::Fail(Failure::StartFailed {
                        status: exit.status.clone(),
                    });
                }
            }
            if out_of_time {
                return Step::Fail(Failure::StartTimeout);
            }
            // Even one that already exited (it found the lock taken) counts:
            // spawning again at once, each time round, would be a storm.
            let spawned_lately = attempt
                .spawned
                .is_some_and(|at| now.saturating_duration_since(at) < SPAWN_GRACE);
            if probe.locked || spawned_lately {
                Step::Wait
            } else {
                Step::Spawn
            }
        }
    }
}

impl Client {
    /// Connects to the daemon, starting it, or replacing an older one, as
    /// needed.
    pub(super) async fn establish(&self) -> Result<Arc<Conn>, ClientError> {
        let paths = &self.config.paths;
        address::check_path(paths)?;
        let mut attempt = Attempt::new(self.config.spawn, Instant::now());
        let mut spawned: Option<Spawned> = None;
        let mut pause = Duration::from_millis(5);
        loop {
            let (probe, conn) = self.probe(spawned.as_ref()).await;
            let step = next_step(&probe, &attempt, Instant::now());
            tracing::trace!(?probe, ?step, "start-up");
            match (step, conn) {
                (Step::Use, Some(conn)) => return Ok(conn),
                (Step::AskToStop { pid }, Some(conn)) => {
                    ask_to_stop(&conn).await;
                    attempt.asked_to_stop = Some(pid);
                    attempt.deadline = Instant::now() + START_WAIT;
                }
                (Step::Terminate { pid }, _) => {
                    tracing::info!("stopping the daemon of an older protocol (pid {pid})");
                    spawn::terminate(pid);
                    attempt.terminated = Some(pid);
                    attempt.deadline = Instant::now() + START_WAIT;
                }
                (Step::Spawn, _) => {
                    let started = spawn::start_daemon(paths, &self.config.serve_args);
                    spawned = Some(started.map_err(ClientError::Spawn)?);
                    attempt.spawned = Some(Instant::now());
                }
                (Step::Fail(failure), _) => return Err(failure.into_error(paths)),
                // A step that needs the probe's connection always comes
                // with one; without, looking again is all there is to do.
                (Step::Wait | Step::Use | Step::AskToStop { .. }, _) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
            }
        }
    }

    /// Looks at the socket (connecting and saying hello, within
    /// [`HELLO_WAIT`]), the lock, and the daemon this start-up spawned.
    /// Returns the connection too when a daemon welcomed us.
    async fn probe(&self, spawned: Option<&Spawned>) -> (Probe, Option<Arc<Conn>>) {
        let (answer, conn) = tokio::time::timeout(HELLO_WAIT, self.greet())
            .await
            .unwrap_or((Answer::TimedOut, None));
        let probe = Probe {
            answer,
            locked: InstanceLock::is_held(&self.config.paths.lock),
            spawned_exit: spawned.and_then(Spawned::exit).map(|status| Exit {
                success: status.success(),
                status: status.to_string(),
            }),
        };
        (probe, conn)
    }

    async fn greet(&self) -> (Answer, Option<Arc<Conn>>) {
        let stream = match socket::connect(&self.config.paths.socket).await {
            Ok(stream) => stream,
            Err(e) => return (connect_failure(&e), None),
        };
        match socket::peer_uid(&stream) {
            Ok(uid) if uid != socket::this_uid() => return (Answer::OtherUser(uid), None),
            Ok(_) => {}
            Err(e) => {
                let reason = format!("reading the credentials of the process listening: {e}");
                return (Answer::Unreachable(reason), None);
            }
        }
        match self.handshake(stream).await {
            Ok(Greeting::Welcome(conn)) => {
                let answer = Answer::Welcome {
                    version: conn.welcome.version.clone(),
                    pid: conn.welcome.pid,
                };
                (answer, Some(conn))
            }
            Ok(Greeting::Refused(refused)) => (
                Answer::Refused {
                    protocol: refused.protocol,
                    version: refused.version,
                    pid: refused.pid,
                    reason: refused.reason,
                },
                None,
            ),
            Err(e) => {
                tracing::debug!("handshake: {e}");
                (Answer::Dropped, None)
            }
        }
    }
}

/// Asks an older daemon of our protocol to stop; it finishes what it is
/// doing, and its answer (or none) is not waited on for long.
async fn ask_to_stop(conn: &Conn) {
    tracing::info!(
        "replacing memgraphd {} (pid {}) with {}",
        conn.welcome.version,
        conn.welcome.pid,
        env!("CARGO_PKG_VERSION")
    );
    let _ = tokio::time::timeout(HELLO_WAIT, conn.request(0, Op::Shutdown)).await;
}

/// Sorts a failed connect into what waiting can and cannot fix.
fn connect_failure(e: &io::Error) -> Answer {
    use io::ErrorKind::*;
    match e.kind() {
        NotFound => Answer::NoSocket,
        ConnectionRefused => Answer::ConnectRefused,
        // A full backlog, or a daemon closing as we came.
        WouldBlock | Interrupted | ConnectionReset | ConnectionAborted | TimedOut => {
            Answer::Dropped
        }
        _ => Answer::Unreachable(e.to_string()),
    }
}

#[cfg(test)]
mod tests;
