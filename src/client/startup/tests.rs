//! Every state start-up can meet, and what it does there.

use std::time::{Duration, Instant};

use super::*;

const OLDER: &str = "0.0.1";
const NEWER: &str = "99.0.0";
const OLD_PID: u32 = 4242;

fn probe(answer: Answer) -> Probe {
    Probe {
        answer,
        locked: false,
        spawned_exit: None,
    }
}

fn locked(mut probe: Probe) -> Probe {
    probe.locked = true;
    probe
}

fn exited(mut probe: Probe, success: bool) -> Probe {
    probe.spawned_exit = Some(Exit {
        success,
        status: if success {
            "exit status: 0"
        } else {
            "exit status: 1"
        }
        .into(),
    });
    probe
}

fn welcome(version: &str) -> Answer {
    Answer::Welcome {
        version: version.into(),
        pid: OLD_PID,
    }
}

fn refused(protocol: u32, version: &str) -> Answer {
    Answer::Refused {
        protocol,
        version: version.into(),
        pid: OLD_PID,
        reason: format!("this daemon speaks protocol {protocol}"),
    }
}

/// The moments a start-up can be at, relative to its beginning.
struct Clock {
    start: Instant,
}

impl Clock {
    fn at(&self, millis: u64) -> Instant {
        self.start + Duration::from_millis(millis)
    }
}

/// A start-up that may spawn, begun at the clock's start, having done what
/// `adjust` says.
fn attempt(clock: &Clock, adjust: impl FnOnce(&mut Attempt)) -> Attempt {
    let mut attempt = Attempt::new(true, clock.start);
    adjust(&mut attempt);
    attempt
}

