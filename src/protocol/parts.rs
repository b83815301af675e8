//! Replies larger than one frame: the daemon cuts the encoded `Response`
//! into [`ResponsePart`]s, the client glues them back together.
//!
//! A `Response` whose frame body fits in [`MAX_FRAME`] travels as one frame,
//! as always. A bigger one is encoded once (as the body of a
//! `ServerFrame::Response`), and that body is sent as consecutive parts of
//! at most [`PART_BYTES`] bytes, each naming the request and the body's
//! total length. The client collects the parts of each id in order and
//! decodes the body once the last byte arrived.
//!
//! # Limits
//! - Every part is an ordinary frame, so [`MAX_FRAME`] stays the limit of
//!   what one read allocates.
//! - One reply totals at most [`MAX_REPLY`] bytes. The daemon stops encoding
//!   as soon as a reply passes its limit and answers an error naming it; the
//!   client refuses a reply whose announced total is over its own limit at
//!   its first part, answers the caller at once, and skips the rest of the
//!   parts without keeping them.
//! - Parts are small next to a frame, and the daemon queues them one by one
//!   with every other frame of the connection, so a big reply delays the
//!   answers behind it by about one part, not by the whole reply.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{decode_assembled, encode, ProtoError, Response, ServerFrame, MAX_FRAME, PREFIX};

/// The most bytes one reply may total, over all its parts: a bound on what
/// a client assembles for one request. Above anything a working memory
/// needs to send at once (an 18 MB `read_graph` is large), and small enough
/// to be held twice (the assembled bytes, then the decoded reply).
pub const MAX_REPLY: usize = 1 << 30;

/// How much of a reply one part carries. Small next to [`MAX_FRAME`], so
/// that the frames of other requests, queued between parts, wait little.
pub const PART_BYTES: usize = 1 << 20;

/// One piece of a reply too large for one frame: bytes `bytes` of the body
/// of a `ServerFrame::Response` with this `id`, whose body is `total` bytes
/// long. Parts of one reply arrive in order; parts of different replies may
/// interleave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsePart {
    pub id: u64,
    pub total: u64,
    pub bytes: Chunk,
}

/// Raw bytes, encoded by bincode as a length and the bytes themselves (the
/// same wire format as a `Vec<u8>`, but read and written in one piece
/// instead of byte by byte).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk(pub Vec<u8>);

impl Serialize for Chunk {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Chunk {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Chunk, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Chunk;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Chunk, E> {
                Ok(Chunk(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Chunk, E> {
                Ok(Chunk(v))
            }
        }
        d.deserialize_byte_buf(Visitor)
    }
}

/// An encoded response, ready to be written as one or more frames.
#[derive(Debug)]
pub enum Outgoing {
    /// A whole frame, prefix included.
    Whole(Vec<u8>),
    /// The body of a `ServerFrame::Response` too large for one frame.
    Parts { id: u64, body: Vec<u8> },
}

impl Outgoing {
    /// Encodes `response`, refusing it with [`ProtoError::ReplyTooLarge`]
    /// as soon as its body passes `limit` bytes (at most [`MAX_REPLY`]), so
    /// an oversized reply is never held whole. The response is consumed and
    /// dropped here: from now on only its bytes are held.
    pub fn encode(response: Response, limit: usize) -> Result<Outgoing, ProtoError> {
        let id = response.id;
        let limit = limit.min(MAX_REPLY);
        let frame = super::encode_unchecked(&ServerFrame::Response(response), limit)?;
        if frame.len() - PREFIX <= MAX_FRAME {
            return Ok(Outgoing::Whole(frame));
        }
        let mut body = frame;
        body.drain(..PREFIX);
        Ok(Outgoing::Parts { id, body })
    }

    /// The encoded size of the response.
    pub fn encoded_len(&self) -> usize {
        match self {
            Outgoing::Whole(frame) => frame.len(),
            Outgoing::Parts { body, .. } => body.len(),
        }
    }

