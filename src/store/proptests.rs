//! Property test of the store against a model of docs/TOOLS.md.
//!
//! [`Model`] is the contract transcribed as plainly as possible: two `Vec`s
//! in insertion order, linear searches, Rust's `to_lowercase` and
//! `str::contains` for search. Random sequences of all nine operations, over
//! a small alphabet of names where case, `ß`, `İ` and `Σ` collide, must give
//! the same outcome from the store and from the model, and the same graph
//! after every step.

use std::collections::HashSet;

use proptest::prelude::*;
use proptest::sample::select;

use super::{Store, StoreError};
use crate::model::{
    AddedObservations, CreatedEntities, Deleted, Entity, Graph, GraphOp, MissingObservation,
    ObservationAdd, ObservationDelete, Outcome, Relation,
};

/// The knowledge graph of docs/TOOLS.md, with no index and no cleverness.
#[derive(Debug, Default, Clone)]
struct Model {
    entities: Vec<Entity>,
    relations: Vec<Relation>,
}

fn not_found(name: &str) -> String {
    format!("Entity with name {name} not found")
}

impl Model {
    fn apply(&mut self, op: &GraphOp) -> Result<Outcome, String> {
        Ok(match op {
            GraphOp::CreateEntities(entities) => {
                Outcome::EntitiesCreated(self.create_entities(entities))
            }
            GraphOp::CreateRelations(relations) => {
                Outcome::RelationsCreated(self.create_relations(relations)?)
            }
            GraphOp::AddObservations(adds) => {
                Outcome::ObservationsAdded(self.add_observations(adds)?)
            }
            GraphOp::DeleteEntities(names) => Outcome::EntitiesDeleted(self.delete_entities(names)),
            GraphOp::DeleteObservations(deletions) => {
                Outcome::ObservationsDeleted(self.delete_observations(deletions))
            }
            GraphOp::DeleteRelations(relations) => {
                Outcome::RelationsDeleted(self.delete_relations(relations))
            }
            GraphOp::ReadGraph => Outcome::Graph(self.subgraph(|_| true)),
            GraphOp::SearchNodes { query } => {
                let needle = query.to_lowercase();
                Outcome::Graph(self.subgraph(|e| {
                    e.name.to_lowercase().contains(&needle)
                        || e.entity_type.to_lowercase().contains(&needle)
                        || e.observations
                            .iter()
                            .any(|o| o.to_lowercase().contains(&needle))
                }))
            }
            GraphOp::OpenNodes(names) => Outcome::Graph(self.subgraph(|e| names.contains(&e.name))),
            // `import` is not one of the nine tools: neither the model nor the
            // generated operations cover it.
            GraphOp::Import { .. } => return Err("the model has no import".into()),
            // Checked against the model by walking them (see below).
            GraphOp::ReadPage(_) | GraphOp::SearchMemory(_) | GraphOp::Neighbors(_) => {
                return Err("the model answers these by paging".into())
            }
            GraphOp::SupersedeObservation {
                entity_name,
                old,
                new,
            } => {
                let Some(at) = self.find(entity_name) else {
                    return Err(not_found(entity_name));
                };
                let observations = &mut self.entities[at].observations;
                let Some(i) = observations.iter().position(|o| o == old) else {
                    return Err(format!(
                        "Observation not found: {old:?} on entity {entity_name}"
                    ));
                };
                if old != new && observations.contains(new) {
                    return Err(format!(
                        "Observation already exists: {new:?} on entity {entity_name}; delete {old:?} instead"
                    ));
                }
                observations[i] = new.clone();
                Outcome::Superseded {
                    entity_name: entity_name.clone(),
                    old: old.clone(),
                    new: new.clone(),
                    // Filled in by the caller, which counts changes.
                    change_id: 0,
                }
            }
            // History is checked by the caller, which keeps the snapshots.
            GraphOp::History(_)
            | GraphOp::Undo { .. }
            | GraphOp::Purge { .. }
            | GraphOp::Recent(_) => return Err("the model keeps no history".into()),
        })
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.entities.iter().position(|e| e.name == name)
    }

