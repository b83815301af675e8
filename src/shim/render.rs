//! Outcomes rendered as the agent sees them: the text item (the bytes of
//! JavaScript's `JSON.stringify(x, null, 2)`, as the official server writes
//! it) and the `structuredContent` object, with keys in the contract's order.
//!
//! Everything an agent reads comes from here, so a format change shows up as
//! a changed snapshot in this module's tests and nowhere else.

mod retrieval;
mod views;

use serde_json::{json, Value};

pub use retrieval::{neighborhood, notice, page, page_written, ranked, rfc3339};

use crate::model::{
    AddedObservations, CreatedEntities, Deleted, Graph, MissingObservation, Outcome, Relation,
};

/// A successful tool result: one or more text items and the structured copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub texts: Vec<String>,
    pub structured: Value,
}

/// A result whose structured copy is already JSON text: the answers that
/// grow with the graph, written without a `Value` tree (see `views`).
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub texts: Vec<String>,
    /// The compact JSON of `structuredContent`.
    pub structured: String,
}

impl Written {
    /// The same result with its structured copy as a tree, for a transport
    /// that needs one.
    pub fn into_rendered(self) -> Rendered {
        Rendered {
            // The text is serde_json's own output, so it parses.
            structured: serde_json::from_str(&self.structured).unwrap_or(Value::Null),
            texts: self.texts,
        }
    }
}

/// The official answers that grow with the graph, written straight to
/// text; `None` for the others, which [`outcome`] renders.
pub fn written(outcome: &Outcome) -> Option<Written> {
    match outcome {
        Outcome::EntitiesCreated(created) => Some(entities_created(created)),
        Outcome::RelationsCreated(relations) => Some(relations_created(relations)),
        Outcome::ObservationsAdded(results) => Some(observations_added(results)),
        Outcome::Graph(graph) => Some(graph_written(graph)),
        _ => None,
    }
}

fn entities_created(created: &CreatedEntities) -> Written {
    let entities = views::entities(&created.created);
    let mut texts = vec![views::pretty(&entities)];
    let skipped = (!created.skipped.is_empty()).then_some(created.skipped.as_slice());
    if let Some(names) = skipped {
        texts.push(skipped_note(names));
    }
    Written {
        texts,
        structured: views::compact(&views::Created { entities, skipped }),
    }
}

fn relations_created(relations: &[Relation]) -> Written {
    let relations = views::relations(relations);
    Written {
        texts: vec![views::pretty(&relations)],
        structured: views::compact(&views::Relations { relations }),
    }
}

fn observations_added(results: &[AddedObservations]) -> Written {
    let results = views::added(results);
    Written {
        texts: vec![views::pretty(&results)],
        structured: views::compact(&views::Results { results }),
    }
}

/// A graph (`read_graph`, `search_nodes`, `open_nodes`): the text and the
/// structured copy are the same object.
fn graph_written(graph: &Graph) -> Written {
    let value = views::graph(graph);
    let size = views::graph_size(graph);
    Written {
        texts: vec![views::pretty_sized(&value, size.pretty)],
        structured: views::compact_sized(&value, size.compact),
    }
}

/// Renders the answer to a tool call.
pub fn outcome(outcome: &Outcome) -> Rendered {
    match outcome {
        Outcome::EntitiesCreated(created) => entities_created(created).into_rendered(),
        Outcome::RelationsCreated(relations) => relations_created(relations).into_rendered(),
        Outcome::ObservationsAdded(results) => observations_added(results).into_rendered(),
        Outcome::Graph(graph) => graph_written(graph).into_rendered(),
        Outcome::EntitiesDeleted(report) => deletion(entities_message(report)),
        Outcome::ObservationsDeleted(report) => deletion(observations_message(report)),
        Outcome::RelationsDeleted(report) => deletion(relations_message(report)),
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
    views::pretty(&views::graph(graph))
}

/// `JSON.stringify(value, null, 2)`: two-space indentation, `": "` between
/// key and value, non-ASCII left as it is, `[]` and `{}` for empty containers.
pub fn pretty(value: &Value) -> String {
    // Serializing a `Value` into a `Vec` cannot fail: every key is a string
    // and the writer never errors.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn relation(r: &Relation) -> Value {
    json!({ "from": r.from, "to": r.to, "relationType": r.relation_type })
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
