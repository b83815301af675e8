//! The stdio transport under the rmcp session: newline-delimited JSON-RPC on
//! stdin and stdout, with the limits and error answers of the contract.
//!
//! rmcp's own stdio transport drops a line that is not JSON without a word
//! and reads lines of any length. Ours refuses a message over
//! [`crate::limits::MAX_MESSAGE_BYTES`] without buffering
//! it, answers unparsable input with a JSON-RPC parse error (-32700) and a
//! well-formed message of the wrong shape with an invalid-request error
//! (-32600), and keeps serving in every case. Every refusal carries the
//! request's id whenever the line shows one (`lenient::find_id`), and lone
//! UTF-16 surrogate escapes, which JavaScript clients emit and serde_json
//! refuses, are read as U+FFFD (`lenient::repair_surrogates`).
//!
//! Requests for methods the server does not implement are answered here,
//! `-32601 Method not found`, before rmcp sees them: rmcp knows methods of
//! later protocols and extensions and would answer some of them with its own
//! message or with results of a protocol this session does not speak.
//! Before `initialize`, only it and `ping` reach rmcp, which would otherwise
//! end the session at an early notification.
//!
//! # Invariant
//! Only the writer task writes to stdout, one whole line at a time, so
//! responses, notifications and error answers never interleave.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{JsonRpcMessage, ServerResult};
use rmcp::service::{RoleServer, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

use crate::limits::MAX_MESSAGE_BYTES;

mod lenient;

/// Messages read but not yet taken by the session, and lines not yet written.
const BACKLOG: usize = 64;
/// How long, after stdin closes, requests already received may take to answer.
const DRAIN: Duration = Duration::from_secs(5);
/// How much of the start and of the end of a line over the limit is kept,
/// to find its id in.
const GLIMPSE_BYTES: usize = 64 * 1024;

/// The requests the server answers; any other method is not found. Keep in
/// step with the handler in [`super::server`].
const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// A JSON-RPC transport over any reader and writer; `memgraphd mcp` uses
/// stdin and stdout.
pub struct LineTransport {
    incoming: mpsc::Receiver<RxJsonRpcMessage<RoleServer>>,
    outgoing: mpsc::Sender<String>,
    /// Requests received and not yet answered. At end of input the session
    /// ends only once this is zero, so no answer is lost to a closed stdin.
    unanswered: Arc<watch::Sender<usize>>,
}

impl LineTransport {
    /// Starts the reader and writer tasks. The session ends when `input`
    /// reaches end of file.
    pub fn new<R, W>(input: R, output: W) -> LineTransport
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (to_session, incoming) = mpsc::channel(BACKLOG);
        let (outgoing, lines) = mpsc::channel(BACKLOG);
        let unanswered = Arc::new(watch::Sender::new(0));
        tokio::spawn(write_lines(output, lines));
        tokio::spawn(read_messages(
            input,
            to_session,
            outgoing.clone(),
            unanswered.clone(),
        ));
        LineTransport {
            incoming,
            outgoing,
            unanswered,
        }
    }
}

impl Transport<RoleServer> for LineTransport {
    type Error = std::io::Error;

