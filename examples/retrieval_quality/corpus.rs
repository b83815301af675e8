//! The Jargon File as Debian's `dict-jargon` ships it, read into entries.
//!
//! A dictd database is two files: `jargon.index`, one `headword TAB offset
//! TAB length` line per entry with the numbers in dictd's base64, and
//! `jargon.dict.dz`, the entries' text, gzip-compatible (dictzip only adds
//! random-access chunks). The whole text is 1.4 MB, so it is decompressed
//! once with `gzip -dc` rather than with a decompression crate.
//!
//! An entry's text is its headword line, a pronunciation and part-of-speech
//! line, then indented paragraphs in which `{word}` marks a cross-reference.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

/// Where `dict-jargon` installs its files.
pub const DEFAULT_DIR: &str = "/usr/share/dictd";
/// How to get the corpus, for the error when it is missing.
pub const INSTALL: &str = "apt-get install -y dict-jargon";

/// One entry of the Jargon File.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The headword as the entry spells it (the index folds case).
    pub name: String,
    /// A type from the entry's first part of speech (`noun`, `verb`, …).
    pub entity_type: &'static str,
    /// The body's paragraphs, cross-reference braces removed, whitespace
    /// collapsed.
    pub paragraphs: Vec<String>,
    /// The body's sentences, in order: the entity's observations.
    pub sentences: Vec<String>,
    /// Cross-reference targets as written, whitespace collapsed.
    pub refs: Vec<String>,
}

/// The corpus: its title line and its entries, in index order.
pub struct Corpus {
    pub title: String,
    pub entries: Vec<Entry>,
}

/// Reads the corpus from `dir` (holding `jargon.index` and
/// `jargon.dict.dz`).
pub fn load(dir: &Path) -> Result<Corpus> {
    let index_path = dir.join("jargon.index");
    let dict_path = dir.join("jargon.dict.dz");
    if !index_path.is_file() || !dict_path.is_file() {
        bail!(
            "the Jargon File is not in {}: install it with `{INSTALL}` \
             (or pass --corpus DIR, a directory holding jargon.index and jargon.dict.dz)",
            dir.display()
        );
    }
    let index = std::fs::read_to_string(&index_path)
        .with_context(|| format!("reading {}", index_path.display()))?;
    let dict = gunzip(&dict_path)?;
    let mut title = String::from("The Jargon File");
    let mut entries = Vec::new();
    let mut names = HashSet::new();
    for (number, line) in index.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (offset, length) = match fields[..] {
            [_, offset, length] => (decode_number(offset), decode_number(length)),
            _ => (None, None),
        };
        let (Some(offset), Some(length)) = (offset, length) else {
            bail!(
                "{}:{}: not `headword TAB offset TAB length`: {line:?}",
                index_path.display(),
                number + 1
            );
        };
        let raw = dict.get(offset..offset + length).with_context(|| {
            format!(
                "{}:{}: past the end of the text",
                index_path.display(),
                number + 1
            )
        })?;
        let raw = String::from_utf8_lossy(raw);
        if fields[0] == "00-database-short" {
            title = raw.lines().nth(1).unwrap_or_default().trim().to_string();
        }
        if fields[0].starts_with("00-database") {
            continue;
        }
        if let Some(entry) = parse_entry(&raw) {
            // Two index lines never share an entry, but guard the names:
            // an entity name is unique.
            if names.insert(entry.name.clone()) {
                entries.push(entry);
            }
        }
    }
    ensure!(
        !entries.is_empty(),
        "{} lists no entries",
        index_path.display()
    );
    Ok(Corpus { title, entries })
}

/// The default corpus directory: `JARGON_DIR`, else [`DEFAULT_DIR`].
pub fn default_dir() -> PathBuf {
    std::env::var_os("JARGON_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
}

fn gunzip(path: &Path) -> Result<Vec<u8>> {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .context("running `gzip -dc` (is gzip installed?)")?;
    ensure!(
        out.status.success(),
        "`gzip -dc {}` failed ({}): {}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

/// A number in dictd's base64: most significant digit first, digits
/// `A-Z a-z 0-9 + /`.
pub fn decode_number(text: &str) -> Option<usize> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0usize, |n, b| {
        let digit = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        n.checked_mul(64)?.checked_add(usize::from(digit))
    })
}

/// Parses one entry's text; `None` for one without a headword.
pub fn parse_entry(raw: &str) -> Option<Entry> {
    let mut lines = raw.lines();
    let name = lines.next()?.trim().to_string();
    if name.is_empty() {
        return None;
    }
    let entity_type = part_of_speech(lines.next().unwrap_or_default());
    let mut paragraphs = Vec::new();
    let mut refs = Vec::new();
    let mut current = String::new();
    for line in lines.chain(std::iter::once("")) {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                let (plain, found) = strip_refs(&current);
                refs.extend(found);
                paragraphs.push(plain);
                current.clear();
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line);
    }
    let sentences = paragraphs.iter().flat_map(|p| split_sentences(p)).collect();
    Some(Entry {
        name,
        entity_type,
        paragraphs,
        sentences,
        refs,
    })
}

