//! A tool call as the shim runs it: the operation, plus what rendering it
//! needs (which cursor scope mints `nextCursor`, whether the size guard
//! applies). The official arguments are parsed by [`super::args`]; this adds
//! memgraphd's own (EXTENSIONS.md) and the two tools beyond the nine.
//!
//! "Absent means official": a read with none of the new arguments, and the
//! guard off, is sent as the official operation. With the guard on it is
//! sent as a page with a budget, which answers the very same bytes unless
//! the answer would be over the budget.

use serde_json::{Map, Value};

use super::args::{self, kind, ArgError};
use super::cursor::{Scope, Tool};
use crate::limits::{self, DEFAULT_NEIGHBOR_RELATIONS, DEFAULT_SEARCH_RESULTS};
use crate::model::{
    Budget, Direction, GraphOp, MemorySearch, NeighborQuery, PageQuery, PageSource, RankResume,
    SearchScope,
};

/// What the shim is told at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The size guard's threshold in characters; 0 turns it off.
    pub max_result_chars: u64,
    pub tools: ToolSet,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_result_chars: DEFAULT_MAX_RESULT_CHARS,
            tools: ToolSet::All,
        }
    }
}

/// The guard's default threshold (EXTENSIONS.md).
pub const DEFAULT_MAX_RESULT_CHARS: u64 = 80_000;

/// Which tools `tools/list` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolSet {
    /// The nine official tools and memgraphd's own.
    All,
    /// Exactly the official nine.
    Official,
}

/// Room kept in a cut answer's structured JSON for the fields the cut adds
/// (`truncated`, `nextCursor`, `notice`), at their longest.
pub const TRUNCATION_RESERVE: u64 = 640;

/// A parsed tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Rendered exactly as the official server renders it.
    Official(GraphOp),
    /// A bounded official read (`GraphOp::ReadPage`).
    Page { op: GraphOp, scope: Scope },
    /// `search_memory` (`GraphOp::SearchMemory`).
    Search { op: GraphOp, scope: Scope },
    /// `get_neighbors` (`GraphOp::Neighbors`).
    Neighbors { op: GraphOp, scope: Scope },
}

impl Call {
    pub fn op(&self) -> &GraphOp {
        match self {
            Call::Official(op)
            | Call::Page { op, .. }
            | Call::Search { op, .. }
            | Call::Neighbors { op, .. } => op,
        }
    }

    pub fn into_op(self) -> GraphOp {
        match self {
            Call::Official(op)
            | Call::Page { op, .. }
            | Call::Search { op, .. }
            | Call::Neighbors { op, .. } => op,
        }
    }
}

/// Parses a call of `tool` with `arguments` (absent: `None`).
pub fn parse(
    tool: &str,
    arguments: Option<&Map<String, Value>>,
    settings: &Settings,
) -> Result<Call, ArgError> {
    let empty = Map::new();
    let map = arguments.unwrap_or(&empty);
    let call = match tool {
        "read_graph" | "search_nodes" | "open_nodes" => page(tool, arguments, map, settings)?,
        "search_memory" => search_memory(map, settings)?,
        "get_neighbors" => get_neighbors(map, settings)?,
        "memory_history" | "undo" | "supersede_observation" => {
            Call::Official(super::history::parse(tool, map)?)
        }
        _ => Call::Official(args::parse(tool, arguments)?),
    };
    limits::check(call.op()).map_err(|e| ArgError {
        path: e.path,
        problem: e.problem,
    })?;
    Ok(call)
}

const PAGING: [&str; 4] = ["limit", "cursor", "entityTypes", "includeObservations"];

