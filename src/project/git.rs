//! Finds the git repository that holds a directory by reading the files git
//! itself reads, without running `git`: a shim resolves its project on every
//! call, and a few `stat`s and one small read cost microseconds where a `git`
//! process costs milliseconds (see `examples/project_resolution.rs`).
//!
//! - `.git` is a directory in a repository's main working tree, and a file
//!   `gitdir: <path>` in a linked worktree (`git worktree add`) or a
//!   submodule.
//! - A linked worktree's git dir holds `commondir`, the path of the git dir
//!   it shares with every other worktree of the repository. That *common
//!   dir* identifies the repository, so all its worktrees are one project.
//! - The common dir's `config` names the `origin` remote.
//!
//! Not followed: `GIT_DIR` and friends, `include` and `includeIf` in the
//! config, `url.*.insteadOf` rewrites. A repository they matter for falls
//! back to its path or its literal origin URL, which is still a stable key.

use std::path::{Path, PathBuf};

/// What identifies the repository a directory belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The git dir shared by all worktrees, canonical.
    pub common_dir: PathBuf,
    /// The repository's main working tree, canonical: the directory that
    /// holds the common dir (or the submodule's `core.worktree`). For a bare
    /// repository, the common dir itself.
    pub home: PathBuf,
    /// The URL of the `origin` remote, as written in the config.
    pub origin: Option<String>,
}

/// The repository holding `dir` (canonical), if any: the nearest ancestor
/// with a `.git` entry.
pub fn discover(dir: &Path) -> Option<Repository> {
    for candidate in dir.ancestors() {
        let dot_git = candidate.join(".git");
        let Ok(meta) = std::fs::metadata(&dot_git) else {
            continue;
        };
        let git_dir = if meta.is_dir() {
            dot_git
        } else {
            // A stray `.git` file that points nowhere: not a repository,
            // and git would stop here too.
            linked_git_dir(candidate, &dot_git)?
        };
        return Some(open(&git_dir));
    }
    None
}

/// The git dir a `.git` file points to.
fn linked_git_dir(worktree: &Path, dot_git: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dot_git).ok()?;
    let target = text.lines().next()?.strip_prefix("gitdir:")?.trim();
    let dir = worktree.join(target);
    dir.is_dir().then_some(dir)
}

fn open(git_dir: &Path) -> Repository {
    let common_dir = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => git_dir.join(text.trim()),
        Err(_) => git_dir.to_path_buf(),
    };
    let common_dir = canonical(&common_dir);
    let config = std::fs::read_to_string(common_dir.join("config")).unwrap_or_default();
    let values = ConfigValues::parse(&config);
    let home = match values.worktree {
        Some(worktree) => canonical(&common_dir.join(worktree)),
        None if common_dir.file_name().is_some_and(|n| n == ".git") => common_dir
            .parent()
            .map_or_else(|| common_dir.clone(), Path::to_path_buf),
        None => common_dir.clone(),
    };
    Repository {
        common_dir,
        home,
        origin: values.origin,
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The two config values we use.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ConfigValues {
    pub origin: Option<String>,
    pub worktree: Option<String>,
}

impl ConfigValues {
    /// Reads git's INI dialect just far enough: section names are
    /// case-insensitive, subsection names are not, keys are
    /// case-insensitive, `#` and `;` start comments, values may be quoted.
    /// The first `url` of `[remote "origin"]` wins, as `git remote get-url`.
    pub(super) fn parse(config: &str) -> ConfigValues {
        #[derive(PartialEq)]
        enum Section {
            Origin,
            Core,
            Other,
        }
        let mut values = ConfigValues::default();
        let mut section = Section::Other;
        for line in config.lines() {
            let line = line.trim();
            if let Some(header) = line.strip_prefix('[') {
                let header = header.split(']').next().unwrap_or("").trim();
                let (name, sub) = match header.split_once(char::is_whitespace) {
                    Some((name, sub)) => (name, Some(sub.trim().trim_matches('"'))),
                    None => (header, None),
                };
                section = match (name.to_ascii_lowercase().as_str(), sub) {
                    ("remote", Some("origin")) => Section::Origin,
                    ("core", None) => Section::Core,
                    _ => Section::Other,
                };
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = unquote(value);
            match section {
                Section::Origin if key == "url" && values.origin.is_none() => {
                    values.origin = Some(value);
                }
                Section::Core if key == "worktree" => values.worktree = Some(value),
                _ => {}
            }
        }
        values
    }
}

/// A config value without its comment and quotes.
fn unquote(value: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = value.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(match next {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
            }
            '#' | ';' if !quoted => break,
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}
