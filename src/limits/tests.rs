//! Unit tests of [`check`]: every limit of docs/TOOLS.md at its boundary, in
//! every field it applies to, and the JSON path each refusal names.

use super::*;
use crate::model::{Entity, GraphOp, ObservationAdd, ObservationDelete, Relation};

// ---- helpers ---------------------------------------------------------------

fn entity(name: &str, entity_type: &str, observations: &[&str]) -> Entity {
    Entity::new(name, entity_type, observations.iter().copied())
}

fn rel(from: &str, to: &str, relation_type: &str) -> Relation {
    Relation::new(from, to, relation_type)
}

fn add(entity_name: &str, contents: &[&str]) -> ObservationAdd {
    ObservationAdd {
        entity_name: entity_name.into(),
        contents: strings(contents),
    }
}

fn del(entity_name: &str, observations: &[&str]) -> ObservationDelete {
    ObservationDelete {
        entity_name: entity_name.into(),
        observations: strings(observations),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `n` copies of `c`.
fn chars(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// The error `check` returns; fails the test if `op` passes.
fn refused(op: &GraphOp) -> LimitError {
    match check(op) {
        Err(e) => e,
        Ok(()) => panic!("{} passed the limits", op.tool_name()),
    }
}

/// The path of the error `check` returns.
fn refused_at(op: &GraphOp) -> String {
    refused(op).path
}

fn passes(op: &GraphOp) {
    if let Err(e) = check(op) {
        panic!("{} refused: {e}", op.tool_name());
    }
}

/// One operation per tool that takes names, with `bad` in the slot at `path`
/// and valid values everywhere else, so each refusal can only come from `bad`.
fn with_name_at(bad: &str) -> Vec<(GraphOp, &'static str)> {
    vec![
        (
            GraphOp::CreateEntities(vec![entity("A", "t", &[]), entity(bad, "t", &[])]),
            "entities[1].name",
        ),
        (
            GraphOp::CreateEntities(vec![entity("A", "t", &[]), entity("B", bad, &[])]),
            "entities[1].entityType",
        ),
        (
            GraphOp::CreateRelations(vec![rel(bad, "B", "r")]),
            "relations[0].from",
        ),
        (
            GraphOp::CreateRelations(vec![rel("A", bad, "r")]),
            "relations[0].to",
        ),
        (
            GraphOp::CreateRelations(vec![rel("A", "B", bad)]),
            "relations[0].relationType",
        ),
        (
            GraphOp::DeleteRelations(vec![rel("A", "B", "r"), rel("A", "B", bad)]),
            "relations[1].relationType",
        ),
        (
            GraphOp::AddObservations(vec![add(bad, &["x"])]),
            "observations[0].entityName",
        ),
        (
            GraphOp::DeleteObservations(vec![del("A", &[]), del(bad, &["x"])]),
            "deletions[1].entityName",
        ),
        (
            GraphOp::DeleteEntities(vec!["A".into(), "B".into(), "C".into(), bad.into()]),
            "entityNames[3]",
        ),
        (GraphOp::OpenNodes(vec![bad.into()]), "names[0]"),
    ]
}

/// One operation per place an observation goes, with `bad` at `path`.
fn with_observation_at(bad: &str) -> Vec<(GraphOp, &'static str)> {
    vec![
        (
            GraphOp::CreateEntities(vec![entity("A", "t", &["ok", bad])]),
            "entities[0].observations[1]",
        ),
        (
            GraphOp::AddObservations(vec![add("A", &["ok", "ok2", bad])]),
            "observations[0].contents[2]",
        ),
        (
            GraphOp::DeleteObservations(vec![del("A", &["ok", bad])]),
            "deletions[0].observations[1]",
        ),
    ]
}

// ---- names -----------------------------------------------------------------

#[test]
fn names_of_one_to_max_chars_pass_everywhere() {
    for good in [
        "x".to_owned(),
        chars('a', MAX_NAME_CHARS),
        chars('é', MAX_NAME_CHARS),
        chars('🦀', MAX_NAME_CHARS),
    ] {
        for (op, path) in with_name_at(&good) {
            if let Err(e) = check(&op) {
                panic!("{path} with {} chars refused: {e}", good.chars().count());
            }
        }
    }
}

#[test]
fn names_are_counted_in_chars_not_bytes() {
    // 1024 × 'é' is 2048 bytes: still 1024 characters, so it passes.
    let accented = chars('é', MAX_NAME_CHARS);
    assert_eq!(accented.len(), 2 * MAX_NAME_CHARS);
    passes(&GraphOp::OpenNodes(vec![accented]));

    let too_long = chars('é', MAX_NAME_CHARS + 1);
    assert_eq!(
        refused(&GraphOp::OpenNodes(vec![too_long])),
        LimitError {
            path: "names[0]".into(),
            problem: "must be at most 1024 characters".into(),
        }
    );
}

#[test]
fn a_name_over_max_chars_is_refused_at_its_path() {
    for too_long in [
        chars('a', MAX_NAME_CHARS + 1),
        chars('é', MAX_NAME_CHARS + 1),
        chars('a', 100 * MAX_NAME_CHARS),
    ] {
        for (op, path) in with_name_at(&too_long) {
            let e = refused(&op);
            assert_eq!(e.path, path);
            assert_eq!(e.problem, "must be at most 1024 characters");
        }
    }
}

#[test]
fn an_empty_name_is_refused_at_its_path() {
    for (op, path) in with_name_at("") {
        assert_eq!(
            refused(&op),
            LimitError {
                path: path.into(),
                problem: "must not be empty".into(),
            }
        );
    }
}

#[test]
fn a_nul_in_a_name_is_refused_at_its_path() {
    for bad in ["\0", "Al\0ice", "Alice\0"] {
        for (op, path) in with_name_at(bad) {
            assert_eq!(
                refused(&op),
                LimitError {
                    path: path.into(),
                    problem: "must not contain the NUL character".into(),
                }
            );
        }
    }
}

#[test]
fn other_control_characters_in_names_pass() {
    for (op, path) in with_name_at("tab\there\nnewline\u{1}") {
        assert_eq!(check(&op), Ok(()), "{path}");
    }
}

// ---- observations ----------------------------------------------------------

#[test]
fn observations_up_to_max_chars_pass_everywhere() {
    for good in [
        String::new(),
        chars('a', MAX_OBSERVATION_CHARS),
        chars('é', MAX_OBSERVATION_CHARS),
    ] {
        for (op, path) in with_observation_at(&good) {
            assert_eq!(check(&op), Ok(()), "{path}");
        }
    }
}

#[test]
fn an_observation_over_max_chars_is_refused_at_its_path() {
    assert_eq!(MAX_OBSERVATION_CHARS, 65_536);
    for too_long in [
        chars('a', MAX_OBSERVATION_CHARS + 1),
        chars('é', MAX_OBSERVATION_CHARS + 1),
    ] {
        for (op, path) in with_observation_at(&too_long) {
            assert_eq!(
                refused(&op),
                LimitError {
                    path: path.into(),
                    problem: "must be at most 65536 characters".into(),
                }
            );
        }
    }
}

#[test]
fn a_nul_in_an_observation_is_refused_at_its_path() {
    for (op, path) in with_observation_at("before\0after") {
        assert_eq!(
            refused(&op),
            LimitError {
                path: path.into(),
                problem: "must not contain the NUL character".into(),
            }
        );
    }
}

// ---- query -----------------------------------------------------------------

fn search(query: String) -> GraphOp {
    GraphOp::SearchNodes { query }
}

#[test]
fn a_query_up_to_max_chars_passes() {
    assert_eq!(MAX_QUERY_CHARS, 2_048);
    passes(&search(String::new()));
    passes(&search(chars('q', MAX_QUERY_CHARS)));
    // 2048 characters, 4096 bytes.
    passes(&search(chars('ж', MAX_QUERY_CHARS)));
}

#[test]
fn a_query_over_max_chars_is_refused() {
    assert_eq!(
        refused(&search(chars('q', MAX_QUERY_CHARS + 1))),
        LimitError {
            path: "query".into(),
            problem: "must be at most 2048 characters (got 2049)".into(),
        }
    );
    assert_eq!(
        refused(&search(chars('ж', MAX_QUERY_CHARS + 1))).path,
        "query"
    );
}

#[test]
fn a_nul_in_the_query_is_refused() {
    assert_eq!(
        refused(&search("ali\0ce".into())),
        LimitError {
            path: "query".into(),
            problem: "must not contain the NUL character".into(),
        }
    );
}

#[test]
fn read_graph_has_no_limits() {
    passes(&GraphOp::ReadGraph);
}

// ---- item counts -----------------------------------------------------------

/// Every list-kind field, built with `n` valid items, and its JSON path.
fn lists_of(n: usize) -> Vec<(GraphOp, &'static str)> {
    let names = || vec!["A".to_owned(); n];
    let relations = || vec![rel("A", "B", "r"); n];
    vec![
        (
            GraphOp::CreateEntities(vec![entity("A", "t", &[]); n]),
            "entities",
        ),
        (GraphOp::CreateRelations(relations()), "relations"),
        (GraphOp::DeleteRelations(relations()), "relations"),
        (
            GraphOp::AddObservations(vec![add("A", &[]); n]),
            "observations",
        ),
        (GraphOp::DeleteEntities(names()), "entityNames"),
        (
            GraphOp::DeleteObservations(vec![del("A", &[]); n]),
            "deletions",
        ),
        (GraphOp::OpenNodes(names()), "names"),
        (
            GraphOp::CreateEntities(vec![
                entity("A", "t", &[]),
                Entity {
                    observations: vec!["o".into(); n],
                    ..entity("B", "t", &[])
                },
            ]),
            "entities[1].observations",
        ),
        (
            GraphOp::AddObservations(vec![ObservationAdd {
                entity_name: "A".into(),
                contents: vec!["o".into(); n],
            }]),
            "observations[0].contents",
        ),
        (
            GraphOp::DeleteObservations(vec![
                del("A", &[]),
                del("B", &[]),
                ObservationDelete {
                    entity_name: "C".into(),
                    observations: vec!["o".into(); n],
                },
            ]),
            "deletions[2].observations",
        ),
    ]
}

#[test]
fn every_list_takes_max_items() {
    assert_eq!(MAX_ITEMS, 10_000);
    for (op, path) in lists_of(MAX_ITEMS) {
        assert_eq!(check(&op), Ok(()), "{path}");
    }
}

#[test]
fn every_list_refuses_one_item_over_max_at_its_path() {
    for (op, path) in lists_of(MAX_ITEMS + 1) {
        assert_eq!(
            refused(&op),
            LimitError {
                path: path.into(),
                problem: "must have at most 10000 items (got 10001)".into(),
            }
        );
    }
}

#[test]
fn empty_lists_pass() {
    for (op, path) in lists_of(0) {
        assert_eq!(check(&op), Ok(()), "{path}");
    }
}

// ---- order and display -----------------------------------------------------

#[test]
fn the_first_violation_in_argument_order_is_reported() {
    let op = GraphOp::CreateEntities(vec![
        entity("A", "t", &["fine"]),
        entity("B", "", &["nul\0"]),
        entity("", "t", &[]),
    ]);
    assert_eq!(refused_at(&op), "entities[1].entityType");

    let op = GraphOp::CreateEntities(vec![entity("", "", &[])]);
    assert_eq!(refused_at(&op), "entities[0].name");

    // The item count is checked before any item.
    let mut many = vec![entity("A", "t", &[]); MAX_ITEMS + 1];
    many[0].name.clear();
    assert_eq!(refused_at(&GraphOp::CreateEntities(many)), "entities");

    let op = GraphOp::CreateRelations(vec![rel("A", "", ""), rel("", "B", "r")]);
    assert_eq!(refused_at(&op), "relations[0].to");
}

#[test]
fn the_error_displays_as_path_colon_problem() {
    let e = refused(&GraphOp::CreateEntities(vec![
        entity("A", "t", &[]),
        entity("B", "", &[]),
    ]));
    assert_eq!(e.to_string(), "entities[1].entityType: must not be empty");
}
