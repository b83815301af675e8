//! The size guard on `search_memory` and `get_neighbors`: a budgeted page
//! renders within its budget in both forms, and paging on from where it
//! stopped gives every result exactly once, in the unbudgeted order.

use super::*;
use crate::model::{
    Budget, Direction, MemorySearch, NeighborQuery, Neighborhood, RankResume, RankedPage,
    SearchScope,
};
use crate::shim::call::{neighbors_scope, search_scope, TRUNCATION_RESERVE};
use crate::shim::render;

fn budget(chars: u64) -> Option<Budget> {
    Some(Budget {
        chars,
        reserve: TRUNCATION_RESERVE,
    })
}

fn search(
    store: &mut Store,
    query: &str,
    limit: u32,
    resume: Option<RankResume>,
    budget: Option<Budget>,
) -> RankedPage {
    let op = GraphOp::SearchMemory(MemorySearch {
        query: query.into(),
        limit,
        entity_types: vec![],
        scope: SearchScope::All,
        project: None,
        resume,
        budget,
    });
    match apply(store, op) {
        Outcome::Ranked(page) => page,
        other => panic!("search_memory answered {other:?}"),
    }
}

fn walk(store: &mut Store, name: &str, after: Option<i64>, budget: Option<Budget>) -> Neighborhood {
    let op = GraphOp::Neighbors(NeighborQuery {
        name: name.into(),
        direction: Direction::Both,
        relation_types: vec![],
        depth: 3,
        limit: 200,
        after,
        budget,
    });
    match apply(store, op) {
        Outcome::Neighborhood(n) => n,
        other => panic!("get_neighbors answered {other:?}"),
    }
}

/// Characters of the rendered answer: all its text items, and its
/// structured JSON.
fn rendered_size(r: &render::Rendered) -> (usize, usize) {
    let text = r.texts.iter().map(|t| t.chars().count()).sum();
    (text, r.structured.to_string().chars().count())
}

fn ranked_rendered(page: &RankedPage, query: &str, chars: u64) -> render::Rendered {
    let scope = search_scope(query, &[], SearchScope::All);
    let cursor = page
        .next
        .map(|n| scope.encode(&[n.snapshot, u64::from(n.offset)]));
    render::ranked(page, query, cursor.as_deref(), chars)
}

fn neighborhood_rendered(n: &Neighborhood, name: &str, chars: u64) -> render::Rendered {
    let scope = neighbors_scope(name, Direction::Both, &[], 3);
    let cursor = n.next_after.map(|id| scope.encode(&[id.max(0) as u64]));
    render::neighborhood(n, cursor.as_deref(), chars)
}

fn long(prefix: &str, i: usize, chars: usize) -> String {
    let mut s = format!("{prefix}{i:03} ");
    while s.len() < chars {
        s.push_str("padding ");
    }
    s.truncate(chars);
    s
}

/// Entities with long names, types and observations that all hold `common`.
fn wide_memory(store: &mut Store, n: usize) {
    let entities = (0..n)
        .map(|i| {
            let observation = format!("{} common word", long("text", i, 900));
            Entity::new(long("name", i, 700), long("type", i, 500), [observation])
        })
        .collect();
    create(store, entities);
}

#[test]
fn a_budgeted_search_stops_within_the_budget_and_resumes_where_it_stopped() {
    let mut s = store();
    wide_memory(&mut s, 40);
    let whole: Vec<String> = search(&mut s, "common", 50, None, None)
        .results
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(whole.len(), 40);
    let chars = 6_000;
    let mut seen = Vec::new();
    let mut resume = None;
    let mut cut_pages = 0;
    loop {
        let page = search(&mut s, "common", 50, resume, budget(chars));
        assert!(!page.results.is_empty(), "a page with a cursor moves on");
        let (text, json) = rendered_size(&ranked_rendered(&page, "common", chars));
        assert!(
            text as u64 <= chars && json as u64 <= chars,
            "{text} {json}"
        );
        seen.extend(page.results.iter().map(|r| r.name.clone()));
        match page.next {
            Some(next) => {
                let cut = page.truncated.expect("only the guard cuts a page of 50");
                assert_eq!(cut.shown as usize, page.results.len());
                assert_eq!(
                    cut.remaining as usize,
                    40 - (seen.len() - page.results.len())
                );
                cut_pages += 1;
                resume = Some(next);
            }
            None => {
                assert!(page.truncated.is_none());
                break;
            }
        }
    }
    assert!(cut_pages >= 3, "{cut_pages}");
    assert_eq!(seen, whole, "every result once, in ranking order");
}

#[test]
fn a_search_under_its_budget_is_not_touched() {
    let mut s = store();
    wide_memory(&mut s, 5);
    let free = search(&mut s, "common", 10, None, None);
    let guarded = search(&mut s, "common", 10, None, budget(1_000_000));
    assert_eq!(guarded, free);
    assert!(guarded.truncated.is_none() && guarded.next.is_none());
}

