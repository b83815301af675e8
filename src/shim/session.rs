//! What one MCP session knows about itself: its id, the client's
//! `clientInfo`, the client's first root, and from these the project and
//! [`Provenance`] of each call.
//!
//! Roots are asked for (`roots/list`) only when the client declared the
//! `roots` capability: after `notifications/initialized`, and again on each
//! `notifications/roots/list_changed`. A client that never answers costs a
//! bounded wait in a task of its own, never a tool call's time.
//!
//! `instructions` is answered before any root is known, so the project it
//! names comes from the environment or the working directory; every call
//! after the roots arrive resolves with them.

use std::sync::Mutex;
use std::time::Duration;

use rmcp::service::Peer;
use rmcp::RoleServer;

use crate::project::{Inputs, Project, Resolver};
use crate::provenance::{self, ClientInfo, Provenance};

/// How long the client may take to answer `roots/list`.
const ROOTS_WAIT: Duration = Duration::from_secs(10);

/// One session's identity and whereabouts.
pub struct Session {
    id: String,
    /// The environment's inputs, read once: a process's environment does
    /// not change under it.
    env: Inputs,
    client: Mutex<Option<ClientInfo>>,
    first_root: Mutex<Option<String>>,
    resolver: Resolver,
}

impl Session {
    pub fn from_env() -> Session {
        Session::new(provenance::session_id(), Inputs::from_env())
    }

    pub fn new(id: String, env: Inputs) -> Session {
        Session {
            id,
            env,
            client: Mutex::new(None),
            first_root: Mutex::new(None),
            resolver: Resolver::new(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn set_client(&self, client: ClientInfo) {
        if let Ok(mut slot) = self.client.lock() {
            *slot = Some(client);
        }
    }

    /// Records the URI of the client's first root (`None`: it has none).
    pub fn set_first_root(&self, uri: Option<String>) {
        if let Ok(mut slot) = self.first_root.lock() {
            *slot = uri;
        }
    }

    fn inputs(&self) -> Inputs {
        Inputs {
            first_root: self.first_root.lock().ok().and_then(|r| r.clone()),
            ..self.env.clone()
        }
    }

    /// The project of a call made now.
    pub fn project(&self) -> Option<Project> {
        self.resolver.resolve(&self.inputs())
    }

    /// What a write made now says about its origin. This is what the shim
    /// will send with each write once the protocol carries it.
    pub fn provenance(&self) -> Provenance {
        Provenance {
            session: self.id.clone(),
            client: self.client.lock().ok().and_then(|c| c.clone()),
            project: self.project(),
            cwd: self.env.cwd.clone(),
        }
    }

    /// After `notifications/initialized`: keeps the `clientInfo`, and asks
    /// for the roots when the client offers them.
    pub async fn on_initialized(&self, peer: &Peer<RoleServer>) {
        let Some(info) = peer.peer_info() else {
            return;
        };
        self.set_client(ClientInfo {
            name: info.client_info.name.clone(),
            version: info.client_info.version.clone(),
        });
        if info.capabilities.roots.is_some() {
            self.refresh_roots(peer).await;
        }
    }

    /// Asks the client for its roots and keeps the first one.
    // Roots are deprecated in the newest MCP revision, but they are what
    // Claude Code and other clients offer today.
    #[allow(deprecated)]
    pub async fn refresh_roots(&self, peer: &Peer<RoleServer>) {
        let asked = tokio::time::timeout(ROOTS_WAIT, peer.list_roots()).await;
        match asked {
            Ok(Ok(list)) => {
                self.set_first_root(list.roots.into_iter().next().map(|root| root.uri));
                if let Some(project) = self.project() {
                    tracing::debug!("session project: {} ({})", project.name, project.key);
                }
            }
            Ok(Err(e)) => tracing::debug!("roots/list failed: {e}"),
            Err(_) => tracing::debug!("roots/list got no answer in {ROOTS_WAIT:?}"),
        }
    }
}

/// The `instructions` text with a closing sentence naming the project.
pub fn instructions(base: &str, project: Option<&Project>) -> String {
    match project {
        Some(project) if project.name != project.key => format!(
            "{base}\nThis session's project: {} ({}).",
            project.name, project.key
        ),
        Some(project) => format!("{base}\nThis session's project: {}.", project.name),
        None => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn session(env: Inputs) -> Session {
        Session::new("s-1".into(), env)
    }

    #[test]
    fn a_root_decides_once_it_is_known_unless_the_environment_does() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("rooted");
        std::fs::create_dir(&root).expect("creating the root dir");
        let canonical = std::fs::canonicalize(&root).expect("canonical root");
        let uri = format!("file://{}", canonical.display());

        let by_cwd = session(Inputs {
            cwd: Some(dir.path().to_path_buf()),
            ..Inputs::default()
        });
        let before = by_cwd.project().expect("a project");
        assert_ne!(before.name, "rooted");
        by_cwd.set_first_root(Some(uri.clone()));
        assert_eq!(by_cwd.project().expect("a project").name, "rooted");
        by_cwd.set_first_root(None);
        assert_eq!(by_cwd.project(), Some(before));

        let by_env = session(Inputs {
            claude_project_dir: Some(PathBuf::from("/srv/elsewhere")),
            ..Inputs::default()
        });
        by_env.set_first_root(Some(uri));
        assert_eq!(by_env.project().expect("a project").key, "/srv/elsewhere");
    }

    #[test]
    fn provenance_carries_session_client_project_and_cwd() {
        let s = session(Inputs {
            explicit: Some("github.com/acme/tools".into()),
            cwd: Some(PathBuf::from("/work/here")),
            ..Inputs::default()
        });
        assert_eq!(s.provenance().client, None);
        s.set_client(ClientInfo {
            name: "claude-code".into(),
            version: "2.1.197".into(),
        });
        let p = s.provenance();
        assert_eq!(p.session, "s-1");
        assert_eq!(p.client.map(|c| c.name).as_deref(), Some("claude-code"));
        assert_eq!(
            p.project.map(|p| p.key).as_deref(),
            Some("github.com/acme/tools")
        );
        assert_eq!(p.cwd, Some(PathBuf::from("/work/here")));
    }

    #[test]
    fn instructions_close_with_the_project() {
        let project = Project {
            key: "github.com/acme/tools".into(),
            name: "tools".into(),
        };
        assert_eq!(
            instructions("Base.", Some(&project)),
            "Base.\nThis session's project: tools (github.com/acme/tools)."
        );
        let plain = Project {
            key: "notes".into(),
            name: "notes".into(),
        };
        assert_eq!(
            instructions("Base.", Some(&plain)),
            "Base.\nThis session's project: notes."
        );
        assert_eq!(instructions("Base.", None), "Base.");
    }
}
