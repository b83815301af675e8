//! BM25 for `search_memory`, computed here rather than by FTS5's `bm25()`.
//!
//! FTS5's `bm25()` reads, for every row it scores, the row's length (a
//! lookup in the index's `docsize` table) and its positions, and first
//! walks each query word's whole posting list to count its rows. On a
//! memory of 100,000 entities that was two thirds of a search's time, spent
//! on up to thousands of rows per word of which only the best few matter. A
//! search now reads only row ids from the word index, and scores:
//! - an observation's row as BM25 scores one occurrence in a row of average
//!   length, which is what the usual observation (a sentence or two that
//!   holds the word once) is: the word's IDF. An entity then ranks by which
//!   words its observations hold and how rare they are, not by how many of
//!   its observations hold them.
//! - an entity's row (its name and type: short, and few per word) in full,
//!   from the name and type themselves: each occurrence in the name weighs
//!   [`NAME_WEIGHT`], in the type [`TYPE_WEIGHT`], and the row's length
//!   counts as FTS5 counts it.
//!
//! The IDF and the average row length are FTS5's own: the row count and
//! token totals of the index's averages record, and each word's row count
//! from the index's vocabulary.

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// BM25's term-frequency saturation, as in FTS5's `bm25()`.
const K1: f64 = 1.2;
/// BM25's length normalisation, as in FTS5's `bm25()`.
const B: f64 = 0.75;
/// What one occurrence of a word in an entity's name weighs.
pub(super) const NAME_WEIGHT: f64 = 10.0;
/// What one occurrence of a word in an entity's type weighs.
pub(super) const TYPE_WEIGHT: f64 = 4.0;
/// The rowid of FTS5's averages record in its `_data` table.
const AVERAGES_ROWID: i64 = 1;

/// What the scores of one search are computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct IndexStats {
    /// Rows in the word index.
    rows: f64,
    /// Tokens in an average row, over all its columns.
    average_tokens: f64,
}

impl IndexStats {
    /// Reads the averages record of the word index, `word_fts`. An index
    /// that has none yet (it is empty) or one this code cannot read scores
    /// as a small index of one-word rows would, which keeps every score
    /// positive and ordered by rarity.
    pub(super) fn read(conn: &Connection) -> Result<IndexStats, StoreError> {
        let block: Option<Vec<u8>> = conn
            .prepare_cached("SELECT block FROM word_fts_data WHERE id = ?1")?
            .query_row([AVERAGES_ROWID], |r| r.get(0))
            .optional()?;
        Ok(block
            .as_deref()
            .and_then(IndexStats::parse)
            .unwrap_or(IndexStats {
                rows: 1.0,
                average_tokens: 1.0,
            }))
    }

    /// The record is a varint row count followed by one varint token total
    /// per column.
    fn parse(mut block: &[u8]) -> Option<IndexStats> {
        let rows = varint(&mut block)?;
        let mut tokens: u64 = 0;
        while !block.is_empty() {
            tokens = tokens.checked_add(varint(&mut block)?)?;
        }
        (rows > 0).then(|| IndexStats {
            rows: rows as f64,
            average_tokens: (tokens as f64 / rows as f64).max(1.0),
        })
    }

    /// The inverse document frequency of a word that `holding` rows hold,
    /// as FTS5 computes it (never below a millionth, so a match always
    /// adds something).
    pub(super) fn idf(&self, holding: i64) -> f64 {
        let n = (holding.max(0) as f64).min(self.rows);
        ((self.rows - n + 0.5) / (n + 0.5)).ln().max(1e-6)
    }

    /// The score of a row that holds a word with weighted frequency
    /// `frequency` (occurrences times their column's weight) and `tokens`
    /// tokens in all, for a word of inverse document frequency `idf`.
    fn score(&self, idf: f64, frequency: f64, tokens: f64) -> f64 {
        let norm = K1 * (1.0 - B + B * tokens / self.average_tokens);
        idf * frequency * (K1 + 1.0) / (frequency + norm)
    }

