//! Reading the servers' answers: a call's time and result, the tool's own
//! errors, and the counts in a result, whatever its form (the seed sends
//! no `structuredContent`, only JSON text).

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::common::Session;

/// A tool call's result, or the tool's own error as an `Err`.
pub fn call(session: &mut Session, tool: &str, arguments: Value) -> Result<(Duration, Value)> {
    let started = Instant::now();
    let result = session.call_tool(tool, arguments)?;
    let arrived = session.last_reply_at().unwrap_or_else(Instant::now);
    tool_ok(&result).with_context(|| format!("{tool} answered isError"))?;
    Ok((arrived.saturating_duration_since(started), result))
}

pub fn tool_ok(result: &Value) -> Result<()> {
    if result["isError"] == json!(true) {
        let text = result["content"][0]["text"].as_str().unwrap_or("(no text)");
        bail!("{}", shorten(text, 300));
    }
    Ok(())
}

pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The payload of a result: `structuredContent` when there is one (the
/// seed sends none), else the JSON of its text.
fn payload(result: &Value) -> Result<Value> {
    if let Some(structured) = result.get("structuredContent") {
        return Ok(structured.clone());
    }
    let text = result["content"][0]["text"]
        .as_str()
        .context("a result with neither structuredContent nor text")?;
    serde_json::from_str(text)
        .with_context(|| format!("its text is not JSON: {}", shorten(text, 200)))
}

/// The entities and relations a graph result (read, search, open) holds.
pub fn counts(result: &Value) -> Result<(usize, usize)> {
    let payload = payload(result)?;
    let list = |key: &str| payload.get(key).and_then(Value::as_array).map(Vec::len);
    let entities = list("entities").context("no entities in the result")?;
    Ok((entities, list("relations").unwrap_or(0)))
}

/// How many items a create call made: its `structuredContent[key]`, or
/// the array its text holds (the seed's form).
pub fn created(result: &Value, key: &str) -> Result<usize> {
    let payload = payload(result)?;
    payload
        .as_array()
        .or_else(|| payload.get(key).and_then(Value::as_array))
        .map(Vec::len)
        .with_context(|| format!("no {key} in the result"))
}

pub fn text_len(result: &Value) -> usize {
    result["content"][0]["text"].as_str().map_or(0, str::len)
}
