//! The shim ↔ daemon protocol: typed messages, their framing on the local
//! socket, and [`ProtoError`].
//!
//! # Framing
//! A frame is a 4-byte little-endian body length, then the body: one message
//! encoded with bincode 2 through serde (`config::standard()` with a decode
//! limit, see `DECODE_LIMIT`). A frame whose body is over [`MAX_FRAME`] is
//! refused on both sides, before it is allocated on the reading side, and
//! the caller drops the connection. Outside this module code sees only
//! [`encode`], [`decode`], the frame readers and writers, the reply parts
//! ([`Outgoing`], [`Reassembly`]) and [`ProtoError`]. The one other place
//! that names bincode is the store, which keeps the answer to each write (an
//! [`Outcome`]) in the record of applied requests in the same encoding,
//! without a frame.
//!
//! A shim sends [`ClientFrame`]s and the daemon answers with [`ServerFrame`]s:
//! first `Hello` → `Welcome` or `Refused`, then any number of
//! `Request {id, op}` → `Response {id, result}`, several of them in flight
//! at once, matched by `id`. A connection that sent `Op::Subscribe` also
//! receives `Event` frames between responses.
//!
//! A response too large for one frame arrives as [`ResponsePart`]s instead,
//! reassembled by the client; one reply totals at most [`MAX_REPLY`] bytes
//! (see the `parts` module).
//!
//! # The frozen handshake
//! [`Hello`] is variant 0 of [`ClientFrame`], [`Welcome`] and [`Refused`] are
//! variants 0 and 1 of [`ServerFrame`], and the fields of these three structs
//! never change, whatever [`PROTOCOL_VERSION`] says. So a daemon of any
//! version can read any shim's `Hello`, and any shim can read the answer: the
//! daemon's protocol, version and pid. A shim that meets an older daemon
//! asks it to shut down and spawns its own (upgrade in place); a daemon
//! refuses a protocol it does not speak with `Refused`. Everything after the
//! handshake may change, and any change bumps [`PROTOCOL_VERSION`]. The
//! `*_bytes_are_frozen` tests pin the bytes of the three handshake frames.
//!
//! # Invariants
//! - No `#[serde(tag, untagged, flatten, skip_serializing_if)]` and no
//!   `serde_json::Value` in these types: bincode is not self-describing, so
//!   every enum is externally tagged and JSON, if any, travels as `String`.
//! - Every variant round-trips through `encode` → `read_frame` → `decode`
//!   (see the tests).
//! - Reading and decoding never panic, whatever the peer sends. A frame
//!   buffer never exceeds [`MAX_FRAME`] bytes, and it grows only as bytes
//!   arrive; bincode's own up-front allocations are capped by `DECODE_LIMIT`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::model::{Author, ExportCursor, ExportPage, GraphOp, OpError, Outcome};

mod parts;
mod tokens;
pub use parts::{
    release_freed_memory, Assembled, Chunk, Outgoing, Reassembly, ResponsePart, LARGE_REPLY,
    MAX_REPLY, PART_BYTES,
};
pub use tokens::{TokenInfo, TokenOp, TokenReply};

/// The version of everything after the handshake. Bump it on any change to
/// these types or their order; the handshake itself never changes.
///
/// 2: replies larger than one frame ([`ResponsePart`]); paged export
/// ([`Op::ExportPage`]); [`OpError::Unanswerable`].
/// 3: paged and budgeted reads, ranked search and neighbourhoods
/// (`GraphOp::ReadPage`, `SearchMemory`, `Neighbors` and their outcomes).
/// 4: token admin ([`Op::Token`]); the HTTP face in [`DaemonStatus::http`].
/// 5: provenance on every request ([`Op::Authored`]), history, undo,
/// supersede and purge, and the projects in [`DaemonStatus`].
/// 6: the web view ([`Op::Ui`], [`Reply::Ui`]).
/// 7: the recent-changes read of the session-start hook (`GraphOp::Recent`).
/// 8: the session's project on `search_memory` (`MemorySearch::project`).
/// 9: the size guard on `search_memory` and `get_neighbors` (their `budget`
/// and their outcomes' `truncated`).
/// 10: where the web view is served, in [`DaemonStatus::ui`].
pub const PROTOCOL_VERSION: u32 = 10;

/// The largest frame body either side sends or accepts, in bytes.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// The size of the length prefix in front of every body.
const PREFIX: usize = 4;

/// How much of a body `read_frame` reserves before any of it arrives: a peer
/// that announces a large frame and sends nothing costs us this, not the
/// length it announced.
const READ_CHUNK: usize = 64 * 1024;