fn page(
    tool: &str,
    arguments: Option<&Map<String, Value>>,
    map: &Map<String, Value>,
    settings: &Settings,
) -> Result<Call, ArgError> {
    let official = args::parse(tool, arguments)?;
    let extended = PAGING.iter().any(|k| map.contains_key(*k));
    if !extended && settings.max_result_chars == 0 {
        return Ok(Call::Official(official));
    }
    let limit = optional_integer(map, "limit")?;
    let entity_types = optional_strings(map, "entityTypes")?;
    let include_observations = optional_bool(map, "includeObservations")?.unwrap_or(true);
    let (source, tool_id) = match official {
        GraphOp::ReadGraph => (PageSource::All, Tool::ReadGraph),
        GraphOp::SearchNodes { query } => (PageSource::Search(query), Tool::SearchNodes),
        GraphOp::OpenNodes(names) => (PageSource::Names(names), Tool::OpenNodes),
        other => return Ok(Call::Official(other)),
    };
    let scope = page_scope(tool_id, &source, entity_types.as_deref().unwrap_or(&[]));
    let after = match optional_string(map, "cursor")? {
        Some(cursor) => Some(position(&scope, &cursor, 1)?[0] as i64),
        None => None,
    };
    let budget = if limit.is_none() {
        guard(settings)
    } else {
        None
    };
    let op = GraphOp::ReadPage(PageQuery {
        source,
        after,
        limit: limit.map(clamp_u32),
        entity_types: entity_types.unwrap_or_default(),
        include_observations,
        budget,
    });
    Ok(Call::Page { op, scope })
}

/// The size guard's budget, unless it is off. `search_memory` and
/// `get_neighbors` always have one: their `limit` bounds how many results,
/// not how large they are.
fn guard(settings: &Settings) -> Option<Budget> {
    (settings.max_result_chars > 0).then_some(Budget {
        chars: settings.max_result_chars,
        reserve: TRUNCATION_RESERVE,
    })
}

/// The scope of a page: the tool, its query or names, and the type filter.
pub fn page_scope(tool: Tool, source: &PageSource, entity_types: &[String]) -> Scope {
    let mut parts: Vec<String> = Vec::new();
    match source {
        PageSource::All => {}
        PageSource::Search(query) => parts.push(query.clone()),
        PageSource::Names(names) => {
            parts.push(names.len().to_string());
            parts.extend(names.iter().cloned());
        }
    }
    parts.push(entity_types.len().to_string());
    parts.extend(entity_types.iter().cloned());
    Scope::new(tool, parts.iter().map(String::as_str))
}

fn search_memory(map: &Map<String, Value>, settings: &Settings) -> Result<Call, ArgError> {
    let query = required_string(map, "query")?;
    let limit = optional_integer(map, "limit")?.map_or(DEFAULT_SEARCH_RESULTS, clamp_u32);
    let entity_types = optional_strings(map, "entityTypes")?.unwrap_or_default();
    let scope_arg = match optional_string(map, "scope")?.as_deref() {
        None | Some("all") => SearchScope::All,
        Some("project") => SearchScope::Project,
        Some(other) => {
            return Err(ArgError {
                path: "scope".into(),
                problem: format!("expected \"all\" or \"project\", received {other:?}"),
            })
        }
    };
    let scope = search_scope(&query, &entity_types, scope_arg);
    let resume = match optional_string(map, "cursor")? {
        Some(cursor) => {
            let p = position(&scope, &cursor, 2)?;
            Some(RankResume {
                snapshot: p[0],
                offset: clamp_u32(p[1]),
            })
        }
        None => None,
    };
    let op = GraphOp::SearchMemory(MemorySearch {
        query,
        limit,
        entity_types,
        scope: scope_arg,
        // Set by the session, which knows its project (`MemoryServer`).
        project: None,
        resume,
        budget: guard(settings),
    });
    Ok(Call::Search { op, scope })
}

/// The scope of a `search_memory` ranking.
pub fn search_scope(query: &str, entity_types: &[String], scope: SearchScope) -> Scope {
    let scope = match scope {
        SearchScope::All => "all",
        SearchScope::Project => "project",
    };
    let count = entity_types.len().to_string();
    let parts = [query, scope, &count]
        .into_iter()
        .chain(entity_types.iter().map(String::as_str));
    Scope::new(Tool::SearchMemory, parts)
}

