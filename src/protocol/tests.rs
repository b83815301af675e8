use std::collections::BTreeSet;
use std::fmt::Debug;

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::model::{
    AddedObservations, Author, Budget, ChangeInfo, CreatedEntities, Deleted, Direction, Entity,
    EntitySummary, Graph, GraphPage, HistoryPage, HistoryQuery, ImportReport, MemorySearch,
    MissingObservation, NeighborQuery, Neighborhood, ObservationAdd, ObservationDelete, PageQuery,
    PageSource, PagedEntity, Purged, RankResume, RankedEntity, RankedPage, RecentQuery, Relation,
    SearchScope, Truncation, Undone,
};

mod parts;

// ---- samples: at least one of every variant ---------------------------------

fn entity(name: &str) -> Entity {
    Entity {
        name: name.into(),
        entity_type: "person".into(),
        observations: vec!["likes tea".into(), "ünïcödé ✓".into()],
    }
}

fn relation() -> Relation {
    Relation {
        from: "Alice".into(),
        to: "Bob".into(),
        relation_type: "knows".into(),
    }
}

fn graph_ops() -> Vec<GraphOp> {
    vec![
        GraphOp::CreateEntities(vec![entity("Alice"), entity("")]),
        GraphOp::CreateRelations(vec![relation()]),
        GraphOp::AddObservations(vec![ObservationAdd {
            entity_name: "Alice".into(),
            contents: vec!["drinks coffee".into()],
        }]),
        GraphOp::DeleteEntities(vec!["Alice".into(), "Bob".into()]),
        GraphOp::DeleteObservations(vec![ObservationDelete {
            entity_name: "Alice".into(),
            observations: vec!["likes tea".into()],
        }]),
        GraphOp::DeleteRelations(vec![relation()]),
        GraphOp::ReadGraph,
        GraphOp::SearchNodes {
            query: "tea".into(),
        },
        GraphOp::OpenNodes(vec![]),
        GraphOp::Import {
            entities: vec![entity("Alice")],
            relations: vec![relation()],
        },
        GraphOp::ReadPage(PageQuery {
            source: PageSource::All,
            after: None,
            limit: Some(100),
            entity_types: vec![],
            include_observations: true,
            budget: None,
        }),
        GraphOp::ReadPage(PageQuery {
            source: PageSource::Search("tea".into()),
            after: Some(42),
            limit: None,
            entity_types: vec!["person".into()],
            include_observations: false,
            budget: Some(Budget {
                chars: 80_000,
                reserve: 640,
            }),
        }),
        GraphOp::ReadPage(PageQuery {
            source: PageSource::Names(vec!["Alice".into()]),
            after: Some(i64::MAX),
            limit: Some(1),
            entity_types: vec![],
            include_observations: true,
            budget: None,
        }),
        GraphOp::SearchMemory(MemorySearch {
            query: "tea party".into(),
            limit: 10,
            entity_types: vec![],
            scope: SearchScope::All,
            project: None,
            resume: None,
            budget: None,
        }),
        GraphOp::SearchMemory(MemorySearch {
            query: "x".into(),
            limit: 50,
            entity_types: vec!["person".into()],
            scope: SearchScope::Project,
            project: Some("github.com/acme/tools".into()),
            resume: Some(RankResume {
                snapshot: u64::MAX,
                offset: 10,
            }),
            budget: None,
        }),
        GraphOp::Neighbors(NeighborQuery {
            name: "Alice".into(),
            direction: Direction::Both,
            relation_types: vec![],
            depth: 1,
            limit: 50,
            after: None,
            budget: None,
        }),
        GraphOp::History(HistoryQuery {
            name: Some("Alice".into()),
            since: Some(1_764_000_000_000),
            project: None,
            limit: 20,
            before: Some(7),
        }),
        GraphOp::Undo {
            change_id: 12,
            force: true,
        },
        GraphOp::SupersedeObservation {
            entity_name: "Alice".into(),
            old: "likes tea".into(),
            new: "likes coffee".into(),
        },
        GraphOp::Purge {
            before: 1_764_000_000_000,
            dry_run: false,
        },
        GraphOp::Recent(RecentQuery {
            project: Some("github.com/acme/tools".into()),
            limit: 20,
        }),
        GraphOp::Neighbors(NeighborQuery {
            name: "Bob".into(),
            direction: Direction::Out,
            relation_types: vec!["knows".into()],
            depth: 3,
            limit: 200,
            after: Some(7),
            budget: None,
        }),
        GraphOp::Neighbors(NeighborQuery {
            name: "Carol".into(),
            direction: Direction::In,
            relation_types: vec![],
            depth: 2,
            limit: 1,
            after: None,
            budget: None,
        }),
    ]
}

