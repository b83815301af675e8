//! Unit tests of the writer actor on an in-memory store: reads see earlier
//! writes, concurrent writes all land, a failure stays with its own request,
//! retries apply once, the change feed, and shutdown when the handles go.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::broadcast::error::TryRecvError;
use tokio::task::JoinSet;

use super::*;
use crate::model::{CreatedEntities, Entity, Graph, Relation};

// ---- helpers ---------------------------------------------------------------

fn spawn() -> (DbHandle, thread::JoinHandle<()>) {
    let store = Store::open_in_memory().expect("an in-memory store opens");
    DbHandle::spawn(store).expect("the actor thread starts")
}

fn entity(name: &str, observations: &[&str]) -> Entity {
    Entity {
        name: name.into(),
        entity_type: "thing".into(),
        observations: observations.iter().map(|o| o.to_string()).collect(),
    }
}

fn rel(from: &str, to: &str, relation_type: &str) -> Relation {
    Relation::new(from, to, relation_type)
}

fn create(names: &[&str]) -> GraphOp {
    GraphOp::CreateEntities(names.iter().map(|n| entity(n, &[])).collect())
}

async fn run(db: &DbHandle, op: GraphOp) -> Outcome {
    let tool = op.tool_name();
    db.run(op, None, 0)
        .await
        .unwrap_or_else(|e| panic!("{tool} failed: {e:?}"))
}

async fn graph(db: &DbHandle) -> Graph {
    match run(db, GraphOp::ReadGraph).await {
        Outcome::Graph(graph) => graph,
        other => panic!("read_graph answered {other:?}"),
    }
}

fn names(graph: &Graph) -> Vec<&str> {
    graph.entities.iter().map(|e| e.name.as_str()).collect()
}

/// Joins the actor thread, failing instead of hanging if it does not exit.
fn join_within(thread: thread::JoinHandle<()>, limit: Duration) {
    let (done, joined) = std_mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(thread.join().is_ok());
    });
    match joined.recv_timeout(limit) {
        Ok(true) => {}
        Ok(false) => panic!("the actor thread panicked"),
        Err(_) => panic!("the actor thread did not exit within {limit:?}"),
    }
}

// ---- reads and writes ------------------------------------------------------

#[tokio::test]
async fn a_read_sees_the_write_before_it() {
    let (db, _thread) = spawn();
    let created = run(
        &db,
        GraphOp::CreateEntities(vec![entity("Alice", &["likes tea"])]),
    )
    .await;
    assert_eq!(
        created,
        Outcome::EntitiesCreated(CreatedEntities {
            created: vec![entity("Alice", &["likes tea"])],
            skipped: vec![],
        })
    );
    assert_eq!(
        graph(&db).await,
        Graph {
            entities: vec![entity("Alice", &["likes tea"])],
            relations: vec![],
        }
    );
}

