//! The three history tools of EXTENSIONS.md on the MCP side: their
//! arguments (`memory_history`, `undo`, `supersede_observation`) and how
//! their answers render. The text of each answer is its structured content,
//! pretty-printed, as for the official writes.

use serde_json::{json, Map, Value};

use super::args::ArgError;
use super::render::{pretty, rfc3339, Rendered};
use crate::model::{ChangeInfo, GraphOp, HistoryPage, HistoryQuery, Undone};

/// `memory_history`'s page size when `limit` is absent.
pub const DEFAULT_HISTORY: u32 = 20;

/// What `memory_history` cursors start with; the rest is a change id.
const CURSOR_PREFIX: &str = "h";

/// Parses the arguments of one of the three tools.
pub fn parse(tool: &str, map: &Map<String, Value>) -> Result<GraphOp, ArgError> {
    known(map, allowed(tool))?;
    Ok(match tool {
        "memory_history" => GraphOp::History(HistoryQuery {
            name: optional_string(map, "name")?,
            since: match optional_string(map, "since")? {
                Some(text) => Some(parse_rfc3339(&text).ok_or_else(|| ArgError {
                    path: "since".into(),
                    problem: format!(
                        "expected an RFC 3339 time such as 2026-12-01T10:00:00Z, received {text:?}"
                    ),
                })?),
                None => None,
            },
            project: None,
            limit: match map.get("limit") {
                None => DEFAULT_HISTORY,
                Some(v) => integer(v, "limit")?.clamp(0, i64::from(u32::MAX)) as u32,
            },
            before: match optional_string(map, "cursor")? {
                Some(cursor) => Some(
                    cursor
                        .strip_prefix(CURSOR_PREFIX)
                        .and_then(|id| id.parse::<i64>().ok())
                        .ok_or_else(|| ArgError {
                            path: "cursor".into(),
                            problem: "this cursor was not made by memory_history".into(),
                        })?,
                ),
                None => None,
            },
        }),
        "undo" => GraphOp::Undo {
            change_id: match map.get("changeId") {
                Some(v) => integer(v, "changeId")?,
                None => return Err(required("changeId")),
            },
            force: match map.get("force") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => return Err(mismatch("force", "boolean", other)),
            },
        },
        _ => GraphOp::SupersedeObservation {
            entity_name: required_string(map, "entityName")?,
            old: required_string(map, "old")?,
            new: required_string(map, "new")?,
        },
    })
}

fn allowed(tool: &str) -> &'static [&'static str] {
    match tool {
        "memory_history" => &["name", "since", "limit", "cursor"],
        "undo" => &["changeId", "force"],
        _ => &["entityName", "old", "new"],
    }
}

/// The schemas say `additionalProperties: false`; so does the parser.
fn known(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), ArgError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(ArgError {
            path: key.clone(),
            problem: "is not an argument of this tool".into(),
        }),
        None => Ok(()),
    }
}

fn required(key: &str) -> ArgError {
    ArgError {
        path: key.into(),
        problem: "Required".into(),
    }
}

fn mismatch(key: &str, expected: &str, got: &Value) -> ArgError {
    ArgError {
        path: key.into(),
        problem: format!(
            "expected {expected}, received {}",
            super::args::kind(Some(got))
        ),
    }
}

fn integer(v: &Value, key: &str) -> Result<i64, ArgError> {
    match v.as_i64() {
        Some(n) => Ok(n),
        None => match v.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(f as i64),
            _ => Err(mismatch(key, "integer", v)),
        },
    }
}

fn required_string(map: &Map<String, Value>, key: &str) -> Result<String, ArgError> {
    match map.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(mismatch(key, "string", other)),
        None => Err(required(key)),
    }
}

fn optional_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, ArgError> {
    match map.get(key) {
        None => Ok(None),
        Some(_) => required_string(map, key).map(Some),
    }
}

/// An RFC 3339 time (`2026-12-01T10:00:00Z`, `…T10:00:00.250+01:00`, or a
/// bare date) as milliseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut d = date.splitn(3, '-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day) * 86_400_000;
    if let Some(time) = time {
        let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
            Some(i) => (&time[..i], &time[i..]),
            None => return None,
        };
        let mut c = clock.splitn(3, ':');
        let h: i64 = c.next()?.parse().ok()?;
        let m: i64 = c.next()?.parse().ok()?;
        let sec: f64 = c.next().unwrap_or("0").parse().ok()?;
        if h > 23 || m > 59 || !(0.0..61.0).contains(&sec) {
            return None;
        }
        millis += h * 3_600_000 + m * 60_000 + (sec * 1000.0).round() as i64;
        if !offset.eq_ignore_ascii_case("z") {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let mut o = offset[1..].splitn(2, ':');
            let oh: i64 = o.next()?.parse().ok()?;
            let om: i64 = o.next().unwrap_or("0").parse().ok()?;
            millis -= sign * (oh * 3_600_000 + om * 60_000);
        }
    }
    Some(millis)
}

/// Howard Hinnant's days_from_civil.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One change as `memory_history` shows it; unknown fields are absent.
fn change(c: &ChangeInfo) -> Value {
    let mut v = json!({ "changeId": c.id, "at": rfc3339(c.at), "tool": c.tool });
    let fields = [
        ("session", &c.session),
        ("client", &c.client),
        ("project", &c.project),
        ("actor", &c.actor),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            v[key] = json!(value);
        }
    }
    v["summary"] = json!(c.summary);
    v
}

fn rendered(structured: Value) -> Rendered {
    Rendered {
        texts: vec![pretty(&structured)],
        structured,
    }
}

pub fn history(page: &HistoryPage) -> Rendered {
    let mut structured = json!({ "changes": page.changes.iter().map(change).collect::<Vec<_>>() });
    if let Some(before) = page.next_before {
        structured["nextCursor"] = json!(format!("{CURSOR_PREFIX}{before}"));
    }
    rendered(structured)
}

pub fn undone(u: &Undone) -> Rendered {
    rendered(json!({ "changeId": u.change_id, "undid": u.undid, "summary": u.summary }))
}

pub fn superseded(entity_name: &str, old: &str, new: &str, change_id: i64) -> Rendered {
    rendered(json!({ "entityName": entity_name, "old": old, "new": new, "changeId": change_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_reads_what_it_writes_and_offsets() {
        let t = parse_rfc3339("2026-12-01T22:05:09Z").expect("parses");
        assert_eq!(rfc3339(t), "2026-12-01T22:05:09Z");
        assert_eq!(parse_rfc3339("2026-12-01T23:05:09+01:00"), Some(t));
        assert_eq!(parse_rfc3339("2026-12-01T22:05:09.500Z"), Some(t + 500));
        assert_eq!(
            rfc3339(parse_rfc3339("2026-12-01").expect("date")),
            "2026-12-01T00:00:00Z"
        );
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-12-01T25:00:00Z",
            "2026-12-01T10:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn unknown_arguments_are_refused() {
        let map = json!({"changeId": 3, "really": true});
        let err = parse("undo", map.as_object().expect("object")).expect_err("refused");
        assert_eq!(err.path, "really");
    }
}
