//! `memgraphd hooks install`: adds the two recall hooks to Claude Code's
//! `settings.json` (`~/.claude/settings.json`, or `$CLAUDE_CONFIG_DIR`'s).
//!
//! Safe to run any number of times: it changes nothing when the hooks are
//! there, updates the command of an entry that runs another `memgraphd`
//! path, and otherwise appends one entry per event, keeping every other key
//! and hook as it was. Before writing it copies the old file to a backup
//! beside it; it writes through a temporary file and a rename. A file that
//! is not a JSON object (or whose `hooks` is malformed) is an error, and
//! then nothing is written.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::hook::HookEvent;

/// How long Claude Code lets each hook run, in seconds. Above the hook's
/// own deadline, so a slow start is cut by memgraphd, quietly.
const TIMEOUT_SECS: u64 = 10;

/// Why the settings could not be updated.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot find the home directory (set HOME, or pass --settings)")]
    NoHome,
    #[error("reading {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not valid JSON; fix it by hand, nothing was changed", path.display())]
    Malformed {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: {what}; fix it by hand, nothing was changed", path.display())]
    Shape { path: PathBuf, what: String },
    #[error("writing {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What installing would do to one settings file.
#[derive(Debug)]
pub struct Plan {
    pub path: PathBuf,
    /// The file as it is, if it exists.
    pub before: Option<String>,
    /// The file as it would be.
    pub after: String,
    /// One line per change, empty when the hooks are already there.
    pub changes: Vec<String>,
}

/// `$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`.
pub fn default_settings_path() -> Result<PathBuf, InstallError> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("settings.json"));
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .ok_or(InstallError::NoHome)?;
    Ok(PathBuf::from(home).join(".claude").join("settings.json"))
}

/// The command line of one hook: `program [global args] hook <event>`.
pub fn hook_command(program: &str, global_args: &[String], event: HookEvent) -> String {
    let mut words = vec![shell_quote(program)];
    words.extend(global_args.iter().map(|a| shell_quote(a)));
    words.push("hook".into());
    words.push(event.command_name().into());
    words.join(" ")
}

/// Quotes a word for the shell Claude Code runs hook commands in.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Whether `command` runs this hook of some memgraphd: its program's file
/// name is `memgraphd` and it ends with `hook <event>`.
fn is_ours(command: &str, event: HookEvent) -> bool {
    let words = shell_words(command);
    let program = words
        .first()
        .and_then(|w| Path::new(w).file_stem())
        .is_some_and(|stem| stem == "memgraphd");
    program && words.ends_with(&["hook".to_owned(), event.command_name().to_owned()])
}

/// Splits a command line as the shell would, for the quoting used here and
/// by people: single quotes, double quotes, backslashes.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Works out the new settings file; writes nothing.
pub fn plan(path: &Path, commands: &[(HookEvent, String)]) -> Result<Plan, InstallError> {
    let before = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(InstallError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    let shape = |what: &str| InstallError::Shape {
        path: path.to_owned(),
        what: what.to_owned(),
    };
    let mut settings = match before.as_deref().map(str::trim) {
        None | Some("") => Value::Object(Map::new()),
        Some(text) => serde_json::from_str(text).map_err(|source| InstallError::Malformed {
            path: path.to_owned(),
            source,
        })?,
    };
    let original = settings.clone();
    let root = settings
        .as_object_mut()
        .ok_or_else(|| shape("the settings are not a JSON object"))?;
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| shape("\"hooks\" is not an object"))?;
    let mut changes = Vec::new();
    for (event, command) in commands {
        let groups = hooks
            .entry(event.event_name())
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or_else(|| shape(&format!("\"hooks.{}\" is not an array", event.event_name())))?;
        match merge(groups, *event, command) {
            Merge::Present => {}
            Merge::Updated(old) => changes.push(format!(
                "update the {} hook: {old} -> {command}",
                event.event_name()
            )),
            Merge::Added => changes.push(format!("add a {} hook: {command}", event.event_name())),
        }
    }
    let after = if settings == original {
        before.clone().unwrap_or_default()
    } else {
        let mut text =
            serde_json::to_string_pretty(&settings).map_err(|source| InstallError::Malformed {
                path: path.to_owned(),
                source,
            })?;
        text.push('\n');
        text
    };
    Ok(Plan {
        path: path.to_owned(),
        before,
        after,
        changes,
    })
}

