//! Unit tests of what history finds without the indexes migration 7 drops:
//! the `since` bound by binary search on ids, and an upgrade from a
//! database at version 6 that keeps every row and answers the same history.

use rusqlite::{Connection, OptionalExtension};

use super::first_change_since;
use crate::model::{Entity, GraphOp, HistoryQuery, ObservationAdd, Outcome, Relation};
use crate::store::content_hash::content_hash;
use crate::store::{schema, Durability, Store};

fn apply(s: &mut Store, op: GraphOp) -> Outcome {
    s.apply(&op)
        .unwrap_or_else(|e| panic!("{} failed: {e:?}", op.tool_name()))
}

fn entity(name: &str, observations: &[&str]) -> Entity {
    Entity {
        name: name.into(),
        entity_type: "t".into(),
        observations: observations.iter().map(|o| o.to_string()).collect(),
    }
}

fn history(s: &mut Store, name: Option<&str>, since: Option<i64>) -> Vec<(i64, String)> {
    let op = GraphOp::History(HistoryQuery {
        name: name.map(str::to_owned),
        since,
        project: None,
        limit: 100,
        before: None,
    });
    match apply(s, op) {
        Outcome::History(page) => page
            .changes
            .into_iter()
            .map(|c| (c.id, c.summary))
            .collect(),
        other => panic!("history answered {other:?}"),
    }
}

/// The answer the dropped index gave: the first change by time, then id.
fn by_scan(conn: &Connection, at: i64) -> Option<i64> {
    conn.query_row(
        "SELECT id FROM changes WHERE at >= ?1 ORDER BY at, id LIMIT 1",
        [at],
        |r| r.get(0),
    )
    .optional()
    .expect("the scan runs")
}

#[test]
fn since_is_found_by_id_with_gaps_and_equal_times() {
    let mut s = Store::open_in_memory().expect("a store opens");
    assert_eq!(first_change_since(s.connection(), 0).expect("runs"), None);
    for i in 0..40 {
        apply(
            &mut s,
            GraphOp::CreateEntities(vec![entity(&format!("E{i}"), &[])]),
        );
    }
    let conn = s.connection();
    // Times that repeat and jump, and ids with holes, as purge leaves them.
    conn.execute("UPDATE changes SET at = 1000 + (id / 3) * 7", [])
        .expect("sets times");
    conn.execute(
        "DELETE FROM changes WHERE id % 5 = 0 OR id BETWEEN 17 AND 23",
        [],
    )
    .expect("makes holes");
    for at in 990..1110 {
        assert_eq!(
            first_change_since(conn, at).expect("runs"),
            by_scan(conn, at),
            "since {at}"
        );
    }
    assert_eq!(first_change_since(conn, i64::MIN).expect("runs"), Some(1));
    assert_eq!(first_change_since(conn, i64::MAX).expect("runs"), None);
}

/// Turns a database of the current schema back into one of version 6: the
/// indexes migration 7 drops, the two trigram tables migration 8 merges,
/// the unique index over observation text that migration 10 replaces, the
/// search backlog of migration 12. (Migration 9 makes the word index
/// again, whatever it held; the trigram tables are filled here.)
const BACK_TO_VERSION_6: &str = "
    DROP TABLE search_backlog;
    DROP TRIGGER observations_unindex;
    DROP TRIGGER observations_unword;
    CREATE TABLE observations_v6 (
        id             INTEGER PRIMARY KEY,
        entity_id      INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        content        TEXT    NOT NULL,
        created_at     INTEGER NOT NULL,
        created_change INTEGER,
        UNIQUE (entity_id, content)
    ) STRICT;
    INSERT INTO observations_v6 SELECT id, entity_id, content, created_at, created_change
        FROM observations;
    DROP TABLE observations;
    ALTER TABLE observations_v6 RENAME TO observations;
    CREATE INDEX observations_by_entity ON observations(entity_id);
    CREATE TRIGGER observations_unword AFTER DELETE ON observations BEGIN
        DELETE FROM word_fts WHERE rowid = (old.entity_id << 32) | old.id;
    END;
    CREATE INDEX changes_by_at ON changes(at);
    CREATE INDEX entities_by_change ON entities(created_change);
    CREATE INDEX observations_by_change ON observations(created_change);
    CREATE INDEX relations_by_change ON relations(created_change);
    DROP TRIGGER entities_unindex;
    DROP TABLE trigram_fts;
    CREATE VIRTUAL TABLE entity_fts USING fts5(
        text, content = '', contentless_delete = 1, detail = none,
        tokenize = 'trigram case_sensitive 1'
    );
    CREATE VIRTUAL TABLE observation_fts USING fts5(
        text, content = '', contentless_delete = 1, detail = none,
        tokenize = 'trigram case_sensitive 1'
    );
    INSERT INTO entity_fts (rowid, text)
        SELECT id, memgraphd_lower(name) || char(10) || memgraphd_lower(entity_type) FROM entities;
    INSERT INTO observation_fts (rowid, text)
        SELECT id, memgraphd_lower(content) FROM observations;
    CREATE TRIGGER entities_unindex AFTER DELETE ON entities BEGIN
        DELETE FROM entity_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER observations_unindex AFTER DELETE ON observations BEGIN
        DELETE FROM observation_fts WHERE rowid = old.id;
    END;
    PRAGMA user_version = 6;";

