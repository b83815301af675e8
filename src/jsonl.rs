//! The official memory server's file format, in both directions: parsing a
//! `memory.jsonl` (or the legacy `memory.json`, same content) for
//! `memgraphd import`, and writing one for `memgraphd export`.
//!
//! One JSON object per line: `{"type":"entity","name","entityType",
//! "observations"}` or `{"type":"relation","from","to","relationType"}`.
//! Parsing never gives up on the whole file for one bad line: each bad line
//! is reported with its number and skipped, and everything else is kept.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::limits;
use crate::model::{Entity, Graph, Relation};

/// A line that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: usize,
    pub message: String,
}

/// What a file holds, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFile {
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
    /// Lines skipped, with the reason.
    pub problems: Vec<Problem>,
    /// Names that appear on more than one entity line; their observations
    /// are merged into the first.
    pub duplicate_names: Vec<String>,
}

/// Parses a memory file. Blank lines, CRLF endings and a UTF-8 byte order
/// mark are accepted.
pub fn parse_jsonl(bytes: &[u8]) -> ParsedFile {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut parsed = ParsedFile::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (number, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = number + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut problem = |message: String| parsed.problems.push(Problem { line, message });
        let text = match std::str::from_utf8(raw) {
            Ok(text) => text,
            Err(e) => {
                problem(format!("not valid UTF-8 ({e})"));
                continue;
            }
        };
        match parse_line(text) {
            Ok(Item::Entity(entity)) => match index.get(&entity.name) {
                Some(&at) => {
                    if !parsed.duplicate_names.contains(&entity.name) {
                        parsed.duplicate_names.push(entity.name.clone());
                    }
                    let first = &mut parsed.entities[at];
                    for o in entity.observations {
                        if !first.observations.contains(&o) {
                            first.observations.push(o);
                        }
                    }
                }
                None => {
                    index.insert(entity.name.clone(), parsed.entities.len());
                    parsed.entities.push(entity);
                }
            },
            Ok(Item::Relation(relation)) => parsed.relations.push(relation),
            Err(message) => problem(message),
        }
    }
    parsed
}

enum Item {
    Entity(Entity),
    Relation(Relation),
}

fn parse_line(text: &str) -> Result<Item, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err("not a JSON object".into());
    };
    let string = |key: &str| match object.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("\"{key}\" is not a string")),
        None => Err(format!("\"{key}\" is missing")),
    };
    let item = match object.get("type").and_then(Value::as_str) {
        Some("entity") => {
            let observations = match object.get("observations") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|o| o.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("\"observations\" holds something other than strings")?,
                Some(_) => return Err("\"observations\" is not an array".into()),
            };
            let mut seen = std::collections::HashSet::new();
            let entity = Entity {
                name: string("name")?,
                entity_type: string("entityType")?,
                observations: observations
                    .into_iter()
                    .filter(|o| seen.insert(o.clone()))
                    .collect(),
            };
            check_entity(&entity)?;
            Item::Entity(entity)
        }
        Some("relation") => {
            let relation = Relation {
                from: string("from")?,
                to: string("to")?,
                relation_type: string("relationType")?,
            };
            check_relation(&relation)?;
            Item::Relation(relation)
        }
        Some(other) => return Err(format!("unknown \"type\": {other:?}")),
        None => return Err("\"type\" is missing (expected \"entity\" or \"relation\")".into()),
    };
    Ok(item)
}

/// One entity against the limits; the message names the field.
fn check_entity(entity: &Entity) -> Result<(), String> {
    limits::check_entities(std::slice::from_ref(entity))
        .map_err(|e| e.to_string().replacen("entities[0].", "", 1))
}

/// One relation against the limits; the message names the field.
fn check_relation(relation: &Relation) -> Result<(), String> {
    limits::check_relations(std::slice::from_ref(relation))
        .map_err(|e| e.to_string().replacen("relations[0].", "", 1))
}

/// Checks a graph read from elsewhere (a database) item by item, as
/// [`parse_jsonl`] checks lines: items are numbered from 1, entities first,
/// and an item over a limit is reported and left out.
pub fn check_graph(graph: Graph) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let entity_count = graph.entities.len();
    for (i, entity) in graph.entities.into_iter().enumerate() {
        match check_entity(&entity) {
            Ok(()) => parsed.entities.push(entity),
            Err(message) => parsed.problems.push(Problem {
                line: i + 1,
                message,
            }),
        }
    }
    for (i, relation) in graph.relations.into_iter().enumerate() {
        match check_relation(&relation) {
            Ok(()) => parsed.relations.push(relation),
            Err(message) => parsed.problems.push(Problem {
                line: entity_count + i + 1,
                message,
            }),
        }
    }
    parsed
}

/// The graph in the official format: entities then relations, one compact
/// object per line, `type` first, a newline after every line.
pub fn to_jsonl(graph: &Graph) -> String {
    let mut out = String::new();
    let mut push = |value: Value| {
        out.push_str(&value.to_string());
        out.push('\n');
    };
    for e in &graph.entities {
        push(
            json!({"type": "entity", "name": e.name, "entityType": e.entity_type, "observations": e.observations}),
        );
    }
    for r in &graph.relations {
        push(
            json!({"type": "relation", "from": r.from, "to": r.to, "relationType": r.relation_type}),
        );
    }
    out
}

/// Whether `bytes` start like an SQLite database rather than a text file.
pub fn is_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(b"SQLite format 3\0")
}

#[cfg(test)]
mod tests;