#[tokio::test]
async fn a_read_queued_right_behind_a_write_sees_it() {
    let (db, _thread) = spawn();
    // `join!` polls the write first, so it is queued before the read, and
    // the read is answered only after the write's batch commits.
    let (written, read) = tokio::join!(
        db.run(create(&["Queued"]), None, 1),
        db.run(GraphOp::OpenNodes(vec!["Queued".into()]), None, 2),
    );
    written.expect("the write succeeds");
    match read.expect("the read succeeds") {
        Outcome::Graph(graph) => assert_eq!(names(&graph), ["Queued"]),
        other => panic!("open_nodes answered {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_writes_all_land() {
    let (db, _thread) = spawn();
    let mut tasks = JoinSet::new();
    for i in 0..200u64 {
        let db = db.clone();
        tasks.spawn(async move {
            let name = format!("e{i:03}");
            let outcome = db.run(create(&[&name]), None, i).await;
            (name, outcome)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (name, outcome) = joined.expect("the task does not panic");
        match outcome {
            Ok(Outcome::EntitiesCreated(created)) => {
                assert_eq!(created.created, vec![entity(&name, &[])]);
                assert!(created.skipped.is_empty());
            }
            other => panic!("creating {name} answered {other:?}"),
        }
    }
    let graph = graph(&db).await;
    let mut found = names(&graph);
    found.sort_unstable();
    let expected: Vec<String> = (0..200).map(|i| format!("e{i:03}")).collect();
    assert_eq!(found, expected);
    assert_eq!(db.counts().await.expect("counts").entities, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_write_does_not_stop_the_others_in_its_burst() {
    let (db, _thread) = spawn();
    run(&db, create(&["Alice"])).await;

    let mut tasks = JoinSet::new();
    for i in 0..50u64 {
        let db = db.clone();
        tasks.spawn(async move {
            let op = if i == 25 {
                GraphOp::CreateRelations(vec![
                    rel("Alice", "Alice", "likes"),
                    rel("Alice", "Ghost", "haunted_by"),
                ])
            } else {
                create(&[&format!("good{i}")])
            };
            (i, db.run(op, None, i).await)
        });
    }
    let mut good = 0;
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.expect("the task does not panic");
        if i == 25 {
            match result {
                Err(DbError::Op(OpError::UnknownEntity(name))) => assert_eq!(name, "Ghost"),
                other => panic!("the bad request answered {other:?}"),
            }
        } else {
            assert!(result.is_ok(), "request {i} failed: {result:?}");
            good += 1;
        }
    }
    assert_eq!(good, 49);
    let graph = graph(&db).await;
    assert_eq!(graph.entities.len(), 50, "Alice and the 49 good ones");
    assert!(
        graph.relations.is_empty(),
        "the failed call stored nothing, not even its valid relation: {:?}",
        graph.relations
    );
}

#[tokio::test]
async fn a_write_over_the_limits_is_refused_by_the_actor_too() {
    let (db, _thread) = spawn();
    let result = db.run(create(&["ok", ""]), None, 0).await;
    match result {
        Err(DbError::Op(OpError::Invalid(message))) => {
            assert_eq!(message, "entities[1].name: must not be empty");
        }
        other => panic!("an empty name answered {other:?}"),
    }
    assert!(graph(&db).await.entities.is_empty());
}

// ---- at most once ----------------------------------------------------------

#[tokio::test]
async fn a_request_id_is_applied_at_most_once() {
    let (db, _thread) = spawn();
    let op = GraphOp::CreateEntities(vec![entity("Alice", &["likes tea"])]);
    let first = db
        .run(op.clone(), Some(42), 1)
        .await
        .expect("the first send succeeds");
    let second = db
        .run(op.clone(), Some(42), 1)
        .await
        .expect("the retry succeeds");
    assert_eq!(second, first);
    match &second {
        Outcome::EntitiesCreated(created) => {
            assert_eq!(created.created, vec![entity("Alice", &["likes tea"])]);
            assert!(
                created.skipped.is_empty(),
                "the retry reports Alice as skipped"
            );
        }
        other => panic!("create_entities answered {other:?}"),
    }
    assert_eq!(graph(&db).await.entities.len(), 1);

    // Another id is another request: now Alice exists and is skipped.
    match db.run(op, Some(43), 1).await.expect("a new request") {
        Outcome::EntitiesCreated(created) => {
            assert!(created.created.is_empty());
            assert_eq!(created.skipped, ["Alice"]);
        }
        other => panic!("create_entities answered {other:?}"),
    }
}

#[tokio::test]
async fn a_retried_add_observations_adds_nothing_twice() {
    let (db, _thread) = spawn();
    run(&db, create(&["Alice"])).await;
    let op = GraphOp::AddObservations(vec![crate::model::ObservationAdd {
        entity_name: "Alice".into(),
        contents: vec!["has a dog".into()],
    }]);
    let first = db.run(op.clone(), Some(7), 0).await.expect("first send");
    let second = db.run(op, Some(7), 0).await.expect("retry");
    assert_eq!(first, second);
    assert_eq!(graph(&db).await.entities[0].observations, ["has a dog"]);
}

#[tokio::test]
async fn a_failed_request_id_can_be_retried_once_it_would_succeed() {
    let (db, _thread) = spawn();
    let op = GraphOp::CreateRelations(vec![rel("Alice", "Bob", "knows")]);
    assert!(matches!(
        db.run(op.clone(), Some(9), 0).await,
        Err(DbError::Op(OpError::UnknownEntity(_)))
    ));
    run(&db, create(&["Alice", "Bob"])).await;
    // The failure was not recorded as the answer to request 9.
    assert_eq!(
        db.run(op, Some(9), 0).await.expect("the retry succeeds"),
        Outcome::RelationsCreated(vec![rel("Alice", "Bob", "knows")])
    );
}

// ---- change feed -----------------------------------------------------------

#[tokio::test]
async fn each_successful_write_is_announced_once_with_its_origin() {
    let (db, _thread) = spawn();
    let mut feed = db.subscribe();

    db.run(create(&["Alice"]), None, 7).await.expect("write 7");
    db.run(create(&["Bob"]), Some(1), 8).await.expect("write 8");
    let failed = db
        .run(
            GraphOp::CreateRelations(vec![rel("Alice", "Ghost", "r")]),
            None,
            9,
        )
        .await;
    assert!(failed.is_err(), "{failed:?}");
    db.run(GraphOp::ReadGraph, None, 10).await.expect("a read");
    db.run(create(&["Carol"]), None, 11)
        .await
        .expect("write 11");

    // Changes are sent before the reply, so they are all there by now.
    let mut origins = Vec::new();
    loop {
        match feed.try_recv() {
            Ok(change) => origins.push(change.origin),
            Err(TryRecvError::Empty) => break,
            Err(other) => panic!("the feed failed: {other:?}"),
        }
    }
    assert_eq!(origins, [7, 8, 11], "no notice for the failure or the read");
}

#[tokio::test]
async fn a_subscriber_sees_only_changes_after_it_subscribed() {
    let (db, _thread) = spawn();
    run(&db, create(&["Before"])).await;
    let mut feed = db.subscribe();
    assert!(matches!(feed.try_recv(), Err(TryRecvError::Empty)));
    db.run(create(&["After"]), None, 3).await.expect("write");
    assert_eq!(feed.try_recv().expect("one change"), Change { origin: 3 });
    assert!(matches!(feed.try_recv(), Err(TryRecvError::Empty)));
}

// ---- counts, queue, shutdown -----------------------------------------------

#[tokio::test]
async fn counts_are_the_row_counts_of_the_graph() {
    let (db, _thread) = spawn();
    assert_eq!(db.counts().await.expect("counts"), Counts::default());
    run(
        &db,
        GraphOp::CreateEntities(vec![entity("Alice", &["a", "b"]), entity("Bob", &["c"])]),
    )
    .await;
    run(
        &db,
        GraphOp::CreateRelations(vec![rel("Alice", "Bob", "knows")]),
    )
    .await;
    assert_eq!(
        db.counts().await.expect("counts"),
        Counts {
            entities: 2,
            observations: 3,
            relations: 1,
        }
    );
    run(&db, GraphOp::DeleteEntities(vec!["Bob".into()])).await;
    assert_eq!(
        db.counts().await.expect("counts"),
        Counts {
            entities: 1,
            observations: 2,
            relations: 0,
        }
    );
}

#[tokio::test]
async fn the_queue_is_empty_when_idle() {
    let (db, _thread) = spawn();
    assert_eq!(db.queue_depth(), 0);
    run(&db, create(&["Alice"])).await;
    // Upkeep after a write, as the daemon asks for it once writes stop.
    db.upkeep_if_quiet(std::time::Duration::ZERO);
    // Upkeep is answered by nothing; a read behind it shows it ran.
    let after = graph(&db).await;
    assert_eq!(after.entities.len(), 1);
    assert_eq!(db.queue_depth(), 0);
}

#[test]
fn the_actor_exits_once_every_handle_is_dropped() {
    let (db, thread) = spawn();
    let clone = db.clone();
    let mut feed = db.subscribe();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        run(&clone, create(&["Alice"])).await;
    });
    drop(db);
    // One handle left: the actor still serves it.
    runtime.block_on(async {
        assert_eq!(names(&graph(&clone).await), ["Alice"]);
    });
    drop(clone);
    join_within(thread, Duration::from_secs(5));
    assert_eq!(feed.try_recv(), Ok(Change { origin: 0 }));
    assert!(matches!(feed.try_recv(), Err(TryRecvError::Closed)));
}
