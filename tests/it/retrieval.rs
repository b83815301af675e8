//! Retrieval that serves a model, on the real binary: bounded official reads
//! and their cursors, the size guard, `search_memory`, `get_neighbors`, and
//! the tool surface. Every structured answer is checked against the
//! `outputSchema` the shim publishes, made strict as clients read it.

use serde_json::{json, Value};

use crate::support::{names, OutputSchemas, Shim, TestEnv};

fn entity(name: &str, entity_type: &str, observations: &[&str]) -> Value {
    json!({"name": name, "entityType": entity_type, "observations": observations})
}

/// Creates `n` entities `E000`… (type `even`/`odd`, two observations each)
/// and a relation from each to the next.
fn seed(shim: &mut Shim, n: usize) -> Vec<String> {
    let all: Vec<String> = (0..n).map(|i| format!("E{i:03}")).collect();
    let entities: Vec<Value> = all
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let kind = if i % 2 == 0 { "even" } else { "odd" };
            entity(name, kind, &[&format!("number {i}"), "shared words here"])
        })
        .collect();
    shim.call_ok("create_entities", json!({ "entities": entities }));
    let relations: Vec<Value> = all
        .windows(2)
        .map(|w| json!({"from": w[0], "to": w[1], "relationType": "next"}))
        .collect();
    shim.call_ok("create_relations", json!({ "relations": relations }));
    all
}

/// Calls `tool` with `args`, checks the answer against its schema, and
/// returns the structured content.
fn call_checked(shim: &mut Shim, schemas: &OutputSchemas, tool: &str, args: Value) -> Value {
    let structured = shim.call_ok(tool, args);
    schemas.check(tool, &structured);
    structured
}

/// Follows `nextCursor` from a first call with `args` to the end; returns
/// every page.
fn pages(shim: &mut Shim, schemas: &OutputSchemas, tool: &str, args: Value) -> Vec<Value> {
    let mut all = Vec::new();
    let mut args = args;
    loop {
        let page = call_checked(shim, schemas, tool, args.clone());
        let next = page.get("nextCursor").cloned();
        all.push(page);
        match next {
            Some(cursor) => args["cursor"] = cursor,
            None => return all,
        }
        assert!(all.len() < 1000, "paging does not end");
    }
}

fn text_of(result: &Value, i: usize) -> String {
    result["content"][i]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text item {i}: {result:#}"))
        .to_owned()
}

#[test]
fn paging_read_graph_gives_every_entity_once_in_order_with_its_relations() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let schemas = OutputSchemas::of(&mut shim);
    let all = seed(&mut shim, 23);
    let whole = shim.call_ok("read_graph", json!({}));
    assert!(whole.get("nextCursor").is_none(), "{whole:#}");
    let pages = pages(&mut shim, &schemas, "read_graph", json!({"limit": 5}));
    assert_eq!(pages.len(), 5);
    let paged: Vec<String> = pages.iter().flat_map(names).collect();
    assert_eq!(paged, all);
    for page in &pages {
        // The official rule: every relation with an endpoint on the page.
        let on_page = names(page);
        let expected: Vec<&Value> = whole["relations"]
            .as_array()
            .expect("relations")
            .iter()
            .filter(|r| {
                on_page
                    .iter()
                    .any(|n| r["from"] == json!(n) || r["to"] == json!(n))
            })
            .collect();
        let got: Vec<&Value> = page["relations"]
            .as_array()
            .expect("relations")
            .iter()
            .collect();
        assert_eq!(got, expected);
    }
    // The last page carries no cursor; the others carry no guard fields.
    assert!(pages[4].get("nextCursor").is_none());
    assert!(pages[0].get("truncated").is_none());
}

