//! Replays the recorded session with the official memory server through the
//! real `memgraphd mcp` and compares every answer with the recording, except
//! the intended differences of TOOLS.md, whose expected answers are written
//! out here instead.

use serde_json::{json, Value};

use crate::support::{OutputSchemas, TestEnv};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/conformance/official-server-memory-2026.8.31.jsonl"
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

/// What memgraphd answers where TOOLS.md says it differs on purpose.
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
    assert_eq!(ours.len(), recorded.len() + 2);
    let own: Vec<&str> = ours[recorded.len()..]
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(own, ["search_memory", "get_neighbors"]);
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
