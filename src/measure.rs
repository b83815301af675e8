//! How many characters a graph answer renders to, without rendering it.
//!
//! A bounded read (the size guard) must find the longest prefix of entities
//! whose answer fits a budget, and must do so without building the text of a
//! graph that may be many megabytes. The store uses these counts while it
//! reads, entity by entity. They are exact: `shim::render` writes the same
//! characters, and its tests check the two agree on arbitrary graphs.
//!
//! Two forms are measured, both in Unicode scalar values (`chars`): the pretty
//! text item (`JSON.stringify(x, null, 2)`) and the compact JSON of the
//! structured copy.

use crate::model::{Entity, Relation};

pub mod retrieval;

/// The characters of one rendered value, in both forms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    pub pretty: u64,
    pub compact: u64,
}

impl std::ops::Add for Size {
    type Output = Size;
    fn add(self, other: Size) -> Size {
        Size {
            pretty: self.pretty + other.pretty,
            compact: self.compact + other.compact,
        }
    }
}

impl std::ops::AddAssign for Size {
    fn add_assign(&mut self, other: Size) {
        *self = *self + other;
    }
}

/// A JSON string literal: quotes, and escapes as serde_json writes them.
pub fn string(text: &str) -> u64 {
    2 + text
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
            c if (c as u32) < 0x20 => 6,
            _ => 1,
        })
        .sum::<u64>()
}

fn digits(n: u64) -> u64 {
    n.checked_ilog10().map_or(1, |d| u64::from(d) + 1)
}

/// One entity as an item of the `entities` array (its own characters, not
/// the separators around it). `observation_count` is the extra field shown
/// when observations are left out.
pub fn entity(e: &Entity, observation_count: Option<u64>) -> Size {
    let strings = string(&e.name) + string(&e.entity_type);
    let observations: Vec<u64> = e.observations.iter().map(|o| string(o)).collect();
    let n = observations.len() as u64;
    let sum: u64 = observations.iter().sum();
    // `[]` when empty; otherwise each item on its own line 8 spaces in.
    let (obs_pretty, obs_compact) = if n == 0 {
        (2, 2)
    } else {
        (sum + 10 * n + 8, sum + n + 1)
    };
    let (count_pretty, count_compact) = match observation_count {
        // `,\n      "observationCount": N` and `,"observationCount":N`
        Some(c) => (28 + digits(c), 20 + digits(c)),
        None => (0, 0),
    };
    Size {
        pretty: 68 + strings + obs_pretty + count_pretty,
        compact: 39 + strings + obs_compact + count_compact,
    }
}

/// One relation as an item of the `relations` array.
pub fn relation(r: &Relation) -> Size {
    let strings = string(&r.from) + string(&r.to) + string(&r.relation_type);
    Size {
        pretty: 60 + strings,
        compact: 31 + strings,
    }
}

/// The cost of one more item in a top-level array, beyond the item itself:
/// its indentation and the separator before the next one.
pub const ITEM: Size = Size {
    pretty: 6,
    compact: 1,
};

/// `{"entities": […], "relations": […]}` around the items: the object, its
/// keys, and the two arrays' brackets, given how many items each holds.
pub fn graph_frame(entities: usize, relations: usize) -> Size {
    // An empty array is `[]`; a full one `[\n` … `\n  ]`, with items counted
    // by [`ITEM`] (whose separators are one too many: the last has none).
    let array = |n: usize| {
        if n == 0 {
            Size {
                pretty: 2,
                compact: 2,
            }
        } else {
            Size {
                pretty: 4,
                compact: 1,
            }
        }
    };
    // `{\n  "entities": ` `,\n  "relations": ` `\n}` and `{"entities":` `,"relations":` `}`.
    Size {
        pretty: 16 + 17 + 2,
        compact: 12 + 13 + 1,
    } + array(entities)
        + array(relations)
}
