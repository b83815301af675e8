//! Rendering of memgraphd's own answers: pages of the official reads (with
//! `nextCursor`, `observationCount` and the size guard's fields), ranked
//! search results and neighbourhoods.
//!
//! Claude Code hands the model the JSON of `structuredContent`, other
//! clients show the text, so every hint (a cut, what to call next) is in
//! both, and both stay compact.

use serde_json::{json, Value};

use super::{relation, views, Rendered, Written};
use crate::model::{EntitySummary, GraphPage, Neighborhood, RankedPage};

/// A page of `read_graph`, `search_nodes` or `open_nodes`. Without a cursor
/// or a cut it is exactly the official answer (plus `observationCount` when
/// observations were left out).
pub fn page(page: &GraphPage, tool: &str, next_cursor: Option<&str>, max_chars: u64) -> Rendered {
    page_written(page, tool, next_cursor, max_chars).into_rendered()
}

/// [`page`], with the structured copy as JSON text.
pub fn page_written(
    page: &GraphPage,
    tool: &str,
    next_cursor: Option<&str>,
    max_chars: u64,
) -> Written {
    let entities = views::paged(&page.entities);
    let relations = views::relations(&page.relations);
    let mut texts = vec![views::pretty(&views::PageJson {
        entities,
        relations,
        next_cursor: None,
        truncated: None,
        notice: None,
    })];
    let mut cut = None;
    if let Some(cursor) = next_cursor {
        match page.truncated {
            Some(t) => {
                let notice = notice(tool, t.shown, t.remaining, cursor, max_chars);
                texts.push(notice.clone());
                cut = Some(notice);
            }
            None => texts.push(format!(
                "More entities remain: call {tool} again with the same arguments and cursor \"{cursor}\"."
            )),
        }
    }
    let structured = views::compact(&views::PageJson {
        entities,
        relations,
        next_cursor,
        truncated: cut.is_some().then_some(true),
        notice: cut.as_deref(),
    });
    Written { texts, structured }
}

/// The size guard's sentence: how much is shown and how to get the rest.
pub fn notice(tool: &str, shown: u64, remaining: u64, cursor: &str, max_chars: u64) -> String {
    format!(
        "Showing {shown} of {remaining} entities, as the whole answer is over {max_chars} \
         characters; call {tool} again with cursor \"{cursor}\" for the next part, pass limit \
         (1-1000) for pages of a chosen size, or use search_memory to find what you need."
    )
}

/// A page of `search_memory`: one line per result in the text.
pub fn ranked(page: &RankedPage, query: &str, next_cursor: Option<&str>) -> Rendered {
    let results: Vec<Value> = page
        .results
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "entityType": r.entity_type,
                "score": r.score_hundredths as f64 / 100.0,
                "snippet": r.snippet,
                "observationCount": r.observation_count,
                "updatedAt": rfc3339(r.updated_at),
            })
        })
        .collect();
    let mut structured = json!({ "results": results });
    let mut text = String::new();
    if page.results.is_empty() {
        text.push_str(&format!(
            "No entities match {}. Try other or fewer words, or search_nodes for an exact phrase.",
            Value::String(query.to_owned())
        ));
    } else {
        for (i, r) in page.results.iter().enumerate() {
            let line = if r.snippet == r.name {
                format!("{}. {} ({})", i + 1, r.name, r.entity_type)
            } else {
                format!(
                    "{}. {} ({}): {}",
                    i + 1,
                    r.name,
                    r.entity_type,
                    one_line(&r.snippet)
                )
            };
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str(
            "Call open_nodes with the names you need for their observations and relations.",
        );
    }
    if let Some(cursor) = next_cursor {
        structured["nextCursor"] = json!(cursor);
        text.push_str(&format!(
            "\nMore results: call search_memory again with the same query and cursor \"{cursor}\"."
        ));
    }
    Rendered {
        texts: vec![text],
        structured,
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn summary(s: &EntitySummary) -> Value {
    json!({ "name": s.name, "entityType": s.entity_type, "observationCount": s.observation_count })
}

/// A page of `get_neighbors`: one line per relation in the text.
pub fn neighborhood(n: &Neighborhood, next_cursor: Option<&str>) -> Rendered {
    let mut structured = json!({
        "entity": summary(&n.entity),
        "relations": n.relations.iter().map(relation).collect::<Vec<_>>(),
        "neighbors": n.neighbors.iter().map(summary).collect::<Vec<_>>(),
    });
    let mut text = format!(
        "{} ({}, {} observations)",
        n.entity.name, n.entity.entity_type, n.entity.observation_count
    );
    if n.relations.is_empty() {
        text.push_str(" has no relations that match.");
    } else {
        text.push_str(":\n");
        for r in &n.relations {
            text.push_str(&format!("{} {} {}\n", r.from, r.relation_type, r.to));
        }
        let neighbors: Vec<String> = n
            .neighbors
            .iter()
            .map(|s| format!("{} ({})", s.name, s.entity_type))
            .collect();
        text.push_str(&format!("Neighbors: {}.", neighbors.join(", ")));
    }
    if let Some(cursor) = next_cursor {
        structured["nextCursor"] = json!(cursor);
        text.push_str(&format!(
            "\nMore relations: call get_neighbors again with the same arguments and cursor \"{cursor}\"."
        ));
    }
    Rendered {
        texts: vec![text],
        structured,
    }
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
