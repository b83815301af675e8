//! Unit tests for the pure parts of recall: prompt words, ranking, and the
//! text within its budget.

use expect_test::{expect, Expect};

use super::rank::{self, Hit};
use super::render::{self, PROMPT_BUDGET, SESSION_BUDGET};
use super::SessionMemory;
use crate::model::{Entity, Graph, RankedEntity, Relation};
use crate::project::Project;

fn check(actual: Option<String>, expected: Expect) {
    expected.assert_eq(actual.as_deref().unwrap_or("<nothing>"));
}

fn hit(name: &str, entity_type: &str, snippet: &str, observation_count: u64) -> RankedEntity {
    RankedEntity {
        name: name.into(),
        entity_type: entity_type.into(),
        score_hundredths: 100,
        snippet: snippet.into(),
        observation_count,
        updated_at: 0,
    }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
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
fn hits_that_share_one_word_in_passing_are_dropped_and_the_ranking_kept() {
    let billing = Entity::new("Billing service", "service", ["deployed with helm"]);
    let helm = Entity::new("Helm", "tool", ["used for billing"]);
    let note = Entity::new("Standup notes", "note", ["talked about billing"]);
    let both = Entity::new("Runbook", "doc", ["billing deploys go through helm"]);
    let ranked = [
        "Runbook",
        "Standup notes",
        "Helm",
        "Gone",
        "Billing service",
    ];
    let hits = rank::relevant(
        &words(&["billing", "helm"]),
        &ranked,
        vec![billing, helm, note, both],
    );
    let names: Vec<&str> = hits.iter().map(|h| h.entity.name.as_str()).collect();
    // "Standup notes" holds one word, in an observation only: dropped.
    // "Gone" was deleted between the search and the open.
    assert_eq!(names, ["Runbook", "Helm", "Billing service"]);
    assert_eq!(hits[0].words, ["billing", "helm"]);
    assert!(rank::relevant(
        &words(&["billing"]),
        &["Standup notes"],
        vec![Entity::new(
            "Standup notes",
            "note",
            ["talked about billing"]
        )]
    )
    .is_empty());
}

#[test]
fn the_session_context_lists_the_projects_changes_then_its_hits() {
    let memory = SessionMemory {
        own: Graph {
            entities: vec![
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
            ],
            relations: vec![
                Relation::new("Alice", "widgets", "maintains"),
                Relation::new("Alice", "Elsewhere", "visits"),
            ],
        },
        relevant: vec![
            hit("Widgets CI", "pipeline", "runs the widgets tests", 4),
            hit("widgets-docs", "site", "widgets-docs", 0),
            hit("Widgets roadmap", "doc", "Widgets roadmap", 2),
        ],
        recent: Vec::new(),
    };
    check(
        render::session_context(&widgets(), &memory),
        expect![[r#"
            Memory for this session's project, widgets (github.com/acme/widgets):
            Recently changed in this project:
            - widgets [project]: deploys via widgets-ci; Rust service
            - Alice [person]: maintains widgets; likes tea; on call (+1 more)
            Their relations:
            - Alice maintains widgets
            About widgets:
            - Widgets CI [pipeline]: runs the widgets tests (+3 more)
            - widgets-docs [site]
            - Widgets roadmap [doc] (2 observations)
            This is part of the shared memory (memgraphd); search_nodes and open_nodes find more."#]],
    );
    check(
        render::session_context(&widgets(), &SessionMemory::default()),
        expect!["<nothing>"],
    );
}

#[test]
fn a_project_without_changes_gets_the_newest_of_all() {
    let memory = SessionMemory {
        own: Graph::default(),
        relevant: Vec::new(),
        recent: vec![
            Entity::new("Bob", "person", Vec::<String>::new()),
            Entity::new("Lyon office", "place", ["opened in 2024"]),
        ],
    };
    check(
        render::session_context(&widgets(), &memory),
        expect![[r#"
            Memory for this session's project, widgets (github.com/acme/widgets):
            Most recently changed (nothing from this project yet):
            - Bob [person]
            - Lyon office [place]: opened in 2024
            This is part of the shared memory (memgraphd); search_nodes and open_nodes find more."#]],
    );
}

#[test]
fn the_project_query_names_the_project_and_the_working_directory() {
    let other = Project {
        key: "/home/dev/src/gadgets".into(),
        name: "gadgets".into(),
    };
    let short = Project {
        key: "/home/dev/x".into(),
        name: "x".into(),
    };
    assert_eq!(super::project_query(&widgets(), None), "widgets");
    assert_eq!(
        super::project_query(&widgets(), Some(&widgets())),
        "widgets"
    );
    assert_eq!(
        super::project_query(&widgets(), Some(&other)),
        "widgets gadgets"
    );
    assert_eq!(super::project_query(&short, None), "");
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
    let hits: Vec<RankedEntity> = (0..100)
        .map(|i| hit(&format!("widgets hit {i}"), "part", &long, 2))
        .collect();
    let memory = SessionMemory {
        own: Graph {
            entities: many.clone(),
            relations: Vec::new(),
        },
        relevant: hits,
        recent: many.clone(),
    };
    let text = render::session_context(&widgets(), &memory).expect("a context");
    assert!(text.chars().count() <= SESSION_BUDGET, "{}", text.len());
    assert!(text.ends_with("find more."), "the footer always fits");
    assert!(
        text.contains("About widgets:\n- widgets hit 0"),
        "the project's own entities leave room for the hits of its names"
    );
    assert!(
        text.lines().all(|l| l.chars().count() < 700),
        "observations are cut"
    );
    assert!(text.contains("…"), "a cut is marked");

    let hits: Vec<Hit> = many
        .iter()
        .map(|e| Hit {
            entity: e.clone(),
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
