//! Unit tests of the search backlog: what a write queues, when the indexes
//! catch up, and that a search never misses an acknowledged write, also
//! after a crash and on a store that cannot write.

use crate::model::{Entity, GraphOp, MemorySearch, ObservationAdd, Outcome, SearchScope};
use crate::store::{Durability, Store, StoreError, BACKLOG_ROWS};

fn entity(name: &str, observations: &[&str]) -> Entity {
    Entity {
        name: name.into(),
        entity_type: "t".into(),
        observations: observations.iter().map(|o| o.to_string()).collect(),
    }
}

fn apply(s: &mut Store, op: GraphOp) -> Outcome {
    s.apply(&op)
        .unwrap_or_else(|e| panic!("{} failed: {e:?}", op.tool_name()))
}

fn found(s: &mut Store, query: &str) -> Vec<String> {
    match apply(
        s,
        GraphOp::SearchNodes {
            query: query.into(),
        },
    ) {
        Outcome::Graph(g) => g.entities.into_iter().map(|e| e.name).collect(),
        other => panic!("search_nodes answered {other:?}"),
    }
}

fn ranked(s: &mut Store, query: &str) -> Vec<String> {
    let op = GraphOp::SearchMemory(MemorySearch {
        query: query.into(),
        limit: 10,
        entity_types: vec![],
        scope: SearchScope::All,
        project: None,
        resume: None,
        budget: None,
    });
    match apply(s, op) {
        Outcome::Ranked(page) => page.results.into_iter().map(|r| r.name).collect(),
        other => panic!("search_memory answered {other:?}"),
    }
}

/// Rows the word index holds for `word`, read straight from FTS5.
fn word_rows(s: &Store, word: &str) -> i64 {
    s.conn
        .query_row(
            "SELECT count(*) FROM word_fts WHERE word_fts MATCH ?1",
            [format!("\"{word}\"")],
            |r| r.get(0),
        )
        .expect("the word index answers")
}

fn backlog(s: &Store) -> u64 {
    s.backlog_len().expect("the backlog counts")
}

#[test]
fn a_write_queues_its_rows_and_a_search_indexes_them_first() {
    let mut s = Store::open_in_memory().expect("opens");
    apply(
        &mut s,
        GraphOp::CreateEntities(vec![entity("Alice", &["drinks oolong tea"])]),
    );
    assert_eq!(backlog(&s), 2, "the entity and its observation");
    assert_eq!(word_rows(&s, "oolong"), 0, "not indexed at write time");

    assert_eq!(found(&mut s, "oolong"), ["Alice"]);
    assert_eq!(backlog(&s), 0, "the search caught the indexes up");
    assert_eq!(word_rows(&s, "oolong"), 1);

    apply(
        &mut s,
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "Alice".into(),
            contents: vec!["rides a tandem bicycle".into()],
        }]),
    );
    assert_eq!(backlog(&s), 1);
    assert_eq!(ranked(&mut s, "tandem"), ["Alice"]);
    assert_eq!(backlog(&s), 0);
}

#[test]
fn a_read_that_needs_no_index_leaves_the_backlog_alone() {
    let mut s = Store::open_in_memory().expect("opens");
    apply(
        &mut s,
        GraphOp::CreateEntities(vec![entity("Alice", &["o"])]),
    );
    apply(&mut s, GraphOp::ReadGraph);
    apply(&mut s, GraphOp::OpenNodes(vec!["Alice".into()]));
    assert_eq!(backlog(&s), 2);
}

#[test]
fn a_full_batch_is_indexed_after_the_write_that_fills_it() {
    let mut s = Store::open_in_memory().expect("opens");
    // Each entity queues itself and one observation.
    let per_call = 50;
    let calls = BACKLOG_ROWS as usize / (2 * per_call);
    for call in 0..calls - 1 {
        let batch = (0..per_call)
            .map(|i| entity(&format!("E{call}-{i}"), &["some text"]))
            .collect();
        apply(&mut s, GraphOp::CreateEntities(batch));
    }
    assert_eq!(backlog(&s), BACKLOG_ROWS - 2 * per_call as u64);
    let last = (0..per_call)
        .map(|i| entity(&format!("Last-{i}"), &["some text"]))
        .collect();
    apply(&mut s, GraphOp::CreateEntities(last));
    assert_eq!(backlog(&s), 0, "the batch was indexed");
    assert_eq!(word_rows(&s, "text"), (calls * per_call) as i64);
}

