//! The MCP session handler: `initialize`, the tool list and the resource are
//! answered from static tables; tool calls are parsed, run on the
//! [`Backend`] and rendered.
//!
//! Errors an agent can act on (bad arguments, unknown entities, an unknown
//! tool) are tool results with `isError: true`, as the official server
//! answers them; JSON-RPC errors are kept for protocol faults.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, CustomRequest,
    CustomResult, ErrorCode, ErrorData, Implementation, InitializeRequestParams, InitializeResult,
    ListPromptsResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    ResourceContents, ServerCapabilities, SubscribeRequestParams, Tool, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{RoleServer, ServerHandler};
use serde_json::json;

use super::backend::{Backend, CallError};
use super::call::{self, Call, Settings, ToolSet};
use super::render;
use super::session::{self, Session};
use crate::model::{GraphOp, OpError, Outcome};

/// The one resource: the whole graph.
pub const GRAPH_URI: &str = "memory://knowledge-graph";

/// The protocol versions this server speaks; `initialize` echoes the
/// client's when it is one of these, and answers the newest otherwise.
const PROTOCOL_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2024_11_05,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
];

const INSTRUCTIONS: &str = "\
This is your long-term memory: a knowledge graph shared by every session on this machine, \
across all projects, that survives restarts. Entities are named nodes with a type and a list \
of observations (short, self-contained facts); relations are directed, typed edges between \
entity names, written in active voice (\"Alice works_at Acme\").
- Look up what you already know before you start: search_memory with a few words of what you \
need (any order; case and accents do not matter) gives the best matches first, one line each. \
Then open_nodes with the names you need for their observations and relations, and \
get_neighbors to see what an entity is connected to. search_nodes matches one exact \
substring. read_graph returns everything: call it only with limit (and follow nextCursor).
- When an answer says truncated or has nextCursor, pass that cursor to the same tool for more.
- Record durable facts worth remembering next time: create_entities for new things \
(existing names are skipped, not overwritten), add_observations to extend an existing entity, \
create_relations to connect entities that already exist.
- Keep memory accurate: delete_observations for facts that became false, delete_entities \
(also removes their relations) and delete_relations for what no longer holds.
- Other sessions write to the same memory at the same time; re-read before relying on \
something you read long ago.";

/// The instructions when only the official tools are listed.
const OFFICIAL_INSTRUCTIONS: &str = "\
This is your long-term memory: a knowledge graph shared by every session on this machine, \
across all projects, that survives restarts. Entities are named nodes with a type and a list \
of observations (short, self-contained facts); relations are directed, typed edges between \
entity names, written in active voice (\"Alice works_at Acme\").
- Look up what you already know before you start: search_nodes with a distinctive word \
(case-insensitive substring of names, types and observations), then open_nodes for exact names. \
read_graph returns everything: call it with limit, and follow nextCursor.
- When an answer says truncated or has nextCursor, pass that cursor to the same tool for more.
- Record durable facts worth remembering next time: create_entities for new things \
(existing names are skipped, not overwritten), add_observations to extend an existing entity, \
create_relations to connect entities that already exist.
- Keep memory accurate: delete_observations for facts that became false, delete_entities \
(also removes their relations) and delete_relations for what no longer holds.
- Other sessions write to the same memory at the same time; re-read before relying on \
something you read long ago.";

/// The MCP face of one agent session.
#[derive(Clone)]
pub struct MemoryServer {
    backend: Arc<dyn Backend>,
    subscribed: Arc<AtomicBool>,
    tools: Arc<Vec<Tool>>,
    settings: Settings,
    /// The answer to the session's first `initialize`, which every later
    /// `initialize` gets too: the session's protocol is settled once.
    initialized: Arc<OnceLock<InitializeResult>>,
    session: Arc<Session>,
    /// Whether results may carry JSON text already written, which only our
    /// own line transport knows to put in place ([`MemoryServer::on_line_transport`]).
    writes_raw_json: bool,
}

impl MemoryServer {
    /// The server of this process's session, which works where the process
    /// runs (its environment and working directory).
    pub fn new(
        backend: Arc<dyn Backend>,
        settings: Settings,
    ) -> Result<MemoryServer, serde_json::Error> {
        MemoryServer::with_session(backend, settings, Session::from_env())
    }

    /// The server of `session`: an HTTP session's is not the daemon's
    /// process, so its project comes only from its client's roots.
    pub fn with_session(
        backend: Arc<dyn Backend>,
        settings: Settings,
        session: Session,
    ) -> Result<MemoryServer, serde_json::Error> {
        Ok(MemoryServer {
            backend,
            subscribed: Arc::new(AtomicBool::new(false)),
            tools: Arc::new(listed(settings.tools)?),
            settings,
            initialized: Arc::new(OnceLock::new()),
            session: Arc::new(session),
            writes_raw_json: false,
        })
    }

    /// For a session on [`super::transport::LineTransport`]: large answers
    /// leave as JSON text for the transport to write as it is.
    pub fn on_line_transport(mut self) -> MemoryServer {
        self.writes_raw_json = true;
        self
    }

