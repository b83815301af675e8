//! The measurements themselves, one function per workload; each checks
//! every answer it times and returns its figure with a detail line.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};

use crate::answers::{call, counts, created, shorten, text_len, tool_ok};
use crate::common::{percentile, Session};
use crate::dataset::{Dataset, Rng, BROAD_QUERY};
use crate::procfs;
use crate::report::{bytes, duration, mib, thousands};
use crate::servers::Server;
use crate::workloads::{start, CpuLine, CpuMark, Plan, ServerReport};

pub fn load(session: &mut Session, data: &Dataset, plan: &Plan) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    let mut done = 0;
    while done < data.entities {
        let end = (done + plan.batch).min(data.entities);
        let batch: Vec<Value> = (done..end).map(|i| data.entity(i)).collect();
        let (_, result) = call(session, "create_entities", json!({ "entities": batch }))
            .with_context(|| format!("creating entities {done}..{end}"))?;
        let made = created(&result, "entities")?;
        ensure!(
            made == end - done,
            "created {made} of entities {done}..{end}"
        );
        done = end;
        if started.elapsed() > plan.load_budget {
            bail!(
                "over the load budget of {}: {done} of {} entities in {}",
                duration(plan.load_budget),
                data.entities,
                duration(started.elapsed())
            );
        }
    }
    let entities = started.elapsed();
    let relations = data.relations();
    let started = Instant::now();
    for (k, chunk) in relations.chunks(plan.batch).enumerate() {
        let (_, result) = call(session, "create_relations", json!({ "relations": chunk }))
            .with_context(|| format!("creating relation batch {k}"))?;
        let made = created(&result, "relations")?;
        ensure!(made == chunk.len(), "created {made} of relation batch {k}");
    }
    Ok((entities, started.elapsed()))
}

fn median_of(
    session: &mut Session,
    plan: &Plan,
    tool: &str,
    args: &Value,
) -> Result<(Duration, Value)> {
    let mut times = Vec::with_capacity(plan.reads);
    let mut last = Value::Null;
    let loop_start = Instant::now();
    for _ in 0..plan.reads.max(1) {
        let (time, result) = call(session, tool, args.clone())?;
        times.push(time);
        last = result;
        if loop_start.elapsed() > plan.budget {
            break;
        }
    }
    Ok((percentile(&mut times, 50.0), last))
}

pub fn read_graph(
    session: &mut Session,
    data: &Dataset,
    plan: &Plan,
) -> Result<(Duration, String)> {
    let (time, result) = median_of(session, plan, "read_graph", &json!({}))?;
    let (entities, relations) = counts(&result)?;
    ensure!(
        entities == data.entities && relations == data.relations,
        "read_graph returned {entities} entities and {relations} relations, expected {} and {}",
        data.entities,
        data.relations
    );
    Ok((time, format!("text of {}", bytes(text_len(&result) as u64))))
}

pub fn broad_search(
    session: &mut Session,
    data: &Dataset,
    plan: &Plan,
) -> Result<(Duration, usize, String)> {
    let (time, result) = median_of(
        session,
        plan,
        "search_nodes",
        &json!({"query": BROAD_QUERY}),
    )?;
    let (hits, relations) = counts(&result)?;
    let expected = data.broad_hits();
    ensure!(hits == expected, "{hits} hits, expected {expected}");
    let detail = format!(
        "{} hits, {} relations, text of {}",
        thousands(hits as u64),
        thousands(relations as u64),
        bytes(text_len(&result) as u64)
    );
    Ok((time, hits, detail))
}

