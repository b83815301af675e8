//! Unit tests of the store, through [`Store::apply`] and [`Batch`] on
//! in-memory and temp-file databases: the edge cases of each of the nine
//! operations, every limit, group commit and idempotent retries, and the
//! migrations (old, new, foreign and repeated). The sibling module
//! `proptests` checks random operation sequences against a model of
//! docs/TOOLS.md.

mod guard;
mod recent;
mod retrieval;

use std::path::Path;

use rusqlite::Connection;

use super::grams::Grams;
use super::*;
use crate::limits::{
    LimitError, MAX_ITEMS, MAX_NAME_CHARS, MAX_OBSERVATION_CHARS, MAX_QUERY_CHARS,
};
use crate::model::{
    AddedObservations, ChangeInfo, CreatedEntities, Deleted, Entity, Graph, GraphOp, HistoryQuery,
    MissingObservation, ObservationAdd, ObservationDelete, Outcome, Purged, Relation,
};

// ---- helpers ---------------------------------------------------------------

fn store() -> Store {
    Store::open_in_memory().expect("an in-memory store opens")
}

fn entity(name: &str, entity_type: &str, observations: &[&str]) -> Entity {
    Entity {
        name: name.into(),
        entity_type: entity_type.into(),
        observations: observations.iter().map(|o| o.to_string()).collect(),
    }
}

fn rel(from: &str, to: &str, relation_type: &str) -> Relation {
    Relation::new(from, to, relation_type)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn apply(store: &mut Store, op: GraphOp) -> Outcome {
    store
        .apply(&op)
        .unwrap_or_else(|e| panic!("{} failed: {e:?}", op.tool_name()))
}

fn create(store: &mut Store, entities: Vec<Entity>) -> CreatedEntities {
    match apply(store, GraphOp::CreateEntities(entities)) {
        Outcome::EntitiesCreated(created) => created,
        other => panic!("create_entities answered {other:?}"),
    }
}

fn relate(store: &mut Store, relations: Vec<Relation>) -> Vec<Relation> {
    match apply(store, GraphOp::CreateRelations(relations)) {
        Outcome::RelationsCreated(created) => created,
        other => panic!("create_relations answered {other:?}"),
    }
}

fn as_graph(outcome: Outcome) -> Graph {
    match outcome {
        Outcome::Graph(graph) => graph,
        other => panic!("expected a graph, got {other:?}"),
    }
}

fn graph(store: &mut Store) -> Graph {
    as_graph(apply(store, GraphOp::ReadGraph))
}

fn search(store: &mut Store, query: &str) -> Graph {
    as_graph(apply(
        store,
        GraphOp::SearchNodes {
            query: query.into(),
        },
    ))
}

fn open(store: &mut Store, names: &[&str]) -> Graph {
    as_graph(apply(store, GraphOp::OpenNodes(strings(names))))
}

fn names(graph: &Graph) -> Vec<&str> {
    graph.entities.iter().map(|e| e.name.as_str()).collect()
}

fn found(store: &mut Store, query: &str) -> Vec<String> {
    names(&search(store, query))
        .into_iter()
        .map(String::from)
        .collect()
}

fn observations_of(store: &mut Store, name: &str) -> Vec<String> {
    let graph = open(store, &[name]);
    assert_eq!(graph.entities.len(), 1, "{name} should exist: {graph:?}");
    graph.entities[0].observations.clone()
}

/// Rows of an FTS5 index that match `text` as a phrase, read straight from SQLite.
/// How many observations the trigram index says hold `text`.
fn observation_grams(store: &Store, text: &str) -> i64 {
    index_hits(store, &Grams::Merged.observation_ids("?1"), text)
}

/// How many entities the trigram index says hold `text` in name or type.
fn entity_grams(store: &Store, text: &str) -> i64 {
    index_hits(store, &Grams::Merged.entity_ids("?1"), text)
}

fn index_hits(store: &Store, rows: &str, text: &str) -> i64 {
    store.index_backlog().expect("the queued rows are indexed");
    let sql = format!("SELECT count(*) FROM ({rows})");
    store
        .connection()
        .query_row(&sql, [read::fts_phrase(text)], |r| r.get(0))
        .expect("the FTS index answers")
}

fn count_rows(store: &Store, table: &str) -> i64 {
    store
        .connection()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .expect("count(*) runs")
}

/// Changes that still hold a retry record (request id and reply).
fn retry_records(s: &Store) -> i64 {
    s.connection()
        .query_row(
            "SELECT count(*) FROM changes WHERE request_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("counts retry records")
}

fn user_version(conn: &Connection) -> u32 {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version reads")
}

/// Makes the store fail with an SQLite error when it inserts the observation
/// `boom`, after the earlier rows of the same request were written.
fn arm_boom(store: &Store) {
    store
        .connection()
        .execute_batch(
            "CREATE TEMP TRIGGER boom BEFORE INSERT ON observations
             WHEN new.content = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .expect("the temp trigger is created");
}

// ---- search ----------------------------------------------------------------

#[test]
fn search_lowercases_unicode() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("Москва", "city", &[]),
            entity("Äpfel", "fruit", &[]),
            entity("İstanbul", "city", &[]),
            entity("Straße", "road", &[]),
            entity("Peter", "person", &["Lives in САНКТ-ПЕТЕРБУРГ"]),
            entity("Ferris", "crab", &["Says 🦀🦀 loudly"]),
        ],
    );
    let cases: &[(&str, &[&str])] = &[
        ("москва", &["Москва"]),
        ("МОСКВА", &["Москва"]),
        ("мос", &["Москва"]), // three characters: the trigram index
        ("мо", &["Москва"]),  // two: the scan
        ("äpfel", &["Äpfel"]),
        ("ÄPFEL", &["Äpfel"]),
        ("äp", &["Äpfel"]),
        // İ lower-cases to i + U+0307, two characters, so `İ` alone scans and
        // `İst` (four characters) uses the index.
        ("İ", &["İstanbul"]),
        ("i\u{307}", &["İstanbul"]),
        ("İst", &["İstanbul"]),
        ("İSTANBUL", &["İstanbul"]),
        ("i\u{307}stanbul", &["İstanbul"]),
        // The rule is lower-casing, not case folding: the combining dot stays.
        ("istanbul", &[]),
        ("ß", &["Straße"]),
        ("aße", &["Straße"]),
        ("STRAẞE", &["Straße"]),
        ("strasse", &[]),
        ("санкт-петербург", &["Peter"]),
        ("санкт", &["Peter"]),
        ("ПЕ", &["Peter"]),
        // Four-byte characters count as one character each.
        ("🦀", &["Ferris"]),
        ("🦀🦀", &["Ferris"]),
        ("S 🦀", &["Ferris"]),
        ("🦀🦀🦀", &[]),
    ];
    for (query, expected) in cases {
        assert_eq!(found(&mut s, query), *expected, "query {query:?}");
    }
}

#[test]
fn search_treats_special_characters_literally() {
    let mut s = store();
    let specials = [
        "100%",
        "a_b",
        "star*",
        "say \"hi\"",
        "it's",
        "NEAR(x y)",
        "this AND that",
        "x OR y",
        "-minus",
        "^caret",
        "col:on",
        "{c1 c2}",
        "paren)",
    ];
    // Types and a plain entity that none of the queries below match.
    let mut entities: Vec<Entity> = specials.iter().map(|n| entity(n, "t", &[])).collect();
    entities.push(entity("plain", "t", &["nothing special here"]));
    entities.push(entity("holder", "t", &["observation with 50% off"]));
    create(&mut s, entities);
    let cases: &[(&str, &[&str])] = &[
        ("%", &["100%", "holder"]),
        ("0%", &["100%", "holder"]),
        ("00%", &["100%"]),
        ("100%", &["100%"]),
        ("50% off", &["holder"]),
        ("_", &["a_b"]),
        ("a_b", &["a_b"]),
        ("a_", &["a_b"]),
        ("*", &["star*"]),
        ("r*", &["star*"]),
        ("ar*", &["star*"]),
        ("\"", &["say \"hi\""]),
        ("\"h", &["say \"hi\""]),
        ("\"hi\"", &["say \"hi\""]),
        ("y \"hi", &["say \"hi\""]),
        ("\"\"", &[]),
        ("\"\"\"", &[]),
        ("'", &["it's"]),
        ("t's", &["it's"]),
        ("it's", &["it's"]),
        ("near(", &["NEAR(x y)"]),
        ("NEAR(x", &["NEAR(x y)"]),
        ("NEAR(a, b)", &[]),
        ("NEAR", &["NEAR(x y)"]),
        (" AND ", &["this AND that"]),
        ("AND", &["this AND that"]),
        ("x OR y", &["x OR y"]),
        ("OR", &["x OR y"]),
        ("a OR b", &[]),
        ("plain OR holder", &[]),
        ("-", &["-minus"]),
        ("-mi", &["-minus"]),
        ("^", &["^caret"]),
        ("^ca", &["^caret"]),
        (":", &["col:on"]),
        ("l:o", &["col:on"]),
        ("text:plain", &[]),
        ("{c1", &["{c1 c2}"]),
        ("{c1 c2}", &["{c1 c2}"]),
        ("n)", &["paren)"]),
        ("en)", &["paren)"]),
        ("(", &["NEAR(x y)"]),
        ("pl*", &[]),
        ("plai*", &[]),
    ];
    for (query, expected) in cases {
        assert_eq!(found(&mut s, query), *expected, "query {query:?}");
    }
}

