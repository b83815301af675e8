//! The retrieval-quality benchmark: does a search find the entry an agent
//! is looking for, and can the model read the answer?
//!
//! It loads the Jargon File (Debian's `dict-jargon`) into a fresh private
//! memory through a real `memgraphd mcp` shim, one entity per entry (its
//! sentences as observations, its cross-references as `see_also`
//! relations), generates queries from a seed (see `queries.rs`), asks each
//! of `search_nodes` (official arguments only, and with `limit` 10 once its
//! schema has it) and `search_memory` (`limit` 10), and prints, per query kind, hit@1, hit@10, MRR@10, the share
//! of empty answers and of answers over the token budget (see `report.rs`).
//!
//! ```sh
//! apt-get install -y dict-jargon
//! cargo build --release && cargo run --release --example retrieval_quality             # tuning seed 1
//! cargo run --release --example retrieval_quality -- --seed 2                          # held-out seed
//! ```
//!
//! Tune ranking on seed 1 only; seed 2 is looked at once, to check the
//! figures were not fitted to one query set. `--projects` writes every other
//! entry from another project and searches from the first, to show what the
//! boost of the session's own project costs the other project's entries.

#[path = "../common/mod.rs"]
mod common;
mod corpus;
mod misses;
mod queries;
mod report;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde_json::{json, Value};

use queries::{Kind, Query};
use report::{Answer, Miss, ToolReport};

#[derive(Parser)]
#[command(about = "Measures how well search_nodes and search_memory find Jargon File entries")]
struct Args {
    /// Seed of the queries: 1 is the tuning set, 2 the held-out set.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many entries to make queries from.
    #[arg(long, default_value_t = 500)]
    sample: usize,
    /// Failed search_memory queries to show per kind.
    #[arg(long, default_value_t = 4)]
    misses: usize,
    /// The directory holding jargon.index and jargon.dict.dz (default:
    /// JARGON_DIR, else /usr/share/dictd).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Print the queries (kind, target, text) and exit, without memgraphd.
    #[arg(long)]
    list: bool,
    /// Write every other entry from a second project (the relations from a
    /// third) and search from the first: what `search_memory`'s boost of the
    /// session's own project does to the figures.
    #[arg(long)]
    projects: bool,
}

/// Entities per `create_entities` call while loading.
const BATCH: usize = 250;
/// The `limit` given to `search_memory`.
const LIMIT: usize = 10;

fn main() -> Result<()> {
    let args = Args::parse();
    let dir = args.corpus.clone().unwrap_or_else(corpus::default_dir);
    let corpus = corpus::load(&dir)?;
    let queries = queries::generate(&corpus.entries, args.seed, args.sample);
    if args.list {
        for q in &queries {
            let target = &corpus.entries[q.target].name;
            println!("{}\t{target}\t{}", q.kind.label(), q.text);
        }
        return Ok(());
    }

    let home = common::Home::new("mgq")?;
    let in_project = |project: &str| {
        let mut command = home.command(&["mcp"]);
        command.env("MEMGRAPHD_PROJECT", project);
        common::Session::start("bench", command, std::process::Stdio::inherit())
    };
    let mut session = if args.projects {
        in_project("quality/own")?
    } else {
        home.session("bench")?
    };
    let tools = tool_schemas(&mut session)?;
    let relations = if args.projects {
        let mut other = in_project("quality/other")?;
        let mut links = in_project("quality/links")?;
        let relations = load(
            &mut session,
            Some((&mut other, &mut links)),
            &corpus.entries,
        )?;
        other.close()?;
        links.close()?;
        relations
    } else {
        load(&mut session, None, &corpus.entries)?
    };
    let observations: usize = corpus.entries.iter().map(|e| e.sentences.len()).sum();

    let mut reports = Vec::new();
    for contender in &CONTENDERS {
        let report = if contender.offered_by(&tools) {
            Some(run(&mut session, &corpus.entries, &queries, contender)?)
        } else {
            None
        };
        reports.push((contender, report));
    }
    session.close()?;

    let seed_role = match args.seed {
        1 => "tuning",
        2 => "held-out",
        _ => "ad hoc",
    };
    println!(
        "retrieval quality: {} ({} entities, {observations} observations, {relations} relations); {}",
        corpus.title,
        corpus.entries.len(),
        home.version()
    );
    println!(
        "seed {} ({seed_role}): {} queries from {} entries; tokens estimated as text characters / 4",
        args.seed,
        queries.len(),
        args.sample.min(corpus.entries.len())
    );
    println!();
    println!("{}", report::header());
    for (contender, report) in &reports {
        match report {
            Some(report) => {
                for line in report::rows(contender.label, report) {
                    println!("{line}");
                }
            }
            None => println!("{}", report::unavailable_row(contender.label)),
        }
    }
    println!();
    for (contender, report) in &reports {
        match report {
            Some(report) => print_latency(contender.label, report),
            None => println!(
                "{}: not available in this binary (tools/list does not offer it)",
                contender.label
            ),
        }
    }
    let memory = reports
        .iter()
        .find(|(c, _)| c.tool == "search_memory")
        .and_then(|(_, r)| r.as_ref());
    if let Some(memory) = memory {
        print_targets(memory);
        misses::print(memory, &corpus.entries, args.misses);
    }
    Ok(())
}

