//! The Claude Code hooks on the real binary: `memgraphd hook session-start`
//! and `hook prompt` fed the hook inputs in `tests/fixtures/hooks/` against
//! a daemon with data, and in every failure case (no daemon can start, bad
//! input) silent with exit 0; `memgraphd hooks install` into a temp home.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use expect_test::expect;
use serde_json::{json, Value};

use crate::support::{git_repo, TestEnv};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hooks")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Runs `cmd` with `stdin` as its input and waits for it.
fn run_with_input(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning memgraphd");
    // A hook that exits without reading its input (bad arguments) closes
    // the pipe first: that is its answer, not the test's failure.
    match child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.expect("writing the hook input"),
    }
    child.wait_with_output().expect("waiting for memgraphd")
}

fn hook(env: &TestEnv, event: &str, input: &str, vars: &[(&str, &Path)]) -> Output {
    let mut cmd = env.memgraphd(&["hook", event]);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    run_with_input(cmd, input)
}

/// The `additionalContext` a hook printed, checking the output's shape.
fn context(output: &Output, event_name: &str) -> String {
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let printed: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("the hook printed no JSON ({e}): {stdout}"));
    let specific = &printed["hookSpecificOutput"];
    assert_eq!(specific["hookEventName"], event_name, "{printed:#}");
    assert_eq!(printed.as_object().map(|o| o.len()), Some(1), "{printed:#}");
    specific["additionalContext"]
        .as_str()
        .expect("additionalContext is a string")
        .to_owned()
}

fn assert_silent(output: &Output) {
    assert!(output.status.success(), "a hook exits 0: {output:?}");
    assert!(
        output.stdout.is_empty(),
        "a hook prints nothing: {output:?}"
    );
}

/// The working directory of the recorded hook inputs: the widgets project.
const WIDGETS_DIR: &str = "/home/dev/src/widgets";

/// A memory about the widgets project, written from it, then two entities
/// written from another project: one about widgets, one unrelated.
fn remember_widgets(env: &TestEnv) {
    let mut shim = env.shim_with(&[], &[("MEMGRAPHD_PROJECT", WIDGETS_DIR)]);
    shim.call_ok(
        "create_entities",
        json!({"entities": [
            {"name": "widgets", "entityType": "project",
             "observations": ["Rust service for widget orders", "deployed with helm"]},
            {"name": "Billing service", "entityType": "service",
             "observations": ["part of widgets", "rolls back with helm rollback"]},
            {"name": "Helm", "entityType": "tool", "observations": ["charts live in deploy/"]},
        ]}),
    );
    shim.call_ok(
        "create_relations",
        json!({"relations": [{"from": "Billing service", "to": "widgets", "relationType": "part_of"}]}),
    );
    let mut other = env.shim_with(&[], &[("MEMGRAPHD_PROJECT", "/home/dev/src/gadgets")]);
    other.call_ok(
        "create_entities",
        json!({"entities": [
            {"name": "Widgets CI", "entityType": "pipeline",
             "observations": ["runs the widgets tests on every push", "owned by the platform team"]},
            {"name": "Lyon office", "entityType": "place", "observations": ["opened in 2024"]},
        ]}),
    );
}

