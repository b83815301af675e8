//! The pieces `search_memory` and `get_neighbors` answers are made of: each
//! result's JSON item and text line. The renderer assembles its answer from
//! them and the store's size guard counts them, so the two cannot disagree
//! on how large an answer is.

use serde_json::{json, Value};

use crate::model::{EntitySummary, RankedEntity, Relation};

/// The last line of a `search_memory` answer with results.
pub const RANKED_FOOTER: &str =
    "Call open_nodes with the names you need for their observations and relations.";

/// Characters of `value` as compact JSON.
pub fn compact(value: &Value) -> u64 {
    value.to_string().chars().count() as u64
}

/// Characters of `text`.
pub fn chars(text: &str) -> u64 {
    text.chars().count() as u64
}

/// One `search_memory` result in `structuredContent`.
pub fn ranked_item(r: &RankedEntity) -> Value {
    json!({
        "name": r.name,
        "entityType": r.entity_type,
        "score": r.score_hundredths as f64 / 100.0,
        "snippet": r.snippet,
        "observationCount": r.observation_count,
        "updatedAt": rfc3339(r.updated_at),
    })
}

/// One `search_memory` result in the text, numbered from 1, without its
/// line break.
pub fn ranked_line(number: usize, r: &RankedEntity) -> String {
    if r.snippet == r.name {
        format!("{number}. {} ({})", r.name, r.entity_type)
    } else {
        format!(
            "{number}. {} ({}): {}",
            r.name,
            r.entity_type,
            one_line(&r.snippet)
        )
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An entity without its observations in `structuredContent`.
pub fn summary_item(s: &EntitySummary) -> Value {
    json!({ "name": s.name, "entityType": s.entity_type, "observationCount": s.observation_count })
}

/// The first line of a `get_neighbors` answer, without what follows it.
pub fn neighborhood_header(center: &EntitySummary) -> String {
    format!(
        "{} ({}, {} observations)",
        center.name, center.entity_type, center.observation_count
    )
}

/// One relation of a `get_neighbors` answer in the text, without its line
/// break.
pub fn relation_line(r: &Relation) -> String {
    format!("{} {} {}", r.from, r.relation_type, r.to)
}

/// A neighbour as the text's `Neighbors:` list names it.
pub fn neighbor_label(s: &EntitySummary) -> String {
    format!("{} ({})", s.name, s.entity_type)
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC, to the second.
pub fn rfc3339(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
