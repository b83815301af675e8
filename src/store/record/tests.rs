//! The recorded replies: compact where the request can rebuild them, whole
//! otherwise, and records written before compact ones still read.

use super::*;
use crate::model::{ObservationAdd, Relation};

fn entity(name: &str, observations: &[&str]) -> Entity {
    Entity::new(name, "t", observations.iter().copied())
}

fn whole(outcome: &Outcome) -> Vec<u8> {
    bincode::serde::encode_to_vec(outcome, bincode::config::standard()).expect("encodes")
}

#[test]
fn a_create_is_recorded_by_what_it_applied_and_rebuilt_exactly() {
    let long = "an observation long enough to matter ".repeat(4);
    let op = GraphOp::CreateEntities(vec![
        entity("A", &[&long, "x", &long]),
        entity("B", &[&long]),
        entity("A", &["again"]),
        entity("C", &[]),
    ]);
    // B existed; A's repeated observation and the repeated A were skipped.
    let outcome = Outcome::EntitiesCreated(CreatedEntities {
        created: vec![entity("A", &[&long, "x"]), entity("C", &[])],
        skipped: vec!["B".into(), "A".into()],
    });
    let record = encode(&op, &outcome).expect("encodes");
    assert_eq!(record[0], COMPACT);
    assert!(
        record.len() * 20 < whole(&outcome).len(),
        "{} bytes",
        record.len()
    );
    assert_eq!(decode(&op, &record).expect("decodes"), outcome);
}

#[test]
fn adds_and_relations_are_rebuilt_exactly() {
    let op = GraphOp::AddObservations(vec![
        ObservationAdd {
            entity_name: "A".into(),
            contents: vec!["x".into(), "y".into(), "x".into()],
        },
        ObservationAdd {
            entity_name: "B".into(),
            contents: vec!["z".into()],
        },
    ]);
    let outcome = Outcome::ObservationsAdded(vec![
        AddedObservations {
            entity_name: "A".into(),
            added: vec!["x".into(), "y".into()],
        },
        AddedObservations {
            entity_name: "B".into(),
            added: vec![],
        },
    ]);
    let record = encode(&op, &outcome).expect("encodes");
    assert_eq!(record[0], COMPACT);
    assert_eq!(decode(&op, &record).expect("decodes"), outcome);

    let r = |f: &str, t: &str| Relation::new(f, t, "knows");
    let op = GraphOp::CreateRelations(vec![r("A", "B"), r("B", "A"), r("A", "B")]);
    let outcome = Outcome::RelationsCreated(vec![r("B", "A")]);
    let record = encode(&op, &outcome).expect("encodes");
    assert_eq!(record[0], COMPACT);
    assert_eq!(decode(&op, &record).expect("decodes"), outcome);
}

#[test]
fn a_reply_the_request_cannot_rebuild_is_kept_whole() {
    let op = GraphOp::CreateEntities(vec![entity("A", &["x"])]);
    // Not a subsequence of the request: only a whole record can say it.
    let odd = Outcome::EntitiesCreated(CreatedEntities {
        created: vec![entity("A", &["y"])],
        skipped: vec![],
    });
    let record = encode(&op, &odd).expect("encodes");
    assert_eq!(record, whole(&odd));
    assert_eq!(decode(&op, &record).expect("decodes"), odd);

    let deleted = Outcome::EntitiesDeleted(crate::model::Deleted {
        requested: 1,
        deleted: 1,
        missing: vec![],
    });
    let op = GraphOp::DeleteEntities(vec!["A".into()]);
    assert_eq!(encode(&op, &deleted).expect("encodes"), whole(&deleted));
}

#[test]
fn a_whole_record_of_an_earlier_build_still_reads() {
    let op = GraphOp::CreateEntities(vec![entity("A", &["x"])]);
    let outcome = Outcome::EntitiesCreated(CreatedEntities {
        created: vec![entity("A", &["x"])],
        skipped: vec![],
    });
    assert_eq!(decode(&op, &whole(&outcome)).expect("decodes"), outcome);
}

#[test]
fn a_compact_record_refuses_another_request() {
    let op = GraphOp::CreateEntities(vec![entity("A", &["x"])]);
    let outcome = Outcome::EntitiesCreated(CreatedEntities {
        created: vec![entity("A", &["x"])],
        skipped: vec![],
    });
    let record = encode(&op, &outcome).expect("encodes");
    let longer = GraphOp::CreateEntities(vec![entity("A", &["x"]), entity("B", &[])]);
    assert!(matches!(
        decode(&longer, &record),
        Err(StoreError::RecordDecode(_))
    ));
    let other = GraphOp::CreateRelations(vec![]);
    assert!(matches!(
        decode(&other, &record),
        Err(StoreError::RecordDecode(_))
    ));
}