/// A way of searching that the table scores.
struct Contender {
    label: &'static str,
    tool: &'static str,
    /// The `limit` argument, if any.
    limit: Option<usize>,
    /// The `structuredContent` list that holds the ranked entities.
    list: &'static str,
}

/// `search_nodes` as agents call it today, `search_nodes` bounded (once
/// its schema has `limit`), and `search_memory`.
const CONTENDERS: [Contender; 3] = [
    Contender {
        label: "search_nodes",
        tool: "search_nodes",
        limit: None,
        list: "entities",
    },
    Contender {
        label: "search_nodes limit 10",
        tool: "search_nodes",
        limit: Some(LIMIT),
        list: "entities",
    },
    Contender {
        label: "search_memory",
        tool: "search_memory",
        limit: Some(LIMIT),
        list: "results",
    },
];

impl Contender {
    /// Whether `tools` (name to input schema) has the tool and, if this
    /// contender gives a limit, a `limit` argument.
    fn offered_by(&self, tools: &HashMap<String, Value>) -> bool {
        tools
            .get(self.tool)
            .is_some_and(|schema| self.limit.is_none() || schema["properties"]["limit"].is_object())
    }

    fn arguments(&self, query: &str) -> Value {
        match self.limit {
            Some(limit) => json!({ "query": query, "limit": limit }),
            None => json!({ "query": query }),
        }
    }
}

/// The tools the shim lists, each with its input schema.
fn tool_schemas(session: &mut common::Session) -> Result<HashMap<String, Value>> {
    let list = session.request("tools/list", json!({}))?;
    Ok(list["tools"]
        .as_array()
        .context("tools/list answered without tools")?
        .iter()
        .filter_map(|t| Some((t["name"].as_str()?.to_string(), t["inputSchema"].clone())))
        .collect())
}

