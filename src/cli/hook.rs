//! `memgraphd hook session-start` and `memgraphd hook prompt`: Claude Code
//! runs them on `SessionStart` and `UserPromptSubmit` with the event as JSON
//! on stdin (`session_id`, `cwd`, `hook_event_name`, and `source` or
//! `prompt`), and hands what they print to the model:
//! `{"hookSpecificOutput": {"hookEventName": …, "additionalContext": …}}`.
//!
//! # Invariant
//! A hook never fails and never holds up the user: whatever goes wrong (bad
//! input, no daemon, a slow one), it prints nothing, logs why to the log
//! file and exits 0, within [`DEADLINE`]. A non-zero exit could block the
//! user's prompt (exit 2 does, for `UserPromptSubmit`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client, ClientConfig};
use crate::config::Paths;
use crate::project::{Inputs, Resolver};
use crate::recall::{self, RecallError};

/// The longest a hook may take, daemon start included. With the daemon
/// running it takes milliseconds; this bounds a daemon that is stuck.
pub const DEADLINE: Duration = Duration::from_secs(3);
/// Hook input larger than this is not Claude Code's.
const MAX_INPUT: u64 = 4 * 1024 * 1024;

/// The hook events memgraphd answers.
#[derive(Subcommand, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookEvent {
    /// SessionStart: what memory holds for this project.
    SessionStart,
    /// UserPromptSubmit: what memory holds that bears on the prompt.
    Prompt,
}

impl HookEvent {
    /// The name Claude Code gives the event, which the output repeats.
    pub fn event_name(self) -> &'static str {
        match self {
            HookEvent::SessionStart => "SessionStart",
            HookEvent::Prompt => "UserPromptSubmit",
        }
    }

    /// The subcommand's own name: `session-start`, `prompt`.
    pub fn command_name(self) -> &'static str {
        match self {
            HookEvent::SessionStart => "session-start",
            HookEvent::Prompt => "prompt",
        }
    }
}

/// The fields of Claude Code's hook input that recall uses; the others
/// (`transcript_path`, `permission_mode`, `model`, …) are ignored.
#[derive(Debug, Default, Deserialize)]
struct HookInput {
    cwd: Option<String>,
    prompt: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum HookError {
    #[error("reading the hook input")]
    Stdin(#[source] std::io::Error),
    #[error("the hook input is not Claude Code's JSON")]
    Input(#[source] serde_json::Error),
    #[error("recall")]
    Recall(#[from] RecallError),
    #[error("no answer within {}s", DEADLINE.as_secs())]
    Timeout,
}

/// Runs one hook: reads stdin, asks the daemon, prints the context if any.
/// Never fails (see the module doc).
pub async fn run(event: HookEvent, paths: Paths) {
    let answer = match read_input() {
        Ok(input) => tokio::time::timeout(DEADLINE, context(event, &paths, input))
            .await
            .unwrap_or(Err(HookError::Timeout)),
        Err(e) => Err(e),
    };
    match answer {
        Ok(Some(text)) => {
            let output = json!({
                "hookSpecificOutput": {
                    "hookEventName": event.event_name(),
                    "additionalContext": text,
                }
            });
            let mut out = std::io::stdout().lock();
            if let Err(e) = writeln!(out, "{output}").and_then(|()| out.flush()) {
                tracing::warn!("hook {}: writing stdout: {e}", event.command_name());
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("hook {}: {}", event.command_name(), crate::error_chain(&e)),
    }
}

fn read_input() -> Result<HookInput, HookError> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_INPUT)
        .read_to_string(&mut text)
        .map_err(HookError::Stdin)?;
    serde_json::from_str(&text).map_err(HookError::Input)
}

async fn context(
    event: HookEvent,
    paths: &Paths,
    input: HookInput,
) -> Result<Option<String>, HookError> {
    let client = Client::new(ClientConfig {
        paths: paths.clone(),
        spawn: true,
        serve_args: Vec::new(),
        client: format!("hook {}", event.command_name()),
    });
    match event {
        HookEvent::SessionStart => {
            let mut inputs = Inputs::from_env();
            if let Some(cwd) = input.cwd.filter(|c| !c.is_empty()) {
                inputs.cwd = Some(PathBuf::from(cwd));
            }
            let resolver = Resolver::new();
            let Some(project) = resolver.resolve(&inputs) else {
                return Ok(None);
            };
            // The working directory's own project, when another input
            // (CLAUDE_PROJECT_DIR, MEMGRAPHD_PROJECT) decided: its name is
            // searched too.
            let here = inputs.cwd.as_deref().map(|cwd| resolver.resolve_dir(cwd));
            let query = recall::project_query(&project, here.as_ref());
            Ok(recall::session_context(&client, &project, &query).await?)
        }
        HookEvent::Prompt => match input.prompt {
            Some(prompt) => Ok(recall::prompt_context(&client, &prompt).await?),
            None => Ok(None),
        },
    }
}
