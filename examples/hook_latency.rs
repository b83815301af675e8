//! How long the Claude Code hooks take with the daemon running, process
//! start included, as Claude Code runs them: `memgraphd hook session-start`
//! and `memgraphd hook prompt` with a hook input on stdin, on memories of
//! growing size. The target is 100 ms.
//!
//! ```sh
//! cargo build --release && cargo run --release --example hook_latency
//! ```

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

const RUNS: usize = 30;
const SIZES: &[usize] = &[100, 1_000, 10_000];

fn run_hook(home: &common::Home, event: &str, input: &Value) -> Result<(Duration, usize)> {
    let start = Instant::now();
    let mut child = home
        .command(&["hook", event])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("spawning the hook")?;
    child
        .stdin
        .take()
        .context("piped stdin")?
        .write_all(input.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    let took = start.elapsed();
    ensure!(out.status.success(), "the hook failed");
    Ok((took, out.stdout.len()))
}

fn main() -> Result<()> {
    let home = common::Home::new("mgh")?;
    let mut session = home.quiet_session("writer")?;
    let start_input = json!({"session_id": "s", "cwd": "/home/dev/src/widgets",
        "hook_event_name": "SessionStart", "source": "startup"});
    let prompt_input = json!({"session_id": "s", "cwd": "/home/dev/src/widgets",
        "hook_event_name": "UserPromptSubmit",
        "prompt": "The billing service fails its deploy again; how do we roll back the helm release?"});
    println!("memgraphd {}, {RUNS} runs per figure", home.version());
    let mut have = 0;
    for &size in SIZES {
        while have < size {
            let batch: Vec<Value> = (have..size.min(have + 1_000))
                .map(|i| {
                    let topic = ["widgets", "billing", "helm", "deploy", "lyon"][i % 5];
                    json!({"name": format!("entity {i}"), "entityType": "note",
                        "observations": [format!("about {topic}, fact number {i}"),
                                         "a second, longer observation that says a little more"]})
                })
                .collect();
            have += batch.len();
            session.call_tool("create_entities", json!({"entities": batch}))?;
        }
        for (event, input) in [("session-start", &start_input), ("prompt", &prompt_input)] {
            let mut samples = Vec::with_capacity(RUNS);
            let mut printed = 0;
            for _ in 0..RUNS {
                let (took, bytes) = run_hook(&home, event, input)?;
                samples.push(took);
                printed = bytes;
            }
            let p50 = common::percentile(&mut samples, 50.0);
            let p99 = common::percentile(&mut samples, 99.0);
            println!(
                "{size:>6} entities  hook {event:<13}  p50 {:>6.1} ms  p99 {:>6.1} ms  ({printed} bytes out)",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
    }
    session.close()
}
