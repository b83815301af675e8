//! The daemon with many real shims: one daemon per database, concurrent
//! writers with nothing lost or doubled, crash recovery, change notices,
//! session exit, and protocol refusal.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{names, wait_until, TestEnv};

fn entity(name: &str) -> Value {
    json!({"name": name, "entityType": "thing", "observations": [format!("about {name}")]})
}

#[test]
#[cfg(target_os = "linux")]
fn eight_shims_at_once_start_exactly_one_daemon() {
    let env = TestEnv::new();
    let start = Arc::new(Barrier::new(8));
    let results: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (env, start) = (&env, start.clone());
                s.spawn(move || {
                    let mut shim = env.shim();
                    start.wait();
                    shim.call_ok(
                        "create_entities",
                        json!({"entities": [entity(&format!("s{i}"))]}),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("shim thread"))
            .collect()
    });
    for (i, created) in results.iter().enumerate() {
        assert_eq!(names(created), vec![format!("s{i}")]);
    }
    assert_eq!(
        env.daemon_processes().len(),
        1,
        "{:?}",
        env.daemon_processes()
    );
    let mut shim = env.shim();
    let graph = shim.call_ok("read_graph", json!({}));
    assert_eq!(names(&graph).len(), 8);
}

#[test]
fn eight_shims_times_200_creates_lose_nothing() {
    let env = TestEnv::new();
    std::thread::scope(|s| {
        for i in 0..8 {
            let env = &env;
            s.spawn(move || {
                let mut shim = env.shim();
                for j in 0..200 {
                    let name = format!("s{i}-e{j}");
                    let result = shim.call("create_entities", json!({"entities": [entity(&name)]}));
                    assert_ne!(result["isError"], json!(true), "{name}: {result:#}");
                    assert_eq!(names(&result["structuredContent"]), vec![name]);
                }
            });
        }
    });
    // The whole graph is over the size guard's default: page through it.
    let mut all: Vec<String> = env
        .shim()
        .all_entities("read_graph", json!({}))
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(all.len(), 1600);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1600, "no entity twice");
}

/// Each session works on its own names, so the final graph is the union of
/// what each session's sequence predicts, whatever the interleaving.
#[test]
fn mixed_concurrent_workload_ends_in_the_predicted_graph() {
    let env = TestEnv::new();
    std::thread::scope(|s| {
        for i in 0..4 {
            let env = &env;
            s.spawn(move || {
                let mut shim = env.shim();
                let n = |j: usize| format!("w{i}-{j}");
                for j in 0..10 {
                    shim.call_ok("create_entities", json!({"entities": [entity(&n(j))]}));
                }
                for j in 0..9 {
                    shim.call_ok("create_relations", json!({"relations": [{"from": n(j), "to": n(j + 1), "relationType": "next"}]}));
                }
                for j in 0..10 {
                    shim.call_ok("add_observations", json!({"observations": [{"entityName": n(j), "contents": ["extra", "extra"]}]}));
                    let found = shim.call_ok("search_nodes", json!({"query": n(j)}));
                    assert!(names(&found).contains(&n(j)));
                }
                // Delete the odd ones: their relations go with them.
                let odd: Vec<String> = (0..10).filter(|j| j % 2 == 1).map(n).collect();
                shim.call_ok("delete_entities", json!({"entityNames": odd}));
                shim.call_ok("delete_observations", json!({"deletions": [{"entityName": n(0), "observations": ["extra"]}]}));
            });
        }
    });
    let mut shim = env.shim();
    let graph = shim.call_ok("read_graph", json!({}));
    let mut actual: BTreeMap<String, Value> = BTreeMap::new();
    for e in graph["entities"].as_array().expect("entities") {
        actual.insert(
            e["name"].as_str().expect("name").to_owned(),
            e["observations"].clone(),
        );
    }
    let mut expected = BTreeMap::new();
    for i in 0..4 {
        for j in (0..10).step_by(2) {
            let name = format!("w{i}-{j}");
            let observations = if j == 0 {
                json!([format!("about {name}")])
            } else {
                json!([format!("about {name}"), "extra"])
            };
            expected.insert(name, observations);
        }
    }
    assert_eq!(actual, expected);
    assert_eq!(
        graph["relations"],
        json!([]),
        "every relation touched an odd entity"
    );
}

/// How long the write storm may take to reach each of its marks.
#[cfg(unix)]
const STORM_LIMIT: Duration = Duration::from_secs(30);