#[test]
fn filters_and_counts_instead_of_observations() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let schemas = OutputSchemas::of(&mut shim);
    seed(&mut shim, 6);
    let odd = call_checked(
        &mut shim,
        &schemas,
        "read_graph",
        json!({"entityTypes": ["odd"], "includeObservations": false}),
    );
    assert_eq!(names(&odd), ["E001", "E003", "E005"]);
    for e in odd["entities"].as_array().expect("entities") {
        assert_eq!(e["observations"], json!([]));
        assert_eq!(e["observationCount"], json!(2));
    }
    let opened = call_checked(
        &mut shim,
        &schemas,
        "open_nodes",
        json!({"names": ["E004", "E001", "nobody"], "limit": 1}),
    );
    assert_eq!(names(&opened), ["E001"]);
    let rest = call_checked(
        &mut shim,
        &schemas,
        "open_nodes",
        json!({"names": ["E004", "E001", "nobody"], "limit": 1, "cursor": opened["nextCursor"]}),
    );
    assert_eq!(names(&rest), ["E004"]);
    assert!(rest.get("nextCursor").is_none());
    let searched = call_checked(
        &mut shim,
        &schemas,
        "search_nodes",
        json!({"query": "NUMBER", "entityTypes": ["even"]}),
    );
    assert_eq!(names(&searched), ["E000", "E002", "E004"]);
}

#[test]
fn a_cursor_given_to_another_tool_or_query_is_an_error_that_says_so() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    seed(&mut shim, 4);
    let page = shim.call_ok("search_nodes", json!({"query": "number", "limit": 1}));
    let cursor = page["nextCursor"].clone();
    let other_query = shim.call("search_nodes", json!({"query": "shared", "cursor": cursor}));
    assert_eq!(other_query["isError"], json!(true));
    assert!(
        text_of(&other_query, 0).contains("belongs to another search_nodes call"),
        "{other_query:#}"
    );
    let other_tool = shim.call("read_graph", json!({"cursor": cursor}));
    assert_eq!(other_tool["isError"], json!(true));
    assert!(
        text_of(&other_tool, 0).contains("belongs to search_nodes, not read_graph"),
        "{other_tool:#}"
    );
    let garbage = shim.call("read_graph", json!({"cursor": "%%%"}));
    assert!(text_of(&garbage, 0).contains("is not a cursor from this server"));
}

#[test]
fn paging_while_another_session_writes_neither_repeats_nor_skips() {
    let env = TestEnv::new();
    let mut reader = env.shim();
    let mut writer = env.shim();
    let schemas = OutputSchemas::of(&mut reader);
    let all = seed(&mut reader, 30);
    for (tool, args) in [
        ("read_graph", json!({"limit": 4})),
        ("search_nodes", json!({"query": "shared", "limit": 4})),
    ] {
        let mut seen: Vec<String> = Vec::new();
        let mut args = args;
        let mut round = 0;
        loop {
            let page = call_checked(&mut reader, &schemas, tool, args.clone());
            seen.extend(names(&page));
            // Between pages, another session adds entities that match, adds
            // observations to ones already shown, and deletes a newcomer.
            round += 1;
            let newcomer = format!("{tool}-new{round}");
            writer.call_ok(
                "create_entities",
                json!({"entities": [entity(&newcomer, "odd", &["shared too"])]}),
            );
            writer.call_ok(
                "add_observations",
                json!({"observations": [{"entityName": all[round % all.len()], "contents": [format!("shared again {round}")]}]}),
            );
            if round % 3 == 0 {
                writer.call_ok("delete_entities", json!({"entityNames": [newcomer]}));
            }
            match page.get("nextCursor") {
                Some(cursor) => args["cursor"] = cursor.clone(),
                None => break,
            }
        }
        let old: Vec<&String> = seen.iter().filter(|n| all.contains(n)).collect();
        let expected: Vec<&String> = all.iter().collect();
        assert_eq!(old, expected, "{tool}: every old entity once, in order");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{tool}: no entity twice: {seen:?}"
        );
    }
}

/// The length in characters of the first text item of a read.
fn text_chars(result: &Value) -> usize {
    text_of(result, 0).chars().count()
}

