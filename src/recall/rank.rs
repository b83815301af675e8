//! Which entities bear on a prompt, from the word searches the daemon
//! answers today: the prompt's distinctive words ([`words`]), each searched
//! on its own, and the hits scored by where and how rarely each word hit
//! ([`rank`]). Pure: the searching happens in the caller.

use std::collections::HashMap;

use crate::model::{Entity, Graph};

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

/// An entity that bears on the prompt, with the words it matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub entity: Entity,
    pub score: f64,
    pub words: Vec<String>,
}

/// Scores the entities found by each word's search (`(word, found)`),
/// best first. A word counts 3 in a name, 2 in a type, 1 in an
/// observation, divided by how many entities it found (a word that finds
/// everything tells nothing). An entity is relevant when a word is in its
/// name or type, or when it matched two words or more; the others are
/// dropped, so a prompt that merely shares a common word gets no hits.
pub fn rank(found: &[(String, Graph)]) -> Vec<Hit> {
    let mut hits: HashMap<String, Hit> = HashMap::new();
    let mut strong: HashMap<String, bool> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (word, graph) in found {
        let rarity = 1.0 / (1.0 + (graph.entities.len() as f64).ln());
        for entity in &graph.entities {
            let place = if entity.name.to_lowercase().contains(word.as_str()) {
                3.0
            } else if entity.entity_type.to_lowercase().contains(word.as_str()) {
                2.0
            } else {
                1.0
            };
            *strong.entry(entity.name.clone()).or_default() |= place > 1.0;
            let hit = hits.entry(entity.name.clone()).or_insert_with(|| {
                order.push(entity.name.clone());
                Hit {
                    entity: entity.clone(),
                    score: 0.0,
                    words: Vec::new(),
                }
            });
            hit.score += place * rarity;
            hit.words.push(word.clone());
        }
    }
    let mut ranked: Vec<Hit> = order
        .into_iter()
        .filter_map(|name| hits.remove(&name))
        .filter(|hit| strong.get(&hit.entity.name) == Some(&true) || hit.words.len() >= 2)
        .collect();
    // Stable: equal scores keep the order in which the searches found them.
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    ranked
}