    /// The entities that pass `keep`, and every relation touching one of them.
    fn subgraph(&self, keep: impl Fn(&Entity) -> bool) -> Graph {
        let entities: Vec<Entity> = self.entities.iter().filter(|e| keep(e)).cloned().collect();
        let kept = |name: &str| entities.iter().any(|e| e.name == name);
        let relations = self
            .relations
            .iter()
            .filter(|r| kept(&r.from) || kept(&r.to))
            .cloned()
            .collect();
        Graph {
            entities,
            relations,
        }
    }

    fn create_entities(&mut self, entities: &[Entity]) -> CreatedEntities {
        let mut result = CreatedEntities::default();
        for e in entities {
            if self.find(&e.name).is_some() {
                if !result.skipped.contains(&e.name) {
                    result.skipped.push(e.name.clone());
                }
                continue;
            }
            let mut observations: Vec<String> = Vec::new();
            for o in &e.observations {
                if !observations.contains(o) {
                    observations.push(o.clone());
                }
            }
            let created = Entity {
                name: e.name.clone(),
                entity_type: e.entity_type.clone(),
                observations,
            };
            self.entities.push(created.clone());
            result.created.push(created);
        }
        result
    }

    fn create_relations(&mut self, relations: &[Relation]) -> Result<Vec<Relation>, String> {
        for r in relations {
            for name in [&r.from, &r.to] {
                if self.find(name).is_none() {
                    return Err(not_found(name));
                }
            }
        }
        let mut created = Vec::new();
        for r in relations {
            if !self.relations.contains(r) {
                self.relations.push(r.clone());
                created.push(r.clone());
            }
        }
        Ok(created)
    }

    fn add_observations(
        &mut self,
        adds: &[ObservationAdd],
    ) -> Result<Vec<AddedObservations>, String> {
        if let Some(missing) = adds.iter().find(|a| self.find(&a.entity_name).is_none()) {
            return Err(not_found(&missing.entity_name));
        }
        let mut results = Vec::new();
        for add in adds {
            let i = self.find(&add.entity_name).expect("checked above");
            let entity = &mut self.entities[i];
            let mut added = Vec::new();
            for content in &add.contents {
                if !entity.observations.contains(content) {
                    entity.observations.push(content.clone());
                    added.push(content.clone());
                }
            }
            results.push(AddedObservations {
                entity_name: add.entity_name.clone(),
                added,
            });
        }
        Ok(results)
    }

    fn delete_entities(&mut self, names: &[String]) -> Deleted<String> {
        let mut report = Deleted {
            requested: 0,
            deleted: 0,
            missing: Vec::new(),
        };
        let mut seen = HashSet::new();
        for name in names {
            if !seen.insert(name) {
                continue;
            }
            report.requested += 1;
            match self.find(name) {
                Some(i) => {
                    self.entities.remove(i);
                    self.relations.retain(|r| &r.from != name && &r.to != name);
                    report.deleted += 1;
                }
                None => report.missing.push(name.clone()),
            }
        }
        report
    }

    fn delete_observations(
        &mut self,
        deletions: &[ObservationDelete],
    ) -> Deleted<MissingObservation> {
        let mut report = Deleted {
            requested: 0,
            deleted: 0,
            missing: Vec::new(),
        };
        let mut seen = HashSet::new();
        for d in deletions {
            let fresh: Vec<&String> = d
                .observations
                .iter()
                .filter(|c| seen.insert((&d.entity_name, *c)))
                .collect();
            report.requested += fresh.len();
            let Some(i) = self.find(&d.entity_name) else {
                let missing = MissingObservation::Entity(d.entity_name.clone());
                if !report.missing.contains(&missing) {
                    report.missing.push(missing);
                }
                continue;
            };
            let observations = &mut self.entities[i].observations;
            for content in fresh {
                match observations.iter().position(|o| o == content) {
                    Some(at) => {
                        observations.remove(at);
                        report.deleted += 1;
                    }
                    None => report.missing.push(MissingObservation::Observation {
                        entity_name: d.entity_name.clone(),
                        content: content.clone(),
                    }),
                }
            }
        }
        report
    }

    fn delete_relations(&mut self, relations: &[Relation]) -> Deleted<Relation> {
        let mut report = Deleted {
            requested: 0,
            deleted: 0,
            missing: Vec::new(),
        };
        let mut seen = HashSet::new();
        for r in relations {
            if !seen.insert(r) {
                continue;
            }
            report.requested += 1;
            match self.relations.iter().position(|x| x == r) {
                Some(at) => {
                    self.relations.remove(at);
                    report.deleted += 1;
                }
                None => report.missing.push(r.clone()),
            }
        }
        report
    }
}

