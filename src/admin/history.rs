//! `memgraphd history`, `memgraphd undo` and `memgraphd purge`: the change
//! history through the daemon, as a table for people or JSON for scripts.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::{client_with, AdminError};
use crate::config::Paths;
use crate::model::{Author, ChangeInfo, GraphOp, HistoryQuery, Outcome, Purged, Undone};
use crate::protocol::{Op, Reply};

/// Changes per request while `history` walks back.
const PAGE: u32 = 100;

/// Asks the daemon (starting it if needed) to run `op` for this command.
async fn run(paths: &Paths, command: &str, op: GraphOp) -> Result<Outcome, AdminError> {
    let write = op.is_write();
    let request = if write {
        Op::Authored {
            op,
            request_id: None,
            author: Box::new(Author {
                client: Some(format!("memgraphd {command}")),
                cwd: std::env::current_dir()
                    .ok()
                    .map(|d| d.display().to_string()),
                ..Author::default()
            }),
        }
    } else {
        Op::Graph {
            op,
            request_id: None,
        }
    };
    match client_with(paths, command, true).request(request).await? {
        Reply::Graph(outcome) => Ok(outcome),
        _ => Err(AdminError::Reply),
    }
}

/// Up to `limit` changes matching `query` (its `limit` and `before` are
/// ignored), newest first.
pub async fn history(
    paths: &Paths,
    mut query: HistoryQuery,
    limit: usize,
) -> Result<Vec<ChangeInfo>, AdminError> {
    let mut changes = Vec::new();
    query.before = None;
    loop {
        query.limit = PAGE.min((limit - changes.len()).max(1) as u32);
        match run(paths, "history", GraphOp::History(query.clone())).await? {
            Outcome::History(page) => {
                changes.extend(page.changes);
                match page.next_before {
                    Some(before) if changes.len() < limit => query.before = Some(before),
                    _ => return Ok(changes),
                }
            }
            _ => return Err(AdminError::Reply),
        }
    }
}

/// Reverts change `change_id` as a new change.
pub async fn undo(paths: &Paths, change_id: i64, force: bool) -> Result<Undone, AdminError> {
    match run(paths, "undo", GraphOp::Undo { change_id, force }).await? {
        Outcome::Undone(undone) => Ok(undone),
        _ => Err(AdminError::Reply),
    }
}

/// Forgets what ended before `before` (ms since the epoch).
pub async fn purge(paths: &Paths, before: i64, dry_run: bool) -> Result<Purged, AdminError> {
    match run(paths, "purge", GraphOp::Purge { before, dry_run }).await? {
        Outcome::Purged(purged) => Ok(purged),
        _ => Err(AdminError::Reply),
    }
}

/// One line per change: id, time, tool, session, project, summary.
pub fn format_table(changes: &[ChangeInfo], at: impl Fn(i64) -> String) -> String {
    if changes.is_empty() {
        return "no changes recorded".into();
    }
    let rows: Vec<[String; 6]> = changes
        .iter()
        .map(|c| {
            [
                c.id.to_string(),
                at(c.at),
                c.tool.clone(),
                c.session.clone().unwrap_or_else(|| "-".into()),
                c.project.clone().unwrap_or_else(|| "-".into()),
                c.summary.clone(),
            ]
        })
        .collect();
    let header = ["CHANGE", "AT", "TOOL", "SESSION", "PROJECT", "SUMMARY"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

/// The changes as a JSON array, in `memory_history`'s shape.
pub fn format_json(changes: &[ChangeInfo], at: impl Fn(i64) -> String) -> String {
    let items: Vec<Value> = changes
        .iter()
        .map(|c| {
            let mut v = json!({"changeId": c.id, "at": at(c.at), "tool": c.tool});
            for (key, value) in [
                ("session", &c.session),
                ("client", &c.client),
                ("project", &c.project),
                ("actor", &c.actor),
            ] {
                if let Some(value) = value {
                    v[key] = json!(value);
                }
            }
            v["summary"] = json!(c.summary);
            v
        })
        .collect();
    Value::Array(items).to_string()
}

/// What a purge removed, or would remove.
pub fn format_purge(p: &Purged, dry_run: bool) -> String {
    let verb = if dry_run { "would remove" } else { "removed" };
    format!(
        "{verb} {} changes, {} ended entities, {} ended observations, {} ended relations",
        p.changes, p.entities, p.observations, p.relations
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: i64, session: Option<&str>, summary: &str) -> ChangeInfo {
        ChangeInfo {
            id,
            at: 0,
            tool: "create_entities".into(),
            session: session.map(String::from),
            client: None,
            project: Some("github.com/acme/tools".into()),
            actor: None,
            summary: summary.into(),
        }
    }

    #[test]
    fn the_table_lines_up_and_marks_unknowns() {
        let table = format_table(
            &[
                change(12, Some("s-1"), "created 1 entity (Alice)"),
                change(3, None, "created 2 entities (A, B); 1 skipped"),
            ],
            |_| "T".into(),
        );
        expect_test::expect![[r#"
            CHANGE  AT  TOOL             SESSION  PROJECT                SUMMARY
            12      T   create_entities  s-1      github.com/acme/tools  created 1 entity (Alice)
            3       T   create_entities  -        github.com/acme/tools  created 2 entities (A, B); 1 skipped"#]]
        .assert_eq(&table);
        let json = format_json(&[change(3, None, "x")], |_| "T".into());
        assert_eq!(
            json,
            r#"[{"changeId":3,"at":"T","tool":"create_entities","project":"github.com/acme/tools","summary":"x"}]"#
        );
    }
}