enum Merge {
    Present,
    Updated(String),
    Added,
}

/// Puts `command` in this event's matcher groups, once.
fn merge(groups: &mut Vec<Value>, event: HookEvent, command: &str) -> Merge {
    let entries = groups
        .iter_mut()
        .filter_map(|group| group.get_mut("hooks")?.as_array_mut())
        .flatten();
    for entry in entries {
        let Some(existing) = entry.get("command").and_then(Value::as_str) else {
            continue;
        };
        if !is_ours(existing, event) {
            continue;
        }
        if existing == command {
            return Merge::Present;
        }
        let old = existing.to_owned();
        entry["command"] = Value::String(command.to_owned());
        return Merge::Updated(old);
    }
    // No matcher: SessionStart then fires on startup, resume, clear and
    // compact alike, and a compacted session gets its memory back.
    groups.push(json!({
        "hooks": [{"type": "command", "command": command, "timeout": TIMEOUT_SECS}]
    }));
    Merge::Added
}

/// Writes the plan: a backup of the old file first, then the new file
/// atomically. Returns the backup's path, if there was a file to back up.
pub fn apply(plan: &Plan) -> Result<Option<PathBuf>, InstallError> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| InstallError::Write { path, source }
    };
    if let Some(dir) = plan.path.parent() {
        std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    }
    let backup = match &plan.before {
        Some(before) => {
            let path = backup_path(&plan.path);
            std::fs::write(&path, before).map_err(write_error(&path))?;
            Some(path)
        }
        None => None,
    };
    let mut temp = plan.path.as_os_str().to_owned();
    temp.push(format!(".memgraphd-{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let written =
        std::fs::write(&temp, &plan.after).and_then(|()| std::fs::rename(&temp, &plan.path));
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(InstallError::Write {
            path: plan.path.clone(),
            source,
        });
    }
    Ok(backup)
}

/// `settings.json.bak-<unix seconds>`, or with a counter when that exists:
/// an earlier backup is never overwritten.
fn backup_path(path: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".bak-{secs}"));
    let first = PathBuf::from(&name);
    let mut candidate = first.clone();
    let mut n = 1;
    while candidate.exists() {
        let mut numbered = name.clone();
        numbered.push(format!("-{n}"));
        candidate = PathBuf::from(numbered);
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_quoted_for_the_shell() {
        assert_eq!(
            hook_command("/usr/bin/memgraphd", &[], HookEvent::Prompt),
            "/usr/bin/memgraphd hook prompt"
        );
        assert_eq!(
            hook_command(
                "/Users/me/My Tools/memgraphd",
                &["--db".into(), "/tmp/it's.db".into()],
                HookEvent::SessionStart
            ),
            r"'/Users/me/My Tools/memgraphd' --db '/tmp/it'\''s.db' hook session-start"
        );
    }

    #[test]
    fn our_entries_are_recognised_by_program_and_event() {
        let start = HookEvent::SessionStart;
        assert!(is_ours("/opt/bin/memgraphd hook session-start", start));
        assert!(is_ours("'/a b/memgraphd' --db x hook session-start", start));
        assert!(is_ours("memgraphd.exe hook session-start", start));
        assert!(!is_ours("/opt/bin/memgraphd hook prompt", start));
        assert!(!is_ours("other-tool hook session-start", start));
        assert!(!is_ours("memgraphd hook session-start && rm -rf x", start));
        assert_eq!(
            shell_words(r#"'/a b/it'\''s' "x \"y\"" z\ w"#),
            ["/a b/it's", "x \"y\"", "z w"]
        );
    }
}
