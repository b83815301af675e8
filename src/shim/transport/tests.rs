//! Unit tests of [`LineTransport`] on in-memory streams: what reaches the
//! session, what is answered directly on the output, and that the session
//! keeps being served after every kind of bad line.

use std::io::Cursor;
use std::time::Duration;

use rmcp::transport::Transport;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};

use super::*;

/// How long any single step may take before the test fails instead of hanging.
const STEP: Duration = Duration::from_secs(5);

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

// ---- helpers ---------------------------------------------------------------

type Written = Lines<BufReader<DuplexStream>>;

/// A transport reading `input` to its end, and the lines it writes.
fn serve_raw(input: impl Into<Vec<u8>>) -> (LineTransport, Written) {
    let (output, written) = tokio::io::duplex(64 * 1024);
    let transport = LineTransport::new(Cursor::new(input.into()), output);
    (transport, BufReader::new(written).lines())
}

/// Like [`serve_raw`], on a session past `initialize`: as a client does, it
/// sends the rest of `input` only once `initialize` is answered.
async fn serve(input: impl Into<Vec<u8>>) -> (LineTransport, Written) {
    let (mut client, server_input) = tokio::io::duplex(64 * 1024);
    let (output, written) = tokio::io::duplex(64 * 1024);
    let mut transport = LineTransport::new(server_input, output);
    let mut lines = BufReader::new(written).lines();
    client
        .write_all(format!("{INITIALIZE}\n").as_bytes())
        .await
        .expect("the transport reads");
    assert_eq!(next_message(&mut transport).await["method"], "initialize");
    let answer = json!({"jsonrpc": "2.0", "id": 0, "result": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "serverInfo": {"name": "test", "version": "0"},
    }});
    transport
        .send(outgoing(answer))
        .await
        .expect("the answer is sent");
    assert_eq!(next_line(&mut lines).await["id"], 0);
    let rest = input.into();
    // Written from a task, since a long input fills the pipe; closing it is
    // the end of input.
    tokio::spawn(async move {
        let _ = client.write_all(&rest).await;
    });
    (transport, lines)
}

/// The next message the session receives, as JSON.
async fn next_message(transport: &mut LineTransport) -> Value {
    let message = tokio::time::timeout(STEP, transport.receive())
        .await
        .expect("a message arrives in time")
        .expect("the transport has a message, not the end of input");
    serde_json::to_value(&message).expect("a received message serializes")
}

async fn assert_ended(transport: &mut LineTransport) {
    let next = tokio::time::timeout(STEP, transport.receive())
        .await
        .expect("the end of input is reported in time");
    assert!(next.is_none(), "expected the end, got {next:?}");
}

/// The next line written to the output, as JSON.
async fn next_line(lines: &mut Lines<BufReader<DuplexStream>>) -> Value {
    let line = tokio::time::timeout(STEP, lines.next_line())
        .await
        .expect("a line is written in time")
        .expect("the output can be read")
        .expect("the output has another line");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// The error code and message of an error answer with a null id.
fn error_of(answer: &Value) -> (i64, &str) {
    error_with_id(answer, &Value::Null)
}

/// The error code and message of an error answer to request `id`.
fn error_with_id<'a>(answer: &'a Value, id: &Value) -> (i64, &'a str) {
    assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
    assert_eq!(&answer["id"], id, "{answer}");
    let error = &answer["error"];
    let code = error["code"].as_i64().expect("the error has a code");
    let message = error["message"].as_str().expect("the error has a message");
    (code, message)
}

fn outgoing(message: Value) -> TxJsonRpcMessage<RoleServer> {
    serde_json::from_value(message).expect("a valid server message")
}

// ---- valid input -----------------------------------------------------------

#[tokio::test]
async fn messages_arrive_in_order_and_the_end_is_none() {
    let (mut transport, _) = serve(format!("{INITIALIZED}\n{INITIALIZED}\n")).await;
    let first = next_message(&mut transport).await;
    assert_eq!(first["method"], "notifications/initialized");
    assert_eq!(next_message(&mut transport).await, first);
    assert_ended(&mut transport).await;
    // Once ended, it stays ended.
    assert_ended(&mut transport).await;
}

#[tokio::test]
async fn an_empty_input_ends_at_once() {
    let (mut transport, _) = serve("").await;
    assert_ended(&mut transport).await;
}

