//! How long the Claude Code hooks take with the daemon running, process
//! start included, as Claude Code runs them: `memgraphd hook session-start`
//! and `memgraphd hook prompt` with a hook input on stdin, on memories of
//! growing size. The target is 100 ms at p99 with 10,000 entities.
//!
//! ```sh
//! cargo build --release && cargo run --release --example hook_latency
//! cargo run --release --example hook_latency -- 10000   # stop at 10,000
//! ```
//!
//! The memory is written by two sessions, one from the hooks' project and
//! one from another, so session start has the project's changes to read
//! and the prompt's words find entities that bear on it. `memgraphd
//! --version` is timed too: what starting the process costs on its own.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

const RUNS: usize = 100;
const SIZES: &[usize] = &[100, 1_000, 10_000, 100_000];
const PROJECT: &str = "/home/dev/src/widgets";
const TOPICS: [&str; 5] = ["widgets", "billing", "helm", "deploy", "lyon"];

fn run_hook(home: &common::Home, args: &[&str], input: &str) -> Result<(Duration, usize)> {
    let start = Instant::now();
    let mut child = home
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("spawning the hook")?;
    child
        .stdin
        .take()
        .context("piped stdin")?
        .write_all(input.as_bytes())?;
    let out = child.wait_with_output()?;
    let took = start.elapsed();
    ensure!(out.status.success(), "the hook failed");
    Ok((took, out.stdout.len()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn measure(home: &common::Home, args: &[&str], input: &str) -> Result<(Duration, Duration, usize)> {
    let mut samples = Vec::with_capacity(RUNS);
    let mut printed = 0;
    for _ in 0..RUNS {
        let (took, bytes) = run_hook(home, args, input)?;
        samples.push(took);
        printed = bytes;
    }
    let p50 = common::percentile(&mut samples, 50.0);
    let p99 = common::percentile(&mut samples, 99.0);
    Ok((p50, p99, printed))
}

fn entity(i: usize) -> Value {
    let topic = TOPICS[i % 5];
    let other = TOPICS[(i / 5) % 5];
    json!({"name": format!("entity {i}"), "entityType": "note",
        "observations": [format!("about {topic} and {other}, fact number {i}"),
                         "a second, longer observation that says a little more"]})
}

fn main() -> Result<()> {
    let largest: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().context("the largest size, e.g. 10000")?,
        None => *SIZES.last().unwrap_or(&10_000),
    };
    let home = common::Home::new("mgh")?;
    let mut ours = common::Session::start(
        "project writer",
        {
            let mut cmd = home.command(&["mcp"]);
            cmd.env("MEMGRAPHD_PROJECT", PROJECT);
            cmd
        },
        Stdio::null(),
    )?;
    let mut theirs = common::Session::start(
        "other writer",
        {
            let mut cmd = home.command(&["mcp"]);
            cmd.env("MEMGRAPHD_PROJECT", "/home/dev/src/gadgets");
            cmd
        },
        Stdio::null(),
    )?;
    let start_input = json!({"session_id": "s", "cwd": PROJECT,
        "hook_event_name": "SessionStart", "source": "startup"})
    .to_string();
    let prompt_input = json!({"session_id": "s", "cwd": PROJECT,
        "hook_event_name": "UserPromptSubmit",
        "prompt": "The billing service fails its deploy again; how do we roll back the helm release?"})
    .to_string();
    println!("{}, {RUNS} runs per figure", home.version());
    let (p50, p99, _) = measure(&home, &["--version"], "")?;
    println!(
        "process start alone (memgraphd --version)  p50 {:>6.1} ms  p99 {:>6.1} ms",
        ms(p50),
        ms(p99)
    );
    let mut have = 0;
    for &size in SIZES.iter().filter(|&&s| s <= largest) {
        while have < size {
            let batch: Vec<Value> = (have..size.min(have + 1_000)).map(entity).collect();
            // One batch in five comes from the hooks' project.
            let writer = if (have / 1_000) % 5 == 0 {
                &mut ours
            } else {
                &mut theirs
            };
            have += batch.len();
            writer.call_tool("create_entities", json!({"entities": batch}))?;
        }
        for (event, input) in [("session-start", &start_input), ("prompt", &prompt_input)] {
            let (p50, p99, printed) = measure(&home, &["hook", event], input)?;
            println!(
                "{size:>7} entities  hook {event:<13}  p50 {:>6.1} ms  p99 {:>6.1} ms  ({printed} bytes out)",
                ms(p50),
                ms(p99)
            );
        }
    }
    theirs.close()?;
    ours.close()
}
