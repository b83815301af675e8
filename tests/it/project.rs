//! The session's project and provenance through a real `memgraphd mcp`:
//! `instructions` names the project, roots are asked for when the client
//! offers them (and again when they change), and each write's provenance
//! carries the session, the client and the project of the first root.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{git, git_repo, wait_until, Shim, TestEnv, ANSWER_TIMEOUT};

/// A shim whose stderr (its debug log) goes to `log`, started in `cwd`.
fn logging_shim(env: &TestEnv, cwd: &Path, log: &Path, vars: &[(&str, &str)]) -> Shim {
    let mut cmd = env.memgraphd(&["mcp"]);
    cmd.current_dir(cwd)
        .env("RUST_LOG", "debug")
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("creating the log file"));
    Shim::spawn(cmd)
}

fn initialize(shim: &mut Shim, capabilities: Value) -> String {
    let result = shim.request(
        "initialize",
        json!({
            "protocolVersion": "2025-11-25",
            "capabilities": capabilities,
            "clientInfo": {"name": "roots-client", "version": "9.1"}
        }),
    );
    shim.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    result["instructions"]
        .as_str()
        .expect("instructions")
        .to_owned()
}

/// Waits for the shim's `roots/list` request and answers it with `uri`.
fn answer_roots(shim: &mut Shim, uri: &str) {
    let request = match shim.next_message(ANSWER_TIMEOUT) {
        Some(message) => message,
        None => panic!("the shim closed stdout before asking for roots"),
    };
    assert_eq!(request["method"], "roots/list", "{request:#}");
    shim.send(&json!({
        "jsonrpc": "2.0",
        "id": request["id"],
        "result": {"roots": [{"uri": uri, "name": "root"}, {"uri": "file:///ignored"}]}
    }));
}

fn log_has(log: &Path, text: &str) -> bool {
    std::fs::read_to_string(log).is_ok_and(|l| l.contains(text))
}

fn file_uri(path: &Path) -> String {
    let path = std::fs::canonicalize(path).expect("canonicalizing");
    format!("file://{}", path.display())
}

#[test]
fn instructions_name_the_project_from_the_environment() {
    let env = TestEnv::new();
    let mut cmd = env.memgraphd(&["mcp"]);
    cmd.env("MEMGRAPHD_PROJECT", "git@github.com:acme/tools.git")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut shim = Shim::spawn(cmd);
    let instructions = initialize(&mut shim, json!({}));
    assert!(
        instructions.ends_with("\nThis session's project: tools (github.com/acme/tools)."),
        "{instructions}"
    );
}

#[test]
fn a_worktree_in_claude_project_dir_names_its_repository() {
    let env = TestEnv::new();
    let main = git_repo(
        env.home(),
        "widgets",
        Some("https://github.com/acme/widgets"),
    );
    git(
        &main,
        &["worktree", "add", "-q", "-b", "fix", "../widgets-fix"],
    );
    let worktree = env.home().join("widgets-fix");
    let mut cmd = env.memgraphd(&["mcp"]);
    cmd.env("CLAUDE_PROJECT_DIR", &worktree)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut shim = Shim::spawn(cmd);
    let instructions = initialize(&mut shim, json!({}));
    assert!(
        instructions.ends_with("This session's project: widgets (github.com/acme/widgets)."),
        "{instructions}"
    );
}