/// What a shim sends. Variant order is part of the wire format, and `Hello`
/// stays variant 0 forever (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientFrame {
    Hello(Hello),
    Request(Request),
}

/// What the daemon sends. Variant order is part of the wire format, and
/// `Welcome` and `Refused` stay variants 0 and 1 forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerFrame {
    Welcome(Welcome),
    Refused(Refused),
    Response(Response),
    Event(Event),
    ResponsePart(ResponsePart),
}

/// The first frame of every connection. Frozen: its fields never change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The [`PROTOCOL_VERSION`] the sender speaks.
    pub protocol: u32,
    /// The crate version of the sender, for logs and `status`.
    pub version: String,
    pub pid: u32,
    /// The working directory of the sender (the agent's project), for logs.
    pub cwd: String,
    /// What kind of client connects: `"mcp"`, `"status"`, …
    pub client: String,
}

/// The daemon accepts the connection. Frozen: its fields never change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u32,
    pub version: String,
    pub pid: u32,
    /// The SQLite file this daemon owns.
    pub db_path: String,
}

/// The daemon refuses the connection and closes it; `pid` tells the shim
/// which process to wait for after asking it to stop. Frozen: its fields
/// never change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub protocol: u32,
    pub version: String,
    pub pid: u32,
    pub reason: String,
}

/// One operation, answered by the [`Response`] with the same `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the client, unique among its requests in flight on this
    /// connection.
    pub id: u64,
    pub op: Op,
}

/// What a request asks the daemon to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A graph operation. `request_id` is the idempotency key of a write,
    /// chosen by the client and kept across retries, so a write retried
    /// after a lost connection is applied once.
    Graph {
        op: GraphOp,
        request_id: Option<u128>,
    },
    Status,
    /// Ask the daemon to drain and exit, e.g. because a newer shim wants to
    /// replace it.
    Shutdown,
    /// Start receiving [`Event`] frames on this connection.
    Subscribe,
    Unsubscribe,
    /// Write a consistent copy of the database to `path` (absolute, must not
    /// exist) while writes go on, and check it.
    Backup {
        path: String,
    },
    /// Run SQLite's `integrity_check` on the live database.
    Check,
    /// One page of the graph for `memgraphd export`, after `after`. The
    /// first page (`snapshot: None`) opens a read snapshot that every later
    /// page of the same export names, so the pages together are one
    /// consistent graph however much is written meanwhile.
    ExportPage {
        snapshot: Option<u64>,
        after: ExportCursor,
    },
    /// Add, list or revoke a bearer token of the HTTP face.
    Token(TokenOp),
    /// Like [`Op::Graph`], with who asks: a write's change records the
    /// author's session, client, project and cwd (the daemon adds the actor).
    Authored {
        op: GraphOp,
        request_id: Option<u128>,
        author: Box<Author>,
    },
    /// Serve the web view on loopback (on `port`, or one of the daemon's
    /// choosing; a view already running is kept), and mint a login token
    /// for one browser.
    Ui {
        port: Option<u16>,
    },
}

/// The answer to the [`Request`] with the same `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub id: u64,
    pub result: Result<Reply, OpError>,
}

/// A successful answer, one variant per [`Op`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Graph(Outcome),
    Status(DaemonStatus),
    ShuttingDown,
    Subscribed,
    Unsubscribed,
    /// The backup is written and passed `integrity_check`.
    BackedUp {
        bytes: u64,
    },
    /// What `integrity_check` found; empty means the database is sound.
    Checked {
        problems: Vec<String>,
    },
    ExportPage(ExportPage),
    Token(TokenReply),
    /// The web view's address with a fresh login token in its fragment
    /// (`http://127.0.0.1:PORT/#token=…`).
    Ui {
        url: String,
    },
}

/// What `memgraphd status` shows about a running daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub pid: u32,
    pub version: String,
    pub protocol: u32,
    pub uptime_secs: u64,
    pub db_path: String,
    pub socket_path: String,
    pub db_bytes: u64,
    pub wal_bytes: u64,
    pub entities: u64,
    pub observations: u64,
    pub relations: u64,
    /// Connections past the handshake.
    pub sessions: u64,
    /// Operations waiting for the writer thread.
    pub queue_depth: u64,
    /// The HTTP face, when `serve --http` runs it.
    pub http: Option<HttpStatus>,
    /// The projects changes came from, with how many changes each.
    pub projects: Vec<(String, u64)>,
    /// Where the web view is served (`http://127.0.0.1:PORT/`), once
    /// `memgraphd ui` asked for it; its links carry their own login token.
    pub ui: Option<String>,
}