#[test]
fn empty_query_matches_every_entity_and_relation() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("b", "t", &[]),
            entity("a", "t", &["x"]),
            entity("c", "u", &[]),
        ],
    );
    relate(&mut s, vec![rel("c", "b", "r"), rel("a", "a", "self")]);
    let all = search(&mut s, "");
    assert_eq!(names(&all), ["b", "a", "c"]);
    assert_eq!(all, graph(&mut s));
    assert_eq!(all.relations.len(), 2);
}

#[test]
fn multi_word_query_is_one_substring() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("Alice Bob Smith", "person", &[]),
            entity("Alice", "person", &["knows bob"]),
            entity("Bob", "person", &[]),
            entity("alice", "bob", &[]),
            entity("Carol", "person", &["alice", "bob"]),
            entity("Dan", "person", &["met ALICE BOB today"]),
        ],
    );
    assert_eq!(found(&mut s, "alice bob"), ["Alice Bob Smith", "Dan"]);
    assert_eq!(found(&mut s, "e b"), ["Alice Bob Smith", "Dan"]);
    // Name and type share one index row ("alice\nbob"): the index proposes
    // the entity, the rule turns it down.
    assert_eq!(found(&mut s, "alice\nbob"), Vec::<String>::new());
    assert_eq!(found(&mut s, "e\nb"), Vec::<String>::new());
}

#[test]
fn relation_types_are_not_searched_but_matches_bring_their_relations() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("A", "t", &["aardvark"]),
            entity("B", "t", &[]),
            entity("C", "t", &[]),
        ],
    );
    relate(
        &mut s,
        vec![
            rel("A", "B", "mentors"),
            rel("B", "C", "mentors"),
            rel("C", "A", "likes"),
            rel("C", "C", "mentors"),
        ],
    );
    assert_eq!(search(&mut s, "mentors"), Graph::default());
    assert_eq!(search(&mut s, "me"), Graph::default());
    let hit = search(&mut s, "aardvark");
    assert_eq!(names(&hit), ["A"]);
    assert_eq!(
        hit.relations,
        [rel("A", "B", "mentors"), rel("C", "A", "likes")]
    );
}

#[test]
fn search_results_are_in_storage_order() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("zeta", "t", &["common"]),
            entity("alpha", "common", &[]),
            entity("Common", "t", &[]),
        ],
    );
    assert_eq!(found(&mut s, "common"), ["zeta", "alpha", "Common"]);
    assert_eq!(found(&mut s, "co"), ["zeta", "alpha", "Common"]);
}

#[test]
fn search_follows_added_and_deleted_observations() {
    let mut s = store();
    create(&mut s, vec![entity("A", "t", &[])]);
    assert!(found(&mut s, "zebra").is_empty());
    apply(
        &mut s,
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "A".into(),
            contents: strings(&["Zebra stripes"]),
        }]),
    );
    assert_eq!(found(&mut s, "zebra"), ["A"]);
    assert_eq!(found(&mut s, "ze"), ["A"]);
    apply(
        &mut s,
        GraphOp::DeleteObservations(vec![ObservationDelete {
            entity_name: "A".into(),
            observations: strings(&["Zebra stripes"]),
        }]),
    );
    assert!(found(&mut s, "zebra").is_empty());
    assert!(found(&mut s, "ze").is_empty());
    assert_eq!(observation_grams(&s, "zebra"), 0);
}

/// A store of 200 entities, each with an observation of its own and one
/// they all share: enough rows for the query planner's choices to matter.
fn store_of_200_entities() -> Store {
    let mut s = store();
    let entities = (0..200)
        .map(|i| entity(&format!("e{i}"), "thing", &[&format!("obs {i}"), "shared"]))
        .collect();
    create(&mut s, entities);
    s
}

/// An observation is looked up by its entity and the hash of its text,
/// before statistics and after, never by a walk of the entity's rows.
#[test]
fn an_observation_is_found_by_the_hash_of_its_text() {
    let s = store_of_200_entities();
    let plan = |s: &Store| -> String {
        let mut stmt = s
            .connection()
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                super::content_hash::FIND_OBSERVATION
            ))
            .expect("the plan is prepared");
        let rows = stmt
            .query_map(rusqlite::params![1, "shared"], |r| r.get::<_, String>(3))
            .expect("the plan runs");
        rows.collect::<Result<Vec<_>, _>>()
            .expect("the plan reads")
            .join("\n")
    };
    let fresh = plan(&s);
    s.connection()
        .execute_batch("ANALYZE")
        .expect("ANALYZE runs");
    for plan in [fresh, plan(&s)] {
        assert!(
            plan.contains("USING INDEX observations_by_content (entity_id=? AND content_hash=?)"),
            "{plan}"
        );
    }
}

#[test]
fn indexed_search_does_not_scan_observations_or_entities() {
    let mut s = store_of_200_entities();
    let sql = format!(
        "EXPLAIN QUERY PLAN {}",
        read::indexed_search_sql(Grams::Merged)
    );
    let plan = |s: &Store| -> Vec<String> {
        let mut stmt = s.connection().prepare(&sql).expect("the plan is prepared");
        let rows = stmt
            .query_map([read::fts_phrase("shared")], |r| r.get(3))
            .expect("the plan runs");
        rows.collect::<Result<_, _>>().expect("the plan reads")
    };
    // Without statistics (a new file) and with them (after `PRAGMA optimize`).
    let fresh = plan(&s);
    s.connection()
        .execute_batch("ANALYZE")
        .expect("ANALYZE runs");
    for plan in [fresh, plan(&s)] {
        let plan_text = plan.join("\n");
        for line in &plan {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["SCAN", table, ..] = words.as_slice() {
                assert!(
                    !["o", "x", "e", "observations", "entities"].contains(table),
                    "the search scans {table}:\n{plan_text}"
                );
            }
        }
        assert_eq!(
            plan.iter()
                .filter(|l| l.contains("SCAN trigram_fts VIRTUAL TABLE"))
                .count(),
            2,
            "{plan_text}"
        );
        assert!(
            plan.iter()
                .any(|l| l.starts_with("SEARCH x USING INTEGER PRIMARY KEY")),
            "{plan_text}"
        );
    }
    // And the same SQL gives the right answer.
    assert_eq!(search(&mut s, "obs 199").entities.len(), 1);
    assert_eq!(search(&mut s, "shared").entities.len(), 200);
}

#[test]
fn a_search_can_match_20000_entities_and_open_nodes_can_name_them() {
    let mut s = store();
    for chunk in 0..2 {
        let entities = (0..MAX_ITEMS)
            .map(|i| {
                let n = chunk * MAX_ITEMS + i;
                entity(&format!("n{n}"), "Thing", &[&format!("note {n}")])
            })
            .collect();
        assert_eq!(create(&mut s, entities).created.len(), MAX_ITEMS);
    }
    let relations = (0..MAX_ITEMS)
        .map(|i| rel(&format!("n{i}"), &format!("n{}", i + MAX_ITEMS), "pairs"))
        .collect();
    assert_eq!(relate(&mut s, relations).len(), MAX_ITEMS);

    for query in ["thing", "th", "", "NOTE"] {
        let hit = search(&mut s, query);
        assert_eq!(hit.entities.len(), 2 * MAX_ITEMS, "query {query:?}");
        assert_eq!(hit.relations.len(), MAX_ITEMS, "query {query:?}");
    }
    let hit = search(&mut s, "note 1999");
    assert_eq!(
        names(&hit),
        [
            "n1999", "n19990", "n19991", "n19992", "n19993", "n19994", "n19995", "n19996",
            "n19997", "n19998", "n19999"
        ]
    );

    // The most one call may name, through the limits.
    let first: Vec<String> = (0..MAX_ITEMS).rev().map(|i| format!("n{i}")).collect();
    let opened = as_graph(apply(&mut s, GraphOp::OpenNodes(first)));
    assert_eq!(opened.entities.len(), MAX_ITEMS);
    assert_eq!(
        opened.entities[0].name, "n0",
        "storage order, not request order"
    );
    assert_eq!(opened.relations.len(), MAX_ITEMS);
    // 20,000 names at once below the limits: no bound-variable limit.
    let all: Vec<String> = (0..2 * MAX_ITEMS).map(|i| format!("n{i}")).collect();
    let opened = as_graph(
        read::run(
            s.connection(),
            &s.rankings,
            &GraphOp::OpenNodes(all.clone()),
        )
        .expect("open_nodes runs"),
    );
    assert_eq!(opened.entities.len(), 2 * MAX_ITEMS);
    assert_eq!(opened.relations.len(), MAX_ITEMS);
    // One name over the limit is refused.
    let too_many = GraphOp::OpenNodes(all[..=MAX_ITEMS].to_vec());
    assert!(matches!(s.apply(&too_many), Err(StoreError::Invalid(_))));
}

// ---- names and create_entities ---------------------------------------------

