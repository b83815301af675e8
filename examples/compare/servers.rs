//! The three servers under comparison, each fresh on its own scratch
//! directory: memgraphd (shims and a daemon on a private database and
//! socket), the official server (`MEMORY_FILE_PATH` names its JSONL file) and
//! the SQLite seed (it keeps `~/.claude/memory.db`, so its `HOME` is the
//! scratch directory).
//!
//! A [`Server`] starts MCP sessions on its server, says which processes do
//! the server's work (for CPU and memory), and where its data lies on disk.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::common::{Home, Session};

/// Which server.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Memgraphd,
    Official,
    Seed,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Memgraphd, Kind::Official, Kind::Seed];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Memgraphd => "memgraphd",
            Kind::Official => "official",
            Kind::Seed => "seed",
        }
    }

    /// The npm package of a peer.
    pub fn package(self) -> Option<&'static str> {
        match self {
            Kind::Memgraphd => None,
            Kind::Official => Some("@modelcontextprotocol/server-memory"),
            Kind::Seed => Some("@pepk/mcp-memory-sqlite"),
        }
    }

    pub fn parse(text: &str) -> Result<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.label() == text)
            .with_context(|| format!("unknown server {text:?}: use memgraphd, official or seed"))
    }
}

/// Where a server runs and keeps its data.
enum Place {
    Memgraphd {
        home: Home,
        /// `None` is the default durability (`full`).
        durability: Option<&'static str>,
    },
    Peer {
        dir: tempfile::TempDir,
        node: PathBuf,
        script: PathBuf,
    },
}

/// One server under test, fresh on its own scratch directory.
pub struct Server {
    pub kind: Kind,
    /// The version and the program, for the report.
    pub description: String,
    place: Place,
}

impl Server {
    /// memgraphd on a private database and socket in a temporary directory.
    pub fn memgraphd() -> Result<Server> {
        // Keep the prefix short: socket paths must stay under about 100 bytes.
        let home = Home::new("mgc")?;
        let description = format!("{} ({})", home.version(), home.bin.display());
        Ok(Server {
            kind: Kind::Memgraphd,
            description,
            place: Place::Memgraphd {
                home,
                durability: None,
            },
        })
    }

    /// A peer installed under `peers` (its `node_modules`), run by `node`.
    pub fn peer(kind: Kind, peers: &Path, node: &Path) -> Result<Server> {
        let package = kind.package().context("memgraphd is not a peer")?;
        let root = peers.join("node_modules").join(package);
        let manifest_path = root.join("package.json");
        let manifest: Value = std::fs::read_to_string(&manifest_path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .with_context(|| {
                format!(
                    "{package} is not installed ({} is missing or unreadable): \
                     run bench/compare, which installs the peers",
                    manifest_path.display()
                )
            })?;
        // The package's `bin` is what `npx` would start.
        let bin = match &manifest["bin"] {
            Value::String(path) => Some(path.as_str()),
            Value::Object(bins) => bins.values().find_map(Value::as_str),
            _ => None,
        }
        .with_context(|| format!("{} declares no bin", manifest_path.display()))?;
        let script = root.join(bin);
        if !script.is_file() {
            bail!("{package}'s bin {} is missing", script.display());
        }
        let version = manifest["version"].as_str().unwrap_or("?");
        let node_version = Command::new(node)
            .arg("--version")
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .with_context(|| {
                format!(
                    "`{} --version` failed: is Node.js installed?",
                    node.display()
                )
            })?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("cmp-{}-", kind.label()))
            .tempdir()
            .context("creating a scratch dir")?;
        Ok(Server {
            kind,
            description: format!("{package} {version} (node {node_version})"),
            place: Place::Peer {
                dir,
                node: node.to_owned(),
                script,
            },
        })
    }

    /// The scratch directory.
    pub fn dir(&self) -> &Path {
        match &self.place {
            Place::Memgraphd { home, .. } => home.dir.path(),
            Place::Peer { dir, .. } => dir.path(),
        }
    }