#[test]
fn session_start_recalls_the_projects_changes_then_the_hits_for_its_name() {
    let env = TestEnv::new();
    remember_widgets(&env);
    let output = hook(&env, "session-start", &fixture("session-start.json"), &[]);
    // The recorded cwd does not exist here: its path is the key.
    expect![[r#"
        Memory for this session's project, widgets (/home/dev/src/widgets):
        Recently changed in this project:
        - Billing service [service]: part of widgets; rolls back with helm rollback
        - widgets [project]: Rust service for widget orders; deployed with helm
        - Helm [tool]: charts live in deploy/
        Their relations:
        - Billing service part_of widgets
        About widgets:
        - Widgets CI [pipeline]: runs the widgets tests on every push (+1 more)
        This is part of the shared memory (memgraphd); search_nodes and open_nodes find more."#]]
    .assert_eq(&context(&output, "SessionStart"));
}

#[test]
fn session_start_in_a_project_without_changes_recalls_the_newest_of_all() {
    let env = TestEnv::new();
    remember_widgets(&env);
    let fresh = env.home().join("fresh");
    std::fs::create_dir_all(&fresh).expect("creating a project directory");
    let fresh = std::fs::canonicalize(&fresh).expect("canonical");
    let input = json!({"session_id": "s", "cwd": fresh, "hook_event_name": "SessionStart",
        "source": "startup"});
    let output = hook(&env, "session-start", &input.to_string(), &[]);
    let text = context(&output, "SessionStart");
    let heading = format!(
        "Memory for this session's project, fresh ({}):\n\
         Most recently changed (nothing from this project yet):\n\
         - Lyon office [place]: opened in 2024\n\
         - Widgets CI [pipeline]: ",
        fresh.display()
    );
    assert!(text.starts_with(&heading), "{text}");
    assert!(text.contains("- Billing service [service]"), "{text}");
}

#[test]
fn session_start_names_the_repository_of_claude_project_dir() {
    let env = TestEnv::new();
    remember_widgets(&env);
    let repo = git_repo(
        env.home(),
        "widgets",
        Some("git@github.com:acme/widgets.git"),
    );
    let output = hook(
        &env,
        "session-start",
        &fixture("session-start.json"),
        &[("CLAUDE_PROJECT_DIR", &repo)],
    );
    let text = context(&output, "SessionStart");
    assert!(
        text.starts_with("Memory for this session's project, widgets (github.com/acme/widgets):"),
        "{text}"
    );
    // Nothing was written from that repository: its name finds the rest.
    assert!(
        text.contains("About widgets:\n- widgets [project]"),
        "{text}"
    );
}

#[test]
fn session_start_stays_within_its_budget_on_a_large_memory() {
    let env = TestEnv::new();
    let long = "widgets ".repeat(100);
    let entities: Vec<Value> = (0..300)
        .map(|i| {
            json!({"name": format!("widgets part {i}"), "entityType": "part",
                        "observations": [long, format!("part {i} of the widgets")]})
        })
        .collect();
    env.shim().call_ok(
        "create_entities",
        json!({"entities": [{"name": "widgets", "entityType": "project", "observations": [long]}]}),
    );
    env.shim_with(&[], &[("MEMGRAPHD_PROJECT", WIDGETS_DIR)])
        .call_ok("create_entities", json!({"entities": entities}));
    let output = hook(&env, "session-start", &fixture("session-start.json"), &[]);
    let text = context(&output, "SessionStart");
    assert!(text.chars().count() <= 8_000, "{}", text.chars().count());
    assert!(
        text.contains("Recently changed in this project:\n- widgets part 299 [part]"),
        "{text}"
    );
    // However much the project wrote, the hits for its name keep a share.
    assert!(
        text.contains("About widgets:\n- widgets [project]: widgets"),
        "{text}"
    );
    assert!(
        text.ends_with("search_nodes and open_nodes find more."),
        "{text}"
    );
}

#[test]
fn session_start_on_an_empty_memory_prints_nothing() {
    let env = TestEnv::new();
    let output = hook(&env, "session-start", &fixture("session-start.json"), &[]);
    assert_silent(&output);
}

#[test]
fn a_prompt_gets_the_entities_its_words_find() {
    let env = TestEnv::new();
    remember_widgets(&env);
    let output = hook(&env, "prompt", &fixture("prompt.json"), &[]);
    expect![[r#"
        Memory that may bear on this prompt:
        - Billing service [service]: rolls back with helm rollback; part of widgets
        - Helm [tool]: charts live in deploy/
        - widgets [project]: Rust service for widget orders; deployed with helm
        Call open_nodes with these names for all that memory holds on them."#]]
    .assert_eq(&context(&output, "UserPromptSubmit"));
}

#[test]
fn a_prompt_nothing_bears_on_gets_nothing() {
    let env = TestEnv::new();
    remember_widgets(&env);
    assert_silent(&hook(
        &env,
        "prompt",
        &fixture("prompt-unrelated.json"),
        &[],
    ));
}

#[test]
fn hooks_are_silent_and_succeed_when_no_daemon_can_start() {
    let env = TestEnv::new();
    std::fs::write(env.db_path(), "this is not a SQLite database, it is text")
        .expect("writing a broken database");
    for (event, input) in [
        ("session-start", "session-start.json"),
        ("prompt", "prompt.json"),
    ] {
        assert_silent(&hook(&env, event, &fixture(input), &[]));
    }
    let log = std::fs::read_to_string(env.home().join("memgraphd.log")).unwrap_or_default();
    assert!(
        log.contains("hook session-start"),
        "the failure is logged: {log}"
    );
    assert!(log.contains("hook prompt"), "the failure is logged: {log}");
}

#[test]
fn hooks_are_silent_and_succeed_on_malformed_input() {
    let env = TestEnv::new();
    remember_widgets(&env);
    for input in ["", "{not json", "[1, 2]", "\u{0}\u{1}binary"] {
        for event in ["session-start", "prompt"] {
            assert_silent(&hook(&env, event, input, &[]));
        }
    }
    // Wrong arguments to a hook must not exit 2: that would block a prompt.
    let cmd = env.memgraphd(&["hook", "prompt", "--no-such-flag"]);
    assert_silent(&run_with_input(cmd, "{}"));
}

/// `memgraphd hooks install` with HOME in `home`.
fn install(env: &TestEnv, home: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["hooks", "install"];
    args.extend_from_slice(extra);
    let mut cmd = env.memgraphd(&args);
    cmd.env("HOME", home).env_remove("CLAUDE_CONFIG_DIR");
    cmd.output().expect("running hooks install")
}

/// The command `hooks install` writes for `event`: this binary, with the
/// test's database (not the default one).
fn expected_command(env: &TestEnv, event: &str) -> String {
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_memgraphd")).expect("canonical exe");
    let db = std::fs::canonicalize(env.home())
        .expect("canonical home")
        .join("memory.db");
    format!("{} --db {} hook {event}", exe.display(), db.display())
}

fn settings_path(home: &Path) -> PathBuf {
    home.join(".claude").join("settings.json")
}

fn backups(home: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(home.join(".claude"))
        .map(|dir| {
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().contains("settings.json.bak-"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn read_settings(home: &Path) -> Value {
    let text = std::fs::read_to_string(settings_path(home)).expect("reading settings.json");
    serde_json::from_str(&text).expect("settings.json is JSON")
}

/// The hook commands of `event` in a settings value.
fn commands(settings: &Value, event: &str) -> Vec<String> {
    settings["hooks"][event]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|group| group["hooks"].as_array().cloned().unwrap_or_default())
        .filter_map(|hook| hook["command"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn hooks_install_is_idempotent_keeps_other_settings_and_backs_up() {
    let env = TestEnv::new();
    let home = env.home().join("home");
    std::fs::create_dir_all(home.join(".claude")).expect("creating ~/.claude");
    let original = json!({
        "model": "opus",
        "permissions": {"allow": ["Bash(cargo test:*)"]},
        "hooks": {
            "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "other-tool start"}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}]
        }
    });
    let original_text = serde_json::to_string_pretty(&original).expect("serializing");
    std::fs::write(settings_path(&home), &original_text).expect("writing settings.json");
    #[cfg(unix)]
    let original_mode = {
        use std::os::unix::fs::PermissionsExt;
        let mode = 0o640;
        std::fs::set_permissions(settings_path(&home), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
        mode
    };

    let first = install(&env, &home, &[]);
    assert!(first.status.success(), "{first:?}");
    let installed = read_settings(&home);
    assert_eq!(
        commands(&installed, "SessionStart"),
        [
            "other-tool start".to_owned(),
            expected_command(&env, "session-start")
        ]
    );
    assert_eq!(
        commands(&installed, "UserPromptSubmit"),
        [expected_command(&env, "prompt")]
    );
    for key in ["model", "permissions"] {
        assert_eq!(installed[key], original[key], "{key} kept");
    }
    assert_eq!(
        installed["hooks"]["PreToolUse"],
        original["hooks"]["PreToolUse"]
    );
    let made = backups(&home);
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(
        std::fs::read_to_string(&made[0]).expect("reading the backup"),
        original_text
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&made[0]), 0o600, "the backup is private");
        assert_eq!(
            mode(&settings_path(&home)),
            original_mode,
            "the mode is kept"
        );
    }

    let written = std::fs::read(settings_path(&home)).expect("reading settings.json");
    let second = install(&env, &home, &[]);
    assert!(second.status.success(), "{second:?}");
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("nothing to change"),
        "{second:?}"
    );
    assert_eq!(
        std::fs::read(settings_path(&home)).expect("reread"),
        written
    );
    assert_eq!(backups(&home).len(), 1, "no backup when nothing changes");
}

#[test]
fn hooks_install_creates_the_settings_and_dry_run_writes_nothing() {
    let env = TestEnv::new();
    let home = env.home().join("fresh");
    std::fs::create_dir_all(&home).expect("creating home");

    let dry = install(&env, &home, &["--dry-run"]);
    assert!(dry.status.success(), "{dry:?}");
    let shown = String::from_utf8_lossy(&dry.stdout);
    assert!(shown.contains("would add a SessionStart hook"), "{shown}");
    assert!(shown.contains("\"UserPromptSubmit\""), "{shown}");
    assert!(!home.join(".claude").exists(), "a dry run creates nothing");

    let real = install(&env, &home, &[]);
    assert!(real.status.success(), "{real:?}");
    let settings = read_settings(&home);
    assert_eq!(commands(&settings, "SessionStart").len(), 1);
    assert_eq!(commands(&settings, "UserPromptSubmit").len(), 1);
    assert!(backups(&home).is_empty(), "there was nothing to back up");

    // A dry run against installed hooks changes nothing either.
    let before = std::fs::read(settings_path(&home)).expect("reading");
    assert!(install(&env, &home, &["--dry-run"]).status.success());
    assert_eq!(std::fs::read(settings_path(&home)).expect("reread"), before);
}

#[test]
fn hooks_install_refuses_malformed_settings_and_changes_nothing() {
    let env = TestEnv::new();
    let home = env.home().join("broken");
    std::fs::create_dir_all(home.join(".claude")).expect("creating ~/.claude");
    for broken in [r#"{"model": "opus",,}"#, "[]", r#"{"hooks": []}"#] {
        std::fs::write(settings_path(&home), broken).expect("writing settings.json");
        let output = install(&env, &home, &[]);
        assert!(!output.status.success(), "{broken}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("nothing was changed"), "{stderr}");
        assert_eq!(
            std::fs::read_to_string(settings_path(&home)).expect("reading"),
            broken
        );
        assert!(backups(&home).is_empty());
    }
}

#[test]
fn installed_hooks_run_and_reach_the_same_database() {
    let env = TestEnv::new();
    remember_widgets(&env);
    let home = env.home().join("h");
    std::fs::create_dir_all(&home).expect("creating home");
    assert!(install(&env, &home, &[]).status.success());
    let command = commands(&read_settings(&home), "UserPromptSubmit")[0].clone();
    // As Claude Code runs it: through the shell, without the test's
    // MEMGRAPHD_DB, so only the installed `--db` points at the data.
    let mut shell = Command::new("sh");
    shell
        .args(["-c", &command])
        .env_remove("MEMGRAPHD_DB")
        .env("MEMGRAPHD_SOCKET", env.socket_path())
        .env("HOME", &home);
    let text = context(
        &run_with_input(shell, &fixture("prompt.json")),
        "UserPromptSubmit",
    );
    assert!(text.contains("- Billing service [service]"), "{text}");
}
