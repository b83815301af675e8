//! Queries generated from the corpus, deterministically from a seed: the
//! kinds of query an agent types when it looks for an entry it half
//! remembers, each aimed at the entry it was made from.
//!
//! - keywords: 2, 3 or 4 distinctive words of the entry's text, drawn from
//!   the rarer half (by document frequency, at most 12) of its words that
//!   are neither stop words nor the name's words (nor hold one, nor are
//!   held by one), written in text order;
//! - one word of a multi-word name (not a stop word when there is another);
//! - the start (5–8 words) of the first sentence of the definition, usage
//!   tags such as `[Usenet]`, sense numbers and the name's words left out;
//! - the exact name.

use std::collections::{HashMap, HashSet};

use crate::corpus::Entry;

/// splitmix64: a tiny, well-mixed generator, enough to sample
/// reproducibly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is negligible for the
    /// small `n` used here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// What a query is made of; the table has one row per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Keywords(usize),
    NameWord,
    FirstSentence,
    ExactName,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Keywords(2),
        Kind::Keywords(3),
        Kind::Keywords(4),
        Kind::NameWord,
        Kind::FirstSentence,
        Kind::ExactName,
    ];

    pub fn label(self) -> String {
        match self {
            Kind::Keywords(n) => format!("keywords ({n} words)"),
            Kind::NameWord => "one word of the name".into(),
            Kind::FirstSentence => "first sentence, cut".into(),
            Kind::ExactName => "exact name".into(),
        }
    }
}

/// One query and the entry (an index into the corpus) it should find.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub kind: Kind,
    pub text: String,
    pub target: usize,
}

/// Common English words: never a keyword, and not picked from a name when
/// the name has another word.
const STOP_WORDS: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "although",
    "among",
    "and",
    "another",
    "any",
    "are",
    "around",
    "as",
    "at",
    "back",
    "be",
    "because",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "came",
    "can",
    "cannot",
    "could",
    "did",
    "does",
    "doing",
    "done",
    "down",
    "during",
    "each",
    "either",
    "else",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "got",
    "had",
    "has",
    "have",
    "having",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "however",
    "into",
    "its",
    "itself",
    "just",
    "like",
    "made",
    "make",
    "makes",
    "many",
    "may",
    "might",
    "more",
    "most",
    "much",
    "must",
    "near",
    "neither",
    "never",
    "nor",
    "not",
    "now",
    "off",
    "often",
    "once",
    "one",
    "only",
    "onto",
    "other",
    "others",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "per",
    "perhaps",
    "quite",
    "rather",
    "really",
    "said",
    "same",
    "see",
    "seems",
    "several",
    "she",
    "should",
    "since",
    "some",
    "something",
    "sometimes",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "this",
    "those",
    "though",
    "through",
    "thus",
    "too",
    "two",
    "under",
    "until",
    "upon",
    "use",
    "used",
    "uses",
    "using",
    "usually",
    "very",
    "was",
    "way",
    "well",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "yet",
    "you",
    "your",
    "yours",
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// The lowercase alphanumeric runs of a text that are at least three
/// characters long and not all digits: the words counted and drawn.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect()
}

/// Whether `word` is one of the name's words or overlaps one (one holds
/// the other: `hack`, `hacker`; `fortnight`, `nanofortnight`), so that no
/// query spells out its target's name.
fn is_name_word(word: &str, name_words: &[String]) -> bool {
    name_words
        .iter()
        .any(|n| word.contains(n.as_str()) || (word.len() >= 4 && n.contains(word)))
}

/// The number of entries each word occurs in.
pub fn document_frequency(entries: &[Entry]) -> HashMap<String, usize> {
    let mut df = HashMap::new();
    for entry in entries {
        let mut seen = HashSet::new();
        let text =
            std::iter::once(entry.name.as_str()).chain(entry.paragraphs.iter().map(String::as_str));
        for word in text.flat_map(words) {
            if seen.insert(word.clone()) {
                *df.entry(word).or_insert(0) += 1;
            }
        }
    }
    df
}

/// The queries for `sample` entries drawn with `seed` (fewer entries when
/// the corpus is smaller), grouped by entry; an entry gets only the kinds it
/// can make.
pub fn generate(entries: &[Entry], seed: u64, sample: usize) -> Vec<Query> {
    let df = document_frequency(entries);
    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..entries.len()).collect();
    rng.shuffle(&mut order);
    let mut queries = Vec::new();
    for &target in order.iter().take(sample) {
        let entry = &entries[target];
        let name_words = words(&entry.name);
        for n in 2..=4 {
            if let Some(text) = keywords(entry, &name_words, &df, n, &mut rng) {
                queries.push(Query {
                    kind: Kind::Keywords(n),
                    text,
                    target,
                });
            }
        }
        if let Some(text) = name_word(&entry.name, &mut rng) {
            queries.push(Query {
                kind: Kind::NameWord,
                text,
                target,
            });
        }
        if let Some(text) = first_sentence(entry, &name_words, &mut rng) {
            queries.push(Query {
                kind: Kind::FirstSentence,
                text,
                target,
            });
        }
        queries.push(Query {
            kind: Kind::ExactName,
            text: entry.name.clone(),
            target,
        });
    }
    queries
}