#[test]
fn roots_decide_the_project_and_are_asked_again_when_they_change() {
    let env = TestEnv::new();
    let plain = env.home().join("plain");
    std::fs::create_dir(&plain).expect("creating the working directory");
    let widgets = git_repo(
        env.home(),
        "widgets",
        Some("git@github.com:acme/widgets.git"),
    );
    let gadgets = git_repo(
        env.home(),
        "gadgets",
        Some("https://gitlab.com/acme/gadgets"),
    );
    let log = env.home().join("shim.log");
    let mut shim = logging_shim(&env, &plain, &log, &[("CLAUDE_CODE_SESSION_ID", "cc-7")]);

    // Before any root, the working directory decides (by its full path).
    let instructions = initialize(&mut shim, json!({"roots": {"listChanged": true}}));
    let plain_key = std::fs::canonicalize(&plain).expect("canonical");
    assert!(
        instructions.ends_with(&format!("project: plain ({}).", plain_key.display())),
        "{instructions}"
    );

    answer_roots(&mut shim, &file_uri(&widgets));
    wait_until("the first root's project", Duration::from_secs(10), || {
        log_has(&log, "session project: widgets (github.com/acme/widgets)")
    });
    shim.call_ok(
        "create_entities",
        json!({"entities": [{"name": "A", "entityType": "t", "observations": []}]}),
    );
    wait_until("the write's provenance", Duration::from_secs(10), || {
        let Ok(text) = std::fs::read_to_string(&log) else {
            return false;
        };
        text.lines().any(|l| {
            l.contains("create_entities")
                && l.contains(r#"session: "cc-7""#)
                && l.contains(r#"name: "roots-client", version: "9.1""#)
                && l.contains(r#"key: "github.com/acme/widgets""#)
        })
    });

    shim.send(&json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}));
    answer_roots(&mut shim, &file_uri(&gadgets));
    wait_until(
        "the changed root's project",
        Duration::from_secs(10),
        || log_has(&log, "session project: gadgets (gitlab.com/acme/gadgets)"),
    );
}

#[test]
fn a_client_without_roots_is_never_asked_for_them() {
    let env = TestEnv::new();
    let log = env.home().join("shim.log");
    let mut shim = logging_shim(&env, env.home(), &log, &[]);
    initialize(&mut shim, json!({}));
    // A request answered after `initialized` proves the shim has handled
    // it; a `roots/list` sent meanwhile would be kept as a notification.
    shim.request("tools/list", json!({}));
    shim.call_ok("read_graph", json!({}));
    let asked: Vec<&Value> = shim
        .notifications
        .iter()
        .filter(|m| m["method"] == "roots/list")
        .collect();
    assert!(asked.is_empty(), "{asked:?}");
}

/// A shim started in `cwd`, past `initialize`.
fn shim_in(env: &TestEnv, cwd: &Path) -> Shim {
    let mut cmd = env.memgraphd(&["mcp"]);
    cmd.current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut shim = Shim::spawn(cmd);
    shim.initialize("2025-11-25");
    shim
}

fn search(shim: &mut Shim, query: &str, scope: &str) -> Vec<String> {
    let result = shim.call_ok("search_memory", json!({"query": query, "scope": scope}));
    result["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn search_memory_scope_project_keeps_the_sessions_repository() {
    let env = TestEnv::new();
    let widgets = git_repo(
        env.home(),
        "widgets",
        Some("https://github.com/acme/widgets"),
    );
    let gadgets = git_repo(env.home(), "gadgets", None);
    let mut w = shim_in(&env, &widgets);
    let mut g = shim_in(&env, &gadgets);
    let note = |name: &str| {
        json!({"entities": [{"name": name, "entityType": "note",
        "observations": ["the flaky integration test retries twice"]}]})
    };
    w.call_ok("create_entities", note("Widgets CI"));
    g.call_ok("create_entities", note("Gadgets CI"));
    g.call_ok("create_entities", note("Gadgets CI notes"));

    assert_eq!(search(&mut w, "flaky test", "project"), ["Widgets CI"]);
    let mut from_g = search(&mut g, "flaky test", "project");
    from_g.sort();
    assert_eq!(from_g, ["Gadgets CI", "Gadgets CI notes"]);
    // All of them, the session's own first.
    let all = search(&mut w, "flaky test", "all");
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all[0], "Widgets CI", "{all:?}");
    // Without scope, the same as "all".
    let unscoped = w.call_ok("search_memory", json!({"query": "flaky test"}));
    assert_eq!(unscoped["results"][0]["name"], "Widgets CI");
    // An exact name still comes first from the other project.
    assert_eq!(search(&mut w, "gadgets ci", "all")[0], "Gadgets CI");
}
