//! `search_memory`: entities ranked by the words of a query.
//!
//! # Words
//! A word is a run of letters and digits, with `_`, `-` and `.` kept inside
//! it, so identifiers such as `foo_bar`, `my-crate` and `v2.1` stay whole. A
//! `.` or `-` at either end is dropped, so the `rust.` that ends a sentence
//! is the word `rust`. A word with inner `_ - .` is indexed whole *and* as its
//! parts (`my-crate` also as `my` and `crate`), so both the identifier and
//! its pieces find it. [`index_text`] prepares the text the word index holds;
//! FTS5's `unicode61` tokenizer then folds case and removes diacritics, on
//! the index and on the query alike, so `cafe` finds `Café`.
//!
//! # Ranking
//! Each distinct query word (at most [`MAX_WORDS`]) is looked up on its own,
//! quoted, so no character of a query is ever FTS5 syntax; only the ids of
//! the rows that hold it are read. A hit's score for one word is the best
//! BM25 of that word over the entity's rows, as [`super::bm25`] computes it
//! (a word in the name weighs 10, in the type 4, in an observation 1), so an
//! entity is scored by its best observations, not by how many it has. The
//! entity's score is the sum
//! over the words it matches, plus a bonus when the whole query is a
//! substring in the official sense (`search_nodes`'s rule, so whatever
//! `search_nodes` finds is found here too), and a large one when the query
//! *is* its name, case folded. Hits are ordered by the exact name first,
//! then by how many distinct query words they match (a substring hit counts
//! as matching all), then by score; ties go to the most recently updated.
//!
//! Which hits count: all words must match when that gives at least `limit`
//! results; otherwise fewer may, but with three or more words a hit must
//! match at least two. Substring hits always count.
//!
//! # Projects
//! An entity belongs to a project when a change made in that project
//! touched it (`changes.project` through `change_entities`, looked up for
//! the candidates only). `scope: "project"` drops the candidates that only
//! other projects touched, before any cut, and its own entities score
//! `PROJECT_BOOST` times more. `scope: "all"` gives the same boost to its
//! own entities among the best `BOOSTED` hits (the largest page), so
//! the lookup costs a few dozen index reads, not one per candidate. Either
//! way the boost reorders hits within a tier of matched words and never
//! passes an exact name.
//!
//! Common words: a word held by more than `COMMON_ROWS` index rows (found
//! by reading its rows up to one more, and then remembered for a minute) is
//! left out when the query has rarer words: its BM25 weight is small, and
//! reading every row that holds it is what would make a search slow. A
//! query of only common words looks for the rows that hold all of them. Either way the substring rule still
//! applies to the whole query.
//!
//! # Paging
//! Scores drift while other sessions write (a new observation, a changed
//! word count), so a cursor that remembered a score would repeat or skip
//! entities. Instead the first page's ranking is kept: the ordered ids of up
//! to [`MAX_RANKED`] hits, in a small in-memory table of recent rankings
//! ([`Rankings`]). A cursor names the ranking and an offset into it, so later
//! pages walk exactly the order of the first: an entity that existed for the
//! whole paging appears exactly once (one deleted meanwhile is left out; one
//! created meanwhile is not part of this search). A ranking lives until
//! [`KEPT_RANKINGS`] newer ones push it out or the daemon restarts; its cursor
//! then answers that it expired, and the agent searches again.
//!
//! # The size guard
//! With a budget, a page keeps its results while the rendered answer (the
//! text lines and the JSON items, counted from the very pieces the renderer
//! uses, [`crate::measure::retrieval`]) leaves room for the cursor and the
//! notice; the cursor's offset is then the ranking position right after the
//! last result shown. A complete page that fits whole is never cut. The
//! first result is always shown, its snippet shortened (never its name) when
//! it alone is over, so every page moves on.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use super::bm25::IndexStats;
use super::grams::Grams;
use super::read::{self, all_of, distinctive, trigrams};
use super::word_rows::WordRows;
use super::StoreError;
use crate::limits::LimitError;
use crate::measure::retrieval::{chars, compact, ranked_item, ranked_line, RANKED_FOOTER};
use crate::model::{
    Budget, MemorySearch, RankResume, RankedEntity, RankedPage, SearchScope, Truncation,
};

/// Query words looked up; the rest of a long query only counts through the
/// substring rule.
pub const MAX_WORDS: usize = 16;
/// The schema version that brought the word index (migration 4).
const WORD_INDEX_SCHEMA: u32 = 4;
/// The schema version that brought history, and with it projects.
const HISTORY_SCHEMA: u32 = 6;
/// Hits a ranking keeps for paging.
pub const MAX_RANKED: usize = 1_000;
/// Rankings kept for their cursors.
pub const KEPT_RANKINGS: usize = 64;
/// Index rows read per term. Only their ids are read, a fraction of a
/// microsecond each, so a word that is not common has every row read; a
/// query of only common words has the first this many rows that hold them
/// all, in rowid order (entities' own rows first, then observations by
/// entity).
const ROWS_PER_WORD: i64 = COMMON_ROWS;
/// Index rows whose text is checked against the substring rule, per kind
/// (names and types, observations), in rowid order: more than this many
/// rows only hold a query's words when they are common, and then the
/// ranking keeps at most [`MAX_RANKED`] hits anyway.
const SUBSTRING_ROWS: i64 = 5_000;
/// Characters of a snippet.
pub const SNIPPET_CHARS: usize = 200;

