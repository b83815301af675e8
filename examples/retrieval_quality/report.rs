//! What one search answered, the tallies per tool and query kind, and the
//! table they print as.
//!
//! An answer's size in tokens is estimated as its text content's characters
//! divided by four (all text items summed), the usual rule of thumb for
//! English; 25,000 tokens is the largest tool output Claude Code hands its
//! model whole.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::queries::{Kind, Query};

/// Answers over this many estimated tokens do not reach the model whole.
pub const TOKEN_BUDGET: usize = 25_000;

/// One `tools/call` result, reduced to what is scored.
#[derive(Debug, Default)]
pub struct Answer {
    /// Entity names in the order returned.
    pub names: Vec<String>,
    /// Characters of the text content.
    pub text_chars: usize,
    pub is_error: bool,
}

impl Answer {
    /// Reads a result whose `structuredContent` lists entities in `list`
    /// (`entities` for `search_nodes`, `results` for `search_memory`), each
    /// with a `name`; without `structuredContent`, the first text item is
    /// parsed as that object.
    pub fn read(result: &Value, list: &str) -> Answer {
        let texts: Vec<&str> = result["content"]
            .as_array()
            .map(|items| items.iter().filter_map(|i| i["text"].as_str()).collect())
            .unwrap_or_default();
        let text_chars = texts.iter().map(|t| t.chars().count()).sum();
        let is_error = result["isError"].as_bool().unwrap_or(false);
        let parsed;
        let structured = match result.get("structuredContent") {
            Some(value) => value,
            None => {
                parsed = texts
                    .first()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    .unwrap_or_default();
                &parsed
            }
        };
        let names = structured[list]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Answer {
            names,
            text_chars,
            is_error,
        }
    }

    pub fn tokens(&self) -> usize {
        self.text_chars.div_ceil(4)
    }

    /// The 1-based position of `name`, if returned.
    pub fn rank_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name).map(|i| i + 1)
    }
}

/// The scores of one tool on one kind of query.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub queries: usize,
    pub hits_at_1: usize,
    pub hits_at_10: usize,
    /// Sum of 1/rank over the hits in the top ten.
    pub reciprocal_ranks: f64,
    pub empty: usize,
    pub over_budget: usize,
    pub errors: usize,
    pub max_tokens: usize,
}

impl Tally {
    pub fn add(&mut self, answer: &Answer, rank: Option<usize>) {
        self.queries += 1;
        if answer.is_error {
            self.errors += 1;
        } else if answer.names.is_empty() {
            self.empty += 1;
        }
        if let Some(rank) = rank.filter(|&r| r <= 10) {
            self.hits_at_10 += 1;
            self.hits_at_1 += usize::from(rank == 1);
            self.reciprocal_ranks += 1.0 / rank as f64;
        }
        let tokens = answer.tokens();
        self.over_budget += usize::from(tokens > TOKEN_BUDGET);
        self.max_tokens = self.max_tokens.max(tokens);
    }

    pub fn merge(&mut self, other: &Tally) {
        self.queries += other.queries;
        self.hits_at_1 += other.hits_at_1;
        self.hits_at_10 += other.hits_at_10;
        self.reciprocal_ranks += other.reciprocal_ranks;
        self.empty += other.empty;
        self.over_budget += other.over_budget;
        self.errors += other.errors;
        self.max_tokens = self.max_tokens.max(other.max_tokens);
    }

    pub fn share(&self, count: usize) -> f64 {
        if self.queries == 0 {
            0.0
        } else {
            count as f64 / self.queries as f64
        }
    }

    pub fn mrr(&self) -> f64 {
        if self.queries == 0 {
            0.0
        } else {
            self.reciprocal_ranks / self.queries as f64
        }
    }
}

/// A query the tool did not answer with its target first.
pub struct Miss {
    pub query: Query,
    pub rank: Option<usize>,
    /// The first few names returned.
    pub top: Vec<String>,
}

/// Everything measured for one tool.
#[derive(Default)]
pub struct ToolReport {
    pub by_kind: BTreeMap<Kind, Tally>,
    pub misses: BTreeMap<Kind, Vec<Miss>>,
    /// Per call, in microseconds.
    pub latencies: Vec<u64>,
}

impl ToolReport {
    pub fn keywords(&self) -> Tally {
        let mut all = Tally::default();
        for (_, tally) in self
            .by_kind
            .iter()
            .filter(|(k, _)| matches!(k, Kind::Keywords(_)))
        {
            all.merge(tally);
        }
        all
    }

    pub fn total(&self) -> Tally {
        let mut all = Tally::default();
        for tally in self.by_kind.values() {
            all.merge(tally);
        }
        all
    }
}

/// The table's header, as Markdown.
pub fn header() -> String {
    format!(
        "| tool | query kind | queries | hit@1 | hit@10 | MRR@10 | empty | > {}k tok | max tok | errors |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        TOKEN_BUDGET / 1000
    )
}

/// One row of the table.
pub fn row(tool: &str, kind: &str, t: &Tally) -> String {
    format!(
        "| {tool} | {kind} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
        t.queries,
        t.share(t.hits_at_1),
        t.share(t.hits_at_10),
        t.mrr(),
        t.share(t.empty),
        t.share(t.over_budget),
        t.max_tokens,
        t.errors,
    )
}

/// The rows of one tool: each kind, then all keyword kinds together.
pub fn rows(tool: &str, report: &ToolReport) -> Vec<String> {
    let mut lines: Vec<String> = Kind::ALL
        .iter()
        .filter_map(|k| Some(row(tool, &k.label(), report.by_kind.get(k)?)))
        .collect();
    lines.push(row(tool, "keywords (all)", &report.keywords()));
    lines
}

/// A row for a tool the binary does not offer.
pub fn unavailable_row(tool: &str) -> String {
    format!("| {tool} | (all) | not available | | | | | | | |")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_reads_names_from_structured_content_or_text() {
        let structured = json!({
            "content": [{"type": "text", "text": "abcdefgh"}, {"type": "text", "text": "ij"}],
            "structuredContent": {"results": [{"name": "a"}, {"name": "b"}]}
        });
        let answer = Answer::read(&structured, "results");
        assert_eq!(answer.names, ["a", "b"]);
        assert_eq!((answer.text_chars, answer.tokens()), (10, 3));
        assert_eq!(answer.rank_of("b"), Some(2));
        assert_eq!(answer.rank_of("c"), None);

        let text_only =
            json!({"content": [{"type": "text", "text": "{\"entities\": [{\"name\": \"x\"}]}"}]});
        assert_eq!(Answer::read(&text_only, "entities").names, ["x"]);
    }

    #[test]
    fn a_tally_counts_hits_in_the_top_ten_only() {
        let mut tally = Tally::default();
        let answer = |names: usize| Answer {
            names: (0..names).map(|i| i.to_string()).collect(),
            text_chars: TOKEN_BUDGET * 4 + 1,
            is_error: false,
        };
        tally.add(&answer(20), Some(1));
        tally.add(&answer(20), Some(4));
        tally.add(&answer(20), Some(11));
        tally.add(&answer(0), None);
        assert_eq!(
            (
                tally.queries,
                tally.hits_at_1,
                tally.hits_at_10,
                tally.empty
            ),
            (4, 1, 2, 1)
        );
        assert!((tally.mrr() - 1.25 / 4.0).abs() < 1e-9);
        assert_eq!(tally.over_budget, 4);
    }
}
