//! The queries `search_memory` did not answer with their target first,
//! shown so that the ranking can be improved: for each kind, how many
//! missed the top ten and how many were ranked 2–10, a few examples of
//! each, and how often the first result holds fewer of the query's words
//! than the target does (a sign that matching more words should weigh more).
//!
//! Word counts use the benchmark's own tokenizer (`queries::words`: runs of
//! letters and digits, three or more long), an approximation of the word
//! index's.

use std::collections::{HashMap, HashSet};

use crate::corpus::Entry;
use crate::queries::{self, Kind};
use crate::report::{Miss, ToolReport};

/// The words of an entry: its name, type and text.
fn entry_words(entry: &Entry) -> HashSet<String> {
    std::iter::once(entry.name.as_str())
        .chain(std::iter::once(entry.entity_type))
        .chain(entry.paragraphs.iter().map(String::as_str))
        .flat_map(queries::words)
        .collect()
}

/// How many distinct query words an entry holds.
fn held(query: &[String], words: &HashSet<String>) -> usize {
    query.iter().filter(|w| words.contains(*w)).count()
}

/// Prints the misses: per kind, the first `per_kind` not in the top ten,
/// then the first `per_kind` ranked 2–10.
pub fn print(memory: &ToolReport, entries: &[Entry], per_kind: usize) {
    if per_kind == 0 {
        return;
    }
    let df = queries::document_frequency(entries);
    let words: Vec<HashSet<String>> = entries.iter().map(entry_words).collect();
    let by_name: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    // "k/n>j/n": the target holds k of the query's n words, the first result j.
    let coverage = |miss: &Miss| -> Option<(usize, usize, usize)> {
        let mut query = queries::words(&miss.query.text);
        query.sort();
        query.dedup();
        let first = *by_name.get(miss.top.first()?.as_str())?;
        let target = held(&query, &words[miss.query.target]);
        Some((target, held(&query, &words[first]), query.len()))
    };
    println!();
    println!(
        "search_memory misses, the first {per_kind} of each group \
         (df: entries holding the word; words: query words the target / the first result holds):"
    );
    for kind in Kind::ALL {
        let Some(misses) = memory.misses.get(&kind) else {
            continue;
        };
        let (lost, low): (Vec<&Miss>, Vec<&Miss>) =
            misses.iter().partition(|m| m.rank.is_none_or(|r| r > 10));
        let fewer = misses
            .iter()
            .filter(|m| coverage(m).is_some_and(|(target, first, n)| n > 1 && first < target))
            .count();
        println!(
            "  {}: {} not in the top 10, {} at ranks 2-10; in {fewer} the first result holds fewer query words than the target",
            kind.label(),
            lost.len(),
            low.len()
        );
        for miss in lost.iter().take(per_kind).chain(low.iter().take(per_kind)) {
            let rank = miss
                .rank
                .map_or_else(|| "absent".to_string(), |r| format!("rank {r}"));
            let df_note = match kind {
                Kind::Keywords(_) => {
                    let counts: Vec<String> = queries::words(&miss.query.text)
                        .into_iter()
                        .map(|w| format!("{w}:{}", df.get(&w).copied().unwrap_or(0)))
                        .collect();
                    format!(" (df {})", counts.join(" "))
                }
                _ => String::new(),
            };
            let words_note = match coverage(miss) {
                Some((target, first, n)) if n > 1 => format!("; words {target}/{n} vs {first}/{n}"),
                _ => String::new(),
            };
            println!(
                "    {:?}{df_note} -> {:?}: {rank}{words_note}; top {:?}",
                miss.query.text, entries[miss.query.target].name, miss.top
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_counts_distinct_query_words_in_an_entry() {
        let entry = crate::corpus::parse_entry("bar\n n.\n\n    A bar of esthetic value.\n")
            .expect("an entry");
        let words = entry_words(&entry);
        let query = vec!["bar".to_string(), "esthetic".to_string(), "foo".to_string()];
        assert_eq!(held(&query, &words), 2);
        assert!(words.contains("noun"));
    }
}
