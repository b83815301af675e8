//! The text a hook hands the model: one line per entity (name, type, a few
//! observations), under a heading, cut to a character budget at a line's
//! end so the model never reads half an entry. Pure.

use crate::model::{Entity, Relation};
use crate::project::Project;

/// About 2,000 tokens: what the session-start context may take.
pub const SESSION_BUDGET: usize = 8_000;
/// About 1,000 tokens: what a prompt's context may take.
pub const PROMPT_BUDGET: usize = 4_000;
/// Observations shown per entity; the line says how many more there are.
const OBSERVATIONS_SHOWN: usize = 3;
/// Characters per observation shown.
const OBSERVATION_CHARS: usize = 160;

/// Lines added while they fit the budget.
struct Budgeted {
    text: String,
    used: usize,
    budget: usize,
    full: bool,
}

impl Budgeted {
    fn new(budget: usize) -> Budgeted {
        Budgeted {
            text: String::new(),
            used: 0,
            budget,
            full: false,
        }
    }

    /// Adds `line` if it fits with `reserve` characters left over.
    fn push(&mut self, line: &str, reserve: usize) -> bool {
        let cost = line.chars().count() + 1;
        if self.full || self.used + cost + reserve > self.budget {
            self.full = true;
            return false;
        }
        self.text.push_str(line);
        self.text.push('\n');
        self.used += cost;
        true
    }
}

/// `- Name [type]: first; second; third (+2 more)`, observations that
/// mention one of `prefer` first.
pub fn entity_line(entity: &Entity, prefer: &[String]) -> String {
    let mut shown: Vec<&String> = entity
        .observations
        .iter()
        .filter(|o| {
            let lower = o.to_lowercase();
            prefer.iter().any(|w| lower.contains(w.as_str()))
        })
        .collect();
    for o in &entity.observations {
        if shown.len() >= OBSERVATIONS_SHOWN {
            break;
        }
        if !shown.contains(&o) {
            shown.push(o);
        }
    }
    shown.truncate(OBSERVATIONS_SHOWN);
    let mut line = format!(
        "- {} [{}]",
        one_line(&entity.name, 200),
        one_line(&entity.entity_type, 80)
    );
    if !shown.is_empty() {
        let parts: Vec<String> = shown
            .iter()
            .map(|o| one_line(o, OBSERVATION_CHARS))
            .collect();
        line.push_str(": ");
        line.push_str(&parts.join("; "));
    }
    let more = entity.observations.len() - shown.len();
    if more > 0 {
        line.push_str(&format!(" (+{more} more)"));
    }
    line
}

/// `text` on one line, at most `max` characters (an ellipsis marks a cut).
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= max {
        return flat.to_owned();
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

const SESSION_FOOTER: &str =
    "This is part of the shared memory (memgraphd); search_nodes and open_nodes find more.";
const PROMPT_FOOTER: &str = "Call open_nodes with these names for all that memory holds on them.";

/// What the memory holds for a project: entities about it, the relations
/// among them, then the newest others. `None` when there is nothing.
pub fn session_context(
    project: &Project,
    about: &[Entity],
    relations: &[Relation],
    recent: &[Entity],
) -> Option<String> {
    if about.is_empty() && recent.is_empty() {
        return None;
    }
    let mut out = Budgeted::new(SESSION_BUDGET);
    let reserve = SESSION_FOOTER.chars().count() + 1;
    let heading = if project.name == project.key {
        format!("Memory for this session's project, {}:", project.name)
    } else {
        format!(
            "Memory for this session's project, {} ({}):",
            project.name, project.key
        )
    };
    out.push(&heading, reserve);
    let prefer = vec![project.name.to_lowercase()];
    if !about.is_empty() && out.push("Entities that mention the project:", reserve) {
        let mut shown: Vec<&str> = Vec::new();
        for entity in about {
            if !out.push(&entity_line(entity, &prefer), reserve) {
                break;
            }
            shown.push(&entity.name);
        }
        let among: Vec<&Relation> = relations
            .iter()
            .filter(|r| shown.contains(&r.from.as_str()) && shown.contains(&r.to.as_str()))
            .collect();
        if !among.is_empty() && out.push("Their relations:", reserve) {
            for r in among {
                let line = format!(
                    "- {} {} {}",
                    one_line(&r.from, 200),
                    one_line(&r.relation_type, 80),
                    one_line(&r.to, 200)
                );
                if !out.push(&line, reserve) {
                    break;
                }
            }
        }
    }
    if !recent.is_empty() && out.push("Most recently added:", reserve) {
        for entity in recent {
            if !out.push(&entity_line(entity, &[]), reserve) {
                break;
            }
        }
    }
    out.full = false;
    out.push(SESSION_FOOTER, 0);
    Some(out.text.trim_end().to_owned())
}

/// The hits for a prompt, best first. `None` when there are none.
pub fn prompt_context(hits: &[super::rank::Hit]) -> Option<String> {
    if hits.is_empty() {
        return None;
    }
    let mut out = Budgeted::new(PROMPT_BUDGET);
    let reserve = PROMPT_FOOTER.chars().count() + 1;
    out.push("Memory that may bear on this prompt:", reserve);
    for hit in hits {
        if !out.push(&entity_line(&hit.entity, &hit.words), reserve) {
            break;
        }
    }
    out.full = false;
    out.push(PROMPT_FOOTER, 0);
    Some(out.text.trim_end().to_owned())
}
