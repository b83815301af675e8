//! The text a hook hands the model: one line per entity (name, type, a few
//! observations), under a heading, cut to a character budget at a line's
//! end so the model never reads half an entry. Pure.

use super::SessionMemory;
use crate::model::{Entity, RankedEntity, Relation};
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
/// What the project's own entities leave of the budget for the hits of its
/// names, so that a busy project does not crowd them out.
const RELEVANT_SHARE: usize = 2_000;

/// `- Name [type]: snippet (+2 more)`: one search hit, by its snippet.
pub fn hit_line(hit: &RankedEntity) -> String {
    let mut line = format!(
        "- {} [{}]",
        one_line(&hit.name, 200),
        one_line(&hit.entity_type, 80)
    );
    // The snippet is the best observation, or the name when none matched.
    let of_observation = hit.snippet != hit.name && hit.observation_count > 0;
    if of_observation {
        line.push_str(": ");
        line.push_str(&one_line(&hit.snippet, OBSERVATION_CHARS));
        if hit.observation_count > 1 {
            line.push_str(&format!(" (+{} more)", hit.observation_count - 1));
        }
    } else if hit.observation_count > 0 {
        line.push_str(&format!(
            " ({} observation{})",
            hit.observation_count,
            if hit.observation_count == 1 { "" } else { "s" }
        ));
    }
    line
}

/// What the memory holds for a project: the entities its changes touched,
/// most recent first, and the relations among them; the hits for its
/// names; or, when it has no changes yet, the newest entities of all.
/// `None` when there is nothing.
pub fn session_context(project: &Project, memory: &SessionMemory) -> Option<String> {
    if memory.own.entities.is_empty() && memory.relevant.is_empty() && memory.recent.is_empty() {
        return None;
    }
    let mut out = Budgeted::new(SESSION_BUDGET);
    let footer = SESSION_FOOTER.chars().count() + 1;
    let heading = if project.name == project.key {
        format!("Memory for this session's project, {}:", project.name)
    } else {
        format!(
            "Memory for this session's project, {} ({}):",
            project.name, project.key
        )
    };
    out.push(&heading, footer);
    let prefer = vec![project.name.to_lowercase()];
    let own = &memory.own;
    let share = if memory.relevant.is_empty() {
        footer
    } else {
        footer + RELEVANT_SHARE
    };
    if !own.entities.is_empty() && out.push("Recently changed in this project:", share) {
        let mut shown: Vec<&str> = Vec::new();
        for entity in &own.entities {
            if !out.push(&entity_line(entity, &prefer), share) {
                break;
            }
            shown.push(&entity.name);
        }
        let among: Vec<&Relation> = own
            .relations
            .iter()
            .filter(|r| shown.contains(&r.from.as_str()) && shown.contains(&r.to.as_str()))
            .collect();
        if !among.is_empty() && out.push("Their relations:", share) {
            for r in among {
                let line = format!(
                    "- {} {} {}",
                    one_line(&r.from, 200),
                    one_line(&r.relation_type, 80),
                    one_line(&r.to, 200)
                );
                if !out.push(&line, share) {
                    break;
                }
            }
        }
        // The own section may stop short of its share; the rest may go on.
        out.full = false;
    }
    if !memory.relevant.is_empty()
        && out.push(&format!("About {}:", one_line(&project.name, 200)), footer)
    {
        for hit in &memory.relevant {
            if !out.push(&hit_line(hit), footer) {
                break;
            }
        }
    }
    if !memory.recent.is_empty()
        && out.push(
            "Most recently changed (nothing from this project yet):",
            footer,
        )
    {
        for entity in &memory.recent {
            if !out.push(&entity_line(entity, &[]), footer) {
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
