//! Hostile input: whatever an agent, a broken client or another local
//! program sends, the answer is an error for that message or connection
//! only, and every session keeps being served.

use std::io::Write;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{names, TestEnv};

/// Sends a raw line and returns the answer, which must be a JSON-RPC error
/// or an `isError` result.
fn expect_refusal(shim: &mut crate::support::Shim, line: &str) -> Value {
    shim.send_line(line);
    let answer = shim
        .next_message(Duration::from_secs(10))
        .expect("the shim answered");
    let refused = answer.get("error").is_some() || answer["result"]["isError"] == json!(true);
    assert!(refused, "not refused: {line:.200} -> {answer}");
    answer
}

#[test]
fn malformed_json_rpc_lines_get_errors_and_the_shim_serves_on() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases = [
        "{not json",
        "[1, 2, 3]",
        "{\"foo\": 1}",
        "\"just a string\"",
        &deep,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search_nodes","arguments":{"query":1e999999}}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search_nodes","arguments":{"query":123456789012345678901234567890}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"create_entities","arguments":{"entities":"x"}}}"#,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"create_entities","arguments":[1]}}"#,
        r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":7}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"open_nodes","arguments":{"names":[null]}}}"#,
        r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"create_entities","arguments":{"entities":[{"name":"a\u0000b","entityType":"t","observations":[]}]}}}"#,
        r#"{"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"memory://other"}}"#,
    ];
    for line in cases {
        expect_refusal(&mut shim, line);
    }
    // Invalid UTF-8 on the wire.
    shim.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\",\"x\":\"\xff\xfe\"}\n");
    let answer = shim.next_message(Duration::from_secs(10)).expect("answer");
    assert_eq!(answer["error"]["code"], json!(-32700), "{answer}");
    // Still serving, and nothing was written.
    let graph = shim.call_ok("read_graph", json!({}));
    assert_eq!(graph, json!({"entities": [], "relations": []}));
}

#[test]
fn a_message_over_8_mib_is_refused_without_ending_the_session() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let huge = "x".repeat(8 * 1024 * 1024 + 10);
    let line = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"search_nodes","arguments":{{"query":"{huge}"}}}}}}"#
    );
    let answer = expect_refusal(&mut shim, &line);
    assert_eq!(answer["id"], json!(1), "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("8388608"),
        "{answer}"
    );
    shim.call_ok(
        "create_entities",
        json!({"entities": [{"name": "after", "entityType": "t", "observations": []}]}),
    );
}

