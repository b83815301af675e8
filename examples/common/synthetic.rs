//! A made-up memory that every run draws the same: pronounceable distinct
//! words, sentences skewed towards the commonest of them (as real notes
//! are: some words everywhere, most rare), and entities built from both.
//! `bench_retrieval` and `bench_search_cpu` load the same memory from it,
//! so their figures can be set side by side.

use memgraphd::model::Entity;

/// The number of distinct words.
pub const VOCABULARY: usize = 20_000;
/// Observations per entity.
pub const OBSERVATIONS: usize = 5;

/// A small deterministic generator (xorshift64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// [`VOCABULARY`] pronounceable made-up words, distinct, always the same.
pub fn vocabulary() -> Vec<String> {
    const ONSETS: &[&str] = &[
        "b", "k", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr",
        "pl",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
    let mut words = Vec::with_capacity(VOCABULARY);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seen = std::collections::HashSet::new();
    while words.len() < VOCABULARY {
        let syllables = 2 + rng.below(3);
        let mut word = String::new();
        for _ in 0..syllables {
            word.push_str(ONSETS[rng.below(ONSETS.len())]);
            word.push_str(VOWELS[rng.below(VOWELS.len())]);
        }
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    words
}

/// A word, most often one of the first few hundred (a Zipf-like skew).
pub fn word<'a>(rng: &mut Rng, words: &'a [String]) -> &'a str {
    let i = (words.len() as f64 * rng.unit().powf(3.0)) as usize;
    &words[i.min(words.len() - 1)]
}

/// A sentence of 6–14 words, the first of them drawn evenly.
pub fn sentence(rng: &mut Rng, words: &[String]) -> String {
    let n = 6 + rng.below(9);
    let mut s: Vec<&str> = (0..n).map(|_| word(rng, words)).collect();
    s[0] = words[rng.below(words.len())].as_str();
    let mut text = s.join(" ");
    text.push('.');
    text
}

/// Entity `i`: a two-word name made unique by `i`, one of 20 types, and
/// [`OBSERVATIONS`] sentences.
pub fn entity(i: usize, rng: &mut Rng, words: &[String]) -> Entity {
    let name = format!(
        "{} {} {i}",
        words[rng.below(words.len())],
        words[rng.below(words.len())]
    );
    Entity {
        name,
        entity_type: format!("type{}", i % 20),
        observations: (0..OBSERVATIONS).map(|_| sentence(rng, words)).collect(),
    }
}
