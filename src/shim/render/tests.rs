//! Snapshot tests of what agents read. Each snapshot shows every text item
//! as the agent gets it, then `structuredContent` as compact JSON (so key
//! order and escaping are visible too). After a deliberate format change,
//! run `UPDATE_EXPECT=1 cargo test --lib shim::render` and review the diff
//! against docs/TOOLS.md.

use expect_test::{expect, Expect};

use super::*;
use crate::model::{CreatedEntities, Entity};

// ---- helpers ---------------------------------------------------------------

fn check(outcome: Outcome, expect: Expect) {
    let rendered = super::outcome(&outcome);
    let mut shown = String::new();
    for (i, text) in rendered.texts.iter().enumerate() {
        shown.push_str(&format!("--- text {i}\n{text}\n"));
    }
    shown.push_str(&format!("--- structured\n{}\n", rendered.structured));
    expect.assert_eq(&shown);
}

fn entity(name: &str, entity_type: &str, observations: &[&str]) -> Entity {
    Entity::new(name, entity_type, observations.iter().copied())
}

fn rel(from: &str, to: &str, relation_type: &str) -> Relation {
    Relation::new(from, to, relation_type)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn created(created: Vec<Entity>, skipped: &[&str]) -> Outcome {
    Outcome::EntitiesCreated(CreatedEntities {
        created,
        skipped: strings(skipped),
    })
}

fn deleted<T>(requested: usize, deleted: usize, missing: Vec<T>) -> Deleted<T> {
    Deleted {
        requested,
        deleted,
        missing,
    }
}

// ---- create_entities -------------------------------------------------------

#[test]
fn created_entities() {
    check(
        created(
            vec![
                entity(
                    "Alice",
                    "person",
                    &["Works at Acme Corp", "likes programming"],
                ),
                entity("Extra", "thing", &[]),
            ],
            &[],
        ),
        expect![[r#"
            --- text 0
            [
              {
                "name": "Alice",
                "entityType": "person",
                "observations": [
                  "Works at Acme Corp",
                  "likes programming"
                ]
              },
              {
                "name": "Extra",
                "entityType": "thing",
                "observations": []
              }
            ]
            --- structured
            {"entities":[{"name":"Alice","entityType":"person","observations":["Works at Acme Corp","likes programming"]},{"name":"Extra","entityType":"thing","observations":[]}]}
        "#]],
    );
}

#[test]
fn created_entities_with_one_skipped() {
    check(
        created(
            vec![entity("Bob", "person", &["works at TechCo"])],
            &["Alice"],
        ),
        expect![[r#"
            --- text 0
            [
              {
                "name": "Bob",
                "entityType": "person",
                "observations": [
                  "works at TechCo"
                ]
              }
            ]
            --- text 1
            Skipped 1 entity that already exists or repeats within this call: "Alice". Existing entities are left unchanged; use add_observations to add to them.
            --- structured
            {"entities":[{"name":"Bob","entityType":"person","observations":["works at TechCo"]}],"skipped":["Alice"]}
        "#]],
    );
}

#[test]
fn created_entities_with_several_skipped() {
    check(
        created(vec![], &["Alice", "Dup", "say \"hi\""]),
        expect![[r#"
            --- text 0
            []
            --- text 1
            Skipped 3 entities that already exist or repeat within this call: "Alice", "Dup", "say \"hi\"". Existing entities are left unchanged; use add_observations to add to them.
            --- structured
            {"entities":[],"skipped":["Alice","Dup","say \"hi\""]}
        "#]],
    );
}

// ---- create_relations, add_observations ------------------------------------

#[test]
fn created_relations() {
    check(
        Outcome::RelationsCreated(vec![
            rel("Alice", "Acme Corp", "works_at"),
            rel("Bob", "Acme Corp", "competitor_of"),
        ]),
        expect![[r#"
            --- text 0
            [
              {
                "from": "Alice",
                "to": "Acme Corp",
                "relationType": "works_at"
              },
              {
                "from": "Bob",
                "to": "Acme Corp",
                "relationType": "competitor_of"
              }
            ]
            --- structured
            {"relations":[{"from":"Alice","to":"Acme Corp","relationType":"works_at"},{"from":"Bob","to":"Acme Corp","relationType":"competitor_of"}]}
        "#]],
    );
}

#[test]
fn no_relations_created() {
    check(
        Outcome::RelationsCreated(vec![]),
        expect![[r#"
        --- text 0
        []
        --- structured
        {"relations":[]}
    "#]],
    );
}

#[test]
fn added_observations_including_an_item_that_added_nothing() {
    check(
        Outcome::ObservationsAdded(vec![
            AddedObservations {
                entity_name: "Alice".into(),
                added: strings(&["has a dog"]),
            },
            AddedObservations {
                entity_name: "Bob".into(),
                added: vec![],
            },
        ]),
        expect![[r#"
            --- text 0
            [
              {
                "entityName": "Alice",
                "addedObservations": [
                  "has a dog"
                ]
              },
              {
                "entityName": "Bob",
                "addedObservations": []
              }
            ]
            --- structured
            {"results":[{"entityName":"Alice","addedObservations":["has a dog"]},{"entityName":"Bob","addedObservations":[]}]}
        "#]],
    );
}

// ---- deletes ---------------------------------------------------------------

#[test]
fn entities_deleted_without_misses() {
    check(
        Outcome::EntitiesDeleted(deleted(2, 2, vec![])),
        expect![[r#"
            --- text 0
            Entities deleted successfully
            --- structured
            {"success":true,"message":"Entities deleted successfully"}
        "#]],
    );
}

#[test]
fn observations_deleted_without_misses() {
    check(
        Outcome::ObservationsDeleted(deleted(3, 3, vec![])),
        expect![[r#"
            --- text 0
            Observations deleted successfully
            --- structured
            {"success":true,"message":"Observations deleted successfully"}
        "#]],
    );
}

#[test]
fn relations_deleted_without_misses() {
    check(
        Outcome::RelationsDeleted(deleted(1, 1, vec![])),
        expect![[r#"
            --- text 0
            Relations deleted successfully
            --- structured
            {"success":true,"message":"Relations deleted successfully"}
        "#]],
    );
}

#[test]
fn entities_deleted_with_misses() {
    check(
        Outcome::EntitiesDeleted(deleted(3, 1, strings(&["Alise", "Bobb"]))),
        expect![[r#"
            --- text 0
            Deleted 1 of 3 entities. Not found: Alise, Bobb
            --- structured
            {"success":true,"message":"Deleted 1 of 3 entities. Not found: Alise, Bobb"}
        "#]],
    );
}

#[test]
fn observations_deleted_with_a_missing_entity_and_a_missing_observation() {
    check(
        Outcome::ObservationsDeleted(deleted(
            4,
            2,
            vec![
                MissingObservation::Entity("Nobody".into()),
                MissingObservation::Observation {
                    entity_name: "Alice".into(),
                    content: "likes \"green\" tea".into(),
                },
            ],
        )),
        expect![[r#"
            --- text 0
            Deleted 2 of 4 observations. Not found: entity Nobody; "likes \"green\" tea" on Alice
            --- structured
            {"success":true,"message":"Deleted 2 of 4 observations. Not found: entity Nobody; \"likes \\\"green\\\" tea\" on Alice"}
        "#]],
    );
}

#[test]
fn relations_deleted_with_misses() {
    check(
        Outcome::RelationsDeleted(deleted(
            3,
            1,
            vec![
                rel("Alice", "Ghost", "haunted_by"),
                rel("Bob", "Alice", "knows"),
            ],
        )),
        expect![[r#"
            --- text 0
            Deleted 1 of 3 relations. Not found: Alice haunted_by Ghost; Bob knows Alice
            --- structured
            {"success":true,"message":"Deleted 1 of 3 relations. Not found: Alice haunted_by Ghost; Bob knows Alice"}
        "#]],
    );
}

// ---- graphs ----------------------------------------------------------------

#[test]
fn an_empty_graph() {
    check(
        Outcome::Graph(Graph::default()),
        expect![[r#"
        --- text 0
        {
          "entities": [],
          "relations": []
        }
        --- structured
        {"entities":[],"relations":[]}
    "#]],
    );
}

#[test]
fn a_graph() {
    check(
        Outcome::Graph(Graph {
            entities: vec![
                entity("Alice", "person", &["likes tea"]),
                entity("Acme Corp", "company", &[]),
            ],
            relations: vec![rel("Alice", "Acme Corp", "works_at")],
        }),
        expect![[r#"
            --- text 0
            {
              "entities": [
                {
                  "name": "Alice",
                  "entityType": "person",
                  "observations": [
                    "likes tea"
                  ]
                },
                {
                  "name": "Acme Corp",
                  "entityType": "company",
                  "observations": []
                }
              ],
              "relations": [
                {
                  "from": "Alice",
                  "to": "Acme Corp",
                  "relationType": "works_at"
                }
              ]
            }
            --- structured
            {"entities":[{"name":"Alice","entityType":"person","observations":["likes tea"]},{"name":"Acme Corp","entityType":"company","observations":[]}],"relations":[{"from":"Alice","to":"Acme Corp","relationType":"works_at"}]}
        "#]],
    );
}

#[test]
fn a_graph_with_non_ascii_and_control_characters() {
    check(
        Outcome::Graph(Graph {
            entities: vec![entity(
                "Москва",
                "город 🏙️",
                &[
                    "line one\nline two",
                    "tab\there",
                    "bell\u{1}\u{1f}",
                    "quote \" and \\",
                ],
            )],
            relations: vec![rel("Москва", "Москва", "is 🦀")],
        }),
        expect![[r#"
            --- text 0
            {
              "entities": [
                {
                  "name": "Москва",
                  "entityType": "город 🏙️",
                  "observations": [
                    "line one\nline two",
                    "tab\there",
                    "bell\u0001\u001f",
                    "quote \" and \\"
                  ]
                }
              ],
              "relations": [
                {
                  "from": "Москва",
                  "to": "Москва",
                  "relationType": "is 🦀"
                }
              ]
            }
            --- structured
            {"entities":[{"name":"Москва","entityType":"город 🏙️","observations":["line one\nline two","tab\there","bell\u0001\u001f","quote \" and \\"]}],"relations":[{"from":"Москва","to":"Москва","relationType":"is 🦀"}]}
        "#]],
    );
}

// ---- properties the snapshots rely on --------------------------------------

#[test]
fn control_characters_are_escaped_like_json_stringify() {
    let graph = Graph {
        entities: vec![entity("A", "t", &["\n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f}é"])],
        relations: vec![],
    };
    let text = graph_text(&graph);
    // JSON.stringify's short escapes, then lowercase \u00XX; DEL and
    // non-ASCII stay as they are.
    assert!(text.contains(r#""\n\t\r\b\f\u0001\u001f"#), "{text}");
    assert!(text.contains("\u{7f}é\""), "{text}");
}

#[test]
fn keys_come_in_the_contract_order() {
    let graph = Graph {
        entities: vec![entity("A", "t", &["o"])],
        relations: vec![rel("A", "A", "r")],
    };
    let rendered = outcome(&Outcome::Graph(graph.clone()));
    let text = &rendered.texts[0];
    let at = |key: &str| {
        text.find(&format!("\"{key}\""))
            .unwrap_or_else(|| panic!("{key} missing from {text}"))
    };
    assert!(at("entities") < at("name"));
    assert!(at("name") < at("entityType"));
    assert!(at("entityType") < at("observations"));
    assert!(at("observations") < at("relations"));
    assert!(at("relations") < at("from"));
    assert!(at("from") < at("to"));
    assert!(at("to") < at("relationType"));

    let structured = rendered.structured.to_string();
    assert_eq!(
        structured,
        r#"{"entities":[{"name":"A","entityType":"t","observations":["o"]}],"relations":[{"from":"A","to":"A","relationType":"r"}]}"#
    );
}

#[test]
fn the_graph_text_is_the_read_graph_text() {
    let graph = Graph {
        entities: vec![entity("Москва", "city", &["🦀"])],
        relations: vec![],
    };
    let rendered = outcome(&Outcome::Graph(graph.clone()));
    assert_eq!(rendered.texts, vec![graph_text(&graph)]);
    assert_eq!(
        serde_json::from_str::<Value>(&rendered.texts[0]).expect("the text is JSON"),
        rendered.structured
    );
}

#[test]
fn pretty_matches_json_stringify_with_two_spaces() {
    assert_eq!(pretty(&json!([])), "[]");
    assert_eq!(pretty(&json!({})), "{}");
    assert_eq!(
        pretty(&json!({"a": [1, {"b": []}], "c": "é"})),
        "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": \"é\"\n}"
    );
}

// ---- pages, rankings, neighbourhoods ----------------------------------------

fn check_rendered(rendered: Rendered, expect: Expect) {
    let mut shown = String::new();
    for (i, text) in rendered.texts.iter().enumerate() {
        shown.push_str(&format!("--- text {i}\n{text}\n"));
    }
    shown.push_str(&format!("--- structured\n{}\n", rendered.structured));
    expect.assert_eq(&shown);
}

fn paged(e: Entity, count: Option<u64>) -> crate::model::PagedEntity {
    crate::model::PagedEntity {
        entity: e,
        observation_count: count,
    }
}

#[test]
fn a_page_with_more_to_come_says_how_to_go_on() {
    let page = crate::model::GraphPage {
        entities: vec![paged(entity("Alice", "person", &[]), Some(3))],
        relations: vec![rel("Alice", "Bob", "knows")],
        next_after: Some(1),
        truncated: None,
    };
    check_rendered(
        super::page(&page, "read_graph", Some("AQE"), 80_000),
        expect![[r#"
            --- text 0
            {
              "entities": [
                {
                  "name": "Alice",
                  "entityType": "person",
                  "observations": [],
                  "observationCount": 3
                }
              ],
              "relations": [
                {
                  "from": "Alice",
                  "to": "Bob",
                  "relationType": "knows"
                }
              ]
            }
            --- text 1
            More entities remain: call read_graph again with the same arguments and cursor "AQE".
            --- structured
            {"entities":[{"name":"Alice","entityType":"person","observations":[],"observationCount":3}],"relations":[{"from":"Alice","to":"Bob","relationType":"knows"}],"nextCursor":"AQE"}
        "#]],
    );
}

#[test]
fn a_cut_answer_carries_the_notice_twice() {
    let page = crate::model::GraphPage {
        entities: vec![paged(entity("Alice", "person", &["likes tea"]), None)],
        relations: vec![],
        next_after: Some(1),
        truncated: Some(crate::model::Truncation {
            shown: 1,
            remaining: 12,
        }),
    };
    check_rendered(
        super::page(&page, "search_nodes", Some("AQI"), 80_000),
        expect![[r#"
            --- text 0
            {
              "entities": [
                {
                  "name": "Alice",
                  "entityType": "person",
                  "observations": [
                    "likes tea"
                  ]
                }
              ],
              "relations": []
            }
            --- text 1
            Showing 1 of 12 entities, as the whole answer is over 80000 characters; call search_nodes again with cursor "AQI" for the next part, pass limit (1-1000) for pages of a chosen size, or use search_memory to find what you need.
            --- structured
            {"entities":[{"name":"Alice","entityType":"person","observations":["likes tea"]}],"relations":[],"nextCursor":"AQI","truncated":true,"notice":"Showing 1 of 12 entities, as the whole answer is over 80000 characters; call search_nodes again with cursor \"AQI\" for the next part, pass limit (1-1000) for pages of a chosen size, or use search_memory to find what you need."}
        "#]],
    );
}

#[test]
fn ranked_results_are_one_line_each() {
    let hit = |name: &str, snippet: &str, score: i64| crate::model::RankedEntity {
        name: name.into(),
        entity_type: "person".into(),
        score_hundredths: score,
        snippet: snippet.into(),
        observation_count: 2,
        updated_at: 1_764_583_200_000,
    };
    let page = crate::model::RankedPage {
        results: vec![
            hit("Alice", "likes tea\nand\tcake", 100_731),
            hit("Bob", "Bob", 250),
        ],
        next: None,
        truncated: None,
    };
    check_rendered(
        super::ranked(&page, "alice tea", Some("BAE"), 0),
        expect![[r#"
            --- text 0
            1. Alice (person): likes tea and cake
            2. Bob (person)
            Call open_nodes with the names you need for their observations and relations.
            More results: call search_memory again with the same query and cursor "BAE".
            --- structured
            {"results":[{"name":"Alice","entityType":"person","score":1007.31,"snippet":"likes tea\nand\tcake","observationCount":2,"updatedAt":"2025-12-01T10:00:00Z"},{"name":"Bob","entityType":"person","score":2.5,"snippet":"Bob","observationCount":2,"updatedAt":"2025-12-01T10:00:00Z"}],"nextCursor":"BAE"}
        "#]],
    );
    check_rendered(
        super::ranked(&crate::model::RankedPage::default(), "zebra \"x\"", None, 0),
        expect![[r#"
            --- text 0
            No entities match "zebra \"x\"". Try other or fewer words, or search_nodes for an exact phrase.
            --- structured
            {"results":[]}
        "#]],
    );
}

#[test]
fn a_neighbourhood_is_its_relations_then_its_neighbours() {
    let summary = |name: &str, entity_type: &str, n: u64| crate::model::EntitySummary {
        name: name.into(),
        entity_type: entity_type.into(),
        observation_count: n,
    };
    let n = crate::model::Neighborhood {
        entity: summary("Alice", "person", 3),
        relations: vec![
            rel("Alice", "Acme", "works_at"),
            rel("Bob", "Alice", "knows"),
        ],
        neighbors: vec![summary("Acme", "company", 1), summary("Bob", "person", 0)],
        next_after: Some(2),
        truncated: None,
    };
    check_rendered(
        super::neighborhood(&n, Some("BQI"), 0),
        expect![[r#"
            --- text 0
            Alice (person, 3 observations):
            Alice works_at Acme
            Bob knows Alice
            Neighbors: Acme (company), Bob (person).
            More relations: call get_neighbors again with the same arguments and cursor "BQI".
            --- structured
            {"entity":{"name":"Alice","entityType":"person","observationCount":3},"relations":[{"from":"Alice","to":"Acme","relationType":"works_at"},{"from":"Bob","to":"Alice","relationType":"knows"}],"neighbors":[{"name":"Acme","entityType":"company","observationCount":1},{"name":"Bob","entityType":"person","observationCount":0}],"nextCursor":"BQI"}
        "#]],
    );
}

#[test]
fn rfc3339_counts_days_from_the_epoch() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339(4_102_444_799_999), "2099-12-31T23:59:59Z");
    assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
}

mod measured {
    //! `crate::measure` counts exactly what this module writes.

    use proptest::prelude::*;

    use super::*;
    use crate::measure;
    use crate::model::{GraphPage, PagedEntity};

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{0,12}",
            ".{0,12}",
            prop::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect()),
            Just("\"\\\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}é🦀".to_string()),
        ]
    }

    fn paged_entity() -> impl Strategy<Value = PagedEntity> {
        (
            text(),
            text(),
            prop::collection::vec(text(), 0..4),
            prop::option::of(0u64..100_000_000_000),
        )
            .prop_map(|(name, entity_type, observations, count)| PagedEntity {
                entity: Entity::new(name, entity_type, observations),
                observation_count: count,
            })
    }

    fn relation() -> impl Strategy<Value = Relation> {
        (text(), text(), text()).prop_map(|(f, t, r)| Relation::new(f, t, r))
    }

    proptest! {
        #[test]
        fn measured_sizes_are_rendered_sizes(
            entities in prop::collection::vec(paged_entity(), 0..5),
            relations in prop::collection::vec(relation(), 0..4),
        ) {
            let mut size = measure::graph_frame(entities.len(), relations.len());
            for e in &entities {
                size += measure::entity(&e.entity, e.observation_count) + measure::ITEM;
            }
            for r in &relations {
                size += measure::relation(r) + measure::ITEM;
            }
            let page = GraphPage { entities, relations, next_after: None, truncated: None };
            let rendered = super::super::page(&page, "read_graph", None, 0);
            prop_assert_eq!(size.pretty, rendered.texts[0].chars().count() as u64);
            prop_assert_eq!(size.compact, rendered.structured.to_string().chars().count() as u64);
        }
    }
}