#[test]
fn names_that_differ_only_in_case_are_distinct() {
    let mut s = store();
    let created = create(
        &mut s,
        vec![
            entity("alice", "t", &["lower"]),
            entity("Alice", "t", &["title"]),
            entity("ALICE", "t", &["upper"]),
        ],
    );
    assert_eq!(created.created.len(), 3);
    assert!(created.skipped.is_empty());
    let opened = open(&mut s, &["Alice"]);
    assert_eq!(opened.entities, [entity("Alice", "t", &["title"])]);
    relate(&mut s, vec![rel("alice", "ALICE", "r")]);
    let report = apply(&mut s, GraphOp::DeleteEntities(strings(&["alice"])));
    assert_eq!(
        report,
        Outcome::EntitiesDeleted(Deleted {
            requested: 1,
            deleted: 1,
            missing: vec![]
        })
    );
    let g = graph(&mut s);
    assert_eq!(names(&g), ["Alice", "ALICE"]);
    assert!(g.relations.is_empty());
}

#[test]
fn create_entities_skips_existing_and_repeated_names() {
    let mut s = store();
    create(&mut s, vec![entity("Alice", "person", &["original"])]);
    let result = create(
        &mut s,
        vec![
            entity("Alice", "robot", &["overwritten?"]),
            entity("Bob", "person", &["first"]),
            entity("Bob", "person", &["second"]),
            entity("Carol", "person", &[]),
            entity("Alice", "person", &[]),
            entity("Bob", "x", &[]),
        ],
    );
    assert_eq!(
        result,
        CreatedEntities {
            created: vec![
                entity("Bob", "person", &["first"]),
                entity("Carol", "person", &[])
            ],
            skipped: strings(&["Alice", "Bob"]),
        }
    );
    assert_eq!(
        graph(&mut s).entities,
        [
            entity("Alice", "person", &["original"]),
            entity("Bob", "person", &["first"]),
            entity("Carol", "person", &[]),
        ]
    );
    assert!(found(&mut s, "overwritten").is_empty());
    assert!(found(&mut s, "robot").is_empty());
    assert!(found(&mut s, "second").is_empty());
}

#[test]
fn duplicate_observations_collapse_on_create() {
    let mut s = store();
    let result = create(
        &mut s,
        vec![entity("A", "t", &["x", "y", "x", "z", "y", "x ", ""])],
    );
    let expected = entity("A", "t", &["x", "y", "z", "x ", ""]);
    assert_eq!(result.created, [expected]);
    assert_eq!(graph(&mut s).entities, result.created);
}

// ---- create_relations ------------------------------------------------------

#[test]
fn create_relations_with_an_unknown_endpoint_fails_whole() {
    let mut s = store();
    create(&mut s, vec![entity("A", "t", &[]), entity("B", "t", &[])]);
    let before = graph(&mut s);
    let op = GraphOp::CreateRelations(vec![
        rel("A", "B", "knows"),
        rel("B", "Ghost", "haunts"),
        rel("Nobody", "A", "x"),
    ]);
    let err = s
        .apply(&op)
        .expect_err("an unknown endpoint fails the call");
    assert!(
        matches!(&err, StoreError::UnknownEntity(n) if n == "Ghost"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "Entity with name Ghost not found");
    assert!(err.is_caller_error());
    // The from side is checked first.
    let err = s
        .apply(&GraphOp::CreateRelations(vec![rel("Nobody", "Ghost", "x")]))
        .expect_err("unknown");
    assert!(matches!(&err, StoreError::UnknownEntity(n) if n == "Nobody"));
    // Case matters.
    let err = s
        .apply(&GraphOp::CreateRelations(vec![rel("A", "b", "x")]))
        .expect_err("unknown");
    assert!(matches!(&err, StoreError::UnknownEntity(n) if n == "b"));
    assert_eq!(graph(&mut s), before);
    assert_eq!(count_rows(&s, "relations"), 0);
}

#[test]
fn duplicate_relations_are_not_added() {
    let mut s = store();
    create(&mut s, vec![entity("A", "t", &[]), entity("B", "t", &[])]);
    let added = relate(
        &mut s,
        vec![
            rel("A", "B", "knows"),
            rel("A", "B", "knows"),
            rel("A", "B", "likes"),
            rel("B", "A", "knows"),
            rel("A", "B", "Knows"),
        ],
    );
    assert_eq!(
        added,
        [
            rel("A", "B", "knows"),
            rel("A", "B", "likes"),
            rel("B", "A", "knows"),
            rel("A", "B", "Knows"),
        ]
    );
    let added = relate(&mut s, vec![rel("A", "B", "knows"), rel("B", "B", "self")]);
    assert_eq!(added, [rel("B", "B", "self")]);
    assert_eq!(
        graph(&mut s).relations,
        [
            rel("A", "B", "knows"),
            rel("A", "B", "likes"),
            rel("B", "A", "knows"),
            rel("A", "B", "Knows"),
            rel("B", "B", "self"),
        ]
    );
}

// ---- add_observations ------------------------------------------------------

#[test]
fn add_observations_with_an_unknown_entity_fails_whole() {
    let mut s = store();
    create(&mut s, vec![entity("A", "t", &["a1"])]);
    let op = GraphOp::AddObservations(vec![
        ObservationAdd {
            entity_name: "A".into(),
            contents: strings(&["fresh fact"]),
        },
        ObservationAdd {
            entity_name: "Ghost".into(),
            contents: strings(&["boo"]),
        },
    ]);
    let err = s.apply(&op).expect_err("Ghost is unknown");
    assert!(
        matches!(&err, StoreError::UnknownEntity(n) if n == "Ghost"),
        "{err:?}"
    );
    assert_eq!(observations_of(&mut s, "A"), ["a1"]);
    assert!(found(&mut s, "fresh fact").is_empty());
    assert_eq!(observation_grams(&s, "fresh fact"), 0);
    assert_eq!(count_rows(&s, "observations"), 1);
}

#[test]
fn add_observations_appends_new_contents_once_in_order() {
    let mut s = store();
    create(
        &mut s,
        vec![entity("A", "t", &["a1"]), entity("B", "t", &[])],
    );
    let outcome = apply(
        &mut s,
        GraphOp::AddObservations(vec![
            ObservationAdd {
                entity_name: "A".into(),
                contents: strings(&["a1", "n", "n", "m"]),
            },
            ObservationAdd {
                entity_name: "A".into(),
                contents: strings(&["m", "o"]),
            },
            ObservationAdd {
                entity_name: "B".into(),
                contents: vec![],
            },
        ]),
    );
    let added = |name: &str, added: &[&str]| AddedObservations {
        entity_name: name.into(),
        added: strings(added),
    };
    assert_eq!(
        outcome,
        Outcome::ObservationsAdded(vec![
            added("A", &["n", "m"]),
            added("A", &["o"]),
            added("B", &[]),
        ])
    );
    assert_eq!(observations_of(&mut s, "A"), ["a1", "n", "m", "o"]);
    assert_eq!(found(&mut s, "o"), ["A"]);
}

// ---- deletes ---------------------------------------------------------------

#[test]
fn delete_entity_cascades_to_observations_relations_and_index() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("A", "aardvark", &["unique marmot", "second"]),
            entity("B", "t", &["bee"]),
            entity("C", "t", &[]),
        ],
    );
    relate(
        &mut s,
        vec![
            rel("A", "B", "r"),
            rel("B", "C", "r"),
            rel("C", "A", "r"),
            rel("A", "A", "self"),
            rel("B", "B", "self"),
        ],
    );
    assert_eq!(observation_grams(&s, "marmot"), 1);
    apply(&mut s, GraphOp::DeleteEntities(strings(&["A"])));
    let g = graph(&mut s);
    assert_eq!(names(&g), ["B", "C"]);
    assert_eq!(g.relations, [rel("B", "C", "r"), rel("B", "B", "self")]);
    assert_eq!(count_rows(&s, "observations"), 1);
    assert_eq!(count_rows(&s, "relations"), 2);
    for query in ["marmot", "ma", "unique marmot", "aardvark", "second"] {
        assert!(found(&mut s, query).is_empty(), "query {query:?}");
    }
    assert_eq!(observation_grams(&s, "marmot"), 0);
    assert_eq!(observation_grams(&s, "second"), 0);
    assert_eq!(entity_grams(&s, "aardvark"), 0);
    assert_eq!(observation_grams(&s, "bee"), 1);
    // A new entity with the old name starts empty.
    create(&mut s, vec![entity("A", "t", &[])]);
    assert_eq!(open(&mut s, &["A"]).entities, [entity("A", "t", &[])]);
    assert_eq!(open(&mut s, &["A"]).relations, Vec::<Relation>::new());
}

#[test]
fn reused_ids_do_not_inherit_index_rows() {
    let mut s = store();
    create(&mut s, vec![entity("Alpha", "first", &["apple pie"])]);
    apply(&mut s, GraphOp::DeleteEntities(strings(&["Alpha"])));
    // The live tables are empty again, but the archive keeps Alpha's ids
    // (for undo), so Beta gets the next ones.
    create(&mut s, vec![entity("Beta", "second", &["banana bread"])]);
    let id: i64 = s
        .connection()
        .query_row("SELECT id FROM entities WHERE name = 'Beta'", [], |r| {
            r.get(0)
        })
        .expect("Beta has an id");
    assert_eq!(id, 2);
    for query in ["apple", "alpha", "first", "ap", "pie"] {
        assert!(found(&mut s, query).is_empty(), "query {query:?}");
    }
    assert_eq!(found(&mut s, "banana"), ["Beta"]);
    assert_eq!(found(&mut s, "second"), ["Beta"]);
    assert_eq!(observation_grams(&s, "apple"), 0);
    assert_eq!(entity_grams(&s, "alpha"), 0);
    assert_eq!(observation_grams(&s, "banana"), 1);
}