#[tokio::test]
async fn blank_lines_and_crlf_endings_are_tolerated() {
    let input = format!("\n   \r\n\t\n{PING}\r\n\r\n{INITIALIZED}");
    let (mut transport, mut lines) = serve(input).await;
    let ping = next_message(&mut transport).await;
    assert_eq!(ping["method"], "ping");
    assert_eq!(ping["id"], 1);
    // The last line has no newline at all and still counts.
    let initialized = next_message(&mut transport).await;
    assert_eq!(initialized["method"], "notifications/initialized");

    transport
        .send(outgoing(json!({"jsonrpc": "2.0", "id": 1, "result": {}})))
        .await
        .expect("the answer is sent");
    assert_ended(&mut transport).await;
    // Nothing but the answer was written: blank lines are not errors.
    let answer = next_line(&mut lines).await;
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["result"], json!({}));
    drop(transport);
    let rest = tokio::time::timeout(STEP, lines.next_line())
        .await
        .expect("the output closes in time")
        .expect("the output can be read");
    assert_eq!(rest, None);
}

// ---- before initialize -------------------------------------------------------

#[tokio::test]
async fn before_initialize_only_ping_and_initialize_pass() {
    let early = [
        INITIALIZED,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
        r#"{"jsonrpc":"2.0","id":"r1","result":{}}"#,
        r#"{"jsonrpc":"2.0","id":"t1","method":"tools/list"}"#,
        PING,
    ];
    let input = format!("{}\n{INITIALIZE}\n{INITIALIZED}\n", early.join("\n"));
    let (mut transport, mut lines) = serve_raw(input);
    // The notifications and the response are dropped, the early tools/list
    // is told to initialize first, and ping passes.
    let answer = next_line(&mut lines).await;
    let (code, message) = error_with_id(&answer, &json!("t1"));
    assert_eq!(code, -32600);
    assert!(message.contains("initialize first"), "{message}");
    assert_eq!(next_message(&mut transport).await["method"], "ping");
    assert_eq!(next_message(&mut transport).await["method"], "initialize");
    // From then on everything passes.
    let after = next_message(&mut transport).await;
    assert_eq!(after["method"], "notifications/initialized");
}

// ---- bad input -------------------------------------------------------------

#[tokio::test]
async fn invalid_json_is_a_parse_error_and_the_next_line_is_served() {
    let (mut transport, mut lines) = serve(format!(
        "{{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \n{PING}\n"
    ))
    .await;
    let answer = next_line(&mut lines).await;
    let (code, message) = error_with_id(&answer, &json!(1));
    assert_eq!(code, -32700);
    assert!(message.starts_with("Parse error: "), "{message}");

    let ping = next_message(&mut transport).await;
    assert_eq!(ping["method"], "ping");
}

#[tokio::test]
async fn invalid_json_without_an_id_is_answered_with_a_null_id() {
    let (_transport, mut lines) = serve("{\"jsonrpc\": \"2.0\", \"method\": \"x\"\n").await;
    let (code, _) = error_of(&next_line(&mut lines).await);
    assert_eq!(code, -32700);
}

#[tokio::test]
async fn invalid_json_is_answered_with_an_id_that_comes_last() {
    // The TypeScript SDK writes `id` after `params`.
    let line = r#"{"method":"tools/call","params":{"name":"x","arguments":{"q":nope}},"jsonrpc":"2.0","id":"req-9"}"#;
    let (_transport, mut lines) = serve(format!("{line}\n")).await;
    let (code, _) = error_with_id(&next_line(&mut lines).await, &json!("req-9"));
    assert_eq!(code, -32700);
}

#[tokio::test]
async fn lone_surrogates_reach_the_session_as_replacement_characters() {
    let line = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search_nodes","arguments":{"query":"bad\ud83d \udc00x \ud83d\ude00"}}}"#;
    let (mut transport, _) = serve(format!("{line}\n")).await;
    let call = next_message(&mut transport).await;
    assert_eq!(call["id"], 3);
    assert_eq!(
        call["params"]["arguments"]["query"], "bad\u{FFFD} \u{FFFD}x 😀",
        "{call}"
    );
}