fn keywords(
    entry: &Entry,
    name_words: &[String],
    df: &HashMap<String, usize>,
    n: usize,
    rng: &mut Rng,
) -> Option<String> {
    let mut seen = HashSet::new();
    // Distinct candidate words with their first position in the text.
    let mut candidates: Vec<(usize, String)> = entry
        .paragraphs
        .iter()
        .flat_map(|p| words(p))
        .enumerate()
        .filter(|(_, w)| !is_stop_word(w) && !is_name_word(w, name_words))
        .filter(|(_, w)| seen.insert(w.clone()))
        .collect();
    if candidates.len() < n {
        return None;
    }
    candidates.sort_by_key(|(position, w)| (df.get(w).copied().unwrap_or(0), *position));
    let pool = candidates.len().div_ceil(2).clamp(n, 12);
    let mut pool = candidates[..pool].to_vec();
    rng.shuffle(&mut pool);
    let mut chosen = pool[..n].to_vec();
    chosen.sort();
    Some(
        chosen
            .into_iter()
            .map(|(_, w)| w)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn name_word(name: &str, rng: &mut Rng) -> Option<String> {
    let parts: Vec<&str> = name
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    if parts.len() < 2 {
        return None;
    }
    let content: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|w| w.chars().count() >= 3 && !is_stop_word(&w.to_lowercase()))
        .collect();
    let from = if content.is_empty() { &parts } else { &content };
    Some(from[rng.below(from.len())].to_string())
}

fn first_sentence(entry: &Entry, name_words: &[String], rng: &mut Rng) -> Option<String> {
    // The first paragraph that is not only a bracketed note (an etymology
    // or a usage tag).
    let paragraph = entry
        .paragraphs
        .iter()
        .map(|p| strip_leading_tags(p))
        .find(|p| !p.is_empty())?;
    let sentence = crate::corpus::split_sentences(paragraph)
        .into_iter()
        .next()?;
    let kept: Vec<&str> = definition_start(&sentence)
        .split_whitespace()
        .filter(|w| {
            let ws = words(w);
            ws.is_empty() || !ws.iter().any(|x| is_name_word(x, name_words))
        })
        .collect();
    let length = 5 + rng.below(4);
    if kept.len() < 3 {
        return None;
    }
    Some(kept[..length.min(kept.len())].join(" "))
}

/// The text without leading `[...]` groups.
fn strip_leading_tags(paragraph: &str) -> &str {
    let mut rest = paragraph.trim_start();
    while rest.starts_with('[') {
        match rest.find(']') {
            Some(close) => rest = rest[close + 1..].trim_start(),
            None => return "",
        }
    }
    rest
}

/// The text without leading tags, sense numbers and parts of speech, in
/// any order (`1. [Usenet] n. The …`).
fn definition_start(text: &str) -> &str {
    let mut rest = text.trim_start();
    loop {
        let stripped = strip_leading_tags(rest);
        let stripped = match stripped.split_once(' ') {
            Some((first, after)) if is_sense_marker(first) => after.trim_start(),
            _ => stripped,
        };
        if stripped.len() == rest.len() {
            return rest;
        }
        rest = stripped;
    }
}

/// A sense number (`2.`) or a part of speech (`n.`, `vt.`) opening a sense.
fn is_sense_marker(word: &str) -> bool {
    let Some(stem) = word.strip_suffix('.').or_else(|| word.strip_suffix(".,")) else {
        return false;
    };
    stem.chars().all(|c| c.is_ascii_digit())
        || matches!(
            stem,
            "n" | "v" | "vt" | "vi" | "adj" | "adv" | "interj" | "excl" | "pl.n"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::parse_entry;

    fn entries() -> Vec<Entry> {
        [
            "dead code\n n.\n\n    [common] Routines that can never be accessed because all calls to them were removed. Dead code reveals logical errors in the program.\n",
            "kluge\n /klooj/\n\n    [from the German ‘klug’, clever]\n\n    1. [Usenet; rare] n. A Rube Goldberg device, whether in hardware or software, that kluges along.\n",
            "bit bucket\n n.\n\n    The universal data sink, where lost program bits go.\n",
        ]
        .iter()
        .map(|raw| parse_entry(raw).expect("an entry"))
        .collect()
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_same_seed_gives_the_same_queries() {
        let entries = entries();
        assert_eq!(generate(&entries, 1, 3), generate(&entries, 1, 3));
        assert_ne!(generate(&entries, 1, 3), generate(&entries, 2, 3));
    }

    #[test]
    fn keywords_avoid_stop_words_and_the_name() {
        let entries = entries();
        for query in generate(&entries, 7, 3) {
            if let Kind::Keywords(n) = query.kind {
                let ws = words(&query.text);
                assert_eq!(ws.len(), n, "{query:?}");
                let name = words(&entries[query.target].name);
                assert!(
                    ws.iter()
                        .all(|w| !is_stop_word(w) && !is_name_word(w, &name)),
                    "{query:?}"
                );
            }
        }
    }

    #[test]
    fn the_first_sentence_skips_tags_senses_and_the_name() {
        let entries = entries();
        let mut rng = Rng::new(3);
        let kluge = first_sentence(&entries[1], &words("kluge"), &mut rng).expect("a sentence");
        assert!(kluge.starts_with("A Rube Goldberg device,"), "{kluge}");
        assert!(!kluge.contains("kluges"), "{kluge}");
        let dead = first_sentence(&entries[0], &words("dead code"), &mut rng).expect("a sentence");
        assert!(dead.starts_with("Routines that can never be"), "{dead}");
    }

    #[test]
    fn only_a_multi_word_name_gives_a_name_word() {
        let mut rng = Rng::new(1);
        assert_eq!(name_word("kluge", &mut rng), None);
        assert_eq!(name_word("death, x of", &mut rng).as_deref(), Some("death"));
    }
}