#[test]
fn insertion_order_survives_deletes_and_re_adds() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("A", "t", &["1", "2", "3"]),
            entity("B", "t", &[]),
            entity("C", "t", &[]),
        ],
    );
    // Entities: a re-created entity goes last, also when it was the last one.
    apply(&mut s, GraphOp::DeleteEntities(strings(&["B"])));
    create(&mut s, vec![entity("B", "t", &[])]);
    assert_eq!(names(&graph(&mut s)), ["A", "C", "B"]);
    apply(&mut s, GraphOp::DeleteEntities(strings(&["B"])));
    create(&mut s, vec![entity("D", "t", &[]), entity("B", "t", &[])]);
    assert_eq!(names(&graph(&mut s)), ["A", "C", "D", "B"]);

    // Observations.
    let delete = |content: &str| {
        GraphOp::DeleteObservations(vec![ObservationDelete {
            entity_name: "A".into(),
            observations: strings(&[content]),
        }])
    };
    let add = |contents: &[&str]| {
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "A".into(),
            contents: strings(contents),
        }])
    };
    apply(&mut s, delete("2"));
    apply(&mut s, add(&["2"]));
    assert_eq!(observations_of(&mut s, "A"), ["1", "3", "2"]);
    apply(&mut s, delete("2"));
    apply(&mut s, add(&["4", "2"]));
    assert_eq!(observations_of(&mut s, "A"), ["1", "3", "4", "2"]);

    // Relations.
    relate(
        &mut s,
        vec![rel("A", "B", "1"), rel("A", "B", "2"), rel("A", "B", "3")],
    );
    apply(&mut s, GraphOp::DeleteRelations(vec![rel("A", "B", "1")]));
    relate(&mut s, vec![rel("A", "B", "1")]);
    apply(&mut s, GraphOp::DeleteRelations(vec![rel("A", "B", "1")]));
    relate(&mut s, vec![rel("C", "D", "x"), rel("A", "B", "1")]);
    assert_eq!(
        graph(&mut s).relations,
        [
            rel("A", "B", "2"),
            rel("A", "B", "3"),
            rel("C", "D", "x"),
            rel("A", "B", "1"),
        ]
    );
}

#[test]
fn delete_entities_reports_what_it_missed() {
    let mut s = store();
    create(&mut s, vec![entity("A", "t", &[]), entity("B", "t", &[])]);
    let report = apply(
        &mut s,
        GraphOp::DeleteEntities(strings(&["A", "Ghost", "A", "B", "Ghost", "b"])),
    );
    assert_eq!(
        report,
        Outcome::EntitiesDeleted(Deleted {
            requested: 4,
            deleted: 2,
            missing: strings(&["Ghost", "b"]),
        })
    );
    assert!(graph(&mut s).entities.is_empty());
    let again = apply(&mut s, GraphOp::DeleteEntities(strings(&["A"])));
    assert_eq!(
        again,
        Outcome::EntitiesDeleted(Deleted {
            requested: 1,
            deleted: 0,
            missing: strings(&["A"]),
        })
    );
    let nothing = apply(&mut s, GraphOp::DeleteEntities(vec![]));
    assert_eq!(
        nothing,
        Outcome::EntitiesDeleted(Deleted {
            requested: 0,
            deleted: 0,
            missing: vec![],
        })
    );
}

#[test]
fn delete_observations_reports_what_it_missed() {
    let mut s = store();
    create(&mut s, vec![entity("A", "t", &["x", "y", "w"])]);
    let deletion = |name: &str, observations: &[&str]| ObservationDelete {
        entity_name: name.into(),
        observations: strings(observations),
    };
    let report = apply(
        &mut s,
        GraphOp::DeleteObservations(vec![
            deletion("A", &["x", "z", "x"]),
            deletion("Ghost", &["p", "q"]),
            deletion("A", &["y", "X"]),
            deletion("Ghost", &["r"]),
        ]),
    );
    assert_eq!(
        report,
        Outcome::ObservationsDeleted(Deleted {
            requested: 7,
            deleted: 2,
            missing: vec![
                MissingObservation::Observation {
                    entity_name: "A".into(),
                    content: "z".into()
                },
                MissingObservation::Entity("Ghost".into()),
                MissingObservation::Observation {
                    entity_name: "A".into(),
                    content: "X".into()
                },
            ],
        })
    );
    assert_eq!(observations_of(&mut s, "A"), ["w"]);
    let all_found = apply(
        &mut s,
        GraphOp::DeleteObservations(vec![deletion("A", &["w"])]),
    );
    assert_eq!(
        all_found,
        Outcome::ObservationsDeleted(Deleted {
            requested: 1,
            deleted: 1,
            missing: vec![],
        })
    );
    assert_eq!(observations_of(&mut s, "A"), Vec::<String>::new());
}

#[test]
fn delete_relations_reports_what_it_missed() {
    let mut s = store();
    create(&mut s, vec![entity("A", "t", &[]), entity("B", "t", &[])]);
    relate(&mut s, vec![rel("A", "B", "k"), rel("B", "A", "j")]);
    let report = apply(
        &mut s,
        GraphOp::DeleteRelations(vec![
            rel("A", "B", "k"),
            rel("A", "B", "k"),
            rel("A", "Ghost", "k"),
            rel("B", "A", "k"),
        ]),
    );
    assert_eq!(
        report,
        Outcome::RelationsDeleted(Deleted {
            requested: 3,
            deleted: 1,
            missing: vec![rel("A", "Ghost", "k"), rel("B", "A", "k")],
        })
    );
    assert_eq!(graph(&mut s).relations, [rel("B", "A", "j")]);
    let report = apply(&mut s, GraphOp::DeleteRelations(vec![rel("B", "A", "j")]));
    assert_eq!(
        report,
        Outcome::RelationsDeleted(Deleted {
            requested: 1,
            deleted: 1,
            missing: vec![],
        })
    );
    assert!(graph(&mut s).relations.is_empty());
}

// ---- open_nodes ------------------------------------------------------------

#[test]
fn open_nodes_returns_each_named_entity_once_in_storage_order() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("A", "t", &["a"]),
            entity("B", "t", &[]),
            entity("C", "t", &["c"]),
            entity("D", "t", &[]),
        ],
    );
    relate(
        &mut s,
        vec![
            rel("A", "B", "r"),
            rel("B", "D", "r"),
            rel("D", "C", "r"),
            rel("C", "A", "r"),
        ],
    );
    let g = open(&mut s, &["C", "A", "Ghost", "A", "c"]);
    assert_eq!(
        g.entities,
        [entity("A", "t", &["a"]), entity("C", "t", &["c"])]
    );
    assert_eq!(
        g.relations,
        [rel("A", "B", "r"), rel("D", "C", "r"), rel("C", "A", "r")]
    );
    assert_eq!(open(&mut s, &[]), Graph::default());
    assert_eq!(open(&mut s, &["Ghost"]), Graph::default());
}

// ---- limits ----------------------------------------------------------------

/// Applies `op`, expects it refused for breaking a limit at `path`, and
/// checks that nothing changed.
fn assert_refused(s: &mut Store, op: GraphOp, path: &str) {
    let before = graph(s);
    let counts = s.counts().expect("counts");
    match s.apply(&op) {
        Err(StoreError::Invalid(LimitError { path: p, problem })) => {
            assert_eq!(p, path, "{} refused for {problem}", op.tool_name());
            assert!(!problem.is_empty());
        }
        other => panic!(
            "{} at {path} should be refused, got {other:?}",
            op.tool_name()
        ),
    }
    assert_eq!(graph(s), before, "{} changed the graph", op.tool_name());
    assert_eq!(s.counts().expect("counts"), counts);
}

fn limit_store() -> Store {
    let mut s = store();
    create(
        &mut s,
        vec![entity("A", "t", &["a"]), entity("B", "t", &[])],
    );
    relate(&mut s, vec![rel("A", "B", "r")]);
    s
}

