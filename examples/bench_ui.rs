//! How fast the web view answers on a large memory: 100,000 entities with 5
//! observations each, a chain of relations through them and one hub with
//! 2,000 relations, loaded with `memgraphd import`; then, over HTTP as the
//! page asks, with a logged-in session:
//! 1. search as you type (`/api/search`), p50 and p99 over 200 queries of
//!    one or two words;
//! 2. an entity's page (`/api/entity`: observations with their origins,
//!    relations, history), for ordinary entities and for the hub;
//! 3. the graph at depth 1 and 2 (`/api/neighbors`), for both;
//! 4. the first page of recent changes (`/api/changes`).
//!
//! Figures are printed, not asserted. Run it against a release build:
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench_ui
//! ```

mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use common::{percentile, Home};

const ENTITIES: usize = 100_000;
const OBSERVATIONS: usize = 5;
const HUB_LINKS_EVERY: usize = 50;
const SEARCHES: usize = 200;
const PAGES: usize = 50;

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_ui failed: {e:#}");
        std::process::exit(1);
    }
}

/// Deterministic words, so every run loads the same memory.
fn word(n: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ren", "tas", "vo", "qui", "dor", "sel", "an", "bri", "fen", "gu", "hol",
        "ix", "jun",
    ];
    let mut n = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    let mut text = String::new();
    for _ in 0..3 {
        text.push_str(SYLLABLES[(n % 16) as usize]);
        n /= 16;
    }
    text
}

fn memory_file(path: &std::path::Path) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "{}",
        json!({"type": "entity", "name": "Hub", "entityType": "hub", "observations": ["the centre"]})
    )?;
    for i in 0..ENTITIES {
        let observations: Vec<String> = (0..OBSERVATIONS)
            .map(|j| {
                let k = (i * OBSERVATIONS + j) as u64;
                format!("{} {} {} note {i}.{j}", word(k), word(k / 7), word(k % 997))
            })
            .collect();
        writeln!(
            out,
            "{}",
            json!({"type": "entity", "name": format!("entity {i}"), "entityType": "thing", "observations": observations})
        )?;
    }
    for i in 1..ENTITIES {
        writeln!(
            out,
            "{}",
            json!({"type": "relation", "from": format!("entity {}", i - 1), "to": format!("entity {i}"), "relationType": "next"})
        )?;
        if i % HUB_LINKS_EVERY == 0 {
            writeln!(
                out,
                "{}",
                json!({"type": "relation", "from": format!("entity {i}"), "to": "Hub", "relationType": "links"})
            )?;
        }
    }
    Ok(())
}

struct View {
    agent: ureq::Agent,
    base: String,
    cookie: String,
}

impl View {
    fn open(home: &Home) -> Result<View> {
        let out = home.output(&["ui", "--no-open"])?;
        if !out.status.success() {
            bail!("memgraphd ui failed: {out:?}");
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let (base, token) = url.split_once("/#token=").context("no token in the URL")?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let response = agent
            .post(format!("{base}/api/login"))
            .header("Origin", base)
            .header("Content-Type", "application/json")
            .send(json!({ "token": token }).to_string())?;
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("no session cookie")?
            .to_owned();
        Ok(View {
            agent,
            base: base.to_owned(),
            cookie,
        })
    }

    /// One GET; how long it took and the JSON it answered.
    fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<(Duration, Value)> {
        let mut request = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie);
        for (key, value) in query {
            request = request.query(*key, *value);
        }
        let started = Instant::now();
        let mut response = request.call()?;
        let body = response.body_mut().read_to_string()?;
        let took = started.elapsed();
        if response.status().as_u16() != 200 {
            bail!("{path} answered {}: {body}", response.status());
        }
        Ok((took, serde_json::from_str(&body)?))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn report(what: &str, samples: &mut [Duration]) {
    println!(
        "{what:<44} p50 {:>9}  p99 {:>9}",
        ms(percentile(samples, 50.0)),
        ms(percentile(samples, 99.0))
    );
}

fn run() -> Result<()> {
    let home = Home::new("mgui")?;
    let file = home.dir.path().join("memory.jsonl");
    memory_file(&file)?;
    let started = Instant::now();
    let out = home.output(&["import", file.to_str().context("a UTF-8 path")?])?;
    if !out.status.success() {
        bail!("import failed: {out:?}");
    }
    println!(
        "{}: imported {ENTITIES} entities, {} observations in {:.1} s",
        home.version(),
        ENTITIES * OBSERVATIONS,
        started.elapsed().as_secs_f64()
    );
    let view = View::open(&home)?;

    let mut searches = Vec::new();
    for i in 0..SEARCHES as u64 {
        let k = i * 7919 % (ENTITIES * OBSERVATIONS) as u64;
        let query = if i % 2 == 0 {
            word(k)
        } else {
            format!("{} {}", word(k), word(k / 7))
        };
        let (took, answer) = view.get("/api/search", &[("q", &query)])?;
        if answer["results"].as_array().is_none_or(Vec::is_empty) {
            bail!("no hit for {query:?}");
        }
        searches.push(took);
    }
    report("search as you type (20 hits)", &mut searches);

    let mut pages = Vec::new();
    let mut graphs = [Vec::new(), Vec::new()];
    for i in 0..PAGES {
        let name = format!("entity {}", i * 1_999 % ENTITIES);
        pages.push(view.get("/api/entity", &[("name", &name)])?.0);
        for (depth, samples) in graphs.iter_mut().enumerate() {
            let depth = (depth + 1).to_string();
            samples.push(
                view.get("/api/neighbors", &[("name", &name), ("depth", &depth)])?
                    .0,
            );
        }
    }
    report("an entity's page", &mut pages);
    report("its graph, depth 1", &mut graphs[0]);
    report("its graph, depth 2", &mut graphs[1]);

    let mut hub = Vec::new();
    let mut hub_graphs = [Vec::new(), Vec::new()];
    for _ in 0..10 {
        hub.push(view.get("/api/entity", &[("name", "Hub")])?.0);
        for (depth, samples) in hub_graphs.iter_mut().enumerate() {
            let depth = (depth + 1).to_string();
            let (took, graph) =
                view.get("/api/neighbors", &[("name", "Hub"), ("depth", &depth)])?;
            if graph["edges"].as_array().map_or(0, Vec::len) > 150 {
                bail!("the hub's graph is not bounded");
            }
            samples.push(took);
        }
    }
    let relations = ENTITIES / HUB_LINKS_EVERY;
    report(&format!("the hub's page ({relations} relations)"), &mut hub);
    report("the hub's graph, depth 1 (150 drawn)", &mut hub_graphs[0]);
    report("the hub's graph, depth 2 (150 drawn)", &mut hub_graphs[1]);

    let mut changes = Vec::new();
    for _ in 0..PAGES {
        changes.push(view.get("/api/changes", &[])?.0);
    }
    report("recent changes (50)", &mut changes);
    home.stop_daemon()
}
