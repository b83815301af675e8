//! Snapshots page through the graph in `read_graph`'s order, keep entities
//! whole, and do not see what is written after they opened.

use super::*;
use crate::model::{Graph, GraphOp, ObservationAdd, Outcome};
use crate::store::Durability;

fn file_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::Builder::new()
        .prefix("mg")
        .tempdir()
        .expect("a temp dir");
    let store = Store::open(&dir.path().join("memory.db"), Durability::Normal).expect("opens");
    (dir, store)
}

fn fill(store: &mut Store, entities: usize) {
    let batch: Vec<Entity> = (0..entities)
        .map(|i| {
            Entity::new(
                format!("e{i}"),
                "thing",
                [format!("obs {i}"), "x".repeat(i)],
            )
        })
        .collect();
    store
        .apply(&GraphOp::CreateEntities(batch))
        .expect("create");
    let relations: Vec<Relation> = (1..entities)
        .map(|i| Relation::new(format!("e{}", i - 1), format!("e{i}"), "next"))
        .collect();
    store
        .apply(&GraphOp::CreateRelations(relations))
        .expect("relate");
}

/// Every page of `snapshot` with a budget of `budget` bytes, in order.
fn pages(snapshot: &Snapshot, budget: usize) -> Vec<ExportPage> {
    let mut pages = Vec::new();
    let mut after = ExportCursor::START;
    loop {
        let page = snapshot.page(after, budget).expect("a page");
        let next = page.next;
        pages.push(page);
        match next {
            Some(next) => after = next,
            None => return pages,
        }
        assert!(pages.len() < 10_000, "paging does not end");
    }
}

fn joined(pages: &[ExportPage]) -> Graph {
    Graph {
        entities: pages.iter().flat_map(|p| p.entities.clone()).collect(),
        relations: pages.iter().flat_map(|p| p.relations.clone()).collect(),
    }
}

fn read_graph(store: &Store) -> Graph {
    match store.read(&GraphOp::ReadGraph).expect("read_graph") {
        Outcome::Graph(graph) => graph,
        other => panic!("read_graph answered {other:?}"),
    }
}

#[test]
fn pages_joined_are_read_graph_whatever_the_budget() {
    let (_dir, mut store) = file_store();
    fill(&mut store, 50);
    let expected = read_graph(&store);
    for budget in [0, 1, 100, 2_000, usize::MAX] {
        let snapshot = store.snapshot().expect("a snapshot");
        let pages = pages(&snapshot, budget);
        assert_eq!(joined(&pages), expected, "budget {budget}");
        assert!(pages
            .iter()
            .all(|p| p.total_entities == 50 && p.total_relations == 49));
        if budget == 0 {
            // One item per page: whole entities, then single relations.
            assert_eq!(pages.len(), 50 + 49);
        }
        if budget == usize::MAX {
            assert_eq!(pages.len(), 1);
        }
    }
}

#[test]
fn an_empty_graph_is_one_empty_last_page() {
    let (_dir, store) = file_store();
    let snapshot = store.snapshot().expect("a snapshot");
    let page = snapshot.page(ExportCursor::START, 1000).expect("a page");
    assert_eq!(page.entities.len() + page.relations.len(), 0);
    assert_eq!(page.next, None);
}

#[test]
fn writes_after_the_snapshot_opened_are_not_seen() {
    let (_dir, mut store) = file_store();
    fill(&mut store, 20);
    let before = read_graph(&store);
    let snapshot = store.snapshot().expect("a snapshot");
    let first = snapshot.page(ExportCursor::START, 100).expect("first page");
    // Between pages: delete an entity not sent yet, grow one already sent,
    // add a new one.
    store
        .apply(&GraphOp::DeleteEntities(vec!["e15".into()]))
        .expect("delete");
    store
        .apply(&GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "e0".into(),
            contents: vec!["late".into()],
        }]))
        .expect("add");
    store
        .apply(&GraphOp::CreateEntities(vec![Entity::new(
            "new",
            "thing",
            ["n"],
        )]))
        .expect("create");
    let mut all = vec![first.clone()];
    all.extend(pages_from(&snapshot, first.next.expect("more pages")));
    assert_eq!(joined(&all), before);
    assert_ne!(read_graph(&store), before);
}

fn pages_from(snapshot: &Snapshot, mut after: ExportCursor) -> Vec<ExportPage> {
    let mut out = Vec::new();
    loop {
        let page = snapshot.page(after, 100).expect("a page");
        let next = page.next;
        out.push(page);
        match next {
            Some(next) => after = next,
            None => return out,
        }
    }
}

#[test]
fn an_in_memory_store_has_no_snapshot() {
    let store = Store::open_in_memory().expect("opens");
    assert!(matches!(store.snapshot(), Err(StoreError::InMemory)));
}
