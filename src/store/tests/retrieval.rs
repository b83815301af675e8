//! The store's side of retrieval: pages and their budget, the word index
//! and its migration, `search_memory` ranking, `get_neighbors`.

use super::*;
use crate::measure;
use crate::model::{
    Author, Budget, Direction, GraphPage, MemorySearch, NeighborQuery, Neighborhood, PageQuery,
    PageSource, RankedPage, SearchScope,
};

fn page(store: &mut Store, q: PageQuery) -> GraphPage {
    match apply(store, GraphOp::ReadPage(q)) {
        Outcome::Page(page) => page,
        other => panic!("read_page answered {other:?}"),
    }
}

fn query(source: PageSource) -> PageQuery {
    PageQuery {
        source,
        after: None,
        limit: None,
        entity_types: vec![],
        include_observations: true,
        budget: None,
    }
}

/// A `search_memory` of `text` across every project, from no project.
fn search_op(text: &str, limit: u32) -> GraphOp {
    GraphOp::SearchMemory(MemorySearch {
        query: text.into(),
        limit,
        entity_types: vec![],
        scope: SearchScope::All,
        project: None,
        resume: None,
        budget: None,
    })
}

fn ranked(store: &mut Store, text: &str, limit: u32) -> RankedPage {
    match apply(store, search_op(text, limit)) {
        Outcome::Ranked(page) => page,
        other => panic!("search_memory answered {other:?}"),
    }
}

fn hits(store: &mut Store, text: &str) -> Vec<String> {
    ranked(store, text, 50)
        .results
        .into_iter()
        .map(|r| r.name)
        .collect()
}

fn page_names(page: &GraphPage) -> Vec<&str> {
    page.entities
        .iter()
        .map(|e| e.entity.name.as_str())
        .collect()
}

#[test]
fn a_budgeted_page_is_the_longest_prefix_that_fits() {
    let mut s = store();
    let all: Vec<Entity> = (0..20)
        .map(|i| entity(&format!("e{i:02}"), "t", &["x".repeat(i * 10).as_str()]))
        .collect();
    create(&mut s, all.clone());
    relate(&mut s, vec![rel("e00", "e19", "r"), rel("e05", "e06", "r")]);
    let whole = graph(&mut s);
    let whole_text = crate::shim::render::graph_text(&whole).chars().count() as u64;
    // At the exact size: the whole answer, uncut.
    let q = |chars| PageQuery {
        budget: Some(Budget { chars, reserve: 0 }),
        ..query(PageSource::All)
    };
    let at = page(&mut s, q(whole_text));
    assert_eq!(at.entities.len(), 20);
    assert_eq!(at.truncated, None);
    assert_eq!(at.next_after, None);
    // Any smaller budget: a prefix whose rendered answer fits, and one more
    // entity would not.
    for chars in [whole_text - 1, 2000, 700, 300] {
        let cut = page(&mut s, q(chars));
        let shown = cut.entities.len();
        assert!(shown < 20);
        let fits = |k: usize| {
            let mut g = Graph {
                entities: whole.entities[..k].to_vec(),
                relations: whole.relations.clone(),
            };
            let names: Vec<String> = g.entities.iter().map(|e| e.name.clone()).collect();
            g.relations
                .retain(|r| names.contains(&r.from) || names.contains(&r.to));
            crate::shim::render::graph_text(&g).chars().count() as u64 <= chars
        };
        assert!(fits(shown), "{chars}: {shown} do not fit");
        assert!(!fits(shown + 1), "{chars}: {} would fit too", shown + 1);
        assert_eq!(
            cut.truncated,
            Some(crate::model::Truncation {
                shown: shown as u64,
                remaining: 20
            })
        );
    }
    // Nothing fits: no entity, and the cursor stays where it was.
    let none = page(&mut s, q(40));
    assert!(none.entities.is_empty());
    assert_eq!(none.next_after, Some(0));
}

