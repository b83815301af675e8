//! The graph every server is loaded with: the same seeded, deterministic
//! entities, observations and relations for all of them, plus the queries
//! the workloads ask.
//!
//! Everything about entity `i` is derived from `(seed, i)` alone, so a
//! workload can name any entity without keeping the graph in memory, and two
//! runs with the same seed load byte-identical graphs.

use std::collections::HashSet;

use serde_json::{json, Value};

/// The phrase about half of the entities carry in one observation: the broad
/// search. No word of [`WORDS`] contains it.
pub const BROAD_QUERY: &str = "needs review";

const WORDS: &[&str] = &[
    "alpha",
    "build",
    "cache",
    "daemon",
    "editor",
    "fixture",
    "gateway",
    "header",
    "index",
    "journal",
    "kernel",
    "ledger",
    "module",
    "network",
    "offset",
    "parser",
    "queue",
    "router",
    "schema",
    "token",
    "upload",
    "vector",
    "worker",
    "yield",
    "zone",
    "latency",
    "migration",
    "payload",
    "cluster",
    "deploy",
    "thread",
    "socket",
    "branch",
    "commit",
    "release",
    "sprint",
    "client",
    "server",
    "session",
    "metric",
    "alert",
    "backup",
    "config",
    "driver",
    "engine",
    "format",
    "growth",
    "handler",
    "import",
    "layout",
    "mirror",
    "notice",
    "option",
    "plugin",
    "quota",
    "replica",
    "signal",
    "timer",
    "update",
    "version",
    "window",
    "export",
    "filter",
    "prompt",
];
const KINDS: &[&str] = &[
    "person", "project", "service", "library", "decision", "bug", "meeting", "concept",
];
const RELATION_TYPES: &[&str] = &[
    "depends_on",
    "owns",
    "works_on",
    "mentions",
    "blocks",
    "uses",
];

/// The shape of the graph: how many entities, observations each, relations.
#[derive(Clone, Copy, Debug)]
pub struct Dataset {
    pub entities: usize,
    pub observations: usize,
    pub relations: usize,
    pub seed: u64,
}

impl Dataset {
    /// The name of entity `i`: a word and the zero-padded index, unique.
    pub fn name(&self, i: usize) -> String {
        let word = WORDS[(mix(self.seed ^ 0x6e61_6d65 ^ i as u64) % WORDS.len() as u64) as usize];
        format!("{word}-{i:07}")
    }

    /// The token only entity `i` carries (in its first observation): the
    /// 1-hit search. `mix` is a bijection, so no two entities share it.
    pub fn unique_token(&self, i: usize) -> String {
        format!("ref-{:016x}", mix(self.seed.rotate_left(17) ^ i as u64))
    }

    /// Whether entity `i` carries [`BROAD_QUERY`] (about half do).
    pub fn is_broad_hit(&self, i: usize) -> bool {
        mix(self.seed ^ 0x6272_6f61 ^ i as u64) & 1 == 0
    }

    /// Entity `i` as a `create_entities` item.
    pub fn entity(&self, i: usize) -> Value {
        let mut rng = Rng::new(self.seed ^ (i as u64).wrapping_mul(0x9e37_79b9));
        let broad_at = self
            .is_broad_hit(i)
            .then(|| rng.below(self.observations.max(1)));
        let observations: Vec<String> = (0..self.observations)
            .map(|k| {
                let words = 6 + rng.below(5);
                let mut text: Vec<&str> = (0..words).map(|_| *rng.pick(WORDS)).collect();
                if broad_at == Some(k) {
                    text.push(BROAD_QUERY);
                }
                let mut text = text.join(" ");
                if k == 0 {
                    text.push(' ');
                    text.push_str(&self.unique_token(i));
                }
                text
            })
            .collect();
        json!({
            "name": self.name(i),
            "entityType": KINDS[rng.below(KINDS.len())],
            "observations": observations,
        })
    }

    /// The expected number of [`BROAD_QUERY`] hits, to check each server.
    pub fn broad_hits(&self) -> usize {
        if self.observations == 0 {
            return 0;
        }
        (0..self.entities).filter(|&i| self.is_broad_hit(i)).count()
    }

    /// The relations, as `create_relations` items: distinct triples between
    /// distinct entities (fewer when the graph is too small to hold them).
    pub fn relations(&self) -> Vec<Value> {
        let mut rng = Rng::new(self.seed ^ 0x7265_6c61);
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(self.relations);
        let possible = self
            .entities
            .saturating_mul(self.entities.saturating_sub(1));
        let want = self
            .relations
            .min(possible.saturating_mul(RELATION_TYPES.len()));
        while out.len() < want {
            let from = rng.below(self.entities);
            let to = rng.below(self.entities);
            let kind = rng.below(RELATION_TYPES.len());
            if from == to || !seen.insert((from, to, kind)) {
                continue;
            }
            out.push(json!({
                "from": self.name(from),
                "to": self.name(to),
                "relationType": RELATION_TYPES[kind],
            }));
        }
        out
    }
}

/// SplitMix64's finalizer: a bijection on u64 that scatters its input.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small seeded generator (SplitMix64): the workloads need repeatable
/// picks, not statistical quality.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
