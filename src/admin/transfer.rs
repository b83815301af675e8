//! `memgraphd import` and `memgraphd export`: moving memory in from the
//! official server (or `@pepk/mcp-memory-sqlite`) and back out, through the
//! daemon, while sessions keep working. Both show their progress on a
//! terminal ([`Progress`]).
//!
//! An import is sent as batches of at most [`crate::limits::MAX_ITEMS`]
//! items and about `BATCH_BYTES` bytes; each batch commits atomically and
//! carries a request id, so a batch retried after a lost connection is not
//! applied twice. Entities go first, so relations find their endpoints.

use std::path::{Path, PathBuf};

use super::progress::{self, Progress};
use super::{client_with, AdminError};
use crate::config::Paths;
use crate::jsonl::{self, ParsedFile};
use crate::limits::MAX_ITEMS;
use crate::model::{Entity, ExportCursor, Graph, GraphOp, ImportReport, Outcome, Relation};
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
    progress: &mut Progress,
) -> Result<ImportSummary, AdminError> {
    progress.show(|| format!("reading {}", file.display()));
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
    let (total_entities, total_relations) = (parsed.entities.len(), parsed.relations.len());
    let (mut sent_entities, mut sent_relations) = (0, 0);
    for (n, (entities, relations)) in batches.enumerate() {
        sent_entities += entities.len();
        sent_relations += relations.len();
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
        progress.show(|| {
            format!(
                "importing: entities {}, relations {}",
                progress::count(sent_entities as u64, total_entities as u64),
                progress::count(sent_relations as u64, total_relations as u64)
            )
        });
    }
    progress.clear();
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

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub entities: u64,
    pub relations: u64,
    pub bytes: u64,
}

/// Writes the whole graph in the official JSONL format to `target`, or to
/// stdout when `None`, and starts the daemon if none runs.
///
/// The graph is streamed: the daemon serves it page by page from one read
/// snapshot (see [`crate::store::Snapshot`]), so the export is the graph of
/// one moment however much sessions write meanwhile, and no process holds
/// it whole. A file is written beside `target` (mode 0600: a memory may hold
/// private notes) and renamed over it only once complete, so a failed
/// export leaves no partial file and a reader never sees half of one.
/// Progress shows on `progress`.
pub async fn export(
    paths: &Paths,
    target: Option<&Path>,
    progress: &mut Progress,
) -> Result<ExportSummary, AdminError> {
    let Some(target) = target else {
        // stdout is line-buffered: one write per line would be one system
        // call per entity.
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        let stdout = Path::new("<stdout>");
        return match stream(paths, &mut out, stdout, progress).await {
            // `memgraphd export | head` closes the pipe early; not an error.
            Err(AdminError::Write { source, .. })
                if source.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                Ok(ExportSummary::default())
            }
            other => other,
        };
    };
    if target.is_dir() {
        return Err(AdminError::IsDir {
            path: target.to_owned(),
        });
    }
    let mut temp = target.as_os_str().to_owned();
    temp.push(format!(".tmp{}", std::process::id()));
    let temp = PathBuf::from(temp);
    let write_error = |source| AdminError::Write {
        path: target.to_owned(),
        source,
    };
    let file = private_file(&temp).map_err(write_error)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let written = async {
        let summary = stream(paths, &mut out, target, progress).await?;
        let file = out.into_inner().map_err(|e| write_error(e.into_error()))?;
        file.sync_all().map_err(write_error)?;
        std::fs::rename(&temp, target).map_err(write_error)?;
        Ok(summary)
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// A new file only this user can read and write; refuses to reuse one.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    crate::privacy::file_options()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Asks for the pages of one snapshot and writes each as JSONL lines.
async fn stream(
    paths: &Paths,
    out: &mut dyn std::io::Write,
    name: &Path,
    progress: &mut Progress,
) -> Result<ExportSummary, AdminError> {
    let client = client_with(paths, "export", true);
    let mut summary = ExportSummary::default();
    let mut snapshot = None;
    let mut after = ExportCursor::START;
    loop {
        let page = match client.request(Op::ExportPage { snapshot, after }).await? {
            Reply::ExportPage(page) => page,
            _ => return Err(AdminError::Reply),
        };
        summary.entities += page.entities.len() as u64;
        summary.relations += page.relations.len() as u64;
        let text = jsonl::to_jsonl(&Graph {
            entities: page.entities,
            relations: page.relations,
        });
        summary.bytes += text.len() as u64;
        out.write_all(text.as_bytes())
            .map_err(|source| AdminError::Write {
                path: name.to_owned(),
                source,
            })?;
        progress.show(|| {
            format!(
                "exporting: entities {}, relations {}",
                progress::count(summary.entities, page.total_entities),
                progress::count(summary.relations, page.total_relations)
            )
        });
        match page.next {
            Some(next) => {
                snapshot = Some(page.snapshot);
                after = next;
            }
            None => break,
        }
    }
    out.flush().map_err(|source| AdminError::Write {
        path: name.to_owned(),
        source,
    })?;
    progress.clear();
    Ok(summary)
}