/// Creates every entry, then the cross-references between entries that
/// exist (matched exactly, else case-folded); returns the relation count.
/// With `split`, every other entry is created by its first session and the
/// relations by its second.
fn load(
    session: &mut common::Session,
    mut split: Option<(&mut common::Session, &mut common::Session)>,
    entries: &[corpus::Entry],
) -> Result<usize> {
    let entity = |e: &corpus::Entry| json!({"name": e.name, "entityType": e.entity_type, "observations": e.sentences});
    for batch in entries.chunks(BATCH) {
        let mine = |i: usize| split.is_none() || i.is_multiple_of(2);
        let own: Vec<Value> = batch
            .iter()
            .enumerate()
            .filter(|(i, _)| mine(*i))
            .map(|(_, e)| entity(e))
            .collect();
        let other: Vec<Value> = batch
            .iter()
            .enumerate()
            .filter(|(i, _)| !mine(*i))
            .map(|(_, e)| entity(e))
            .collect();
        checked(session.call_tool("create_entities", json!({ "entities": own }))?)
            .context("creating entities")?;
        if let Some((writer, _)) = split.as_mut() {
            checked(writer.call_tool("create_entities", json!({ "entities": other }))?)
                .context("creating entities")?;
        }
    }
    let exact: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut folded: HashMap<String, &str> = HashMap::new();
    for e in entries {
        folded.entry(e.name.to_lowercase()).or_insert(&e.name);
    }
    let mut seen = HashSet::new();
    let mut relations = Vec::new();
    for e in entries {
        for target in &e.refs {
            let to = match exact.get(target.as_str()) {
                Some(&to) => Some(to),
                None => folded.get(&target.to_lowercase()).copied(),
            };
            if let Some(to) = to.filter(|&to| to != e.name && seen.insert((e.name.as_str(), to))) {
                relations.push(json!({"from": e.name, "to": to, "relationType": "see_also"}));
            }
        }
    }
    let linker = match split {
        Some((_, links)) => links,
        None => session,
    };
    for batch in relations.chunks(2_000) {
        checked(linker.call_tool("create_relations", json!({ "relations": batch }))?)
            .context("creating relations")?;
    }
    Ok(relations.len())
}

fn checked(result: Value) -> Result<Value> {
    if result["isError"].as_bool().unwrap_or(false) {
        bail!("the tool answered an error: {}", result["content"]);
    }
    Ok(result)
}

/// Asks every query the contender's way.
fn run(
    session: &mut common::Session,
    entries: &[corpus::Entry],
    queries: &[Query],
    contender: &Contender,
) -> Result<ToolReport> {
    let mut report = ToolReport::default();
    for query in queries {
        let started = Instant::now();
        let result = session.call_tool(contender.tool, contender.arguments(&query.text))?;
        report.latencies.push(started.elapsed().as_micros() as u64);
        let answer = Answer::read(&result, contender.list);
        let rank = answer.rank_of(&entries[query.target].name);
        report
            .by_kind
            .entry(query.kind)
            .or_default()
            .add(&answer, rank);
        if rank != Some(1) {
            report.misses.entry(query.kind).or_default().push(Miss {
                query: query.clone(),
                rank,
                top: answer.names.iter().take(3).cloned().collect(),
            });
        }
    }
    Ok(report)
}

fn print_latency(tool: &str, report: &ToolReport) {
    let mut samples = report.latencies.clone();
    println!(
        "{tool}: p50 {:.2} ms, p99 {:.2} ms per call through the shim",
        common::percentile(&mut samples, 50.0) as f64 / 1000.0,
        common::percentile(&mut samples, 99.0) as f64 / 1000.0,
    );
}

fn print_targets(memory: &ToolReport) {
    let keywords = memory.keywords();
    let exact = memory
        .by_kind
        .get(&Kind::ExactName)
        .cloned()
        .unwrap_or_default();
    let total = memory.total();
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let keyword_hits = keywords.share(keywords.hits_at_10);
    let exact_first = exact.share(exact.hits_at_1);
    println!("targets for search_memory:");
    println!(
        "  keyword queries hit@10 {keyword_hits:.3} (>= 0.8): {}",
        verdict(keyword_hits >= 0.8)
    );
    println!(
        "  exact name at rank 1 {exact_first:.3} (>= 0.98): {}",
        verdict(exact_first >= 0.98)
    );
    println!(
        "  answers over {} tokens: {} (0): {}",
        report::TOKEN_BUDGET,
        total.over_budget,
        verdict(total.over_budget == 0)
    );
}
