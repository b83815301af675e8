//! Cursors: the opaque strings with which an agent asks for the next page.
//!
//! A cursor is bound to the tool and the arguments that define its result
//! (the query, names, filters; not `limit` or `includeObservations`, which
//! only shape a page), so one given to another tool or another query is
//! refused with a message that says so, instead of paging through the wrong
//! answer. Its bytes are:
//!
//! | bytes | what |
//! | --- | --- |
//! | 1 | format version ([`VERSION`]) |
//! | 1 | the tool ([`Tool`]) |
//! | 8 | FNV-1a 64 of the defining arguments, little-endian |
//! | rest | the position: unsigned LEB128 integers, as many as the tool needs |
//!
//! written in unpadded base64url. Positions are entity or relation ids
//! (stable, see the store's paging) or a ranking and an offset
//! (`search_memory`); a cursor is at most a few dozen characters, far below
//! the contract's 512. FNV-1a is used because it is the same in every build
//! and on every machine, so a cursor outlives a shim restart.

use std::fmt;

/// The format of the bytes; a cursor of another version is refused.
const VERSION: u8 = 1;
/// The contract's bound on a cursor's length.
pub const MAX_CHARS: usize = 512;

/// The tools that page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    ReadGraph = 1,
    SearchNodes = 2,
    OpenNodes = 3,
    SearchMemory = 4,
    GetNeighbors = 5,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::ReadGraph => "read_graph",
            Tool::SearchNodes => "search_nodes",
            Tool::OpenNodes => "open_nodes",
            Tool::SearchMemory => "search_memory",
            Tool::GetNeighbors => "get_neighbors",
        }
    }

    fn from_byte(b: u8) -> Option<Tool> {
        Some(match b {
            1 => Tool::ReadGraph,
            2 => Tool::SearchNodes,
            3 => Tool::OpenNodes,
            4 => Tool::SearchMemory,
            5 => Tool::GetNeighbors,
            _ => return None,
        })
    }
}

/// What a cursor belongs to: a tool and the fingerprint of its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub tool: Tool,
    fingerprint: u64,
}

impl Scope {
    /// The scope of `tool` called with these defining arguments, each given
    /// as text (the order matters, and so does where each one ends).
    pub fn new<'a>(tool: Tool, parts: impl IntoIterator<Item = &'a str>) -> Scope {
        let mut hash = Fnv::new();
        hash.write(&[tool as u8]);
        for part in parts {
            // The length first, so ("ab", "c") and ("a", "bc") differ.
            hash.write(&(part.len() as u64).to_le_bytes());
            hash.write(part.as_bytes());
        }
        Scope {
            tool,
            fingerprint: hash.0,
        }
    }

    /// A cursor at `position`.
    pub fn encode(&self, position: &[u64]) -> String {
        let mut bytes = vec![VERSION, self.tool as u8];
        bytes.extend_from_slice(&self.fingerprint.to_le_bytes());
        for &n in position {
            leb128(&mut bytes, n);
        }
        base64url(&bytes)
    }

    /// The position of a cursor made by [`Scope::encode`] for this scope,
    /// with exactly `fields` integers.
    pub fn decode(&self, cursor: &str, fields: usize) -> Result<Vec<u64>, CursorError> {
        if cursor.chars().count() > MAX_CHARS {
            return Err(CursorError::Malformed);
        }
        let bytes = from_base64url(cursor).ok_or(CursorError::Malformed)?;
        if bytes.len() < 10 || bytes[0] != VERSION {
            return Err(CursorError::Malformed);
        }
        let tool = Tool::from_byte(bytes[1]).ok_or(CursorError::Malformed)?;
        if tool != self.tool {
            return Err(CursorError::OtherTool {
                made_by: tool,
                given_to: self.tool,
            });
        }
        let mut fingerprint = [0u8; 8];
        fingerprint.copy_from_slice(&bytes[2..10]);
        if u64::from_le_bytes(fingerprint) != self.fingerprint {
            return Err(CursorError::OtherArguments { tool });
        }
        let mut rest = &bytes[10..];
        let mut position = Vec::with_capacity(fields);
        while !rest.is_empty() {
            let (n, used) = read_leb128(rest).ok_or(CursorError::Malformed)?;
            position.push(n);
            rest = &rest[used..];
        }
        if position.len() != fields {
            return Err(CursorError::Malformed);
        }
        Ok(position)
    }
}

/// Why a cursor was refused. The messages are written for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorError {
    Malformed,
    OtherTool { made_by: Tool, given_to: Tool },
    OtherArguments { tool: Tool },
}

impl fmt::Display for CursorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CursorError::Malformed => write!(
                f,
                "is not a cursor from this server; pass the nextCursor of an earlier answer unchanged"
            ),
            CursorError::OtherTool { made_by, given_to } => write!(
                f,
                "belongs to {}, not {}; pass it to the tool that returned it",
                made_by.name(),
                given_to.name()
            ),
            CursorError::OtherArguments { tool } => write!(
                f,
                "belongs to another {} call; repeat the arguments of the call that returned it \
                 (only limit may change), or leave the cursor out to start over",
                tool.name()
            ),
        }
    }
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn leb128(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        n |= part.checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((n, i + 1));
        }
    }
    None
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize] as char);
        }
    }
    out
}

fn from_base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
