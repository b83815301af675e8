use serde_json::{json, Value};

use super::*;

fn parse_with(tool: &str, args: Value, settings: Settings) -> Result<Call, ArgError> {
    parse(tool, args.as_object(), &settings)
}

fn off() -> Settings {
    Settings {
        max_result_chars: 0,
        tools: ToolSet::All,
    }
}

#[test]
fn official_arguments_with_the_guard_off_are_official_calls() {
    let call = parse_with("read_graph", json!({}), off()).expect("parses");
    assert_eq!(call, Call::Official(GraphOp::ReadGraph));
    let call = parse_with("search_nodes", json!({"query": "tea"}), off()).expect("parses");
    assert_eq!(
        call,
        Call::Official(GraphOp::SearchNodes {
            query: "tea".into()
        })
    );
}

#[test]
fn with_the_guard_on_an_unbounded_read_gets_a_budget() {
    let Call::Page { op, .. } =
        parse_with("read_graph", json!({}), Settings::default()).expect("parses")
    else {
        panic!("a page");
    };
    let GraphOp::ReadPage(page) = op else {
        panic!("a page op")
    };
    assert_eq!(page.limit, None);
    assert_eq!(
        page.budget,
        Some(Budget {
            chars: DEFAULT_MAX_RESULT_CHARS,
            reserve: TRUNCATION_RESERVE
        })
    );
    // A limit turns the guard off for that call.
    let Call::Page { op, .. } =
        parse_with("read_graph", json!({"limit": 5}), Settings::default()).expect("parses")
    else {
        panic!("a page");
    };
    assert!(matches!(
        op,
        GraphOp::ReadPage(PageQuery {
            budget: None,
            limit: Some(5),
            ..
        })
    ));
}

#[test]
fn bad_paging_arguments_name_their_field() {
    let cases = [
        (json!({"limit": 0}), "limit: must be between 1 and 1000 (got 0)"),
        (json!({"limit": 1001}), "limit: must be between 1 and 1000 (got 1001)"),
        (json!({"limit": -3}), "limit: must be at least 1 (got -3)"),
        (json!({"limit": 2.5}), "limit: expected integer, received 2.5"),
        (json!({"limit": "5"}), "limit: expected integer, received string"),
        (json!({"entityTypes": []}), "entityTypes: must have at least 1 item"),
        (json!({"entityTypes": [3]}), "entityTypes[0]: expected string, received number"),
        (json!({"includeObservations": 1}), "includeObservations: expected boolean, received number"),
        (json!({"cursor": "zzz"}), "cursor: this cursor is not a cursor from this server; pass the nextCursor of an earlier answer unchanged"),
    ];
    for (args, expected) in cases {
        let err = parse_with("read_graph", args.clone(), off()).expect_err("refused");
        assert_eq!(err.to_string(), expected, "{args}");
    }
    assert!(parse_with("read_graph", json!({"limit": 5.0}), off()).is_ok());
}

#[test]
fn a_cursor_is_refused_by_another_tool_or_query() {
    let scope = page_scope(Tool::SearchNodes, &PageSource::Search("tea".into()), &[]);
    let cursor = scope.encode(&[4]);
    let ok = parse_with(
        "search_nodes",
        json!({"query": "tea", "cursor": cursor, "limit": 3}),
        off(),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let err = parse_with(
        "search_nodes",
        json!({"query": "coffee", "cursor": cursor}),
        off(),
    )
    .expect_err("another query");
    assert!(
        err.to_string()
            .contains("belongs to another search_nodes call"),
        "{err}"
    );
    let err = parse_with("read_graph", json!({"cursor": cursor}), off()).expect_err("another tool");
    assert!(
        err.to_string()
            .contains("belongs to search_nodes, not read_graph"),
        "{err}"
    );
    let err = parse_with(
        "search_memory",
        json!({"query": "tea", "cursor": cursor}),
        off(),
    )
    .expect_err("another tool");
    assert!(
        err.to_string()
            .contains("belongs to search_nodes, not search_memory"),
        "{err}"
    );
}

#[test]
fn search_memory_and_get_neighbors_have_defaults_and_bounds() {
    let Call::Search { op, .. } =
        parse_with("search_memory", json!({"query": "tea"}), off()).expect("parses")
    else {
        panic!("a search")
    };
    assert_eq!(
        op,
        GraphOp::SearchMemory(MemorySearch {
            query: "tea".into(),
            limit: 10,
            entity_types: vec![],
            scope: SearchScope::All,
            project: None,
            resume: None,
            budget: None,
        })
    );
    let Call::Neighbors { op, .. } =
        parse_with("get_neighbors", json!({"name": "Alice"}), off()).expect("parses")
    else {
        panic!("neighbors")
    };
    assert_eq!(
        op,
        GraphOp::Neighbors(NeighborQuery {
            name: "Alice".into(),
            direction: Direction::Both,
            relation_types: vec![],
            depth: 1,
            limit: 50,
            after: None,
            budget: None,
        })
    );
    let refused = [
        (
            "search_memory",
            json!({"query": ""}),
            "query: must not be empty",
        ),
        (
            "search_memory",
            json!({"query": "a", "limit": 51}),
            "limit: must be between 1 and 50 (got 51)",
        ),
        (
            "search_memory",
            json!({"query": "a", "scope": "team"}),
            "scope: expected \"all\" or \"project\", received \"team\"",
        ),
        (
            "search_memory",
            json!({}),
            "query: expected string, received undefined",
        ),
        (
            "get_neighbors",
            json!({"name": "A", "depth": 4}),
            "depth: must be between 1 and 3 (got 4)",
        ),
        (
            "get_neighbors",
            json!({"name": "A", "limit": 201}),
            "limit: must be between 1 and 200 (got 201)",
        ),
        (
            "get_neighbors",
            json!({"name": "A", "direction": "up"}),
            "direction: expected \"out\", \"in\" or \"both\", received \"up\"",
        ),
        (
            "get_neighbors",
            json!({"name": ""}),
            "name: must not be empty",
        ),
    ];
    for (tool, args, expected) in refused {
        let err = parse_with(tool, args.clone(), off()).expect_err("refused");
        assert_eq!(err.to_string(), expected, "{tool} {args}");
    }
}
