//! The client side of the daemon protocol, used by the shim and the admin
//! commands: connect (or start the daemon), multiplex requests on one
//! connection, and survive a daemon restart.
//!
//! - **Connect or spawn.** If nothing answers on the socket, re-execute this
//!   binary as `memgraphd serve` detached (new session, null stdio) and retry
//!   with backoff for up to [`START_WAIT`]. Many clients may spawn at once;
//!   the instance lock lets exactly one daemon live.
//! - **Upgrade in place.** A daemon older than this build is asked to stop
//!   and replaced; a newer one with another protocol is an error.
//! - **Retries.** A request cut off by a lost connection is sent again on a
//!   new one. Reads are harmless to repeat; writes carry a request id that
//!   the daemon records with the write, so a repeated write is answered from
//!   the record instead of applied twice.
//! - **Large replies.** A reply too large for one frame arrives in parts
//!   and is put back together by the reader, up to the bound of one reply
//!   ([`crate::config::max_reply_bytes`]); a reply announced over it is
//!   answered at once with [`ClientError::ReplyTooLarge`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::WriteHalf;
use tokio::sync::{broadcast, oneshot};

use crate::config::Paths;
use crate::daemon::{lock::InstanceLock, socket};
use crate::model::OpError;
use crate::protocol::{
    self, Assembled, ClientFrame, Event, Hello, Op, ProtoError, Reassembly, Refused, Reply,
    Request, Response, ServerFrame, Welcome, PROTOCOL_VERSION,
};

/// How long a client waits for a daemon it started (or replaced) to answer.
pub const START_WAIT: Duration = Duration::from_secs(5);
/// How long a request keeps retrying across lost connections.
const RETRY_WINDOW: Duration = Duration::from_secs(10);

type Stream = interprocess::local_socket::tokio::Stream;
/// What a request hears back: the daemon's answer, or why none can be had
/// on this connection although it is still open.
type Answer = Result<Reply, ClientError>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Answer>>>>;

/// Why a request got no answer from the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no memgraphd daemon is running for {db}")]
    NotRunning { db: PathBuf },
    #[error("the daemon did not answer within {}s of being started; see its log at {log}", START_WAIT.as_secs())]
    StartTimeout { log: PathBuf },
    #[error("starting the daemon")]
    Spawn(#[source] std::io::Error),
    #[error("the daemon failed to start ({status}); see its log at {log}, or run `memgraphd serve` in a terminal to see why")]
    StartFailed { status: String, log: PathBuf },
    #[error("the running daemon is memgraphd {version} (protocol {protocol}), newer than this memgraphd {} (protocol {PROTOCOL_VERSION}); upgrade this binary", env!("CARGO_PKG_VERSION"))]
    DaemonNewer { version: String, protocol: u32 },
    #[error("the daemon refused the connection: {0}")]
    Refused(String),
    /// The connection was lost and could not be made again in time.
    #[error("lost the connection to the daemon")]
    Disconnected,
    #[error(transparent)]
    Op(#[from] OpError),
    /// The daemon announced a reply larger than this client accepts.
    #[error(
        "the reply to request {id} is {total} bytes, over the limit of {limit} bytes for one reply"
    )]
    ReplyTooLarge { id: u64, total: u64, limit: usize },
    #[error("daemon protocol")]
    Proto(#[from] ProtoError),
}

/// How to reach (and whether to start) the daemon.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub paths: Paths,
    /// Start a daemon when none answers (the shim does; `status` does not).
    pub spawn: bool,
    /// Extra arguments for a spawned `memgraphd serve`.
    pub serve_args: Vec<String>,
    /// Who is asking, for the daemon's log: `mcp`, `status`, …
    pub client: String,
}

/// A connection to the daemon, re-established as needed.
pub struct Client {
    config: ClientConfig,
    conn: tokio::sync::Mutex<Option<Arc<Conn>>>,
    events: broadcast::Sender<()>,
    subscribed: AtomicBool,
    next_id: AtomicU64,
}

impl Client {
    pub fn new(config: ClientConfig) -> Client {
        let (events, _) = broadcast::channel(64);
        Client {
            config,
            conn: tokio::sync::Mutex::new(None),
            events,
            subscribed: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
        }
    }

    /// Sends one request and waits for its answer, reconnecting (and
    /// starting the daemon, if configured) when the connection is lost.
    pub async fn request(&self, op: Op) -> Result<Reply, ClientError> {
        let deadline = Instant::now() + RETRY_WINDOW;
        let retry = !matches!(op, Op::Shutdown);
        loop {
            let conn = self.connection().await?;
            match conn
                .request(self.next_id.fetch_add(1, Ordering::Relaxed), op.clone())
                .await
            {
                Ok(answer) => return answer,
                Err(Lost) => {
                    self.forget(&conn).await;
                    if !retry || Instant::now() >= deadline {
                        return Err(ClientError::Disconnected);
                    }
                    tracing::info!("connection to the daemon lost; retrying");
                }
            }
        }
    }