#[test]
fn the_guard_fires_exactly_above_the_threshold() {
    let env = TestEnv::new();
    let mut official = env.shim_with(&["--max-result-chars", "0"], &[]);
    seed(&mut official, 40);
    let whole = official.call("read_graph", json!({}));
    let length = text_chars(&whole);
    assert!(length > 2000, "{length}");

    // At the threshold: the official answer, byte for byte.
    let at = length.to_string();
    let mut shim = env.shim_with(&[], &[("MEMGRAPHD_MAX_RESULT_CHARS", at.as_str())]);
    assert_eq!(shim.call("read_graph", json!({})), whole);

    // One character less: the longest prefix that fits, and how to go on.
    let below = (length - 1).to_string();
    let mut shim = env.shim_with(&["--max-result-chars", below.as_str()], &[]);
    let schemas = OutputSchemas::of(&mut shim);
    let cut = shim.call("read_graph", json!({}));
    let structured = &cut["structuredContent"];
    schemas.check("read_graph", structured);
    assert_eq!(structured["truncated"], json!(true));
    assert_eq!(names(structured).len(), 39);
    assert!(text_chars(&cut) < length);
    assert!(structured.to_string().chars().count() < length);
    let notice = structured["notice"].as_str().expect("notice");
    assert_eq!(text_of(&cut, 1), notice);
    assert!(notice.starts_with("Showing 39 of 40 entities"), "{notice}");
    for hint in ["cursor", "limit", "search_memory"] {
        assert!(notice.contains(hint), "{notice}");
    }
    let rest = shim.call_ok("read_graph", json!({"cursor": structured["nextCursor"]}));
    schemas.check("read_graph", &rest);
    assert_eq!(names(&rest), ["E039"]);
    assert!(rest.get("truncated").is_none() && rest.get("nextCursor").is_none());

    // A small threshold cuts into many parts that together are the whole.
    let mut small = env.shim_with(&["--max-result-chars", "1500"], &[]);
    let mut seen = Vec::new();
    let mut args = json!({});
    loop {
        let part = small.call("read_graph", args.clone());
        let structured = part["structuredContent"].clone();
        schemas.check("read_graph", &structured);
        assert!(text_chars(&part) <= 1500, "{part:#}");
        assert!(structured.to_string().chars().count() <= 1500);
        seen.extend(names(&structured));
        match structured.get("nextCursor") {
            Some(c) => args = json!({"cursor": c}),
            None => break,
        }
    }
    assert_eq!(seen, names(&whole["structuredContent"]));
    // An explicit limit is the caller's choice: no guard.
    let limited = small.call_ok("read_graph", json!({"limit": 40}));
    assert_eq!(names(&limited).len(), 40);
    assert!(limited.get("truncated").is_none());
}

#[test]
fn a_broad_search_nodes_is_guarded_and_pages_in_order() {
    let env = TestEnv::new();
    let mut shim = env.shim_with(&["--max-result-chars", "3000"], &[]);
    let schemas = OutputSchemas::of(&mut shim);
    let all = seed(&mut shim, 50);
    let first = shim.call("search_nodes", json!({"query": "shared"}));
    let notice = text_of(&first, 1);
    assert!(notice.contains("of 50 entities"), "{notice}");
    let pages = pages(
        &mut shim,
        &schemas,
        "search_nodes",
        json!({"query": "shared"}),
    );
    let seen: Vec<String> = pages.iter().flat_map(names).collect();
    assert_eq!(seen, all);
}

// ---- search_memory ---------------------------------------------------------

