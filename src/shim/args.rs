//! Tool arguments: JSON from the agent to a typed [`GraphOp`], checked
//! against the input schemas and the limits before any work is done.
//!
//! Errors name the field by its JSON path (`entities[0].entityType`) and say
//! what was expected and what came, in the words of the official server
//! (`expected string, received undefined`), so a model can fix its call.
//! Unknown extra keys are ignored, as the official server ignores them.

use std::fmt;

use serde_json::{Map, Value};

use crate::limits;
use crate::model::{Entity, GraphOp, ObservationAdd, ObservationDelete, Relation};

/// Why a call's arguments were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    pub path: String,
    pub problem: String,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "{}: {}", self.path, self.problem)
        }
    }
}

/// Parses the arguments of tool `tool` (one of the nine names) into an
/// operation; `None` means the `arguments` member was absent.
pub fn parse(tool: &str, args: Option<&Map<String, Value>>) -> Result<GraphOp, ArgError> {
    let empty = Map::new();
    let args = Object {
        map: args.unwrap_or(&empty),
        path: String::new(),
    };
    let op = match tool {
        "create_entities" => GraphOp::CreateEntities(args.array("entities", |item| {
            let e = item.object()?;
            Ok(Entity {
                name: e.string("name")?,
                entity_type: e.string("entityType")?,
                observations: e.array("observations", |o| o.string())?,
            })
        })?),
        "create_relations" => GraphOp::CreateRelations(args.array("relations", relation)?),
        "delete_relations" => GraphOp::DeleteRelations(args.array("relations", relation)?),
        "add_observations" => GraphOp::AddObservations(args.array("observations", |item| {
            let o = item.object()?;
            Ok(ObservationAdd {
                entity_name: o.string("entityName")?,
                contents: o.array("contents", |c| c.string())?,
            })
        })?),
        "delete_entities" => GraphOp::DeleteEntities(args.array("entityNames", |n| n.string())?),
        "delete_observations" => GraphOp::DeleteObservations(args.array("deletions", |item| {
            let d = item.object()?;
            Ok(ObservationDelete {
                entity_name: d.string("entityName")?,
                observations: d.array("observations", |o| o.string())?,
            })
        })?),
        "read_graph" => GraphOp::ReadGraph,
        "search_nodes" => GraphOp::SearchNodes {
            query: args.string("query")?,
        },
        "open_nodes" => GraphOp::OpenNodes(args.array("names", |n| n.string())?),
        other => {
            return Err(ArgError {
                path: String::new(),
                problem: format!("unknown tool {other}"),
            })
        }
    };
    limits::check(&op).map_err(|e| ArgError {
        path: e.path,
        problem: e.problem,
    })?;
    Ok(op)
}

fn relation(item: Item<'_>) -> Result<Relation, ArgError> {
    let r = item.object()?;
    Ok(Relation {
        from: r.string("from")?,
        to: r.string("to")?,
        relation_type: r.string("relationType")?,
    })
}

/// A JSON object and where it sits in the arguments.
struct Object<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

/// Any JSON value (or a missing one) and where it sits.
struct Item<'a> {
    value: Option<&'a Value>,
    path: String,
}

impl<'a> Object<'a> {
    fn field(&self, key: &str) -> Item<'a> {
        let path = if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        };
        Item {
            value: self.map.get(key),
            path,
        }
    }

    fn string(&self, key: &str) -> Result<String, ArgError> {
        self.field(key).string()
    }

    fn array<T>(
        &self,
        key: &str,
        each: impl Fn(Item<'a>) -> Result<T, ArgError>,
    ) -> Result<Vec<T>, ArgError> {
        self.field(key).array(each)
    }
}

impl<'a> Item<'a> {
    fn mismatch(&self, expected: &str) -> ArgError {
        ArgError {
            path: self.path.clone(),
            problem: format!("expected {expected}, received {}", kind(self.value)),
        }
    }

    fn string(&self) -> Result<String, ArgError> {
        match self.value {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(self.mismatch("string")),
        }
    }

    fn object(&self) -> Result<Object<'a>, ArgError> {
        match self.value {
            Some(Value::Object(map)) => Ok(Object {
                map,
                path: self.path.clone(),
            }),
            _ => Err(self.mismatch("object")),
        }
    }

    fn array<T>(&self, each: impl Fn(Item<'a>) -> Result<T, ArgError>) -> Result<Vec<T>, ArgError> {
        let Some(Value::Array(items)) = self.value else {
            return Err(self.mismatch("array"));
        };
        // Refuse an oversized array before converting any of it.
        if items.len() > limits::MAX_ITEMS {
            return Err(ArgError {
                path: self.path.clone(),
                problem: format!(
                    "must have at most {} items (got {})",
                    limits::MAX_ITEMS,
                    items.len()
                ),
            });
        }
        items
            .iter()
            .enumerate()
            .map(|(i, value)| {
                each(Item {
                    value: Some(value),
                    path: format!("{}[{i}]", self.path),
                })
            })
            .collect()
    }
}

/// The name JavaScript's validators give a value's type.
pub(super) fn kind(value: Option<&Value>) -> &'static str {
    match value {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

#[cfg(test)]
mod tests;
