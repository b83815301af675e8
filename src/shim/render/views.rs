//! Borrowed JSON views of the model's answers, serialized straight to text.
//!
//! A whole-graph answer holds tens of thousands of strings. Building a
//! `serde_json::Value` tree of it first, to print it twice (the pretty text
//! and the compact structured copy), cost more than everything else the
//! shim does; these views write the same bytes from the model's own
//! strings, with nothing copied on the way. Keys come in the contract's
//! order, and the formatting is serde_json's, which is the one the snapshot
//! tests pin.

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

use crate::model::{AddedObservations, Entity, Graph, PagedEntity, Relation};

/// `{"name", "entityType", "observations"}`.
pub(super) struct EntityJson<'a>(pub &'a Entity);

impl Serialize for EntityJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("name", &e.name)?;
        map.serialize_entry("entityType", &e.entity_type)?;
        map.serialize_entry("observations", &e.observations)?;
        map.end()
    }
}

/// An entity of a page: `observationCount` follows when observations were
/// left out.
pub(super) struct PagedJson<'a>(pub &'a PagedEntity);

impl Serialize for PagedJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = &self.0.entity;
        let count = self.0.observation_count;
        let mut map = s.serialize_map(Some(3 + usize::from(count.is_some())))?;
        map.serialize_entry("name", &e.name)?;
        map.serialize_entry("entityType", &e.entity_type)?;
        map.serialize_entry("observations", &e.observations)?;
        if let Some(count) = count {
            map.serialize_entry("observationCount", &count)?;
        }
        map.end()
    }
}

/// `{"from", "to", "relationType"}`.
pub(super) struct RelationJson<'a>(pub &'a Relation);

impl Serialize for RelationJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("from", &r.from)?;
        map.serialize_entry("to", &r.to)?;
        map.serialize_entry("relationType", &r.relation_type)?;
        map.end()
    }
}

/// `{"entityName", "addedObservations"}`.
pub(super) struct AddedJson<'a>(pub &'a AddedObservations);

impl Serialize for AddedJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("entityName", &a.entity_name)?;
        map.serialize_entry("addedObservations", &a.added)?;
        map.end()
    }
}

/// A slice shown item by item through the view `V`.
pub(super) struct List<'a, T, V>(pub &'a [T], pub fn(&'a T) -> V);

// By hand: a derive would ask `T` and `V` to be `Copy` too.
impl<T, V> Clone for List<'_, T, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, V> Copy for List<'_, T, V> {}

impl<'a, T, V: Serialize> Serialize for List<'a, T, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

pub(super) fn entities(items: &[Entity]) -> List<'_, Entity, EntityJson<'_>> {
    List(items, EntityJson)
}

pub(super) fn paged(items: &[PagedEntity]) -> List<'_, PagedEntity, PagedJson<'_>> {
    List(items, PagedJson)
}

pub(super) fn relations(items: &[Relation]) -> List<'_, Relation, RelationJson<'_>> {
    List(items, RelationJson)
}

pub(super) fn added(items: &[AddedObservations]) -> List<'_, AddedObservations, AddedJson<'_>> {
    List(items, AddedJson)
}

/// A graph: `{"entities", "relations"}`.
#[derive(Serialize)]
pub(super) struct GraphJson<'a> {
    pub entities: List<'a, Entity, EntityJson<'a>>,
    pub relations: List<'a, Relation, RelationJson<'a>>,
}

pub(super) fn graph(graph: &Graph) -> GraphJson<'_> {
    GraphJson {
        entities: entities(&graph.entities),
        relations: relations(&graph.relations),
    }
}

/// `create_entities`: `{"entities"}`, then `skipped` when names were.
#[derive(Serialize)]
pub(super) struct Created<'a> {
    pub entities: List<'a, Entity, EntityJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'a [String]>,
}

/// `create_relations`: `{"relations"}`.
#[derive(Serialize)]
pub(super) struct Relations<'a> {
    pub relations: List<'a, Relation, RelationJson<'a>>,
}

/// `add_observations`: `{"results"}`.
#[derive(Serialize)]
pub(super) struct Results<'a> {
    pub results: List<'a, AddedObservations, AddedJson<'a>>,
}

/// A page of an official read, with what a cursor or a cut adds to its
/// structured copy.
#[derive(Serialize)]
pub(super) struct PageJson<'a> {
    pub entities: List<'a, PagedEntity, PagedJson<'a>>,
    pub relations: List<'a, Relation, RelationJson<'a>>,
    #[serde(rename = "nextCursor", skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<&'a str>,
}

/// `JSON.stringify(value, null, 2)` of a view.
pub(super) fn pretty<T: Serialize + ?Sized>(value: &T) -> String {
    pretty_sized(value, SMALL)
}

/// The compact JSON of a view.
pub(super) fn compact<T: Serialize + ?Sized>(value: &T) -> String {
    compact_sized(value, SMALL)
}

/// The buffer a view of unknown size starts with.
const SMALL: usize = 4096;

/// [`pretty`] into a buffer of `capacity` bytes to start with. A large
/// answer written into a buffer that doubles as it fills is copied once
/// more in all, and touches twice the fresh memory, each page a fault.
pub(super) fn pretty_sized<T: Serialize + ?Sized>(value: &T, capacity: usize) -> String {
    // Writing into a `Vec` cannot fail, and serde_json only writes UTF-8.
    let mut out = Vec::with_capacity(capacity);
    let _ = serde_json::to_writer_pretty(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

/// [`compact`] into a buffer of `capacity` bytes to start with.
pub(super) fn compact_sized<T: Serialize + ?Sized>(value: &T, capacity: usize) -> String {
    let mut out = Vec::with_capacity(capacity);
    let _ = serde_json::to_writer(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

/// About how long a graph's JSON is, compact and indented.
pub(super) struct GraphSize {
    pub compact: usize,
    pub pretty: usize,
}

/// About the length of `graph`'s JSON: its text, with the keys and
/// punctuation around each item, and for the indented form a line of
/// indentation per item. Characters JSON escapes make it longer.
pub(super) fn graph_size(graph: &Graph) -> GraphSize {
    // `{"type":"entity","name":"","entityType":"","observations":[]},`
    const ENTITY: usize = 64;
    // `{"type":"relation","from":"","to":"","relationType":""},`
    const RELATION: usize = 56;
    // The indentation and line break an item's line gets.
    const LINE: usize = 10;
    // The lines of an entity besides its observations'.
    const ENTITY_LINES: usize = 6;
    let entities: usize = graph
        .entities
        .iter()
        .map(|e| {
            ENTITY
                + e.name.len()
                + e.entity_type.len()
                + e.observations.iter().map(|o| o.len() + 3).sum::<usize>()
        })
        .sum();
    let relations: usize = graph
        .relations
        .iter()
        .map(|r| RELATION + r.from.len() + r.to.len() + r.relation_type.len())
        .sum();
    let lines = graph.relations.len()
        + graph
            .entities
            .iter()
            .map(|e| ENTITY_LINES + e.observations.len())
            .sum::<usize>();
    let compact = 32 + entities + relations;
    GraphSize {
        compact,
        pretty: compact + lines * LINE,
    }
}
