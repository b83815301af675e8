//! One client connection: the handshake, then requests answered
//! concurrently, and change events for a subscribed session.
//!
//! Backpressure: at most [`IN_FLIGHT`] requests of one connection are being
//! served at once, and answers wait in a bounded queue for the writer. A
//! client that sends without reading fills that queue, its requests stop
//! being read, and the daemon's memory for it stays bounded.
//!
//! Replies: each request's task encodes its own answer; one too large for a
//! frame is queued as parts (see `protocol::parts`), one part at a time, so
//! the answers of the other requests slip in between them. An answer over
//! the bound of one reply is replaced by an error that names the bound: the
//! client always hears back.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use interprocess::local_socket::tokio::Stream;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{broadcast, mpsc, Semaphore};

use super::actor::DbError;
use super::Shared;
use crate::model::OpError;
use crate::protocol::{
    self, ClientFrame, DaemonStatus, Event, HttpStatus, Op, Outgoing, ProtoError, Refused, Reply,
    Request, Response, ServerFrame, TokenOp, TokenReply, Welcome, PROTOCOL_VERSION,
};

/// Encoded frames waiting for the connection's writer.
type Frames = mpsc::Sender<Vec<u8>>;

/// Requests of one connection served at the same time.
const IN_FLIGHT: usize = 32;

/// Serves one connection until the client leaves or the daemon stops.
pub(super) async fn serve(stream: Stream, shared: Arc<Shared>) {
    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    shared.connections.fetch_add(1, Ordering::Relaxed);
    let (reader, writer) = tokio::io::split(stream);
    if let Err(e) = session(id, reader, writer, &shared).await {
        if e.is_disconnect() {
            tracing::debug!(connection = id, "client left: {e}");
        } else {
            tracing::warn!(
                connection = id,
                "connection dropped: {}",
                crate::error_chain(&e)
            );
        }
    }
    shared.connections.fetch_sub(1, Ordering::Relaxed);
}

async fn session<R, W>(
    id: u64,
    mut reader: R,
    writer: W,
    shared: &Arc<Shared>,
) -> Result<(), protocol::ProtoError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (frames, queue) = mpsc::channel::<Vec<u8>>(IN_FLIGHT);
    let writer_task = tokio::spawn(write_frames(writer, queue));
    let result = async {
        let Some(hello) = protocol::read_msg::<ClientFrame, _>(&mut reader).await? else {
            return Ok(());
        };
        let ClientFrame::Hello(hello) = hello else {
            return Err(protocol::ProtoError::Decode("the first frame must be Hello".into()));
        };
        if hello.protocol != PROTOCOL_VERSION {
            tracing::info!(connection = id, peer = %hello.version, "refused protocol {}", hello.protocol);
            queue_frame(&frames, &ServerFrame::Refused(Refused {
                    protocol: PROTOCOL_VERSION,
                    version: env!("CARGO_PKG_VERSION").into(),
                    pid: std::process::id(),
                    reason: format!(
                        "this daemon speaks protocol {PROTOCOL_VERSION}, the client speaks {}",
                        hello.protocol
                    ),
                }))
            .await;
            return Ok(());
        }
        tracing::debug!(connection = id, client = %hello.client, pid = hello.pid, cwd = %hello.cwd, "hello");
        queue_frame(
            &frames,
            &ServerFrame::Welcome(Welcome {
                protocol: PROTOCOL_VERSION,
                version: env!("CARGO_PKG_VERSION").into(),
                pid: std::process::id(),
                db_path: shared.paths.db.display().to_string(),
            }),
        )
        .await;
        let is_session = hello.client == "mcp";
        if is_session {
            shared.sessions.fetch_add(1, Ordering::Relaxed);
        }
        let served = requests(id, &mut reader, &frames, shared).await;
        if is_session {
            shared.sessions.fetch_sub(1, Ordering::Relaxed);
        }
        served
    }
    .await;
    drop(frames);
    let _ = writer_task.await;
    result
}