fn summary(name: &str) -> EntitySummary {
    EntitySummary {
        name: name.into(),
        entity_type: "person".into(),
        observation_count: 3,
    }
}

fn outcomes() -> Vec<Outcome> {
    vec![
        Outcome::EntitiesCreated(CreatedEntities {
            created: vec![entity("Alice")],
            skipped: vec!["Bob".into()],
        }),
        Outcome::RelationsCreated(vec![relation()]),
        Outcome::ObservationsAdded(vec![AddedObservations {
            entity_name: "Alice".into(),
            added: vec!["drinks coffee".into()],
        }]),
        Outcome::EntitiesDeleted(Deleted {
            requested: 2,
            deleted: 1,
            missing: vec!["Bob".into()],
        }),
        Outcome::ObservationsDeleted(Deleted {
            requested: 3,
            deleted: 1,
            missing: vec![
                MissingObservation::Entity("Carol".into()),
                MissingObservation::Observation {
                    entity_name: "Alice".into(),
                    content: "likes milk".into(),
                },
            ],
        }),
        Outcome::RelationsDeleted(Deleted {
            requested: usize::MAX,
            deleted: 0,
            missing: vec![relation()],
        }),
        Outcome::Graph(Graph {
            entities: vec![entity("Alice"), entity("Bob")],
            relations: vec![relation()],
        }),
        Outcome::Graph(Graph::default()),
        Outcome::Imported(ImportReport {
            entities_created: 1,
            entities_merged: 2,
            observations_added: 3,
            relations_created: 4,
            relations_existing: 5,
            dangling: vec![relation()],
        }),
        Outcome::Page(GraphPage {
            entities: vec![
                PagedEntity {
                    entity: entity("Alice"),
                    observation_count: None,
                },
                PagedEntity {
                    entity: Entity::new("Bob", "person", Vec::<String>::new()),
                    observation_count: Some(2),
                },
            ],
            relations: vec![relation()],
            next_after: Some(2),
            truncated: Some(Truncation {
                shown: 2,
                remaining: 10,
            }),
        }),
        Outcome::Page(GraphPage::default()),
        Outcome::Ranked(RankedPage {
            results: vec![RankedEntity {
                name: "Alice".into(),
                entity_type: "person".into(),
                score_hundredths: 731,
                snippet: "likes tea".into(),
                observation_count: 2,
                updated_at: 1_764_000_000_000,
            }],
            next: Some(RankResume {
                snapshot: 99,
                offset: 1,
            }),
            truncated: None,
        }),
        Outcome::Ranked(RankedPage::default()),
        Outcome::Neighborhood(Neighborhood {
            entity: summary("Alice"),
            relations: vec![relation()],
            neighbors: vec![summary("Bob")],
            next_after: Some(12),
            truncated: None,
        }),
        Outcome::History(HistoryPage {
            changes: vec![ChangeInfo {
                id: 3,
                at: 1_764_000_000_000,
                tool: "create_entities".into(),
                session: Some("s-1".into()),
                client: Some("claude-code 2.1".into()),
                project: Some("github.com/acme/tools".into()),
                actor: None,
                summary: "created 1 entity (Alice)".into(),
            }],
            next_before: Some(3),
        }),
        Outcome::Undone(Undone {
            change_id: 4,
            undid: 3,
            summary: "undid change 3 (create_entities): removed 1 entity".into(),
        }),
        Outcome::Superseded {
            entity_name: "Alice".into(),
            old: "likes tea".into(),
            new: "likes coffee".into(),
            change_id: 5,
        },
        Outcome::Purged(Purged {
            changes: 2,
            entities: 1,
            observations: 3,
            relations: 0,
        }),
    ]
}