#[test]
fn a_row_deleted_before_it_was_indexed_is_never_found() {
    let mut s = Store::open_in_memory().expect("opens");
    apply(
        &mut s,
        GraphOp::CreateEntities(vec![
            entity("Keep", &["marmalade"]),
            entity("Gone", &["marmalade and quince"]),
        ]),
    );
    apply(&mut s, GraphOp::DeleteEntities(vec!["Gone".into()]));
    // The new entity and observation take the ids the deleted ones had.
    apply(
        &mut s,
        GraphOp::CreateEntities(vec![entity("New", &["plain toast"])]),
    );
    assert_eq!(found(&mut s, "marmalade"), ["Keep"]);
    assert_eq!(found(&mut s, "quince"), Vec::<String>::new());
    assert_eq!(found(&mut s, "toast"), ["New"]);
    assert_eq!(found(&mut s, "gone"), Vec::<String>::new());
    assert_eq!(ranked(&mut s, "quince"), Vec::<String>::new());
    assert_eq!(ranked(&mut s, "toast"), ["New"]);
    assert_eq!(word_rows(&s, "quince"), 0);
}

/// A store at `path` where Alice, who keeps bees, is created and queued.
fn file_store_with_alice(path: &std::path::Path) -> Store {
    let mut s = Store::open(path, Durability::Full).expect("opens");
    apply(
        &mut s,
        GraphOp::CreateEntities(vec![entity("Alice", &["keeps bees"])]),
    );
    s
}

#[test]
fn queued_rows_survive_a_crash_and_are_indexed_after_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("memory.db");
    // Dropped without `close`: nothing catches the indexes up.
    drop(file_store_with_alice(&path));
    let mut s = Store::open(&path, Durability::Full).expect("opens again");
    assert_eq!(backlog(&s), 2, "the queue was committed with the rows");
    assert_eq!(found(&mut s, "bees"), ["Alice"]);
    assert_eq!(ranked(&mut s, "bees"), ["Alice"]);
}

#[test]
fn closing_indexes_what_is_queued() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("memory.db");
    let s = file_store_with_alice(&path);
    s.close().expect("closes");
    let s = Store::open_read_only(&path, "test".into()).expect("opens read-only");
    assert_eq!(backlog(&s), 0);
    assert_eq!(word_rows(&s, "bees"), 1);
}

#[test]
fn a_store_that_cannot_write_still_finds_queued_rows_by_substring() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("memory.db");
    {
        let mut s = Store::open(&path, Durability::Full).expect("opens");
        apply(
            &mut s,
            GraphOp::CreateEntities(vec![
                entity("Indexed", &["honey from the hive"]),
                entity("Wax", &["candles"]),
            ]),
        );
        assert_eq!(found(&mut s, "hive"), ["Indexed"]);
        apply(
            &mut s,
            GraphOp::CreateEntities(vec![entity("Queued", &["a hive of activity"])]),
        );
        apply(
            &mut s,
            GraphOp::AddObservations(vec![ObservationAdd {
                entity_name: "Wax".into(),
                contents: vec!["smells of the hive".into()],
            }]),
        );
        // A crash: the last two writes stay queued. The WAL is copied back
        // so that the file alone, opened immutable, holds them.
        s.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoints");
    }
    let mut s = Store::open_read_only(&path, "test".into()).expect("opens read-only");
    assert_eq!(backlog(&s), 3);
    assert_eq!(found(&mut s, "hive"), ["Indexed", "Wax", "Queued"]);
    assert_eq!(found(&mut s, "queued"), ["Queued"]);
    // Words of queued rows are not ranked until indexed, but the substring
    // rule finds them.
    let mut hits = ranked(&mut s, "hive");
    hits.sort();
    assert_eq!(hits, ["Indexed", "Queued", "Wax"]);
    assert!(matches!(s.index_backlog(), Ok(0)), "nothing can be indexed");
    assert_eq!(backlog(&s), 3);
}

#[test]
fn a_write_that_cannot_be_indexed_queues_nothing() {
    let mut s = Store::open_in_memory().expect("opens");
    s.conn
        .execute(
            "INSERT INTO entities (id, name, entity_type, created_at, updated_at, created_change)
             VALUES (2147483647, 'Last', 't', 0, 0, 1)",
            [],
        )
        .expect("inserts the highest entity id the word index can number");
    let past = GraphOp::CreateEntities(vec![entity("Past", &["words"])]);
    assert!(matches!(s.apply(&past), Err(StoreError::Refused(_))));
    assert_eq!(backlog(&s), 0);
}

#[test]
fn a_search_answers_when_the_queue_cannot_be_indexed() {
    let mut s = Store::open_in_memory().expect("opens");
    apply(
        &mut s,
        GraphOp::CreateEntities(vec![entity("Alice", &["keeps bees"])]),
    );
    // Every write now fails, as on a full disk.
    s.conn
        .pragma_update(None, "query_only", true)
        .expect("sets query_only");
    assert!(s.index_backlog().is_err());
    assert_eq!(found(&mut s, "bees"), ["Alice"]);
    assert_eq!(ranked(&mut s, "bees"), ["Alice"]);
    assert_eq!(backlog(&s), 2);
    s.conn
        .pragma_update(None, "query_only", false)
        .expect("clears query_only");
    assert_eq!(found(&mut s, "bees"), ["Alice"]);
    assert_eq!(backlog(&s), 0, "indexed once it could be");
}
