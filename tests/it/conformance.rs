//! Replays the recorded session with the official memory server through the
//! real `memgraphd mcp` and compares every answer with the recording, except
//! the intended differences of docs/TOOLS.md, whose expected answers are written
//! out here instead.

use serde_json::{json, Value};

use crate::support::{OutputSchemas, Shim, TestEnv};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/official-server-memory-2026.8.31.jsonl"
);

struct Exchange {
    label: String,
    request: Value,
    notifications: Vec<Value>,
    response: Value,
}

fn fixture() -> Vec<Exchange> {
    let text = std::fs::read_to_string(FIXTURE)
        .unwrap_or_else(|e| panic!("reading the conformance fixture {FIXTURE}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("fixture line is JSON");
            Exchange {
                label: v["label"].as_str().expect("label").to_owned(),
                request: v["request"].clone(),
                notifications: v["notifications"].as_array().cloned().unwrap_or_default(),
                response: v["response"].clone(),
            }
        })
        .collect()
}

/// `JSON.stringify(x, null, 2)`.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("serializing")
}

/// A graph-returning tool result with the exact text and structured content.
fn graph_result(entities: &[(&str, &str, &[&str])], relations: &[(&str, &str, &str)]) -> Value {
    let graph = json!({
        "entities": entities.iter().map(|(n, t, o)| json!({"name": n, "entityType": t, "observations": o})).collect::<Vec<_>>(),
        "relations": relations.iter().map(|(f, t, r)| json!({"from": f, "to": t, "relationType": r})).collect::<Vec<_>>(),
    });
    json!({"content": [{"type": "text", "text": pretty(&graph)}], "structuredContent": graph})
}

fn message_result(message: &str) -> Value {
    json!({
        "content": [{"type": "text", "text": message}],
        "structuredContent": {"success": true, "message": message}
    })
}

fn error_result(message: &str) -> Value {
    json!({"content": [{"type": "text", "text": message}], "isError": true})
}

const ALICE_ALL: &[&str] = &["Works at Acme Corp", "likes programming", "has a dog"];
const ALICE_AFTER: &[&str] = &["Works at Acme Corp", "likes programming"];

/// What memgraphd answers where docs/TOOLS.md says it differs on purpose.
/// `None`: the recorded answer stands.
fn intended(label: &str) -> Option<Value> {
    let updated = json!({"method": "notifications/resources/updated", "params": {"uri": "memory://knowledge-graph"}, "jsonrpc": "2.0"});
    let _ = updated;
    let works_at = ("Alice", "Acme Corp", "works_at");
    let before: &[(&str, &str, &[&str])] = &[
        ("Alice", "person", ALICE_ALL),
        ("Bob", "person", &["works at TechCo"]),
        ("Acme Corp", "company", &["tech company"]),
        ("Dup", "thing", &["first"]),
        ("Extra", "thing", &[]),
    ];
    let after: &[(&str, &str, &[&str])] = &[
        ("Alice", "person", ALICE_AFTER),
        ("Bob", "person", &["works at TechCo"]),
        ("Dup", "thing", &["first"]),
        ("Extra", "thing", &[]),
    ];
    Some(match label {
        l if l.starts_with("create_entities: existing name") => {
            let created = json!([
                {"name": "Dup", "entityType": "thing", "observations": ["first"]},
                {"name": "Extra", "entityType": "thing", "observations": []}
            ]);
            json!({
                "content": [
                    {"type": "text", "text": pretty(&created)},
                    {"type": "text", "text": "Skipped 2 entities that already exist or repeat within this call: \"Alice\", \"Dup\". Existing entities are left unchanged; use add_observations to add to them."}
                ],
                "structuredContent": {"entities": created, "skipped": ["Alice", "Dup"]}
            })
        }
        l if l.starts_with("create_relations: incl. endpoints") => {
            error_result("Entity with name Ghost not found")
        }
        // The call above stored nothing, so this one is not a duplicate.
        l if l.starts_with("create_relations: exact duplicate") => {
            let created = json!([{"from": "Alice", "to": "Acme Corp", "relationType": "works_at"}]);
            json!({"content": [{"type": "text", "text": pretty(&created)}], "structuredContent": {"relations": created}})
        }
        l if l.starts_with("add_observations: one duplicate") => {
            let results = json!([{"entityName": "Alice", "addedObservations": ["has a dog"]}]);
            json!({"content": [{"type": "text", "text": pretty(&results)}], "structuredContent": {"results": results}})
        }
        l if l.starts_with("search_nodes: case-insensitive") => graph_result(
            &[
                ("Alice", "person", ALICE_ALL),
                ("Acme Corp", "company", &["tech company"]),
            ],
            &[works_at],
        ),
        l if l.starts_with("search_nodes: empty query") => graph_result(before, &[works_at]),
        l if l.starts_with("open_nodes: existing + missing") => {
            graph_result(&[("Bob", "person", &["works at TechCo"])], &[])
        }
        l if l.starts_with("read_graph (before") => graph_result(before, &[works_at]),
        l if l.starts_with("delete_observations") => message_result(
            "Deleted 1 of 3 observations. Not found: \"not there\" on Alice; entity Nobody",
        ),
        l if l.starts_with("delete_relations") => message_result(
            "Deleted 0 of 2 relations. Not found: Bob competitor_of Acme Corp; X z Y",
        ),
        l if l.starts_with("delete_entities") => {
            message_result("Deleted 1 of 2 entities. Not found: Nobody")
        }
        l if l.starts_with("read_graph (after")
            || l.starts_with("read_graph with no arguments") =>
        {
            graph_result(after, &[])
        }
        "resources/read" => {
            let text = graph_result(after, &[])["content"][0]["text"].clone();
            json!({"contents": [{"uri": "memory://knowledge-graph", "mimeType": "application/json", "text": text}]})
        }
        _ => return None,
    })
}