/// Makes each of `calls` (within the budget), checking each answer with
/// `check(arguments, result)`; the p50, and the count and p99 as detail.
fn p50_of(
    session: &mut Session,
    plan: &Plan,
    tool: &str,
    calls: &[Value],
    check: impl Fn(&Value, &Value) -> Result<()>,
) -> Result<(Duration, String)> {
    let mut times = Vec::with_capacity(calls.len());
    let loop_start = Instant::now();
    for args in calls {
        let (time, result) = call(session, tool, args.clone())?;
        check(args, &result).with_context(|| format!("{tool} {args}"))?;
        times.push(time);
        if loop_start.elapsed() > plan.budget {
            break;
        }
    }
    let n = times.len();
    let p99 = percentile(&mut times, 99.0);
    let p50 = percentile(&mut times, 50.0);
    Ok((p50, format!("n={n}, p99 {}", duration(p99))))
}

pub fn open_nodes(
    session: &mut Session,
    data: &Dataset,
    plan: &Plan,
) -> Result<(Duration, String)> {
    let mut rng = Rng::new(data.seed ^ 0x6f70_656e);
    let calls: Vec<Value> = (0..plan.samples.max(1))
        .map(|_| {
            let names: Vec<String> = (0..10)
                .map(|_| data.name(rng.below(data.entities)))
                .collect();
            json!({ "names": names })
        })
        .collect();
    p50_of(session, plan, "open_nodes", &calls, |args, result| {
        let mut names: Vec<&str> = args["names"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        let (found, _) = counts(result)?;
        ensure!(
            found == names.len(),
            "found {found} of {} names",
            names.len()
        );
        Ok(())
    })
}

pub fn one_hit_search(
    session: &mut Session,
    data: &Dataset,
    plan: &Plan,
) -> Result<(Duration, String)> {
    let mut rng = Rng::new(data.seed ^ 0x6f6e_6568);
    let calls: Vec<Value> = (0..plan.samples.max(1))
        .map(|_| json!({ "query": data.unique_token(rng.below(data.entities)) }))
        .collect();
    p50_of(session, plan, "search_nodes", &calls, |_, result| {
        let (hits, _) = counts(result)?;
        ensure!(hits == 1, "a unique token found {hits} entities");
        Ok(())
    })
}

pub fn resident(server: &Server, session: &Session) -> Result<(u64, String)> {
    let mut total = 0;
    let mut parts = Vec::new();
    for (role, pid) in server.processes(session) {
        let (now, peak) =
            procfs::memory_kib(pid).with_context(|| format!("no /proc/{pid}/status"))?;
        total += now;
        parts.push(format!("{role} {} (peak {})", mib(now), mib(peak)));
    }
    Ok((total, parts.join(" + ")))
}

fn create_one(session: &mut Session, name: &str) -> Result<Value> {
    session.call_tool(
        "create_entities",
        json!({"entities": [{"name": name, "entityType": "bench", "observations": ["created one by one"]}]}),
    )
}

pub fn sequential_creates(
    session: &mut Session,
    prefix: &str,
    plan: &Plan,
) -> Result<(f64, String)> {
    let started = Instant::now();
    let mut done = 0usize;
    while done < plan.creates && started.elapsed() < plan.budget {
        let result = create_one(session, &format!("{prefix}-{done}"))?;
        tool_ok(&result).with_context(|| format!("create {done}"))?;
        let made = created(&result, "entities")?;
        ensure!(made == 1, "create {done} created {made} entities");
        done += 1;
    }
    let wall = session
        .last_reply_at()
        .unwrap_or_else(Instant::now)
        .saturating_duration_since(started);
    let note = if done < plan.creates {
        " (budget reached)"
    } else {
        ""
    };
    Ok((
        done as f64 / wall.as_secs_f64(),
        format!("{done} calls in {}{note}", duration(wall)),
    ))
}

pub fn normal_creates(
    server: &mut Server,
    plan: &Plan,
    report: &mut ServerReport,
) -> Result<(f64, String)> {
    let before = server.daemon_pid();
    server.restart_with_durability("normal")?;
    let mut session = start(server, "normal", plan)?;
    let after = server.daemon_pid();
    ensure!(
        after.is_some() && after != before,
        "no new daemon after the restart (pid before {before:?}, after {after:?})"
    );
    let mark = CpuMark::take(&server.processes(&session));
    let outcome = sequential_creates(&mut session, "seqn", plan);
    report.cpu.push(mark.line("single creates ×n, normal"));
    outcome
}

/// What the concurrent processes did.
pub struct Concurrent {
    pub tried: u64,
    pub acknowledged: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Acknowledged names a fresh session could not find.
    pub lost: Result<u64>,
    pub rate: f64,
    pub wall: Duration,
}

/// One worker's tally: acknowledged names, failed calls, the first failure.
type Tally = (Vec<String>, u64, Option<String>, Instant);

pub fn concurrent_creates(server: &Server, plan: &Plan) -> Result<(Concurrent, CpuLine)> {
    let mut sessions = Vec::with_capacity(plan.processes);
    for p in 0..plan.processes {
        sessions.push(start(server, &format!("process {p}"), plan)?);
    }
    let processes: Vec<(&'static str, u32)> = {
        let mut all: Vec<(&'static str, u32)> = Vec::new();
        for session in &sessions {
            for entry in server.processes(session) {
                if !all.contains(&entry) {
                    all.push(entry);
                }
            }
        }
        all
    };
    let barrier = Barrier::new(plan.processes + 1);
    let (tallies, mark, started) = std::thread::scope(|scope| {
        let handles: Vec<_> = sessions
            .iter_mut()
            .enumerate()
            .map(|(p, session)| {
                let barrier = &barrier;
                scope.spawn(move || -> Tally {
                    barrier.wait();
                    let started = Instant::now();
                    let (mut acked, mut errors, mut first) = (Vec::new(), 0, None);
                    for k in 0..plan.creates {
                        if started.elapsed() > plan.budget {
                            break;
                        }
                        let name = format!("conc-{p}-{k}");
                        match create_one(session, &name).map(|r| tool_ok(&r)) {
                            Ok(Ok(())) => acked.push(name),
                            Ok(Err(e)) => {
                                errors += 1;
                                first.get_or_insert_with(|| format!("{e:#}"));
                            }
                            Err(e) => {
                                // A dead or silent server: no later call of
                                // this process can succeed.
                                errors += 1;
                                first.get_or_insert_with(|| format!("{e:#}"));
                                break;
                            }
                        }
                    }
                    let end = session.last_reply_at().unwrap_or_else(Instant::now);
                    (acked, errors, first, end)
                })
            })
            .collect();
        let mark = CpuMark::take(&processes);
        barrier.wait();
        let started = Instant::now();
        let tallies: Vec<Tally> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (
                        Vec::new(),
                        1,
                        Some("a worker thread panicked".into()),
                        Instant::now(),
                    )
                })
            })
            .collect();
        (tallies, mark, started)
    });
    let cpu = mark.line("4 processes × creates");
    drop(sessions);

    let mut acked: Vec<String> = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    let mut end = started;
    for (names, failed, first, finished) in tallies {
        acked.extend(names);
        errors += failed;
        if first_error.is_none() {
            first_error = first.map(|e| shorten(&e, 200));
        }
        end = end.max(finished);
    }
    let wall = end.saturating_duration_since(started);
    let acknowledged = acked.len() as u64;
    let lost = read_back(server, &acked, plan);
    Ok((
        Concurrent {
            tried: acknowledged + errors,
            acknowledged,
            errors,
            first_error,
            lost,
            rate: acknowledged as f64 / wall.as_secs_f64(),
            wall,
        },
        cpu,
    ))
}

/// How many of the acknowledged names a fresh session cannot find.
fn read_back(server: &Server, names: &[String], plan: &Plan) -> Result<u64> {
    let mut session = start(server, "read back", plan)?;
    let mut found = 0;
    for chunk in names.chunks(100) {
        let (_, result) = call(&mut session, "open_nodes", json!({ "names": chunk }))?;
        found += counts(&result)?.0;
    }
    Ok((names.len() - found) as u64)
}