fn indexes(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%by_%' ORDER BY name")
        .expect("prepares");
    let names = stmt
        .query_map([], |r| r.get(0))
        .expect("lists indexes")
        .collect::<Result<Vec<String>, _>>()
        .expect("reads names");
    names
}

#[test]
fn a_version_6_database_upgrades_keeping_rows_and_history() {
    let dir = tempfile::Builder::new()
        .prefix("mghist")
        .tempdir()
        .expect("a temp dir");
    let path = dir.path().join("v6.db");
    let (graph, all, alice, since, rows) = {
        let mut s = Store::open(&path, Durability::Normal).expect("opens");
        apply(
            &mut s,
            GraphOp::CreateEntities(vec![entity("Alice", &["one"]), entity("Bob", &["two"])]),
        );
        apply(
            &mut s,
            GraphOp::CreateRelations(vec![Relation {
                from: "Alice".into(),
                to: "Bob".into(),
                relation_type: "knows".into(),
            }]),
        );
        apply(
            &mut s,
            GraphOp::AddObservations(vec![ObservationAdd {
                entity_name: "Alice".into(),
                contents: vec!["three".into()],
            }]),
        );
        apply(&mut s, GraphOp::DeleteEntities(vec!["Bob".into()]));
        apply(
            &mut s,
            GraphOp::SupersedeObservation {
                entity_name: "Alice".into(),
                old: "one".into(),
                new: "uno".into(),
            },
        );
        let conn = s.connection();
        conn.execute("UPDATE changes SET at = 5000 + id * 10", [])
            .expect("spreads the times");
        conn.execute_batch(BACK_TO_VERSION_6)
            .expect("back to version 6");
        let rows: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM changes) + (SELECT count(*) FROM change_entities)
                      + (SELECT count(*) FROM entities) + (SELECT count(*) FROM observations)
                      + (SELECT count(*) FROM relations) + (SELECT count(*) FROM entities_ended)
                      + (SELECT count(*) FROM observations_ended)
                      + (SELECT count(*) FROM relations_ended)",
                [],
                |r| r.get(0),
            )
            .expect("counts rows");
        let graph = apply(&mut s, GraphOp::ReadGraph);
        (
            graph,
            history(&mut s, None, None),
            history(&mut s, Some("Alice"), None),
            history(&mut s, None, Some(5030)),
            rows,
        )
    };
    assert_eq!(
        schema::MIGRATIONS.len(),
        12,
        "this test upgrades from 6 to 12"
    );
    let mut s = Store::open(&path, Durability::Normal).expect("a v6 database opens");
    let conn = s.connection();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("reads user_version");
    assert_eq!(version, 12);
    // Migration 12: the search backlog, empty, since the migrations built
    // the indexes whole.
    let queued: i64 = conn
        .query_row("SELECT count(*) FROM search_backlog", [], |r| r.get(0))
        .expect("the backlog exists");
    assert_eq!(queued, 0);
    // Migration 11: both indexes keep FTS5's default hash of pending rows.
    for table in ["trigram_fts", "word_fts"] {
        let size: i64 = conn
            .query_row(
                &format!("SELECT v FROM {table}_config WHERE k = 'hashsize'"),
                [],
                |r| r.get(0),
            )
            .expect("reads the hash size");
        assert_eq!(size, 1 << 20, "{table}");
    }
    let left = indexes(conn);
    // Migration 10: observations are found by a hash of their text, not
    // by a unique index over it, and every row has its hash.
    assert!(
        left.iter().any(|n| n == "observations_by_content"),
        "{left:?}"
    );
    let unique: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master
             WHERE tbl_name = 'observations' AND name LIKE 'sqlite_autoindex%'",
            [],
            |r| r.get(0),
        )
        .expect("lists the automatic indexes");
    assert_eq!(unique, 0, "the unique index over the text is gone");
    let mut stmt = conn
        .prepare("SELECT content, content_hash FROM observations")
        .expect("prepares");
    let hashes: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("reads hashes")
        .collect::<Result<_, _>>()
        .expect("reads rows");
    assert!(!hashes.is_empty());
    for (content, hash) in &hashes {
        assert_eq!(*hash, content_hash(content), "{content}");
    }
    drop(stmt);
    for dropped in [
        "changes_by_at",
        "entities_by_change",
        "observations_by_change",
        "relations_by_change",
    ] {
        assert!(
            !left.iter().any(|n| n == dropped),
            "{dropped} is gone: {left:?}"
        );
    }
    assert!(
        left.iter().any(|n| n == "change_entities_by_change"),
        "{left:?}"
    );
    let rows_after: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM changes) + (SELECT count(*) FROM change_entities)
                  + (SELECT count(*) FROM entities) + (SELECT count(*) FROM observations)
                  + (SELECT count(*) FROM relations) + (SELECT count(*) FROM entities_ended)
                  + (SELECT count(*) FROM observations_ended)
                  + (SELECT count(*) FROM relations_ended)",
            [],
            |r| r.get(0),
        )
        .expect("counts rows");
    assert_eq!(rows_after, rows);
    assert_eq!(apply(&mut s, GraphOp::ReadGraph), graph);
    // Migration 8 rebuilt the trigram index: names and observations are found.
    for query in ["alic", "hree", "uno"] {
        match apply(
            &mut s,
            GraphOp::SearchNodes {
                query: query.into(),
            },
        ) {
            Outcome::Graph(g) => assert_eq!(g.entities.len(), 1, "{query}: {g:?}"),
            other => panic!("search_nodes answered {other:?}"),
        }
    }
    assert_eq!(history(&mut s, None, None), all);
    assert_eq!(history(&mut s, Some("Alice"), None), alice);
    assert_eq!(history(&mut s, None, Some(5030)), since);
    assert_eq!(
        since.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [5, 4, 3]
    );
    // Undo still finds what the changes made, without the dropped indexes:
    // the supersede reverts, and the delete of Bob comes back with his
    // observation and his relation.
    apply(
        &mut s,
        GraphOp::Undo {
            change_id: 5,
            force: false,
        },
    );
    apply(
        &mut s,
        GraphOp::Undo {
            change_id: 4,
            force: false,
        },
    );
    let before_delete = apply(&mut s, GraphOp::ReadGraph);
    match &before_delete {
        Outcome::Graph(g) => {
            assert_eq!(g.entities.len(), 2, "{g:?}");
            assert_eq!(g.relations.len(), 1, "{g:?}");
            assert_eq!(g.entities[0].observations, ["one", "three"]);
        }
        other => panic!("read_graph answered {other:?}"),
    }
    match apply(
        &mut s,
        GraphOp::SearchNodes {
            query: "bob".into(),
        },
    ) {
        Outcome::Graph(g) => assert_eq!(g.entities.len(), 1, "the restored Bob: {g:?}"),
        other => panic!("search_nodes answered {other:?}"),
    }
    // Undoing the undo removes what it brought back, found by its links:
    // the relation only through its far end, Bob (the delete did not link
    // Alice).
    match apply(
        &mut s,
        GraphOp::Undo {
            change_id: 7,
            force: false,
        },
    ) {
        Outcome::Undone(u) => assert_eq!(
            u.summary,
            "undid change 7 (undo): removed 1 entity, 1 observation, 1 relation"
        ),
        other => panic!("undo answered {other:?}"),
    }
    match apply(&mut s, GraphOp::ReadGraph) {
        Outcome::Graph(g) => {
            assert_eq!(g.entities.len(), 1, "{g:?}");
            assert!(g.relations.is_empty(), "{g:?}");
        }
        other => panic!("read_graph answered {other:?}"),
    }
    // An upgraded entity still holds each text once.
    match apply(
        &mut s,
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "Alice".into(),
            contents: vec!["three".into(), "four".into(), "four".into()],
        }]),
    ) {
        Outcome::ObservationsAdded(added) => assert_eq!(added[0].added, ["four"]),
        other => panic!("add_observations answered {other:?}"),
    }
}

/// Undo's reads of what a change made are searches by index (the change's
/// links, then each linked entity's rows), never a scan of a live table.
#[test]
fn what_a_change_made_is_found_without_scanning_a_table() {
    let s = Store::open_in_memory().expect("a store opens");
    let plan = |sql: &str| -> Vec<String> {
        let mut stmt = s
            .connection()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explains");
        let steps = stmt
            .query_map([7], |r| r.get(3))
            .expect("runs")
            .collect::<Result<Vec<String>, _>>()
            .expect("reads the plan");
        steps
    };
    let scans = |steps: &[String]| steps.iter().any(|step| step.starts_with("SCAN"));
    // The check can fail: with its index gone, the direct lookup scans.
    assert!(scans(&plan(
        "SELECT id FROM entities WHERE created_change = ?1"
    )));
    for sql in [
        super::undo::MADE_ENTITIES,
        super::undo::MADE_OBSERVATIONS,
        super::undo::MADE_RELATIONS,
    ] {
        let steps = plan(sql);
        assert!(!steps.is_empty() && !scans(&steps), "{sql}\n{steps:#?}");
    }
}