#[test]
#[cfg(unix)]
fn kill_9_during_a_write_storm_loses_and_doubles_nothing() {
    let env = TestEnv::new();
    let mut probe = env.shim();
    probe.call_ok("read_graph", json!({}));
    let first_daemon = env.daemon_pid().expect("a daemon runs");
    // Acknowledged writes of all writers, so the kill lands mid-storm and the
    // storm goes on until writes are acknowledged by the next daemon.
    let acks = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let acked: Vec<Vec<String>> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|i| {
                let (env, acks, stop) = (&env, &acks, &stop);
                s.spawn(move || {
                    let mut shim = env.shim();
                    let mut acked = Vec::new();
                    // A bound in case the test fails before it says stop.
                    let started = Instant::now();
                    let mut j = 0;
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < STORM_LIMIT {
                        let name = format!("k{i}-{j}");
                        j += 1;
                        let result =
                            shim.call("create_entities", json!({"entities": [entity(&name)]}));
                        if result["isError"] == json!(true) {
                            continue; // Not acknowledged: it may or may not be there.
                        }
                        let created = &result["structuredContent"];
                        // A write applied twice would come back as skipped.
                        assert_eq!(names(created), vec![name.clone()], "{result:#}");
                        assert!(created.get("skipped").is_none(), "{result:#}");
                        acked.push(name);
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                    acked
                })
            })
            .collect();
        let storm = || acks.load(Ordering::Relaxed);
        wait_until("writes before the kill", STORM_LIMIT, || storm() >= 20);
        // SAFETY: kill has no memory preconditions.
        unsafe { libc::kill(first_daemon as i32, libc::SIGKILL) };
        let at_kill = storm();
        wait_until("writes after the kill", STORM_LIMIT, || {
            storm() >= at_kill + 20
        });
        stop.store(true, Ordering::Relaxed);
        writers
            .into_iter()
            .map(|h| h.join().expect("writer"))
            .collect()
    });
    let second_daemon = env.daemon_pid().expect("the shims started a new daemon");
    assert_ne!(first_daemon, second_daemon);
    let stored: Vec<String> = probe
        .all_entities("read_graph", json!({}))
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect();
    let total: usize = acked.iter().map(Vec::len).sum();
    assert!(total > 20, "the storm wrote little: {total}");
    for name in acked.iter().flatten() {
        assert!(
            stored.contains(name),
            "acknowledged write {name} is missing"
        );
    }
    let mut unique = stored.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), stored.len());
    // The search index holds every acknowledged write too, those the killed
    // daemon had queued for it and not yet indexed included.
    let found: Vec<String> = probe
        .all_entities("search_nodes", json!({"query": "about k"}))
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect();
    for name in acked.iter().flatten() {
        assert!(
            found.contains(name),
            "acknowledged write {name} is not found by search_nodes"
        );
    }
    let integrity: String = env
        .open_db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
}

#[test]
fn a_subscribed_session_hears_of_another_sessions_write() {
    let env = TestEnv::new();
    let mut listener = env.shim();
    listener.request(
        "resources/subscribe",
        json!({"uri": "memory://knowledge-graph"}),
    );
    let mut writer = env.shim();
    writer.call_ok("create_entities", json!({"entities": [entity("news")]}));
    let notice =
        listener.wait_for_notification("notifications/resources/updated", Duration::from_secs(10));
    assert_eq!(notice["params"]["uri"], "memory://knowledge-graph");
    // The writer did not subscribe, so it heard nothing.
    assert!(
        writer.notifications.is_empty(),
        "{:?}",
        writer.notifications
    );
    // After unsubscribing, no more notices.
    listener.request(
        "resources/unsubscribe",
        json!({"uri": "memory://knowledge-graph"}),
    );
    writer.call_ok("create_entities", json!({"entities": [entity("later")]}));
    listener.request("ping", json!({}));
    assert!(
        listener.notifications.is_empty(),
        "{:?}",
        listener.notifications
    );
}