#[test]
fn a_budget_counts_the_relations_a_prefix_brings_in() {
    let mut s = store();
    create(
        &mut s,
        (0..30)
            .map(|i| entity(&format!("n{i}"), "t", &[]))
            .collect(),
    );
    // The first entity is a hub: its relations alone are most of the answer.
    relate(
        &mut s,
        (1..30)
            .map(|i| rel("n0", &format!("n{i}"), "links"))
            .collect(),
    );
    let hub_alone = measure::graph_frame(1, 29).pretty
        + measure::entity(&entity("n0", "t", &[]), None).pretty
        + 6
        + (1..30)
            .map(|i| measure::relation(&rel("n0", &format!("n{i}"), "links")).pretty + 6)
            .sum::<u64>();
    let q = |chars| PageQuery {
        budget: Some(Budget { chars, reserve: 0 }),
        ..query(PageSource::All)
    };
    assert_eq!(page(&mut s, q(hub_alone - 1)).entities.len(), 0);
    let one = page(&mut s, q(hub_alone));
    assert_eq!(page_names(&one), ["n0"]);
    assert_eq!(one.relations.len(), 29);
}

#[test]
fn pages_filter_by_type_and_count_observations() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("A", "x", &["1", "2"]),
            entity("B", "y", &["3"]),
            entity("C", "x", &[]),
        ],
    );
    let p = page(
        &mut s,
        PageQuery {
            entity_types: strings(&["x"]),
            include_observations: false,
            ..query(PageSource::All)
        },
    );
    assert_eq!(page_names(&p), ["A", "C"]);
    assert_eq!(p.entities[0].observation_count, Some(2));
    assert!(p.entities[0].entity.observations.is_empty());
    let found = page(
        &mut s,
        PageQuery {
            include_observations: false,
            ..query(PageSource::Search("3".into()))
        },
    );
    assert_eq!(page_names(&found), ["B"]);
    assert_eq!(found.entities[0].observation_count, Some(1));
}

#[test]
fn words_keep_identifiers_whole_and_split() {
    use super::super::words::{index_text, query_words};
    assert_eq!(index_text("Uses v2.1."), "Uses v2.1 v2 1");
    assert_eq!(
        index_text("my-crate, foo_bar!"),
        "my-crate my crate foo_bar foo bar"
    );
    assert_eq!(index_text("--flag ...and- c++"), "flag and c");
    assert_eq!(
        query_words("\" * ( ) : - ^ NEAR AND OR c++ % _"),
        ["near", "and", "or", "c", "_"]
    );
    assert_eq!(query_words("Rust rust RUST."), ["rust"]);
}

#[test]
fn search_memory_ranks_an_exact_name_first_then_by_words() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("tea notes", "doc", &["tea tea tea", "more about tea"]),
            entity("Tea", "drink", &["hot"]),
            entity("Green", "drink", &["a kind of tea"]),
        ],
    );
    assert_eq!(hits(&mut s, "TEA")[0], "Tea");
    // An entity is scored by its best observations, not by how many match.
    create(
        &mut s,
        (0..8)
            .map(|i| entity(&format!("many{i}"), "doc", &["kettle"]))
            .collect(),
    );
    let many = entity(
        "Many",
        "doc",
        &["kettle one", "kettle two", "kettle three", "kettle four"],
    );
    create(&mut s, vec![many, entity("Single", "kettle", &[])]);
    assert_eq!(
        hits(&mut s, "kettle")[0],
        "Single",
        "a type outweighs observations"
    );
}

#[test]
fn search_memory_relaxes_words_only_when_all_of_them_find_too_little() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("both", "t", &["alpha beta"]),
            entity("alpha only", "t", &["alpha"]),
            entity("two of three", "t", &["alpha gamma"]),
            entity("one of three", "t", &["gamma"]),
        ],
    );
    // Enough with all words: only those.
    assert_eq!(ranked(&mut s, "alpha beta", 1).results.len(), 1);
    assert_eq!(hits(&mut s, "alpha beta")[0], "both");
    // With three words, a hit needs two of them.
    let found = hits(&mut s, "alpha beta gamma");
    assert!(found.contains(&"two of three".to_owned()), "{found:?}");
    assert!(!found.contains(&"one of three".to_owned()), "{found:?}");
}

