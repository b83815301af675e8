//! History, undo and provenance end to end: real shims with their own
//! session ids and projects write through one real daemon, and
//! `memory_history`, `undo` and `supersede_observation` answer as
//! EXTENSIONS.md says.

use serde_json::{json, Value};

use crate::support::{names, OutputSchemas, TestEnv};

fn changes(answer: &Value) -> Vec<Value> {
    answer["changes"].as_array().expect("changes").clone()
}

#[test]
fn history_names_each_session_and_project_and_undo_brings_a_deleted_entity_back() {
    let env = TestEnv::new();
    let mut a = env.shim_with(
        &[],
        &[
            ("CLAUDE_CODE_SESSION_ID", "session-a"),
            ("MEMGRAPHD_PROJECT", "git@github.com:acme/tools.git"),
        ],
    );
    let mut b = env.shim_with(
        &[],
        &[
            ("CLAUDE_CODE_SESSION_ID", "session-b"),
            ("MEMGRAPHD_PROJECT", "/srv/notes"),
        ],
    );
    let schemas = OutputSchemas::of(&mut a);
    a.call_ok(
        "create_entities",
        json!({"entities": [
            {"name": "Alice", "entityType": "person", "observations": ["one", "two", "three"]},
            {"name": "Acme", "entityType": "company", "observations": []}
        ]}),
    );
    b.call_ok(
        "create_relations",
        json!({"relations": [{"from": "Alice", "to": "Acme", "relationType": "works_at"}]}),
    );
    let before = a.call_ok("read_graph", json!({}));

    let history = a.call_ok("memory_history", json!({"name": "Alice"}));
    schemas.check("memory_history", &history);
    let seen = changes(&history);
    assert_eq!(seen.len(), 2, "{history:#}");
    assert_eq!(seen[0]["tool"], "create_relations");
    assert_eq!(seen[0]["session"], "session-b");
    assert_eq!(seen[0]["project"], "/srv/notes");
    assert_eq!(seen[1]["session"], "session-a");
    assert_eq!(seen[1]["project"], "github.com/acme/tools");
    assert_eq!(seen[1]["summary"], "created 2 entities (Alice, Acme)");
    assert!(seen[1]["at"].as_str().expect("at").ends_with('Z'));

    b.call_ok("delete_entities", json!({"entityNames": ["Alice"]}));
    let deleted = changes(&a.call_ok("memory_history", json!({"limit": 1})))[0]["changeId"].clone();
    let undone = a.call_ok("undo", json!({"changeId": deleted}));
    schemas.check("undo", &undone);
    assert_eq!(undone["undid"], deleted);
    let after = a.call_ok("read_graph", json!({}));
    assert_eq!(after, before);

    // Undoing the create now conflicts with the later changes to its rows;
    // the first of them (the delete) is named. Forced, it removes what is
    // still its own: Acme, and the relation hanging on it. Alice is now the
    // undo's, which brought her back.
    let created = seen[1]["changeId"].clone();
    let refused = a.call("undo", json!({"changeId": created}));
    assert_eq!(refused["isError"], json!(true), "{refused:#}");
    let text = refused["content"][0]["text"].as_str().expect("text");
    assert!(
        text.contains(&format!("change {deleted} touched")),
        "{text}"
    );
    a.call_ok("undo", json!({"changeId": created, "force": true}));
    let left = a.call_ok("read_graph", json!({}));
    assert_eq!(names(&left), ["Alice"]);
    assert_eq!(left["relations"], json!([]));
}

#[test]
fn supersede_observation_keeps_the_place_and_says_what_is_missing() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let schemas = OutputSchemas::of(&mut shim);
    shim.call_ok(
        "create_entities",
        json!({"entities": [{"name": "Alice", "entityType": "person", "observations": ["a", "b", "c"]}]}),
    );
    let done = shim.call_ok(
        "supersede_observation",
        json!({"entityName": "Alice", "old": "b", "new": "B!"}),
    );
    schemas.check("supersede_observation", &done);
    assert_eq!(done["new"], "B!");
    let graph = shim.call_ok("open_nodes", json!({"names": ["Alice"]}));
    assert_eq!(
        graph["entities"][0]["observations"],
        json!(["a", "B!", "c"])
    );
    let nobody = shim.call(
        "supersede_observation",
        json!({"entityName": "Nobody", "old": "x", "new": "y"}),
    );
    assert_eq!(
        nobody["content"][0]["text"],
        "Entity with name Nobody not found"
    );
    let missing = shim.call(
        "supersede_observation",
        json!({"entityName": "Alice", "old": "zzz", "new": "y"}),
    );
    assert_eq!(missing["isError"], json!(true));
    let text = missing["content"][0]["text"].as_str().expect("text");
    assert!(text.starts_with("Observation not found: "), "{text}");
}

fn run(env: &TestEnv, args: &[&str]) -> String {
    let out = env.memgraphd(args).output().expect("runs memgraphd");
    assert!(
        out.status.success(),
        "memgraphd {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn the_admin_commands_show_undo_and_purge_history_and_status_lists_projects() {
    let env = TestEnv::new();
    let mut shim = env.shim_with(&[], &[("MEMGRAPHD_PROJECT", "/srv/notes")]);
    shim.call_ok(
        "create_entities",
        json!({"entities": [{"name": "Alice", "entityType": "person", "observations": ["one"]}]}),
    );
    shim.call_ok("delete_entities", json!({"entityNames": ["Alice"]}));

    let table = run(&env, &["history", "--entity", "Alice"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("CHANGE"), "{table}");
    assert!(
        lines[1].contains("delete_entities") && lines[1].contains("/srv/notes"),
        "{table}"
    );
    assert!(lines[2].ends_with("created 1 entity (Alice)"), "{table}");

    let json: Value = serde_json::from_str(&run(&env, &["history", "--json", "--since", "1h"]))
        .expect("history --json is JSON");
    let deleted = json[0]["changeId"].as_i64().expect("changeId");
    let undone = run(&env, &["undo", &deleted.to_string()]);
    assert!(
        undone.contains(&format!("undid change {deleted}")),
        "{undone}"
    );
    let graph = shim.call_ok("open_nodes", json!({"names": ["Alice"]}));
    assert_eq!(graph["entities"][0]["observations"], json!(["one"]));

    let dry = run(&env, &["purge", "--older-than", "0s", "--dry-run"]);
    assert!(dry.starts_with("would remove "), "{dry}");
    let status = run(&env, &["status"]);
    assert!(
        status.contains("projects:\n  /srv/notes (2 changes)"),
        "{status}"
    );
}
