//! The project a session works on: a stable key and a short name, resolved
//! at each call (see the crate's EXTENSIONS contract, "The project of a
//! session"). memgraphd is one memory across all projects; the project is an
//! attribute of a change, never a namespace.
//!
//! # Precedence
//! The first of these that is set wins ([`Inputs::choose`], pure):
//! 1. `MEMGRAPHD_PROJECT`: a directory, a remote URL, or a key as is;
//! 2. `CLAUDE_PROJECT_DIR`, which Claude Code sets for its MCP servers and
//!    hooks;
//! 3. the client's first MCP root, when it offers `roots` (a `file://` URI);
//! 4. the working directory.
//!
//! # From a directory to a key
//! A directory inside a git repository stands for the repository, so every
//! worktree of one repository is one project ([`git`]). The key is the
//! normalized `origin` URL when there is one ([`remote`]), else the
//! repository's canonical path. Outside git, the directory's canonical path.
//! Never a bare folder name: two checkouts called `app` are two projects.
//!
//! Resolving a directory reads a few small files; [`Resolver`] caches the
//! answer per directory for a short while, so a burst of calls reads them
//! once and a changed `origin` is still seen within [`FRESH_FOR`].

pub mod git;
pub mod remote;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a directory's resolution is reused before it is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(30);

/// A resolved project.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Project {
    /// What identifies it across sessions, worktrees and clones:
    /// `github.com/a/b`, or a canonical path such as `/home/me/notes`.
    pub key: String,
    /// A short name for people and models: `b`, `notes`.
    pub name: String,
}

impl Project {
    fn new(key: String) -> Project {
        let name = display_name(&key);
        Project { key, name }
    }
}

/// The last segment of a key: `b` for `github.com/a/b`, `notes` for
/// `/home/me/notes`, the whole key when it has no `/`.
pub fn display_name(key: &str) -> String {
    key.trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(key)
        .to_owned()
}

/// Where a session's project can come from, in order of precedence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// `MEMGRAPHD_PROJECT`.
    pub explicit: Option<String>,
    /// `CLAUDE_PROJECT_DIR`.
    pub claude_project_dir: Option<PathBuf>,
    /// The URI of the client's first MCP root.
    pub first_root: Option<String>,
    /// The working directory.
    pub cwd: Option<PathBuf>,
}

/// The input that decides the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// `MEMGRAPHD_PROJECT` that is not a directory: a URL or a key.
    Key(String),
    /// A directory to resolve.
    Dir(PathBuf),
}

impl Inputs {
    /// The environment's part: `MEMGRAPHD_PROJECT` and `CLAUDE_PROJECT_DIR`
    /// (empty values count as unset), and the working directory.
    pub fn from_env() -> Inputs {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Inputs {
            explicit: var("MEMGRAPHD_PROJECT").map(|v| v.to_string_lossy().trim().to_owned()),
            claude_project_dir: var("CLAUDE_PROJECT_DIR").map(PathBuf::from),
            first_root: None,
            cwd: std::env::current_dir().ok(),
        }
    }

    /// Picks the input that decides, by the precedence of the module doc.
    /// A root that is not a `file://` URI is passed over.
    pub fn choose(&self) -> Option<Chosen> {
        if let Some(explicit) = self.explicit.as_deref().filter(|s| !s.is_empty()) {
            let path = self.absolute(Path::new(explicit));
            return Some(if path.is_dir() {
                Chosen::Dir(path)
            } else {
                Chosen::Key(explicit.to_owned())
            });
        }
        if let Some(dir) = &self.claude_project_dir {
            return Some(Chosen::Dir(self.absolute(dir)));
        }
        if let Some(dir) = self.first_root.as_deref().and_then(file_uri_path) {
            return Some(Chosen::Dir(dir));
        }
        self.cwd.clone().map(Chosen::Dir)
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        match &self.cwd {
            Some(cwd) if path.is_relative() => cwd.join(path),
            _ => path.to_path_buf(),
        }
    }
}

/// The local path of a `file://` URI (`file:///a/b`, `file://localhost/a/b`),
/// percent-decoded; `None` for any other URI.
pub fn file_uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(path)?;
    // `file:///C:/src` names `C:/src` on Windows.
    let decoded = match decoded.as_bytes() {
        [b'/', drive, b':', ..] if cfg!(windows) && drive.is_ascii_alphabetic() => {
            decoded[1..].to_owned()
        }
        _ => decoded,
    };
    Some(PathBuf::from(decoded))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Resolves inputs to projects, caching each directory's answer.
#[derive(Default)]
pub struct Resolver {
    cache: Mutex<HashMap<PathBuf, (Instant, Project)>>,
}

impl Resolver {
    pub fn new() -> Resolver {
        Resolver::default()
    }

    /// The project of `inputs`; `None` only when nothing at all is known
    /// (no variable, no root, no working directory).
    pub fn resolve(&self, inputs: &Inputs) -> Option<Project> {
        Some(match inputs.choose()? {
            Chosen::Key(key) => Project::new(remote::normalize(&key).unwrap_or(key)),
            Chosen::Dir(dir) => self.resolve_dir(&dir),
        })
    }

    /// The project of a directory, from the cache while it is fresh.
    pub fn resolve_dir(&self, dir: &Path) -> Project {
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, project)) = cache.get(dir) {
                if at.elapsed() < FRESH_FOR {
                    return project.clone();
                }
            }
        }
        let project = resolve_dir_uncached(dir);
        if let Ok(mut cache) = self.cache.lock() {
            // A session touches a handful of directories; this bound only
            // guards against a client that sends a new root every call.
            if cache.len() >= 64 {
                cache.clear();
            }
            cache.insert(dir.to_path_buf(), (Instant::now(), project.clone()));
        }
        project
    }
}

/// The project of a directory, read from the disk now.
pub fn resolve_dir_uncached(dir: &Path) -> Project {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| lexical(dir));
    let key = match git::discover(&dir) {
        Some(repo) => repo
            .origin
            .as_deref()
            .and_then(remote::normalize)
            .unwrap_or_else(|| path_key(&repo.home)),
        None => path_key(&dir),
    };
    Project::new(key)
}

fn path_key(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// `path` without `.` and `..` segments, for a directory that does not exist
/// (so it cannot be canonicalized) but still needs one spelling.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