const EXACT_NAME_BONUS: f64 = 1_000.0;
const SUBSTRING_IN_NAME_BONUS: f64 = 3.0;
const SUBSTRING_BONUS: f64 = 1.0;
/// The best candidates among which `scope: "all"` looks for the session's
/// own entities: as many as the largest page. Looking a project up costs a
/// few microseconds per candidate, a third of a search when every
/// candidate was looked up.
const BOOSTED: usize = 50;
/// How much more an entity of the session's project scores. It orders hits
/// that match as many query words; it never lifts one over a hit that
/// matches more words, nor over an exact name.
const PROJECT_BOOST: f64 = 1.25;

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// The words of `text`, each with its edge `.` and `-` dropped.
fn raw_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c))
        .map(|w| w.trim_matches(|c| c == '.' || c == '-'))
        .filter(|w| !w.is_empty())
}

/// The text the word index holds for `text`: its words separated by spaces,
/// each compound word followed by its parts.
pub fn index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for word in raw_words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if word.contains(['_', '-', '.']) {
            for part in word.split(['_', '-', '.']).filter(|p| !p.is_empty()) {
                out.push(' ');
                out.push_str(part);
            }
        }
    }
    out
}

/// The distinct words of a query, lower-cased, in order, at most
/// [`MAX_WORDS`].
pub fn query_words(query: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in raw_words(query) {
        let word = word.to_lowercase();
        if !words.contains(&word) {
            words.push(word);
        }
        if words.len() == MAX_WORDS {
            break;
        }
    }
    words
}

/// One ranked hit: the entity and its score in hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    id: i64,
    score: i64,
}

/// What a ranking was made for, so a cursor cannot resume another one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    query: String,
    entity_types: Vec<String>,
    scope: SearchScope,
    project: Option<String>,
}

/// Recent rankings, by id, for their cursors (see the module doc), and a
/// short memory of how many index rows hold each word looked up.
#[derive(Debug)]
pub struct Rankings {
    /// The schema version of the database searched: an older one, opened
    /// read-only, may lack the word index or history.
    schema: u32,
    /// Whether rows queued for the indexes are searched as candidates (a
    /// store that cannot write, or could not index them just now; see
    /// [`super::backlog`]).
    backlog: std::cell::Cell<bool>,
    inner: RefCell<RankingsInner>,
    /// Word (folded) → what is known of the rows holding it, and since
    /// when. Counts decide which words are common and weigh only common
    /// words, so a minute-old count is good enough.
    word_rows: RefCell<HashMap<String, (Holding, std::time::Instant)>>,
}

/// What is known of how many rows of the word index hold a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holding {
    /// Exactly this many (FTS5's vocabulary said so).
    Exactly(i64),
    /// More than [`COMMON_ROWS`] (reading them stopped there).
    Common,
}

/// How long a word's row count is reused.
const WORD_ROWS_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// Words whose row counts are remembered at most.
const WORD_ROWS_KEPT: usize = 20_000;

#[derive(Debug)]
struct RankingsInner {
    next_id: u64,
    kept: VecDeque<(u64, Key, Vec<Hit>)>,
}

impl Rankings {
    /// Which trigram tables the database searched has.
    pub(super) fn grams(&self) -> Grams {
        match Grams::for_schema(self.schema) {
            Grams::Merged if self.backlog.get() => Grams::MergedWithBacklog,
            layout => layout,
        }
    }

    /// Whether substring searches take the rows queued for the indexes as
    /// candidates too: while the store cannot index them (it cannot write,
    /// or indexing just failed, on a full disk say).
    pub(super) fn search_backlog(&self, unindexed: bool) {
        self.backlog.set(unindexed);
    }

    /// The schema version of the database searched.
    pub(super) fn schema(&self) -> u32 {
        self.schema
    }

    /// How the database searched numbers its word-index rows.
    pub(super) fn word_rows(&self) -> WordRows {
        WordRows::for_schema(self.schema)
    }

    /// For a database of the current schema.
    pub fn new() -> Rankings {
        Rankings::for_schema(super::schema::supported_version())
    }

    /// For a database of schema version `schema`.
    pub fn for_schema(schema: u32) -> Rankings {
        // Ids start somewhere new in every process, so a cursor from before
        // a restart finds nothing instead of another search's ranking.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (u64::from(std::process::id()) << 40);
        Rankings {
            schema,
            backlog: std::cell::Cell::new(false),
            inner: RefCell::new(RankingsInner {
                next_id: seed.max(1),
                kept: VecDeque::new(),
            }),
            word_rows: RefCell::new(HashMap::new()),
        }
    }

    /// What is remembered, and still fresh, of the rows holding `word`.
    fn holding(&self, word: &str) -> Option<Holding> {
        let cache = self.word_rows.borrow();
        let (holding, at) = cache.get(&fold(word))?;
        (at.elapsed() < WORD_ROWS_TTL).then_some(*holding)
    }

    fn remember(&self, word: &str, holding: Holding) {
        let mut cache = self.word_rows.borrow_mut();
        if cache.len() >= WORD_ROWS_KEPT {
            cache.clear();
        }
        cache.insert(fold(word), (holding, std::time::Instant::now()));
    }