#[test]
fn every_state_has_its_step() {
    let clock = Clock {
        start: Instant::now(),
    };
    let fresh = attempt(&clock, |_| {});
    let admin = attempt(&clock, |a| a.may_spawn = false);
    let spawned = attempt(&clock, |a| a.spawned = Some(clock.at(0)));
    let asked = attempt(&clock, |a| a.asked_to_stop = Some(OLD_PID));
    let signalled = attempt(&clock, |a| a.terminated = Some(OLD_PID));
    let early = clock.at(100);
    let later = clock.at(2_000);
    let too_late = clock.at(START_WAIT.as_millis() as u64 + 1);

    #[rustfmt::skip]
    let cases: Vec<(&str, Probe, &Attempt, Instant, Step)> = vec![
        // No daemon: nothing at the socket, nobody holds the lock.
        ("no daemon: spawn one", probe(Answer::NoSocket), &fresh, early, Step::Spawn),
        ("no daemon, admin command: not running", probe(Answer::NoSocket), &admin, early, Step::Fail(Failure::NotRunning)),
        ("no daemon, ours just spawned: wait for it", probe(Answer::NoSocket), &spawned, early, Step::Wait),
        ("no daemon, ours spawned a while ago and silent: spawn again", probe(Answer::NoSocket), &spawned, later, Step::Spawn),
        ("no daemon, ours exited at once without error: no spawn storm", exited(probe(Answer::NoSocket), true), &spawned, early, Step::Wait),
        ("no daemon, ours exited a while ago without error: spawn again", exited(probe(Answer::NoSocket), true), &spawned, later, Step::Spawn),
        ("no daemon, ours exited with an error: it failed to start", exited(probe(Answer::NoSocket), false), &spawned, early, Step::Fail(Failure::StartFailed { status: "exit status: 1".into() })),
        ("no daemon by the deadline: time out", probe(Answer::NoSocket), &spawned, too_late, Step::Fail(Failure::StartTimeout)),

        // A stale socket: a file nobody listens on, and a free lock.
        ("stale socket: spawn (the daemon replaces the file)", probe(Answer::ConnectRefused), &fresh, early, Step::Spawn),
        ("stale socket, admin command: not running", probe(Answer::ConnectRefused), &admin, early, Step::Fail(Failure::NotRunning)),

        // A daemon starting: the lock is held, nothing answers yet.
        ("starting, no socket yet: wait", locked(probe(Answer::NoSocket)), &fresh, early, Step::Wait),
        ("starting, old socket file still there: wait", locked(probe(Answer::ConnectRefused)), &fresh, early, Step::Wait),
        ("starting, ours exited with an error but another holds the lock: wait", locked(exited(probe(Answer::NoSocket), false)), &spawned, early, Step::Wait),
        ("starting and never ready: time out", locked(probe(Answer::NoSocket)), &fresh, too_late, Step::Fail(Failure::StartTimeout)),
        ("starting, admin command: not running", locked(probe(Answer::NoSocket)), &admin, early, Step::Fail(Failure::NotRunning)),

        // A daemon of our version or a newer one of our protocol: use it.
        ("same version: use it", locked(probe(welcome(env!("CARGO_PKG_VERSION")))), &fresh, early, Step::Use),
        ("newer version, same protocol: use it", locked(probe(welcome(NEWER))), &fresh, early, Step::Use),
        ("a daemon, admin command: use it", locked(probe(welcome(env!("CARGO_PKG_VERSION")))), &admin, early, Step::Use),

        // An older daemon of our protocol: ask it to stop, once.
        ("older version: ask it to stop", locked(probe(welcome(OLDER))), &fresh, early, Step::AskToStop { pid: OLD_PID }),
        ("older version, already asked: wait for it to go", locked(probe(welcome(OLDER))), &asked, early, Step::Wait),
        ("older version that stays: give up", locked(probe(welcome(OLDER))), &asked, too_late, Step::Fail(Failure::OldDaemonStays { version: OLDER.into(), pid: OLD_PID })),
        ("older version gone: spawn", probe(Answer::NoSocket), &asked, early, Step::Spawn),

        // A daemon of another protocol refuses our hello.
        ("older protocol: signal it", locked(probe(refused(PROTOCOL_VERSION - 1, OLDER))), &fresh, early, Step::Terminate { pid: OLD_PID }),
        ("older protocol, already signalled: never twice", locked(probe(refused(PROTOCOL_VERSION - 1, OLDER))), &signalled, early, Step::Wait),
        ("older protocol that stays: give up", locked(probe(refused(PROTOCOL_VERSION - 1, OLDER))), &signalled, too_late, Step::Fail(Failure::OldDaemonStays { version: OLDER.into(), pid: OLD_PID })),
        ("older protocol of this very version: signal it too", locked(probe(refused(PROTOCOL_VERSION - 1, env!("CARGO_PKG_VERSION")))), &fresh, early, Step::Terminate { pid: OLD_PID }),
        ("newer protocol: upgrade this binary", locked(probe(refused(PROTOCOL_VERSION + 1, NEWER))), &fresh, early, Step::Fail(Failure::DaemonNewer { version: NEWER.into(), protocol: PROTOCOL_VERSION + 1 })),
        ("refused by a newer version of no newer protocol: say why", locked(probe(refused(PROTOCOL_VERSION, NEWER))), &fresh, early, Step::Fail(Failure::Refused(format!("this daemon speaks protocol {PROTOCOL_VERSION}")))),

        // A daemon of another user: never talk to it, never replace it.
        ("another user's daemon: refuse", locked(probe(Answer::OtherUser(1234))), &fresh, early, Step::Fail(Failure::OtherUser(1234))),
        ("another user's process, lock free: still refuse", probe(Answer::OtherUser(1234)), &fresh, early, Step::Fail(Failure::OtherUser(1234))),

        // A connect refused for good (permissions, not a socket): say why.
        ("unreachable socket: fail at once", probe(Answer::Unreachable("Permission denied".into())), &fresh, early, Step::Fail(Failure::Unreachable("Permission denied".into()))),

        // A connection dropped before the greeting: a daemon going away.
        ("dropped, lock held: wait", locked(probe(Answer::Dropped)), &fresh, early, Step::Wait),
        ("dropped, lock free: spawn", probe(Answer::Dropped), &fresh, early, Step::Spawn),

        // A timeout: connected, but no greeting in time.
        ("no greeting yet: look again", locked(probe(Answer::TimedOut)), &fresh, early, Step::Wait),
        ("no greeting by the deadline: a hung daemon", locked(probe(Answer::TimedOut)), &fresh, too_late, Step::Fail(Failure::NoAnswer)),
        ("no greeting, admin command: look again, then say it hangs", locked(probe(Answer::TimedOut)), &admin, too_late, Step::Fail(Failure::NoAnswer)),
    ];

    let mut wrong = Vec::new();
    for (state, probe, attempt, now, expected) in cases {
        let step = next_step(&probe, attempt, now);
        if step != expected {
            wrong.push(format!("{state}: expected {expected:?}, got {step:?}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn asking_an_old_daemon_to_stop_gives_it_a_fresh_wait() {
    // The steps that send an old daemon away also move the deadline on, so
    // the time it takes to go is not counted against the start-up; shown
    // here by the attempt `establish` builds after asking.
    let start = Instant::now();
    let mut attempt = Attempt::new(true, start);
    let asked_at = start + Duration::from_secs(4);
    attempt.asked_to_stop = Some(OLD_PID);
    attempt.deadline = asked_at + START_WAIT;
    let still_there = Probe {
        answer: welcome(OLDER),
        locked: true,
        spawned_exit: None,
    };
    let past_the_first_deadline = start + START_WAIT + Duration::from_secs(1);
    assert_eq!(
        next_step(&still_there, &attempt, past_the_first_deadline),
        Step::Wait
    );
}

#[test]
fn connect_errors_sort_into_waiting_and_failing() {
    use std::io::{Error, ErrorKind};
    let cases = [
        (ErrorKind::NotFound, Answer::NoSocket),
        (ErrorKind::ConnectionRefused, Answer::ConnectRefused),
        (ErrorKind::WouldBlock, Answer::Dropped),
        (ErrorKind::ConnectionReset, Answer::Dropped),
        (
            ErrorKind::PermissionDenied,
            Answer::Unreachable("no way in".into()),
        ),
    ];
    for (kind, expected) in cases {
        assert_eq!(
            connect_failure(&Error::new(kind, "no way in")),
            expected,
            "{kind:?}"
        );
    }
}