#[test]
fn more_than_max_items_is_refused_everywhere() {
    let mut s = limit_store();
    let n = MAX_ITEMS + 1;
    let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let relations: Vec<Relation> = (0..n).map(|_| rel("A", "B", "r2")).collect();
    let many: Vec<String> = (0..n).map(|i| format!("o{i}")).collect();
    let cases = vec![
        (
            GraphOp::CreateEntities(names.iter().map(|n| entity(n, "t", &[])).collect()),
            "entities",
        ),
        (
            GraphOp::CreateEntities(vec![Entity {
                name: "N".into(),
                entity_type: "t".into(),
                observations: many.clone(),
            }]),
            "entities[0].observations",
        ),
        (GraphOp::CreateRelations(relations.clone()), "relations"),
        (GraphOp::DeleteRelations(relations), "relations"),
        (
            GraphOp::AddObservations(
                (0..n)
                    .map(|_| ObservationAdd {
                        entity_name: "A".into(),
                        contents: strings(&["new"]),
                    })
                    .collect(),
            ),
            "observations",
        ),
        (
            GraphOp::AddObservations(vec![ObservationAdd {
                entity_name: "A".into(),
                contents: many.clone(),
            }]),
            "observations[0].contents",
        ),
        (GraphOp::DeleteEntities(names.clone()), "entityNames"),
        (
            GraphOp::DeleteObservations(
                (0..n)
                    .map(|_| ObservationDelete {
                        entity_name: "A".into(),
                        observations: strings(&["a"]),
                    })
                    .collect(),
            ),
            "deletions",
        ),
        (
            GraphOp::DeleteObservations(vec![ObservationDelete {
                entity_name: "A".into(),
                observations: many,
            }]),
            "deletions[0].observations",
        ),
        (GraphOp::OpenNodes(names), "names"),
    ];
    for (op, path) in cases {
        assert_refused(&mut s, op, path);
    }
}

#[test]
fn exactly_max_items_is_accepted() {
    let mut s = limit_store();
    let many: Vec<String> = (0..MAX_ITEMS).map(|i| format!("o{i}")).collect();
    let created = create(
        &mut s,
        vec![Entity {
            name: "N".into(),
            entity_type: "t".into(),
            observations: many.clone(),
        }],
    );
    assert_eq!(created.created[0].observations.len(), MAX_ITEMS);
    let report = apply(
        &mut s,
        GraphOp::DeleteObservations(vec![ObservationDelete {
            entity_name: "N".into(),
            observations: many,
        }]),
    );
    assert_eq!(
        report,
        Outcome::ObservationsDeleted(Deleted {
            requested: MAX_ITEMS,
            deleted: MAX_ITEMS,
            missing: vec![],
        })
    );
    let relations: Vec<Relation> = (0..MAX_ITEMS)
        .map(|i| rel("A", "N", &format!("r{i}")))
        .collect();
    assert_eq!(relate(&mut s, relations).len(), MAX_ITEMS);
}

#[test]
fn names_must_be_1_to_1024_characters_without_nul() {
    let mut s = limit_store();
    // Multi-byte characters: the limit counts characters, not bytes.
    let longest = "é".repeat(MAX_NAME_CHARS);
    let too_long = "é".repeat(MAX_NAME_CHARS + 1);
    let created = create(&mut s, vec![entity(&longest, &longest, &[])]);
    assert_eq!(created.created.len(), 1);
    relate(&mut s, vec![rel(&longest, "A", &longest)]);
    assert_eq!(found(&mut s, &"É".repeat(MAX_QUERY_CHARS)).len(), 0);
    assert_eq!(
        found(&mut s, &"É".repeat(MAX_NAME_CHARS)),
        [longest.as_str()]
    );

    let ok = || entity("Fine", "t", &[]);
    let cases = vec![
        (
            GraphOp::CreateEntities(vec![ok(), entity(&too_long, "t", &[])]),
            "entities[1].name",
        ),
        (
            GraphOp::CreateEntities(vec![ok(), entity("X", &too_long, &[])]),
            "entities[1].entityType",
        ),
        (
            GraphOp::CreateEntities(vec![ok(), entity("", "t", &[])]),
            "entities[1].name",
        ),
        (
            GraphOp::CreateEntities(vec![ok(), entity("X", "", &[])]),
            "entities[1].entityType",
        ),
        (
            GraphOp::CreateEntities(vec![ok(), entity("X\0Y", "t", &[])]),
            "entities[1].name",
        ),
        (
            GraphOp::CreateEntities(vec![ok(), entity("X", "t\0", &[])]),
            "entities[1].entityType",
        ),
        (
            GraphOp::CreateRelations(vec![rel("A", "B", "new"), rel(&too_long, "A", "r")]),
            "relations[1].from",
        ),
        (
            GraphOp::CreateRelations(vec![rel("A", "B", "new"), rel("A", "", "r")]),
            "relations[1].to",
        ),
        (
            GraphOp::CreateRelations(vec![rel("A", "B", "new"), rel("A", "B", &too_long)]),
            "relations[1].relationType",
        ),
        (
            GraphOp::CreateRelations(vec![rel("A", "B", "new"), rel("A", "B", "")]),
            "relations[1].relationType",
        ),
        (
            GraphOp::CreateRelations(vec![rel("A", "B", "new"), rel("A\0", "B", "r")]),
            "relations[1].from",
        ),
        (
            GraphOp::DeleteRelations(vec![rel("A", "B", "r"), rel("A", "B", "")]),
            "relations[1].relationType",
        ),
        (
            GraphOp::AddObservations(vec![
                ObservationAdd {
                    entity_name: "A".into(),
                    contents: strings(&["new"]),
                },
                ObservationAdd {
                    entity_name: String::new(),
                    contents: vec![],
                },
            ]),
            "observations[1].entityName",
        ),
        (
            GraphOp::DeleteEntities(strings(&["A", &too_long])),
            "entityNames[1]",
        ),
        (
            GraphOp::DeleteEntities(strings(&["A", ""])),
            "entityNames[1]",
        ),
        (
            GraphOp::DeleteEntities(strings(&["A", "B\0"])),
            "entityNames[1]",
        ),
        (
            GraphOp::DeleteObservations(vec![
                ObservationDelete {
                    entity_name: "A".into(),
                    observations: strings(&["a"]),
                },
                ObservationDelete {
                    entity_name: "".into(),
                    observations: vec![],
                },
            ]),
            "deletions[1].entityName",
        ),
        (GraphOp::OpenNodes(strings(&["A", ""])), "names[1]"),
        (GraphOp::OpenNodes(strings(&["A", &too_long])), "names[1]"),
        (GraphOp::OpenNodes(strings(&["A", "\0"])), "names[1]"),
    ];
    for (op, path) in cases {
        assert_refused(&mut s, op, path);
    }
}

#[test]
fn observations_are_at_most_65536_characters_without_nul() {
    let mut s = limit_store();
    let longest = "ж".repeat(MAX_OBSERVATION_CHARS);
    let too_long = "ж".repeat(MAX_OBSERVATION_CHARS + 1);
    let created = create(&mut s, vec![entity("Long", "t", &[&longest])]);
    assert_eq!(created.created[0].observations, [longest]);
    let outcome = apply(
        &mut s,
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "A".into(),
            contents: vec![format!("{}x", "ж".repeat(MAX_OBSERVATION_CHARS - 1))],
        }]),
    );
    assert!(matches!(outcome, Outcome::ObservationsAdded(ref r) if r[0].added.len() == 1));
    assert_eq!(found(&mut s, "ЖЖЖЖX"), ["A"]);

    let cases = vec![
        (
            GraphOp::CreateEntities(vec![
                entity("Fine", "t", &[]),
                entity("X", "t", &["ok", &too_long]),
            ]),
            "entities[1].observations[1]",
        ),
        (
            GraphOp::CreateEntities(vec![entity("X", "t", &["a\0b"])]),
            "entities[0].observations[0]",
        ),
        (
            GraphOp::AddObservations(vec![
                ObservationAdd {
                    entity_name: "A".into(),
                    contents: strings(&["new"]),
                },
                ObservationAdd {
                    entity_name: "B".into(),
                    contents: vec!["ok".into(), too_long.clone()],
                },
            ]),
            "observations[1].contents[1]",
        ),
        (
            GraphOp::AddObservations(vec![ObservationAdd {
                entity_name: "A".into(),
                contents: strings(&["new", "\0"]),
            }]),
            "observations[0].contents[1]",
        ),
        (
            GraphOp::DeleteObservations(vec![ObservationDelete {
                entity_name: "A".into(),
                observations: vec!["a".into(), too_long],
            }]),
            "deletions[0].observations[1]",
        ),
        (
            GraphOp::DeleteObservations(vec![ObservationDelete {
                entity_name: "A".into(),
                observations: strings(&["a", "a\0"]),
            }]),
            "deletions[0].observations[1]",
        ),
    ];
    for (op, path) in cases {
        assert_refused(&mut s, op, path);
    }
}

#[test]
fn queries_are_at_most_2048_characters_without_nul() {
    let mut s = limit_store();
    create(
        &mut s,
        vec![entity("Q", "t", &[&"q".repeat(MAX_QUERY_CHARS)])],
    );
    // Upper-case İ doubles in length when lower-cased; the limit is on the query.
    let longest = [
        ("Q".repeat(MAX_QUERY_CHARS), 1),
        ("İ".repeat(MAX_QUERY_CHARS), 0),
        ("%".repeat(MAX_QUERY_CHARS), 0),
        (format!("{}Q", "q".repeat(MAX_QUERY_CHARS - 1)), 1),
    ];
    for (query, hits) in longest {
        assert_eq!(found(&mut s, &query).len(), hits, "{}…", &query[..8]);
    }
    let cases = [
        "Q".repeat(MAX_QUERY_CHARS + 1),
        "ж".repeat(MAX_QUERY_CHARS + 1),
        "a\0".into(),
        "\0".into(),
    ];
    for query in cases {
        assert_refused(&mut s, GraphOp::SearchNodes { query }, "query");
    }
}

