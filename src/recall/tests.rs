//! Unit tests for the pure parts of recall: prompt words, ranking, and the
//! text within its budget.

use expect_test::{expect, Expect};

use super::rank::{self, Hit};
use super::render::{self, PROMPT_BUDGET, SESSION_BUDGET};
use crate::model::{Entity, Graph, Relation};
use crate::project::Project;

fn check(actual: Option<String>, expected: Expect) {
    expected.assert_eq(actual.as_deref().unwrap_or("<nothing>"));
}

fn found(word: &str, entities: &[&Entity]) -> (String, Graph) {
    (
        word.to_owned(),
        Graph {
            entities: entities.iter().map(|e| (*e).clone()).collect(),
            relations: Vec::new(),
        },
    )
}

fn widgets() -> Project {
    Project {
        key: "github.com/acme/widgets".into(),
        name: "widgets".into(),
    }
}

#[test]
fn prompt_words_are_distinctive_identifiers_longest_first() {
    assert_eq!(
        rank::words("How do we deploy the Billing-Service to prod (v2.1, see my_crate)?"),
        ["billing-service", "my_crate", "deploy", "prod", "v2.1"]
    );
    assert_eq!(
        rank::words("Hi! Can you help me with this? 2026"),
        Vec::<String>::new()
    );
    assert_eq!(rank::words("deploy DEPLOY Deploy."), ["deploy"]);
    let many = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike";
    assert_eq!(rank::words(many).len(), rank::MAX_WORDS);
}

#[test]
fn a_name_match_outranks_an_observation_match_and_weak_hits_are_dropped() {
    let billing = Entity::new("Billing service", "service", ["deployed with helm"]);
    let helm = Entity::new("Helm", "tool", ["used for billing"]);
    let note = Entity::new("Standup notes", "note", ["talked about billing"]);
    let both = Entity::new("Runbook", "doc", ["billing deploys go through helm"]);
    let ranked = rank::rank(&[
        found("billing", &[&billing, &helm, &note, &both]),
        found("helm", &[&billing, &helm, &both]),
    ]);
    let names: Vec<&str> = ranked.iter().map(|h| h.entity.name.as_str()).collect();
    // "helm" found fewer entities, so it weighs more; "Standup notes"
    // matched one word, in an observation only: dropped.
    assert_eq!(names, ["Helm", "Billing service", "Runbook"]);
    assert_eq!(ranked[2].words, ["billing", "helm"]);
    assert!(rank::rank(&[found("billing", &[&note])]).is_empty());
}

#[test]
fn the_session_context_lists_the_project_then_the_newest() {
    let about = [
        Entity::new(
            "widgets",
            "project",
            ["Rust service", "deploys via widgets-ci"],
        ),
        Entity::new(
            "Alice",
            "person",
            ["maintains widgets", "likes tea", "on call", "in Lyon"],
        ),
    ];
    let relations = [
        Relation::new("Alice", "widgets", "maintains"),
        Relation::new("Alice", "Elsewhere", "visits"),
    ];
    let recent = [Entity::new("Bob", "person", Vec::<String>::new())];
    check(
        render::session_context(&widgets(), &about, &relations, &recent),
        expect![[r#"
            Memory for this session's project, widgets (github.com/acme/widgets):
            Entities that mention the project:
            - widgets [project]: deploys via widgets-ci; Rust service
            - Alice [person]: maintains widgets; likes tea; on call (+1 more)
            Their relations:
            - Alice maintains widgets
            Most recently added:
            - Bob [person]
            This is part of the shared memory (memgraphd); search_nodes and open_nodes find more."#]],
    );
    check(
        render::session_context(&widgets(), &[], &[], &[]),
        expect!["<nothing>"],
    );
}

#[test]
fn contexts_stay_within_their_budgets_at_whole_lines() {
    let long = "x".repeat(1_000);
    let many: Vec<Entity> = (0..500)
        .map(|i| {
            Entity::new(
                format!("widgets part {i}"),
                "part",
                [long.as_str(), "short"],
            )
        })
        .collect();
    let text = render::session_context(&widgets(), &many, &[], &many).expect("a context");
    assert!(text.chars().count() <= SESSION_BUDGET, "{}", text.len());
    assert!(text.ends_with("find more."), "the footer always fits");
    assert!(
        text.lines().all(|l| l.chars().count() < 700),
        "observations are cut"
    );
    assert!(text.contains("…"), "a cut is marked");

    let hits: Vec<Hit> = many
        .iter()
        .map(|e| Hit {
            entity: e.clone(),
            score: 1.0,
            words: vec!["short".into()],
        })
        .collect();
    let text = render::prompt_context(&hits).expect("a context");
    assert!(text.chars().count() <= PROMPT_BUDGET, "{}", text.len());
    // Observations that mention a searched word come first.
    assert!(
        text.contains("- widgets part 0 [part]: short; xxx"),
        "{text}"
    );
}

#[test]
fn no_hits_means_no_prompt_context() {
    assert_eq!(render::prompt_context(&[]), None);
}

#[test]
fn control_characters_never_break_a_line() {
    let entity = Entity::new("multi\nline", "t\tab", ["one\ntwo"]);
    assert_eq!(
        render::entity_line(&entity, &[]),
        "- multi line [t ab]: one two"
    );
}