    /// The score of an entity's row for a word whose occurrences in the name
    /// and type are `in_name` and `in_type`, of a name and type `tokens`
    /// long. A row the index matched holds the word; should the two
    /// tokenizers disagree about where, it counts once, at the type's weight.
    pub(super) fn entity_row(
        &self,
        idf: f64,
        in_name: usize,
        in_type: usize,
        tokens: usize,
    ) -> f64 {
        let frequency = NAME_WEIGHT * in_name as f64 + TYPE_WEIGHT * in_type as f64;
        let frequency = if frequency > 0.0 {
            frequency
        } else {
            TYPE_WEIGHT
        };
        self.score(idf, frequency, tokens.max(1) as f64)
    }

    /// The most an entity's row can score for a word: one occurrence in its
    /// name, in a row as short as rows get. Used to keep the candidates
    /// whose rows have not been read yet.
    pub(super) fn entity_row_bound(&self, idf: f64) -> f64 {
        self.score(idf, NAME_WEIGHT, 0.0)
    }

    /// The score of an observation's row for a word (see the module doc).
    pub(super) fn observation_row(&self, idf: f64) -> f64 {
        self.score(idf, 1.0, self.average_tokens)
    }
}

/// Reads one of SQLite's varints (big-endian, seven bits a byte with the
/// high bit saying another follows; a ninth byte holds eight) off the front
/// of `bytes`.
fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for i in 0..9 {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        if i == 8 {
            return Some(value << 8 | u64::from(byte));
        }
        value = value << 7 | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_read_as_sqlite_writes_them() {
        let mut one: &[u8] = &[0x05];
        assert_eq!(varint(&mut one), Some(5));
        assert!(one.is_empty());
        // 600,000 as FTS5 wrote it in a real averages record.
        let mut three: &[u8] = &[164, 207, 64, 7];
        assert_eq!(varint(&mut three), Some(600_000));
        assert_eq!(three, &[7]);
        let mut nine: &[u8] = &[0xff; 9];
        assert_eq!(varint(&mut nine), Some(u64::MAX));
        let mut cut: &[u8] = &[0x80];
        assert_eq!(varint(&mut cut), None);
    }

    #[test]
    fn the_averages_record_gives_rows_and_the_average_length() {
        // 4 rows; 8 + 4 + 20 tokens in the three columns.
        let stats = IndexStats::parse(&[4, 8, 4, 20]).expect("a valid record");
        assert_eq!(stats.rows, 4.0);
        assert_eq!(stats.average_tokens, 8.0);
        assert_eq!(IndexStats::parse(&[]), None);
        assert_eq!(IndexStats::parse(&[0, 1]), None);
        assert_eq!(IndexStats::parse(&[4, 0x80]), None);
    }

    #[test]
    fn rarer_words_and_names_score_higher() {
        let stats = IndexStats {
            rows: 1_000.0,
            average_tokens: 10.0,
        };
        let (rare, common) = (stats.idf(3), stats.idf(400));
        assert!(rare > common && common > 0.0);
        assert!(
            stats.idf(1_000) > 0.0,
            "a word every row holds still counts"
        );
        // One occurrence in a row of average length scores the IDF itself.
        assert!((stats.observation_row(rare) - rare).abs() < 1e-9);
        let name = stats.entity_row(rare, 1, 0, 3);
        let in_type = stats.entity_row(rare, 0, 1, 3);
        assert!(name > in_type && in_type > stats.observation_row(rare));
        assert!(stats.entity_row(rare, 1, 1, 3) > name);
        assert!(stats.entity_row_bound(rare) >= name);
        // Longer names dilute a word.
        assert!(stats.entity_row(rare, 1, 0, 3) > stats.entity_row(rare, 1, 0, 30));
    }
}