/// The entry's first part of speech, as an entity type. The line reads
/// e.g. ` /ded·beef/, n.`, ` adj.`, ` n.,v.` or is empty (the senses then
/// carry their own).
fn part_of_speech(line: &str) -> &'static str {
    let tail = line.rsplit('/').next().unwrap_or_default();
    let first = tail
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|w| w.trim_end_matches('.'))
        .find(|w| !w.is_empty());
    match first {
        Some("n" | "pl.n") => "noun",
        Some("v" | "vt" | "vi") => "verb",
        Some("adj") => "adjective",
        Some("adv") => "adverb",
        Some("interj" | "excl") => "interjection",
        Some("pref" | "suff" | "infix") => "affix",
        _ => "jargon",
    }
}

/// Removes the braces of `{word}` cross-references; returns the plain text
/// and the targets (an unclosed brace is kept as text).
fn strip_refs(text: &str) -> (String, Vec<String>) {
    let mut plain = String::with_capacity(text.len());
    let mut refs = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let target = collapse(&rest[open + 1..open + close]);
        plain.push_str(&rest[..open]);
        plain.push_str(&target);
        if !target.is_empty() {
            refs.push(target);
        }
        rest = &rest[open + close + 1..];
    }
    plain.push_str(rest);
    (collapse(&plain), refs)
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Words after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "cf", "vs", "etc", "syn", "esp", "approx", "mr", "mrs", "dr", "st", "prof",
    "inc", "no", "vol", "ca", "poss", "abbrev", "obs", "pl.n", "adj", "adv", "interj", "excl",
    "vt", "vi", "n", "v",
];

/// Splits a paragraph into sentences: after `.`, `!` or `?` (and any closing
/// quotes or brackets) followed by a space and a capital, a digit or an
/// opening quote, unless the stop ends an abbreviation or an initial.
pub fn split_sentences(paragraph: &str) -> Vec<String> {
    let chars: Vec<char> = paragraph.chars().collect();
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        if matches!(chars[i], '.' | '!' | '?') {
            let mut end = i + 1;
            while end < chars.len() && matches!(chars[end], '"' | '”' | '’' | '\'' | ')' | ']')
            {
                end += 1;
            }
            let next = chars.get(end + 1).copied();
            let opens = next.is_some_and(|c| {
                c.is_uppercase() || c.is_ascii_digit() || matches!(c, '"' | '“' | '‘' | '(' | '[')
            });
            if chars.get(end) == Some(&' ')
                && opens
                && !(chars[i] == '.' && ends_abbreviation(&chars[start..i]))
            {
                sentences.push(chars[start..end].iter().collect::<String>());
                start = end + 1;
                i = end;
            }
        }
        i += 1;
    }
    let last: String = chars[start.min(chars.len())..].iter().collect();
    if !last.trim().is_empty() {
        sentences.push(last);
    }
    sentences
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether the text before a full stop ends with an abbreviation, a single
/// letter (an initial) or a number (a sense number such as `1.`).
fn ends_abbreviation(before: &[char]) -> bool {
    let word: String = before
        .iter()
        .rev()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | '“' | '"' | '‘'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_lowercase();
    word.chars().count() == 1
        || (!word.is_empty() && word.chars().all(|c| c.is_ascii_digit()))
        || ABBREVIATIONS.contains(&word.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dictd_base64() {
        assert_eq!(decode_number("B"), Some(1));
        assert_eq!(decode_number("BA"), Some(64));
        assert_eq!(decode_number("BTQE"), Some(((64 + 19) * 64 + 16) * 64 + 4));
        assert_eq!(decode_number("/"), Some(63));
        assert_eq!(decode_number(""), None);
        assert_eq!(decode_number("A-B"), None);
    }

    #[test]
    fn an_entry_has_sentences_type_and_cross_references() {
        let raw = "dead code\n n.\n\n    Routines that can never be accessed (see also {software\n    rot}). A good compiler should report dead code, e.g. to a maintainer.\n    Syn. {grunge}.\n\n    1. n. Another paragraph.\n";
        let entry = parse_entry(raw).expect("an entry");
        assert_eq!(entry.name, "dead code");
        assert_eq!(entry.entity_type, "noun");
        assert_eq!(entry.refs, ["software rot", "grunge"]);
        assert_eq!(
            entry.sentences,
            [
                "Routines that can never be accessed (see also software rot).",
                "A good compiler should report dead code, e.g. to a maintainer.",
                "Syn. grunge.",
                "1. n. Another paragraph.",
            ]
        );
    }

    #[test]
    fn part_of_speech_follows_the_pronunciation() {
        assert_eq!(part_of_speech(" /ded·beef/, n."), "noun");
        assert_eq!(part_of_speech(" vt."), "verb");
        assert_eq!(part_of_speech(" adj.,vi."), "adjective");
        assert_eq!(part_of_speech(" //"), "jargon");
        assert_eq!(part_of_speech(""), "jargon");
    }

    #[test]
    fn sentences_end_at_a_stop_before_a_capital_or_a_quote() {
        assert_eq!(
            split_sentences("It ran. “Really?” she said. Yes! 2 more. Mr. Smith left"),
            [
                "It ran.",
                "“Really?” she said.",
                "Yes!",
                "2 more.",
                "Mr. Smith left"
            ]
        );
        assert_eq!(
            split_sentences("A. B. Smith wrote it."),
            ["A. B. Smith wrote it."]
        );
    }
}