#[tokio::test]
async fn an_unknown_method_is_not_found_before_the_session_sees_it() {
    let lines_in = [
        r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"info"}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"completion/complete","params":{}}"#,
        r#"{"jsonrpc":"2.0","id":"four","method":"foo/bar"}"#,
        r#"{"jsonrpc":"2.0","id":5,"method":"server/discover"}"#,
        r#"{"jsonrpc":"2.0","id":6,"method":"tasks/list"}"#,
    ];
    let (mut transport, mut lines) =
        serve(format!("{}\n{INITIALIZED}\n", lines_in.join("\n"))).await;
    for (line, id) in lines_in.iter().zip([
        json!(1),
        json!(2),
        json!(3),
        json!("four"),
        json!(5),
        json!(6),
    ]) {
        let answer = next_line(&mut lines).await;
        let (code, message) = error_with_id(&answer, &id);
        assert_eq!((code, message), (-32601, "Method not found"), "{line}");
    }
    // None reached the session; the notification after them did.
    let next = next_message(&mut transport).await;
    assert_eq!(next["method"], "notifications/initialized");
    assert_ended(&mut transport).await;
}

#[tokio::test]
async fn every_method_the_server_implements_reaches_the_session() {
    let input: String = METHODS
        .iter()
        .enumerate()
        .map(|(id, &method)| {
            let params = match method {
                "initialize" => json!({"protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"}}),
                "tools/call" => json!({"name": "read_graph"}),
                _ => json!({"uri": "memory://knowledge-graph"}),
            };
            let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
            request.to_string() + "\n"
        })
        .collect();
    let (mut transport, _) = serve(input).await;
    for method in METHODS {
        assert_eq!(next_message(&mut transport).await["method"], *method);
    }
}

#[tokio::test]
async fn json_that_is_not_a_message_is_an_invalid_request() {
    for bad in ["[1,2]", r#"{"foo":1}"#, r#""ping""#, "42"] {
        let (mut transport, mut lines) = serve(format!("{bad}\n{INITIALIZED}\n")).await;
        let answer = next_line(&mut lines).await;
        let (code, message) = error_of(&answer);
        assert_eq!(code, -32600, "{bad}");
        assert!(message.starts_with("Invalid Request: "), "{bad}: {message}");
        // The bad line never reaches the session; the next one does.
        let next = next_message(&mut transport).await;
        assert_eq!(next["method"], "notifications/initialized", "{bad}");
        assert_ended(&mut transport).await;
    }
}

#[tokio::test]
async fn an_invalid_request_with_an_id_is_answered_with_that_id() {
    let (_transport, mut lines) = serve("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":42}\n").await;
    let answer = next_line(&mut lines).await;
    assert_eq!(answer["id"], 7, "{answer}");
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
}

#[tokio::test]
async fn a_line_over_the_limit_is_refused_and_the_next_line_served() {
    let mut input = vec![b'x'; MAX_MESSAGE_BYTES + 1];
    input.push(b'\n');
    input.extend_from_slice(PING.as_bytes());
    input.push(b'\n');
    let (mut transport, mut lines) = serve(input).await;

    let answer = next_line(&mut lines).await;
    let (code, message) = error_of(&answer);
    assert_eq!(code, -32600);
    assert_eq!(
        message, "Invalid Request: message exceeds 8388608 bytes",
        "the answer names the limit"
    );
    let ping = next_message(&mut transport).await;
    assert_eq!(ping["method"], "ping");
}

/// A request padded past the limit inside `params`.
fn oversized(id_first: bool) -> Vec<u8> {
    let padding = "x".repeat(MAX_MESSAGE_BYTES);
    let line = if id_first {
        format!(
            r#"{{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{{"name":"search_nodes","arguments":{{"query":"{padding}"}}}}}}"#
        )
    } else {
        format!(
            r#"{{"method":"tools/call","params":{{"name":"search_nodes","arguments":{{"query":"{padding}"}}}},"jsonrpc":"2.0","id":"last-42"}}"#
        )
    };
    line.into_bytes()
}

#[tokio::test]
async fn a_line_over_the_limit_is_refused_with_its_id_from_the_start() {
    let mut input = oversized(true);
    input.push(b'\n');
    let (_transport, mut lines) = serve(input).await;
    let answer = next_line(&mut lines).await;
    let (code, message) = error_with_id(&answer, &json!(41));
    assert_eq!(code, -32600);
    assert!(message.contains("8388608"), "{message}");
}

#[tokio::test]
async fn a_line_over_the_limit_is_refused_with_its_id_from_the_end() {
    // Without a newline, too: the end of input ends the line.
    let (_transport, mut lines) = serve(oversized(false)).await;
    let (code, _) = error_with_id(&next_line(&mut lines).await, &json!("last-42"));
    assert_eq!(code, -32600);
}

