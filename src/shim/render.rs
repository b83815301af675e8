//! Outcomes rendered as the agent sees them: the text item (the bytes of
//! JavaScript's `JSON.stringify(x, null, 2)`, as the official server writes
//! it) and the `structuredContent` object, with keys in the contract's order.
//!
//! Everything an agent reads comes from here, so a format change shows up as
//! a changed snapshot in this module's tests and nowhere else.

mod retrieval;

use serde_json::{json, Value};

pub use retrieval::{neighborhood, notice, page, ranked, rfc3339};

use crate::model::{
    AddedObservations, Deleted, Entity, Graph, MissingObservation, Outcome, Relation,
};

/// A successful tool result: one or more text items and the structured copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub texts: Vec<String>,
    pub structured: Value,
}

/// Renders the answer to a tool call.
pub fn outcome(outcome: &Outcome) -> Rendered {
    match outcome {
        Outcome::EntitiesCreated(created) => {
            let entities = Value::Array(created.created.iter().map(entity).collect());
            let mut texts = vec![pretty(&entities)];
            let mut structured = json!({ "entities": entities });
            if !created.skipped.is_empty() {
                texts.push(skipped_note(&created.skipped));
                structured["skipped"] = json!(created.skipped);
            }
            Rendered { texts, structured }
        }
        Outcome::RelationsCreated(relations) => {
            let relations = Value::Array(relations.iter().map(relation).collect());
            Rendered {
                texts: vec![pretty(&relations)],
                structured: json!({ "relations": relations }),
            }
        }
        Outcome::ObservationsAdded(results) => {
            let results = Value::Array(results.iter().map(added).collect());
            Rendered {
                texts: vec![pretty(&results)],
                structured: json!({ "results": results }),
            }
        }
        Outcome::EntitiesDeleted(report) => deletion(entities_message(report)),
        Outcome::ObservationsDeleted(report) => deletion(observations_message(report)),
        Outcome::RelationsDeleted(report) => deletion(relations_message(report)),
        Outcome::Graph(graph) => {
            let value = graph_value(graph);
            Rendered {
                texts: vec![pretty(&value)],
                structured: value,
            }
        }
        // No tool imports; `memgraphd import` prints its own summary.
        Outcome::Imported(report) => {
            let value = json!({
                "entitiesCreated": report.entities_created,
                "entitiesMerged": report.entities_merged,
                "observationsAdded": report.observations_added,
                "relationsCreated": report.relations_created,
                "relationsExisting": report.relations_existing,
                "dangling": report.dangling.iter().map(relation).collect::<Vec<_>>(),
            });
            Rendered {
                texts: vec![pretty(&value)],
                structured: value,
            }
        }
        // The shim renders these with their cursors (see `retrieval`); this
        // is the form without one.
        Outcome::Page(p) => page(p, "read_graph", None, 0),
        Outcome::Ranked(r) => ranked(r, "", None, 0),
        Outcome::Neighborhood(n) => neighborhood(n, None, 0),
        Outcome::History(h) => super::history::history(h),
        Outcome::Undone(u) => super::history::undone(u),
        Outcome::Superseded {
            entity_name,
            old,
            new,
            change_id,
        } => super::history::superseded(entity_name, old, new, *change_id),
        Outcome::Purged(p) => {
            let structured = serde_json::json!({
                "changes": p.changes, "entities": p.entities,
                "observations": p.observations, "relations": p.relations,
            });
            Rendered {
                texts: vec![pretty(&structured)],
                structured,
            }
        }
    }
}

/// The graph as the `read_graph` text and the resource's contents.
pub fn graph_text(graph: &Graph) -> String {
    pretty(&graph_value(graph))
}

/// `JSON.stringify(value, null, 2)`: two-space indentation, `": "` between
/// key and value, non-ASCII left as it is, `[]` and `{}` for empty containers.
pub fn pretty(value: &Value) -> String {
    // Serializing a `Value` into a `Vec` cannot fail: every key is a string
    // and the writer never errors.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn graph_value(graph: &Graph) -> Value {
    json!({
        "entities": graph.entities.iter().map(entity).collect::<Vec<_>>(),
        "relations": graph.relations.iter().map(relation).collect::<Vec<_>>(),
    })
}

fn entity(e: &Entity) -> Value {
    json!({ "name": e.name, "entityType": e.entity_type, "observations": e.observations })
}

fn relation(r: &Relation) -> Value {
    json!({ "from": r.from, "to": r.to, "relationType": r.relation_type })
}

fn added(a: &AddedObservations) -> Value {
    json!({ "entityName": a.entity_name, "addedObservations": a.added })
}

fn deletion(message: String) -> Rendered {
    Rendered {
        structured: json!({ "success": true, "message": message }),
        texts: vec![message],
    }
}

fn skipped_note(names: &[String]) -> String {
    let (noun, exist, repeat) = if names.len() == 1 {
        ("entity", "exists", "repeats")
    } else {
        ("entities", "exist", "repeat")
    };
    format!(
        "Skipped {} {noun} that already {exist} or {repeat} within this call: {}. \
         Existing entities are left unchanged; use add_observations to add to them.",
        names.len(),
        quoted_list(names.iter().map(String::as_str)),
    )
}

fn entities_message(report: &Deleted<String>) -> String {
    if report.missing.is_empty() {
        return "Entities deleted successfully".into();
    }
    format!(
        "Deleted {} of {} entities. Not found: {}",
        report.deleted,
        report.requested,
        report.missing.join(", ")
    )
}

fn observations_message(report: &Deleted<MissingObservation>) -> String {
    if report.missing.is_empty() {
        return "Observations deleted successfully".into();
    }
    let missing: Vec<String> = report
        .missing
        .iter()
        .map(|m| match m {
            MissingObservation::Entity(name) => format!("entity {name}"),
            MissingObservation::Observation {
                entity_name,
                content,
            } => format!("{} on {entity_name}", quoted(content)),
        })
        .collect();
    format!(
        "Deleted {} of {} observations. Not found: {}",
        report.deleted,
        report.requested,
        missing.join("; ")
    )
}

fn relations_message(report: &Deleted<Relation>) -> String {
    if report.missing.is_empty() {
        return "Relations deleted successfully".into();
    }
    let missing: Vec<String> = report
        .missing
        .iter()
        .map(|r| format!("{} {} {}", r.from, r.relation_type, r.to))
        .collect();
    format!(
        "Deleted {} of {} relations. Not found: {}",
        report.deleted,
        report.requested,
        missing.join("; ")
    )
}

fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

fn quoted_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.map(quoted).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