/// Calls that fail on purpose here but not in the recording send no notice.
fn intended_notifications(label: &str, recorded: &[Value]) -> Vec<Value> {
    if label.starts_with("create_relations: incl. endpoints") {
        Vec::new()
    } else {
        recorded.to_vec()
    }
}

/// Compares with key order, since agents read the text and clients may
/// compare bytes.
fn assert_same(label: &str, ours: &Value, expected: &Value) {
    assert_eq!(
        serde_json::to_string(ours).expect("json"),
        serde_json::to_string(expected).expect("json"),
        "\n{label}: answer differs\nours:     {ours:#}\nexpected: {expected:#}"
    );
}

#[test]
fn replay_of_the_official_session_matches() {
    let env = TestEnv::new();
    let exchanges = fixture();
    assert!(exchanges.len() > 30, "fixture looks truncated");
    let mut shim = env.raw_shim();
    let mut schemas: Option<OutputSchemas> = None;
    for ex in &exchanges {
        let label = ex.label.as_str();
        if label.starts_with("initialize requesting") {
            // A client that asks for an unknown version, in a session of its own.
            let mut fresh = env.raw_shim();
            fresh.send(&ex.request);
            let answer = fresh.answer_to(&ex.request["id"]);
            assert_eq!(
                answer["result"]["protocolVersion"], ex.response["result"]["protocolVersion"],
                "{label}"
            );
            continue;
        }
        shim.send(&ex.request);
        let Some(id) = ex.request.get("id") else {
            continue; // A notification: nothing comes back.
        };
        let answer = shim.answer_to(id);
        let notifications = std::mem::take(&mut shim.notifications);
        let expected_notifications = intended_notifications(label, &ex.notifications);
        assert_eq!(
            notifications.len(),
            expected_notifications.len(),
            "{label}: notifications {notifications:#?}"
        );
        for (ours, recorded) in notifications.iter().zip(&expected_notifications) {
            assert_eq!(ours["method"], recorded["method"], "{label}");
            assert_eq!(ours["params"], recorded["params"], "{label}");
        }
        if label == "initialize" {
            let result = &answer["result"];
            let recorded = &ex.response["result"];
            assert_eq!(result["protocolVersion"], recorded["protocolVersion"]);
            assert_eq!(result["capabilities"], recorded["capabilities"]);
            assert_eq!(
                result["serverInfo"],
                json!({"name": "memgraphd", "version": env!("CARGO_PKG_VERSION")})
            );
            let instructions = result["instructions"].as_str().expect("instructions");
            assert!(instructions.contains("search_nodes"), "{instructions}");
            continue;
        }
        if label == "tools/list" {
            check_tool_list(&answer["result"], &ex.response["result"]);
            schemas = Some(OutputSchemas::from_list(&answer["result"]));
            continue;
        }
        // Every structured answer fits the schema we publish for its tool.
        if ex.request["method"] == "tools/call" && answer["result"]["isError"] != json!(true) {
            let tool = ex.request["params"]["name"].as_str().expect("tool name");
            if let Some(schemas) = &schemas {
                schemas.check(tool, &answer["result"]["structuredContent"]);
            }
        }
        if label.starts_with("input validation error") {
            let result = &answer["result"];
            assert_eq!(result["isError"], json!(true), "{label}: {answer:#}");
            let text = result["content"][0]["text"].as_str().expect("text");
            let tool = ex.request["params"]["name"].as_str().expect("tool");
            let field = if tool == "search_nodes" {
                "query"
            } else {
                "entities[0].entityType"
            };
            assert!(
                text.contains(tool) && text.contains(field),
                "{label}: {text}"
            );
            continue;
        }
        match (&ex.response.get("error"), intended(label)) {
            (Some(error), _) => {
                assert_eq!(
                    answer["error"]["code"], error["code"],
                    "{label}: {answer:#}"
                );
                assert_eq!(answer["error"]["message"], error["message"], "{label}");
            }
            (None, Some(expected)) => assert_same(label, &answer["result"], &expected),
            (None, None) => assert_same(label, &answer["result"], &ex.response["result"]),
        }
    }
}