fn op_errors() -> Vec<OpError> {
    vec![
        OpError::UnknownEntity("Bob".into()),
        OpError::Invalid("entities[0].name: must not be empty".into()),
        OpError::Storage("database or disk is full".into()),
        OpError::Unanswerable("the result is over the limit of 1024 bytes for one reply".into()),
        OpError::Refused("Change 9 not found".into()),
    ]
}

fn ops() -> Vec<Op> {
    let mut ops: Vec<Op> = graph_ops()
        .into_iter()
        .zip([None, Some(0), Some(u128::MAX)].into_iter().cycle())
        .map(|(op, request_id)| Op::Graph { op, request_id })
        .collect();
    ops.extend([
        Op::Status,
        Op::Shutdown,
        Op::Subscribe,
        Op::Unsubscribe,
        Op::Backup {
            path: "/backups/memory.db".into(),
        },
        Op::Check,
        Op::ExportPage {
            snapshot: None,
            after: ExportCursor::START,
        },
        Op::ExportPage {
            snapshot: Some(u64::MAX),
            after: ExportCursor {
                entities_after: i64::MAX,
                relations_after: 42,
            },
        },
        Op::Token(TokenOp::Add {
            name: "alice@example.com".into(),
            hash: [0xab; 32],
        }),
        Op::Token(TokenOp::List),
        Op::Token(TokenOp::Revoke {
            name: "alice@example.com".into(),
        }),
        Op::Authored {
            op: GraphOp::DeleteEntities(vec!["Alice".into()]),
            request_id: Some(7),
            author: Box::new(Author {
                session: Some("s-1".into()),
                client: Some("claude-code 2.1".into()),
                project: Some("github.com/acme/tools".into()),
                cwd: Some("/home/dev/tools".into()),
                actor: None,
            }),
        },
        Op::Ui { port: None },
        Op::Ui {
            port: Some(u16::MAX),
        },
    ]);
    ops
}

fn status() -> DaemonStatus {
    DaemonStatus {
        pid: 4242,
        version: "0.1.0".into(),
        protocol: PROTOCOL_VERSION,
        uptime_secs: 86_400,
        db_path: "/home/dev/.local/share/memgraphd/memory.db".into(),
        socket_path: "/run/user/1000/memgraphd.sock".into(),
        db_bytes: 1 << 20,
        wal_bytes: 0,
        projects: vec![("github.com/acme/tools".into(), 3)],
        entities: 10,
        observations: 30,
        relations: 5,
        sessions: 3,
        queue_depth: u64::MAX,
        http: None,
        ui: None,
    }
}

fn token_info() -> TokenInfo {
    TokenInfo {
        name: "alice".into(),
        created_at: 1_764_000_000_000,
        last_used_at: Some(i64::MAX),
    }
}

fn replies() -> Vec<Reply> {
    let mut replies: Vec<Reply> = outcomes().into_iter().map(Reply::Graph).collect();
    replies.extend([
        Reply::Status(status()),
        Reply::ShuttingDown,
        Reply::Subscribed,
        Reply::Unsubscribed,
        Reply::BackedUp { bytes: 1 << 30 },
        Reply::Checked {
            problems: vec!["row 3 missing from index".into()],
        },
        Reply::ExportPage(ExportPage {
            snapshot: 7,
            entities: vec![entity("Alice")],
            relations: vec![relation()],
            next: Some(ExportCursor {
                entities_after: 1,
                relations_after: 0,
            }),
            total_entities: 2,
            total_relations: 1,
        }),
        Reply::ExportPage(ExportPage::default()),
        Reply::Status(DaemonStatus {
            http: Some(HttpStatus {
                url: "https://0.0.0.0:8443/mcp".into(),
                insecure: true,
                sessions: 16,
            }),
            ui: Some("http://127.0.0.1:43210/".into()),
            ..status()
        }),
        Reply::Token(TokenReply::Added(token_info())),
        Reply::Token(TokenReply::Listed(vec![
            token_info(),
            TokenInfo {
                last_used_at: None,
                ..token_info()
            },
        ])),
        Reply::Token(TokenReply::Revoked {
            name: "alice".into(),
        }),
        Reply::Ui {
            url: "http://127.0.0.1:8788/#token=mgd_00ff".into(),
        },
    ]);
    replies
}

