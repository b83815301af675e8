//! Unit tests of [`parse`]: each tool's arguments into its [`GraphOp`], and
//! every refusal with the path and the words of the official validators.

use serde_json::{json, Value};

use super::*;
use crate::limits::MAX_ITEMS;

// ---- helpers ---------------------------------------------------------------

/// Parses `args`, which must be a JSON object.
fn parse_json(tool: &str, args: Value) -> Result<GraphOp, ArgError> {
    let Value::Object(map) = args else {
        panic!("arguments must be an object: {args}");
    };
    parse(tool, Some(&map))
}

fn parsed(tool: &str, args: Value) -> GraphOp {
    parse_json(tool, args).unwrap_or_else(|e| panic!("{tool} refused: {e}"))
}

fn refused(tool: &str, args: Value) -> ArgError {
    match parse_json(tool, args) {
        Err(e) => e,
        Ok(op) => panic!("{tool} accepted: {op:?}"),
    }
}

fn err(path: &str, problem: &str) -> ArgError {
    ArgError {
        path: path.into(),
        problem: problem.into(),
    }
}

fn entity(name: &str, entity_type: &str, observations: &[&str]) -> Entity {
    Entity::new(name, entity_type, observations.iter().copied())
}

fn rel(from: &str, to: &str, relation_type: &str) -> Relation {
    Relation::new(from, to, relation_type)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---- the nine tools, valid arguments ---------------------------------------

#[test]
fn create_entities_parses() {
    let op = parsed(
        "create_entities",
        json!({"entities": [
            {"name": "Alice", "entityType": "person", "observations": ["likes tea", "Москва"]},
            {"name": "Acme", "entityType": "company", "observations": []},
        ]}),
    );
    assert_eq!(
        op,
        GraphOp::CreateEntities(vec![
            entity("Alice", "person", &["likes tea", "Москва"]),
            entity("Acme", "company", &[]),
        ])
    );
}

#[test]
fn create_relations_parses() {
    let op = parsed(
        "create_relations",
        json!({"relations": [{"from": "Alice", "to": "Acme", "relationType": "works_at"}]}),
    );
    assert_eq!(
        op,
        GraphOp::CreateRelations(vec![rel("Alice", "Acme", "works_at")])
    );
}

#[test]
fn delete_relations_parses() {
    let op = parsed(
        "delete_relations",
        json!({"relations": [
            {"from": "Alice", "to": "Acme", "relationType": "works_at"},
            {"from": "Bob", "to": "Alice", "relationType": "knows"},
        ]}),
    );
    assert_eq!(
        op,
        GraphOp::DeleteRelations(vec![
            rel("Alice", "Acme", "works_at"),
            rel("Bob", "Alice", "knows"),
        ])
    );
}

#[test]
fn add_observations_parses() {
    let op = parsed(
        "add_observations",
        json!({"observations": [
            {"entityName": "Alice", "contents": ["has a dog", "has a cat"]},
            {"entityName": "Bob", "contents": []},
        ]}),
    );
    assert_eq!(
        op,
        GraphOp::AddObservations(vec![
            ObservationAdd {
                entity_name: "Alice".into(),
                contents: strings(&["has a dog", "has a cat"]),
            },
            ObservationAdd {
                entity_name: "Bob".into(),
                contents: vec![],
            },
        ])
    );
}

#[test]
fn delete_entities_parses() {
    let op = parsed("delete_entities", json!({"entityNames": ["Alice", "Bob"]}));
    assert_eq!(op, GraphOp::DeleteEntities(strings(&["Alice", "Bob"])));
}

#[test]
fn delete_observations_parses() {
    let op = parsed(
        "delete_observations",
        json!({"deletions": [{"entityName": "Alice", "observations": ["likes tea"]}]}),
    );
    assert_eq!(
        op,
        GraphOp::DeleteObservations(vec![ObservationDelete {
            entity_name: "Alice".into(),
            observations: strings(&["likes tea"]),
        }])
    );
}

#[test]
fn read_graph_parses_with_or_without_arguments() {
    assert_eq!(parse("read_graph", None), Ok(GraphOp::ReadGraph));
    assert_eq!(parsed("read_graph", json!({})), GraphOp::ReadGraph);
    assert_eq!(
        parsed("read_graph", json!({"anything": [1, 2]})),
        GraphOp::ReadGraph
    );
}

#[test]
fn search_nodes_parses() {
    assert_eq!(
        parsed("search_nodes", json!({"query": "alice bob"})),
        GraphOp::SearchNodes {
            query: "alice bob".into()
        }
    );
    assert_eq!(
        parsed("search_nodes", json!({"query": ""})),
        GraphOp::SearchNodes {
            query: String::new()
        }
    );
}

#[test]
fn open_nodes_parses() {
    assert_eq!(
        parsed("open_nodes", json!({"names": ["Alice", "alice"]})),
        GraphOp::OpenNodes(strings(&["Alice", "alice"]))
    );
    assert_eq!(
        parsed("open_nodes", json!({"names": []})),
        GraphOp::OpenNodes(vec![])
    );
}

#[test]
fn an_unknown_tool_is_refused_without_a_path() {
    let e = refused("no_such_tool", json!({}));
    assert_eq!(e, err("", "unknown tool no_such_tool"));
    assert_eq!(e.to_string(), "unknown tool no_such_tool");
}

// ---- missing fields --------------------------------------------------------

#[test]
fn a_missing_field_is_undefined_at_its_path() {
    let undefined_string = "expected string, received undefined";
    let undefined_array = "expected array, received undefined";
    let cases = [
        (
            "create_entities",
            json!({"entities": [{"name": "A", "observations": []}]}),
            err("entities[0].entityType", undefined_string),
        ),
        (
            "create_entities",
            json!({"entities": [
                {"name": "A", "entityType": "t", "observations": []},
                {"entityType": "t", "observations": []},
            ]}),
            err("entities[1].name", undefined_string),
        ),
        (
            "create_entities",
            json!({"entities": [{"name": "A", "entityType": "t"}]}),
            err("entities[0].observations", undefined_array),
        ),
        (
            "create_entities",
            json!({}),
            err("entities", undefined_array),
        ),
        (
            "create_relations",
            json!({"relations": [{"from": "A", "to": "B"}]}),
            err("relations[0].relationType", undefined_string),
        ),
        (
            "delete_relations",
            json!({"relations": [{"from": "A", "relationType": "r"}]}),
            err("relations[0].to", undefined_string),
        ),
        (
            "add_observations",
            json!({"observations": [{"contents": ["x"]}]}),
            err("observations[0].entityName", undefined_string),
        ),
        (
            "add_observations",
            json!({"observations": [{"entityName": "A"}]}),
            err("observations[0].contents", undefined_array),
        ),
        (
            "delete_entities",
            json!({}),
            err("entityNames", undefined_array),
        ),
        (
            "delete_observations",
            json!({"deletions": [{"entityName": "A"}]}),
            err("deletions[0].observations", undefined_array),
        ),
        ("search_nodes", json!({}), err("query", undefined_string)),
        ("open_nodes", json!({}), err("names", undefined_array)),
    ];
    for (tool, args, expected) in cases {
        assert_eq!(refused(tool, args), expected, "{tool}");
    }
}

#[test]
fn absent_arguments_are_an_empty_object() {
    assert_eq!(
        parse("search_nodes", None),
        Err(err("query", "expected string, received undefined"))
    );
    assert_eq!(
        parse("create_entities", None),
        Err(err("entities", "expected array, received undefined"))
    );
}

#[test]
fn the_error_displays_as_path_colon_problem() {
    let e = refused(
        "create_entities",
        json!({"entities": [{"name": "A", "observations": []}]}),
    );
    assert_eq!(
        e.to_string(),
        "entities[0].entityType: expected string, received undefined"
    );
}

// ---- wrong types -----------------------------------------------------------

#[test]
fn a_wrong_type_is_named_like_the_js_validators() {
    let cases = [
        (json!(42), "number"),
        (json!(1.5), "number"),
        (json!(null), "null"),
        (json!(true), "boolean"),
        (json!({"a": 1}), "object"),
        (json!(["a"]), "array"),
    ];
    for (value, kind) in cases {
        let expected = err("query", &format!("expected string, received {kind}"));
        assert_eq!(refused("search_nodes", json!({ "query": value })), expected);
    }
}

#[test]
fn a_wrong_type_deep_in_the_arguments_names_its_path() {
    let cases = [
        (
            "create_entities",
            json!({"entities": {"name": "A"}}),
            err("entities", "expected array, received object"),
        ),
        (
            "create_entities",
            json!({"entities": ["Alice"]}),
            err("entities[0]", "expected object, received string"),
        ),
        (
            "create_entities",
            json!({"entities": [{"name": "A", "entityType": "t", "observations": "x"}]}),
            err(
                "entities[0].observations",
                "expected array, received string",
            ),
        ),
        (
            "create_entities",
            json!({"entities": [{"name": "A", "entityType": "t", "observations": ["ok", 7]}]}),
            err(
                "entities[0].observations[1]",
                "expected string, received number",
            ),
        ),
        (
            "create_relations",
            json!({"relations": [null]}),
            err("relations[0]", "expected object, received null"),
        ),
        (
            "delete_relations",
            json!({"relations": [{"from": "A", "to": false, "relationType": "r"}]}),
            err("relations[0].to", "expected string, received boolean"),
        ),
        (
            "add_observations",
            json!({"observations": [{"entityName": "A", "contents": ["x", "y", ["z"]]}]}),
            err(
                "observations[0].contents[2]",
                "expected string, received array",
            ),
        ),
        (
            "delete_entities",
            json!({"entityNames": ["A", "B", "C", {"name": "D"}]}),
            err("entityNames[3]", "expected string, received object"),
        ),
        (
            "delete_observations",
            json!({"deletions": [[]]}),
            err("deletions[0]", "expected object, received array"),
        ),
        (
            "open_nodes",
            json!({"names": "Alice"}),
            err("names", "expected array, received string"),
        ),
        (
            "open_nodes",
            json!({"names": null}),
            err("names", "expected array, received null"),
        ),
    ];
    for (tool, args, expected) in cases {
        assert_eq!(refused(tool, args), expected, "{tool}");
    }
}

#[test]
fn the_first_problem_in_argument_order_is_reported() {
    let e = refused(
        "create_entities",
        json!({"entities": [
            {"name": "A", "entityType": 1, "observations": 2},
            {"name": 3},
        ]}),
    );
    assert_eq!(
        e,
        err("entities[0].entityType", "expected string, received number")
    );
}

// ---- unknown keys ----------------------------------------------------------

#[test]
fn unknown_keys_are_ignored_at_every_level() {
    let op = parsed(
        "create_entities",
        json!({
            "entities": [{
                "name": "Extra",
                "entityType": "thing",
                "observations": [],
                "color": "blue",
                "id": 7,
            }],
            "dryRun": true,
        }),
    );
    assert_eq!(
        op,
        GraphOp::CreateEntities(vec![entity("Extra", "thing", &[])])
    );

    let op = parsed(
        "create_relations",
        json!({"relations": [{"from": "A", "to": "B", "relationType": "r", "weight": 1}]}),
    );
    assert_eq!(op, GraphOp::CreateRelations(vec![rel("A", "B", "r")]));

    let op = parsed("search_nodes", json!({"query": "q", "limit": 5}));
    assert_eq!(op, GraphOp::SearchNodes { query: "q".into() });
}

// ---- limits ----------------------------------------------------------------

#[test]
fn an_oversized_array_is_refused_before_its_items_are_converted() {
    // Every item is of the wrong type: the size is what gets reported.
    let too_many = Value::Array(vec![json!(0); MAX_ITEMS + 1]);
    let over = err("entities", "must have at most 10000 items (got 10001)");
    assert_eq!(
        refused("create_entities", json!({ "entities": too_many })),
        over
    );

    let too_many = Value::Array(vec![json!(null); MAX_ITEMS + 1]);
    let e = refused(
        "add_observations",
        json!({"observations": [{"entityName": "A", "contents": too_many}]}),
    );
    assert_eq!(
        e,
        err(
            "observations[0].contents",
            "must have at most 10000 items (got 10001)"
        )
    );
}

#[test]
fn an_array_of_max_items_is_accepted() {
    let names: Vec<Value> = (0..MAX_ITEMS).map(|i| json!(format!("n{i}"))).collect();
    match parsed("open_nodes", json!({ "names": names })) {
        GraphOp::OpenNodes(names) => {
            assert_eq!(names.len(), MAX_ITEMS);
            assert_eq!(names[MAX_ITEMS - 1], "n9999");
        }
        other => panic!("open_nodes parsed as {other:?}"),
    }
}

#[test]
fn limit_errors_come_through_with_the_json_path() {
    let cases = [
        (
            "create_entities",
            json!({"entities": [
                {"name": "A", "entityType": "t", "observations": []},
                {"name": "B", "entityType": "", "observations": []},
            ]}),
            err("entities[1].entityType", "must not be empty"),
        ),
        (
            "add_observations",
            json!({"observations": [{"entityName": "A", "contents": ["a", "b", "c\u{0}"]}]}),
            err(
                "observations[0].contents[2]",
                "must not contain the NUL character",
            ),
        ),
        (
            "delete_observations",
            json!({"deletions": [{"entityName": "A", "observations": ["ok", "x".repeat(65_537)]}]}),
            err(
                "deletions[0].observations[1]",
                "must be at most 65536 characters",
            ),
        ),
        (
            "create_relations",
            json!({"relations": [{"from": "A", "to": "B", "relationType": "é".repeat(1025)}]}),
            err(
                "relations[0].relationType",
                "must be at most 1024 characters",
            ),
        ),
        (
            "delete_entities",
            json!({"entityNames": ["A", "B", "C", ""]}),
            err("entityNames[3]", "must not be empty"),
        ),
        (
            "open_nodes",
            json!({"names": ["\u{0}"]}),
            err("names[0]", "must not contain the NUL character"),
        ),
        (
            "search_nodes",
            json!({"query": "q".repeat(2049)}),
            err("query", "must be at most 2048 characters (got 2049)"),
        ),
    ];
    for (tool, args, expected) in cases {
        assert_eq!(refused(tool, args), expected, "{tool}");
    }
}

#[test]
fn values_at_the_limits_are_accepted() {
    let op = parsed(
        "create_entities",
        json!({"entities": [{
            "name": "é".repeat(1024),
            "entityType": "t",
            "observations": ["o".repeat(65_536)],
        }]}),
    );
    let GraphOp::CreateEntities(entities) = op else {
        panic!("create_entities parsed as {op:?}");
    };
    assert_eq!(entities[0].name.chars().count(), 1024);
    assert_eq!(entities[0].observations[0].len(), 65_536);

    assert_eq!(
        parsed("search_nodes", json!({"query": "ж".repeat(2048)})),
        GraphOp::SearchNodes {
            query: "ж".repeat(2048)
        }
    );
}
