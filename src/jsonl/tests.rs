//! Unit tests of the memory.jsonl format: what `parse_jsonl` accepts, what
//! it reports (with the right 1-based line) and skips, how it merges
//! duplicates, the exact bytes `to_jsonl` writes, and the round trip.

use super::*;
use crate::model::{Entity, Graph, Relation};

// ---- helpers ---------------------------------------------------------------

fn entity(name: &str, entity_type: &str, observations: &[&str]) -> Entity {
    Entity {
        name: name.into(),
        entity_type: entity_type.into(),
        observations: observations.iter().map(|o| (*o).into()).collect(),
    }
}

fn relation(from: &str, to: &str, relation_type: &str) -> Relation {
    Relation {
        from: from.into(),
        to: to.into(),
        relation_type: relation_type.into(),
    }
}

/// One entity line, as the official server writes it.
fn entity_line(name: &str, observations: &[&str]) -> String {
    json!({"type": "entity", "name": name, "entityType": "t", "observations": observations})
        .to_string()
}

fn relation_line(from: &str, to: &str, relation_type: &str) -> String {
    json!({"type": "relation", "from": from, "to": to, "relationType": relation_type}).to_string()
}

fn names(parsed: &ParsedFile) -> Vec<&str> {
    parsed.entities.iter().map(|e| e.name.as_str()).collect()
}

/// The line numbers of the problems, in order.
fn problem_lines(parsed: &ParsedFile) -> Vec<usize> {
    parsed.problems.iter().map(|p| p.line).collect()
}

/// Parses a file made of exactly one line and returns its one problem.
fn only_problem(line: &str) -> Problem {
    let parsed = parse_jsonl(line.as_bytes());
    assert!(parsed.entities.is_empty(), "{parsed:?}");
    assert!(parsed.relations.is_empty(), "{parsed:?}");
    assert_eq!(parsed.problems.len(), 1, "{parsed:?}");
    parsed.problems[0].clone()
}

// ---- accepted shapes -------------------------------------------------------

#[test]
fn an_empty_file_is_an_empty_graph() {
    assert_eq!(parse_jsonl(b""), ParsedFile::default());
    assert_eq!(parse_jsonl(b"\n\n\r\n  \t\n"), ParsedFile::default());
}

#[test]
fn entities_and_relations_are_kept_in_file_order() {
    let text = [
        entity_line("A", &["a1", "a2"]),
        relation_line("A", "B", "knows"),
        entity_line("B", &[]),
        relation_line("B", "A", "knows"),
    ]
    .join("\n");
    let parsed = parse_jsonl(text.as_bytes());
    assert_eq!(
        parsed,
        ParsedFile {
            entities: vec![entity("A", "t", &["a1", "a2"]), entity("B", "t", &[])],
            relations: vec![relation("A", "B", "knows"), relation("B", "A", "knows")],
            problems: vec![],
            duplicate_names: vec![],
        }
    );
}

#[test]
fn blank_lines_are_skipped_and_still_counted() {
    let text = format!(
        "\n{}\n\n   \n\t\n{}\nnot json\n\n",
        entity_line("A", &["x"]),
        entity_line("B", &["y"])
    );
    let parsed = parse_jsonl(text.as_bytes());
    assert_eq!(names(&parsed), ["A", "B"]);
    assert_eq!(problem_lines(&parsed), [7]);
}

#[test]
fn crlf_line_endings_are_accepted() {
    let text = format!(
        "{}\r\n\r\n{}\r\n{{oops\r\n{}\r\n",
        entity_line("A", &["x"]),
        entity_line("B", &["y"]),
        relation_line("A", "B", "r")
    );
    let parsed = parse_jsonl(text.as_bytes());
    assert_eq!(names(&parsed), ["A", "B"]);
    // No stray carriage return ends up in a value.
    assert_eq!(parsed.entities[1].observations, ["y"]);
    assert_eq!(parsed.relations, [relation("A", "B", "r")]);
    assert_eq!(problem_lines(&parsed), [4]);
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice(entity_line("A", &["x"]).as_bytes());
    bytes.extend_from_slice(b"\nbad\n");
    let parsed = parse_jsonl(&bytes);
    assert_eq!(parsed.entities, [entity("A", "t", &["x"])]);
    assert_eq!(problem_lines(&parsed), [2]);
}

#[test]
fn missing_or_null_observations_are_no_observations() {
    let parsed = parse_jsonl(
        br#"{"type":"entity","name":"A","entityType":"t"}
{"type":"entity","name":"B","entityType":"t","observations":null}
{"type":"entity","name":"C","entityType":"t","observations":[]}"#,
    );
    assert_eq!(
        parsed.entities,
        [
            entity("A", "t", &[]),
            entity("B", "t", &[]),
            entity("C", "t", &[])
        ]
    );
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
}

