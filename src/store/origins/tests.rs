//! The origins read: each observation names the change, session and
//! project that wrote it, the answer is bounded, and the count is whole.

use crate::model::{Author, Entity, GraphOp, ObservationAdd};
use crate::store::{Store, StoreError};

fn write_as(store: &mut Store, op: GraphOp, session: &str, project: &str) {
    let author = Author {
        session: Some(session.into()),
        project: Some(project.into()),
        actor: Some("alice".into()),
        ..Author::default()
    };
    let mut batch = store.batch().expect("a batch opens");
    batch.apply_as(&op, &author).expect("the write applies");
    batch.commit().expect("the batch commits");
}

#[test]
fn each_observation_names_the_change_that_wrote_it() {
    let mut store = Store::open_in_memory().expect("an in-memory store opens");
    let create = GraphOp::CreateEntities(vec![Entity {
        name: "Ada".into(),
        entity_type: "person".into(),
        observations: vec!["wrote notes".into()],
    }]);
    write_as(&mut store, create, "s-1", "github.com/acme/a");
    let add = GraphOp::AddObservations(vec![ObservationAdd {
        entity_name: "Ada".into(),
        contents: vec!["likes engines".into(), "born 1815".into()],
    }]);
    write_as(&mut store, add, "s-2", "github.com/acme/b");

    let found = store.origins("Ada", 10).expect("Ada is read");
    assert_eq!(found.entity_type, "person");
    assert_eq!(found.observation_count, 3);
    let seen: Vec<(&str, &str, &str, &str)> = found
        .observations
        .iter()
        .map(|o| {
            let change = o.change.as_ref().expect("history holds the change");
            (
                o.content.as_str(),
                change.tool.as_str(),
                change.session.as_deref().unwrap_or(""),
                change.project.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("wrote notes", "create_entities", "s-1", "github.com/acme/a"),
            (
                "likes engines",
                "add_observations",
                "s-2",
                "github.com/acme/b"
            ),
            ("born 1815", "add_observations", "s-2", "github.com/acme/b"),
        ]
    );
    let actor = found.observations[0]
        .change
        .as_ref()
        .and_then(|c| c.actor.as_deref());
    assert_eq!(actor, Some("alice"));

    let first = store.origins("Ada", 1).expect("Ada is read");
    assert_eq!(first.observations.len(), 1);
    assert_eq!(
        first.observation_count, 3,
        "the count is not cut by the limit"
    );
}

#[test]
fn an_unknown_entity_is_named() {
    let store = Store::open_in_memory().expect("an in-memory store opens");
    match store.origins("Nobody", 10) {
        Err(StoreError::UnknownEntity(name)) => assert_eq!(name, "Nobody"),
        other => panic!("expected an unknown entity, got {other:?}"),
    }
}
