//! Replies in parts: cut by `Outgoing`, put back by `Reassembly`, refused
//! by either side's limit without losing step.

use super::*;

/// A read_graph answer of about `bytes` bytes, in observations of 60,000.
fn big_graph(id: u64, bytes: usize) -> Response {
    let text = "x".repeat(60_000);
    let entities = (0..bytes / 60_000 + 1)
        .map(|i| Entity::new(format!("e{i}"), "thing", [text.clone()]))
        .collect();
    Response {
        id,
        result: Ok(Reply::Graph(Outcome::Graph(Graph {
            entities,
            relations: vec![relation()],
        }))),
    }
}

/// The frames `Outgoing` makes for `response`, decoded.
fn frames_of(response: Response, limit: usize) -> Vec<ServerFrame> {
    Outgoing::encode(response, limit)
        .expect("encode the response")
        .frames()
        .map(|frame| {
            let frame = frame.expect("encode a frame");
            assert!(frame.len() - 4 <= MAX_FRAME);
            decode(&frame[4..]).expect("decode a frame")
        })
        .collect()
}

fn parts_of(frames: Vec<ServerFrame>) -> Vec<ResponsePart> {
    frames
        .into_iter()
        .map(|f| match f {
            ServerFrame::ResponsePart(part) => part,
            other => panic!("expected a part, got {other:?}"),
        })
        .collect()
}

#[test]
fn a_small_response_is_one_ordinary_frame() {
    let response = Response {
        id: 5,
        result: Ok(Reply::Subscribed),
    };
    let frames = frames_of(response.clone(), MAX_REPLY);
    assert_eq!(frames, vec![ServerFrame::Response(response)]);
}

#[test]
fn a_response_over_one_frame_is_cut_and_put_back_together() {
    let response = big_graph(7, MAX_FRAME + MAX_FRAME / 8);
    let parts = parts_of(frames_of(response.clone(), MAX_REPLY));
    assert!(
        parts.len() > MAX_FRAME / PART_BYTES,
        "{} parts",
        parts.len()
    );
    assert!(parts
        .iter()
        .all(|p| p.id == 7 && p.bytes.0.len() <= PART_BYTES));
    let mut assembly = Reassembly::new(MAX_REPLY);
    let last = parts.len() - 1;
    for (i, part) in parts.into_iter().enumerate() {
        let assembled = assembly.push(part).expect("a part in step");
        if i < last {
            assert_eq!(assembled, Assembled::Pending);
        } else {
            assert_eq!(assembled, Assembled::Done(Box::new(response.clone())));
        }
    }
}

#[test]
fn parts_of_two_replies_may_interleave() {
    let (a, b) = (big_graph(1, MAX_FRAME + 1), big_graph(2, MAX_FRAME + 1));
    let (pa, pb) = (
        parts_of(frames_of(a.clone(), MAX_REPLY)),
        parts_of(frames_of(b.clone(), MAX_REPLY)),
    );
    let mut assembly = Reassembly::new(MAX_REPLY);
    let mut done = Vec::new();
    for (x, y) in pa.into_iter().zip(pb) {
        for part in [x, y] {
            if let Assembled::Done(r) = assembly.push(part).expect("in step") {
                done.push(*r);
            }
        }
    }
    assert_eq!(done, vec![a, b]);
}

#[test]
fn the_daemon_refuses_a_reply_over_its_limit_without_holding_it() {
    let err = Outgoing::encode(big_graph(3, 2 << 20), 1 << 20).expect_err("over 1 MiB");
    assert!(
        matches!(err, ProtoError::ReplyTooLarge { limit } if limit == 1 << 20),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the reply is over the limit of 1048576 bytes for one reply"
    );
}

#[test]
fn the_client_refuses_at_the_first_part_and_skips_the_rest() {
    let parts = parts_of(frames_of(big_graph(9, MAX_FRAME + 1), MAX_REPLY));
    let total = parts[0].total;
    let mut assembly = Reassembly::new(MAX_FRAME);
    let mut answers = parts
        .into_iter()
        .map(|p| assembly.push(p).expect("in step"));
    assert_eq!(
        answers.next(),
        Some(Assembled::TooLarge {
            id: 9,
            total,
            limit: MAX_FRAME
        })
    );
    assert!(answers.all(|a| a == Assembled::Pending));
    // The connection stays in step: the next reply is read as usual.
    let small = Response {
        id: 10,
        result: Ok(Reply::Unsubscribed),
    };
    let mut body = encode(&ServerFrame::Response(small.clone())).expect("encode");
    body.drain(..4);
    let part = ResponsePart {
        id: 10,
        total: body.len() as u64,
        bytes: Chunk(body),
    };
    assert_eq!(
        assembly.push(part).expect("in step"),
        Assembled::Done(Box::new(small))
    );
}

#[test]
fn parts_out_of_step_are_errors() {
    let part = |total: u64, bytes: Vec<u8>| ResponsePart {
        id: 1,
        total,
        bytes: Chunk(bytes),
    };
    let mut assembly = Reassembly::new(MAX_REPLY);
    assert!(assembly.push(part(4, vec![])).is_err(), "an empty part");
    let mut assembly = Reassembly::new(MAX_REPLY);
    assert!(
        assembly.push(part(4, vec![1; 5])).is_err(),
        "more than announced"
    );
    let mut assembly = Reassembly::new(MAX_REPLY);
    assert_eq!(
        assembly.push(part(4, vec![1; 2])).ok(),
        Some(Assembled::Pending)
    );
    assert!(
        assembly.push(part(5, vec![1; 2])).is_err(),
        "a changed total"
    );
    let mut assembly = Reassembly::new(MAX_REPLY);
    let err = assembly
        .push(part(3, vec![1, 2, 3]))
        .expect_err("not a response");
    assert!(matches!(err, ProtoError::Decode(_)), "{err:?}");
}

#[test]
fn parts_of_a_response_to_another_id_are_an_error() {
    let mut body = encode(&ServerFrame::Response(Response {
        id: 2,
        result: Ok(Reply::Subscribed),
    }))
    .expect("encode");
    body.drain(..4);
    let mut assembly = Reassembly::new(MAX_REPLY);
    let part = ResponsePart {
        id: 1,
        total: body.len() as u64,
        bytes: Chunk(body),
    };
    assert!(assembly.push(part).is_err());
}