// ---- strategies --------------------------------------------------------------

/// Names that collide under lower-casing in every interesting way.
const NAMES: &[&str] = &[
    "a",
    "A",
    "b",
    "B",
    "ß",
    "SS",
    "ss",
    "İ",
    "i",
    "i\u{307}",
    "Σ",
    "ΟΔΟΣ",
    "a b",
    "Москва",
    "a\nt",
];
const TYPES: &[&str] = &["t", "T", "person", "İ"];
const TEXTS: &[&str] = &[
    "x",
    "X",
    "foo",
    "Foo bar",
    "straße",
    "STRASSE",
    "İstanbul",
    "istanbul",
    "%",
    "_",
    "a\"b",
    "NEAR(a b)",
    "",
    "москва",
    "a OR b",
    "-x",
    "x*",
    "🦀🦀x",
];
const RELATION_TYPES: &[&str] = &["knows", "Knows", "k"];

/// Any name of the alphabet.
fn name() -> impl Strategy<Value = String> {
    select(NAMES).prop_map(String::from)
}

/// Mostly one of the first four names, which [`seed`] creates, so that
/// relations often find both their endpoints.
fn endpoint() -> impl Strategy<Value = String> {
    prop_oneof![6 => select(&NAMES[..4]), 1 => select(NAMES)].prop_map(String::from)
}

fn text() -> impl Strategy<Value = String> {
    select(TEXTS).prop_map(String::from)
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..4)
}

fn entity() -> impl Strategy<Value = Entity> {
    (name(), select(TYPES), texts()).prop_map(|(name, entity_type, observations)| Entity {
        name,
        entity_type: entity_type.into(),
        observations,
    })
}

/// The first call of each case: the entities [`endpoint`] favours, then a few more.
fn seed() -> impl Strategy<Value = GraphOp> {
    let core = prop::collection::vec((select(TYPES), texts()), 4);
    let extra = prop::collection::vec(entity(), 0..3);
    (core, extra).prop_map(|(core, extra)| {
        let core = core
            .into_iter()
            .zip(NAMES)
            .map(|((entity_type, observations), name)| Entity {
                name: name.to_string(),
                entity_type: entity_type.into(),
                observations,
            });
        GraphOp::CreateEntities(core.chain(extra).collect())
    })
}

fn relation() -> impl Strategy<Value = Relation> {
    (endpoint(), endpoint(), select(RELATION_TYPES)).prop_map(|(from, to, relation_type)| {
        Relation {
            from,
            to,
            relation_type: relation_type.into(),
        }
    })
}

/// Whether `e` holds `query` only where `search_memory` gives the substring
/// rule up (docs/TOOLS.md): a query of several plain words, the last of three
/// or more characters, that only an observation holds, and only from inside
/// a longer first word.
fn only_inside_a_first_word(e: &Entity, query: &str) -> bool {
    let needle = query.to_lowercase();
    let words: Vec<&str> = needle.split(' ').collect();
    let plain = |w: &&str| !w.is_empty() && w.chars().all(char::is_alphanumeric);
    if words.len() < 2 || !words.iter().all(plain) || words[words.len() - 1].chars().count() < 3 {
        return false;
    }
    let holds_at_a_word = |text: &str| {
        let text = text.to_lowercase();
        text.match_indices(&needle).any(|(i, _)| {
            text[..i]
                .chars()
                .last()
                .is_none_or(|c| !c.is_alphanumeric())
        })
    };
    !e.name.to_lowercase().contains(&needle)
        && !e.entity_type.to_lowercase().contains(&needle)
        && !e.observations.iter().any(|o| holds_at_a_word(o))
}

/// A substring (by characters) of any name, type or text, sometimes
/// upper-cased; plus a few that straddle the name/type boundary of the index.
fn query() -> impl Strategy<Value = String> {
    let pool: Vec<&'static str> = NAMES
        .iter()
        .chain(TYPES)
        .chain(TEXTS)
        .chain(&["a\nperson", "\nt", "ss\nt", "x\nx"])
        .copied()
        .collect();
    (
        select(pool),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(source, a, b, upper)| {
            let chars: Vec<char> = source.chars().collect();
            let (i, j) = (a.index(chars.len() + 1), b.index(chars.len() + 1));
            let sub: String = chars[i.min(j)..i.max(j)].iter().collect();
            if upper {
                sub.to_uppercase()
            } else {
                sub
            }
        })
}