fn hello() -> Hello {
    Hello {
        protocol: 1,
        version: "0.1.0".into(),
        pid: 4242,
        cwd: "/home/dev/project".into(),
        client: "mcp".into(),
    }
}

fn welcome() -> Welcome {
    Welcome {
        protocol: 1,
        version: "0.1.0".into(),
        pid: 4242,
        db_path: "/home/dev/memory.db".into(),
    }
}

fn refused() -> Refused {
    Refused {
        protocol: 1,
        version: "0.1.0".into(),
        pid: 4242,
        reason: "protocol 2 is not spoken here".into(),
    }
}

fn client_frames() -> Vec<ClientFrame> {
    let mut frames = vec![ClientFrame::Hello(hello())];
    frames.extend(
        ops()
            .into_iter()
            .zip(0..)
            .map(|(op, id)| ClientFrame::Request(Request { id, op })),
    );
    frames
}

fn server_frames() -> Vec<ServerFrame> {
    let mut frames = vec![
        ServerFrame::Welcome(welcome()),
        ServerFrame::Refused(refused()),
    ];
    let results = replies()
        .into_iter()
        .map(Ok)
        .chain(op_errors().into_iter().map(Err));
    frames.extend(
        results
            .zip(0..)
            .map(|(result, id)| ServerFrame::Response(Response { id, result })),
    );
    frames.push(ServerFrame::Event(Event::GraphChanged));
    frames.push(ServerFrame::ResponsePart(part()));
    frames
}

fn part() -> ResponsePart {
    ResponsePart {
        id: 300,
        total: 70_000,
        bytes: Chunk(vec![0, 1, 255]),
    }
}

// ---- the samples cover every variant ----------------------------------------
//
// These matches have no wildcard arm, so a new variant does not compile until
// it gets a number here, and then `samples_cover_every_variant` fails until
// it gets a sample above.

fn client_frame_variant(f: &ClientFrame) -> usize {
    match f {
        ClientFrame::Hello(_) => 0,
        ClientFrame::Request(_) => 1,
    }
}

fn server_frame_variant(f: &ServerFrame) -> usize {
    match f {
        ServerFrame::Welcome(_) => 0,
        ServerFrame::Refused(_) => 1,
        ServerFrame::Response(_) => 2,
        ServerFrame::Event(_) => 3,
        ServerFrame::ResponsePart(_) => 4,
    }
}

fn op_variant(op: &Op) -> usize {
    match op {
        Op::Graph { .. } => 0,
        Op::Status => 1,
        Op::Shutdown => 2,
        Op::Subscribe => 3,
        Op::Unsubscribe => 4,
        Op::Backup { .. } => 5,
        Op::Check => 6,
        Op::ExportPage { .. } => 7,
        Op::Token(_) => 8,
        Op::Authored { .. } => 9,
        Op::Ui { .. } => 10,
    }
}

fn graph_op_variant(op: &GraphOp) -> usize {
    match op {
        GraphOp::CreateEntities(_) => 0,
        GraphOp::CreateRelations(_) => 1,
        GraphOp::AddObservations(_) => 2,
        GraphOp::DeleteEntities(_) => 3,
        GraphOp::DeleteObservations(_) => 4,
        GraphOp::DeleteRelations(_) => 5,
        GraphOp::ReadGraph => 6,
        GraphOp::SearchNodes { .. } => 7,
        GraphOp::OpenNodes(_) => 8,
        GraphOp::Import { .. } => 9,
        GraphOp::ReadPage(_) => 10,
        GraphOp::SearchMemory(_) => 11,
        GraphOp::Neighbors(_) => 12,
        GraphOp::History(_) => 13,
        GraphOp::Undo { .. } => 14,
        GraphOp::SupersedeObservation { .. } => 15,
        GraphOp::Purge { .. } => 16,
        GraphOp::Recent(_) => 17,
    }
}