#[test]
fn stdin_eof_ends_the_shim_within_a_second_and_the_daemon_serves_on() {
    let env = TestEnv::new();
    let mut staying = env.shim();
    staying.call_ok("create_entities", json!({"entities": [entity("before")]}));
    let mut leaving = env.shim();
    leaving.call_ok("read_graph", json!({}));
    let closed = Instant::now();
    leaving.close_stdin();
    let status = leaving
        .wait_exit(Duration::from_secs(5))
        .expect("the shim exits");
    assert!(status.success(), "{status:?}");
    assert!(
        closed.elapsed() < Duration::from_secs(1),
        "took {:?}",
        closed.elapsed()
    );
    staying.call_ok("create_entities", json!({"entities": [entity("after")]}));
    let graph = staying.call_ok("read_graph", json!({}));
    assert_eq!(names(&graph), vec!["before", "after"]);
}

#[test]
fn status_and_stop_never_start_a_daemon() {
    let env = TestEnv::new();
    let status = env.memgraphd(&["status"]).output().expect("status");
    assert!(!status.status.success());
    assert!(String::from_utf8_lossy(&status.stdout).contains("not running"));
    let stop = env.memgraphd(&["stop"]).output().expect("stop");
    assert!(stop.status.success());
    assert!(env.daemon_pid().is_none());
    let mut shim = env.shim();
    shim.call_ok("create_entities", json!({"entities": [entity("x")]}));
    let status = env.memgraphd(&["status"]).output().expect("status");
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(status.status.success(), "{text}");
    for field in [
        "pid",
        "uptime",
        "database",
        "WAL",
        "entities:     1",
        "observations: 1",
        "sessions:     1",
        "queue depth",
    ] {
        assert!(text.contains(field), "status lacks {field:?}:\n{text}");
    }
    let stop = env.memgraphd(&["stop"]).output().expect("stop");
    assert!(stop.status.success());
    wait_until("the socket to go", Duration::from_secs(5), || {
        !env.socket_path().exists()
    });
}