#[test]
fn a_glimpse_keeps_only_the_first_and_last_bytes() {
    let line: Vec<u8> = (0..3 * GLIMPSE_BYTES).map(|i| (i % 251) as u8).collect();
    let mut glimpse = Glimpse::new(&line[..10], &line[10..100]);
    for chunk in line[100..].chunks(1000) {
        glimpse.push(chunk);
        assert!(glimpse.tail.len() <= 2 * GLIMPSE_BYTES + 1000);
    }
    let Line::TooLong(glimpse) = glimpse.finish() else {
        panic!("a glimpse finishes as a line too long");
    };
    assert!(
        glimpse.head == line[..GLIMPSE_BYTES],
        "the head is the first bytes"
    );
    assert!(
        glimpse.tail == line[line.len() - GLIMPSE_BYTES..],
        "the tail is the last bytes"
    );

    // A line that went over with less than a glimpse read keeps it all.
    let Line::TooLong(short) = Glimpse::new(b"abc", b"def").finish() else {
        panic!("a glimpse finishes as a line too long");
    };
    assert_eq!(
        (short.head.as_slice(), short.tail.as_slice()),
        (&b"abcdef"[..], &b"abcdef"[..])
    );
}

#[tokio::test]
async fn an_oversized_last_line_without_a_newline_is_refused_too() {
    let (mut transport, mut lines) = serve(vec![b'{'; MAX_MESSAGE_BYTES + 10]).await;
    let (code, _) = error_of(&next_line(&mut lines).await);
    assert_eq!(code, -32600);
    assert_ended(&mut transport).await;
}

#[tokio::test]
async fn a_message_of_exactly_the_limit_is_accepted() {
    // Trailing whitespace is valid JSON: pad a message to exactly the limit.
    let mut line = INITIALIZED.as_bytes().to_vec();
    line.resize(MAX_MESSAGE_BYTES, b' ');
    line.push(b'\n');
    let (mut transport, _) = serve(line).await;
    let message = next_message(&mut transport).await;
    assert_eq!(message["method"], "notifications/initialized");
}

#[tokio::test]
async fn a_line_is_assembled_from_partial_writes() {
    let (mut client, input) = tokio::io::duplex(16);
    let (output, _written) = tokio::io::duplex(1024);
    let mut transport = LineTransport::new(input, output);
    let writer = tokio::spawn(async move {
        for chunk in PING.as_bytes().chunks(5) {
            client.write_all(chunk).await.expect("the transport reads");
        }
        client.write_all(b"\n").await.expect("the transport reads");
    });
    let ping = next_message(&mut transport).await;
    assert_eq!(ping["method"], "ping");
    writer.await.expect("the writer finishes");
}

// ---- answers and the end of input ------------------------------------------

#[tokio::test]
async fn the_end_waits_for_requests_in_flight_to_be_answered() {
    let (mut transport, mut lines) = serve(format!("{PING}\n")).await;
    assert_eq!(next_message(&mut transport).await["method"], "ping");

    // `send` returns a future that owns what it needs, so it can be held
    // while `receive` borrows the transport.
    let answer = transport.send(outgoing(json!({"jsonrpc": "2.0", "id": 1, "result": {}})));
    let mut end = Box::pin(transport.receive());
    let early = tokio::time::timeout(Duration::from_millis(50), &mut end).await;
    assert!(early.is_err(), "the end came before the ping was answered");

    answer.await.expect("the answer is sent");
    let next = tokio::time::timeout(Duration::from_secs(2), end)
        .await
        .expect("the end follows the answer, well before the drain timeout");
    assert!(next.is_none());
    assert_eq!(next_line(&mut lines).await["id"], 1);
}

#[tokio::test]
async fn sent_messages_are_written_one_per_line() {
    let (mut transport, mut lines) = serve("").await;
    for id in 1..=3 {
        transport
            .send(outgoing(json!({"jsonrpc": "2.0", "id": id, "result": {}})))
            .await
            .expect("the answer is sent");
    }
    transport
        .send(outgoing(json!({
            "jsonrpc": "2.0",
            "method": "notifications/resources/updated",
            "params": {"uri": "memory://knowledge-graph"},
        })))
        .await
        .expect("the notification is sent");
    for id in 1..=3 {
        assert_eq!(next_line(&mut lines).await["id"], id);
    }
    let notice = next_line(&mut lines).await;
    assert_eq!(notice["method"], "notifications/resources/updated");
    assert_eq!(notice["params"]["uri"], "memory://knowledge-graph");
}

