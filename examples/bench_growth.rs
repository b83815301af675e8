//! Whether bounded reads stay flat as a memory grows, end to end through a
//! real shim on a real daemon.
//!
//! One store grows through three sizes: 10,000, 20,000 and 200,000 entities
//! of 5 observations each (50,000, 100,000 and 1,000,000 observations). At
//! each size the daemon is restarted (so its memory shows what the reads
//! need, not what the load left behind), warmed with a few calls, and then
//! timed, p50 and p99, on:
//! - `open_nodes` of 10 names drawn from the whole store;
//! - a 1-hit `search_nodes` (a token only one entity carries);
//! - `search_memory` of 2 words taken from one entity's observation;
//! - a `read_graph` page (`limit: 100`) at the start, the middle and the end.
//!
//! After those reads it takes the daemon's `VmRSS`, `VmHWM`, `RssAnon` and
//! `RssFile` from `/proc/<pid>/status`: file pages of the memory-mapped
//! database count in `VmRSS`, so the anonymous part is shown beside it.
//!
//! It prints one table: each figure per size, its ratio to the smallest
//! size, and whether that ratio is within 1.5× (and resident memory under
//! 64 MiB). Figures are printed, not asserted. The load goes through
//! `create_entities` in batches of 1,000 on `--durability normal`, the
//! fastest path through the tools; the whole run takes a few minutes.
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench_growth
//! ```
//!
//! It measures the `memgraphd` built beside it; set `MEMGRAPHD_BIN` to
//! measure another.

mod common;

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use memgraphd::model::PageSource;
use memgraphd::shim::call::page_scope;
use memgraphd::shim::cursor::Tool;
use serde_json::{json, Value};

use common::{percentile, Home, Session};

/// The sizes the store grows through, in entities.
const SIZES: [usize; 3] = [10_000, 20_000, 200_000];
const OBSERVATIONS: usize = 5;
const BATCH: usize = 1_000;
const VOCABULARY: usize = 20_000;
const SEED: u64 = 0x6772_6f77;
/// Timed calls per read and size, after [`WARMUP`] untimed ones.
const SAMPLES: usize = 300;
const WARMUP: usize = 30;
/// Timed calls per `read_graph` position.
const PAGE_SAMPLES: usize = 100;
/// Where the pages start, as fractions of the store.
const PAGE_AT: [f64; 3] = [0.0, 0.5, 0.9995];
/// The targets: each read within this factor of its time at the smallest
/// size, and the daemon under this resident size.
const GROWTH_LIMIT: f64 = 1.5;
const RSS_LIMIT_KIB: u64 = 64 * 1024;

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_growth failed: {e:#}");
        std::process::exit(1);
    }
}

/// SplitMix64's finalizer: a bijection, so per-entity tokens never collide.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small seeded generator: repeatable picks, not statistical quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The loaded text. Everything about entity `i` comes from `(SEED, i)`, so
/// the reads can name any entity without keeping the store in memory.
struct Corpus {
    words: Vec<String>,
}