#[test]
fn search_memory_finds_whatever_search_nodes_finds() {
    let mut s = store();
    create(
        &mut s,
        vec![
            entity("Wonderland", "place", &["curiouser and curiouser"]),
            entity("x", "y", &["50% off_sale"]),
            entity("Hello World", "greeting", &[]),
        ],
    );
    for q in [
        "derla",
        "curiouser and cur",
        "% off",
        "_s",
        "0",
        "ello wor",
        "ting",
    ] {
        let official = found(&mut s, q);
        let ours = hits(&mut s, q);
        for name in &official {
            assert!(ours.contains(name), "{q}: {name} lost: {ours:?}");
        }
    }
}

#[test]
fn a_ranking_pages_in_its_first_order_and_expires_honestly() {
    let mut s = store();
    create(
        &mut s,
        (0..12)
            .map(|i| entity(&format!("e{i}"), "t", &["common word"]))
            .collect(),
    );
    let first = ranked(&mut s, "common", 5);
    let next = first.next.expect("more than one page");
    let op = |resume| {
        GraphOp::SearchMemory(MemorySearch {
            query: "common".into(),
            limit: 5,
            entity_types: vec![],
            scope: SearchScope::All,
            project: None,
            resume: Some(resume),
            budget: None,
        })
    };
    let Outcome::Ranked(second) = apply(&mut s, op(next)) else {
        panic!("a ranking")
    };
    assert_eq!(second.results.len(), 5);
    // A cursor for a ranking that is not kept is refused as expired.
    let gone = crate::model::RankResume {
        snapshot: next.snapshot.wrapping_add(1000),
        offset: 5,
    };
    let err = s.apply(&op(gone)).expect_err("expired");
    assert!(err.to_string().contains("has expired"), "{err}");
}

fn neighbors(store: &mut Store, name: &str, direction: Direction, depth: u8) -> Neighborhood {
    let op = GraphOp::Neighbors(NeighborQuery {
        name: name.into(),
        direction,
        relation_types: vec![],
        depth,
        limit: 50,
        after: None,
        budget: None,
    });
    match apply(store, op) {
        Outcome::Neighborhood(n) => n,
        other => panic!("get_neighbors answered {other:?}"),
    }
}

#[test]
fn get_neighbors_follows_direction_and_depth() {
    let mut s = store();
    create(
        &mut s,
        ["a", "b", "c", "d"]
            .iter()
            .map(|n| entity(n, "t", &[]))
            .collect(),
    );
    relate(
        &mut s,
        vec![rel("a", "b", "r"), rel("b", "c", "r"), rel("d", "a", "r")],
    );
    let out = neighbors(&mut s, "a", Direction::Out, 2);
    assert_eq!(out.relations, vec![rel("a", "b", "r"), rel("b", "c", "r")]);
    let into = neighbors(&mut s, "a", Direction::In, 3);
    assert_eq!(into.relations, vec![rel("d", "a", "r")]);
    let both = neighbors(&mut s, "b", Direction::Both, 1);
    assert_eq!(both.relations, vec![rel("a", "b", "r"), rel("b", "c", "r")]);
    let err = s
        .apply(&GraphOp::Neighbors(NeighborQuery {
            name: "zz".into(),
            direction: Direction::Both,
            relation_types: vec![],
            depth: 1,
            limit: 5,
            after: None,
            budget: None,
        }))
        .expect_err("unknown");
    assert_eq!(err.to_string(), "Entity with name zz not found");
}

/// A database written by memgraphd before the word index (schema v3), with
/// entities whose words the index must find.
const V3_FIXTURE: &[u8] = include_bytes!("../fixtures/schema-v3.db");