// ---- batches, savepoints and retries ----------------------------------------

#[test]
fn a_failing_request_rolls_back_alone() {
    let mut s = store();
    arm_boom(&s);
    // Fails half-way, after the entity and its first observation were written.
    let err = s
        .apply(&GraphOp::CreateEntities(vec![
            entity("Early", "t", &[]),
            entity("Boomer", "t", &["okay", "boom"]),
        ]))
        .expect_err("the trigger aborts the insert");
    assert!(matches!(err, StoreError::Sqlite(_)), "{err:?}");
    assert!(!err.is_caller_error());
    assert_eq!(graph(&mut s), Graph::default());
    assert_eq!(count_rows(&s, "observations"), 0);
    assert_eq!(entity_grams(&s, "early"), 0);
    assert_eq!(observation_grams(&s, "okay"), 0);

    let mut batch = s.batch().expect("a batch starts");
    let first = batch
        .apply(&GraphOp::CreateEntities(vec![entity("A", "t", &["a"])]))
        .expect("the first request succeeds");
    assert!(matches!(first, Outcome::EntitiesCreated(ref c) if c.created.len() == 1));
    let second = batch.apply(&GraphOp::CreateRelations(vec![rel("A", "Ghost", "r")]));
    assert!(matches!(second, Err(StoreError::UnknownEntity(ref n)) if n == "Ghost"));
    let third = batch.apply(&GraphOp::AddObservations(vec![ObservationAdd {
        entity_name: "A".into(),
        contents: strings(&["fine", "boom"]),
    }]));
    assert!(matches!(third, Err(StoreError::Sqlite(_))), "{third:?}");
    let fourth = batch.apply(&GraphOp::CreateEntities(vec![entity("B", "t", &[])]));
    assert!(fourth.is_ok());
    // Reads inside a batch see its writes.
    let seen = batch.apply(&GraphOp::ReadGraph).expect("read in a batch");
    assert_eq!(names(&as_graph(seen)), ["A", "B"]);
    batch.commit().expect("the batch commits");

    let g = graph(&mut s);
    assert_eq!(
        g,
        Graph {
            entities: vec![entity("A", "t", &["a"]), entity("B", "t", &[])],
            relations: vec![],
        }
    );
    assert!(found(&mut s, "fine").is_empty());

    // A dropped batch commits nothing.
    let mut batch = s.batch().expect("a batch starts");
    batch
        .apply(&GraphOp::CreateEntities(vec![entity("C", "t", &[])]))
        .expect("applies");
    drop(batch);
    assert_eq!(names(&graph(&mut s)), ["A", "B"]);
    assert!(found(&mut s, "c").is_empty());
}

#[test]
fn a_lone_write_is_atomic_and_applied_once_per_request_id() {
    let mut s = store();
    let author = Author::default();
    let create_x = GraphOp::CreateEntities(vec![entity("X", "t", &["o"])]);
    let first = s
        .apply_alone(&create_x, &author, Some(b"req-1"))
        .expect("applies");
    let again = s
        .apply_alone(&create_x, &author, Some(b"req-1"))
        .expect("answers");
    assert_eq!(again, first, "the retry gets the first answer");
    assert_eq!(graph(&mut s).entities, [entity("X", "t", &["o"])]);
    assert_eq!(retry_records(&s), 1);

    // A write that fails part way leaves nothing. Entity ids from 2^31 on
    // cannot number a word-index row, so a create past one writes its
    // entity and observation rows, then fails on the index rows.
    s.connection()
        .execute(
            "INSERT INTO entities (id, name, entity_type, created_at, updated_at, created_change)
             VALUES (2147483647, 'Last', 't', 0, 0, 1)",
            [],
        )
        .expect("inserts the highest entity id the index can number");
    let changes = count_rows(&s, "changes");
    let past = GraphOp::CreateEntities(vec![entity("Past", "t", &["findable words"])]);
    assert!(matches!(
        s.apply_alone(&past, &author, Some(b"req-2")),
        Err(StoreError::Refused(_))
    ));
    assert_eq!(names(&graph(&mut s)), ["X", "Last"]);
    assert_eq!(count_rows(&s, "observations"), 1);
    assert_eq!(count_rows(&s, "changes"), changes);
    assert_eq!(retry_records(&s), 1);
    assert!(found(&mut s, "findable").is_empty());
}

#[test]
fn apply_once_applies_a_request_id_once() {
    let mut s = store();
    let create_x = GraphOp::CreateEntities(vec![entity("X", "t", &["o"])]);
    let mut batch = s.batch().expect("a batch starts");
    let first = batch
        .apply_once(b"req-1", &create_x, &Author::default())
        .expect("applies");
    assert_eq!(
        first,
        Outcome::EntitiesCreated(CreatedEntities {
            created: vec![entity("X", "t", &["o"])],
            skipped: vec![],
        })
    );
    let again = batch
        .apply_once(b"req-1", &create_x, &Author::default())
        .expect("answers");
    assert_eq!(again, first, "the retry gets the first answer");
    batch.commit().expect("commits");
    assert_eq!(graph(&mut s).entities, [entity("X", "t", &["o"])]);

    // Across transactions too. A retry carries the request it retries; the
    // record is read against it, and another request under a used id is
    // refused, never applied.
    let mut batch = s.batch().expect("a batch starts");
    assert_eq!(
        batch
            .apply_once(b"req-1", &create_x, &Author::default())
            .expect("answers"),
        first
    );
    let other = GraphOp::CreateEntities(vec![entity("Y", "t", &[])]);
    assert!(matches!(
        batch.apply_once(b"req-1", &other, &Author::default()),
        Err(StoreError::RecordDecode(_))
    ));
    // A new id applies anew: X now exists, so it is skipped.
    let fresh = batch
        .apply_once(b"req-2", &create_x, &Author::default())
        .expect("applies");
    assert_eq!(
        fresh,
        Outcome::EntitiesCreated(CreatedEntities {
            created: vec![],
            skipped: strings(&["X"]),
        })
    );
    // A failed request is not recorded: its retry runs again.
    let relate_ghost = GraphOp::CreateRelations(vec![rel("X", "Ghost", "r")]);
    let failed = batch.apply_once(b"req-3", &relate_ghost, &Author::default());
    assert!(matches!(failed, Err(StoreError::UnknownEntity(_))));
    batch
        .apply(&GraphOp::CreateEntities(vec![entity("Ghost", "t", &[])]))
        .expect("applies");
    let retried = batch
        .apply_once(b"req-3", &relate_ghost, &Author::default())
        .expect("applies");
    assert_eq!(
        retried,
        Outcome::RelationsCreated(vec![rel("X", "Ghost", "r")])
    );
    batch.commit().expect("commits");
    assert_eq!(names(&graph(&mut s)), ["X", "Ghost"]);
    assert_eq!(retry_records(&s), 3);

    // A record dropped with its batch is gone with the write.
    let create_z = GraphOp::CreateEntities(vec![entity("Z", "t", &[])]);
    let mut batch = s.batch().expect("a batch starts");
    batch
        .apply_once(b"req-4", &create_z, &Author::default())
        .expect("applies");
    drop(batch);
    let mut batch = s.batch().expect("a batch starts");
    let redo = batch
        .apply_once(b"req-4", &create_z, &Author::default())
        .expect("applies");
    assert!(matches!(redo, Outcome::EntitiesCreated(ref c) if c.created.len() == 1));

    // Forgotten ids apply again.
    assert_eq!(batch.forget_requests_before(i64::MIN).expect("forgets"), 0);
    assert_eq!(
        batch
            .forget_requests_before(now_millis() + 1)
            .expect("forgets"),
        4
    );
    let after = batch
        .apply_once(b"req-1", &create_x, &Author::default())
        .expect("applies");
    assert_eq!(
        after,
        Outcome::EntitiesCreated(CreatedEntities {
            created: vec![],
            skipped: strings(&["X"]),
        })
    );
    batch.commit().expect("commits");
}

#[test]
fn apply_once_checks_limits_on_new_requests() {
    let mut s = store();
    let mut batch = s.batch().expect("a batch starts");
    let bad = GraphOp::CreateEntities(vec![entity("", "t", &[])]);
    assert!(matches!(
        batch.apply_once(b"bad", &bad, &Author::default()),
        Err(StoreError::Invalid(_))
    ));
    batch.commit().expect("commits");
    assert_eq!(retry_records(&s), 0);
    assert_eq!(count_rows(&s, "entities"), 0);
}