fn reply_variant(r: &Reply) -> usize {
    match r {
        Reply::Graph(_) => 0,
        Reply::Status(_) => 1,
        Reply::ShuttingDown => 2,
        Reply::Subscribed => 3,
        Reply::Unsubscribed => 4,
        Reply::BackedUp { .. } => 5,
        Reply::Checked { .. } => 6,
        Reply::ExportPage(_) => 7,
        Reply::Token(_) => 8,
        Reply::Ui { .. } => 9,
    }
}

fn outcome_variant(o: &Outcome) -> usize {
    match o {
        Outcome::EntitiesCreated(_) => 0,
        Outcome::RelationsCreated(_) => 1,
        Outcome::ObservationsAdded(_) => 2,
        Outcome::EntitiesDeleted(_) => 3,
        Outcome::ObservationsDeleted(_) => 4,
        Outcome::RelationsDeleted(_) => 5,
        Outcome::Graph(_) => 6,
        Outcome::Imported(_) => 7,
        Outcome::Page(_) => 8,
        Outcome::Ranked(_) => 9,
        Outcome::Neighborhood(_) => 10,
        Outcome::History(_) => 11,
        Outcome::Undone(_) => 12,
        Outcome::Superseded { .. } => 13,
        Outcome::Purged(_) => 14,
    }
}

fn op_error_variant(e: &OpError) -> usize {
    match e {
        OpError::UnknownEntity(_) => 0,
        OpError::Invalid(_) => 1,
        OpError::Storage(_) => 2,
        OpError::Unanswerable(_) => 3,
        OpError::Refused(_) => 4,
    }
}

fn event_variant(e: &Event) -> usize {
    match e {
        Event::GraphChanged => 0,
    }
}

#[track_caller]
fn assert_covers<T>(samples: &[T], variant: fn(&T) -> usize, count: usize) {
    let seen: BTreeSet<usize> = samples.iter().map(variant).collect();
    assert_eq!(seen, (0..count).collect(), "a variant has no sample");
}

#[test]
fn samples_cover_every_variant() {
    let client = client_frames();
    let server = server_frames();
    let ops: Vec<&Op> = client
        .iter()
        .filter_map(|f| match f {
            ClientFrame::Request(r) => Some(&r.op),
            ClientFrame::Hello(_) => None,
        })
        .collect();
    let graph_ops: Vec<&GraphOp> = ops
        .iter()
        .filter_map(|op| match op {
            Op::Graph { op, .. } => Some(op),
            _ => None,
        })
        .collect();
    let results: Vec<&Result<Reply, OpError>> = server
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Response(r) => Some(&r.result),
            _ => None,
        })
        .collect();
    let replies: Vec<&Reply> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let errors: Vec<&OpError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let outcomes: Vec<&Outcome> = replies
        .iter()
        .filter_map(|r| match r {
            Reply::Graph(o) => Some(o),
            _ => None,
        })
        .collect();
    let events: Vec<&Event> = server
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Event(e) => Some(e),
            _ => None,
        })
        .collect();

    assert_covers(&client, client_frame_variant, 2);
    assert_covers(&server, server_frame_variant, 5);
    assert_covers(&ops, |op| op_variant(op), 11);
    assert_covers(&graph_ops, |op| graph_op_variant(op), 18);
    assert_covers(&replies, |r| reply_variant(r), 10);
    assert_covers(&outcomes, |o| outcome_variant(o), 15);
    assert_covers(&errors, |e| op_error_variant(e), 5);
    assert_covers(&events, |e| event_variant(e), 1);
}

// ---- round trips --------------------------------------------------------------

/// encode → read_frame → decode gives back `msg`, and the frame is consumed
/// exactly: the next read is a clean end of stream.
async fn assert_round_trips<T>(msg: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let frame = encode(msg).expect("encode a sample");
    let mut reader = &frame[..];
    let body = read_frame(&mut reader)
        .await
        .expect("read a whole frame")
        .expect("a frame, not the end of stream");
    assert_eq!(body.len() + 4, frame.len());
    let back: T = decode(&body).expect("decode what we encoded");
    assert_eq!(&back, msg);
    assert!(read_frame(&mut reader).await.expect("clean end").is_none());
}