#[test]
fn a_single_result_over_the_budget_keeps_its_name_and_loses_its_snippet() {
    let mut s = store();
    wide_memory(&mut s, 3);
    let chars = 2_050;
    let mut seen = Vec::new();
    let mut resume = None;
    loop {
        let page = search(&mut s, "common", 10, resume, budget(chars));
        assert_eq!(page.results.len(), 1);
        let r = &page.results[0];
        assert_eq!(r.name.chars().count(), 700);
        // The last one alone fits whole; the others only without most of
        // their snippet, as the cursor and notice need room too.
        if page.next.is_some() {
            assert!(r.snippet.chars().count() < 200, "{}", r.snippet);
        }
        let (text, json) = rendered_size(&ranked_rendered(&page, "common", chars));
        assert!(
            text as u64 <= chars && json as u64 <= chars,
            "{text} {json}"
        );
        seen.push(r.name.clone());
        match page.next {
            Some(next) => resume = Some(next),
            None => break,
        }
    }
    let whole: Vec<String> = search(&mut s, "common", 10, None, None)
        .results
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(whole.len(), 3);
    assert_eq!(seen, whole);
}

/// A hub with `n` spokes, each spoke with a rim entity two hops out, all
/// with long names and relation types.
fn hub(store: &mut Store, n: usize) -> usize {
    let mut entities = vec![Entity::new("hub", "t", Vec::<String>::new())];
    let mut relations = Vec::new();
    for i in 0..n {
        let (spoke, rim) = (long("spoke", i, 600), long("rim", i, 600));
        entities.push(Entity::new(spoke.clone(), "t", Vec::<String>::new()));
        entities.push(Entity::new(rim.clone(), "t", Vec::<String>::new()));
        relations.push(rel("hub", &spoke, &long("holds", i, 300)));
        relations.push(rel(&spoke, &rim, &long("reaches", i, 300)));
    }
    create(store, entities);
    relate(store, relations);
    2 * n
}

#[test]
fn a_budgeted_walk_stops_within_the_budget_and_resumes_where_it_stopped() {
    let mut s = store();
    let total = hub(&mut s, 30);
    let whole = walk(&mut s, "hub", None, None);
    assert_eq!(whole.relations.len(), total);
    let chars = 5_000;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let n = walk(&mut s, "hub", after, budget(chars));
        assert!(!n.relations.is_empty());
        let (text, json) = rendered_size(&neighborhood_rendered(&n, "hub", chars));
        assert!(
            text as u64 <= chars && json as u64 <= chars,
            "{text} {json}"
        );
        // The neighbours listed are exactly the new ends of the page's relations.
        for r in &n.relations {
            for end in [&r.from, &r.to] {
                assert!(end == "hub" || n.neighbors.iter().any(|s| &s.name == end));
            }
        }
        seen.extend(n.relations.iter().cloned());
        match n.next_after {
            Some(next) => {
                let cut = n.truncated.expect("only the guard cuts a walk of 200");
                assert_eq!(cut.shown as usize, n.relations.len());
                after = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(seen, whole.relations, "every relation once, in id order");

    // A budget the whole walk fits in changes nothing.
    assert_eq!(walk(&mut s, "hub", None, budget(10_000_000)), whole);
}

#[test]
fn a_single_relation_over_the_budget_is_shown_alone_and_paging_moves_on() {
    let mut s = store();
    let total = hub(&mut s, 3);
    let mut pages = 0;
    let mut after = None;
    loop {
        let n = walk(&mut s, "hub", after, budget(500));
        assert_eq!(n.relations.len(), 1);
        pages += 1;
        match n.next_after {
            Some(next) => {
                assert!(after.is_none_or(|a| next > a));
                after = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(pages, total);
}

#[test]
fn the_guard_counts_both_forms_exactly() {
    let mut s = store();
    wide_memory(&mut s, 4);
    hub(&mut s, 2);
    let free = search(&mut s, "common", 10, None, None);
    let (text, json) = rendered_size(&ranked_rendered(&free, "common", 0));
    let exact = text.max(json) as u64;
    // At the size of the whole answer nothing is cut; one less cuts.
    assert_eq!(search(&mut s, "common", 10, None, budget(exact)), free);
    let cut = search(&mut s, "common", 10, None, budget(exact - 1));
    assert!(cut.truncated.is_some() && cut.results.len() < free.results.len());

    let free = walk(&mut s, "hub", None, None);
    let (text, json) = rendered_size(&neighborhood_rendered(&free, "hub", 0));
    let exact = text.max(json) as u64;
    assert_eq!(walk(&mut s, "hub", None, budget(exact)), free);
    let cut = walk(&mut s, "hub", None, budget(exact - 1));
    assert!(cut.truncated.is_some() && cut.relations.len() < free.relations.len());
}