    /// Who this session is and where it works.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Whether the client asked for `notifications/resources/updated`.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    async fn run_tool(
        &self,
        params: CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        let name = params.name.as_ref();
        if !self.tools.iter().any(|t| t.name == name) {
            return error_result(format!("MCP error -32602: Tool {name} not found"));
        }
        let mut call = match call::parse(name, params.arguments.as_ref(), &self.settings) {
            Ok(call) => call,
            Err(e) => {
                return error_result(format!("Invalid arguments for tool {name}: {e}"));
            }
        };
        if let Call::Search {
            op: GraphOp::SearchMemory(search),
            ..
        } = &mut call
        {
            // The ranking favours, or keeps only, the project of this call.
            search.project = self.session.project().map(|p| p.key);
        }
        let is_write = call.op().is_write();
        // Each write's change records who made it (and the log says so).
        let author = is_write.then(|| {
            let provenance = self.session.provenance();
            tracing::debug!(provenance = ?provenance, "{name}");
            author(&provenance)
        });
        let shape = Shape::of(&call);
        match self.backend.call(call.into_op(), author).await {
            Ok(outcome) => {
                if is_write && self.is_subscribed() {
                    // Sent before the result, as the official server does, so a
                    // client that re-reads on the notice already sees the change.
                    if let Err(e) = context.peer.notify_resource_updated(updated()).await {
                        tracing::debug!("notify: {e}");
                    }
                }
                self.success_result(self.render(name, &shape, &outcome))
            }
            Err(CallError::Op(OpError::UnknownEntity(name))) => {
                error_result(format!("Entity with name {name} not found"))
            }
            Err(CallError::Op(OpError::Invalid(problem))) => {
                error_result(format!("Invalid arguments for tool {name}: {problem}"))
            }
            Err(CallError::Op(OpError::Storage(reason))) => error_result(format!(
                "The memory store failed and nothing was written: {reason}"
            )),
            Err(CallError::Op(OpError::Unanswerable(reason))) => {
                error_result(format!("The result could not be sent: {reason}"))
            }
            Err(CallError::Op(OpError::Refused(message))) => error_result(message),
            Err(CallError::Unavailable {
                reason,
                may_have_written,
            }) => {
                let effect = if !is_write {
                    "Nothing was changed."
                } else if may_have_written {
                    "The write may or may not have been applied; check with open_nodes before retrying."
                } else {
                    "Nothing was written; it is safe to retry."
                };
                error_result(format!(
                    "The memory store is unavailable: {reason}. {effect}"
                ))
            }
        }
    }
}

impl MemoryServer {
    /// Renders an outcome with the cursor its call's scope mints.
    fn render(&self, tool: &str, shape: &Shape, outcome: &Outcome) -> Answer {
        match (&shape.scope, outcome) {
            (Some(scope), Outcome::Page(page)) => {
                let cursor = page.next_after.map(|id| scope.encode(&[id.max(0) as u64]));
                Answer::Written(render::page_written(
                    page,
                    tool,
                    cursor.as_deref(),
                    self.settings.max_result_chars,
                ))
            }
            (Some(scope), Outcome::Ranked(ranked)) => {
                let cursor = ranked
                    .next
                    .map(|n| scope.encode(&[n.snapshot, u64::from(n.offset)]));
                Answer::Tree(render::ranked(
                    ranked,
                    &shape.query,
                    cursor.as_deref(),
                    self.settings.max_result_chars,
                ))
            }
            (Some(scope), Outcome::Neighborhood(n)) => {
                let cursor = n.next_after.map(|id| scope.encode(&[id.max(0) as u64]));
                Answer::Tree(render::neighborhood(
                    n,
                    cursor.as_deref(),
                    self.settings.max_result_chars,
                ))
            }
            _ => match render::written(outcome) {
                Some(written) => Answer::Written(written),
                None => Answer::Tree(render::outcome(outcome)),
            },
        }
    }

    fn success_result(&self, answer: Answer) -> CallToolResult {
        let (texts, structured) = match answer {
            Answer::Tree(rendered) => (rendered.texts, rendered.structured),
            Answer::Written(written) if self.writes_raw_json => (
                written.texts,
                super::transport::raw_structured(written.structured),
            ),
            Answer::Written(written) => {
                let rendered = written.into_rendered();
                (rendered.texts, rendered.structured)
            }
        };
        let mut result =
            CallToolResult::success(texts.into_iter().map(ContentBlock::text).collect());
        result.structured_content = Some(structured);
        // The official server leaves `isError` out of successful results.
        result.is_error = None;
        result
    }
}

/// A rendered result, with its structured copy as a tree or as JSON text.
enum Answer {
    Tree(render::Rendered),
    Written(render::Written),
}

/// What rendering needs to know of a call once its operation is sent.
struct Shape {
    scope: Option<super::cursor::Scope>,
    query: String,
}