async fn requests<R: AsyncRead + Unpin>(
    id: u64,
    reader: &mut R,
    frames: &Frames,
    shared: &Arc<Shared>,
) -> Result<(), protocol::ProtoError> {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    // Change notices are forwarded by a task of their own, alive only while
    // the session is subscribed: the read below is not cancel-safe (a frame
    // half read would be lost), so nothing else may share its select.
    let mut feed = Feed(None);
    loop {
        let frame = tokio::select! {
            frame = protocol::read_msg::<ClientFrame, _>(reader) => frame?,
            _ = shared.stop.cancelled() => return Ok(()),
        };
        let Some(frame) = frame else { return Ok(()) };
        let ClientFrame::Request(Request { id: request, op }) = frame else {
            return Err(protocol::ProtoError::Decode("Hello sent twice".into()));
        };
        match op {
            Op::Subscribe => {
                if feed.0.is_none() {
                    let changes = shared.db.subscribe();
                    feed.0 = Some(tokio::spawn(forward_changes(id, changes, frames.clone())));
                }
                send(frames, request, Ok(Reply::Subscribed)).await;
            }
            Op::Unsubscribe => {
                feed.stop();
                send(frames, request, Ok(Reply::Unsubscribed)).await;
            }
            op => {
                // Waiting here stops reading from a client that is not
                // reading its answers.
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return Ok(());
                };
                let shared = shared.clone();
                let frames = frames.clone();
                tokio::spawn(async move {
                    let result = answer(id, op, &shared).await;
                    send(&frames, request, result).await;
                    drop(permit);
                });
            }
        }
    }
}

/// The change-forwarding task of a subscribed connection; stopped when the
/// session unsubscribes or the connection ends.
struct Feed(Option<tokio::task::JoinHandle<()>>);