#[tokio::test]
async fn a_tools_list_answer_is_sent_with_the_execution_member() {
    let (mut transport, mut lines) = serve("").await;
    let tools = json!({
        "jsonrpc": "2.0",
        "id": 2,
        "result": {"tools": [{"name": "read_graph", "inputSchema": {"type": "object"}}]},
    });
    transport
        .send(outgoing(tools))
        .await
        .expect("the answer is sent");
    let answer = next_line(&mut lines).await;
    assert_eq!(answer["id"], 2);
    assert_eq!(answer["result"]["tools"][0]["name"], "read_graph");
    assert_eq!(
        answer["result"]["tools"][0]["execution"],
        json!({"taskSupport": "forbidden"})
    );
}

// ---- restore_tool_execution -------------------------------------------------

#[test]
fn restore_tool_execution_adds_the_default_to_every_tool() {
    let mut message = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "result": {"tools": [
            {"name": "a", "inputSchema": {}},
            {"name": "b", "inputSchema": {}},
        ]},
    });
    restore_tool_execution(&mut message);
    assert_eq!(
        message["result"]["tools"],
        json!([
            {"name": "a", "inputSchema": {}, "execution": {"taskSupport": "forbidden"}},
            {"name": "b", "inputSchema": {}, "execution": {"taskSupport": "forbidden"}},
        ])
    );
}

#[test]
fn restore_tool_execution_keeps_an_execution_already_there() {
    let mut message = json!({"result": {"tools": [
        {"name": "a", "execution": {"taskSupport": "optional"}},
    ]}});
    let before = message.clone();
    restore_tool_execution(&mut message);
    assert_eq!(message, before);
}

#[test]
fn restore_tool_execution_leaves_other_messages_alone() {
    for original in [
        json!({"jsonrpc": "2.0", "id": 1, "result": {}}),
        json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": "not a list"}}),
        json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": [1, "x", null]}}),
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "tools"}}),
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
        json!({"tools": [{"name": "outside a result"}]}),
    ] {
        let mut message = original.clone();
        restore_tool_execution(&mut message);
        assert_eq!(message, original);
    }
}

// ---- results written as JSON text ---------------------------------------------

/// The line of a tool result, rendered as a tree or written as text.
fn result_line(outcome: &crate::model::Outcome, written: bool) -> String {
    use crate::shim::render;
    let (texts, structured) = if written {
        let w = render::written(outcome).expect("a written answer");
        (w.texts, raw_structured(w.structured))
    } else {
        let r = render::outcome(outcome);
        (r.texts, r.structured)
    };
    let mut result = rmcp::model::CallToolResult::success(
        texts
            .into_iter()
            .map(rmcp::model::ContentBlock::text)
            .collect(),
    );
    result.structured_content = Some(structured);
    result.is_error = None;
    let mut result = ServerResult::CallToolResult(result);
    // What rmcp does for a client of an older protocol: the carrier of
    // written JSON must come through it.
    result.strip_non_object_output_for_legacy_peer();
    let message: TxJsonRpcMessage<RoleServer> =
        JsonRpcMessage::response(result, rmcp::model::NumberOrString::Number(7));
    encode(message).expect("encodes")
}

#[test]
fn a_written_result_is_the_same_line_as_its_tree() {
    use crate::model::{CreatedEntities, Entity, Graph, Outcome, Relation};
    let odd = "quote \" backslash \\ newline \n tab \t nul \u{0} del \u{7f} é 🦀 \u{2028}";
    let graph = Graph {
        entities: vec![
            Entity::new("A", "t", [odd, "\u{0}memgraphd:written\u{0}"]),
            Entity::new(odd, odd, Vec::<String>::new()),
        ],
        relations: vec![Relation::new("A", odd, "r")],
    };
    let outcomes = [
        Outcome::Graph(graph.clone()),
        Outcome::Graph(Graph::default()),
        Outcome::EntitiesCreated(CreatedEntities {
            created: graph.entities.clone(),
            skipped: vec![odd.into()],
        }),
        Outcome::RelationsCreated(graph.relations.clone()),
    ];
    for outcome in &outcomes {
        let tree = result_line(outcome, false);
        assert_eq!(result_line(outcome, true), tree);
        let parsed: Value = serde_json::from_str(&tree).expect("a JSON line");
        assert!(parsed["result"]["structuredContent"].is_object(), "{tree}");
    }
}