    /// Whether `word` was found common a short while ago.
    fn known_common(&self, word: &str) -> bool {
        match self.holding(word) {
            Some(Holding::Common) => true,
            Some(Holding::Exactly(rows)) => rows > COMMON_ROWS,
            None => false,
        }
    }

    fn keep(&self, key: Key, hits: Vec<Hit>) -> u64 {
        let mut inner = self.inner.borrow_mut();
        let id = inner.next_id;
        inner.next_id = inner.next_id.wrapping_add(1).max(1);
        if inner.kept.len() == KEPT_RANKINGS {
            inner.kept.pop_front();
        }
        inner.kept.push_back((id, key, hits));
        id
    }

    fn find(&self, id: u64, key: &Key) -> Option<Vec<Hit>> {
        let inner = self.inner.borrow();
        inner
            .kept
            .iter()
            .find(|(kept, k, _)| *kept == id && k == key)
            .map(|(_, _, hits)| hits.clone())
    }
}

impl Default for Rankings {
    fn default() -> Self {
        Rankings::new()
    }
}

/// Runs `search_memory`.
pub(super) fn search_memory(
    conn: &Connection,
    rankings: &Rankings,
    q: &MemorySearch,
) -> Result<RankedPage, StoreError> {
    let key = Key {
        query: q.query.clone(),
        entity_types: q.entity_types.clone(),
        scope: q.scope,
        project: q.project.clone(),
    };
    if rankings.schema < WORD_INDEX_SCHEMA {
        return Err(StoreError::Refused(format!(
            "search_memory needs the word index, which this database does not have yet: an older \
             memgraphd made it (schema version {}), and it is open read-only, so it cannot be \
             upgraded. Use search_nodes meanwhile; once the file can be written, restart the \
             daemon (memgraphd stop; the next session starts it) to upgrade it.",
            rankings.schema
        )));
    }
    let limit = q.limit as usize;
    let (hits, snapshot, offset) = match q.resume {
        Some(resume) => {
            let hits = rankings
                .find(resume.snapshot, &key)
                .ok_or_else(|| StoreError::Invalid(expired()))?;
            (hits, Some(resume.snapshot), resume.offset as usize)
        }
        None => (rank(conn, rankings, q)?, None, 0),
    };
    let end = (offset + limit).min(hits.len());
    let page = &hits[offset.min(end)..end];
    let mut results = details(conn, page, &q.query)?;
    let mut more = end < hits.len();
    // Ranking positions taken by the page (deleted hits included), so the
    // cursor resumes right after the last result shown.
    let mut taken = end.saturating_sub(offset);
    let mut truncated = None;
    if let Some(budget) = q.budget {
        let keep = fit_ranked(&mut results, more, budget);
        if keep < results.len() {
            taken = results[keep].0;
            results.truncate(keep);
            more = true;
            truncated = Some(Truncation {
                shown: keep as u64,
                remaining: hits.len().saturating_sub(offset) as u64,
            });
        }
    }
    let next = if more {
        let snapshot = snapshot.unwrap_or_else(|| rankings.keep(key, hits.clone()));
        Some(RankResume {
            snapshot,
            offset: (offset + taken) as u32,
        })
    } else {
        None
    };
    Ok(RankedPage {
        results: results.into_iter().map(|(_, r)| r).collect(),
        next,
        truncated,
    })
}

/// How many of `results` a page keeps under `budget` (see the module doc):
/// all of them when the answer is complete and fits; otherwise the longest
/// prefix that leaves room for the guard's fields, and at least one, whose
/// snippet is cut until it fits.
fn fit_ranked(results: &mut [(usize, RankedEntity)], more: bool, budget: Budget) -> usize {
    let sizes: Vec<(u64, u64)> = results
        .iter()
        .enumerate()
        .map(|(i, (_, r))| ranked_size(i + 1, r))
        .collect();
    // The footer line and `{"results":[` … `]}`; a line break after each
    // result, a comma between two.
    let (frame_text, frame_json) = (chars(RANKED_FOOTER), 14);
    let total = |k: usize| {
        let (t, j) = sizes[..k]
            .iter()
            .fold((frame_text, frame_json), |(t, j), (a, b)| {
                (t + a + 1, j + b + 1)
            });
        (t, j - u64::from(k > 0))
    };
    let (text, json) = total(results.len());
    if !more && text <= budget.chars && json <= budget.chars {
        return results.len();
    }
    let fits = |(t, j): (u64, u64)| t.max(j) + budget.reserve <= budget.chars;
    let keep = (0..=results.len())
        .rev()
        .find(|&k| fits(total(k)))
        .unwrap_or(0);
    if keep > 0 || results.is_empty() {
        return keep;
    }
    // The first result alone is too large: shorten its snippet, never its
    // name, as far as that goes.
    let r = &mut results[0].1;
    loop {
        let (t, j) = ranked_size(1, r);
        let over = (frame_text + t + 1).max(frame_json + j) + budget.reserve;
        let snippet: Vec<char> = r.snippet.chars().collect();
        if over <= budget.chars || snippet.is_empty() {
            break;
        }
        let cut = (over - budget.chars) as usize + 1;
        let end = snippet.len().saturating_sub(cut);
        r.snippet = if end == 0 {
            String::new()
        } else {
            snippet[..end].iter().collect::<String>() + "…"
        };
    }
    1
}