// ---- files and migrations ---------------------------------------------------

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mgstore")
        .tempdir()
        .expect("a temp dir")
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the dir reads")
        .map(|e| {
            e.expect("a dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_file_store_persists_and_creates_its_directory() {
    let dir = temp_dir();
    let path = dir.path().join("a/b/memory.db");
    for durability in [Durability::Full, Durability::Normal] {
        let mut s = Store::open(&path, durability).expect("opens");
        assert_eq!(s.path(), Some(path.as_path()));
        create(
            &mut s,
            vec![entity(&format!("{durability:?}"), "t", &["ω"])],
        );
        s.close().expect("closes");
    }
    let mut s = Store::open(&path, Durability::Full).expect("reopens");
    assert_eq!(names(&graph(&mut s)), ["Full", "Normal"]);
    assert_eq!(found(&mut s, "Ω"), ["Full", "Normal"]);
    let mode: String = s
        .connection()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode reads");
    assert_eq!(mode, "wal");
    assert_eq!(
        s.counts().expect("counts"),
        Counts {
            entities: 2,
            observations: 2,
            relations: 0
        }
    );
}

#[test]
fn an_old_schema_is_migrated_on_open() {
    let dir = temp_dir();
    let path = dir.path().join("v1.db");
    {
        let conn = Connection::open(&path).expect("a plain connection");
        conn.execute_batch(schema::MIGRATIONS[0])
            .expect("v1 schema");
        conn.pragma_update(None, "user_version", 1)
            .expect("user_version");
        conn.execute_batch(
            "INSERT INTO entities (id, name, entity_type, created_at, updated_at)
                 VALUES (1, 'Alice', 'Person', 0, 0), (2, 'Москва', 'City', 0, 0);
             INSERT INTO entity_fts (rowid, text)
                 VALUES (1, 'alice' || char(10) || 'person'), (2, 'москва' || char(10) || 'city');
             INSERT INTO observations (id, entity_id, content, created_at)
                 VALUES (1, 1, 'Likes Tea', 0), (2, 2, 'Capital of RUSSIA', 0), (3, 1, 'Lives in Москва', 0);
             INSERT INTO observation_fts (rowid, text)
                 VALUES (1, 'likes tea'), (2, 'capital of russia'), (3, 'lives in москва');
             INSERT INTO relations (id, from_id, to_id, relation_type, created_at)
                 VALUES (1, 1, 2, 'lives_in', 0);",
        )
        .expect("v1 rows");
        assert_eq!(user_version(&conn), 1);
    }
    let mut s = Store::open(&path, Durability::Full).expect("a v1 database opens");
    assert_eq!(
        user_version(s.connection()),
        schema::MIGRATIONS.len() as u32
    );
    let expected = Graph {
        entities: vec![
            entity("Alice", "Person", &["Likes Tea", "Lives in Москва"]),
            entity("Москва", "City", &["Capital of RUSSIA"]),
        ],
        relations: vec![rel("Alice", "Москва", "lives_in")],
    };
    assert_eq!(graph(&mut s), expected);
    assert_eq!(found(&mut s, "tea"), ["Alice"]);
    assert_eq!(found(&mut s, "МОСКВА"), ["Alice", "Москва"]);
    assert_eq!(found(&mut s, "russia"), ["Москва"]);
    assert_eq!(found(&mut s, "ru"), ["Москва"]);
    assert_eq!(found(&mut s, "PERSON"), ["Alice"]);
    // The table of migration 2 exists.
    let mut batch = s.batch().expect("a batch starts");
    let op = GraphOp::CreateEntities(vec![entity("Bob", "person", &["new"])]);
    let first = batch
        .apply_once(b"id", &op, &Author::default())
        .expect("apply_once works");
    assert_eq!(
        batch
            .apply_once(b"id", &op, &Author::default())
            .expect("answers"),
        first
    );
    batch.commit().expect("commits");
    s.close().expect("closes");

    let mut s = Store::open(&path, Durability::Full).expect("reopens");
    assert_eq!(names(&graph(&mut s)), ["Alice", "Москва", "Bob"]);
    assert_eq!(retry_records(&s), 1);
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let dir = temp_dir();
    let newer = schema::MIGRATIONS.len() as u32 + 1;

    // A plain rollback-journal file, and one a store wrote (WAL) before a
    // newer build bumped its version.
    let plain = dir.path().join("plain.db");
    {
        let conn = Connection::open(&plain).expect("a plain connection");
        conn.execute_batch("CREATE TABLE future (x); INSERT INTO future VALUES (1);")
            .expect("a table");
        conn.pragma_update(None, "user_version", newer)
            .expect("user_version");
    }
    let ours = dir.path().join("ours.db");
    {
        let mut s = Store::open(&ours, Durability::Full).expect("opens");
        create(&mut s, vec![entity("Keep", "t", &["me"])]);
        s.close().expect("closes");
        let conn = Connection::open(&ours).expect("a plain connection");
        conn.pragma_update(None, "user_version", newer)
            .expect("user_version");
    }

    for path in [plain, ours] {
        let files = dir_listing(dir.path());
        let bytes = std::fs::read(&path).expect("the file reads");
        let err = match Store::open(&path, Durability::Full) {
            Err(e) => e,
            Ok(_) => panic!("{} should be refused", path.display()),
        };
        match &err {
            StoreError::SchemaTooNew { found, supported } => {
                assert_eq!(*found, newer);
                assert_eq!(*supported, schema::MIGRATIONS.len() as u32);
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            format!(
                "database schema v{newer} is newer than this build supports (v{}); upgrade memgraphd",
                newer - 1
            )
        );
        assert!(!err.is_caller_error());
        assert!(
            std::fs::read(&path).expect("the file reads") == bytes,
            "{} changed",
            path.display()
        );
        assert_eq!(dir_listing(dir.path()), files);
    }
}

#[test]
fn files_that_are_not_ours_are_refused_and_left_alone() {
    let dir = temp_dir();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are my notes, not a database\n".repeat(100)).expect("writes");
    let foreign = dir.path().join("foreign.db");
    {
        let conn = Connection::open(&foreign).expect("a plain connection");
        conn.execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine');")
            .expect("a foreign table");
        assert_eq!(user_version(&conn), 0);
    }
    for (path, reason) in [
        (text, "not an SQLite database"),
        (foreign, "no memgraphd schema version"),
    ] {
        let files = dir_listing(dir.path());
        let bytes = std::fs::read(&path).expect("the file reads");
        let err = match Store::open(&path, Durability::Full) {
            Err(e) => e,
            Ok(_) => panic!("{} should be refused", path.display()),
        };
        match &err {
            StoreError::NotOurs { path: p, reason: r } => {
                assert_eq!(p, &path);
                assert!(r.contains(reason), "{r}");
            }
            other => panic!("expected NotOurs for {}, got {other:?}", path.display()),
        }
        let message = err.to_string();
        assert!(
            message.contains(&path.display().to_string())
                && message.contains("is not a memgraphd database"),
            "{message}"
        );
        assert!(
            std::fs::read(&path).expect("the file reads") == bytes,
            "{} changed",
            path.display()
        );
        assert_eq!(dir_listing(dir.path()), files);
    }
}

#[test]
fn migrating_twice_is_a_no_op() {
    let mut s = store();
    create(&mut s, vec![entity("A", "t", &["a"])]);
    let schema_version = |s: &Store| -> i64 {
        s.connection()
            .pragma_query_value(None, "schema_version", |r| r.get(0))
            .expect("schema_version reads")
    };
    let before = schema_version(&s);
    schema::migrate(&mut s.conn).expect("migrates again");
    schema::migrate(&mut s.conn).expect("and again");
    assert_eq!(schema_version(&s), before);
    assert_eq!(user_version(s.connection()), schema::supported_version());
    assert_eq!(graph(&mut s).entities, [entity("A", "t", &["a"])]);

    // And on a file, through open. `close` runs `PRAGMA optimize`, which may
    // add statistics tables, so compare the schema itself.
    let schema_sql = |s: &Store| -> Vec<(String, Option<String>)> {
        let mut stmt = s
            .connection()
            .prepare("SELECT name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name")
            .expect("sqlite_schema reads");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("sqlite_schema reads");
        rows.collect::<Result<_, _>>().expect("sqlite_schema reads")
    };
    let dir = temp_dir();
    let path = dir.path().join("memory.db");
    let mut s = Store::open(&path, Durability::Full).expect("opens");
    create(&mut s, vec![entity("A", "t", &["a"])]);
    let before = schema_sql(&s);
    assert!(before.iter().any(|(name, _)| name == "applied_requests"));
    s.close().expect("closes");
    for _ in 0..2 {
        let mut s = Store::open(&path, Durability::Full).expect("reopens");
        assert_eq!(schema_sql(&s), before);
        assert_eq!(user_version(s.connection()), schema::supported_version());
        assert_eq!(graph(&mut s).entities, [entity("A", "t", &["a"])]);
        s.close().expect("closes");
    }
}

// ---- errors say what happened ----------------------------------------------

#[test]
fn a_write_passed_to_read_is_refused_as_such() {
    let s = store();
    let err = s
        .read(&GraphOp::DeleteEntities(strings(&["A"])))
        .expect_err("a write is refused");
    assert!(
        matches!(
            err,
            StoreError::WriteOutsideBatch {
                tool: "delete_entities"
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "delete_entities is a write; run it in a batch"
    );
}

#[test]
fn a_damaged_record_is_refused_with_its_reason() {
    let mut s = store();
    s.connection()
        .execute(
            "INSERT INTO changes (at, tool, request_id, reply, summary) VALUES (0, 'create_entities', ?1, ?2, '')",
            rusqlite::params![b"req".as_slice(), [0xffu8; 3].as_slice()],
        )
        .expect("a record is planted");
    let mut batch = s.batch().expect("a batch starts");
    let err = batch
        .apply_once(
            b"req",
            &GraphOp::CreateEntities(vec![]),
            &crate::model::Author::default(),
        )
        .expect_err("the record cannot be decoded");
    let StoreError::RecordDecode(reason) = &err else {
        panic!("expected RecordDecode, got {err:?}");
    };
    assert!(!reason.is_empty());
    assert_eq!(
        err.to_string(),
        format!("decoding a recorded reply: {reason}")
    );
}

#[cfg(unix)]
#[test]
fn a_backup_is_private_and_its_path_must_be_text() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let mut s = Store::open(&dir.path().join("memory.db"), Durability::Full).expect("opens");
    create(&mut s, vec![entity("A", "t", &["a"])]);
    let copy = dir.path().join("copy.db");
    assert!(s.backup_to(&copy).expect("backs up") > 0);
    let mode = std::fs::metadata(&copy).expect("copy").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the copy is private whatever the umask");

    let odd = dir.path().join(OsStr::from_bytes(b"copy-\xff.db"));
    let err = s.backup_to(&odd).expect_err("not UTF-8");
    assert!(
        matches!(&err, StoreError::BackupPathNotUtf8 { path } if path == &odd),
        "{err:?}"
    );
    assert!(!odd.exists(), "nothing was written");
}

#[test]
fn a_replicated_store_leaves_the_wal_to_the_replicator() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let wal_len = |path: &Path| {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    };
    for replicated in [false, true] {
        let path = dir.path().join(format!("r{replicated}.db"));
        let mut s = Store::open(&path, Durability::Full).expect("a store");
        if replicated {
            s.leave_checkpoints_to_replicator();
        }
        create(&mut s, vec![entity("Alice", "person", &["likes tea"])]);
        assert!(wal_len(&path) > 0);
        s.checkpoint().expect("a checkpoint");
        assert_eq!(wal_len(&path) > 0, replicated, "replicated: {replicated}");
    }
}

// ---- history -------------------------------------------------------------------

fn history_of(s: &mut Store, name: Option<&str>) -> Vec<ChangeInfo> {
    let op = GraphOp::History(HistoryQuery {
        name: name.map(str::to_owned),
        since: None,
        project: None,
        limit: 100,
        before: None,
    });
    match apply(s, op) {
        Outcome::History(page) => page.changes,
        other => panic!("history answered {other:?}"),
    }
}

fn undo(s: &mut Store, change_id: i64, force: bool) -> Result<Outcome, StoreError> {
    s.apply(&GraphOp::Undo { change_id, force })
}

#[test]
fn a_database_from_before_history_keeps_every_row_under_one_synthetic_change() {
    let dir = temp_dir();
    let path = dir.path().join("memory.db");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/before-history.db"
    );
    std::fs::copy(fixture, &path).expect("copies the fixture");
    let mut s = Store::open(&path, Durability::Full).expect("migrates");
    let g = graph(&mut s);
    assert_eq!(names(&g), ["Alice", "Acme", "Bob"]);
    assert_eq!(
        g.entities[0].observations,
        ["likes tea", "works remotely", "speaks Danish"]
    );
    assert_eq!(g.entities[2].observations, ["plays go"]);
    assert_eq!(
        g.relations,
        [
            rel("Alice", "Acme", "works_at"),
            rel("Bob", "Alice", "knows")
        ]
    );
    let unadopted: i64 = s
        .connection()
        .query_row(
            "SELECT (SELECT count(*) FROM entities WHERE created_change IS NOT 1)
                  + (SELECT count(*) FROM observations WHERE created_change IS NOT 1)
                  + (SELECT count(*) FROM relations WHERE created_change IS NOT 1)",
            [],
            |r| r.get(0),
        )
        .expect("counts");
    assert_eq!(unadopted, 0);
    // The seven writes' retry records moved into changes, after change 1.
    assert_eq!(retry_records(&s), 7);
    let alice = history_of(&mut s, Some("Alice"));
    assert_eq!(alice.len(), 1);
    assert_eq!((alice[0].id, alice[0].tool.as_str()), (1, BEFORE_HISTORY));
    assert!(matches!(undo(&mut s, 1, true), Err(StoreError::Refused(_))));
    // New writes are changes of their own and name reuse still works.
    apply(&mut s, GraphOp::DeleteEntities(strings(&["Bob"])));
    create(&mut s, vec![entity("Bob", "robot", &["beeps"])]);
    let bob = history_of(&mut s, Some("Bob"));
    let summaries: Vec<&str> = bob.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(
        summaries[..2],
        ["created 1 entity (Bob)", "deleted 1 entity (Bob)"]
    );
}

#[test]
fn undo_of_a_delete_brings_back_the_entity_its_observations_in_order_and_its_relations() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("Alice", "person", &["one", "two", "three"]),
            entity("Acme", "company", &[]),
            entity("Zed", "person", &[]),
        ],
    );
    apply(
        &mut s,
        GraphOp::CreateRelations(vec![
            rel("Alice", "Acme", "works_at"),
            rel("Zed", "Alice", "knows"),
        ]),
    );
    let before = graph(&mut s);
    apply(&mut s, GraphOp::DeleteEntities(strings(&["Alice"])));
    // Another session writes meanwhile: new rows must not take Alice's ids.
    create(&mut s, vec![entity("Bea", "person", &["four"])]);
    let deleted = history_of(&mut s, Some("Alice"))[0].id;
    let Outcome::Undone(u) = undo(&mut s, deleted, false).expect("undoes") else {
        panic!("not an undo")
    };
    assert_eq!(u.undid, deleted);
    let after = graph(&mut s);
    assert_eq!(names(&after), ["Alice", "Acme", "Zed", "Bea"]);
    assert_eq!(after.entities[0], before.entities[0]);
    assert_eq!(after.relations, before.relations);
    assert_eq!(found(&mut s, "three"), ["Alice"]);
    // Undo of the undo deletes her again; undoing the delete twice is refused.
    assert!(
        matches!(undo(&mut s, deleted, false), Err(StoreError::Refused(m)) if m.contains(&u.change_id.to_string()))
    );
    undo(&mut s, u.change_id, false).expect("undo of the undo");
    assert_eq!(names(&graph(&mut s)), ["Acme", "Zed", "Bea"]);
}