/// What `status` shows of the HTTP face.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpStatus {
    /// The URL of the MCP endpoint, with the bound port.
    pub url: String,
    /// Plain HTTP on a non-loopback address (`--insecure-http`): tokens
    /// travel in clear.
    pub insecure: bool,
    /// Open MCP sessions over HTTP.
    pub sessions: u64,
}

/// A change notice, sent to connections that subscribed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A write changed the graph; re-read it if you show it.
    GraphChanged,
}

/// Why a frame could not be sent or received. Any of them ends the
/// connection: after a bad frame the stream is no longer in step.
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    #[error("socket i/o")]
    Io(#[from] std::io::Error),
    /// The peer announced, or we tried to send, a body over [`MAX_FRAME`].
    #[error("frame of {len} bytes is over the limit of {max} bytes", max = MAX_FRAME)]
    TooLarge { len: usize },
    /// A reply passed the bound on what one reply may total.
    #[error("the reply is over the limit of {limit} bytes for one reply")]
    ReplyTooLarge { limit: usize },
    #[error("encoding a message: {0}")]
    Encode(String),
    /// The body is not a valid message of the expected type: a peer of
    /// another protocol version, or a bug.
    #[error("decoding a message: {0}")]
    Decode(String),
}

impl ProtoError {
    /// Whether the peer went away (closed, crashed or reset the connection),
    /// as opposed to sending something we cannot read.
    pub fn is_disconnect(&self) -> bool {
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
        match self {
            ProtoError::Io(err) => matches!(
                err.kind(),
                UnexpectedEof | BrokenPipe | ConnectionReset | ConnectionAborted
            ),
            _ => false,
        }
    }
}

/// The budget bincode's decoder may charge for one body.
///
/// bincode charges its limit with the in-memory size of every integer it
/// decodes (8 bytes for a 1-byte string length, 16 for a `u128`), not with
/// the bytes it reads, so a legitimate body of [`MAX_FRAME`] bytes full of
/// short strings charges up to 16 times that; a limit of [`MAX_FRAME`] would
/// refuse messages that `encode` accepted. What the limit still guards is the
/// buffer bincode allocates for a string *before* reading it: without one, a
/// garbage length would ask for any size at all. The wire size itself is
/// bounded by `read_frame` and `encode`.
const DECODE_LIMIT: usize = 16 * MAX_FRAME;

/// The same budget for a reply assembled from parts (see [`parts`]).
const ASSEMBLED_DECODE_LIMIT: usize = MAX_REPLY.saturating_mul(16);

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Encodes `msg` as a whole frame: the length prefix, then the body.
/// Refuses a body over [`MAX_FRAME`].
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, ProtoError> {
    let mut frame = match encode_unchecked(msg, MAX_FRAME) {
        Err(ProtoError::ReplyTooLarge { .. }) => {
            // Say how big it is, as a frame limit does, at the cost of
            // encoding once more into nothing.
            let mut counter = Limited::new(usize::MAX);
            counter.buf = None;
            let _ = bincode::serde::encode_into_std_write(msg, &mut counter, config());
            return Err(ProtoError::TooLarge { len: counter.len });
        }
        other => other?,
    };
    let len = frame.len() - PREFIX;
    if len > MAX_FRAME {
        return Err(ProtoError::TooLarge { len });
    }
    // MAX_FRAME fits in a u32, so this never fails once `len` is checked.
    let prefix = u32::try_from(len).map_err(|_| ProtoError::TooLarge { len })?;
    frame[..PREFIX].copy_from_slice(&prefix.to_le_bytes());
    Ok(frame)
}

/// Encodes `msg` behind a zeroed length prefix, failing with
/// [`ProtoError::ReplyTooLarge`] as soon as the body passes `limit` bytes,
/// so a body too large is never held whole. The caller checks the frame
/// limit and fills in the prefix.
fn encode_unchecked<T: Serialize>(msg: &T, limit: usize) -> Result<Vec<u8>, ProtoError> {
    let mut out = Limited::new(limit);
    match bincode::serde::encode_into_std_write(msg, &mut out, config()) {
        Ok(_) => {}
        Err(_) if out.len > limit => return Err(ProtoError::ReplyTooLarge { limit }),
        Err(err) => return Err(ProtoError::Encode(err.to_string())),
    }
    let mut frame = out.buf.unwrap_or_default();
    if let Ok(len) = u32::try_from(frame.len() - PREFIX) {
        frame[..PREFIX].copy_from_slice(&len.to_le_bytes());
    }
    Ok(frame)
}

