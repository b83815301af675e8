//! The vocabulary of the knowledge graph: entities, relations, the graph
//! operations (the nine tools' and `import`'s) and what each of them answers.
//!
//! These types are what the store executes and what crosses the shim↔daemon
//! socket (they derive serde for bincode). They are *not* the MCP contract:
//! the JSON that agents see is built from them in `shim`, so renaming a field
//! here never changes a tool's output.

use serde::{Deserialize, Serialize};

/// A node of the graph: a unique name, a free-form type and its observations
/// in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    pub entity_type: String,
    pub observations: Vec<String>,
}

impl Entity {
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        entity_type: impl Into<String>,
        observations: impl IntoIterator<Item = S>,
    ) -> Entity {
        Entity {
            name: name.into(),
            entity_type: entity_type.into(),
            observations: observations.into_iter().map(Into::into).collect(),
        }
    }
}

/// A directed, typed edge between two entities, named by their names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Relation {
    pub from: String,
    pub to: String,
    pub relation_type: String,
}

impl Relation {
    pub fn new(
        from: impl Into<String>,
        to: impl Into<String>,
        relation_type: impl Into<String>,
    ) -> Relation {
        Relation {
            from: from.into(),
            to: to.into(),
            relation_type: relation_type.into(),
        }
    }
}

/// Observations to append to one entity (`add_observations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationAdd {
    pub entity_name: String,
    pub contents: Vec<String>,
}

/// Observations to remove from one entity (`delete_observations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationDelete {
    pub entity_name: String,
    pub observations: Vec<String>,
}

/// A subgraph: entities in storage order and the relations that touch them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
}

/// One operation on the graph, as an agent asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphOp {
    CreateEntities(Vec<Entity>),
    CreateRelations(Vec<Relation>),
    AddObservations(Vec<ObservationAdd>),
    DeleteEntities(Vec<String>),
    DeleteObservations(Vec<ObservationDelete>),
    DeleteRelations(Vec<Relation>),
    ReadGraph,
    SearchNodes {
        query: String,
    },
    OpenNodes(Vec<String>),
    /// Merges a graph from a file (`memgraphd import`): new entities are
    /// created, observations of existing ones added, relations whose
    /// endpoints are missing reported instead of failing the batch.
    Import {
        entities: Vec<Entity>,
        relations: Vec<Relation>,
    },
}

impl GraphOp {
    /// Whether the operation may change the graph. Writes are serialized,
    /// recorded for idempotent retries and announced on the change feed.
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            GraphOp::ReadGraph | GraphOp::SearchNodes { .. } | GraphOp::OpenNodes(_)
        )
    }

    /// The MCP tool that asks for this operation, for logs and messages.
    pub fn tool_name(&self) -> &'static str {
        match self {
            GraphOp::CreateEntities(_) => "create_entities",
            GraphOp::CreateRelations(_) => "create_relations",
            GraphOp::AddObservations(_) => "add_observations",
            GraphOp::DeleteEntities(_) => "delete_entities",
            GraphOp::DeleteObservations(_) => "delete_observations",
            GraphOp::DeleteRelations(_) => "delete_relations",
            GraphOp::ReadGraph => "read_graph",
            GraphOp::SearchNodes { .. } => "search_nodes",
            GraphOp::OpenNodes(_) => "open_nodes",
            GraphOp::Import { .. } => "import",
        }
    }
}

/// What `create_entities` did: the entities it created (observations
/// deduplicated) and, in order of first appearance, the names it skipped
/// because they already existed or came earlier in the same call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEntities {
    pub created: Vec<Entity>,
    pub skipped: Vec<String>,
}

/// What `add_observations` appended to one entity, one per input item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedObservations {
    pub entity_name: String,
    pub added: Vec<String>,
}

/// What a delete found. `requested` counts the distinct items asked for,
/// `deleted` those removed; `missing` lists, in request order, what matched
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted<T> {
    pub requested: usize,
    pub deleted: usize,
    pub missing: Vec<T>,
}

/// A `delete_observations` miss: either the entity itself is unknown, or it
/// does not carry that observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingObservation {
    Entity(String),
    Observation {
        entity_name: String,
        content: String,
    },
}

/// What an import batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub entities_created: usize,
    /// Entities already stored (or repeated in the batch) whose observations
    /// were merged into the stored one.
    pub entities_merged: usize,
    pub observations_added: usize,
    pub relations_created: usize,
    /// Relations already stored.
    pub relations_existing: usize,
    /// Relations left out because an endpoint does not exist.
    pub dangling: Vec<Relation>,
}

/// Where a paged export stands: the last entity and relation ids sent. A
/// fresh export starts at [`ExportCursor::START`]; entities come first, in
/// id order, then relations, so the pages read in order are the graph in
/// the order `read_graph` gives it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportCursor {
    pub entities_after: i64,
    pub relations_after: i64,
}

impl ExportCursor {
    pub const START: ExportCursor = ExportCursor {
        entities_after: 0,
        relations_after: 0,
    };
}

/// One page of a paged export, read from a snapshot of the graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPage {
    /// The snapshot the page was read from; later pages name it.
    pub snapshot: u64,
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
    /// Where the next page starts; `None` after the last page.
    pub next: Option<ExportCursor>,
    /// The whole snapshot's entity and relation counts, for progress.
    pub total_entities: u64,
    pub total_relations: u64,
}

/// The answer to a [`GraphOp`], variant for variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    EntitiesCreated(CreatedEntities),
    RelationsCreated(Vec<Relation>),
    ObservationsAdded(Vec<AddedObservations>),
    EntitiesDeleted(Deleted<String>),
    ObservationsDeleted(Deleted<MissingObservation>),
    RelationsDeleted(Deleted<Relation>),
    Graph(Graph),
    Imported(ImportReport),
}

/// Why an operation failed, in a form that crosses the socket. Every variant
/// but `Unanswerable` means the operation changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum OpError {
    /// The call named an unknown entity; the message is the official one.
    #[error("Entity with name {0} not found")]
    UnknownEntity(String),
    /// An argument breaks a limit: `path: problem`.
    #[error("{0}")]
    Invalid(String),
    /// The store failed (disk full, read-only file, …); nothing was written.
    #[error("storage failure, nothing was written: {0}")]
    Storage(String),
    /// The operation ran, but its result cannot be sent (it is over the
    /// limit of one reply); the message names the limit.
    #[error("{0}")]
    Unanswerable(String),
}