/// A result's characters in the text (its line) and in the JSON (its item).
fn ranked_size(number: usize, r: &RankedEntity) -> (u64, u64) {
    (chars(&ranked_line(number, r)), compact(&ranked_item(r)))
}

fn expired() -> LimitError {
    LimitError {
        path: "cursor".into(),
        problem: "this search_memory cursor has expired (the memory restarted or many searches \
                  ran since); search again without it"
            .into(),
    }
}

/// Every hit of the query, best first, at most [`MAX_RANKED`].
fn rank(conn: &Connection, rankings: &Rankings, q: &MemorySearch) -> Result<Vec<Hit>, StoreError> {
    if q.scope == SearchScope::Project && q.project.is_none() {
        return Err(StoreError::Invalid(no_project()));
    }
    let all_words = query_words(&q.query);
    let stats = IndexStats::read(conn)?;
    let terms = rankable(conn, rankings, &stats, &all_words)?;
    let matches = word_matches(conn, rankings, &terms)?;
    let substring = substring_hits(conn, rankings, &q.query)?;

    // Which word hits count (see the module doc).
    let all = terms.len();
    let full = matches.values().filter(|m| m.count() == all).count();
    let least = if full >= q.limit as usize {
        all
    } else if all >= 3 {
        2
    } else {
        1
    };
    // Until names and types are read, an entity's own row scores as much as
    // such a row can.
    let mut scores: HashMap<i64, f64> = matches
        .iter()
        .filter(|(_, m)| m.count() >= least)
        .map(|(id, m)| (*id, m.score(&terms, &stats, None)))
        .collect();
    let mut substring_by_entity: HashMap<i64, bool> = HashMap::new();
    for (id, in_name) in substring {
        *substring_by_entity.entry(id).or_insert(false) |= in_name;
    }
    let in_names: Vec<i64> = substring_by_entity
        .iter()
        .filter(|(_, in_name)| **in_name)
        .map(|(id, _)| *id)
        .collect();
    let literal: std::collections::HashSet<i64> = substring_by_entity.keys().copied().collect();
    for (id, in_name) in substring_by_entity {
        let bonus = if in_name {
            SUBSTRING_IN_NAME_BONUS
        } else {
            SUBSTRING_BONUS
        };
        *scores.entry(id).or_insert(0.0) += bonus;
    }
    if scores.is_empty() {
        return Ok(Vec::new());
    }
    // The project: `scope: "project"` keeps its entities (and those of no
    // project) before any cut, so a broad query cannot crowd them out.
    let mut own: std::collections::HashSet<i64> = std::collections::HashSet::new();
    if q.scope == SearchScope::Project {
        let project = q.project.as_deref().unwrap_or_default();
        let ids: Vec<i64> = scores.keys().copied().collect();
        let ties = project_ties(conn, rankings, &ids, project)?;
        scores.retain(|id, _| ties.get(id).is_none_or(|t| *t != Tie::Elsewhere));
        own.extend(
            ties.iter()
                .filter(|(_, t)| **t == Tie::Own)
                .map(|(id, _)| *id),
        );
        if scores.is_empty() {
            return Ok(Vec::new());
        }
    }

    // Names, types and ages of the candidates: for the exact-name bonus,
    // the type filter and the tie-break. Without a type filter only the
    // best-scored candidates can be ranked, and those whose name holds the
    // query (where an exact name is), so only those are read.
    // Holding the whole query counts as matching all of its words.
    let words_of = |id: i64| {
        if literal.contains(&id) {
            all
        } else {
            matches.get(&id).map_or(0, Matched::count)
        }
    };
    let mut candidates: Vec<(i64, f64)> = scores.iter().map(|(id, s)| (*id, *s)).collect();
    if q.entity_types.is_empty() && candidates.len() > MAX_RANKED {
        candidates.select_nth_unstable_by(MAX_RANKED, |a, b| {
            words_of(b.0).cmp(&words_of(a.0)).then(b.1.total_cmp(&a.1))
        });
        candidates.truncate(MAX_RANKED);
        let kept: std::collections::HashSet<i64> = candidates.iter().map(|c| c.0).collect();
        for id in in_names {
            if let Some(score) = scores.get(&id).filter(|_| !kept.contains(&id)) {
                candidates.push((id, *score));
            }
        }
    }
    // In id order, so rows next to each other in the table are read together.
    candidates.sort_unstable_by_key(|(id, _)| *id);
    let ids = read::array(candidates.iter().map(|(id, _)| Value::Integer(*id)));
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, entity_type, updated_at FROM entities WHERE id IN rarray(?1)",
    )?;
    let mut rows = stmt.query([ids])?;
    let folded = q.query.trim().to_lowercase();
    // (exact name, query words matched, score, updated_at, id, name), best
    // first.
    let mut ranked: Vec<(bool, usize, f64, i64, i64, String)> = Vec::with_capacity(scores.len());
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let name: String = row.get(1)?;
        let entity_type: String = row.get(2)?;
        if !q.entity_types.is_empty() && !q.entity_types.contains(&entity_type) {
            continue;
        }
        let mut score = scores.get(&id).copied().unwrap_or(0.0);
        if let Some(m) = matches.get(&id).filter(|m| m.own_row != 0) {
            // The name and type are known now: their rows score exactly.
            score += m.score(&terms, &stats, Some((&name, &entity_type)))
                - m.score(&terms, &stats, None);
        }
        if own.contains(&id) {
            score *= PROJECT_BOOST;
        }
        let exact = name.to_lowercase() == folded;
        ranked.push((exact, words_of(id), score, row.get(3)?, id, name));
    }
    let order = |a: &(bool, usize, f64, i64, i64, String),
                 b: &(bool, usize, f64, i64, i64, String)| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(b.2.total_cmp(&a.2))
            .then(b.3.cmp(&a.3))
            .then(b.4.cmp(&a.4))
    };
    ranked.sort_by(order);
    // `scope: "all"` ranks the project's entities higher, among the best
    // [`BOOSTED`] candidates (see the module doc).
    if let (SearchScope::All, Some(project)) = (q.scope, q.project.as_deref()) {
        let boosted = BOOSTED.min(ranked.len());
        let best = &mut ranked[..boosted];
        let names: Vec<&str> = best.iter().map(|r| r.5.as_str()).collect();
        let own = own_names(conn, rankings, &names, project)?;
        if !own.is_empty() {
            for r in best.iter_mut().filter(|r| own.contains(&r.5)) {
                r.2 *= PROJECT_BOOST;
            }
            best.sort_by(order);
        }
    }
    ranked.truncate(MAX_RANKED);
    Ok(ranked
        .into_iter()
        .map(|(exact, _, score, _, id, _)| Hit {
            id,
            score: ((score + if exact { EXACT_NAME_BONUS } else { 0.0 }) * 100.0).round() as i64,
        })
        .collect())
}