    /// The daemon's greeting on the current connection, connecting if needed.
    pub async fn welcome(&self) -> Result<Welcome, ClientError> {
        Ok(self.connection().await?.welcome.clone())
    }

    /// Asks for (or stops) change events on this and every later connection.
    pub async fn set_subscribed(&self, on: bool) -> Result<(), ClientError> {
        self.subscribed.store(on, Ordering::Relaxed);
        self.request(if on { Op::Subscribe } else { Op::Unsubscribe })
            .await
            .map(|_| ())
    }

    /// A notice for each change another session made, while subscribed.
    pub fn events(&self) -> broadcast::Receiver<()> {
        self.events.subscribe()
    }

    async fn forget(&self, lost: &Arc<Conn>) {
        let mut conn = self.conn.lock().await;
        if conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, lost)) {
            *conn = None;
        }
    }

    async fn connection(&self) -> Result<Arc<Conn>, ClientError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref().filter(|c| c.is_open()) {
            return Ok(conn.clone());
        }
        let conn = self.establish().await?;
        if self.subscribed.load(Ordering::Relaxed)
            && conn
                .request(self.next_id.fetch_add(1, Ordering::Relaxed), Op::Subscribe)
                .await
                .is_err()
        {
            return Err(ClientError::Disconnected);
        }
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn establish(&self) -> Result<Arc<Conn>, ClientError> {
        let paths = &self.config.paths;
        let mut deadline = Instant::now() + START_WAIT;
        let mut spawned: Option<Instant> = None;
        let mut exited: ExitSlot = Arc::default();
        let mut terminated: Option<u32> = None;
        let mut backoff = Duration::from_millis(5);
        loop {
            if let Ok(stream) = socket::connect(&paths.socket).await {
                match self.handshake(stream).await {
                    Ok(Greeting::Welcome(conn)) if is_older(&conn.welcome.version) => {
                        tracing::info!(
                            "replacing memgraphd {} (pid {}) with {}",
                            conn.welcome.version,
                            conn.welcome.pid,
                            env!("CARGO_PKG_VERSION")
                        );
                        let _ = conn.request(0, Op::Shutdown).await;
                        deadline = Instant::now() + START_WAIT;
                    }
                    Ok(Greeting::Welcome(conn)) => return Ok(conn),
                    Ok(Greeting::Refused(refused)) => {
                        if !is_older(&refused.version) {
                            return Err(if refused.protocol > PROTOCOL_VERSION {
                                ClientError::DaemonNewer {
                                    version: refused.version,
                                    protocol: refused.protocol,
                                }
                            } else {
                                ClientError::Refused(refused.reason)
                            });
                        }
                        // It cannot read our Shutdown; a signal needs no protocol.
                        tracing::info!(
                            "stopping memgraphd {} (pid {})",
                            refused.version,
                            refused.pid
                        );
                        // Once per daemon: it answers until it has exited,
                        // and a pid signalled twice might be reused by then.
                        if terminated != Some(refused.pid) {
                            terminate(refused.pid);
                            terminated = Some(refused.pid);
                            deadline = Instant::now() + START_WAIT;
                        }
                    }
                    Err(e) => tracing::debug!("handshake: {e}"),
                }
            }
            if !self.config.spawn {
                return Err(ClientError::NotRunning {
                    db: paths.db.clone(),
                });
            }
            // Start a daemon unless one is starting: the lock is taken first
            // thing, so a held lock means a daemon is on its way.
            let starting = spawned.is_some_and(|at| at.elapsed() < Duration::from_secs(1));
            if !starting && !InstanceLock::is_held(&paths.lock) {
                exited = spawn_daemon(&self.config).map_err(ClientError::Spawn)?;
                spawned = Some(Instant::now());
            }
            // A daemon that exits with an error while no other holds the
            // lock failed to start (a bad path, a database from a newer
            // build): say so now rather than after the whole wait.
            let failed = exited.lock().ok().and_then(|status| *status);
            if let Some(status) = failed.filter(|s| !s.success()) {
                if !InstanceLock::is_held(&paths.lock) {
                    return Err(ClientError::StartFailed {
                        status: status.to_string(),
                        log: paths.log.clone(),
                    });
                }
            }
            if Instant::now() >= deadline {
                return Err(ClientError::StartTimeout {
                    log: paths.log.clone(),
                });
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(100));
        }
    }

    async fn handshake(&self, stream: Stream) -> Result<Greeting, ProtoError> {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let hello = ClientFrame::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            client: self.config.client.clone(),
        });
        protocol::write_msg(&mut writer, &hello).await?;
        let answer = protocol::read_msg::<ServerFrame, _>(&mut reader).await?;
        let welcome = match answer {
            Some(ServerFrame::Welcome(welcome)) => welcome,
            Some(ServerFrame::Refused(refused)) => return Ok(Greeting::Refused(refused)),
            Some(_) => return Err(ProtoError::Decode("expected Welcome".into())),
            None => {
                return Err(ProtoError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the daemon closed the connection",
                )))
            }
        };
        let pending: Pending = Arc::default();
        let open = Arc::new(AtomicBool::new(true));
        tokio::spawn(read_answers(
            reader,
            pending.clone(),
            open.clone(),
            self.events.clone(),
        ));
        Ok(Greeting::Welcome(Arc::new(Conn {
            writer: tokio::sync::Mutex::new(writer),
            pending,
            open,
            welcome,
        })))
    }
}