/// The official definitions, plus only the declared optional additions
/// (`skipped`; the paging arguments and fields of the three reads), then
/// memgraphd's own tools.
fn check_tool_list(ours: &Value, recorded: &Value) {
    let ours = ours["tools"].as_array().expect("tools");
    let recorded = recorded["tools"].as_array().expect("tools");
    assert_eq!(ours.len(), recorded.len() + 5);
    let own: Vec<&str> = ours[recorded.len()..]
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        own,
        [
            "search_memory",
            "get_neighbors",
            "memory_history",
            "undo",
            "supersede_observation"
        ]
    );
    for (mine, theirs) in ours.iter().zip(recorded) {
        let mut mine = mine.clone();
        if ["read_graph", "search_nodes", "open_nodes"]
            .contains(&mine["name"].as_str().unwrap_or(""))
        {
            let input = mine["inputSchema"]["properties"]
                .as_object_mut()
                .expect("properties");
            for key in ["limit", "cursor", "entityTypes", "includeObservations"] {
                input
                    .remove(key)
                    .unwrap_or_else(|| panic!("{key} is declared"));
            }
            let output = &mut mine["outputSchema"];
            let props = output["properties"].as_object_mut().expect("properties");
            for key in ["nextCursor", "truncated", "notice"] {
                props
                    .remove(key)
                    .unwrap_or_else(|| panic!("{key} is declared"));
            }
            props["entities"]["items"]["properties"]
                .as_object_mut()
                .expect("entity properties")
                .remove("observationCount")
                .expect("observationCount is declared");
            let required = output["required"].as_array().expect("required");
            assert_eq!(required, &vec![json!("entities"), json!("relations")]);
        }
        if mine["name"] == "create_entities" {
            let props = mine["outputSchema"]["properties"]
                .as_object_mut()
                .expect("properties");
            let skipped = props.remove("skipped").expect("skipped is declared");
            assert_eq!(skipped["type"], "array");
            assert!(!mine["outputSchema"]["required"]
                .as_array()
                .expect("required")
                .contains(&json!("skipped")));
        }
        assert_eq!(&mine, theirs, "tool {} differs", theirs["name"]);
    }
}

// ---- protocol versions, unknown methods and resources ---------------------------

/// What the probe sequence after `initialize` must answer identically in
/// every session settled at 2025-11-25: `ping`, a subscription, a write
/// (with its notice), a read, the templates list and an unknown resource.
fn probe(shim: &mut Shim) -> Vec<String> {
    let steps = [
        ("ping", Value::Null),
        (
            "resources/subscribe",
            json!({"uri": "memory://knowledge-graph"}),
        ),
        (
            "tools/call",
            json!({"name": "create_entities", "arguments": {"entities": [
                {"name": "Ada", "entityType": "person", "observations": ["wrote the first program"]}
            ]}}),
        ),
        (
            "tools/call",
            json!({"name": "search_nodes", "arguments": {"query": "ada"}}),
        ),
        ("resources/templates/list", Value::Null),
        ("resources/read", json!({"uri": "memory://knowledge-graph"})),
        ("resources/read", json!({"uri": "memory://nope"})),
        (
            "resources/unsubscribe",
            json!({"uri": "memory://knowledge-graph"}),
        ),
    ];
    let mut seen = Vec::new();
    for (n, (method, params)) in steps.into_iter().enumerate() {
        let id = json!(format!("probe-{n}"));
        let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            request["params"] = params;
        }
        shim.send(&request);
        let answer = shim.answer_to(&id);
        for notice in std::mem::take(&mut shim.notifications) {
            seen.push(notice.to_string());
        }
        seen.push(answer.to_string());
    }
    seen
}