#[test]
fn the_word_index_is_built_for_an_older_database_and_only_once() {
    let dir = temp_dir();
    let path = dir.path().join("memory.db");
    std::fs::write(&path, V3_FIXTURE).expect("copying the fixture");
    {
        let conn = Connection::open(&path).expect("opens");
        assert_eq!(user_version(&conn), 3);
    }
    let mut s = Store::open(&path, Durability::Full).expect("migrates");
    assert_eq!(user_version(s.connection()), schema::supported_version());
    assert_eq!(hits(&mut s, "cafe"), ["Café Central"]);
    assert_eq!(hits(&mut s, "v2.1"), ["memgraphd"]);
    assert_eq!(hits(&mut s, "foo_bar"), ["memgraphd"]);
    assert_eq!(hits(&mut s, "my-crate"), ["memgraphd"]);
    let rows = count_rows(&s, "word_fts");
    let counts = s.counts().expect("counts");
    assert_eq!(rows as u64, counts.entities + counts.observations);
    // Remove one index row behind the store's back: a reopen that rebuilt
    // the index would bring it back.
    s.connection()
        .execute(
            "DELETE FROM word_fts WHERE rowid = (SELECT -id FROM entities WHERE name = 'Bob')",
            [],
        )
        .expect("deleting an index row");
    s.close().expect("closes");
    let s = Store::open(&path, Durability::Full).expect("reopens");
    assert_eq!(count_rows(&s, "word_fts"), rows - 1);
}

/// Writes `op` as a change made in `project`.
fn write_in(store: &mut Store, project: Option<&str>, op: GraphOp) {
    let author = Author {
        project: project.map(str::to_owned),
        ..Author::default()
    };
    let mut batch = store.batch().expect("a batch");
    batch.apply_as(&op, &author).expect("the write");
    batch.commit().expect("commits");
}

fn scoped(store: &mut Store, text: &str, scope: SearchScope, project: Option<&str>) -> Vec<String> {
    let op = GraphOp::SearchMemory(MemorySearch {
        query: text.into(),
        limit: 50,
        entity_types: vec![],
        scope,
        project: project.map(str::to_owned),
        resume: None,
        budget: None,
    });
    match apply(store, op) {
        Outcome::Ranked(page) => page.results.into_iter().map(|r| r.name).collect(),
        other => panic!("search_memory answered {other:?}"),
    }
}

#[test]
fn scope_project_keeps_the_projects_entities_and_those_of_none() {
    let mut s = store();
    let make = |name: &str| GraphOp::CreateEntities(vec![entity(name, "note", &["kettle tea"])]);
    write_in(&mut s, Some("acme/a"), make("Mine"));
    write_in(&mut s, Some("acme/b"), make("Theirs"));
    write_in(&mut s, None, make("Nobody's"));
    // Touched from both projects: it belongs to each.
    write_in(&mut s, Some("acme/b"), make("Shared"));
    write_in(
        &mut s,
        Some("acme/a"),
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "Shared".into(),
            contents: strings(&["kettle again"]),
        }]),
    );
    let mut a = scoped(&mut s, "kettle", SearchScope::Project, Some("acme/a"));
    a.sort();
    assert_eq!(a, ["Mine", "Nobody's", "Shared"]);
    let mut b = scoped(&mut s, "kettle tea", SearchScope::Project, Some("acme/b"));
    b.sort();
    assert_eq!(b, ["Nobody's", "Shared", "Theirs"]);
    // An exact name outside the project is not found in it.
    assert!(scoped(&mut s, "Theirs", SearchScope::Project, Some("acme/a")).is_empty());
    assert_eq!(
        scoped(&mut s, "kettle", SearchScope::All, Some("acme/a")).len(),
        4
    );

    let op = GraphOp::SearchMemory(MemorySearch {
        query: "kettle".into(),
        limit: 10,
        entity_types: vec![],
        scope: SearchScope::Project,
        project: None,
        resume: None,
        budget: None,
    });
    let err = s.apply(&op).expect_err("no project to keep");
    assert!(err.to_string().contains("scope"), "{err}");
    assert!(err.to_string().contains("use scope \"all\""), "{err}");
}