/// How an entity stands to the session's project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tie {
    /// A change made in the project touched it.
    Own,
    /// Only changes made in other projects (and maybe in none) touched it.
    Elsewhere,
}

/// The ties of the entities `ids` to `project`; an entity no change made in
/// any project touched has none.
fn project_ties(
    conn: &Connection,
    rankings: &Rankings,
    ids: &[i64],
    project: &str,
) -> Result<HashMap<i64, Tie>, StoreError> {
    if rankings.schema < HISTORY_SCHEMA {
        // Before history no change recorded a project: nothing is tied.
        return Ok(HashMap::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, max(c.project = ?2), max(c.project IS NOT NULL)
         FROM entities e
         JOIN change_entities ce ON ce.entity_name = e.name
         JOIN changes c ON c.id = ce.change_id
         WHERE e.id IN rarray(?1)
         GROUP BY e.id",
    )?;
    let ids = read::array(ids.iter().map(|id| Value::Integer(*id)));
    let mut rows = stmt.query(rusqlite::params![ids, project])?;
    let mut ties = HashMap::new();
    while let Some(row) = rows.next()? {
        let own: Option<bool> = row.get(1)?;
        let tied: Option<bool> = row.get(2)?;
        let tie = match (own, tied) {
            (Some(true), _) => Tie::Own,
            (_, Some(true)) => Tie::Elsewhere,
            _ => continue,
        };
        ties.insert(row.get(0)?, tie);
    }
    Ok(ties)
}

/// The names among `names` of entities that a change made in `project`
/// touched.
fn own_names(
    conn: &Connection,
    rankings: &Rankings,
    names: &[&str],
    project: &str,
) -> Result<std::collections::HashSet<String>, StoreError> {
    if rankings.schema < HISTORY_SCHEMA || names.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let mut stmt = conn.prepare_cached(
        // CROSS JOIN keeps this order: a project's changes can be many
        // more than the names asked.
        "SELECT DISTINCT ce.entity_name
         FROM change_entities ce CROSS JOIN changes c ON c.id = ce.change_id
         WHERE ce.entity_name IN rarray(?1) AND c.project = ?2",
    )?;
    let names = read::array(names.iter().map(|n| Value::Text((*n).to_owned())));
    let own = stmt
        .query_map(rusqlite::params![names, project], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(own)
}

fn no_project() -> LimitError {
    LimitError {
        path: "scope".into(),
        problem: "\"project\" needs the session's project, and this session has none (over \
                  HTTP a session has one only when its client offers MCP roots); use \
                  scope \"all\""
            .into(),
    }
}

/// The entities `search_nodes` would find for `query`, each with whether
/// the query is in its name or type. Names and types are checked among the
/// rows the trigram index gives, at most [`SUBSTRING_ROWS`]; observations
/// among those the word index narrows a query of several words to
/// ([`observation_phrase`]), else those the trigram index gives, at most
/// [`SUBSTRING_ROWS`] too. Queries under three characters scan, and keep the
/// first [`MAX_RANKED`] rows of each kind.
fn substring_hits(
    conn: &Connection,
    rankings: &Rankings,
    query: &str,
) -> Result<Vec<(i64, bool)>, StoreError> {
    let (layout, numbering) = (rankings.grams(), rankings.word_rows());
    let needle = query.to_lowercase();
    let grams = trigrams(&needle);
    let picked = all_of(&with_spanning(&grams));
    // The query's words were all looked up by then, so whether the last one
    // is common is known.
    let phrase = observation_phrase(&needle, |last| rankings.known_common(last));
    let (entity_rows, observation_rows) = if grams.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!("e.id IN ({} LIMIT :rows) AND ", layout.entity_ids(":grams")),
            if phrase.is_some() {
                // Observations have positive rowids in the word index, names
                // and types negative ones.
                format!(
                    "o.id IN (SELECT {} FROM word_fts WHERE word_fts MATCH :phrase \
                     AND rowid > 0 LIMIT :rows) AND ",
                    numbering.observation_id_sql()
                )
            } else {
                format!(
                    "o.id IN ({} LIMIT :rows) AND ",
                    layout.observation_ids(":grams")
                )
            },
        )
    };
    let cap = if grams.is_empty() { " LIMIT :cap" } else { "" };
    let mut hits = Vec::new();
    for (sql, in_name) in [
        (
            format!(
                "SELECT e.id FROM entities e WHERE {entity_rows}
                 (instr(memgraphd_lower(e.name), :needle) > 0
                  OR instr(memgraphd_lower(e.entity_type), :needle) > 0){cap}"
            ),
            true,
        ),
        (
            format!(
                "SELECT o.entity_id FROM observations o WHERE {observation_rows}
                 instr(memgraphd_lower(o.content), :needle) > 0{cap}"
            ),
            false,
        ),
    ] {
        let mut stmt = conn.prepare_cached(&sql)?;
        let cap_value = MAX_RANKED as i64;
        let mut params: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":needle", &needle)];
        if grams.is_empty() {
            params.push((":cap", &cap_value));
        } else {
            match (in_name, &phrase) {
                (false, Some(phrase)) => params.push((":phrase", phrase)),
                _ => params.push((":grams", &picked)),
            }
            params.push((":rows", &SUBSTRING_ROWS));
        }
        let mut rows = stmt.query(params.as_slice())?;
        while let Some(row) = rows.next()? {
            hits.push((row.get(0)?, in_name));
        }
    }
    Ok(hits)
}

