//! `memgraphd import` and `memgraphd export`: moving memory in from the
//! official server (or `@pepk/mcp-memory-sqlite`) and back out, through the
//! daemon, while sessions keep working.
//!
//! An import is sent as batches of at most [`crate::limits::MAX_ITEMS`]
//! items and about `BATCH_BYTES` bytes; each batch commits atomically and
//! carries a request id, so a batch retried after a lost connection is not
//! applied twice. Entities go first, so relations find their endpoints.

use std::path::{Path, PathBuf};

use super::{client_with, AdminError};
use crate::config::Paths;
use crate::jsonl::{self, ParsedFile};
use crate::limits::MAX_ITEMS;
use crate::model::{Entity, GraphOp, ImportReport, Outcome, Relation};
use crate::protocol::{Op, Reply};
use crate::store::legacy;

/// Rough size of one import batch on the wire, well under the frame limit.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Which format a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The official server's `memory.jsonl` / `memory.json`.
    Jsonl,
    /// A `@pepk/mcp-memory-sqlite` database.
    PepkSqlite,
}

/// What an import read and did.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub source: Source,
    pub file: ParsedFile,
    /// `None` for a dry run.
    pub report: Option<ImportReport>,
}

/// Reads `file` and merges it into the store, or only reads it when
/// `dry_run`. Starts the daemon if none runs.
pub async fn import(
    paths: &Paths,
    file: &Path,
    dry_run: bool,
) -> Result<ImportSummary, AdminError> {
    let (source, parsed) = read(file)?;
    if parsed.entities.is_empty() && parsed.relations.is_empty() && !parsed.problems.is_empty() {
        let first = &parsed.problems[0];
        return Err(AdminError::Unreadable {
            path: file.to_owned(),
            reason: format!(
                "no entity or relation could be read ({} bad lines; line {}: {}); is this a memory.jsonl file?",
                parsed.problems.len(),
                first.line,
                first.message
            ),
        });
    }
    if dry_run {
        return Ok(ImportSummary {
            source,
            file: parsed,
            report: None,
        });
    }
    let client = client_with(paths, "import", true);
    let session = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        ^ (u128::from(std::process::id()) << 96);
    let mut total = ImportReport::default();
    let batches = batches(&parsed.entities, entity_bytes)
        .map(|entities| (entities.to_vec(), Vec::new()))
        .chain(batches(&parsed.relations, relation_bytes).map(|r| (Vec::new(), r.to_vec())));
    for (n, (entities, relations)) in batches.enumerate() {
        let op = Op::Graph {
            op: GraphOp::Import {
                entities,
                relations,
            },
            request_id: Some(session + n as u128),
        };
        match client.request(op).await? {
            Reply::Graph(Outcome::Imported(report)) => add(&mut total, report),
            _ => return Err(AdminError::Reply),
        }
    }
    Ok(ImportSummary {
        source,
        file: parsed,
        report: Some(total),
    })
}

fn read(file: &Path) -> Result<(Source, ParsedFile), AdminError> {
    if file.is_dir() {
        return Err(AdminError::IsDir {
            path: file.to_owned(),
        });
    }
    let bytes = std::fs::read(file).map_err(|source| AdminError::Read {
        path: file.to_owned(),
        source,
    })?;
    if !jsonl::is_sqlite(&bytes) {
        return Ok((Source::Jsonl, jsonl::parse_jsonl(&bytes)));
    }
    let graph = legacy::read_pepk(file).map_err(|source| AdminError::Store {
        path: file.to_owned(),
        source,
    })?;
    let Some(graph) = graph else {
        return Err(AdminError::Unreadable {
            path: file.to_owned(),
            reason: "an SQLite database, but not one of @pepk/mcp-memory-sqlite (tables entities, observations, relations)".into(),
        });
    };
    Ok((Source::PepkSqlite, jsonl::check_graph(graph)))
}

/// Splits items into batches under both the item and the byte limit.
fn batches<T>(items: &[T], size: fn(&T) -> usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut end = 0;
        while end < rest.len() && end < MAX_ITEMS {
            bytes += size(&rest[end]);
            if end > 0 && bytes > BATCH_BYTES {
                break;
            }
            end += 1;
        }
        let (batch, tail) = rest.split_at(end);
        rest = tail;
        Some(batch)
    })
}

fn entity_bytes(e: &Entity) -> usize {
    e.name.len()
        + e.entity_type.len()
        + e.observations.iter().map(|o| o.len() + 8).sum::<usize>()
        + 16
}

fn relation_bytes(r: &Relation) -> usize {
    r.from.len() + r.to.len() + r.relation_type.len() + 16
}

fn add(total: &mut ImportReport, batch: ImportReport) {
    total.entities_created += batch.entities_created;
    total.entities_merged += batch.entities_merged;
    total.observations_added += batch.observations_added;
    total.relations_created += batch.relations_created;
    total.relations_existing += batch.relations_existing;
    total.dangling.extend(batch.dangling);
}

/// The summary `memgraphd import` prints.
pub fn format_import(summary: &ImportSummary, file: &Path) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let format = match summary.source {
        Source::Jsonl => "memory.jsonl",
        Source::PepkSqlite => "@pepk/mcp-memory-sqlite database",
    };
    let parsed = &summary.file;
    let _ = writeln!(
        out,
        "read {} ({format}): {} entities, {} relations",
        file.display(),
        parsed.entities.len(),
        parsed.relations.len()
    );
    // A pepk database is read as one item per line, entities first.
    let unit = match summary.source {
        Source::Jsonl => "line",
        Source::PepkSqlite => "item",
    };
    for p in &parsed.problems {
        let _ = writeln!(out, "skipped {unit} {}: {}", p.line, p.message);
    }
    if !parsed.duplicate_names.is_empty() {
        let _ = writeln!(
            out,
            "duplicate names in the file, observations merged into the first: {}",
            parsed.duplicate_names.join(", ")
        );
    }
    match &summary.report {
        None => {
            let _ = write!(out, "dry run: nothing was written");
        }
        Some(report) => {
            for r in &report.dangling {
                let _ = writeln!(
                    out,
                    "skipped relation {} {} {}: an endpoint does not exist",
                    r.from, r.relation_type, r.to
                );
            }
            let _ = write!(
                out,
                "imported: {} entities created, {} merged into existing ones, {} observations added, \
                 {} relations created ({} already present, {} dangling)",
                report.entities_created,
                report.entities_merged,
                report.observations_added,
                report.relations_created,
                report.relations_existing,
                report.dangling.len()
            );
        }
    }
    out
}

/// The whole graph in the official JSONL format. Starts the daemon if none
/// runs.
pub async fn export(paths: &Paths) -> Result<String, AdminError> {
    let op = Op::Graph {
        op: GraphOp::ReadGraph,
        request_id: None,
    };
    match client_with(paths, "export", true).request(op).await? {
        Reply::Graph(Outcome::Graph(graph)) => Ok(jsonl::to_jsonl(&graph)),
        _ => Err(AdminError::Reply),
    }
}

/// Writes `text` to `target` through a temporary file and a rename, so a
/// reader never sees half a file and a failure leaves no partial file.
pub fn write_atomically(target: &Path, text: &str) -> Result<(), AdminError> {
    if target.is_dir() {
        return Err(AdminError::IsDir {
            path: target.to_owned(),
        });
    }
    let mut temp = target.as_os_str().to_owned();
    temp.push(format!(".tmp{}", std::process::id()));
    let temp = PathBuf::from(temp);
    let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, target));
    written.map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        AdminError::Write {
            path: target.to_owned(),
            source,
        }
    })
}