fn results(structured: &Value) -> Vec<String> {
    structured["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect()
}

fn search(shim: &mut Shim, schemas: &OutputSchemas, query: &str) -> Vec<String> {
    results(&call_checked(
        shim,
        schemas,
        "search_memory",
        json!({ "query": query }),
    ))
}

fn memory(shim: &mut Shim) {
    let entities = json!([
        entity(
            "Café Central",
            "place",
            &["A coffee house in Vienna.", "Opened in 1876"]
        ),
        entity(
            "memgraphd",
            "project",
            &[
                "Written in Rust.",
                "Uses the crate my-crate v2.1 for parsing",
                "The foo_bar module holds the index"
            ]
        ),
        entity(
            "Alice",
            "person",
            &["Works at Acme Corp", "likes programming in Rust"]
        ),
        entity(
            "Acme Corp",
            "company",
            &["tech company", "makes rust-proof paint"]
        ),
        entity("Bob", "person", &["drinks coffee every morning"]),
        entity("C++ notes", "topic", &["c++ templates are % hard_to_read"]),
    ]);
    shim.call_ok("create_entities", json!({ "entities": entities }));
}

#[test]
fn search_memory_ranks_words_folds_case_and_diacritics_and_keeps_identifiers() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let schemas = OutputSchemas::of(&mut shim);
    memory(&mut shim);
    assert_eq!(search(&mut shim, &schemas, "cafe")[0], "Café Central");
    assert_eq!(
        search(&mut shim, &schemas, "VIENNA coffee")[0],
        "Café Central"
    );
    // An exact name comes first, whatever else matches its words.
    assert_eq!(search(&mut shim, &schemas, "acme corp")[0], "Acme Corp");
    assert_eq!(search(&mut shim, &schemas, "alice")[0], "Alice");
    for identifier in ["foo_bar", "v2.1", "my-crate", "crate"] {
        assert_eq!(
            search(&mut shim, &schemas, identifier),
            ["memgraphd"],
            "{identifier}"
        );
    }
    // A sentence-final period is not part of the word.
    assert!(search(&mut shim, &schemas, "rust").contains(&"memgraphd".to_owned()));
    // Words in any order, any subset when all of them find too little.
    let found = search(&mut shim, &schemas, "rust programming alice");
    assert_eq!(found[0], "Alice");
    // Substrings of the official rule are not lost.
    assert!(search(&mut shim, &schemas, "lic").contains(&"Alice".to_owned()));
    assert!(search(&mut shim, &schemas, "ming in ru").contains(&"Alice".to_owned()));
}

#[test]
fn search_memory_answers_compactly_with_snippets_and_says_when_nothing_matches() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let schemas = OutputSchemas::of(&mut shim);
    memory(&mut shim);
    let long = "coffee ".repeat(60);
    shim.call_ok(
        "add_observations",
        json!({"observations": [{"entityName": "Bob", "contents": [long]}]}),
    );
    let answer = shim.call("search_memory", json!({"query": "coffee morning"}));
    let structured = &answer["structuredContent"];
    schemas.check("search_memory", structured);
    let first = &structured["results"][0];
    assert_eq!(first["name"], "Bob");
    assert_eq!(first["snippet"], "drinks coffee every morning");
    assert_eq!(first["observationCount"], 2);
    assert!(first["score"].as_f64().expect("score") > 0.0);
    let updated = first["updatedAt"].as_str().expect("updatedAt");
    assert!(updated.len() == 20 && updated.ends_with('Z'), "{updated}");
    let text = text_of(&answer, 0);
    assert!(
        text.starts_with("1. Bob (person): drinks coffee every morning\n"),
        "{text}"
    );
    assert!(
        text.ends_with("open_nodes with the names you need for their observations and relations.")
    );
    for r in structured["results"].as_array().expect("results") {
        assert!(
            r["snippet"].as_str().expect("snippet").chars().count() <= 200,
            "{r}"
        );
    }
    let none = shim.call("search_memory", json!({"query": "zebra"}));
    assert_eq!(none["structuredContent"], json!({"results": []}));
    assert!(text_of(&none, 0).starts_with("No entities match \"zebra\""));
}