#[test]
fn scope_all_ranks_the_projects_entities_higher_but_never_over_an_exact_name() {
    let mut s = store();
    // Same text, so only the project (and then recency) tells them apart.
    for (name, project) in [
        ("Pot 1", "acme/a"),
        ("Pot 2", "acme/b"),
        ("Pot 3", "acme/b"),
    ] {
        write_in(
            &mut s,
            Some(project),
            GraphOp::CreateEntities(vec![entity(name, "note", &["copper kettle"])]),
        );
    }
    let from_a = scoped(&mut s, "copper kettle", SearchScope::All, Some("acme/a"));
    assert_eq!(from_a[0], "Pot 1", "{from_a:?}");
    let from_b = scoped(&mut s, "copper kettle", SearchScope::All, Some("acme/b"));
    assert_ne!(from_b[0], "Pot 1", "{from_b:?}");
    let exact = scoped(&mut s, "pot 2", SearchScope::All, Some("acme/a"));
    assert_eq!(exact[0], "Pot 2", "{exact:?}");
}

#[test]
fn search_memory_on_an_older_database_served_read_only_says_what_to_do() {
    let dir = temp_dir();
    let path = dir.path().join("memory.db");
    std::fs::write(&path, V3_FIXTURE).expect("copying the fixture");
    let s = Store::open_read_only(&path, "read-only for the test".into()).expect("opens");
    let op = GraphOp::SearchMemory(MemorySearch {
        query: "cafe".into(),
        limit: 10,
        entity_types: vec![],
        scope: SearchScope::Project,
        project: Some("acme/a".into()),
        resume: None,
        budget: None,
    });
    let err = s.read(&op).expect_err("no word index to search");
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("schema version 3"), "{message}");
    assert!(message.contains("Use search_nodes"), "{message}");
    // The official search still answers.
    let found = s
        .read(&GraphOp::SearchNodes {
            query: "café".into(),
        })
        .expect("search_nodes reads");
    assert!(matches!(found, Outcome::Graph(g) if g.entities.len() == 1));
}

#[test]
fn search_memory_reads_an_older_word_index_numbered_by_observation() {
    let dir = temp_dir();
    let path = dir.path().join("memory.db");
    {
        let mut s = Store::open(&path, Durability::Full).expect("opens");
        create(
            &mut s,
            vec![
                entity("Kettle", "tool", &["boils copper water"]),
                entity("Teapot", "tool", &["steeps leaves"]),
            ],
        );
        // The word index as schema 8 numbered it: observations by their id.
        s.connection()
            .execute_batch(
                "DELETE FROM word_fts;
                 INSERT INTO word_fts (rowid, name, type, body)
                     SELECT -id, name, entity_type, '' FROM entities;
                 INSERT INTO word_fts (rowid, name, type, body)
                     SELECT id, '', '', content FROM observations;
                 PRAGMA user_version = 8;",
            )
            .expect("back to schema 8");
        s.close().expect("closes");
    }
    let s = Store::open_read_only(&path, "read-only for the test".into()).expect("opens");
    let Outcome::Ranked(page) = s.read(&search_op("copper leaves", 10)).expect("searches") else {
        panic!("search_memory answers a ranked page");
    };
    let mut names: Vec<&str> = page.results.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Kettle", "Teapot"]);
}

#[test]
fn the_word_index_follows_supersede_and_undo() {
    let mut s = store();
    create(
        &mut s,
        vec![entity("Kettle", "tool", &["boils copper water"])],
    );
    let superseded = apply(
        &mut s,
        GraphOp::SupersedeObservation {
            entity_name: "Kettle".into(),
            old: "boils copper water".into(),
            new: "whistles brass steam".into(),
        },
    );
    let Outcome::Superseded { change_id, .. } = superseded else {
        panic!("supersede answered {superseded:?}");
    };
    assert!(hits(&mut s, "copper").is_empty());
    assert_eq!(hits(&mut s, "brass"), ["Kettle"]);
    apply(
        &mut s,
        GraphOp::Undo {
            change_id,
            force: false,
        },
    );
    assert_eq!(hits(&mut s, "copper"), ["Kettle"]);
    assert!(hits(&mut s, "brass").is_empty());
    apply(&mut s, GraphOp::DeleteEntities(vec!["Kettle".into()]));
    assert!(hits(&mut s, "copper").is_empty());
    assert_eq!(count_rows(&s, "word_fts"), 0);
}