#[test]
fn unknown_fields_are_ignored() {
    let parsed = parse_jsonl(
        br#"{"observations":["o"],"extra":1,"entityType":"t","name":"A","type":"entity"}"#,
    );
    assert_eq!(parsed.entities, [entity("A", "t", &["o"])]);
    assert!(parsed.problems.is_empty());
}

// ---- bad lines -------------------------------------------------------------

#[test]
fn bad_lines_are_reported_by_number_and_the_rest_is_kept() {
    let lines = [
        entity_line("A", &["a"]),                       // 1
        "{not json".to_owned(),                         // 2
        entity_line("B", &["b"]),                       // 3
        "[1, 2, 3]".to_owned(),                         // 4
        "".to_owned(),                                  // 5
        "\"just a string\"".to_owned(),                 // 6
        relation_line("A", "B", "r"),                   // 7
        r#"{"type":"relation","from":"A"}"#.to_owned(), // 8
        entity_line("C", &[]),                          // 9
    ];
    let parsed = parse_jsonl(lines.join("\n").as_bytes());
    assert_eq!(names(&parsed), ["A", "B", "C"]);
    assert_eq!(parsed.relations, [relation("A", "B", "r")]);
    assert_eq!(problem_lines(&parsed), [2, 4, 6, 8]);
    let messages: Vec<&str> = parsed.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(messages[0].starts_with("not JSON"), "{messages:?}");
    assert_eq!(messages[1], "not a JSON object");
    assert_eq!(messages[2], "not a JSON object");
    assert_eq!(messages[3], "\"to\" is missing");
}

#[test]
fn a_truncated_last_line_is_reported_and_the_rest_kept() {
    let whole = format!(
        "{}\n{}\n{}",
        entity_line("A", &["x"]),
        entity_line("B", &["y"]),
        entity_line("C", &["z"])
    );
    // Cut the file in the middle of the last object, with no newline.
    let cut = &whole[..whole.len() - 12];
    let parsed = parse_jsonl(cut.as_bytes());
    assert_eq!(names(&parsed), ["A", "B"]);
    assert_eq!(problem_lines(&parsed), [3]);
    assert!(
        parsed.problems[0].message.starts_with("not JSON"),
        "{:?}",
        parsed.problems
    );
}

#[test]
fn a_line_that_is_not_utf8_is_reported_and_the_rest_kept() {
    let mut bytes = entity_line("A", &["x"]).into_bytes();
    bytes
        .extend_from_slice(b"\n{\"type\":\"entity\",\"name\":\"\xff\xfe\",\"entityType\":\"t\"}\n");
    bytes.extend_from_slice(entity_line("B", &["y"]).as_bytes());
    let parsed = parse_jsonl(&bytes);
    assert_eq!(names(&parsed), ["A", "B"]);
    assert_eq!(problem_lines(&parsed), [2]);
    assert!(
        parsed.problems[0].message.contains("UTF-8"),
        "{:?}",
        parsed.problems
    );
}