#[test]
fn undo_refuses_when_a_later_change_touched_the_rows_unless_forced() {
    let mut s = store();
    create(&mut s, vec![entity("Alice", "person", &["one"])]);
    let created = history_of(&mut s, None)[0].id;
    apply(
        &mut s,
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "Alice".into(),
            contents: strings(&["two"]),
        }]),
    );
    let later = history_of(&mut s, None)[0].id;
    match undo(&mut s, created, false) {
        Err(StoreError::Refused(m)) => assert!(m.contains(&format!("change {later}")), "{m}"),
        other => panic!("not refused: {other:?}"),
    }
    assert_eq!(names(&graph(&mut s)), ["Alice"]);
    undo(&mut s, created, true).expect("forced");
    assert!(graph(&mut s).entities.is_empty());
    assert!(
        matches!(undo(&mut s, 999, false), Err(StoreError::Refused(m)) if m == "Change 999 not found")
    );
}

#[test]
fn supersede_replaces_in_place_and_undo_puts_the_old_text_back() {
    let mut s = store();
    create(
        &mut s,
        vec![entity("Alice", "person", &["one", "two", "three"])],
    );
    let op = GraphOp::SupersedeObservation {
        entity_name: "Alice".into(),
        old: "two".into(),
        new: "2".into(),
    };
    let Outcome::Superseded { change_id, .. } = apply(&mut s, op) else {
        panic!("not superseded")
    };
    assert_eq!(
        graph(&mut s).entities[0].observations,
        ["one", "2", "three"]
    );
    assert!(found(&mut s, "two").is_empty());
    undo(&mut s, change_id, false).expect("undoes");
    assert_eq!(
        graph(&mut s).entities[0].observations,
        ["one", "two", "three"]
    );
    assert_eq!(found(&mut s, "two"), ["Alice"]);
    let missing = s.apply(&GraphOp::SupersedeObservation {
        entity_name: "Alice".into(),
        old: "nine".into(),
        new: "9".into(),
    });
    assert!(
        matches!(missing, Err(StoreError::Refused(m)) if m.starts_with("Observation not found: "))
    );
}

#[test]
fn purge_forgets_ended_rows_and_unreferenced_changes_but_no_live_row() {
    let mut s = store();
    create(
        &mut s,
        vec![entity("Alice", "person", &["one"]), entity("Bob", "p", &[])],
    );
    apply(&mut s, GraphOp::DeleteEntities(strings(&["Bob"])));
    let before = graph(&mut s);
    let dry = apply(
        &mut s,
        GraphOp::Purge {
            before: now_millis() + 1_000,
            dry_run: true,
        },
    );
    assert_eq!(
        dry,
        Outcome::Purged(Purged {
            changes: 1,
            entities: 1,
            observations: 0,
            relations: 0
        })
    );
    let done = apply(
        &mut s,
        GraphOp::Purge {
            before: now_millis() + 1_000,
            dry_run: false,
        },
    );
    assert_eq!(done, dry);
    assert_eq!(graph(&mut s), before);
    let left: Vec<i64> = history_of(&mut s, None).iter().map(|c| c.id).collect();
    assert_eq!(left, [1], "the create stays: Alice is live");
}