fn op() -> impl Strategy<Value = GraphOp> {
    use prop::collection::vec;
    prop_oneof![
        4 => vec(entity(), 0..4).prop_map(GraphOp::CreateEntities),
        4 => vec(relation(), 0..4).prop_map(GraphOp::CreateRelations),
        2 => vec(
            (name(), texts()).prop_map(|(entity_name, contents)| ObservationAdd { entity_name, contents }),
            0..3,
        )
        .prop_map(GraphOp::AddObservations),
        1 => vec(name(), 0..3).prop_map(GraphOp::DeleteEntities),
        2 => vec(
            (name(), texts()).prop_map(|(entity_name, observations)| ObservationDelete { entity_name, observations }),
            0..3,
        )
        .prop_map(GraphOp::DeleteObservations),
        2 => vec(relation(), 0..3).prop_map(GraphOp::DeleteRelations),
        1 => Just(GraphOp::ReadGraph),
        4 => query().prop_map(|query| GraphOp::SearchNodes { query }),
        2 => vec(name(), 0..4).prop_map(GraphOp::OpenNodes),
        2 => (endpoint(), text(), text()).prop_map(|(entity_name, old, new)| {
            GraphOp::SupersedeObservation { entity_name, old, new }
        }),
        // Undo of the latest change, whatever its id (see `UNDO_LATEST`).
        3 => any::<bool>().prop_map(|force| GraphOp::Undo { change_id: UNDO_LATEST, force }),
    ]
}

/// Stands for the id of the latest change in generated undos.
const UNDO_LATEST: i64 = -1;