impl Feed {
    fn stop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends an `Event` for every change made by another connection.
async fn forward_changes(
    id: u64,
    mut changes: broadcast::Receiver<super::actor::Change>,
    frames: Frames,
) {
    let Ok(notice) = protocol::encode(&ServerFrame::Event(Event::GraphChanged)) else {
        tracing::error!("encoding a change notice failed");
        return;
    };
    loop {
        let notify = match changes.recv().await {
            Ok(change) => change.origin != id,
            // Some notices were missed: one more says the same.
            Err(broadcast::error::RecvError::Lagged(_)) => true,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if notify && frames.send(notice.clone()).await.is_err() {
            return;
        }
    }
}

/// Queues the answer to request `id`: one frame, or its parts one by one.
async fn send(frames: &Frames, id: u64, result: Result<Reply, OpError>) {
    let limit = crate::config::max_reply_bytes();
    let outgoing = match Outgoing::encode(Response { id, result }, limit) {
        Ok(outgoing) => outgoing,
        Err(e) => {
            let reason = match e {
                ProtoError::ReplyTooLarge { limit } => format!(
                    "the result is over the limit of {limit} bytes for one reply; \
                     ask for less (search_nodes or open_nodes rather than read_graph)"
                ),
                other => {
                    tracing::error!(request = id, "encoding a reply: {other}");
                    format!("the daemon could not encode it: {other}")
                }
            };
            tracing::warn!(request = id, "reply refused: {reason}");
            let refusal = Response {
                id,
                result: Err(OpError::Unanswerable(reason)),
            };
            match Outgoing::encode(refusal, limit) {
                Ok(outgoing) => outgoing,
                Err(e) => {
                    tracing::error!(request = id, "encoding a refusal: {e}");
                    return;
                }
            }
        }
    };
    let large = outgoing.encoded_len() >= protocol::LARGE_REPLY;
    for frame in outgoing.frames() {
        match frame {
            // The writer is gone only when the client is: nobody to tell.
            Ok(frame) => {
                if frames.send(frame).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                // Parts are a fraction of a frame; this is a bug, and the
                // client's reply is lost with this connection.
                tracing::error!(request = id, "encoding a reply part: {e}");
                return;
            }
        }
    }
    if large {
        protocol::release_freed_memory();
    }
}

/// Queues a frame other than an answer (handshake, notice).
async fn queue_frame(frames: &Frames, frame: &ServerFrame) {
    match protocol::encode(frame) {
        Ok(bytes) => {
            let _ = frames.send(bytes).await;
        }
        Err(e) => tracing::error!("encoding a frame: {e}"),
    }
}

async fn answer(connection: u64, op: Op, shared: &Shared) -> Result<Reply, OpError> {
    match op {
        Op::Graph { op, request_id } => shared
            .db
            .run(op, request_id, connection)
            .await
            .map(Reply::Graph)
            .map_err(db_error),
        Op::Authored {
            op,
            request_id,
            author,
        } => shared
            .db
            .run_by(op, request_id, connection, author)
            .await
            .map(Reply::Graph)
            .map_err(db_error),
        Op::Status => status(shared).await.map(Reply::Status),
        Op::Shutdown => {
            tracing::info!(connection, "shutdown requested");
            shared.stop.cancel();
            Ok(Reply::ShuttingDown)
        }
        Op::Backup { path } => {
            let target = std::path::PathBuf::from(path);
            if !target.is_absolute() || target.exists() {
                return Err(OpError::Invalid(format!(
                    "backup target {} must be an absolute path that does not exist yet",
                    target.display()
                )));
            }
            shared
                .db
                .backup(target)
                .await
                .map(|bytes| Reply::BackedUp { bytes })
                .map_err(db_error)
        }
        Op::Check => shared
            .db
            .check()
            .await
            .map(|problems| Reply::Checked { problems })
            .map_err(db_error),
        Op::ExportPage { snapshot, after } => shared
            .db
            .export_page(snapshot, after)
            .await
            .map(Reply::ExportPage)
            .map_err(db_error),
        Op::Subscribe => Ok(Reply::Subscribed),
        Op::Unsubscribe => Ok(Reply::Unsubscribed),
        Op::Token(op) => token(op, shared).await.map(Reply::Token),
        Op::Ui { port } => shared
            .ui
            .open(port)
            .await
            .map(|url| Reply::Ui { url })
            .map_err(|e| OpError::Refused(crate::error_chain(&e))),
    }
}

/// Runs a token change, then brings the HTTP face's cache in step before
/// answering, so a revoked token is refused from the moment `revoke`
/// returns.
async fn token(op: TokenOp, shared: &Shared) -> Result<TokenReply, OpError> {
    let added = match &op {
        TokenOp::Add { name, hash } => Some((name.clone(), *hash)),
        _ => None,
    };
    let reply = shared.db.token(op).await.map_err(db_error)?;
    match &reply {
        TokenReply::Added(_) => {
            if let Some((name, hash)) = added {
                shared.tokens.insert(name, hash);
            }
        }
        TokenReply::Revoked { name } => shared.tokens.revoke(name),
        TokenReply::Listed(_) => {}
    }
    Ok(reply)
}

fn db_error(e: DbError) -> OpError {
    match e {
        DbError::Op(e) => e,
        DbError::Gone(gone) => OpError::Storage(gone.to_string()),
    }
}

async fn status(shared: &Shared) -> Result<DaemonStatus, OpError> {
    let counts = shared.db.counts().await.map_err(db_error)?;
    let projects = shared.db.projects().await.map_err(db_error)?;
    let size = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut wal = shared.paths.db.clone().into_os_string();
    wal.push("-wal");
    Ok(DaemonStatus {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: PROTOCOL_VERSION,
        uptime_secs: shared.started.elapsed().as_secs(),
        db_path: shared.paths.db.display().to_string(),
        socket_path: shared.paths.socket.display().to_string(),
        db_bytes: size(&shared.paths.db),
        wal_bytes: size(std::path::Path::new(&wal)),
        entities: counts.entities,
        observations: counts.observations,
        relations: counts.relations,
        sessions: shared.sessions.load(Ordering::Relaxed),
        queue_depth: shared.db.queue_depth() as u64,
        http: shared.http.as_ref().map(|(url, insecure)| HttpStatus {
            url: url.clone(),
            insecure: *insecure,
            sessions: shared.http_sessions.load(Ordering::Relaxed),
        }),
        projects,
        ui: shared.ui.url().await,
    })
}

async fn write_frames<W: AsyncWrite + Unpin>(mut writer: W, mut queue: mpsc::Receiver<Vec<u8>>) {
    while let Some(frame) = queue.recv().await {
        if protocol::write_frame(&mut writer, &frame).await.is_err() {
            return;
        }
    }
}
