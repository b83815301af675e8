//! The recent-changes read of the session-start hook (`GraphOp::Recent`):
//! by project, newest first, live entities only, bounded, and by index.

use super::*;
use crate::model::{Author, RecentQuery};
use history::recent::{AMONG, LINKS, OF_ANY, OF_PROJECT};

fn by(project: &str) -> Author {
    Author {
        project: Some(project.into()),
        ..Author::default()
    }
}

fn write_as(s: &mut Store, project: &str, op: GraphOp) {
    let mut batch = s.batch().expect("a batch");
    batch
        .apply_as(&op, &by(project))
        .expect("the write applies");
    batch.commit().expect("the batch commits");
}

fn recent(s: &mut Store, project: Option<&str>, limit: u32) -> Graph {
    let op = GraphOp::Recent(RecentQuery {
        project: project.map(str::to_owned),
        limit,
    });
    match apply(s, op) {
        Outcome::Graph(graph) => graph,
        other => panic!("recent answered {other:?}"),
    }
}

#[test]
fn recent_lists_the_projects_live_entities_most_recently_changed_first() {
    let mut s = store();
    let tools = "github.com/acme/tools";
    write_as(
        &mut s,
        tools,
        GraphOp::CreateEntities(vec![
            entity("Alice", "person", &["one"]),
            entity("Acme", "company", &[]),
            entity("Gone", "thing", &[]),
        ]),
    );
    write_as(
        &mut s,
        "/srv/notes",
        GraphOp::CreateEntities(vec![entity("Note", "note", &["elsewhere"])]),
    );
    write_as(
        &mut s,
        tools,
        GraphOp::CreateRelations(vec![
            rel("Alice", "Acme", "works_at"),
            rel("Alice", "Note", "wrote"),
        ]),
    );
    write_as(
        &mut s,
        tools,
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "Alice".into(),
            contents: vec!["two".into()],
        }]),
    );
    write_as(&mut s, tools, GraphOp::DeleteEntities(vec!["Gone".into()]));

    let mine = recent(&mut s, Some(tools), 20);
    // Alice changed last (the observation), then the relations touched
    // Acme and Note (Note too, though another project made it); within one
    // change the newer entity comes first.
    assert_eq!(names(&mine), ["Alice", "Note", "Acme"]);
    assert_eq!(mine.entities[0].observations, ["one", "two"]);
    assert_eq!(
        mine.relations,
        [
            rel("Alice", "Acme", "works_at"),
            rel("Alice", "Note", "wrote")
        ]
    );
    assert_eq!(names(&recent(&mut s, Some(tools), 1)), ["Alice"]);
    let two = recent(&mut s, Some(tools), 2);
    assert_eq!(
        two.relations,
        [rel("Alice", "Note", "wrote")],
        "only the relations among the entities returned"
    );
    assert_eq!(names(&recent(&mut s, Some("/srv/notes"), 20)), ["Note"]);
    assert!(recent(&mut s, Some("/srv/other"), 20).entities.is_empty());
    assert_eq!(names(&recent(&mut s, None, 20)), ["Alice", "Note", "Acme"]);
}

#[test]
fn recent_reads_a_bounded_number_of_links_whatever_one_change_touched() {
    let mut s = store();
    let project = "github.com/acme/big";
    let many = LINKS as usize + 500;
    write_as(
        &mut s,
        project,
        GraphOp::CreateEntities(
            (0..many)
                .map(|i| entity(&format!("e{i:05}"), "thing", &[]))
                .collect(),
        ),
    );
    write_as(
        &mut s,
        project,
        GraphOp::CreateEntities(vec![entity("Last", "thing", &[])]),
    );
    let got = recent(&mut s, Some(project), 100);
    assert_eq!(got.entities.len(), 100);
    assert_eq!(got.entities[0].name, "Last");
    assert_eq!(recent(&mut s, None, 100).entities.len(), 100);
}

#[test]
fn recent_is_refused_over_its_limit() {
    let mut s = store();
    let err = s
        .apply(&GraphOp::Recent(RecentQuery {
            project: None,
            limit: crate::limits::MAX_RECENT + 1,
        }))
        .expect_err("over the limit");
    assert!(err.to_string().contains("limit"), "{err}");
}

#[test]
fn recent_walks_indexes_and_never_scans_a_table() {
    let mut s = store();
    for i in 0..50 {
        write_as(
            &mut s,
            if i % 2 == 0 { "p/a" } else { "p/b" },
            GraphOp::CreateEntities(vec![entity(&format!("e{i}"), "thing", &["x"])]),
        );
    }
    for (sql, params) in [
        (OF_PROJECT, vec!["'p/a'", "10"]),
        (OF_ANY, vec!["10"]),
        (AMONG, vec!["rarray(?1)"]),
    ] {
        let mut sql = sql.to_owned();
        if params[0] != "rarray(?1)" {
            for (i, p) in params.iter().enumerate().rev() {
                sql = sql.replace(&format!("?{}", i + 1), p);
            }
        }
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut stmt = s.connection().prepare(&explain).expect("the plan");
        let ids = read::array(
            [1i64, 2, 3]
                .into_iter()
                .map(rusqlite::types::Value::Integer),
        );
        let plan: Vec<String> = if sql.contains("?1") {
            stmt.query_map([ids], |r| r.get(3))
                .expect("the plan runs")
                .collect::<Result<_, _>>()
                .expect("the plan reads")
        } else {
            stmt.query_map([], |r| r.get(3))
                .expect("the plan runs")
                .collect::<Result<_, _>>()
                .expect("the plan reads")
        };
        for step in &plan {
            let table_scan =
                step.starts_with("SCAN ") && !step.contains("USING") && !step.contains("rarray");
            assert!(!table_scan, "{step} in the plan of {sql}:\n{plan:#?}");
        }
        // The links come in index order, so the reader stops the walk: no
        // sort first.
        let sorted = sql.contains("LIMIT") && plan.iter().any(|step| step.contains("TEMP B-TREE"));
        assert!(!sorted, "{sql}:\n{plan:#?}");
    }
}