#[test]
fn refusals_carry_the_id_of_the_request_they_refuse() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let huge = "x".repeat(8 * 1024 * 1024 + 10);
    let cases = [
        // Not JSON: cut short, and broken before an id written last (as the
        // TypeScript SDK orders its members).
        (
            r#"{"jsonrpc":"2.0","id":"cut-1","method":"tools/call","params":{"name":"read_graph""#.to_owned(),
            json!("cut-1"),
            -32700,
        ),
        (
            r#"{"method":"tools/call","params":{"name":"search_nodes","arguments":{"query":nope}},"jsonrpc":"2.0","id":52}"#.to_owned(),
            json!(52),
            -32700,
        ),
        // Over the message limit, with the id first and with it last.
        (
            format!(r#"{{"jsonrpc":"2.0","id":"big-1","method":"tools/call","params":{{"name":"search_nodes","arguments":{{"query":"{huge}"}}}}}}"#),
            json!("big-1"),
            -32600,
        ),
        (
            format!(r#"{{"method":"tools/call","params":{{"name":"search_nodes","arguments":{{"query":"{huge}"}}}},"jsonrpc":"2.0","id":54}}"#),
            json!(54),
            -32600,
        ),
        // No id to be found: null, as JSON-RPC says.
        ("{not json".to_owned(), Value::Null, -32700),
    ];
    for (line, id, code) in cases {
        let answer = expect_refusal(&mut shim, &line);
        assert_eq!(answer["id"], id, "{line:.120} -> {answer}");
        assert_eq!(
            answer["error"]["code"],
            json!(code),
            "{line:.120} -> {answer}"
        );
    }
    assert_eq!(shim.request("ping", Value::Null), json!({}));
}

/// Sends a raw request line and returns its result, which must not be an error.
fn raw_call(shim: &mut crate::support::Shim, id: &str, tool: &str, arguments: &str) -> Value {
    shim.send_line(&format!(
        r#"{{"jsonrpc":"2.0","id":"{id}","method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}}}}}"#
    ));
    let answer = shim.answer_to(&json!(id));
    let result = &answer["result"];
    assert!(result.is_object(), "{tool} {arguments}: {answer}");
    assert_ne!(
        result["isError"],
        json!(true),
        "{tool} {arguments}: {answer}"
    );
    result["structuredContent"].clone()
}

#[test]
fn lone_surrogates_are_stored_as_replacement_characters_in_every_field() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    // What JSON.stringify writes for strings cut inside an emoji.
    let created = raw_call(
        &mut shim,
        "c1",
        "create_entities",
        concat!(
            r#"{"entities":["#,
            r#"{"name":"bad\ud83d","entityType":"\udc00x","observations":["half \ud83d","\ude00 other half"]},"#,
            r#"{"name":"whole \ud83d\ude00","entityType":"t","observations":[]}]}"#
        ),
    );
    assert_eq!(
        created["entities"],
        json!([
            {"name": "bad\u{FFFD}", "entityType": "\u{FFFD}x", "observations": ["half \u{FFFD}", "\u{FFFD} other half"]},
            {"name": "whole 😀", "entityType": "t", "observations": []}
        ])
    );
    raw_call(
        &mut shim,
        "c2",
        "create_relations",
        r#"{"relations":[{"from":"bad\ud83d","to":"whole \ud83d\ude00","relationType":"rel \udbff"}]}"#,
    );
    raw_call(
        &mut shim,
        "c3",
        "add_observations",
        r#"{"observations":[{"entityName":"bad\ud83d","contents":["more \udfff"]}]}"#,
    );
    let expected = json!({
        "entities": [{
            "name": "bad\u{FFFD}",
            "entityType": "\u{FFFD}x",
            "observations": ["half \u{FFFD}", "\u{FFFD} other half", "more \u{FFFD}"],
        }],
        "relations": [{"from": "bad\u{FFFD}", "to": "whole 😀", "relationType": "rel \u{FFFD}"}],
    });
    // Found by a query with a lone surrogate, by exact name, and by the intact part.
    let by_query = raw_call(&mut shim, "s1", "search_nodes", r#"{"query":"\udc00x"}"#);
    assert_eq!(by_query, expected);
    let by_name = raw_call(&mut shim, "o1", "open_nodes", r#"{"names":["bad\ud83d"]}"#);
    assert_eq!(by_name, expected);
    assert_eq!(
        shim.call_ok("search_nodes", json!({"query": "bad"})),
        expected
    );
    // Deleting by the same cut string finds it too.
    raw_call(
        &mut shim,
        "d1",
        "delete_observations",
        r#"{"deletions":[{"entityName":"bad\ud83d","observations":["more \udfff"]}]}"#,
    );
    let graph = shim.call_ok("open_nodes", json!({"names": ["bad\u{FFFD}"]}));
    assert_eq!(
        graph["entities"][0]["observations"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn a_name_cut_inside_an_emoji_is_stored_and_found() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    // "Zoë 😀 notes" cut after five UTF-16 units, as a client truncating
    // with String.prototype.slice does, then JSON.stringify'd.
    raw_call(
        &mut shim,
        "c1",
        "create_entities",
        r#"{"entities":[{"name":"Zo\u00eb \ud83d","entityType":"person","observations":["likes tea"]}]}"#,
    );
    let stored = json!({"entities": [{"name": "Zoë \u{FFFD}", "entityType": "person", "observations": ["likes tea"]}], "relations": []});
    assert_eq!(
        shim.call_ok("search_nodes", json!({"query": "zoë"})),
        stored
    );
    assert_eq!(
        shim.call_ok("search_nodes", json!({"query": "tea"})),
        stored
    );
    assert_eq!(
        raw_call(
            &mut shim,
            "o1",
            "open_nodes",
            r#"{"names":["Zo\u00eb \ud83d"]}"#
        ),
        stored
    );
    assert_eq!(shim.call_ok("read_graph", json!({})), stored);
}

#[test]
fn arguments_over_the_limits_are_refused_with_the_field_path() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let cases = [
        ("search_nodes", json!({"query": "q".repeat(2049)}), "query"),
        ("open_nodes", json!({"names": vec!["n"; 10_001]}), "names"),
        (
            "create_entities",
            json!({"entities": [{"name": "n".repeat(1025), "entityType": "t", "observations": []}]}),
            "entities[0].name",
        ),
        (
            "create_entities",
            json!({"entities": [{"name": "", "entityType": "t", "observations": []}]}),
            "entities[0].name",
        ),
        (
            "add_observations",
            json!({"observations": [{"entityName": "a", "contents": ["o".repeat(65_537)]}]}),
            "observations[0].contents[0]",
        ),
    ];
    for (tool, arguments, path) in cases {
        let result = shim.call(tool, arguments);
        assert_eq!(result["isError"], json!(true), "{tool}: {result}");
        let text = result["content"][0]["text"].as_str().expect("text");
        assert!(text.contains(tool) && text.contains(path), "{text}");
    }
    let graph = shim.call_ok("read_graph", json!({}));
    assert_eq!(names(&graph), Vec::<String>::new());
}

#[test]
fn garbage_on_the_daemon_socket_drops_only_that_connection() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    shim.call_ok(
        "create_entities",
        json!({"entities": [{"name": "a", "entityType": "t", "observations": []}]}),
    );
    let payloads: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\n\r\n",
        &[0xff, 0xff, 0xff, 0x7f, 1, 2, 3],
        &[5, 0, 0, 0, 9, 9, 9, 9, 9],
        &[],
    ];
    for payload in payloads {
        let mut raw = std::os::unix::net::UnixStream::connect(env.socket_path()).expect("connect");
        let _ = raw.write_all(payload);
        drop(raw);
    }
    let graph = shim.call_ok("open_nodes", json!({"names": ["a"]}));
    assert_eq!(names(&graph), vec!["a"]);
}

mod properties {
    //! Random input, many times over, against live processes.

    use std::io::Write;

    use proptest::prelude::*;
    use serde_json::{json, Value};

    use crate::support::TestEnv;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            ".{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A tools/call with random arguments, a random method, or random text.
    fn hostile_line() -> impl Strategy<Value = String> {
        let tools = prop_oneof![
            Just("create_entities"),
            Just("create_relations"),
            Just("add_observations"),
            Just("delete_entities"),
            Just("delete_observations"),
            Just("delete_relations"),
            Just("read_graph"),
            Just("search_nodes"),
            Just("open_nodes"),
            Just("nope"),
        ];
        prop_oneof![
            (tools, json_value()).prop_map(|(tool, args)| json!({"jsonrpc": "2.0", "id": 1,
                "method": "tools/call", "params": {"name": tool, "arguments": args}})
            .to_string()),
            ("[a-z/]{1,20}", json_value()).prop_map(|(method, params)| json!({"jsonrpc": "2.0",
                "id": 1, "method": method, "params": params})
            .to_string()),
            json_value().prop_map(|v| v.to_string()),
            "[^\n]{0,200}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1, ..ProptestConfig::default() })]

        /// One session receives a few hundred hostile lines; every line that
        /// is a request gets an answer, and the session keeps serving.
        #[test]
        fn the_shim_survives_random_json_rpc(lines in prop::collection::vec(hostile_line(), 200)) {
            let env = TestEnv::new();
            let mut shim = env.shim();
            for (n, line) in lines.iter().enumerate() {
                shim.send_line(line);
                // The ping's answer proves the shim still serves; anything
                // before it is the answer to the hostile line, if any.
                let ping = json!(format!("ping-{n}"));
                shim.send(&json!({"jsonrpc": "2.0", "id": ping, "method": "ping"}));
                loop {
                    let message = shim
                        .next_message(std::time::Duration::from_secs(10))
                        .expect("the shim is alive");
                    if message["id"] == ping {
                        prop_assert_eq!(&message["result"], &json!({}));
                        break;
                    }
                    let well_formed = message.get("error").is_some()
                        || message.get("result").is_some()
                        || message.get("method").is_some();
                    prop_assert!(well_formed, "{line:.200} -> {message}");
                }
            }
            // Whatever was created is readable, and the session still works.
            let graph = shim.call("read_graph", json!({}));
            prop_assert!(graph.get("structuredContent").is_some(), "{graph}");
        }

        /// Random bytes to the daemon's socket only ever drop that connection.
        #[test]
        fn the_daemon_survives_random_bytes(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..256), 64)) {
            let env = TestEnv::new();
            let mut shim = env.shim();
            shim.call_ok("read_graph", json!({}));
            for payload in &payloads {
                let mut raw = std::os::unix::net::UnixStream::connect(env.socket_path()).expect("connect");
                let _ = raw.write_all(payload);
            }
            let graph = shim.call_ok("read_graph", json!({}));
            prop_assert_eq!(graph, json!({"entities": [], "relations": []}));
        }
    }
}