impl Corpus {
    /// Pronounceable made-up words, distinct, in a fixed order.
    fn new() -> Corpus {
        const ONSETS: &[&str] = &[
            "b", "k", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr",
            "pl",
        ];
        const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
        let mut rng = Rng(SEED);
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(VOCABULARY);
        while words.len() < VOCABULARY {
            let syllables = 2 + rng.below(3);
            let word: String = (0..syllables)
                .map(|_| {
                    let onset = ONSETS[rng.below(ONSETS.len())];
                    let vowel = VOWELS[rng.below(VOWELS.len())];
                    format!("{onset}{vowel}")
                })
                .collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        Corpus { words }
    }

    fn rng(i: usize) -> Rng {
        Rng(SEED ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// A word, most often one of the first few hundred (a Zipf-like skew,
    /// as in real notes: a few words are everywhere, most are rare).
    fn word(&self, rng: &mut Rng) -> &str {
        let i = (self.words.len() as f64 * rng.unit().powf(3.0)) as usize;
        &self.words[i.min(self.words.len() - 1)]
    }

    fn name(&self, i: usize) -> String {
        let mut rng = Self::rng(i);
        let first = &self.words[rng.below(self.words.len())];
        let second = &self.words[rng.below(self.words.len())];
        format!("{first} {second} {i}")
    }

    /// The token only entity `i` carries, in its first observation.
    fn unique_token(i: usize) -> String {
        format!("ref-{:016x}", mix(SEED.rotate_left(17) ^ i as u64))
    }

    fn observations(&self, i: usize) -> Vec<String> {
        let mut rng = Self::rng(i);
        // The name's two draws come first; skip them so the text differs.
        rng.next();
        rng.next();
        (0..OBSERVATIONS)
            .map(|k| {
                let n = 6 + rng.below(9);
                let mut text: Vec<&str> = (0..n).map(|_| self.word(&mut rng)).collect();
                text[0] = &self.words[rng.below(self.words.len())];
                let mut text = text.join(" ");
                if k == 0 {
                    text.push(' ');
                    text.push_str(&Self::unique_token(i));
                }
                text.push('.');
                text
            })
            .collect()
    }

    fn entity(&self, i: usize) -> Value {
        json!({
            "name": self.name(i),
            "entityType": format!("type{}", i % 20),
            "observations": self.observations(i),
        })
    }

    /// 2 words of one of entity `i`'s observations (not its unique token).
    fn query(&self, i: usize, rng: &mut Rng) -> String {
        let observations = self.observations(i);
        let text = &observations[rng.below(observations.len())];
        let own: Vec<&str> = text
            .trim_end_matches('.')
            .split(' ')
            .filter(|w| !w.starts_with("ref-"))
            .collect();
        let a = own[rng.below(own.len())];
        let b = own[rng.below(own.len())];
        format!("{a} {b}")
    }
}

fn load(session: &mut Session, corpus: &Corpus, from: usize, to: usize) -> Result<()> {
    for start in (from..to).step_by(BATCH) {
        let end = (start + BATCH).min(to);
        let batch: Vec<Value> = (start..end).map(|i| corpus.entity(i)).collect();
        let result = session.call_tool("create_entities", json!({ "entities": batch }))?;
        ensure!(
            result["isError"] != json!(true),
            "creating entities {start}..{end}: {result}"
        );
        let structured = &result["structuredContent"];
        let made = structured
            .as_array()
            .or_else(|| structured["entities"].as_array())
            .map_or(0, Vec::len);
        ensure!(
            made == end - start,
            "created {made} of entities {start}..{end}"
        );
    }
    Ok(())
}

fn timed(session: &mut Session, tool: &str, args: &Value) -> Result<(Duration, Value)> {
    let started = Instant::now();
    let result = session.call_tool(tool, args.clone())?;
    let took = started.elapsed();
    if result["isError"] == json!(true) {
        bail!("{tool} failed on {args}: {result}");
    }
    Ok((took, result))
}

/// How many items of `key` an answer's structured copy holds.
fn count(result: &Value, key: &str) -> usize {
    result["structuredContent"][key]
        .as_array()
        .map_or(0, Vec::len)
}

/// p50 and p99 of `calls` (the first [`WARMUP`] untimed), each answer checked.
fn p50_p99(
    session: &mut Session,
    tool: &str,
    calls: &[Value],
    check: impl Fn(&Value, &Value) -> Result<()>,
) -> Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(calls.len());
    for (k, args) in calls.iter().enumerate() {
        let (took, result) = timed(session, tool, args)?;
        check(args, &result).with_context(|| format!("{tool} on {args}"))?;
        if k >= WARMUP {
            times.push(took);
        }
    }
    Ok((percentile(&mut times, 50.0), percentile(&mut times, 99.0)))
}

/// The pid of the daemon serving this home, found in `/proc` by its command
/// line (`memgraphd serve --db <path>`). Not `memgraphd status`: its table
/// counts read every page of the mapped file, which would then be counted
/// as the daemon's resident memory.
fn daemon_pid(home: &Home) -> Result<u32> {
    let db = home.dir.path().join("memory.db");
    let want: Vec<&[u8]> = vec![b"serve", db.as_os_str().as_encoded_bytes()];
    let proc = std::fs::read_dir("/proc").context("listing /proc")?;
    for entry in proc.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        if want.iter().all(|w| args.contains(w)) {
            return Ok(pid);
        }
    }
    bail!("no `memgraphd serve --db {}` in /proc", db.display())
}

/// The daemon's memory, in KiB, from `/proc/<pid>/status`.
#[derive(Clone, Copy, Default)]
struct Memory {
    rss: u64,
    hwm: u64,
    anon: u64,
    file: u64,
}

fn memory(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let field = |name: &str| -> Result<u64> {
        text.lines()
            .find_map(|line| {
                let rest = line.strip_prefix(name)?;
                rest.trim().trim_end_matches("kB").trim().parse().ok()
            })
            .with_context(|| format!("no {name} line in {path}"))
    };
    Ok(Memory {
        rss: field("VmRSS:")?,
        hwm: field("VmHWM:")?,
        anon: field("RssAnon:")?,
        file: field("RssFile:")?,
    })
}

/// What one size measured: (p50, p99) per read, and the daemon's memory.
struct Figures {
    entities: usize,
    load: Duration,
    db_bytes: u64,
    open_nodes: (Duration, Duration),
    one_hit: (Duration, Duration),
    search_memory: (Duration, Duration),
    page: (Duration, Duration),
    memory: Memory,
}

fn measure(home: &Home, corpus: &Corpus, entities: usize) -> Result<Figures> {
    let mut session = home.quiet_session("reads")?;
    let mut rng = Rng(SEED ^ entities as u64);
    let calls = WARMUP + SAMPLES;

    let opens: Vec<Value> = (0..calls)
        .map(|_| {
            let names: Vec<String> = (0..10).map(|_| corpus.name(rng.below(entities))).collect();
            json!({ "names": names })
        })
        .collect();
    let open_nodes = p50_p99(&mut session, "open_nodes", &opens, |args, result| {
        let mut asked: Vec<&str> = args["names"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        asked.sort_unstable();
        asked.dedup();
        let found = count(result, "entities");
        ensure!(found == asked.len(), "found {found} of {}", asked.len());
        Ok(())
    })?;

    let searches: Vec<Value> = (0..calls)
        .map(|_| json!({ "query": Corpus::unique_token(rng.below(entities)) }))
        .collect();
    let one_hit = p50_p99(&mut session, "search_nodes", &searches, |_, result| {
        let hits = count(result, "entities");
        ensure!(hits == 1, "a unique token found {hits} entities");
        Ok(())
    })?;

    let queries: Vec<Value> = (0..calls)
        .map(|_| {
            let i = rng.below(entities);
            json!({ "query": corpus.query(i, &mut rng) })
        })
        .collect();
    let search_memory = p50_p99(&mut session, "search_memory", &queries, |_, result| {
        ensure!(
            count(result, "results") > 0,
            "words of a loaded observation found nothing"
        );
        Ok(())
    })?;

    let scope = page_scope(Tool::ReadGraph, &PageSource::All, &[]);
    let mut pages = Vec::new();
    for at in PAGE_AT {
        let offset = ((entities - 100) as f64 * at) as u64;
        let mut args = json!({ "limit": 100 });
        if offset > 0 {
            args["cursor"] = json!(scope.encode(&[offset]));
        }
        pages.extend(std::iter::repeat_n(args, PAGE_SAMPLES));
    }
    // Warm the page path once, then time every position alike.
    let warm: Vec<Value> = pages.iter().take(WARMUP).cloned().collect();
    let mut all = warm;
    all.extend(pages);
    let page = p50_p99(&mut session, "read_graph", &all, |_, result| {
        let shown = count(result, "entities");
        ensure!(shown == 100, "a page held {shown} entities");
        Ok(())
    })?;

    let pid = daemon_pid(home)?;
    let memory = memory(pid)?;
    session.close()?;
    let figures = Figures {
        entities,
        load: Duration::ZERO,
        db_bytes: 0,
        open_nodes,
        one_hit,
        search_memory,
        page,
        memory,
    };
    Ok(figures)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn file_text(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn machine() -> String {
    let model = file_text("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            Some(
                l.split_once("model name")?
                    .1
                    .split_once(':')?
                    .1
                    .trim()
                    .to_owned(),
            )
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let ram_kib: u64 = file_text("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{model}, {cores} cores, {:.1} GiB RAM",
        ram_kib as f64 / (1 << 20) as f64
    )
}

fn load_average() -> String {
    file_text("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn run() -> Result<()> {
    let corpus = Corpus::new();
    let home = Home::new("mgg")?;
    println!("memgraphd bench_growth");
    println!("binary:  {}", home.bin.display());
    println!("version: {}", home.version());
    println!("machine: {}", machine());
    println!("load:    {} (before the run)", load_average());

    let mut results = Vec::new();
    let mut loaded = 0;
    for &entities in &SIZES {
        eprintln!(
            "loading to {} entities × {OBSERVATIONS} observations…",
            thousands(entities)
        );
        let started = Instant::now();
        {
            let mut session = home.session_with("load", &["--durability", "normal"])?;
            load(&mut session, &corpus, loaded, entities)?;
            session.close()?;
        }
        let load_time = started.elapsed();
        loaded = entities;
        // A fresh daemon: its memory then shows what the reads need.
        home.stop_daemon()?;
        let db_bytes = std::fs::metadata(home.dir.path().join("memory.db"))
            .map(|m| m.len())
            .unwrap_or(0);
        eprintln!("reading at {} entities…", thousands(entities));
        let mut figures = measure(&home, &corpus, entities)?;
        figures.load = load_time;
        figures.db_bytes = db_bytes;
        home.stop_daemon()?;
        results.push(figures);
    }
    println!("load:    {} (after the run)", load_average());
    print(&results);
    Ok(())
}

fn print(results: &[Figures]) {
    let Some(base) = results.first() else { return };
    let mut header = vec!["measure".to_string()];
    header.extend(results.iter().map(|f| {
        format!(
            "{} entities ({} obs.)",
            thousands(f.entities),
            thousands(f.entities * OBSERVATIONS)
        )
    }));
    println!();
    println!("| {} |", header.join(" | "));
    println!("|{}", " --- |".repeat(header.len()));

    type Pick = fn(&Figures) -> Duration;
    let reads: [(&str, Pick); 8] = [
        ("open_nodes, 10 names, p50", |f| f.open_nodes.0),
        ("open_nodes, 10 names, p99", |f| f.open_nodes.1),
        ("search_nodes, 1 hit, p50", |f| f.one_hit.0),
        ("search_nodes, 1 hit, p99", |f| f.one_hit.1),
        ("search_memory, 2 words, p50", |f| f.search_memory.0),
        ("search_memory, 2 words, p99", |f| f.search_memory.1),
        ("read_graph page of 100, p50", |f| f.page.0),
        ("read_graph page of 100, p99", |f| f.page.1),
    ];
    for (what, pick) in reads {
        let first = pick(base).as_secs_f64();
        let mut row = vec![what.to_string()];
        for (k, f) in results.iter().enumerate() {
            let value = pick(f);
            if k == 0 {
                row.push(ms(value));
                continue;
            }
            let ratio = value.as_secs_f64() / first.max(1e-9);
            let mark = if ratio <= GROWTH_LIMIT { "✓" } else { "✗" };
            row.push(format!("{} ({ratio:.2}× {mark})", ms(value)));
        }
        println!("| {} |", row.join(" | "));
    }

    type MemPick = fn(&Memory) -> u64;
    let memories: [(&str, MemPick, bool); 4] = [
        ("daemon VmRSS after the reads", |m| m.rss, true),
        ("daemon VmHWM (peak since start)", |m| m.hwm, true),
        ("daemon RssAnon (heap, not file pages)", |m| m.anon, true),
        ("daemon RssFile (mapped file pages)", |m| m.file, false),
    ];
    for (what, pick, judged) in memories {
        let mut row = vec![what.to_string()];
        for f in results {
            let kib = pick(&f.memory);
            let mark = match (judged, kib < RSS_LIMIT_KIB) {
                (false, _) => String::new(),
                (true, true) => " ✓".into(),
                (true, false) => " ✗".into(),
            };
            row.push(format!("{}{mark}", mib(kib)));
        }
        println!("| {} |", row.join(" | "));
    }
    let mut row = vec!["database file".to_string()];
    row.extend(
        results
            .iter()
            .map(|f| format!("{:.1} MiB", f.db_bytes as f64 / (1 << 20) as f64)),
    );
    println!("| {} |", row.join(" | "));
    let mut row = vec!["load to this size (through the tools)".to_string()];
    row.extend(
        results
            .iter()
            .map(|f| format!("{:.1} s", f.load.as_secs_f64())),
    );
    println!("| {} |", row.join(" | "));
    println!();
    println!(
        "✓: within {GROWTH_LIMIT}× the figure at {} entities; memory under {} MiB.",
        thousands(base.entities),
        RSS_LIMIT_KIB / 1024
    );
}