impl Shape {
    fn of(call: &Call) -> Shape {
        let query = match call.op() {
            GraphOp::SearchMemory(s) => s.query.clone(),
            _ => String::new(),
        };
        let scope = match call {
            Call::Official(_) => None,
            Call::Page { scope, .. }
            | Call::Search { scope, .. }
            | Call::Neighbors { scope, .. } => Some(*scope),
        };
        Shape { scope, query }
    }
}

/// What a change records of the session that makes it.
fn author(p: &crate::provenance::Provenance) -> crate::model::Author {
    crate::model::Author {
        session: Some(p.session.clone()),
        client: p
            .client
            .as_ref()
            .map(|c| format!("{} {}", c.name, c.version).trim().to_owned()),
        project: p.project.as_ref().map(|p| p.key.clone()),
        cwd: p.cwd.as_ref().map(|c| c.display().to_string()),
        actor: None,
    }
}

/// The notice sent when the graph changed.
pub(crate) fn updated() -> rmcp::model::ResourceUpdatedNotificationParam {
    rmcp::model::ResourceUpdatedNotificationParam::new(GRAPH_URI)
}

fn error_result(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// Every tool definition: the official nine first, with the optional
/// additions their schemas declare (`skipped`, paging, the size guard's
/// fields), then memgraphd's own tools.
pub fn definitions() -> Result<Vec<Tool>, serde_json::Error> {
    serde_json::from_str(include_str!("tools.json"))
}

/// The names of the official tools, in their order.
pub const OFFICIAL_TOOLS: [&str; 9] = [
    "create_entities",
    "create_relations",
    "add_observations",
    "delete_entities",
    "delete_observations",
    "delete_relations",
    "read_graph",
    "search_nodes",
    "open_nodes",
];

/// The definitions `tools/list` offers for `set`.
pub fn listed(set: ToolSet) -> Result<Vec<Tool>, serde_json::Error> {
    let mut tools = definitions()?;
    if set == ToolSet::Official {
        tools.retain(|t| OFFICIAL_TOOLS.contains(&t.name.as_ref()));
    }
    Ok(tools)
}

fn method_not_found() -> ErrorData {
    ErrorData::new(ErrorCode::METHOD_NOT_FOUND, "Method not found", None)
}

impl ServerHandler for MemoryServer {
    fn get_info(&self) -> InitializeResult {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_resources_list_changed()
            .build();
        InitializeResult::new(capabilities)
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
            .with_server_info(Implementation::new("memgraphd", env!("CARGO_PKG_VERSION")))
            .with_instructions(session::instructions(
                match self.settings.tools {
                    ToolSet::All => INSTRUCTIONS,
                    ToolSet::Official => OFFICIAL_INSTRUCTIONS,
                },
                self.session.project().as_ref(),
            ))
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    /// rmcp's default records the request as the peer's info, raw version
    /// included, and shapes every later answer by that version: a second
    /// `initialize` naming `2026-07-28` would switch the session to a
    /// protocol we do not speak (no `ping`, `resultType` in every result).
    /// Here the first `initialize` records the *negotiated* version and
    /// every later one is answered the same and changes nothing.
    ///
    /// This is the handler's documented hook for the handshake, and the one
    /// place that knows the negotiated answer, so the fix lives here rather
    /// than in the transport rewriting requests before rmcp sees them.
    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        if let Some(first) = self.initialized.get() {
            return Ok(first.clone());
        }
        let answer = self.negotiate_initialize(&request)?;
        let mut peer = request;
        peer.protocol_version = answer.protocol_version.clone();
        context.peer.set_peer_info(peer);
        Ok(self.initialized.get_or_init(|| answer).clone())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Ok(self.run_tool(request, &context).await.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        serde_json::from_value(json!({
            "resources": [{
                "uri": GRAPH_URI,
                "name": "knowledge-graph",
                "title": "Knowledge Graph",
                "description": "The full knowledge graph with all entities and relations",
                "mimeType": "application/json",
            }]
        }))
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != GRAPH_URI {
            return Err(ErrorData::resource_not_found(
                format!("Resource {} not found", request.uri),
                None,
            ));
        }
        match self.backend.call(GraphOp::ReadGraph, None).await {
            Ok(Outcome::Graph(graph)) => {
                let contents = ResourceContents::text(render::graph_text(&graph), GRAPH_URI)
                    .with_mime_type("application/json");
                Ok(ReadResourceResult::new(vec![contents]).into())
            }
            Ok(_) => Err(ErrorData::internal_error(
                "unexpected reply to read_graph",
                None,
            )),
            Err(e) => Err(ErrorData::internal_error(e.to_string(), None)),
        }
    }

    #[allow(deprecated)]
    async fn subscribe(
        &self,
        _request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscribed.store(true, Ordering::Relaxed);
        self.backend
            .set_subscribed(true)
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        _request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscribed.store(false, Ordering::Relaxed);
        self.backend
            .set_subscribed(false)
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Err(method_not_found())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.session.on_initialized(&context.peer).await;
    }

    async fn on_roots_list_changed(&self, context: NotificationContext<RoleServer>) {
        self.session.refresh_roots(&context.peer).await;
    }

    async fn on_custom_request(
        &self,
        _request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        Err(method_not_found())
    }
}