fn store_apply(store: &mut Store, op: &GraphOp) -> Result<Outcome, String> {
    store.apply(op).map_err(|e| match e {
        StoreError::UnknownEntity(name) => not_found(&name),
        StoreError::Refused(message) => message,
        other => format!("unexpected store error: {other:?}"),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_store_behaves_like_the_model(
        seed in seed(),
        ops in prop::collection::vec(op(), 1..30),
    ) {
        let mut store = Store::open_in_memory().expect("an in-memory store opens");
        let mut model = Model::default();
        // The model before each change, by change id (index + 1).
        let mut before: Vec<Model> = Vec::new();
        for (step, op) in std::iter::once(&seed).chain(&ops).enumerate() {
            if let GraphOp::Undo { force, .. } = op {
                // Undo of the latest change never conflicts, and brings back
                // the graph exactly as it was before that change.
                let Some(previous) = before.last().cloned() else {
                    continue;
                };
                let latest = GraphOp::Undo { change_id: before.len() as i64, force: *force };
                let actual = store_apply(&mut store, &latest);
                prop_assert!(matches!(actual, Ok(Outcome::Undone(_))), "step {}: {:?}", step, actual);
                before.push(model.clone());
                model = previous;
            } else {
                let snapshot = model.clone();
                let mut expected = model.apply(op);
                if let Ok(Outcome::Superseded { change_id, .. }) = &mut expected {
                    *change_id = before.len() as i64 + 1;
                }
                let actual = store_apply(&mut store, op);
                prop_assert_eq!(&actual, &expected, "step {}: {:?}", step, op);
                if op.is_write() && actual.is_ok() {
                    before.push(snapshot);
                }
            }
            let graph = store_apply(&mut store, &GraphOp::ReadGraph);
            let model_graph = model.apply(&GraphOp::ReadGraph);
            prop_assert_eq!(&graph, &model_graph, "graph after step {}: {:?}", step, op);
        }
    }
}

// ---- bounded reads, search_memory and get_neighbors against the model ------

use crate::model::{
    Budget, Direction, GraphPage, MemorySearch, NeighborQuery, PageQuery, PageSource, SearchScope,
};

/// Walks a bounded read to its end and returns its entities, checking each
/// page's relations (the official rule for that page) and, under a budget,
/// that each cut page renders within it. `None` when a budget is too small
/// for the next entity (the walk cannot go on by itself).
fn walk(
    store: &mut Store,
    model: &Model,
    source: PageSource,
    limit: Option<u32>,
    budget: Option<u64>,
) -> Result<Option<Vec<Entity>>, TestCaseError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let q = PageQuery {
            source: source.clone(),
            after,
            limit,
            entity_types: vec![],
            include_observations: true,
            budget: budget.map(|chars| Budget { chars, reserve: 0 }),
        };
        let page: GraphPage = match store.apply(&GraphOp::ReadPage(q)) {
            Ok(Outcome::Page(page)) => page,
            other => return Err(TestCaseError::fail(format!("read_page: {other:?}"))),
        };
        let entities: Vec<Entity> = page.entities.iter().map(|e| e.entity.clone()).collect();
        let expected = model.subgraph(|e| entities.iter().any(|p| p.name == e.name));
        prop_assert_eq!(&page.relations, &expected.relations);
        if let (Some(chars), Some(_)) = (budget, page.truncated) {
            let text = crate::shim::render::page(&page, "read_graph", None, chars);
            prop_assert!(text.texts[0].chars().count() as u64 <= chars);
        }
        if entities.is_empty() && page.next_after.is_some() {
            return Ok(None);
        }
        all.extend(entities);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(Some(all)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn bounded_reads_ranking_and_neighbors_agree_with_the_model(
        seed in seed(),
        ops in prop::collection::vec(op(), 1..20),
        limit in 1u32..4,
        budget in prop::option::of(150u64..1500),
        query in query(),
        opened in prop::collection::vec(name(), 0..5),
        center in endpoint(),
    ) {
        let mut store = Store::open_in_memory().expect("an in-memory store opens");
        let mut model = Model::default();
        for op in std::iter::once(&seed).chain(&ops) {
            let _ = model.apply(op);
            let _ = store.apply(op);
        }
        let sources = [
            (PageSource::All, GraphOp::ReadGraph),
            (PageSource::Search(query.clone()), GraphOp::SearchNodes { query: query.clone() }),
            (PageSource::Names(opened.clone()), GraphOp::OpenNodes(opened.clone())),
        ];
        for (source, official) in sources {
            let Ok(Outcome::Graph(expected)) = model.apply(&official) else {
                return Err(TestCaseError::fail("the model reads"));
            };
            let (limit, budget) = match budget {
                Some(chars) => (None, Some(chars)),
                None => (Some(limit), None),
            };
            if let Some(walked) = walk(&mut store, &model, source.clone(), limit, budget)? {
                prop_assert_eq!(&walked, &expected.entities, "{:?}", source);
            }
        }

        // Whatever search_nodes finds, search_memory finds too.
        if !query.is_empty() {
            let Ok(Outcome::Graph(official)) = model.apply(&GraphOp::SearchNodes { query: query.clone() }) else {
                return Err(TestCaseError::fail("the model searches"));
            };
            let op = GraphOp::SearchMemory(MemorySearch {
                query: query.clone(),
                limit: 50,
                entity_types: vec![],
                scope: SearchScope::All,
                project: None,
                resume: None,
                budget: None,
            });
            let Ok(Outcome::Ranked(ranked)) = store.apply(&op) else {
                return Err(TestCaseError::fail("search_memory runs"));
            };
            let names: HashSet<&str> = ranked.results.iter().map(|r| r.name.as_str()).collect();
            for e in official.entities.iter().filter(|e| !only_inside_a_first_word(e, &query)) {
                prop_assert!(names.contains(e.name.as_str()), "{query:?} lost {}", e.name);
            }
        }

        // One hop both ways: every relation touching the entity, in order.
        let op = GraphOp::Neighbors(NeighborQuery {
            name: center.clone(),
            direction: Direction::Both,
            relation_types: vec![],
            depth: 1,
            limit: 200,
            after: None,
            budget: None,
        });
        match (store.apply(&op), model.find(&center)) {
            (Ok(Outcome::Neighborhood(n)), Some(_)) => {
                let expected: Vec<Relation> = model
                    .relations
                    .iter()
                    .filter(|r| r.from == center || r.to == center)
                    .cloned()
                    .collect();
                prop_assert_eq!(n.relations, expected);
            }
            (Err(StoreError::UnknownEntity(name)), None) => prop_assert_eq!(name, center),
            (other, _) => return Err(TestCaseError::fail(format!("get_neighbors: {other:?}"))),
        }
    }
}
