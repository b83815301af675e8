//! Turns a git remote URL into a project key, so that every spelling of one
//! repository's address gives the same key: `git@github.com:a/b.git`,
//! `https://github.com/a/b`, `ssh://git@github.com:22/a/b.git` and
//! `https://user:token@github.com/a/b/` are all `github.com/a/b`.
//!
//! Credentials, the user, the port, the scheme, a trailing `/` and a
//! trailing `.git` are dropped; the host is lower-cased. The path keeps its
//! case, because some hosts tell `A/b` from `a/b`. A key never holds a
//! secret: whatever stood before the `@` of the authority is gone.

/// The key of a remote URL, or `None` when `url` names no repository.
pub fn normalize(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "file" {
            return local_path(rest);
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        return with_host(host_of(authority), path);
    }
    if let Some((host, path)) = scp_like(url) {
        return with_host(host_of(host), path);
    }
    local_path(url)
}

/// `[user@]host:path`, git's short ssh form. A colon after a slash, or a
/// one-letter "host" (a Windows drive, `C:\repo`), makes it a local path.
fn scp_like(url: &str) -> Option<(&str, &str)> {
    let colon = url.find(':')?;
    let (host, path) = (&url[..colon], &url[colon + 1..]);
    let bare_host = host.rsplit('@').next().unwrap_or(host);
    if host.contains('/') || bare_host.len() < 2 || host.starts_with('[') {
        return None;
    }
    Some((host, path))
}

/// The host of an authority: no credentials or user, no port, lower case.
fn host_of(authority: &str) -> String {
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(inner) = host.strip_prefix('[') {
        // An IPv6 literal keeps its brackets; only a port after them goes.
        match inner.split_once(']') {
            Some((address, _)) => return format!("[{}]", address.to_ascii_lowercase()),
            None => host,
        }
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host.to_ascii_lowercase()
}

fn with_host(host: String, path: &str) -> Option<String> {
    if host.is_empty() {
        return None;
    }
    let path = clean_path(path);
    Some(if path.is_empty() {
        host
    } else {
        format!("{host}/{path}")
    })
}

/// A remote that is a directory on this machine keeps its path, as the key
/// of a repository without a remote does.
fn local_path(path: &str) -> Option<String> {
    let cleaned = clean_path(path);
    if cleaned.is_empty() {
        return None;
    }
    let absolute = path.starts_with('/');
    Some(if absolute {
        format!("/{cleaned}")
    } else {
        cleaned
    })
}

/// Drops empty segments, a trailing `.git` and any query or fragment.
fn clean_path(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(last) = segments.last_mut() {
        if let Some(stripped) = last.strip_suffix(".git") {
            *last = stripped;
        }
    }
    segments.retain(|s| !s.is_empty());
    segments.join("/")
}