/// The trigrams a candidate row must hold: for a query of several words the
/// two most distinctive and the most distinctive of those that span a space
/// between two words (`r a` of `cur and`), which say that the words are next
/// to each other; for one word, the [`read::REQUIRED`] most distinctive.
/// Each posting list more costs more than the candidates it saves: on the
/// search benchmark's names, two and one spanning took 0.10 ms at p50 and
/// 0.3 ms at p99, three and every spanning one 0.22 ms and 2 ms.
fn with_spanning(grams: &[String]) -> Vec<String> {
    let spanning: Vec<String> = grams
        .iter()
        .filter(|g| g.chars().nth(1) == Some(' '))
        .cloned()
        .collect();
    if spanning.is_empty() {
        return distinctive(grams, read::REQUIRED);
    }
    let mut picked = distinctive(grams, 2);
    for gram in distinctive(&spanning, 1) {
        if !picked.contains(&gram) {
            picked.push(gram);
        }
    }
    picked
}

/// For a query of several words, an FTS5 phrase for the observations that
/// can hold it as a substring: its words as whole words, next to each
/// other, the last one as the start of a word (`"first … last"*`). Inner
/// words are plain, so no compound's parts (which the index holds right
/// after the compound) can come between them.
///
/// One substring hit is given up for speed, since reading every row that
/// holds the later words is what made a search of common words slow: an
/// observation that holds the query only from inside a longer first word
/// (`ello world` in `hello world`); and, when the last word is common
/// (more than [`COMMON_ROWS`] rows hold it), one that holds the query only
/// inside a longer last word (`hello wor` in `hello world`, with `wor`
/// common): FTS5 expands a prefix by merging the whole posting list of
/// every word it starts, where a whole word is sought, so a common last
/// word made a search ten times slower. Names and types lose neither. A
/// first word that is not plain is left to the substring check (the
/// phrase then starts at the second word).
///
/// `None` when the words do not narrow enough (one word, a last word under
/// three characters) or the words after the first hold characters the word index
/// treats otherwise (`_ - .`).
fn observation_phrase(needle: &str, last_is_common: impl FnOnce(&str) -> bool) -> Option<String> {
    let words: Vec<&str> = needle.split(' ').collect();
    if words.len() < 2 || words.iter().any(|w| w.is_empty()) {
        return None;
    }
    let plain = |w: &str| w.chars().all(char::is_alphanumeric);
    if !words[1..].iter().all(|w| plain(w)) {
        return None;
    }
    let last = words[words.len() - 1];
    // A short last word starts too many words to expand.
    if last.chars().count() < 3 {
        return None;
    }
    let phrase = if plain(words[0]) {
        &words[..]
    } else {
        &words[1..]
    };
    let prefix = if last_is_common(last) { "" } else { "*" };
    Some(format!("{}{prefix}", quote(&phrase.join(" "))))
}

/// Words that match in more index rows than this are too common to rank
/// by when rarer ones are in the query (their BM25 weight is small, and
/// scoring every row that holds them is what would make a search slow).
const COMMON_ROWS: i64 = 10_000;

