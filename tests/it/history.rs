//! History, undo and provenance end to end: real shims with their own
//! session ids and projects write through one real daemon, and
//! `memory_history`, `undo` and `supersede_observation` answer as
//! EXTENSIONS.md says.

use expect_test::{expect, Expect};
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

/// A tool result as an agent receives it, for a snapshot: whether it is an
/// error, each text item, and the structured content. Times and the local
/// user differ from run to run; they become `<time>` (once checked to never
/// go back, newest first) and `<user>`.
fn shown(result: &Value, user: &str) -> String {
    let mut out = format!("isError: {}\n", result["isError"] == json!(true));
    for item in result["content"].as_array().expect("content") {
        out.push_str("text:\n");
        out.push_str(item["text"].as_str().expect("a text item"));
        out.push('\n');
    }
    if let Some(structured) = result.get("structuredContent") {
        let pretty = serde_json::to_string_pretty(structured).expect("serializes");
        // Most answers' text is their structured content as JSON: say so
        // rather than show the same lines twice.
        if result["content"][0]["text"].as_str() == Some(pretty.as_str()) {
            out.push_str("structuredContent: the same JSON as the first text\n");
        } else {
            out.push_str("structuredContent:\n");
            out.push_str(&pretty);
            out.push('\n');
        }
    }
    let times: Vec<&str> = result["structuredContent"]["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|change| change["at"].as_str().expect("at"))
        .collect();
    // RFC 3339 UTC times of one format sort as text.
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    for at in times {
        out = out.replace(at, "<time>");
    }
    out.replace(&format!("\"{user}\""), "\"<user>\"")
}

fn check(result: &Value, user: &str, expected: Expect) {
    expected.assert_eq(&shown(result, user));
}

/// The exact answers of the three history tools, one of each kind: a
/// supersede, an undo applied, refused, forced and undone in turn, and the
/// history they leave.
#[test]
fn history_tools_answer_exactly_as_specified() {
    let env = TestEnv::new();
    let mut shim = env.shim_with(
        &[],
        &[
            ("CLAUDE_CODE_SESSION_ID", "session-a"),
            ("MEMGRAPHD_PROJECT", "git@github.com:acme/tools.git"),
        ],
    );
    shim.call_ok(
        "create_entities",
        json!({"entities": [
            {"name": "Alice", "entityType": "person", "observations": ["likes tea", "lives in Lyon"]},
            {"name": "Acme", "entityType": "company", "observations": []}
        ]}),
    );
    let user: String = env
        .open_db()
        .query_row("SELECT actor FROM changes WHERE id = 1", [], |r| r.get(0))
        .expect("the first change has an actor");

    check(
        &shim.call(
            "supersede_observation",
            json!({"entityName": "Alice", "old": "likes tea", "new": "likes coffee"}),
        ),
        &user,
        expect![[r#"
            isError: false
            text:
            {
              "entityName": "Alice",
              "old": "likes tea",
              "new": "likes coffee",
              "changeId": 2
            }
            structuredContent: the same JSON as the first text
        "#]],
    );
    shim.call_ok("delete_entities", json!({"entityNames": ["Alice"]}));
    check(
        &shim.call("undo", json!({"changeId": 3})),
        &user,
        expect![[r#"
            isError: false
            text:
            {
              "changeId": 4,
              "undid": 3,
              "summary": "undid change 3 (delete_entities): restored 1 entity, 2 observations"
            }
            structuredContent: the same JSON as the first text
        "#]],
    );
    // The create is followed by changes to its rows: refused, naming the
    // first of them.
    check(
        &shim.call("undo", json!({"changeId": 1})),
        &user,
        expect![[r#"
            isError: true
            text:
            Cannot undo change 1: change 2 touched the same rows since; undo 2 first, or pass force
        "#]],
    );
    // Undo of the undo deletes Alice again.
    check(
        &shim.call("undo", json!({"changeId": 4})),
        &user,
        expect![[r#"
            isError: false
            text:
            {
              "changeId": 5,
              "undid": 4,
              "summary": "undid change 4 (undo): removed 1 entity, 2 observations"
            }
            structuredContent: the same JSON as the first text
        "#]],
    );
    check(
        &shim.call("undo", json!({"changeId": 1, "force": true})),
        &user,
        expect![[r#"
            isError: false
            text:
            {
              "changeId": 6,
              "undid": 1,
              "summary": "undid change 1 (create_entities): removed 1 entity"
            }
            structuredContent: the same JSON as the first text
        "#]],
    );
    check(
        &shim.call("undo", json!({"changeId": 99})),
        &user,
        expect![[r#"
            isError: true
            text:
            Change 99 not found
        "#]],
    );
    check(
        &shim.call("memory_history", json!({"limit": 4})),
        &user,
        expect![[r#"
            isError: false
            text:
            {
              "changes": [
                {
                  "changeId": 6,
                  "at": "<time>",
                  "tool": "undo",
                  "session": "session-a",
                  "client": "memgraphd-tests 0",
                  "project": "github.com/acme/tools",
                  "actor": "<user>",
                  "summary": "undid change 1 (create_entities): removed 1 entity"
                },
                {
                  "changeId": 5,
                  "at": "<time>",
                  "tool": "undo",
                  "session": "session-a",
                  "client": "memgraphd-tests 0",
                  "project": "github.com/acme/tools",
                  "actor": "<user>",
                  "summary": "undid change 4 (undo): removed 1 entity, 2 observations"
                },
                {
                  "changeId": 4,
                  "at": "<time>",
                  "tool": "undo",
                  "session": "session-a",
                  "client": "memgraphd-tests 0",
                  "project": "github.com/acme/tools",
                  "actor": "<user>",
                  "summary": "undid change 3 (delete_entities): restored 1 entity, 2 observations"
                },
                {
                  "changeId": 3,
                  "at": "<time>",
                  "tool": "delete_entities",
                  "session": "session-a",
                  "client": "memgraphd-tests 0",
                  "project": "github.com/acme/tools",
                  "actor": "<user>",
                  "summary": "deleted 1 entity (Alice)"
                }
              ],
              "nextCursor": "h3"
            }
            structuredContent: the same JSON as the first text
        "#]],
    );
    check(
        &shim.call("memory_history", json!({"name": "Alice", "cursor": "h3"})),
        &user,
        expect![[r#"
            isError: false
            text:
            {
              "changes": [
                {
                  "changeId": 2,
                  "at": "<time>",
                  "tool": "supersede_observation",
                  "session": "session-a",
                  "client": "memgraphd-tests 0",
                  "project": "github.com/acme/tools",
                  "actor": "<user>",
                  "summary": "superseded an observation of Alice"
                },
                {
                  "changeId": 1,
                  "at": "<time>",
                  "tool": "create_entities",
                  "session": "session-a",
                  "client": "memgraphd-tests 0",
                  "project": "github.com/acme/tools",
                  "actor": "<user>",
                  "summary": "created 2 entities (Alice, Acme)"
                }
              ]
            }
            structuredContent: the same JSON as the first text
        "#]],
    );
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

/// Where one storm writer left its entity, as far as it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Present,
    Absent,
    /// The last write was not acknowledged: either may be true.
    Unsure,
}

/// Deletes its own entity and undoes the delete, again and again, until
/// `run_for` passes; returns its entity's name and what it last knew.
fn undo_storm(env: &TestEnv, name: &str, run_for: std::time::Duration) -> (String, Known) {
    let mut shim = env.shim();
    let started = std::time::Instant::now();
    let mut known = Known::Unsure;
    while started.elapsed() < run_for {
        let open = shim.call("open_nodes", json!({"names": [name]}));
        if open["isError"] == json!(true) {
            continue;
        }
        let present = !names(&open["structuredContent"]).is_empty();
        if known != Known::Unsure {
            let seen = if present {
                Known::Present
            } else {
                Known::Absent
            };
            assert_eq!(
                seen, known,
                "{name}: an acknowledged write was lost or doubled"
            );
        }
        if !present {
            let created = shim.call(
                "create_entities",
                json!({"entities": [{"name": name, "entityType": "t", "observations": ["fact"]}]}),
            );
            known = if created["isError"] == json!(true) {
                Known::Unsure
            } else {
                Known::Present
            };
            continue;
        }
        let deleted = shim.call("delete_entities", json!({"entityNames": [name]}));
        if deleted["isError"] == json!(true) {
            known = Known::Unsure;
            continue;
        }
        known = Known::Absent;
        let history = shim.call("memory_history", json!({"name": name, "limit": 1}));
        if history["isError"] == json!(true) {
            continue;
        }
        let change = history["structuredContent"]["changes"][0]["changeId"].clone();
        let undone = shim.call("undo", json!({"changeId": change}));
        known = if undone["isError"] == json!(true) {
            Known::Unsure
        } else {
            Known::Present
        };
    }
    (name.to_owned(), known)
}

/// `kill -9` of the daemon in the middle of deletes and their undos: every
/// acknowledged undo stays applied exactly once, nothing is doubled.
#[cfg(unix)]
#[test]
fn kill_9_during_an_undo_storm_loses_and_doubles_nothing() {
    use std::time::Duration;
    let env = TestEnv::new();
    let mut probe = env.shim();
    let mut last: Vec<(String, Known)> = Vec::new();
    for cycle in 0..3u64 {
        probe.call_ok("read_graph", json!({}));
        let daemon = env.daemon_pid().expect("a daemon runs");
        let kill_after = Duration::from_millis(80 + 70 * cycle);
        let run_for = kill_after + Duration::from_millis(400);
        last = std::thread::scope(|s| {
            let storms: Vec<_> = (0..3)
                .map(|w| {
                    let env = &env;
                    s.spawn(move || undo_storm(env, &format!("storm-{w}"), run_for))
                })
                .collect();
            std::thread::sleep(kill_after);
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(daemon as i32, libc::SIGKILL) };
            storms
                .into_iter()
                .map(|h| h.join().expect("storm"))
                .collect()
        });
    }
    let graph = probe.call_ok("read_graph", json!({}));
    let stored = names(&graph);
    for (name, known) in &last {
        let count = stored.iter().filter(|n| *n == name).count();
        assert!(count <= 1, "{name} is stored {count} times");
        match known {
            Known::Present => assert_eq!(count, 1, "{name} should be there"),
            Known::Absent => assert_eq!(count, 0, "{name} should be gone"),
            Known::Unsure => {}
        }
    }
    for entity in graph["entities"].as_array().expect("entities") {
        assert_eq!(entity["observations"], json!(["fact"]), "{entity}");
    }
    let integrity: String = env
        .open_db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
    let undos: i64 = env
        .open_db()
        .query_row(
            "SELECT count(*) FROM changes WHERE tool = 'undo'",
            [],
            |r| r.get(0),
        )
        .expect("counts undos");
    assert!(undos > 3, "too few undos ran to prove anything ({undos})");
}

/// Upgrade in place from the release before history: its database (the
/// fixture) and a daemon of the previous protocol (a stand-in that refuses
/// protocol 3 as that daemon does, naming a process that waits for its
/// signal). The new shim replaces the daemon, the database migrates, the old
/// rows keep their synthetic change, and the new write carries provenance.
#[test]
#[cfg(unix)]
fn a_previous_protocol_daemon_and_database_upgrade_in_place() {
    use memgraphd::protocol::PROTOCOL_VERSION;

    let env = TestEnv::new();
    std::fs::create_dir_all(env.db_path().parent().expect("home")).expect("home dir");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/before-history.db"
    );
    std::fs::copy(fixture, env.db_path()).expect("copies the fixture");
    let old = crate::support::OldDaemon::start(&env, PROTOCOL_VERSION - 1, "0.1.0");
    let mut shim = env.shim_with(&[], &[("CLAUDE_CODE_SESSION_ID", "after-upgrade")]);
    shim.call_ok(
        "add_observations",
        json!({"observations": [{"entityName": "Alice", "contents": ["upgraded"]}]}),
    );
    old.wait();
    let history = shim.call_ok("memory_history", json!({"name": "Alice"}));
    let seen = changes(&history);
    assert_eq!(seen.len(), 2, "{history:#}");
    assert_eq!(seen[0]["session"], "after-upgrade");
    assert_eq!(seen[0]["summary"], "added 1 observation to Alice");
    assert_eq!(seen[1]["tool"], "before history");
    let alice = shim.call_ok("open_nodes", json!({"names": ["Alice"]}));
    assert_eq!(
        alice["entities"][0]["observations"],
        json!(["likes tea", "works remotely", "speaks Danish", "upgraded"])
    );
}