fn get_neighbors(map: &Map<String, Value>, settings: &Settings) -> Result<Call, ArgError> {
    let name = required_string(map, "name")?;
    let direction = match optional_string(map, "direction")?.as_deref() {
        None | Some("both") => Direction::Both,
        Some("out") => Direction::Out,
        Some("in") => Direction::In,
        Some(other) => {
            return Err(ArgError {
                path: "direction".into(),
                problem: format!("expected \"out\", \"in\" or \"both\", received {other:?}"),
            })
        }
    };
    let relation_types = optional_strings(map, "relationTypes")?.unwrap_or_default();
    let depth = optional_integer(map, "depth")?.map_or(1, |d| d.min(u64::from(u8::MAX)) as u8);
    let limit = optional_integer(map, "limit")?.map_or(DEFAULT_NEIGHBOR_RELATIONS, clamp_u32);
    let scope = neighbors_scope(&name, direction, &relation_types, depth);
    let after = match optional_string(map, "cursor")? {
        Some(cursor) => Some(position(&scope, &cursor, 1)?[0] as i64),
        None => None,
    };
    let op = GraphOp::Neighbors(NeighborQuery {
        name,
        direction,
        relation_types,
        depth,
        limit,
        after,
        budget: guard(settings),
    });
    Ok(Call::Neighbors { op, scope })
}

/// The scope of a `get_neighbors` walk.
pub fn neighbors_scope(
    name: &str,
    direction: Direction,
    relation_types: &[String],
    depth: u8,
) -> Scope {
    let direction = match direction {
        Direction::Out => "out",
        Direction::In => "in",
        Direction::Both => "both",
    };
    let depth = depth.to_string();
    let count = relation_types.len().to_string();
    let parts = [name, direction, depth.as_str(), count.as_str()]
        .into_iter()
        .chain(relation_types.iter().map(String::as_str));
    Scope::new(Tool::GetNeighbors, parts)
}

fn position(scope: &Scope, cursor: &str, fields: usize) -> Result<Vec<u64>, ArgError> {
    scope.decode(cursor, fields).map_err(|e| ArgError {
        path: "cursor".into(),
        problem: format!("this cursor {e}"),
    })
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn mismatch(path: &str, expected: &str, value: Option<&Value>) -> ArgError {
    ArgError {
        path: path.into(),
        problem: format!("expected {expected}, received {}", kind(value)),
    }
}

fn required_string(map: &Map<String, Value>, key: &str) -> Result<String, ArgError> {
    match map.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        other => Err(mismatch(key, "string", other)),
    }
}

fn optional_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, ArgError> {
    match map.get(key) {
        None => Ok(None),
        Some(_) => required_string(map, key).map(Some),
    }
}

fn optional_bool(map: &Map<String, Value>, key: &str) -> Result<Option<bool>, ArgError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        other => Err(mismatch(key, "boolean", other)),
    }
}

/// A non-negative integer; a fraction or a negative number is refused here,
/// bounds are checked by `limits`.
fn optional_integer(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, ArgError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(v)) => Err(ArgError {
                path: key.into(),
                problem: format!("must be at least 1 (got {v})"),
            }),
            // Whole numbers written as floats (`5.0`) are integers in JSON Schema.
            _ => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f >= 0.0 => Ok(Some(f.min(u64::MAX as f64) as u64)),
                _ => Err(ArgError {
                    path: key.into(),
                    problem: format!("expected integer, received {n}"),
                }),
            },
        },
        other => Err(mismatch(key, "integer", other)),
    }
}

/// An optional array of 1 or more strings.
fn optional_strings(map: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ArgError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(ArgError {
                    path: key.into(),
                    problem: "must have at least 1 item".into(),
                });
            }
            if items.len() > limits::MAX_TYPES {
                return Err(ArgError {
                    path: key.into(),
                    problem: format!(
                        "must have at most {} items (got {})",
                        limits::MAX_TYPES,
                        items.len()
                    ),
                });
            }
            items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(mismatch(&format!("{key}[{i}]"), "string", Some(other))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        }
        other => Err(mismatch(key, "array", other)),
    }
}

#[cfg(test)]
mod tests;
