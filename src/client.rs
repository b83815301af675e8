//! The client side of the daemon protocol, used by the shim and the admin
//! commands: connect (or start the daemon), multiplex requests on one
//! connection, and survive a daemon restart.
//!
//! - **Connect or spawn** (`startup`). If nothing answers on the socket,
//!   re-execute this binary as `memgraphd serve` detached and look again
//!   with backoff for up to [`START_WAIT`]. Many clients may spawn at once;
//!   the instance lock lets exactly one daemon live. A daemon of another
//!   user is never talked to.
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

mod startup;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::WriteHalf;
use tokio::sync::{broadcast, oneshot};

use crate::config::Paths;
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
/// The requests of one connection waiting for their answers, by id.
type Waiters = Arc<Mutex<HashMap<u64, oneshot::Sender<Answer>>>>;

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
    #[error("the socket {socket} is served by a process of user {uid}, not yours; refusing to talk to it (set MEMGRAPHD_SOCKET to a path in a directory of your own)")]
    OtherUser { socket: PathBuf, uid: u32 },
    #[error("cannot connect to the daemon's socket {socket}: {reason}")]
    Unreachable { socket: PathBuf, reason: String },
    #[error("a process accepted the connection on {socket} but did not answer in time; a daemon may be hung: see its log at {log}, or stop it with memgraphd stop")]
    NoAnswer { socket: PathBuf, log: PathBuf },
    #[error("memgraphd {version} (pid {pid}) was asked to stop but still runs after {}s; stop it with `kill {pid}`", START_WAIT.as_secs())]
    OldDaemonStays { version: String, pid: u32 },
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
    #[error(transparent)]
    SocketPath(#[from] crate::instance::address::SocketPathError),
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
        let pending: Waiters = Arc::default();
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
    pending: Waiters,
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
    pending: Waiters,
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
                Ok(Assembled::Done(response)) => respond(*response),
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