/// What the word index is asked for one query word, or for a query of only
/// common words, all of them at once.
#[derive(Debug)]
struct Term {
    /// The FTS5 query: each word quoted.
    phrase: String,
    /// The words, each with its inverse document frequency.
    words: Vec<(String, f64)>,
    /// The rows that hold it, when they have been read already.
    rows: Option<Vec<i64>>,
}

/// The query words to score (see the module doc on common words): each
/// word held by at most [`COMMON_ROWS`] rows (or by none) as a term of its
/// own; when every word is common, one term that asks for rows holding them
/// all. At most [`MAX_WORDS`] terms, so a term is a bit of a `u16`.
///
/// A word's rows are read to count them, up to one more than
/// [`COMMON_ROWS`]: that costs less than FTS5's vocabulary, which counts by
/// reading the whole posting list, and the rows of a word that is not common
/// are the ones to score anyway. A word found common is remembered for a
/// while ([`Rankings`]), so its rows are not read again and again.
fn rankable(
    conn: &Connection,
    rankings: &Rankings,
    stats: &IndexStats,
    words: &[String],
) -> Result<Vec<Term>, StoreError> {
    let mut rare = Vec::new();
    let mut common = Vec::new();
    for word in words {
        if rankings.known_common(word) {
            common.push(word);
            continue;
        }
        let phrase = quote(word);
        let rows = term_rows(conn, &phrase, COMMON_ROWS + 1)?;
        let holding = rows.len() as i64;
        if holding > COMMON_ROWS {
            rankings.remember(word, Holding::Common);
            common.push(word);
        } else {
            rare.push(Term {
                phrase,
                words: vec![(word.clone(), stats.idf(holding))],
                rows: Some(rows),
            });
        }
    }
    if !rare.is_empty() || common.is_empty() {
        return Ok(rare);
    }
    let mut counted = Vec::with_capacity(common.len());
    for word in common {
        counted.push((word.clone(), stats.idf(word_rows(conn, rankings, word)?)));
    }
    Ok(vec![Term {
        phrase: counted
            .iter()
            .map(|(w, _)| quote(w))
            .collect::<Vec<_>>()
            .join(" "),
        words: counted,
        rows: None,
    }])
}

/// The ids of the first `limit` rows of the word index that match the FTS5
/// query `phrase`, in rowid order.
fn term_rows(conn: &Connection, phrase: &str, limit: i64) -> Result<Vec<i64>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT rowid FROM word_fts WHERE word_fts MATCH ?1 LIMIT ?2")?;
    let rows = stmt
        .query_map(rusqlite::params![phrase, limit], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The terms an entity matched: bit `i` stands for `terms[i]`.
#[derive(Debug, Clone, Copy, Default)]
struct Matched {
    /// Terms one of its observations holds.
    observations: u16,
    /// Terms its own row (name and type) holds.
    own_row: u16,
}

impl Matched {
    /// How many terms it matched.
    fn count(&self) -> usize {
        (self.observations | self.own_row).count_ones() as usize
    }

    /// Its score: per term, the best of its rows (see [`super::bm25`]). An
    /// own row scores from `name_and_type` when they are given, else as
    /// much as it can.
    fn score(
        &self,
        terms: &[Term],
        stats: &IndexStats,
        name_and_type: Option<(&str, &str)>,
    ) -> f64 {
        let tokens = |text: &str| -> Vec<String> {
            index_text(&fold(text))
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let own = name_and_type.map(|(name, entity_type)| (tokens(name), tokens(entity_type)));
        let mut total = 0.0;
        for (i, term) in terms.iter().enumerate() {
            let bit = 1u16 << i;
            let mut best: f64 = 0.0;
            if self.observations & bit != 0 {
                best = term
                    .words
                    .iter()
                    .map(|(_, idf)| stats.observation_row(*idf))
                    .sum();
            }
            if self.own_row & bit != 0 {
                let row: f64 = term
                    .words
                    .iter()
                    .map(|(word, idf)| match &own {
                        Some((name, entity_type)) => {
                            let word = fold(word);
                            let count = |ts: &[String]| ts.iter().filter(|t| **t == word).count();
                            stats.entity_row(
                                *idf,
                                count(name),
                                count(entity_type),
                                name.len() + entity_type.len(),
                            )
                        }
                        None => stats.entity_row_bound(*idf),
                    })
                    .sum();
                best = best.max(row);
            }
            total += best;
        }
        total
    }
}

/// The entities the terms match, each with the terms it matched. Only row
/// ids are read from the index, every row of a term up to [`ROWS_PER_WORD`]:
/// that is what keeps a search fast (see [`super::bm25`]).
fn word_matches(
    conn: &Connection,
    rankings: &Rankings,
    terms: &[Term],
) -> Result<HashMap<i64, Matched>, StoreError> {
    let mut matches: HashMap<i64, Matched> = HashMap::new();
    let mut unowned: Vec<(i64, u16)> = Vec::new();
    let numbering = rankings.word_rows();
    for (i, term) in terms.iter().enumerate() {
        let bit = 1u16 << i;
        let fetched;
        let rows = match &term.rows {
            Some(rows) => rows,
            None => {
                fetched = term_rows(conn, &term.phrase, ROWS_PER_WORD)?;
                &fetched
            }
        };
        for &rowid in rows {
            if rowid < 0 {
                matches.entry(-rowid).or_default().own_row |= bit;
            } else if let Some(entity) = numbering.owner(rowid) {
                matches.entry(entity).or_default().observations |= bit;
            } else {
                unowned.push((rowid, bit));
            }
        }
    }
    if !unowned.is_empty() {
        // An older numbering: the rows name observations, whose entities
        // are looked up.
        let ids = read::array(unowned.iter().map(|(id, _)| Value::Integer(*id)));
        let mut owners: HashMap<i64, i64> = HashMap::with_capacity(unowned.len());
        let mut stmt =
            conn.prepare_cached("SELECT id, entity_id FROM observations WHERE id IN rarray(?1)")?;
        let mut rows = stmt.query([ids])?;
        while let Some(row) = rows.next()? {
            owners.insert(row.get(0)?, row.get(1)?);
        }
        for (rowid, bit) in unowned {
            if let Some(&entity) = owners.get(&rowid) {
                matches.entry(entity).or_default().observations |= bit;
            }
        }
    }
    Ok(matches)
}

/// How many rows of the word index hold `word`, from the short memory of
/// [`Rankings`] when it is fresh, else from FTS5's vocabulary.
fn word_rows(conn: &Connection, rankings: &Rankings, word: &str) -> Result<i64, StoreError> {
    if let Some(Holding::Exactly(rows)) = rankings.holding(word) {
        return Ok(rows);
    }
    // The index folds diacritics; a word it folds differently counts as rare.
    let rows: i64 = conn
        .prepare_cached("SELECT doc FROM temp.word_vocab WHERE term = ?1")?
        .query_row([fold(word)], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    rankings.remember(word, Holding::Exactly(rows));
    Ok(rows)
}

fn quote(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// The results of one page: each hit as it is now, with its position in
/// the page. A hit deleted since the ranking was made is left out.
fn details(
    conn: &Connection,
    page: &[Hit],
    query: &str,
) -> Result<Vec<(usize, RankedEntity)>, StoreError> {
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let ids = read::array(page.iter().map(|h| Value::Integer(h.id)));
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.name, e.entity_type, e.updated_at, o.content
         FROM entities e LEFT JOIN observations o ON o.entity_id = e.id
         WHERE e.id IN rarray(?1)
         ORDER BY e.id, o.id",
    )?;
    let mut rows = stmt.query([ids])?;
    let mut found: HashMap<i64, (String, String, i64, Vec<String>)> = HashMap::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let observation: Option<String> = row.get(4)?;
        let entry = match found.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((row.get(1)?, row.get(2)?, row.get(3)?, Vec::new()))
            }
        };
        entry.3.extend(observation);
    }
    let words = query_words(query);
    Ok(page
        .iter()
        .enumerate()
        .filter_map(|(at, hit)| {
            let (name, entity_type, updated_at, observations) = found.remove(&hit.id)?;
            let entity = RankedEntity {
                snippet: snippet(&name, &observations, &words, query),
                observation_count: observations.len() as u64,
                name,
                entity_type,
                score_hundredths: hit.score,
                updated_at,
            };
            Some((at, entity))
        })
        .collect())
}