enum Greeting {
    Welcome(Arc<Conn>),
    Refused(Refused),
}

/// The connection broke before the answer came.
struct Lost;

/// One live connection: a writer shared by the requests, and a reader task
/// that hands each answer to the request waiting for it.
struct Conn {
    writer: tokio::sync::Mutex<WriteHalf<Stream>>,
    pending: Pending,
    open: Arc<AtomicBool>,
    welcome: Welcome,
}

impl Conn {
    fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    async fn request(&self, id: u64, op: Op) -> Result<Answer, Lost> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id, tx);
        }
        let frame = protocol::encode(&ClientFrame::Request(Request { id, op })).map_err(|e| {
            tracing::error!("encoding a request: {e}");
            Lost
        })?;
        {
            let mut writer = self.writer.lock().await;
            if protocol::write_frame(&mut *writer, &frame).await.is_err() {
                self.open.store(false, Ordering::Relaxed);
                return Err(Lost);
            }
        }
        rx.await.map_err(|_| Lost)
    }
}

async fn read_answers<R: tokio::io::AsyncRead + Unpin>(
    mut reader: R,
    pending: Pending,
    open: Arc<AtomicBool>,
    events: broadcast::Sender<()>,
) {
    let mut parts = Reassembly::new(crate::config::max_reply_bytes());
    let answer = |id: u64, answer: Answer| {
        let waiter = pending.lock().ok().and_then(|mut p| p.remove(&id));
        if let Some(waiter) = waiter {
            let _ = waiter.send(answer);
        }
    };
    let respond = |response: Response| {
        answer(response.id, response.result.map_err(ClientError::Op));
    };
    loop {
        match protocol::read_msg::<ServerFrame, _>(&mut reader).await {
            Ok(Some(ServerFrame::Response(response))) => respond(response),
            Ok(Some(ServerFrame::ResponsePart(part))) => match parts.push(part) {
                Ok(Assembled::Pending) => {}
                Ok(Assembled::Done(response)) => respond(response),
                // The caller hears now; the rest of the parts are skipped.
                Ok(Assembled::TooLarge { id, total, limit }) => {
                    tracing::warn!("reply {id} of {total} bytes is over the limit of {limit}");
                    answer(id, Err(ClientError::ReplyTooLarge { id, total, limit }));
                }
                Err(e) => {
                    tracing::warn!("reading a reply in parts: {e}");
                    break;
                }
            },
            Ok(Some(ServerFrame::Event(Event::GraphChanged))) => {
                let _ = events.send(());
            }
            Ok(Some(_)) => tracing::warn!("unexpected frame from the daemon"),
            Ok(None) => break,
            Err(e) => {
                tracing::debug!("reading from the daemon: {e}");
                break;
            }
        }
    }
    open.store(false, Ordering::Relaxed);
    // Dropping the waiters tells every request in flight that it was cut off.
    if let Ok(mut pending) = pending.lock() {
        pending.clear();
    }
}

/// Whether `version` (the daemon's) is older than this build's.
fn is_older(version: &str) -> bool {
    fn parse(v: &str) -> Vec<u64> {
        v.split(['.', '-', '+'])
            .take(3)
            .map(|part| part.parse().unwrap_or(0))
            .collect()
    }
    parse(version) < parse(env!("CARGO_PKG_VERSION"))
}

/// Starts `memgraphd serve` for these paths, detached from this process: its
/// own session, no inherited stdio (an MCP client waits for EOF on the pipes
/// it gave the shim, so a daemon holding them would hang the client).
/// Where the reaper leaves a spawned daemon's exit status.
type ExitSlot = Arc<Mutex<Option<std::process::ExitStatus>>>;

fn spawn_daemon(config: &ClientConfig) -> std::io::Result<ExitSlot> {
    let exe = current_exe()?;
    let paths = &config.paths;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("serve")
        .arg("--db")
        .arg(&paths.db)
        .arg("--socket")
        .arg(&paths.socket)
        .arg("--log")
        .arg(&paths.log)
        .args(&config.serve_args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
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
    tracing::info!(pid = child.id(), "started the daemon");
    // Reap it when it exits (a daemon that lost the lock exits at once), so
    // it does not linger as a zombie while this process lives.
    let exited: ExitSlot = Arc::default();
    let slot = exited.clone();
    std::thread::Builder::new()
        .name("memgraphd-reaper".into())
        .spawn(move || {
            if let (Ok(status), Ok(mut slot)) = (child.wait(), slot.lock()) {
                *slot = Some(status);
            }
        })?;
    Ok(exited)
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

/// Asks a process to stop, as `kill` does.
fn terminate(pid: u32) {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        // SAFETY: kill has no memory preconditions; the pid came from the
        // daemon itself, which runs as this user (the socket checks that).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
    }
}
