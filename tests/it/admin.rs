//! The admin subcommands end to end, with the real binary: `import` (of the
//! official memory.jsonl and of a @pepk/mcp-memory-sqlite database, good and
//! bad), `export`, `backup`, `doctor`, `status`, every `--help`, and `~` in
//! paths.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{names, wait_until, TestEnv};

// ---- helpers ---------------------------------------------------------------

fn entity(name: &str) -> Value {
    json!({"name": name, "entityType": "thing", "observations": [format!("about {name}")]})
}

/// Runs a command to completion.
fn run(mut cmd: Command) -> Output {
    cmd.output().expect("running memgraphd")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `memgraphd ARGS` and fails the test unless it exits 0.
fn ok(env: &TestEnv, args: &[&str]) -> Output {
    let out = run(env.memgraphd(args));
    assert!(
        out.status.success(),
        "memgraphd {args:?} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    out
}

/// Runs `cmd`, expects a non-zero exit with a message on stderr,
/// and returns that message.
fn fails(cmd: Command) -> String {
    let out = run(cmd);
    assert!(
        !out.status.success(),
        "expected a failure\nstdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    let message = stderr(&out);
    assert!(!message.trim().is_empty(), "no message on stderr");
    message
}

/// The whole graph as `memgraphd export` writes it to stdout.
fn export(env: &TestEnv) -> String {
    stdout(&ok(env, &["export"]))
}

/// A file in the test's private directory.
fn file_in(env: &TestEnv, name: &str) -> PathBuf {
    env.db_path()
        .parent()
        .expect("the db has a directory")
        .join(name)
}

fn write(env: &TestEnv, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = file_in(env, name);
    std::fs::write(&path, bytes).expect("writing a test file");
    path
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

fn read_graph(env: &TestEnv) -> Value {
    env.shim().call_ok("read_graph", json!({}))
}

/// A graph built through a session, with the awkward characters an export
/// must carry: unicode, quotes, backslashes, newlines.
fn build_graph(env: &TestEnv) {
    let mut shim = env.shim();
    shim.call_ok(
        "create_entities",
        json!({"entities": [
            {"name": "Alice", "entityType": "person", "observations": ["likes \"green\" tea", "lives in Zürich"]},
            {"name": "Bob", "entityType": "person", "observations": ["plays chess", "back\\slash", "two\nlines"]},
            {"name": "東京", "entityType": "city", "observations": ["capital of 日本 🗾"]},
            {"name": "Project \"X\"", "entityType": "project", "observations": []},
        ]}),
    );
    shim.call_ok(
        "create_relations",
        json!({"relations": [
            {"from": "Alice", "to": "Bob", "relationType": "knows"},
            {"from": "Bob", "to": "東京", "relationType": "visited"},
            {"from": "Alice", "to": "Project \"X\"", "relationType": "leads"},
        ]}),
    );
    shim.call_ok(
        "add_observations",
        json!({"observations": [{"entityName": "Alice", "contents": ["added later"]}]}),
    );
}

// ---- import ----------------------------------------------------------------

#[test]
fn import_of_an_official_memory_jsonl_merges_and_reports() {
    let env = TestEnv::new();
    env.shim().call_ok(
        "create_entities",
        json!({"entities": [{"name": "Dave", "entityType": "person", "observations": ["was here first"]}]}),
    );
    let file = write(
        &env,
        "memory.jsonl",
        concat!(
            // 1, CRLF
            "{\"type\":\"entity\",\"name\":\"Alice\",\"entityType\":\"person\",\"observations\":[\"likes tea\",\"lives in Paris\"]}\r\n",
            "\r\n", // 2, blank
            // 3
            "{\"type\":\"entity\",\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[\"plays chess\"]}\r\n",
            // 4
            "{\"type\":\"relation\",\"from\":\"Alice\",\"to\":\"Bob\",\"relationType\":\"knows\"}\n",
            "{this is not json\n", // 5, malformed
            // 6, dangling
            "{\"type\":\"relation\",\"from\":\"Alice\",\"to\":\"Nobody\",\"relationType\":\"knows\"}\n",
            // 7, duplicate name
            "{\"type\":\"entity\",\"name\":\"Alice\",\"entityType\":\"person\",\"observations\":[\"likes tea\",\"speaks French\"]}\n",
            "   \n", // 8, blank
            // 9
            "{\"type\":\"entity\",\"name\":\"Carol\",\"entityType\":\"person\",\"observations\":[]}\n",
            // 10, an existing entity gets the new observation
            "{\"type\":\"entity\",\"name\":\"Dave\",\"entityType\":\"person\",\"observations\":[\"was here first\",\"came back\"]}\n",
            // 11
            "{\"type\":\"relation\",\"from\":\"Bob\",\"to\":\"Carol\",\"relationType\":\"mentors\"}\n",
        ),
    );
    let out = ok(&env, &["import", arg(&file)]);
    let summary = stdout(&out);
    assert!(
        summary.contains("4 entities, 3 relations"),
        "what was read: {summary}"
    );
    assert!(summary.contains("skipped line 5: not JSON"), "{summary}");
    assert!(
        !summary.contains("skipped line 2") && !summary.contains("skipped line 8"),
        "blank lines are not problems: {summary}"
    );
    assert!(
        summary.contains("skipped relation Alice knows Nobody"),
        "{summary}"
    );
    assert!(
        summary.contains("duplicate names in the file, observations merged into the first: Alice"),
        "{summary}"
    );
    assert!(summary.contains("3 entities created"), "{summary}");
    assert!(summary.contains("1 merged into existing ones"), "{summary}");
    assert!(summary.contains("2 relations created"), "{summary}");
    assert!(summary.contains("1 dangling"), "{summary}");

    let graph = read_graph(&env);
    assert_eq!(
        graph,
        json!({
            "entities": [
                {"name": "Dave", "entityType": "person", "observations": ["was here first", "came back"]},
                {"name": "Alice", "entityType": "person", "observations": ["likes tea", "lives in Paris", "speaks French"]},
                {"name": "Bob", "entityType": "person", "observations": ["plays chess"]},
                {"name": "Carol", "entityType": "person", "observations": []},
            ],
            "relations": [
                {"from": "Alice", "to": "Bob", "relationType": "knows"},
                {"from": "Bob", "to": "Carol", "relationType": "mentors"},
            ]
        })
    );

    // A second import of the same file changes nothing.
    let again = stdout(&ok(&env, &["import", arg(&file)]));
    assert!(again.contains("0 entities created"), "{again}");
    assert!(again.contains("0 observations added"), "{again}");
    assert!(
        again.contains("0 relations created (2 already present"),
        "{again}"
    );
    assert_eq!(read_graph(&env), graph);
}

#[test]
fn import_dry_run_writes_nothing() {
    let env = TestEnv::new();
    let file = write(
        &env,
        "memory.jsonl",
        concat!(
            "{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"x\"]}\n",
            "{\"type\":\"entity\",\"name\":\"B\",\"entityType\":\"t\",\"observations\":[]}\n",
            "oops\n",
            "{\"type\":\"relation\",\"from\":\"A\",\"to\":\"B\",\"relationType\":\"r\"}\n",
        ),
    );
    let summary = stdout(&ok(&env, &["import", "--dry-run", arg(&file)]));
    assert!(summary.contains("2 entities, 1 relations"), "{summary}");
    assert!(summary.contains("skipped line 3"), "{summary}");
    assert!(
        summary.contains("dry run: nothing was written"),
        "{summary}"
    );
    assert_eq!(read_graph(&env), json!({"entities": [], "relations": []}));
}

#[test]
fn export_then_import_into_an_empty_database_then_export_is_byte_identical() {
    let source = TestEnv::new();
    build_graph(&source);
    let first = export(&source);
    assert_eq!(first.lines().count(), 7, "{first}");
    assert!(
        first.contains("東京") && first.contains("Zürich"),
        "{first}"
    );
    let file = write(&source, "exported.jsonl", &first);

    let target = TestEnv::new();
    let summary = stdout(&ok(&target, &["import", arg(&file)]));
    assert!(summary.contains("4 entities created"), "{summary}");
    assert!(summary.contains("3 relations created"), "{summary}");
    assert!(!summary.contains("skipped"), "{summary}");
    let second = export(&target);
    assert_eq!(second, first);
    assert_eq!(read_graph(&target), read_graph(&source));
}

#[test]
fn export_goes_to_stdout_or_to_a_file() {
    let env = TestEnv::new();
    // An empty store exports an empty file.
    assert_eq!(export(&env), "");
    build_graph(&env);
    let text = export(&env);
    assert!(
        text.starts_with("{\"type\":\"entity\",\"name\":\"Alice\""),
        "{text}"
    );
    assert!(text.ends_with('\n'));

    let file = file_in(&env, "out.jsonl");
    let out = ok(&env, &["export", arg(&file)]);
    assert_eq!(stdout(&out), "", "nothing on stdout when writing a file");
    assert_eq!(
        std::fs::read_to_string(&file).expect("the export file"),
        text
    );

    // Writing over an existing file replaces it whole.
    std::fs::write(
        &file,
        "old content that is much longer than nothing\n".repeat(100),
    )
    .expect("writing");
    ok(&env, &["export", arg(&file)]);
    assert_eq!(
        std::fs::read_to_string(&file).expect("the export file"),
        text
    );

    // A directory is refused.
    let dir = file_in(&env, "a-dir");
    std::fs::create_dir(&dir).expect("mkdir");
    let message = fails(env.memgraphd(&["export", arg(&dir)]));
    assert!(message.contains("is a directory"), "{message}");
}

/// Creates a @pepk/mcp-memory-sqlite database as that server lays it out.
fn pepk_database(path: &Path) {
    let conn = rusqlite::Connection::open(path).expect("creating the pepk db");
    conn.execute_batch(
        r#"
        CREATE TABLE entities (name TEXT PRIMARY KEY, entity_type TEXT);
        CREATE TABLE observations (id INTEGER PRIMARY KEY, entity_name TEXT, content TEXT);
        CREATE TABLE relations (id INTEGER PRIMARY KEY, from_entity TEXT, to_entity TEXT, relation_type TEXT);
        INSERT INTO entities VALUES ('Alice', 'person'), ('Bob', 'person'), ('Zoë', 'persön');
        INSERT INTO observations (entity_name, content) VALUES
            ('Alice', 'likes tea'),
            ('Bob', 'plays chess'),
            ('Alice', 'lives in Paris'),
            ('Alice', 'likes tea'),
            ('Ghost', 'belongs to nobody'),
            ('Zoë', 'says "hi"');
        INSERT INTO relations (from_entity, to_entity, relation_type) VALUES
            ('Alice', 'Bob', 'knows'),
            ('Bob', 'Ghost', 'haunts'),
            ('Zoë', 'Alice', 'admires');
        "#,
    )
    .expect("filling the pepk db");
}

#[test]
fn import_of_a_pepk_sqlite_database() {
    let env = TestEnv::new();
    let db = file_in(&env, "pepk.db");
    pepk_database(&db);
    let before = std::fs::read(&db).expect("reading the pepk db");
    let summary = stdout(&ok(&env, &["import", arg(&db)]));
    assert!(
        summary.contains("@pepk/mcp-memory-sqlite database"),
        "{summary}"
    );
    assert!(summary.contains("3 entities, 3 relations"), "{summary}");
    assert!(
        summary.contains("skipped relation Bob haunts Ghost"),
        "{summary}"
    );
    assert_eq!(
        read_graph(&env),
        json!({
            "entities": [
                {"name": "Alice", "entityType": "person", "observations": ["likes tea", "lives in Paris"]},
                {"name": "Bob", "entityType": "person", "observations": ["plays chess"]},
                {"name": "Zoë", "entityType": "persön", "observations": ["says \"hi\""]},
            ],
            "relations": [
                {"from": "Alice", "to": "Bob", "relationType": "knows"},
                {"from": "Zoë", "to": "Alice", "relationType": "admires"},
            ]
        })
    );
    assert_eq!(
        std::fs::read(&db).expect("reading the pepk db"),
        before,
        "the source database is left as it was"
    );
}

#[test]
fn import_of_an_sqlite_database_with_another_schema_is_refused() {
    let env = TestEnv::new();
    build_graph(&env);
    let before = export(&env);
    let db = file_in(&env, "other.db");
    {
        let conn = rusqlite::Connection::open(&db).expect("creating a db");
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO notes (body) VALUES ('hello');
             CREATE TABLE entities (name TEXT);",
        )
        .expect("filling it");
    }
    let message = fails(env.memgraphd(&["import", arg(&db)]));
    assert!(message.contains(arg(&db)), "names the file: {message}");
    assert!(
        message.contains("not one of @pepk/mcp-memory-sqlite"),
        "{message}"
    );
    assert_eq!(export(&env), before);
}

// ---- bad input -------------------------------------------------------------

#[test]
fn a_truncated_file_imports_its_whole_lines_and_reports_the_cut_one() {
    let env = TestEnv::new();
    let whole = concat!(
        "{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"x\"]}\n",
        "{\"type\":\"entity\",\"name\":\"B\",\"entityType\":\"t\",\"observations\":[\"y\"]}\n",
        "{\"type\":\"relation\",\"from\":\"A\",\"to\":\"B\",\"relationType\":\"r\"}\n",
        "{\"type\":\"entity\",\"name\":\"C\",\"entityType\":\"t\",\"observations\":[\"z\"]}\n",
    );
    // Cut in the middle of the last object, as a crash mid-write leaves it.
    let file = write(&env, "cut.jsonl", &whole[..whole.len() - 20]);
    let summary = stdout(&ok(&env, &["import", arg(&file)]));
    assert!(summary.contains("skipped line 4: not JSON"), "{summary}");
    assert!(summary.contains("2 entities created"), "{summary}");
    let graph = read_graph(&env);
    assert_eq!(names(&graph), ["A", "B"]);
    assert_eq!(
        graph["relations"],
        json!([{"from": "A", "to": "B", "relationType": "r"}])
    );
}

#[test]
#[cfg(unix)]
fn bad_input_fails_clearly_and_changes_nothing() {
    let env = TestEnv::new();
    build_graph(&env);
    let before = export(&env);

    // Binary bytes: not a memory file at all.
    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let file = write(&env, "binary.bin", &binary);
    let message = fails(env.memgraphd(&["import", arg(&file)]));
    assert!(
        message.contains("no entity or relation could be read"),
        "{message}"
    );
    assert!(
        message.contains("is this a memory.jsonl file?"),
        "{message}"
    );
    assert!(message.contains(arg(&file)), "{message}");

    // A directory.
    let dir = file_in(&env, "a-dir");
    std::fs::create_dir(&dir).expect("mkdir");
    let message = fails(env.memgraphd(&["import", arg(&dir)]));
    assert!(message.contains("is a directory"), "{message}");

    // A file that does not exist.
    let missing = file_in(&env, "no-such-file.jsonl");
    let message = fails(env.memgraphd(&["import", arg(&missing)]));
    assert!(message.contains(arg(&missing)), "{message}");
    assert!(message.contains("No such file"), "{message}");

    // An unknown flag: a usage error from clap.
    let out = run(env.memgraphd(&["import", "--nope", "x"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--nope"), "{}", stderr(&out));

    // A database that cannot be created. Root bypasses permission bits, so
    // there use a path under a regular file, which fails for everyone.
    let good = write(
        &env,
        "good.jsonl",
        "{\"type\":\"entity\",\"name\":\"New\",\"entityType\":\"t\",\"observations\":[]}\n",
    );
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let blocked = if root {
        write(&env, "afile", "a regular file");
        file_in(&env, "afile").join("memory.db")
    } else {
        use std::os::unix::fs::PermissionsExt;
        let dir = file_in(&env, "read-only");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).expect("chmod");
        dir.join("memory.db")
    };
    let mut cmd = env.memgraphd(&["import", arg(&good)]);
    // Its own socket, so that it cannot reach this test's daemon.
    cmd.env("MEMGRAPHD_DB", &blocked)
        .env("MEMGRAPHD_SOCKET", file_in(&env, "blocked.sock"));
    let message = fails(cmd);
    // It names the place: the directory that cannot be made (root), or the
    // log of the daemon that could not start in it (others).
    let dir = blocked.parent().expect("a directory");
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    assert!(
        message.contains(arg(dir)) || message.contains(arg(&canonical)),
        "{message}"
    );
    assert!(!blocked.exists());

    assert_eq!(export(&env), before, "the store is unchanged");
}

// ---- concurrency -----------------------------------------------------------

/// More items than one batch holds, so the import is several transactions
/// and the sessions' writes can land between them.
const BIG_IMPORT: usize = memgraphd::limits::MAX_ITEMS + 50;

#[test]
fn an_import_while_four_sessions_write_loses_nothing() {
    let env = TestEnv::new();
    let mut lines = String::new();
    for k in 0..BIG_IMPORT {
        let line = json!({"type": "entity", "name": format!("imp-{k}"), "entityType": "imported", "observations": [format!("o{k}")]});
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    for k in 1..BIG_IMPORT {
        let line = json!({"type": "relation", "from": format!("imp-{}", k - 1), "to": format!("imp-{k}"), "relationType": "next"});
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    let file = write(&env, "big.jsonl", &lines);

    let stop = AtomicBool::new(false);
    let written = AtomicUsize::new(0);
    let (out, acked): (Output, Vec<Vec<String>>) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|i| {
                let (env, stop, written) = (&env, &stop, &written);
                s.spawn(move || {
                    let mut shim = env.shim();
                    let mut acked = Vec::new();
                    let started = Instant::now();
                    let mut j = 0;
                    // Bounded even if the main thread never says stop.
                    while !stop.load(Ordering::Relaxed)
                        && started.elapsed() < Duration::from_secs(20)
                    {
                        let name = format!("w{i}-{j}");
                        j += 1;
                        let created =
                            shim.call_ok("create_entities", json!({"entities": [entity(&name)]}));
                        assert_eq!(names(&created), vec![name.clone()]);
                        acked.push(name);
                        written.fetch_add(1, Ordering::Relaxed);
                    }
                    acked
                })
            })
            .collect();
        wait_until("the sessions to write", Duration::from_secs(20), || {
            written.load(Ordering::Relaxed) >= 8
        });
        let out = run(env.memgraphd(&["import", arg(&file)]));
        let during = written.load(Ordering::Relaxed);
        // Let the sessions write a little after the import too.
        wait_until(
            "more writes after the import",
            Duration::from_secs(20),
            || written.load(Ordering::Relaxed) >= during + 8,
        );
        stop.store(true, Ordering::Relaxed);
        let acked = writers
            .into_iter()
            .map(|h| h.join().expect("writer"))
            .collect();
        (out, acked)
    });
    let summary = stdout(&out);
    assert!(out.status.success(), "{summary}{}", stderr(&out));
    assert!(
        summary.contains(&format!("{BIG_IMPORT} entities created")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("{} relations created", BIG_IMPORT - 1)),
        "{summary}"
    );

    let mut entities = std::collections::HashSet::new();
    let mut relations = 0;
    for line in export(&env).lines() {
        let item: Value = serde_json::from_str(line).expect("an export line");
        if item["type"] == "entity" {
            let name = item["name"].as_str().expect("a name").to_owned();
            assert!(entities.insert(name), "{line} twice");
        } else {
            relations += 1;
        }
    }
    for k in 0..BIG_IMPORT {
        assert!(entities.contains(&format!("imp-{k}")), "imp-{k} is missing");
    }
    for name in acked.iter().flatten() {
        assert!(
            entities.contains(name),
            "acknowledged write {name} is missing"
        );
    }
    let total: usize = acked.iter().map(Vec::len).sum();
    assert!(total >= 16, "the sessions wrote little: {total}");
    assert_eq!(entities.len(), BIG_IMPORT + total, "nothing else");
    assert_eq!(relations, BIG_IMPORT - 1);
}

// ---- backup ----------------------------------------------------------------

#[test]
fn backup_while_a_session_writes_is_consistent() {
    let env = TestEnv::new();
    let before: Vec<Value> = (0..50).map(|k| entity(&format!("pre-{k}"))).collect();
    env.shim()
        .call_ok("create_entities", json!({"entities": before}));
    let target = file_in(&env, "backups").join("copy.db");

    let stop = AtomicBool::new(false);
    let written = AtomicUsize::new(0);
    let out = std::thread::scope(|s| {
        let writer = {
            let (env, stop, written) = (&env, &stop, &written);
            s.spawn(move || {
                let mut shim = env.shim();
                let started = Instant::now();
                let mut j = 0;
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(20) {
                    shim.call_ok(
                        "create_entities",
                        json!({"entities": [entity(&format!("during-{j}"))]}),
                    );
                    j += 1;
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        wait_until("the session to write", Duration::from_secs(20), || {
            written.load(Ordering::Relaxed) >= 3
        });
        let out = run(env.memgraphd(&["backup", arg(&target)]));
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("writer");
        out
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("integrity_check ok"),
        "{}",
        stdout(&out)
    );

    let copy = rusqlite::Connection::open(&target).expect("opening the backup");
    let integrity: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
    let mut stmt = copy
        .prepare("SELECT name FROM entities")
        .expect("the backup has entities");
    let stored: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for k in 0..50 {
        assert!(stored.contains(&format!("pre-{k}")), "pre-{k} is missing");
    }
    let observations: i64 = copy
        .query_row("SELECT count(*) FROM observations", [], |r| r.get(0))
        .expect("count");
    assert_eq!(observations as usize, stored.len(), "one observation each");
}

#[test]
fn backup_onto_an_existing_file_is_refused_and_leaves_it_alone() {
    let env = TestEnv::new();
    env.shim()
        .call_ok("create_entities", json!({"entities": [entity("x")]}));
    let target = write(&env, "precious.db", "do not overwrite me");
    let message = fails(env.memgraphd(&["backup", arg(&target)]));
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&target).expect("reading"),
        "do not overwrite me"
    );
    let dir = file_in(&env, "a-dir");
    std::fs::create_dir(&dir).expect("mkdir");
    let message = fails(env.memgraphd(&["backup", arg(&dir)]));
    assert!(message.contains("is a directory"), "{message}");
}

/// The daemon runs elsewhere, so a relative FILE must be resolved against
/// the directory the command was run in.
#[test]
fn relative_paths_are_the_callers() {
    let env = TestEnv::new();
    build_graph(&env);
    let here = file_in(&env, "here");
    std::fs::create_dir(&here).expect("mkdir");
    let in_here = |args: &[&str]| {
        let mut cmd = env.memgraphd(args);
        cmd.current_dir(&here);
        let out = run(cmd);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    in_here(&["backup", "copy.db"]);
    assert!(here.join("copy.db").is_file());
    in_here(&["export", "out.jsonl"]);
    let text = std::fs::read_to_string(here.join("out.jsonl")).expect("the export");
    assert_eq!(text, export(&env));
    in_here(&["import", "out.jsonl"]);
    assert_eq!(export(&env), text);
}

// ---- doctor and status -----------------------------------------------------

/// The doctor's line about `subject` (the second column), if any.
fn doctor_line<'a>(report: &'a str, subject: &str) -> Option<&'a str> {
    report
        .lines()
        .find(|line| line.get(6..17).map(str::trim_end) == Some(subject))
}

#[test]
fn doctor_with_a_running_daemon() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    shim.call_ok("create_entities", json!({"entities": [entity("x")]}));
    let report = stdout(&ok(&env, &["doctor"]));
    for subject in [
        "integrity",
        "socket",
        "socket dir",
        "daemon",
        "lock",
        "database",
    ] {
        let line = doctor_line(&report, subject)
            .unwrap_or_else(|| panic!("no {subject} line in:\n{report}"));
        assert!(line.starts_with("ok "), "{line}\n{report}");
    }
    assert!(report.contains("running, pid"), "{report}");
    assert!(!report.contains("FAIL"), "{report}");
}

#[test]
fn doctor_without_a_daemon_says_so_and_succeeds() {
    let env = TestEnv::new();
    // Nothing ever ran: no database yet.
    let out = ok(&env, &["doctor"]);
    let report = stdout(&out);
    assert!(report.contains("not running"), "{report}");
    assert!(!report.contains("FAIL"), "{report}");
    assert!(env.daemon_pid().is_none(), "doctor never starts a daemon");

    // A daemon ran and stopped: the file itself is checked.
    env.shim()
        .call_ok("create_entities", json!({"entities": [entity("x")]}));
    ok(&env, &["stop"]);
    let report = stdout(&ok(&env, &["doctor"]));
    assert!(report.contains("not running"), "{report}");
    let integrity = doctor_line(&report, "integrity").unwrap_or_else(|| panic!("{report}"));
    assert!(integrity.starts_with("ok "), "{report}");
    assert!(env.daemon_pid().is_none(), "doctor never starts a daemon");
}

fn canonical_db(env: &TestEnv) -> PathBuf {
    env.db_path()
        .parent()
        .expect("a directory")
        .canonicalize()
        .expect("canonical")
        .join("memory.db")
}

#[test]
fn status_prints_the_resolved_paths_running_or_not() {
    let env = TestEnv::new();
    let db = canonical_db(&env);
    let log = db.with_file_name("memgraphd.log");
    let socket = env.socket_path();

    let out = run(env.memgraphd(&["status"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("not running"), "{text}");
    for path in [&db, &socket, &log] {
        assert!(
            text.contains(arg(path)),
            "lacks {}:\n{text}",
            path.display()
        );
    }

    env.shim().call_ok("read_graph", json!({}));
    let text = stdout(&ok(&env, &["status"]));
    assert!(text.contains("is running"), "{text}");
    assert!(
        text.contains(&format!("database:     {} (", db.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("socket:       {}\n", socket.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("log:          {}\n", log.display())),
        "{text}"
    );
}

#[test]
#[cfg(unix)]
fn a_tilde_in_paths_expands_to_home() {
    let env = TestEnv::new();
    let home = tempfile::Builder::new()
        .prefix("mghome")
        .tempdir()
        .expect("a temp home");
    let canonical_home = home.path().canonicalize().expect("canonical home");
    let mut cmd = env.memgraphd(&["status"]);
    cmd.env("HOME", home.path())
        .env("MEMGRAPHD_DB", "~/x/memory.db")
        .env("MEMGRAPHD_SOCKET", "~/s.sock");
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    let db = canonical_home.join("x").join("memory.db");
    assert!(text.contains(arg(&db)), "{text}");
    assert!(text.contains(arg(&home.path().join("s.sock"))), "{text}");
    assert!(
        text.contains(arg(&canonical_home.join("x").join("memgraphd.log"))),
        "{text}"
    );
    assert!(!text.contains('~'), "{text}");
    assert!(
        home.path().join("x").is_dir(),
        "the db's directory is created"
    );

    // The flag expands the same way.
    let mut cmd = env.memgraphd(&["status", "--db", "~/y/memory.db"]);
    cmd.env("HOME", home.path());
    let text = stdout(&run(cmd));
    assert!(
        text.contains(arg(&canonical_home.join("y").join("memory.db"))),
        "{text}"
    );
}

// ---- help ------------------------------------------------------------------

#[test]
fn every_subcommand_has_help_with_an_example() {
    let env = TestEnv::new();
    for sub in [
        "mcp", "serve", "status", "stop", "import", "export", "backup", "doctor",
    ] {
        let out = ok(&env, &[sub, "--help"]);
        let help = stdout(&out);
        assert!(help.contains("Usage: memgraphd"), "{sub}:\n{help}");
        let example = format!("memgraphd {sub}");
        // An indented example line that runs the subcommand; for `mcp`
        // the example is the client registration ending in `-- memgraphd mcp`.
        let has_example = help.lines().any(|line| {
            let example_line = line.starts_with("  ") && !line.trim_start().starts_with('-');
            let line = line.trim_start();
            example_line && (line.starts_with(&example) || line.contains(&format!("-- {example}")))
        });
        assert!(has_example, "{sub} --help has no example:\n{help}");
    }
    assert!(env.daemon_pid().is_none(), "--help never starts a daemon");
}
