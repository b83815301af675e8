//! Lenient readings of a raw JSON-RPC line, for what serde_json cannot take
//! as it is.
//!
//! - [`find_id`]: the top-level `"id"` of a line that is not valid JSON, or
//!   of the first and last bytes of a line too long to read whole, so that
//!   the refusal names the request it refuses. A client cannot match an
//!   answer whose id is `null`, and waits for its timeout instead.
//! - [`repair_surrogates`]: `JSON.stringify` writes a lone UTF-16 surrogate
//!   (a string cut inside an emoji) as an escape such as `\ud83d`.
//!   JavaScript servers accept it; serde_json refuses the whole line. Each
//!   unpaired surrogate escape becomes `\ufffd`, U+FFFD, before parsing.
//!
//! Both work on bytes and never fail: they either find something or leave
//! the line to the strict parser's verdict.

use std::borrow::Cow;

use serde_json::Value;

/// The top-level `"id"` of a JSON object, if one can be seen: first read
/// forwards from the start of `head`, then backwards from the end of `tail`
/// (clients differ in where they put `id`: the TypeScript SDK writes it
/// last). For a whole line, pass it as both. Only a string or a number
/// counts, as those are the ids JSON-RPC allows besides `null`.
pub fn find_id(head: &[u8], tail: &[u8]) -> Option<Value> {
    id_from_start(head).or_else(|| id_from_end(tail))
}

/// Scans forwards, tracking strings and nesting; the first `"id"` key at
/// depth one wins.
fn id_from_start(text: &[u8]) -> Option<Value> {
    let mut i = skip_space(text, 0);
    if text.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut depth = 1usize;
    while let Some(&byte) = text.get(i) {
        match byte {
            b'"' => {
                let end = string_end(text, i)?;
                if depth == 1 {
                    let colon = skip_space(text, end);
                    if text.get(colon) == Some(&b':') && &text[i..end] == b"\"id\"" {
                        let start = skip_space(text, colon + 1);
                        return scalar(&text[start..], Direction::Forwards);
                    }
                }
                i = end;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Scans backwards from the closing brace. From the end of a line the state
/// is known exactly (outside any string), so this is as precise as the
/// forward scan, and it needs only the line's last bytes.
fn id_from_end(text: &[u8]) -> Option<Value> {
    let mut i = skip_space_back(text, text.len());
    if i == 0 || text[i - 1] != b'}' {
        return None;
    }
    i -= 1;
    let mut depth = 1usize;
    // Where the value of the depth-one member being crossed ends.
    let mut value_end = i;
    while i > 0 {
        match text[i - 1] {
            b'"' => i = string_start(text, i - 1)?,
            b'}' | b']' => {
                depth += 1;
                i -= 1;
            }
            b'{' | b'[' => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
                i -= 1;
            }
            b',' if depth == 1 => {
                i -= 1;
                value_end = i;
            }
            b':' if depth == 1 => {
                let colon = i - 1;
                let key_end = skip_space_back(text, colon);
                if key_end > 0 && text[key_end - 1] == b'"' {
                    let key_start = string_start(text, key_end - 1)?;
                    if &text[key_start..key_end] == b"\"id\"" {
                        let value = &text[colon + 1..value_end];
                        return scalar(value, Direction::Backwards);
                    }
                }
                i = colon;
            }
            _ => i -= 1,
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    /// `text` starts with the value; the member may go on after it.
    Forwards,
    /// `text` is the value alone, perhaps with spaces around it.
    Backwards,
}

/// A string or number value at the start of `text`.
fn scalar(text: &[u8], direction: Direction) -> Option<Value> {
    let start = skip_space(text, 0);
    let text = &text[start..];
    let token = match text.first()? {
        b'"' => &text[..string_end(text, 0)?],
        _ => {
            let len = text
                .iter()
                .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .unwrap_or(text.len());
            &text[..len]
        }
    };
    let after = skip_space(text, token.len());
    let ends_well = match direction {
        // A string ends itself; a number only where the member does, since a
        // glimpse may cut `1234` short to `12`.
        Direction::Forwards => match text.get(after) {
            Some(b',' | b'}') => true,
            None => token.first() == Some(&b'"'),
            Some(_) => false,
        },
        Direction::Backwards => after == text.len(),
    };
    if !ends_well {
        return None;
    }
    let value: Value = serde_json::from_slice(&repair_surrogates(token)).ok()?;
    (value.is_string() || value.is_number()).then_some(value)
}

/// The index just past the string that opens at `open`.
fn string_end(text: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match text.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The index of the quote that opens the string closed at `close`: the
/// nearest quote before it that is not escaped, i.e. not preceded by an odd
/// number of backslashes.
fn string_start(text: &[u8], close: usize) -> Option<usize> {
    let mut i = close;
    loop {
        i = text[..i].iter().rposition(|&b| b == b'"')?;
        let backslashes = text[..i].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(i);
        }
    }
}

fn skip_space(text: &[u8], mut i: usize) -> usize {
    while text.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn skip_space_back(text: &[u8], mut i: usize) -> usize {
    while i > 0 && text[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    i
}

/// The line with every unpaired `\uD800`–`\uDFFF` escape inside a string
/// replaced by `\ufffd`. A high surrogate escape followed by a low one is a
/// valid pair and stays. The replacement has the same length, so a parse
/// error found afterwards points at the same byte as in the raw line.
pub fn repair_surrogates(text: &[u8]) -> Cow<'_, [u8]> {
    let mut repaired: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while let Some(&byte) = text.get(i) {
        if !in_string {
            in_string = byte == b'"';
            i += 1;
            continue;
        }
        match byte {
            b'"' => {
                in_string = false;
                i += 1;
            }
            b'\\' => match unicode_escape(text, i) {
                Some(unit) if is_high_surrogate(unit) => {
                    if unicode_escape(text, i + 6).is_some_and(is_low_surrogate) {
                        i += 12;
                    } else {
                        let out = repaired.get_or_insert_with(|| Vec::with_capacity(text.len()));
                        out.extend_from_slice(&text[copied..i]);
                        out.extend_from_slice(b"\\ufffd");
                        i += 6;
                        copied = i;
                    }
                }
                Some(unit) if is_low_surrogate(unit) => {
                    let out = repaired.get_or_insert_with(|| Vec::with_capacity(text.len()));
                    out.extend_from_slice(&text[copied..i]);
                    out.extend_from_slice(b"\\ufffd");
                    i += 6;
                    copied = i;
                }
                // Any other escape is two bytes, or six for `\uXXXX`; skipping
                // two is enough, since the rest of `\uXXXX` is hex digits.
                _ => i += 2,
            },
            _ => i += 1,
        }
    }
    match repaired {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.extend_from_slice(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The code unit of a `\uXXXX` escape starting at `at`.
fn unicode_escape(text: &[u8], at: usize) -> Option<u16> {
    let escape = text.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let digits = std::str::from_utf8(&escape[2..]).ok()?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

fn is_high_surrogate(unit: u16) -> bool {
    (0xD800..=0xDBFF).contains(&unit)
}

fn is_low_surrogate(unit: u16) -> bool {
    (0xDC00..=0xDFFF).contains(&unit)
}

#[cfg(test)]
mod tests;
