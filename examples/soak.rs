//! A soak run: mixed load from several sessions on one daemon for a long
//! while, printing the daemon's memory and the latency of each minute. Both
//! should stay flat.
//!
//! ```sh
//! cargo build --release && cargo run --release --example soak            # 10 minutes
//! SOAK_MINUTES=1 cargo run --release --example soak                      # a quick look
//! ```

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

const SESSIONS: usize = 4;

fn main() -> Result<()> {
    let minutes: u64 = std::env::var("SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10);
    let home = common::Home::new("mgs")?;
    let mut first = home.session("s0")?;
    first.call_tool("read_graph", json!({}))?;
    let daemon = home.daemon_pid()?;
    drop(first);
    let stop = Arc::new(AtomicBool::new(false));
    let samples: Arc<Mutex<Vec<u64>>> = Arc::default();
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let workers: Vec<_> = (0..SESSIONS)
        .map(|w| {
            let (stop, samples, errors) = (stop.clone(), samples.clone(), errors.clone());
            let mut session = home.session(&format!("s{w}"))?;
            Ok(std::thread::spawn(move || {
                let mut i: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let name = format!("w{w}-{}", i % 5000);
                    let (tool, args) = match i % 6 {
                        0 => ("create_entities", json!({"entities": [{"name": name, "entityType": "soak", "observations": ["x"]}]})),
                        1 => ("add_observations", json!({"observations": [{"entityName": name, "contents": [format!("fact {i}")]}]})),
                        2 => ("search_nodes", json!({"query": format!("w{w}-{}", i % 50)})),
                        3 => ("open_nodes", json!({"names": [name]})),
                        4 => ("create_relations", json!({"relations": [{"from": name, "to": format!("w{w}-{}", (i + 1) % 5000), "relationType": "next"}]})),
                        _ => ("delete_entities", json!({"entityNames": [format!("w{w}-{}", (i + 2500) % 5000)]})),
                    };
                    let started = Instant::now();
                    match session.call_tool(tool, args) {
                        Ok(_) => {}
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    let micros = started.elapsed().as_micros() as u64;
                    if let Ok(mut s) = samples.lock() {
                        s.push(micros);
                    }
                }
            }))
        })
        .collect::<Result<_>>()?;
    println!("soak: {SESSIONS} sessions, mixed load, {minutes} min; daemon pid {daemon}");
    println!("minute  calls   p50 ms  p99 ms  daemon RSS MiB  errors");
    for minute in 1..=minutes {
        std::thread::sleep(Duration::from_secs(60));
        let mut minute_samples =
            std::mem::take(&mut *samples.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
        println!(
            "{minute:>6}  {:>6}  {:>6.2}  {:>6.2}  {:>14.1}  {}",
            minute_samples.len(),
            common::percentile(&mut minute_samples, 50.0) as f64 / 1000.0,
            common::percentile(&mut minute_samples, 99.0) as f64 / 1000.0,
            // 0 when it cannot be read (not Linux, or the daemon is gone).
            common::rss_kib(daemon).unwrap_or(0) as f64 / 1024.0,
            errors.load(Ordering::Relaxed),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}