    /// The frames to write, made one at a time as they are asked for.
    pub fn frames(self) -> impl Iterator<Item = Result<Vec<u8>, ProtoError>> {
        let (whole, id, body) = match self {
            Outgoing::Whole(frame) => (Some(frame), 0, Vec::new()),
            Outgoing::Parts { id, body } => (None, id, body),
        };
        let total = body.len() as u64;
        let mut whole = whole;
        let mut offset = 0;
        std::iter::from_fn(move || {
            if let Some(frame) = whole.take() {
                return Some(Ok(frame));
            }
            if offset >= body.len() {
                return None;
            }
            let end = (offset + PART_BYTES).min(body.len());
            let part = ServerFrame::ResponsePart(ResponsePart {
                id,
                total,
                bytes: Chunk(body[offset..end].to_vec()),
            });
            offset = end;
            Some(encode(&part))
        })
    }
}

/// What one more part completed.
#[derive(Debug, PartialEq, Eq)]
pub enum Assembled {
    /// More parts are due.
    Pending,
    /// The last part arrived: the whole response.
    Done(Box<Response>),
    /// The first part announced a reply over the limit. Its parts are
    /// counted and dropped from now on; the caller should be told at once.
    TooLarge { id: u64, total: u64, limit: usize },
}

/// The replies being collected on one connection, by request id.
#[derive(Debug)]
pub struct Reassembly {
    limit: usize,
    partial: HashMap<u64, Partial>,
}

#[derive(Debug)]
struct Partial {
    total: u64,
    received: u64,
    /// `None` for a reply refused by the limit: its bytes are not kept.
    body: Option<Vec<u8>>,
}

impl Reassembly {
    /// Collects replies of at most `limit` bytes (at most [`MAX_REPLY`]).
    pub fn new(limit: usize) -> Reassembly {
        Reassembly {
            limit: limit.min(MAX_REPLY),
            partial: HashMap::new(),
        }
    }

    /// Adds a part. An error means the parts are out of step (more bytes
    /// than announced, a changed total, an empty part, a body that is not a
    /// response to this id): the connection cannot be trusted any more.
    pub fn push(&mut self, part: ResponsePart) -> Result<Assembled, ProtoError> {
        let ResponsePart { id, total, bytes } = part;
        let bytes = bytes.0;
        if bytes.is_empty() {
            return Err(ProtoError::Decode(format!("empty part of reply {id}")));
        }
        let mut refused = false;
        let partial = self.partial.entry(id).or_insert_with(|| {
            let fits = usize::try_from(total).is_ok_and(|t| t <= self.limit);
            refused = !fits;
            Partial {
                total,
                received: 0,
                body: fits.then(Vec::new),
            }
        });
        if partial.total != total {
            return Err(ProtoError::Decode(format!(
                "reply {id} announced {} bytes, then {total}",
                partial.total
            )));
        }
        partial.received += bytes.len() as u64;
        if partial.received > total {
            return Err(ProtoError::Decode(format!(
                "reply {id} sent more than the {total} bytes it announced"
            )));
        }
        if let Some(body) = partial.body.as_mut() {
            grow(body, bytes.len(), total);
            body.extend_from_slice(&bytes);
        }
        let complete = partial.received == total;
        let result = if refused {
            Assembled::TooLarge {
                id,
                total,
                limit: self.limit,
            }
        } else {
            Assembled::Pending
        };
        if !complete {
            return Ok(result);
        }
        let Some(Partial { body, .. }) = self.partial.remove(&id) else {
            return Ok(result);
        };
        let Some(body) = body else {
            return Ok(result);
        };
        match decode_assembled::<ServerFrame>(&body)? {
            ServerFrame::Response(response) if response.id == id => {
                Ok(Assembled::Done(Box::new(response)))
            }
            _ => Err(ProtoError::Decode(format!(
                "the parts of reply {id} are not a response to it"
            ))),
        }
    }
}

/// Grows `body` for `more` bytes geometrically, as `Vec` does, but never
/// past `total`: capacity is claimed only for bytes that arrived or are
/// announced, and at most once over.
fn grow(body: &mut Vec<u8>, more: usize, total: u64) {
    let needed = body.len() + more;
    if needed <= body.capacity() {
        return;
    }
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let target = needed.max(body.capacity().saturating_mul(2).min(total));
    body.reserve_exact(target - body.len());
}

/// Replies from this size on leave enough freed memory behind them (the
/// rows or the rendering, the encoding, the parts) to be worth giving back.
pub const LARGE_REPLY: usize = 1 << 20;

/// Gives memory the allocator holds free back to the system. After a large
/// reply glibc would otherwise keep its megabytes for the life of the
/// process, daemon and shim alike; elsewhere this does nothing.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it only returns free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