/// A sink that keeps (or, without a buffer, only counts) what is written,
/// and fails once the body passes `limit` bytes.
struct Limited {
    buf: Option<Vec<u8>>,
    /// Body bytes written so far, kept or not.
    len: usize,
    limit: usize,
}

impl Limited {
    fn new(limit: usize) -> Limited {
        Limited {
            buf: Some(vec![0; PREFIX]),
            len: 0,
            limit,
        }
    }
}

impl std::io::Write for Limited {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.len = self.len.saturating_add(bytes.len());
        if self.len > self.limit {
            return Err(std::io::Error::other("over the limit"));
        }
        if let Some(buf) = self.buf.as_mut() {
            buf.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes one message from a frame body (without its length prefix). A
/// body with bytes left over after the message is an error too.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtoError> {
    let (msg, used) = bincode::serde::decode_from_slice(body, config())
        .map_err(|err| ProtoError::Decode(err.to_string()))?;
    check_used(body, used)?;
    Ok(msg)
}

/// Decodes a reply body assembled from parts, which may be up to
/// [`MAX_REPLY`] bytes long.
fn decode_assembled<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtoError> {
    let config = bincode::config::standard().with_limit::<ASSEMBLED_DECODE_LIMIT>();
    let (msg, used) = bincode::serde::decode_from_slice(body, config)
        .map_err(|err| ProtoError::Decode(err.to_string()))?;
    check_used(body, used)?;
    Ok(msg)
}

fn check_used(body: &[u8], used: usize) -> Result<(), ProtoError> {
    if used != body.len() {
        return Err(ProtoError::Decode(format!(
            "{} trailing bytes after the message",
            body.len() - used
        )));
    }
    Ok(())
}

/// Reads one frame and returns its body, or `None` if the stream ended
/// cleanly between frames. An end inside a frame is an `UnexpectedEof` error.
///
/// The length is checked against [`MAX_FRAME`] before anything is
/// allocated, and the body buffer grows with the bytes that actually arrive.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Vec<u8>>, ProtoError> {
    let mut prefix = [0u8; PREFIX];
    let mut filled = 0;
    while filled < PREFIX {
        let n = r.read(&mut prefix[filled..]).await?;
        if n == 0 {
            if filled == 0 {
                return Ok(None);
            }
            return Err(eof_inside_frame());
        }
        filled += n;
    }
    // usize is at least 32 bits wherever MAX_FRAME compiles, so this is exact.
    let len = usize::try_from(u32::from_le_bytes(prefix)).unwrap_or(usize::MAX);
    if len > MAX_FRAME {
        return Err(ProtoError::TooLarge { len });
    }
    // Not `take(len).read_to_end()`: it probes for the end with a full buffer
    // and doubles it, so a 16 MiB frame would hold 32 MiB.
    let mut body = Vec::new();
    while body.len() < len {
        if body.len() == body.capacity() {
            // Grow geometrically as bytes arrive, never past the announced
            // length, so the spare room is at most what the frame still owes.
            let grow = body.len().max(READ_CHUNK).min(len - body.len());
            body.reserve_exact(grow);
        }
        let owed = len - body.len();
        // `take` keeps the read inside this frame whatever the spare room.
        if (&mut *r).take(owed as u64).read_buf(&mut body).await? == 0 {
            return Err(eof_inside_frame());
        }
    }
    Ok(Some(body))
}

fn eof_inside_frame() -> ProtoError {
    ProtoError::Io(std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "stream ended inside a frame",
    ))
}

/// Writes a frame made by [`encode`] and flushes it.
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, frame: &[u8]) -> Result<(), ProtoError> {
    w.write_all(frame).await?;
    w.flush().await?;
    Ok(())
}

/// Reads and decodes one message, or `None` at a clean end of stream.
pub async fn read_msg<T: DeserializeOwned, R: AsyncRead + Unpin>(
    r: &mut R,
) -> Result<Option<T>, ProtoError> {
    match read_frame(r).await? {
        Some(body) => decode(&body).map(Some),
        None => Ok(None),
    }
}

/// Encodes and writes one message, then flushes.
pub async fn write_msg<T: Serialize, W: AsyncWrite + Unpin>(
    w: &mut W,
    msg: &T,
) -> Result<(), ProtoError> {
    write_frame(w, &encode(msg)?).await
}

#[cfg(test)]
mod tests;