#[test]
fn no_query_is_syntax_and_none_fails() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let schemas = OutputSchemas::of(&mut shim);
    memory(&mut shim);
    let queries = [
        "\"",
        "*",
        "(",
        ")",
        ":",
        "-",
        "^",
        "NEAR",
        "AND",
        "OR",
        "c++",
        "%",
        "_",
        "\" * ( ) : - ^ NEAR AND OR c++ % _",
        "NEAR(a b)",
        "a OR b",
        "-x",
        "x*",
        "\"unclosed",
        "col:rust",
        "^start",
        "a AND",
        "OR OR",
        "...",
        "--",
        "_ _",
        "{}",
        "[",
        "\\",
    ];
    for query in queries {
        let answer = shim.call("search_memory", json!({ "query": query }));
        assert_ne!(answer["isError"], json!(true), "{query}: {answer:#}");
        schemas.check("search_memory", &answer["structuredContent"]);
    }
    assert!(search(&mut shim, &schemas, "c++").contains(&"C++ notes".to_owned()));
    assert!(search(&mut shim, &schemas, "%").contains(&"C++ notes".to_owned()));
    assert!(search(&mut shim, &schemas, "hard_to_read").contains(&"C++ notes".to_owned()));
}

#[test]
fn search_memory_pages_without_repeats_while_another_session_writes() {
    let env = TestEnv::new();
    let mut reader = env.shim();
    let mut writer = env.shim();
    let schemas = OutputSchemas::of(&mut reader);
    let all = seed(&mut reader, 25);
    let mut seen: Vec<String> = Vec::new();
    let mut args = json!({"query": "shared words", "limit": 4});
    let mut round = 0;
    loop {
        let page = call_checked(&mut reader, &schemas, "search_memory", args.clone());
        seen.extend(results(&page));
        round += 1;
        // Make later entities score higher and earlier ones lower.
        writer.call_ok(
            "add_observations",
            json!({"observations": [{"entityName": all[all.len() - round], "contents": ["shared words shared words"]}]}),
        );
        writer.call_ok(
            "create_entities",
            json!({"entities": [entity(&format!("N{round}"), "odd", &["shared words"])]}),
        );
        match page.get("nextCursor") {
            Some(c) => args["cursor"] = c.clone(),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, all, "each entity of the first ranking exactly once");
    // A cursor of another query is refused.
    let page = reader.call_ok("search_memory", json!({"query": "shared", "limit": 1}));
    let wrong = reader.call(
        "search_memory",
        json!({"query": "number", "cursor": page["nextCursor"]}),
    );
    assert_eq!(wrong["isError"], json!(true));
    assert!(text_of(&wrong, 0).contains("belongs to another search_memory call"));
}

// ---- get_neighbors ---------------------------------------------------------

#[test]
fn get_neighbors_walks_directions_depths_and_pages() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let schemas = OutputSchemas::of(&mut shim);
    seed(&mut shim, 6);
    shim.call_ok(
        "create_relations",
        json!({"relations": [{"from": "E003", "to": "E000", "relationType": "likes"}]}),
    );
    let near = call_checked(
        &mut shim,
        &schemas,
        "get_neighbors",
        json!({"name": "E002"}),
    );
    assert_eq!(
        near["entity"],
        json!({"name": "E002", "entityType": "even", "observationCount": 2})
    );
    assert_eq!(
        near["relations"],
        json!([
            {"from": "E001", "to": "E002", "relationType": "next"},
            {"from": "E002", "to": "E003", "relationType": "next"}
        ])
    );
    assert_eq!(
        near["neighbors"],
        json!([
            {"name": "E001", "entityType": "odd", "observationCount": 2},
            {"name": "E003", "entityType": "odd", "observationCount": 2}
        ])
    );
    let out = call_checked(
        &mut shim,
        &schemas,
        "get_neighbors",
        json!({"name": "E002", "direction": "out", "depth": 2}),
    );
    let pairs: Vec<(String, String)> = out["relations"]
        .as_array()
        .expect("relations")
        .iter()
        .map(|r| {
            (
                r["from"].as_str().unwrap_or("").into(),
                r["to"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("E002".to_string(), "E003".to_string()),
            ("E003".into(), "E004".into()),
            ("E003".into(), "E000".into())
        ]
    );
    let liked = call_checked(
        &mut shim,
        &schemas,
        "get_neighbors",
        json!({"name": "E000", "direction": "in", "relationTypes": ["likes"]}),
    );
    assert_eq!(names(&json!({"entities": liked["neighbors"]})), ["E003"]);
    let paged = pages(
        &mut shim,
        &schemas,
        "get_neighbors",
        json!({"name": "E002", "depth": 3, "limit": 2}),
    );
    let relations: Vec<Value> = paged
        .iter()
        .flat_map(|p| p["relations"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(relations.len(), 6, "{relations:#?}");
    let missing = shim.call("get_neighbors", json!({"name": "Nobody"}));
    assert_eq!(missing["isError"], json!(true));
    assert_eq!(text_of(&missing, 0), "Entity with name Nobody not found");
}

// ---- the tool surface ------------------------------------------------------

#[test]
fn tools_list_stays_small_and_official_lists_exactly_the_nine() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    let list = shim.request("tools/list", json!({}));
    let chars = list.to_string().chars().count();
    assert!(chars < 16_000, "tools/list is {chars} characters");
    let listed: Vec<&str> = list["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert!(listed.contains(&"search_memory") && listed.contains(&"get_neighbors"));

    for mut official in [
        env.shim_with(&["--tools", "official"], &[]),
        env.shim_with(&[], &[("MEMGRAPHD_TOOLS", "official")]),
    ] {
        let list = official.request("tools/list", json!({}));
        let listed: Vec<&str> = list["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| t["name"].as_str().expect("name"))
            .collect();
        assert_eq!(
            listed,
            [
                "create_entities",
                "create_relations",
                "add_observations",
                "delete_entities",
                "delete_observations",
                "delete_relations",
                "read_graph",
                "search_nodes",
                "open_nodes"
            ]
        );
        let refused = official.call("search_memory", json!({"query": "x"}));
        assert_eq!(refused["isError"], json!(true));
        assert_eq!(
            text_of(&refused, 0),
            "MCP error -32602: Tool search_memory not found"
        );
    }
}

#[test]
fn the_instructions_lead_to_search_memory_then_open_nodes_then_get_neighbors() {
    let env = TestEnv::new();
    let mut shim = env.raw_shim();
    let answer = shim.initialize("2025-11-25");
    let text = answer["instructions"].as_str().expect("instructions");
    let at = |word: &str| text.find(word).unwrap_or_else(|| panic!("{word}: {text}"));
    assert!(at("search_memory") < at("open_nodes") && at("open_nodes") < at("get_neighbors"));
    assert!(text.contains("read_graph returns everything: call it only with limit"));
}

/// `text` padded with words to exactly `chars` characters.
fn padded(text: &str, chars: usize) -> String {
    let mut s = text.to_owned();
    while s.len() < chars {
        s.push_str(" pad");
    }
    s.truncate(chars);
    s
}

/// Follows `nextCursor` from a first call with `args` to the end, checking
/// every whole answer (all its text items, and its structured JSON) stays
/// within `max` characters; returns every answer.
fn guarded_parts(
    shim: &mut Shim,
    schemas: &OutputSchemas,
    tool: &str,
    args: Value,
    max: usize,
) -> Vec<Value> {
    let mut all = Vec::new();
    let mut args = args;
    loop {
        let part = shim.call(tool, args.clone());
        let structured = part["structuredContent"].clone();
        schemas.check(tool, &structured);
        let texts: usize = part["content"]
            .as_array()
            .expect("content")
            .iter()
            .map(|t| t["text"].as_str().expect("text").chars().count())
            .sum();
        let json = structured.to_string().chars().count();
        assert!(
            texts <= max && json <= max,
            "{tool}: {texts} {json} > {max}"
        );
        if structured.get("truncated").is_some() {
            let notice = structured["notice"].as_str().expect("notice");
            assert_eq!(text_of(&part, 1), notice);
            assert!(notice.contains("cursor"), "{notice}");
        }
        let next = structured.get("nextCursor").cloned();
        all.push(structured);
        match next {
            Some(cursor) => args["cursor"] = cursor,
            None => return all,
        }
        assert!(all.len() < 1000, "paging does not end");
    }
}

fn result_names(parts: &[Value]) -> Vec<String> {
    parts.iter().flat_map(results).collect()
}

fn relations_of(parts: &[Value]) -> Vec<Value> {
    parts
        .iter()
        .flat_map(|p| p["relations"].as_array().expect("relations").clone())
        .collect()
}

/// 60 entities whose names and types are 1,000 characters and whose long
/// observations all hold `wide`, and a hub three hops deep: the hub, 60
/// spokes, a rim entity per spoke and a far one per rim, every relation
/// type 1,000 characters too.
fn wide_memory(shim: &mut Shim) {
    let mut entities: Vec<Value> = (0..60)
        .map(|i| {
            json!({
                "name": padded(&format!("wide{i:03}"), 1000),
                "entityType": padded(&format!("type{i:03}"), 1000),
                "observations": [padded(&format!("wide text {i}"), 3000)],
            })
        })
        .collect();
    entities.push(entity("hub", "t", &[]));
    let mut relations = Vec::new();
    for i in 0..60 {
        let (spoke, rim, far) = (
            padded(&format!("spoke{i:03}"), 1000),
            padded(&format!("rim{i:03}"), 1000),
            padded(&format!("far{i:03}"), 1000),
        );
        for name in [&spoke, &rim, &far] {
            entities.push(entity(name, "t", &[]));
        }
        for (from, to) in [("hub", &spoke), (&spoke, &rim), (&rim, &far)] {
            relations.push(json!({
                "from": from,
                "to": to,
                "relationType": padded(&format!("rel{i:03}"), 1000),
            }));
        }
    }
    shim.call_ok("create_entities", json!({ "entities": entities }));
    shim.call_ok("create_relations", json!({ "relations": relations }));
}

#[test]
fn the_guard_bounds_search_memory_and_get_neighbors_and_paging_loses_nothing() {
    let env = TestEnv::new();
    let mut off = env.shim_with(&["--max-result-chars", "0"], &[]);
    let schemas = OutputSchemas::of(&mut off);
    wide_memory(&mut off);
    let search = json!({"query": "wide", "limit": 50});
    let walk = json!({"name": "hub", "depth": 3, "limit": 200});

    // Without the guard nothing is cut, however large.
    let whole_search = pages(&mut off, &schemas, "search_memory", search.clone());
    assert_eq!(whole_search.len(), 2);
    assert!(whole_search[0].to_string().chars().count() > 100_000);
    let whole_walk = pages(&mut off, &schemas, "get_neighbors", walk.clone());
    assert!(whole_walk[0].to_string().chars().count() > 600_000);
    for part in whole_search.iter().chain(&whole_walk) {
        assert!(part.get("truncated").is_none() && part.get("notice").is_none());
    }
    assert_eq!(result_names(&whole_search).len(), 60);
    assert_eq!(relations_of(&whole_walk).len(), 180);

    // With it, every answer is within the threshold, and the parts are the
    // whole, in order, each result once.
    let max = 12_000;
    let limit = max.to_string();
    let mut guarded = env.shim_with(&["--max-result-chars", limit.as_str()], &[]);
    let parts = guarded_parts(&mut guarded, &schemas, "search_memory", search, max);
    assert!(parts.len() > 5, "{}", parts.len());
    assert_eq!(parts[0]["truncated"], json!(true));
    assert_eq!(result_names(&parts), result_names(&whole_search));
    let parts = guarded_parts(&mut guarded, &schemas, "get_neighbors", walk, max);
    assert!(parts.len() > 10, "{}", parts.len());
    assert_eq!(parts[0]["truncated"], json!(true));
    assert_eq!(relations_of(&parts), relations_of(&whole_walk));

    // A small answer is the same with the guard on.
    let narrow = json!({"query": "wide007"});
    assert_eq!(
        guarded.call_ok("search_memory", narrow.clone()),
        off.call_ok("search_memory", narrow)
    );
}