#[tokio::test]
async fn every_client_frame_round_trips() {
    for frame in client_frames() {
        assert_round_trips(&frame).await;
    }
}

#[tokio::test]
async fn every_server_frame_round_trips() {
    for frame in server_frames() {
        assert_round_trips(&frame).await;
    }
}

#[tokio::test]
async fn inner_types_round_trip_on_their_own() {
    for op in graph_ops() {
        assert_round_trips(&op).await;
    }
    for outcome in outcomes() {
        assert_round_trips(&outcome).await;
    }
    for err in op_errors() {
        assert_round_trips(&err).await;
    }
    assert_round_trips(&status()).await;
}

#[tokio::test]
async fn large_frames_back_to_back_are_read_one_at_a_time() {
    // Bodies over READ_CHUNK make read_frame grow its buffer several times;
    // none of the growth may swallow bytes of the next frame.
    let (a, b) = (search(3 * READ_CHUNK + 17), search(READ_CHUNK - 1));
    let mut stream = encode(&a).expect("encode a");
    stream.extend(encode(&b).expect("encode b"));
    let mut reader = &stream[..];
    for expected in [a, b] {
        let got: ClientFrame = read_msg(&mut reader)
            .await
            .expect("read a frame")
            .expect("a frame");
        assert_eq!(got, expected);
    }
    assert!(read_frame(&mut reader).await.expect("clean end").is_none());
}

#[tokio::test]
async fn many_messages_stream_through_a_small_pipe() {
    // A 64-byte pipe forces frames to be split across reads and writes.
    let (mut client, mut server) = tokio::io::duplex(64);
    let writer = tokio::spawn(async move {
        for frame in client_frames() {
            write_msg(&mut client, &frame).await.expect("write a frame");
        }
        // Dropping `client` closes the pipe: a clean end between frames.
    });
    let mut received = Vec::new();
    while let Some(frame) = read_msg::<ClientFrame, _>(&mut server)
        .await
        .expect("read a frame")
    {
        received.push(frame);
    }
    writer.await.expect("writer task");
    assert_eq!(received, client_frames());
}

// ---- the frozen handshake --------------------------------------------------
//
// These bytes are what every memgraphd ever released sends and reads first.
// If one of these tests fails, the handshake changed: older daemons can no
// longer read a new shim's Hello (or a new shim an old daemon's answer), and
// the upgrade-in-place path breaks. Change the code back, not the bytes.

#[test]
fn hello_bytes_are_frozen() {
    let frame = encode(&ClientFrame::Hello(hello())).expect("encode hello");
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        33, 0, 0, 0,                            // body length, little-endian
        0,                                      // ClientFrame::Hello
        1,                                      // protocol
        5, b'0', b'.', b'1', b'.', b'0',        // version
        251, 0x92, 0x10,                        // pid 4242
        17, b'/', b'h', b'o', b'm', b'e', b'/', b'd', b'e', b'v',
        b'/', b'p', b'r', b'o', b'j', b'e', b'c', b't', // cwd
        3, b'm', b'c', b'p',                    // client
    ];
    assert_eq!(frame, expected);
}

#[test]
fn welcome_and_refused_bytes_are_frozen() {
    let frame = encode(&ServerFrame::Welcome(welcome())).expect("encode welcome");
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        31, 0, 0, 0,                            // body length
        0,                                      // ServerFrame::Welcome
        1,                                      // protocol
        5, b'0', b'.', b'1', b'.', b'0',        // version
        251, 0x92, 0x10,                        // pid 4242
        19, b'/', b'h', b'o', b'm', b'e', b'/', b'd', b'e', b'v', b'/',
        b'm', b'e', b'm', b'o', b'r', b'y', b'.', b'd', b'b', // db_path
    ];
    assert_eq!(frame, expected);

    let frame = encode(&ServerFrame::Refused(refused())).expect("encode refused");
    #[rustfmt::skip]
    let mut expected: Vec<u8> = vec![
        41, 0, 0, 0,                            // body length
        1,                                      // ServerFrame::Refused
        1,                                      // protocol
        5, b'0', b'.', b'1', b'.', b'0',        // version
        251, 0x92, 0x10,                        // pid 4242
        29,                                     // reason length, then reason
    ];
    expected.extend_from_slice(b"protocol 2 is not spoken here");
    assert_eq!(frame, expected);
}

