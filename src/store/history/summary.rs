//! The one-line summary of a change and the entities it touched, both read
//! off the operation and what it answered.

use std::collections::BTreeSet;

use crate::model::{GraphOp, MissingObservation, Outcome};

/// Names listed in a summary before it says `…`.
const NAMED: usize = 3;

/// The summary line of `op`'s change, and the names of the entities it
/// touched.
pub(super) fn describe(op: &GraphOp, outcome: &Outcome) -> (String, BTreeSet<String>) {
    let mut touched = BTreeSet::new();
    let summary = match (op, outcome) {
        (_, Outcome::EntitiesCreated(c)) => {
            touched.extend(c.created.iter().map(|e| e.name.clone()));
            let names: Vec<&str> = c.created.iter().map(|e| e.name.as_str()).collect();
            let mut line = format!(
                "created {}{}",
                count(names.len(), "entity", "entities"),
                listed(&names)
            );
            if !c.skipped.is_empty() {
                line.push_str(&format!("; {} skipped", c.skipped.len()));
            }
            line
        }
        (_, Outcome::RelationsCreated(relations)) => {
            touched.extend(
                relations
                    .iter()
                    .flat_map(|r| [r.from.clone(), r.to.clone()]),
            );
            let shown: Vec<String> = relations
                .iter()
                .map(|r| format!("{} {} {}", r.from, r.relation_type, r.to))
                .collect();
            let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
            format!(
                "created {}{}",
                count(relations.len(), "relation", "relations"),
                listed(&shown)
            )
        }
        (_, Outcome::ObservationsAdded(added)) => {
            let to: Vec<&str> = added
                .iter()
                .filter(|a| !a.added.is_empty())
                .map(|a| a.entity_name.as_str())
                .collect();
            touched.extend(to.iter().map(|n| (*n).to_owned()));
            let n: usize = added.iter().map(|a| a.added.len()).sum();
            format!(
                "added {}{}",
                count(n, "observation", "observations"),
                to_entities(&to)
            )
        }
        (GraphOp::DeleteEntities(names), Outcome::EntitiesDeleted(d)) => {
            let gone: Vec<&str> = unique(names)
                .into_iter()
                .filter(|n| !d.missing.iter().any(|m| m == n))
                .collect();
            touched.extend(gone.iter().map(|n| (*n).to_owned()));
            let mut line = format!(
                "deleted {}{}",
                count(gone.len(), "entity", "entities"),
                listed(&gone)
            );
            if !d.missing.is_empty() {
                line.push_str(&format!("; {} not found", d.missing.len()));
            }
            line
        }
        (GraphOp::DeleteObservations(deletions), Outcome::ObservationsDeleted(d)) => {
            let from: Vec<&str> = deletions
                .iter()
                .filter(|del| {
                    del.observations.iter().any(|content| {
                        !d.missing.iter().any(|m| match m {
                            MissingObservation::Entity(name) => *name == del.entity_name,
                            MissingObservation::Observation {
                                entity_name,
                                content: c,
                            } => *entity_name == del.entity_name && c == content,
                        })
                    })
                })
                .map(|del| del.entity_name.as_str())
                .collect();
            let from = unique_strs(from);
            touched.extend(from.iter().map(|n| (*n).to_owned()));
            let mut line = format!(
                "deleted {}{}",
                count(d.deleted, "observation", "observations"),
                from_entities(&from)
            );
            if !d.missing.is_empty() {
                line.push_str(&format!("; {} not found", d.missing.len()));
            }
            line
        }
        (GraphOp::DeleteRelations(relations), Outcome::RelationsDeleted(d)) => {
            let gone: Vec<String> = relations
                .iter()
                .filter(|r| !d.missing.contains(r))
                .map(|r| {
                    touched.insert(r.from.clone());
                    touched.insert(r.to.clone());
                    format!("{} {} {}", r.from, r.relation_type, r.to)
                })
                .collect();
            let shown: Vec<&str> = gone.iter().map(String::as_str).collect();
            let mut line = format!(
                "deleted {}{}",
                count(d.deleted, "relation", "relations"),
                listed(&unique_strs(shown))
            );
            if !d.missing.is_empty() {
                line.push_str(&format!("; {} not found", d.missing.len()));
            }
            line
        }
        (
            GraphOp::Import {
                entities,
                relations,
            },
            Outcome::Imported(r),
        ) => {
            touched.extend(entities.iter().map(|e| e.name.clone()));
            touched.extend(
                relations
                    .iter()
                    .filter(|rel| !r.dangling.contains(rel))
                    .flat_map(|rel| [rel.from.clone(), rel.to.clone()]),
            );
            format!(
                "imported {}, {}, {}",
                count(r.entities_created, "entity", "entities"),
                count(r.observations_added, "observation", "observations"),
                count(r.relations_created, "relation", "relations")
            )
        }
        (GraphOp::SupersedeObservation { entity_name, .. }, _) => {
            touched.insert(entity_name.clone());
            format!("superseded an observation of {entity_name}")
        }
        (_, Outcome::Undone(u)) => u.summary.clone(),
        _ => op.tool_name().to_owned(),
    };
    (summary, touched)
}

/// `1 entity`, `2 entities`.
pub(super) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// ` (A, B, C, …)`, or nothing for no names.
fn listed(names: &[&str]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let mut shown = names[..names.len().min(NAMED)].join(", ");
    if names.len() > NAMED {
        shown.push_str(", …");
    }
    format!(" ({shown})")
}

fn to_entities(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => format!(" to {one}"),
        _ => format!(
            " to {}{}",
            count(names.len(), "entity", "entities"),
            listed(names)
        ),
    }
}

fn from_entities(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => format!(" from {one}"),
        _ => format!(
            " from {}{}",
            count(names.len(), "entity", "entities"),
            listed(names)
        ),
    }
}

fn unique(names: &[String]) -> Vec<&str> {
    unique_strs(names.iter().map(String::as_str).collect())
}

fn unique_strs(names: Vec<&str>) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    names.into_iter().filter(|n| seen.insert(*n)).collect()
}