#[test]
fn binary_garbage_is_all_problems_and_nothing_else() {
    let bytes: Vec<u8> = (0..2048u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
        .collect();
    let parsed = parse_jsonl(&bytes);
    assert!(parsed.entities.is_empty());
    assert!(parsed.relations.is_empty());
    assert!(!parsed.problems.is_empty());
}

#[test]
fn wrong_types_are_reported() {
    let p = only_problem(r#"{"type":"entity","name":"A","entityType":"t","observations":"x"}"#);
    assert_eq!(p.line, 1);
    assert_eq!(p.message, "\"observations\" is not an array");

    let p = only_problem(r#"{"type":"entity","name":5,"entityType":"t","observations":[]}"#);
    assert_eq!(p.message, "\"name\" is not a string");

    let p = only_problem(r#"{"type":"entity","name":"A","entityType":null}"#);
    assert_eq!(p.message, "\"entityType\" is not a string");

    let p =
        only_problem(r#"{"type":"entity","name":"A","entityType":"t","observations":["ok",3]}"#);
    assert!(p.message.contains("observations"), "{p:?}");

    let p = only_problem(r#"{"type":"relation","from":"A","to":["B"],"relationType":"r"}"#);
    assert_eq!(p.message, "\"to\" is not a string");
}

#[test]
fn missing_fields_are_reported() {
    let p = only_problem(r#"{"type":"entity","entityType":"t","observations":[]}"#);
    assert_eq!(p.message, "\"name\" is missing");
    let p = only_problem(r#"{"type":"entity","name":"A","observations":[]}"#);
    assert_eq!(p.message, "\"entityType\" is missing");
    let p = only_problem(r#"{"type":"relation","from":"A","to":"B"}"#);
    assert_eq!(p.message, "\"relationType\" is missing");
}

#[test]
fn an_unknown_type_is_reported() {
    let p = only_problem(r#"{"type":"node","name":"A","entityType":"t","observations":[]}"#);
    assert_eq!(p.line, 1);
    assert!(p.message.contains("unknown \"type\""), "{p:?}");
    assert!(p.message.contains("node"), "{p:?}");
}

#[test]
fn a_missing_type_is_reported() {
    let p = only_problem(r#"{"name":"A","entityType":"t","observations":[]}"#);
    assert!(p.message.contains("\"type\" is missing"), "{p:?}");
    assert!(p.message.contains("entity"), "says what is expected: {p:?}");
}

#[test]
fn limits_are_reported_per_line() {
    let long = "n".repeat(crate::limits::MAX_NAME_CHARS + 1);
    let longest = "é".repeat(crate::limits::MAX_NAME_CHARS);
    let lines = [
        entity_line("ok", &[]),                // 1
        entity_line("", &["x"]),               // 2
        entity_line("nul", &["fine", "a\0b"]), // 3
        entity_line(&long, &[]),               // 4
        entity_line(&longest, &[]),            // 5: exactly the limit
        relation_line("ok", "", "r"),          // 6
        json!({"type":"entity","name":"T","entityType":"","observations":[]}).to_string(), // 7
        relation_line("ok", "ok", &long),      // 8
        entity_line("last", &[]),              // 9
    ];
    let parsed = parse_jsonl(lines.join("\n").as_bytes());
    assert_eq!(names(&parsed), ["ok", longest.as_str(), "last"]);
    assert!(parsed.relations.is_empty());
    assert_eq!(problem_lines(&parsed), [2, 3, 4, 6, 7, 8]);
    let message = |line: usize| {
        parsed
            .problems
            .iter()
            .find(|p| p.line == line)
            .map(|p| p.message.clone())
            .unwrap_or_default()
    };
    assert_eq!(message(2), "name: must not be empty");
    assert_eq!(
        message(3),
        "observations[1]: must not contain the NUL character"
    );
    assert_eq!(message(4), "name: must be at most 1024 characters");
    assert_eq!(message(6), "to: must not be empty");
    assert_eq!(message(7), "entityType: must not be empty");
    assert_eq!(message(8), "relationType: must be at most 1024 characters");
}

#[test]
fn the_observation_limit_applies() {
    let big = "o".repeat(crate::limits::MAX_OBSERVATION_CHARS + 1);
    let p = only_problem(&entity_line("A", &[&big]));
    assert_eq!(
        p.message,
        "observations[0]: must be at most 65536 characters"
    );
    let fits = "o".repeat(crate::limits::MAX_OBSERVATION_CHARS);
    let parsed = parse_jsonl(entity_line("A", &[&fits]).as_bytes());
    assert!(parsed.problems.is_empty());
    assert_eq!(parsed.entities[0].observations, [fits]);
}

// ---- duplicates ------------------------------------------------------------

#[test]
fn duplicate_names_merge_into_the_first_in_order_and_are_listed_once() {
    let lines = [
        json!({"type":"entity","name":"A","entityType":"first","observations":["a1","a2"]})
            .to_string(),
        entity_line("B", &["b1"]),
        json!({"type":"entity","name":"A","entityType":"second","observations":["a2","a3"]})
            .to_string(),
        entity_line("B", &["b1"]),
        json!({"type":"entity","name":"A","entityType":"third","observations":["a4","a1"]})
            .to_string(),
        entity_line("C", &[]),
    ];
    let parsed = parse_jsonl(lines.join("\n").as_bytes());
    assert_eq!(
        parsed.entities,
        [
            entity("A", "first", &["a1", "a2", "a3", "a4"]),
            entity("B", "t", &["b1"]),
            entity("C", "t", &[]),
        ]
    );
    assert_eq!(parsed.duplicate_names, ["A", "B"]);
    assert!(parsed.problems.is_empty());
}

#[test]
fn a_bad_duplicate_line_does_not_count_as_a_duplicate() {
    let lines = [entity_line("A", &["x"]), entity_line("A", &["bad\0"])];
    let parsed = parse_jsonl(lines.join("\n").as_bytes());
    assert_eq!(parsed.entities, [entity("A", "t", &["x"])]);
    assert!(parsed.duplicate_names.is_empty());
    assert_eq!(problem_lines(&parsed), [2]);
}

#[test]
fn duplicate_observations_collapse_to_the_first() {
    let parsed = parse_jsonl(entity_line("A", &["x", "y", "x", "z", "y"]).as_bytes());
    assert_eq!(parsed.entities, [entity("A", "t", &["x", "y", "z"])]);
    assert!(parsed.duplicate_names.is_empty());
}

#[test]
fn duplicate_relations_are_kept_for_the_store_to_judge() {
    let lines = [relation_line("A", "B", "r"), relation_line("A", "B", "r")];
    let parsed = parse_jsonl(lines.join("\n").as_bytes());
    assert_eq!(parsed.relations.len(), 2);
    assert!(parsed.problems.is_empty());
}

// ---- writing ---------------------------------------------------------------

#[test]
fn to_jsonl_writes_the_official_bytes() {
    let graph = Graph {
        entities: vec![entity("A", "t", &["x"])],
        relations: vec![],
    };
    assert_eq!(
        to_jsonl(&graph),
        "{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"x\"]}\n"
    );
}

#[test]
fn to_jsonl_writes_entities_then_relations_type_first() {
    let graph = Graph {
        entities: vec![
            entity("Zoë", "persön", &["日本語", "say \"hi\"\\"]),
            entity("B", "t", &[]),
        ],
        relations: vec![relation("Zoë", "B", "knöws")],
    };
    let expected = concat!(
        "{\"type\":\"entity\",\"name\":\"Zoë\",\"entityType\":\"persön\",\"observations\":[\"日本語\",\"say \\\"hi\\\"\\\\\"]}\n",
        "{\"type\":\"entity\",\"name\":\"B\",\"entityType\":\"t\",\"observations\":[]}\n",
        "{\"type\":\"relation\",\"from\":\"Zoë\",\"to\":\"B\",\"relationType\":\"knöws\"}\n",
    );
    assert_eq!(to_jsonl(&graph), expected);
}

#[test]
fn to_jsonl_escapes_control_characters_so_every_item_stays_on_one_line() {
    let graph = Graph {
        entities: vec![entity("A", "t", &["line\nbreak\r\ttab"])],
        relations: vec![],
    };
    let text = to_jsonl(&graph);
    assert_eq!(text.matches('\n').count(), 1, "{text:?}");
    assert!(text.contains(r#"line\nbreak\r\ttab"#), "{text:?}");
}

#[test]
fn an_empty_graph_is_an_empty_file() {
    assert_eq!(to_jsonl(&Graph::default()), "");
}

#[test]
fn parse_of_to_jsonl_is_the_same_graph() {
    let graph = Graph {
        entities: vec![
            entity(
                "Alice",
                "person",
                &["likes \"tea\"", "näive café ☕", "tab\tand\nnewline"],
            ),
            entity("Bob", "person", &[]),
            entity(
                "日本",
                "place",
                &["emoji 🦀", "back\\slash", "{\"json\":\"inside\"}"],
            ),
            entity(" spaced ", "odd type", &["  leading and trailing  "]),
        ],
        relations: vec![
            relation("Alice", "Bob", "knows"),
            relation("Bob", "日本", "visited"),
            relation("Alice", "Alice", "is"),
            relation(" spaced ", "Bob", "rel with \"quotes\""),
        ],
    };
    let text = to_jsonl(&graph);
    let parsed = parse_jsonl(text.as_bytes());
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert!(parsed.duplicate_names.is_empty());
    assert_eq!(
        Graph {
            entities: parsed.entities,
            relations: parsed.relations
        },
        graph
    );
    // And writing it again gives the same bytes.
    let again = parse_jsonl(text.as_bytes());
    assert_eq!(
        to_jsonl(&Graph {
            entities: again.entities,
            relations: again.relations
        }),
        text
    );
}

// ---- format detection ------------------------------------------------------

#[test]
fn is_sqlite_recognises_the_header_only() {
    let mut db = b"SQLite format 3\0".to_vec();
    db.extend_from_slice(&[0x10, 0x00, 0x01, 0x01]);
    assert!(is_sqlite(&db));
    assert!(is_sqlite(b"SQLite format 3\0"));
    assert!(!is_sqlite(b"SQLite format 3"));
    assert!(!is_sqlite(b"SQLite format 3\n"));
    assert!(!is_sqlite(b""));
    assert!(!is_sqlite(entity_line("A", &[]).as_bytes()));
    assert!(!is_sqlite(b"\xef\xbb\xbfSQLite format 3\0"));
}