    /// A new MCP session: a new shim for memgraphd, a new server process
    /// for a peer. Its stderr goes to `stderr.log` in the scratch directory.
    pub fn session(&self, name: &str) -> Result<Session> {
        let mut command = match &self.place {
            Place::Memgraphd { home, durability } => {
                // An interrupted run cannot stop its daemon: this one exits by
                // itself a minute after its last session.
                let mut command = match durability {
                    Some(d) => home.command(&["mcp", "--idle-timeout", "60s", "--durability", d]),
                    None => home.command(&["mcp", "--idle-timeout", "60s"]),
                };
                // A size guard, where the build has one, would cut the
                // whole-graph reads the peers answer in full.
                command.env("MEMGRAPHD_MAX_RESULT_CHARS", "0");
                command
            }
            Place::Peer { dir, node, script } => {
                let mut command = Command::new(node);
                command
                    .arg(script)
                    .current_dir(dir.path())
                    .env("HOME", dir.path())
                    .env("MEMORY_FILE_PATH", dir.path().join("memory.jsonl"));
                command
            }
        };
        command.env_remove("NODE_OPTIONS");
        let log = self.stderr_log()?;
        Session::start(name, command, Stdio::from(log)).with_context(|| {
            format!(
                "{} did not start a session{}",
                self.kind.label(),
                self.stderr_tail()
            )
        })
    }

    fn stderr_log(&self) -> Result<File> {
        let path = self.dir().join("stderr.log");
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))
    }

    /// The last lines the server wrote to stderr, for error messages.
    pub fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir().join("stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
        if tail.is_empty() {
            String::new()
        } else {
            format!(" (its stderr ends: {tail})")
        }
    }

    /// The processes doing this session's server work, with their roles:
    /// the shim and the daemon for memgraphd, the node process for a peer.
    pub fn processes(&self, session: &Session) -> Vec<(&'static str, u32)> {
        match &self.place {
            Place::Memgraphd { home, .. } => {
                let mut out = vec![("shim", session.pid())];
                if let Ok(pid) = home.daemon_pid() {
                    out.push(("daemon", pid));
                }
                out
            }
            Place::Peer { .. } => vec![("node", session.pid())],
        }
    }

    /// The daemon's pid (memgraphd only).
    pub fn daemon_pid(&self) -> Option<u32> {
        match &self.place {
            Place::Memgraphd { home, .. } => home.daemon_pid().ok(),
            Place::Peer { .. } => None,
        }
    }

    /// The files holding the graph: the database and its WAL, or the JSONL
    /// file.
    pub fn data_files(&self) -> Vec<PathBuf> {
        let dir = self.dir();
        match self.kind {
            Kind::Memgraphd => vec![dir.join("memory.db"), dir.join("memory.db-wal")],
            Kind::Official => vec![dir.join("memory.jsonl")],
            Kind::Seed => {
                let db = dir.join(".claude");
                vec![db.join("memory.db"), db.join("memory.db-wal")]
            }
        }
    }

    /// The bytes of [`Server::data_files`] now, and one line saying which.
    pub fn data_bytes(&self) -> Result<(u64, String)> {
        let mut total = 0;
        let mut parts = Vec::new();
        for path in self.data_files() {
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into());
            match std::fs::metadata(&path) {
                Ok(meta) => {
                    total += meta.len();
                    parts.push(format!("{name} {}", crate::report::bytes(meta.len())));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            }
        }
        if parts.is_empty() {
            bail!("none of its data files exists in {}", self.dir().display());
        }
        Ok((total, parts.join(" + ")))
    }

    /// Stops memgraphd's daemon so that the next session starts one with
    /// `--durability durability`.
    pub fn restart_with_durability(&mut self, durability: &'static str) -> Result<()> {
        let Place::Memgraphd {
            home,
            durability: current,
        } = &mut self.place
        else {
            bail!("only memgraphd has a durability setting");
        };
        home.stop_daemon()?;
        *current = Some(durability);
        Ok(())
    }

    /// Copies the data files into `dest/<server>/` (memgraphd's after its
    /// daemon stopped and checkpointed), for inspection after the run.
    pub fn keep_data(&self, dest: &Path) -> Result<PathBuf> {
        if let Place::Memgraphd { home, .. } = &self.place {
            home.stop_daemon()?;
        }
        let into = dest.join(self.kind.label());
        std::fs::create_dir_all(&into).with_context(|| format!("creating {}", into.display()))?;
        for path in self.data_files() {
            if path.exists() {
                let name = path.file_name().context("a data file has a name")?;
                std::fs::copy(&path, into.join(name))
                    .with_context(|| format!("copying {}", path.display()))?;
            }
        }
        Ok(into)
    }

    /// Stops memgraphd's daemon (peers stop with their last session). The
    /// scratch directory goes when the server is dropped.
    pub fn finish(&self) -> Result<()> {
        if let Place::Memgraphd { home, .. } = &self.place {
            home.stop_daemon()?;
            if home.daemon_running()? {
                bail!("a memgraphd daemon still answers after `memgraphd stop`");
            }
        }
        Ok(())
    }
}