fn initialize(shim: &mut Shim, id: &str, version: &str) -> Value {
    let id = json!(id);
    shim.send(
        &json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "memgraphd-tests", "version": "0"}
        }}),
    );
    shim.answer_to(&id)
}

/// A fresh session initialized at `first` (and then, if given, again at
/// `second`): its initialize answers and its answers to [`probe`].
fn session(first: &str, second: Option<&str>) -> (Vec<Value>, Vec<String>) {
    let env = TestEnv::new();
    let mut shim = env.raw_shim();
    let mut answers = vec![initialize(&mut shim, "init-1", first)];
    shim.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    if let Some(second) = second {
        answers.push(initialize(&mut shim, "init-2", second));
    }
    (answers, probe(&mut shim))
}

/// What a session at 2025-11-25 answers; every other case must match it.
fn reference() -> (Value, Vec<String>) {
    let (mut answers, probed) = session("2025-11-25", None);
    let first = answers.remove(0);
    assert_eq!(first["result"]["protocolVersion"], "2025-11-25", "{first}");
    // The facts the comparison rests on, so a reference gone wrong shows.
    let ping: Value = serde_json::from_str(&probed[0]).expect("json");
    assert_eq!(
        ping,
        json!({"jsonrpc": "2.0", "id": "probe-0", "result": {}})
    );
    assert!(
        probed.iter().all(|line| !line.contains("resultType")),
        "{probed:#?}"
    );
    let templates = probed
        .iter()
        .find(|line| line.contains(r#""id":"probe-4""#))
        .expect("the templates answer");
    assert_eq!(
        templates,
        r#"{"jsonrpc":"2.0","id":"probe-4","result":{"resourceTemplates":[]}}"#
    );
    (first, probed)
}

#[test]
fn a_second_initialize_with_an_unknown_version_changes_nothing() {
    let (first, expected) = reference();
    for version in ["2026-07-28", "2099-01-01", "2020-01-01"] {
        let (answers, probed) = session("2025-11-25", Some(version));
        assert_eq!(answers[0], first, "{version}");
        let mut again = answers[1].clone();
        assert_eq!(again["id"], "init-2");
        again["id"] = json!("init-1");
        assert_eq!(again, first, "{version}: answered like the first");
        assert_eq!(probed, expected, "{version}: the session changed");
    }
}

#[test]
fn a_second_initialize_keeps_the_version_of_the_first() {
    let (answers, _) = session("2025-06-18", Some("2025-11-25"));
    assert_eq!(answers[0]["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(answers[1]["result"]["protocolVersion"], "2025-06-18");
}

#[test]
fn a_first_initialize_with_an_unknown_version_is_served_as_2025_11_25() {
    let (first, expected) = reference();
    for version in ["2026-07-28", "2099-01-01", "2020-01-01"] {
        let (answers, probed) = session(version, None);
        assert_eq!(answers[0], first, "{version}");
        assert_eq!(probed, expected, "{version}");
        // And a second one, known or not, still changes nothing.
        let (answers, probed) = session(version, Some("2099-01-01"));
        assert_eq!(answers[1]["result"], first["result"], "{version}");
        assert_eq!(probed, expected, "{version}, initialized twice");
    }
}

#[test]
fn every_known_version_is_echoed() {
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let env = TestEnv::new();
        let mut shim = env.raw_shim();
        let answer = initialize(&mut shim, "init", version);
        assert_eq!(answer["result"]["protocolVersion"], version, "{answer}");
    }
}

#[test]
fn unknown_methods_are_not_found() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let methods = [
        ("prompts/get", json!({"name": "p"})),
        ("prompts/list", Value::Null),
        ("logging/setLevel", json!({"level": "info"})),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": "b"}}),
        ),
        ("foo/bar", Value::Null),
        ("tasks/list", Value::Null),
        ("server/discover", Value::Null),
        ("subscriptions/listen", json!({})),
    ];
    for (method, params) in methods {
        let answer = shim.request_raw(method, params);
        let id = answer["id"].clone();
        assert_eq!(
            answer,
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "Method not found"}}),
            "{method}"
        );
    }
    // The session is unharmed.
    assert_eq!(shim.request("ping", Value::Null), json!({}));
}