    fn name() -> Cow<'static, str> {
        "stdio".into()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let outgoing = self.outgoing.clone();
        let unanswered = self.unanswered.clone();
        async move {
            // An answer ends a request; an error without an id answers none.
            let answers = match &item {
                JsonRpcMessage::Response(_) => true,
                JsonRpcMessage::Error(e) => e.id.is_some(),
                _ => false,
            };
            let line = encode(item).map_err(std::io::Error::other)?;
            let sent = outgoing
                .send(line)
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout closed"));
            if answers {
                unanswered.send_modify(|n| *n = n.saturating_sub(1));
            }
            sent
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleServer>>> + Send {
        let mut unanswered = self.unanswered.subscribe();
        async move {
            if let Some(message) = self.incoming.recv().await {
                return Some(message);
            }
            // End of input: let the calls in flight finish and answer first.
            let drained = unanswered.wait_for(|n| *n == 0);
            if tokio::time::timeout(DRAIN, drained).await.is_err() {
                tracing::warn!("stdin closed; gave up waiting for calls in flight");
            }
            None
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.incoming.close();
        std::future::ready(Ok(()))
    }
}

/// Marks a tool result's structured content as JSON text already written
/// (see [`raw_structured`]).
const RAW_MARK: &str = "\u{0}memgraphd:written\u{0}";

/// The structured content of a tool result whose JSON is already written:
/// the transport puts `json` in the line as it is, instead of rmcp
/// serializing a tree of it. A large answer is thus written once, where a
/// tree would be built, copied and walked again. It is an object, as rmcp
/// lets only objects through to a peer of an older protocol.
pub fn raw_structured(json: String) -> Value {
    let mut carrier = serde_json::Map::new();
    carrier.insert(RAW_MARK.to_owned(), Value::String(json));
    Value::Object(carrier)
}

/// The JSON text of a structured content made by [`raw_structured`], taken
/// out and replaced by the mark alone.
fn take_raw(content: &mut Option<Value>) -> Option<String> {
    let Some(Value::Object(carrier)) = content else {
        return None;
    };
    if carrier.len() != 1 {
        return None;
    }
    let Some(Value::String(json)) = carrier.get_mut(RAW_MARK) else {
        return None;
    };
    let json = std::mem::take(json);
    *content = Some(Value::String(RAW_MARK.to_owned()));
    Some(json)
}

/// The bytes of a tool result's line besides its texts and structured
/// content: the JSON-RPC frame, the content blocks, the line's end.
const LINE_FRAME: usize = 512;

/// One outgoing message as its line.
fn encode(mut item: TxJsonRpcMessage<RoleServer>) -> serde_json::Result<String> {
    let JsonRpcMessage::Response(response) = &mut item else {
        return serde_json::to_string(&item);
    };
    match &mut response.result {
        ServerResult::ListToolsResult(_) => {
            let mut value = serde_json::to_value(&item)?;
            restore_tool_execution(&mut value);
            Ok(value.to_string())
        }
        ServerResult::CallToolResult(result) => {
            let raw = take_raw(&mut result.structured_content);
            // The texts are escaped into the line, which makes them longer by
            // the quotes and line breaks they hold; a large answer's line is
            // written into one buffer, with room for the raw part and the
            // line's end, instead of one that doubles as it fills.
            let texts: usize = result
                .content
                .iter()
                .filter_map(|c| c.as_text())
                .map(|t| t.text.len())
                .sum();
            let raw_len = raw.as_ref().map_or(0, String::len);
            let mut line = Vec::with_capacity(texts + texts / 8 + raw_len + LINE_FRAME);
            serde_json::to_writer(&mut line, &item)?;
            // serde_json writes only UTF-8.
            let mut line = String::from_utf8(line).map_err(serde::ser::Error::custom)?;
            let Some(raw) = raw else {
                return Ok(line);
            };
            // The mark holds NUL, which serde_json escapes, so its quoted form
            // is found nowhere but where it was put: in any other string the
            // quote before it would be escaped.
            let mark = serde_json::to_string(RAW_MARK)?;
            match line.rfind(&mark) {
                Some(at) => {
                    // What follows the mark is the line's last few bytes;
                    // the raw part goes in with one copy, into room the line
                    // already has (`replace_range` would copy it byte by byte).
                    let tail = line.split_off(at + mark.len());
                    line.truncate(at);
                    line.push_str(&raw);
                    line.push_str(&tail);
                    Ok(line)
                }
                None => Err(serde::ser::Error::custom(
                    "the written structured content lost its place",
                )),
            }
        }
        _ => serde_json::to_string(&item),
    }
}

/// rmcp's `Tool` has no `execution` member, which the official definitions
/// carry (`{"taskSupport": "forbidden"}`, the default, since no tool here
/// runs as a task). Put it back, so `tools/list` is the official list.
fn restore_tool_execution(message: &mut Value) {
    let Some(tools) = message
        .get_mut("result")
        .and_then(|r| r.get_mut("tools"))
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for tool in tools.iter_mut().filter_map(Value::as_object_mut) {
        tool.entry("execution")
            .or_insert_with(|| json!({ "taskSupport": "forbidden" }));
    }
}

async fn write_lines<W: AsyncWrite + Unpin>(mut output: W, mut lines: mpsc::Receiver<String>) {
    while let Some(mut line) = lines.recv().await {
        line.push('\n');
        let written = async {
            output.write_all(line.as_bytes()).await?;
            output.flush().await
        };
        if let Err(e) = written.await {
            // The client is gone; nothing more can be said to it.
            tracing::debug!("stdout: {e}");
            return;
        }
        if line.len() >= crate::protocol::LARGE_REPLY {
            drop(line);
            crate::protocol::release_freed_memory();
        }
    }
}

fn is_request(message: &Value) -> bool {
    message.get("id").is_some() && message.get("method").is_some()
}

async fn read_messages<R: AsyncRead + Unpin>(
    input: R,
    to_session: mpsc::Sender<RxJsonRpcMessage<RoleServer>>,
    outgoing: mpsc::Sender<String>,
    unanswered: Arc<watch::Sender<usize>>,
) {
    let mut input = BufReader::new(input);
    let mut line = Vec::new();
    // Whether `initialize` has gone to the session.
    let mut opened = false;
    loop {
        line.clear();
        match read_line(&mut input, &mut line).await {
            Ok(Line::Eof) => return,
            Ok(Line::TooLong(glimpse)) => {
                let id = lenient::find_id(&glimpse.head, &glimpse.tail).unwrap_or(Value::Null);
                let answer = error_answer(
                    id,
                    -32600,
                    &format!("Invalid Request: message exceeds {MAX_MESSAGE_BYTES} bytes"),
                );
                if outgoing.send(answer).await.is_err() {
                    return;
                }
            }
            Ok(Line::Complete) => {
                let text = line.strip_suffix(b"\r").unwrap_or(&line);
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match parse(text) {
                    Ok(parsed) => {
                        if !opened {
                            match before_initialize(&parsed) {
                                Early::Pass => {}
                                Early::Opens => opened = true,
                                Early::Drop => {
                                    tracing::debug!("dropped a message sent before initialize");
                                    continue;
                                }
                                Early::Refuse(answer) => {
                                    if outgoing.send(answer).await.is_err() {
                                        return;
                                    }
                                    continue;
                                }
                            }
                        }
                        if parsed.method.is_some() {
                            unanswered.send_modify(|n| *n += 1);
                        }
                        if to_session.send(parsed.message).await.is_err() {
                            return;
                        }
                    }
                    Err(answer) => {
                        if outgoing.send(answer).await.is_err() {
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::debug!("stdin: {e}");
                return;
            }
        }
    }
}

/// What to do with a message that comes before the session's `initialize`.
enum Early {
    Pass,
    /// The `initialize` request itself.
    Opens,
    Drop,
    /// Not passed on; this is its answer.
    Refuse(String),
}

/// rmcp ends the whole session when a notification or a response comes
/// before `initialize`, and answers a request other than `ping` with an
/// error about the per-request metadata of a later protocol. So until
/// `initialize`, only it and `ping` pass; other requests are told to
/// initialize first and the rest is dropped (the client sent nothing that
/// awaits an answer).
fn before_initialize(parsed: &Parsed) -> Early {
    match parsed.method.as_deref() {
        Some("initialize") => Early::Opens,
        Some("ping") => Early::Pass,
        Some(_) => Early::Refuse(error_answer(
            parsed.id.clone(),
            -32600,
            "Invalid Request: the session is not initialized; send initialize first",
        )),
        None => Early::Drop,
    }
}

enum Line {
    Complete,
    TooLong(Glimpse),
    Eof,
}

/// The first and last bytes of a line too long to keep, where its id may be
/// found.
struct Glimpse {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl Glimpse {
    /// Starts from the part of the line read so far and the chunk that took
    /// it over the limit.
    fn new(line: &[u8], chunk: &[u8]) -> Glimpse {
        let mut glimpse = Glimpse {
            head: Vec::with_capacity(GLIMPSE_BYTES),
            tail: Vec::with_capacity(2 * GLIMPSE_BYTES),
        };
        glimpse.push(line);
        glimpse.push(chunk);
        glimpse
    }

    /// Adds the next bytes of the line. The tail is trimmed only once it
    /// doubles, so each byte is moved at most once or twice.
    fn push(&mut self, bytes: &[u8]) {
        let room = GLIMPSE_BYTES - self.head.len();
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.tail
            .extend_from_slice(&bytes[bytes.len().saturating_sub(GLIMPSE_BYTES)..]);
        if self.tail.len() > 2 * GLIMPSE_BYTES {
            self.tail.drain(..self.tail.len() - GLIMPSE_BYTES);
        }
    }

    fn finish(mut self) -> Line {
        if self.tail.len() > GLIMPSE_BYTES {
            self.tail.drain(..self.tail.len() - GLIMPSE_BYTES);
        }
        Line::TooLong(self)
    }
}

/// Reads one line into `line` without its `\n`. A line longer than the limit
/// is skipped to its end, keeping only a [`Glimpse`] of it.
async fn read_line<R: AsyncBufReadExt + Unpin>(
    input: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<Line> {
    let mut too_long: Option<Glimpse> = None;
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            // A last message without a newline still counts.
            return Ok(match too_long {
                Some(glimpse) => glimpse.finish(),
                None if line.is_empty() => Line::Eof,
                None => Line::Complete,
            });
        }
        let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        match &mut too_long {
            Some(glimpse) => glimpse.push(chunk),
            None if line.len() + chunk.len() > MAX_MESSAGE_BYTES => {
                too_long = Some(Glimpse::new(line, chunk));
                line.clear();
            }
            None => line.extend_from_slice(chunk),
        }
        let used = found.unwrap_or(buf.len());
        input.consume(used);
        if found.is_some() {
            return Ok(match too_long {
                Some(glimpse) => glimpse.finish(),
                None => Line::Complete,
            });
        }
    }
}

/// A message read from the client, with what the reader needs to know of it.
struct Parsed {
    message: RxJsonRpcMessage<RoleServer>,
    /// The method of a request, which awaits an answer; `None` for a
    /// notification or a response.
    method: Option<String>,
    id: Value,
}

/// Parses one line into a message, or into the error answer it deserves.
fn parse(text: &[u8]) -> Result<Parsed, String> {
    let value = parse_json(text).map_err(|e| {
        let id = lenient::find_id(text, text).unwrap_or(Value::Null);
        error_answer(id, -32700, &format!("Parse error: {e}"))
    })?;
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let requested = value.get("id").and(value.get("method"));
    if requested
        .and_then(Value::as_str)
        .is_some_and(|method| !METHODS.contains(&method))
    {
        return Err(error_answer(id, -32601, "Method not found"));
    }
    if let Some(problem) = params_problem(&value) {
        return Err(error_answer(
            id,
            -32602,
            &format!("Invalid params: {problem}"),
        ));
    }
    let method = is_request(&value)
        .then(|| value["method"].as_str().map(str::to_owned))
        .flatten();
    match serde_json::from_value(value) {
        Ok(message) => Ok(Parsed {
            message,
            method,
            id,
        }),
        Err(e) => Err(error_answer(id, -32600, &format!("Invalid Request: {e}"))),
    }
}

/// Checks the parameters of the methods this server implements, so that a
/// malformed call gets "invalid params" rather than "method not found"
/// (rmcp takes a request it cannot type for an unknown method).
fn params_problem(message: &Value) -> Option<String> {
    let method = message.get("method")?.as_str()?;
    let params = message.get("params");
    let field = |key: &str| params.and_then(|p| p.get(key));
    match method {
        "tools/call" => {
            if !field("name").is_some_and(Value::is_string) {
                return Some("tools/call needs a string \"name\"".into());
            }
            if field("arguments").is_some_and(|a| !a.is_object() && !a.is_null()) {
                return Some("tools/call \"arguments\" must be an object".into());
            }
            None
        }
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => (!field("uri")
            .is_some_and(Value::is_string))
        .then(|| format!("{method} needs a string \"uri\"")),
        _ => None,
    }
}

/// The line as JSON. Lone surrogate escapes are repaired only when the line
/// fails as it is, so well-formed lines pay nothing for the repair.
fn parse_json(text: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(text).or_else(|error| match lenient::repair_surrogates(text) {
        Cow::Owned(repaired) => serde_json::from_slice(&repaired),
        Cow::Borrowed(_) => Err(error),
    })
}

fn error_answer(id: Value, code: i64, message: &str) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }).to_string()
}

#[cfg(test)]
mod tests;