#[test]
fn response_part_bytes_are_pinned() {
    // Not frozen like the handshake, but the parts of a reply are raw bytes
    // in one piece (`Chunk`), not a sequence bincode reads byte by byte;
    // this pins that layout.
    let frame = encode(&ServerFrame::ResponsePart(part())).expect("encode a part");
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        13, 0, 0, 0,                            // body length
        4,                                      // ServerFrame::ResponsePart
        251, 0x2c, 0x01,                        // id 300
        252, 0x70, 0x11, 0x01, 0x00,            // total 70,000
        3, 0, 1, 255,                           // bytes: length, then the bytes
    ];
    assert_eq!(frame, expected);
}

// ---- bad frames are errors, never panics or huge allocations ------------------

#[tokio::test]
async fn length_over_the_limit_is_refused_before_the_body() {
    for len in [MAX_FRAME as u32 + 1, u32::MAX] {
        let prefix = len.to_le_bytes();
        let err = read_frame(&mut &prefix[..])
            .await
            .expect_err("a frame over the limit");
        assert!(
            matches!(err, ProtoError::TooLarge { len: l } if l == len as usize),
            "{err:?}"
        );
        assert!(!err.is_disconnect());
    }
}

#[tokio::test]
async fn length_at_the_limit_waits_for_its_body() {
    // Not refused: the stream simply ends before the announced body.
    let prefix = (MAX_FRAME as u32).to_le_bytes();
    let err = read_frame(&mut &prefix[..])
        .await
        .expect_err("no body follows");
    assert!(err.is_disconnect(), "{err:?}");
}

#[tokio::test]
async fn truncated_frame_is_an_error() {
    let mut bytes = 100u32.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[7; 10]);
    let err = read_frame(&mut &bytes[..])
        .await
        .expect_err("10 of 100 bytes");
    assert!(
        matches!(&err, ProtoError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof),
        "{err:?}"
    );
    assert!(err.is_disconnect());
}

#[tokio::test]
async fn truncated_prefix_is_an_error_but_no_bytes_is_a_clean_end() {
    let err = read_frame(&mut &[1u8, 0][..])
        .await
        .expect_err("half a prefix");
    assert!(err.is_disconnect(), "{err:?}");
    let end = read_frame(&mut &[][..]).await.expect("a clean end");
    assert_eq!(end, None);
}

#[tokio::test]
async fn empty_body_is_read_but_does_not_decode() {
    let body = read_frame(&mut &[0u8, 0, 0, 0][..])
        .await
        .expect("an empty frame")
        .expect("not the end");
    assert!(body.is_empty());
    let err = decode::<ClientFrame>(&body).expect_err("no message");
    assert!(matches!(err, ProtoError::Decode(_)), "{err:?}");
}

#[test]
fn trailing_bytes_after_a_message_are_an_error() {
    let frame = encode(&ClientFrame::Hello(hello())).expect("encode hello");
    let mut body = frame[4..].to_vec();
    body.push(0);
    let err = decode::<ClientFrame>(&body).expect_err("one byte too many");
    assert!(matches!(err, ProtoError::Decode(_)), "{err:?}");
}

#[test]
fn unknown_variant_is_an_error() {
    // ClientFrame has two variants; 2 is what a future protocol might send.
    let err = decode::<ClientFrame>(&[2]).expect_err("variant 2");
    assert!(matches!(err, ProtoError::Decode(_)), "{err:?}");
}

fn search(query_len: usize) -> ClientFrame {
    ClientFrame::Request(Request {
        id: 1,
        op: Op::Graph {
            op: GraphOp::SearchNodes {
                query: "x".repeat(query_len),
            },
            request_id: Some(7),
        },
    })
}