#[test]
fn reading_an_unknown_resource_is_not_found() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    for uri in [
        "memory://nope",
        "memory://knowledge-graph/",
        "file:///etc/passwd",
        "",
    ] {
        let answer = shim.request_raw("resources/read", json!({"uri": uri}));
        let id = answer["id"].clone();
        assert_eq!(
            answer,
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32002, "message": format!("Resource {uri} not found")}}),
        );
    }
}

#[test]
fn a_nul_in_a_search_query_is_refused() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    shim.call_ok(
        "create_entities",
        json!({"entities": [{"name": "a", "entityType": "t", "observations": ["a b"]}]}),
    );
    for query in ["a\u{0}b", "\u{0}", "a\u{0}"] {
        let result = shim.call("search_nodes", json!({ "query": query }));
        assert_eq!(
            result,
            error_result("Invalid arguments for tool search_nodes: query: must not contain the NUL character"),
            "{query:?}"
        );
    }
}

#[test]
fn messages_before_initialize_do_not_end_the_session() {
    let env = TestEnv::new();
    let mut shim = env.raw_shim();
    // rmcp alone would end the session at the first of these.
    shim.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    shim.send(&json!({"jsonrpc": "2.0", "id": "early-result", "result": {}}));
    let early = shim.request_raw("tools/list", Value::Null);
    assert_eq!(early["error"]["code"], json!(-32600), "{early}");
    assert_eq!(shim.request("ping", Value::Null), json!({}));
    let answer = initialize(&mut shim, "init", "2025-11-25");
    assert_eq!(
        answer["result"]["protocolVersion"], "2025-11-25",
        "{answer}"
    );
    shim.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let graph = shim.call_ok("read_graph", json!({}));
    assert_eq!(graph, json!({"entities": [], "relations": []}));
}

/// The text of a graph answer and its structured copy are written apart
/// (the text pretty, the copy as JSON put straight into the line); through
/// the real shim they must still be the same graph, for a whole answer and
/// for one cut by the size guard, whatever the characters.
#[test]
fn large_graph_answers_say_the_same_in_text_and_structured_content() {
    let env = TestEnv::new();
    let odd = "quote \" backslash \\ newline \n tab \t é 🦀 \u{2028} \u{1f} end";
    let mut shim = env.shim_with(&[], &[("MEMGRAPHD_MAX_RESULT_CHARS", "0")]);
    for batch in 0..3 {
        let entities: Vec<Value> = (0..100)
            .map(|i| {
                json!({
                    "name": format!("{odd} {batch}-{i}"),
                    "entityType": odd,
                    "observations": [format!("{odd} one {i}"), format!("{odd} two {i}")],
                })
            })
            .collect();
        shim.call_ok("create_entities", json!({ "entities": entities }));
    }
    let first = format!("{odd} 0-0");
    let second = format!("{odd} 0-1");
    shim.call_ok(
        "create_relations",
        json!({"relations": [{"from": first, "to": second, "relationType": odd}]}),
    );

    for (tool, args) in [
        ("read_graph", json!({})),
        ("search_nodes", json!({"query": "backslash"})),
    ] {
        let result = shim.call(tool, args);
        let text = result["content"][0]["text"].as_str().expect("a text item");
        let structured = &result["structuredContent"];
        assert_eq!(structured["entities"].as_array().map(Vec::len), Some(300));
        assert_eq!(
            text,
            pretty(structured),
            "{tool}: the text is the copy, pretty"
        );
    }

    // With the guard on, the first part: the text is the page, and the
    // structured copy is the page plus the guard's fields.
    let mut guarded = env.shim();
    let result = guarded.call("read_graph", json!({}));
    let mut structured = result["structuredContent"].clone();
    assert_eq!(structured["truncated"], json!(true), "{structured}");
    let notice = structured["notice"].clone();
    assert_eq!(result["content"][1]["text"], notice);
    let page = structured.as_object_mut().expect("an object");
    for key in ["nextCursor", "truncated", "notice"] {
        page.remove(key);
    }
    let text = result["content"][0]["text"].as_str().expect("a text item");
    assert_eq!(text, pretty(&structured));
}
