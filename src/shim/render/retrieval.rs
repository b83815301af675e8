//! Rendering of memgraphd's own answers: pages of the official reads (with
//! `nextCursor`, `observationCount` and the size guard's fields), ranked
//! search results and neighbourhoods.
//!
//! Claude Code hands the model the JSON of `structuredContent`, other
//! clients show the text, so every hint (a cut, what to call next) is in
//! both, and both stay compact.

use serde_json::{json, Value};

use super::{relation, views, Rendered, Written};
pub use crate::measure::retrieval::rfc3339;
use crate::measure::retrieval::{
    neighbor_label, neighborhood_header, ranked_item, ranked_line, relation_line, summary_item,
    RANKED_FOOTER,
};
use crate::model::{GraphPage, Neighborhood, RankedPage, Truncation};

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
pub fn ranked(
    page: &RankedPage,
    query: &str,
    next_cursor: Option<&str>,
    max_chars: u64,
) -> Rendered {
    let results: Vec<Value> = page.results.iter().map(ranked_item).collect();
    let structured = json!({ "results": results });
    let mut text = String::new();
    if page.results.is_empty() {
        text.push_str(&format!(
            "No entities match {}. Try other or fewer words, or search_nodes for an exact phrase.",
            Value::String(query.to_owned())
        ));
    } else {
        for (i, r) in page.results.iter().enumerate() {
            text.push_str(&ranked_line(i + 1, r));
            text.push('\n');
        }
        text.push_str(RANKED_FOOTER);
    }
    let more = Continuation {
        tool: "search_memory",
        what: "results",
        call_again: "More results: call search_memory again with the same query",
    };
    more.finish(structured, text, next_cursor, page.truncated, max_chars)
}

/// How an answer of `search_memory` or `get_neighbors` says that more
/// remains, and, when the size guard cut it, why.
struct Continuation {
    tool: &'static str,
    what: &'static str,
    call_again: &'static str,
}

impl Continuation {
    fn finish(
        &self,
        mut structured: Value,
        mut text: String,
        next_cursor: Option<&str>,
        cut: Option<Truncation>,
        max_chars: u64,
    ) -> Rendered {
        let Some(cursor) = next_cursor else {
            return Rendered {
                texts: vec![text],
                structured,
            };
        };
        structured["nextCursor"] = json!(cursor);
        text.push_str(&format!("\n{} and cursor \"{cursor}\".", self.call_again));
        let mut texts = vec![text];
        if let Some(cut) = cut {
            let notice = cut_notice(self.tool, self.what, cut, cursor, max_chars);
            structured["truncated"] = json!(true);
            structured["notice"] = json!(notice);
            texts.push(notice);
        }
        Rendered { texts, structured }
    }
}

/// The size guard's sentence for `search_memory` and `get_neighbors`.
fn cut_notice(tool: &str, what: &str, cut: Truncation, cursor: &str, max_chars: u64) -> String {
    format!(
        "Showing {} of {} {what}, as the whole answer is over {max_chars} characters; call \
         {tool} again with the same arguments and cursor \"{cursor}\" for the next part.",
        cut.shown, cut.remaining
    )
}

/// A page of `get_neighbors`: one line per relation in the text.
pub fn neighborhood(n: &Neighborhood, next_cursor: Option<&str>, max_chars: u64) -> Rendered {
    let structured = json!({
        "entity": summary_item(&n.entity),
        "relations": n.relations.iter().map(relation).collect::<Vec<_>>(),
        "neighbors": n.neighbors.iter().map(summary_item).collect::<Vec<_>>(),
    });
    let mut text = neighborhood_header(&n.entity);
    if n.relations.is_empty() {
        text.push_str(" has no relations that match.");
    } else {
        text.push_str(":\n");
        for r in &n.relations {
            text.push_str(&relation_line(r));
            text.push('\n');
        }
        let neighbors: Vec<String> = n.neighbors.iter().map(neighbor_label).collect();
        text.push_str(&format!("Neighbors: {}.", neighbors.join(", ")));
    }
    let more = Continuation {
        tool: "get_neighbors",
        what: "relations",
        call_again: "More relations: call get_neighbors again with the same arguments",
    };
    more.finish(structured, text, next_cursor, n.truncated, max_chars)
}