#[test]
fn encode_refuses_a_body_over_the_limit() {
    let err = encode(&search(17 << 20)).expect_err("a 17 MiB query");
    assert!(
        matches!(err, ProtoError::TooLarge { len } if len > 17 << 20),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_round_trips() {
    // The query's own length prefix is 5 bytes for any length in 64 KiB..4 GiB,
    // so the overhead measured at 1 MiB holds at 16 MiB too.
    let overhead = encode(&search(1 << 20)).expect("1 MiB query").len() - 4 - (1 << 20);
    let at_limit = search(MAX_FRAME - overhead);
    let frame = encode(&at_limit).expect("a body of exactly MAX_FRAME");
    assert_eq!(frame.len(), 4 + MAX_FRAME);
    assert_round_trips(&at_limit).await;
    let body = read_frame(&mut &frame[..])
        .await
        .expect("read the frame")
        .expect("a frame");
    assert!(body.capacity() <= MAX_FRAME, "{}", body.capacity());

    let err = encode(&search(MAX_FRAME - overhead + 1)).expect_err("one byte over");
    assert!(
        matches!(err, ProtoError::TooLarge { len } if len == MAX_FRAME + 1),
        "{err:?}"
    );
}

#[tokio::test]
async fn many_small_strings_decode_although_bincode_charges_8_bytes_each() {
    // 3 Mi empty names: a 3 MiB body that bincode charges 24 MiB, more than
    // MAX_FRAME, for their lengths. `DECODE_LIMIT` exists for bodies like it.
    let names = ClientFrame::Request(Request {
        id: u64::MAX,
        op: Op::Graph {
            op: GraphOp::DeleteEntities(vec![String::new(); 3 << 20]),
            request_id: Some(u128::MAX),
        },
    });
    assert_round_trips(&names).await;
}

#[test]
fn errors_read_well() {
    let err = ProtoError::TooLarge { len: MAX_FRAME + 1 };
    assert_eq!(
        err.to_string(),
        "frame of 16777217 bytes is over the limit of 16777216 bytes"
    );
    let broken = ProtoError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
    assert!(broken.is_disconnect());
    let other = ProtoError::from(std::io::Error::other("permission denied"));
    assert!(!other.is_disconnect());
    assert!(!ProtoError::Decode("bad".into()).is_disconnect());
}

fn read_all_frames(bytes: &[u8]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a test runtime");
    rt.block_on(async {
        let mut reader = bytes;
        // Each Ok(Some) consumes at least the 4-byte prefix, so this ends.
        while let Ok(Some(body)) = read_frame(&mut reader).await {
            assert!(body.len() <= MAX_FRAME);
            let _ = decode::<ClientFrame>(&body);
            let _ = decode::<ServerFrame>(&body);
        }
    });
}

proptest! {
    #[test]
    fn garbage_never_panics(bytes in vec(any::<u8>(), 0..512)) {
        let _ = decode::<ClientFrame>(&bytes);
        let _ = decode::<ServerFrame>(&bytes);
    }

    #[test]
    fn garbage_streams_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        read_all_frames(&bytes);
    }

    /// Plausible lengths in front of garbage, so bodies reach the decoder.
    #[test]
    fn framed_garbage_never_panics(
        frames in vec((0u32..600, vec(any::<u8>(), 0..512)), 1..4),
    ) {
        let mut stream = Vec::new();
        for (len, body) in frames {
            stream.extend_from_slice(&len.to_le_bytes());
            stream.extend_from_slice(&body);
        }
        read_all_frames(&stream);
    }

    #[test]
    fn any_hello_round_trips(
        protocol in any::<u32>(),
        pid in any::<u32>(),
        version in ".{0,20}",
        cwd in ".{0,200}",
        client in "[a-z]{0,10}",
    ) {
        let hello = ClientFrame::Hello(Hello { protocol, version, pid, cwd, client });
        let frame = encode(&hello).expect("encode hello");
        let back: ClientFrame = decode(&frame[4..]).expect("decode hello");
        prop_assert_eq!(back, hello);
    }
}