/// The observation that best matches the query (most query words, then the
/// whole query as a substring), cut to [`SNIPPET_CHARS`] around its first
/// match; the name when no observation matches.
pub fn snippet(name: &str, observations: &[String], words: &[String], query: &str) -> String {
    let needle = query.to_lowercase();
    let mut best: Option<(usize, &String)> = None;
    let words: Vec<String> = words.iter().map(|w| fold(w)).collect();
    for o in observations {
        let own = index_text(&fold(o));
        let own: std::collections::HashSet<&str> = own.split(' ').collect();
        let mut score = words.iter().filter(|w| own.contains(w.as_str())).count() * 2;
        if !needle.is_empty() && o.to_lowercase().contains(&needle) {
            score += 1;
        }
        if score > 0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, o));
        }
    }
    match best {
        Some((_, o)) => cut(o, &words),
        None => cut(name, &words),
    }
}

/// Lower-cased with the common Latin diacritics removed, as the index folds.
fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .collect()
}

/// At most [`SNIPPET_CHARS`] characters of `text`, starting a little before
/// the first query word it contains, with `…` where it was cut.
fn cut(text: &str, words: &[String]) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= SNIPPET_CHARS {
        return text.to_owned();
    }
    let folded: Vec<char> = fold(text).chars().collect();
    // Folding keeps one character per character for the letters it maps,
    // but not always (e.g. 'İ'); fall back to the start then.
    let first = if folded.len() == chars.len() {
        let haystack: String = folded.iter().collect();
        words
            .iter()
            .filter_map(|w| haystack.find(&fold(w)))
            .min()
            .map(|byte| haystack[..byte].chars().count())
            .unwrap_or(0)
    } else {
        0
    };
    let start = first.saturating_sub(40);
    let start = if start + SNIPPET_CHARS - 1 > chars.len() {
        chars.len() + 1 - SNIPPET_CHARS
    } else {
        start
    };
    let mut out = String::new();
    let mut budget = SNIPPET_CHARS;
    if start > 0 {
        out.push('…');
        budget -= 1;
    }
    let end = start + budget;
    if end < chars.len() {
        out.extend(&chars[start..end - 1]);
        out.push('…');
    } else {
        out.extend(&chars[start..]);
    }
    out
}
