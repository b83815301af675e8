//! Which entities bear on a prompt: the prompt's distinctive words
//! ([`words`]), searched together with `search_memory` by the caller, and
//! of its hits those that really bear on the prompt ([`relevant`]). Pure.

use crate::model::Entity;

/// At most this many words of a prompt are searched.
pub const MAX_WORDS: usize = 12;
/// A word shorter than this says little and would scan every row (the
/// search index works on trigrams).
const MIN_WORD_CHARS: usize = 3;

/// Words too common in prompts to tell entities apart.
const STOPWORDS: &[&str] = &[
    "about", "above", "add", "after", "again", "all", "also", "and", "any", "are", "back",
    "because", "been", "check", "find", "give", "know", "look", "new", "show", "take", "tell",
    "think", "try", "work", "before", "being", "but", "can", "could", "did", "does", "doing",
    "done", "each", "few", "for", "from", "get", "got", "had", "has", "have", "having", "help",
    "her", "here", "him", "his", "how", "into", "its", "just", "let", "like", "make", "more",
    "most", "need", "not", "now", "off", "once", "only", "other", "our", "out", "over", "own",
    "please", "same", "see", "she", "should", "some", "such", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "thing", "this", "those", "through", "too", "under",
    "until", "use", "using", "very", "want", "was", "way", "were", "what", "when", "where",
    "which", "while", "who", "why", "will", "with", "would", "yes", "you", "your",
];

/// The prompt's words worth a search: lower-cased, at least three
/// characters, no stopwords, each once; identifiers such as `foo_bar`,
/// `v2.1` and `my-crate` stay whole. The longest come first, since longer
/// words are rarer, and at most [`MAX_WORDS`] are kept.
pub fn words(prompt: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for raw in prompt.split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        let word = raw.trim_matches(|c: char| matches!(c, '_' | '-' | '.'));
        let word = word.to_lowercase();
        if word.chars().count() < MIN_WORD_CHARS
            || STOPWORDS.contains(&word.as_str())
            || word.chars().all(|c| c.is_ascii_digit())
            || seen.contains(&word)
        {
            continue;
        }
        seen.push(word);
    }
    // Stable, so among words of one length the prompt's order stands.
    seen.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    seen.truncate(MAX_WORDS);
    seen
}

/// An entity that bears on the prompt, with the prompt's words it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub entity: Entity,
    pub words: Vec<String>,
}

/// The hits of a ranked search (`ranked`: names, best first; `entities`:
/// the same entities opened, in any order) that bear on the prompt whose
/// distinctive words are `words`, in ranked order. An entity bears on it
/// when one of the words is in its name or type, or when it holds two of
/// them or more; one word in one observation is a coincidence, so a prompt
/// that merely shares a common word with memory gets nothing.
pub fn relevant(words: &[String], ranked: &[&str], entities: Vec<Entity>) -> Vec<Hit> {
    let mut entities: Vec<Option<Entity>> = entities.into_iter().map(Some).collect();
    let mut hits = Vec::new();
    for name in ranked {
        let Some(entity) = entities
            .iter_mut()
            .find(|e| e.as_ref().is_some_and(|e| e.name == *name))
            .and_then(Option::take)
        else {
            // Deleted between the search and the open.
            continue;
        };
        let label = format!("{}\n{}", entity.name, entity.entity_type).to_lowercase();
        let observations: Vec<String> = entity
            .observations
            .iter()
            .map(|o| o.to_lowercase())
            .collect();
        let mut strong = false;
        let mut held = Vec::new();
        for word in words {
            if label.contains(word.as_str()) {
                strong = true;
                held.push(word.clone());
            } else if observations.iter().any(|o| o.contains(word.as_str())) {
                held.push(word.clone());
            }
        }
        if strong || held.len() >= 2 {
            hits.push(Hit {
                entity,
                words: held,
            });
        }
    }
    hits
}