#[test]
fn a_hello_with_an_older_protocol_is_refused_with_a_clear_message() {
    use memgraphd::protocol::{self, ClientFrame, Hello, ServerFrame};
    let env = TestEnv::new();
    let mut shim = env.shim();
    shim.call_ok("read_graph", json!({}));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let answer = runtime.block_on(async {
        let mut stream = memgraphd::instance::socket::connect(&env.socket_path())
            .await
            .expect("connecting");
        let hello = ClientFrame::Hello(Hello {
            protocol: 0,
            version: "0.0.1".into(),
            pid: std::process::id(),
            cwd: String::new(),
            client: "test".into(),
        });
        protocol::write_msg(&mut stream, &hello)
            .await
            .expect("hello");
        protocol::read_msg::<ServerFrame, _>(&mut stream)
            .await
            .expect("answer")
    });
    match answer {
        Some(ServerFrame::Refused(refused)) => {
            assert_eq!(refused.protocol, protocol::PROTOCOL_VERSION);
            assert!(refused.reason.contains("protocol"), "{}", refused.reason);
            assert!(refused.reason.contains('0'), "{}", refused.reason);
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    // The daemon carries on.
    shim.call_ok("read_graph", json!({}));
}

#[test]
#[cfg(unix)]
fn sigterm_stops_the_daemon_cleanly_and_sessions_carry_on() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    shim.call_ok("create_entities", json!({"entities": [entity("kept")]}));
    let pid = env.daemon_pid().expect("a daemon runs");
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let lock = env.db_path().with_extension("db.lock");
    wait_until(
        "the daemon to release its lock",
        Duration::from_secs(10),
        || !memgraphd::instance::lock::InstanceLock::is_held(&lock),
    );
    assert!(
        !env.socket_path().exists(),
        "the socket is removed on shutdown"
    );
    let mut wal = env.db_path().into_os_string();
    wal.push("-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL is checkpointed on shutdown");
    // The session does not notice: its next call starts a new daemon.
    let graph = shim.call_ok("open_nodes", json!({"names": ["kept"]}));
    assert_eq!(names(&graph), vec!["kept"]);
    assert_ne!(env.daemon_pid(), Some(pid));
}

#[test]
fn idle_timeout_ends_a_daemon_without_sessions() {
    let env = TestEnv::new();
    let mut daemon = env
        .memgraphd(&["serve", "--idle-timeout", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawning serve");
    wait_until("the daemon to listen", Duration::from_secs(10), || {
        env.socket_path().exists()
    });
    let mut shim = env.shim();
    shim.call_ok("read_graph", json!({}));
    drop(shim);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = daemon.try_wait().expect("polling serve") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the idle daemon did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(!env.socket_path().exists());
}

#[test]
fn a_second_serve_exits_quietly_while_one_runs() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    shim.call_ok("read_graph", json!({}));
    let second = env.memgraphd(&["serve"]).output().expect("second serve");
    assert!(second.status.success(), "{second:?}");
    shim.call_ok("read_graph", json!({}));
}

#[test]
fn a_database_from_a_newer_build_fails_calls_clearly_and_stays_untouched() {
    let env = TestEnv::new();
    {
        let conn = rusqlite::Connection::open(env.db_path()).expect("creating a database");
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 999;")
            .expect("writing it");
    }
    let before = std::fs::read(env.db_path()).expect("reading the database");
    let mut shim = env.shim();
    let started = Instant::now();
    let result = shim.call("read_graph", json!({}));
    assert_eq!(result["isError"], json!(true), "{result}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the failure took {:?}",
        started.elapsed()
    );
    let text = result["content"][0]["text"].as_str().expect("text");
    assert!(text.contains("failed to start"), "{text}");
    let log = std::fs::read_to_string(env.db_path().with_file_name("memgraphd.log")).expect("log");
    assert!(log.contains("newer than this build supports"), "{log}");
    assert_eq!(
        std::fs::read(env.db_path()).expect("reading"),
        before,
        "the file changed"
    );
}

/// A daemon older than the shim is asked to stop, and the shim starts its
/// own: upgrade in place. The "old daemon" here is a stand-in speaking the
/// same protocol with an older version number.
#[test]
fn an_older_daemon_is_asked_to_stop_and_replaced() {
    use interprocess::local_socket::traits::tokio::Listener as _;
    use memgraphd::instance::{lock::InstanceLock, socket};
    use memgraphd::protocol::{self, ClientFrame, Op, Reply, Response, ServerFrame, Welcome};

    let env = TestEnv::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let lock_path = env.db_path().with_extension("db.lock");
    let socket_path = env.socket_path();
    let (asked_to_stop, stopped) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let lock = InstanceLock::acquire(&lock_path).expect("the old daemon's lock");
        let listener = socket::bind(&socket_path).expect("the old daemon's socket");
        loop {
            let Ok(stream) = listener.accept().await else {
                continue;
            };
            let (mut reader, mut writer) = tokio::io::split(stream);
            let Ok(Some(ClientFrame::Hello(_))) = protocol::read_msg(&mut reader).await else {
                continue;
            };
            let welcome = ServerFrame::Welcome(Welcome {
                protocol: protocol::PROTOCOL_VERSION,
                version: "0.0.1".into(),
                pid: std::process::id(),
                db_path: String::new(),
            });
            protocol::write_msg(&mut writer, &welcome)
                .await
                .expect("welcome");
            if let Ok(Some(ClientFrame::Request(request))) = protocol::read_msg(&mut reader).await {
                if matches!(request.op, Op::Shutdown) {
                    let reply = ServerFrame::Response(Response {
                        id: request.id,
                        result: Ok(Reply::ShuttingDown),
                    });
                    let _ = protocol::write_msg(&mut writer, &reply).await;
                    drop(listener);
                    drop(lock);
                    let _ = asked_to_stop.send(());
                    return;
                }
            }
        }
    });
    wait_until("the old daemon to listen", Duration::from_secs(10), || {
        env.socket_path().exists()
    });
    let mut shim = env.shim();
    shim.call_ok("create_entities", json!({"entities": [entity("upgraded")]}));
    stopped
        .recv_timeout(Duration::from_secs(10))
        .expect("the old daemon was asked to stop");
    let status = env.memgraphd(&["status"]).output().expect("status");
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "memgraphd {} is running",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
}

/// A daemon that speaks an older protocol cannot read a `Shutdown`; the
/// shim stops it with SIGTERM (to the pid its refusal names) and starts its
/// own. The "old daemon" is a stand-in: a process that only waits to be
/// signalled, and a listener that answers for it (`support::OldDaemon`).
#[test]
#[cfg(unix)]
fn a_daemon_of_an_older_protocol_is_terminated_and_replaced() {
    let env = TestEnv::new();
    let old = crate::support::OldDaemon::start(&env, 0, "0.0.1");
    let mut shim = env.shim();
    shim.call_ok("create_entities", json!({"entities": [entity("replaced")]}));
    let status = old.wait();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(libc::SIGTERM),
        "the old daemon got SIGTERM"
    );
    let graph = shim.call_ok("open_nodes", json!({"names": ["replaced"]}));
    assert_eq!(names(&graph), vec!["replaced"]);
}
