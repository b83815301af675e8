//! Keeping the memory private to its user: what memgraphd creates on disk is
//! created private, and what it finds exposed is reported, never changed.
//!
//! The memory holds whatever agents chose to remember, secrets included, so
//! every directory memgraphd creates is `0700` and every file it creates
//! (the database, the lock, the log, a backup, an export) is `0600`. The
//! mode is given when the file or directory is created, not left to the
//! umask. SQLite creates the database's `-wal` and `-shm` files with the
//! database file's own mode, so a private database keeps them private too.
//!
//! A database that already exists with looser permissions is the user's
//! to fix: [`exposed`] finds such files and [`fix_command`] says how, for
//! `doctor` and `status`. Nothing here changes an existing file's mode.

use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};

use crate::config::Paths;

/// Creates `path` and any missing parents as directories only their owner
/// may enter (`0700`). Directories that already exist are left as they are.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Options that create a file only its owner may read or write (`0600`).
/// The mode applies only when the file is created; add `create`, `write`,
/// … as needed.
pub fn file_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// The files of this database that exist and that users other than the
/// owner may read or write: the database, its `-wal` and `-shm`, the log
/// and the lock.
pub fn exposed(paths: &Paths) -> Vec<PathBuf> {
    let suffixed = |suffix: &str| {
        let mut path = paths.db.clone().into_os_string();
        path.push(suffix);
        PathBuf::from(path)
    };
    [
        paths.db.clone(),
        suffixed("-wal"),
        suffixed("-shm"),
        paths.log.clone(),
        paths.lock.clone(),
    ]
    .into_iter()
    .filter(|path| is_exposed(path))
    .collect()
}

#[cfg(unix)]
fn is_exposed(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn is_exposed(_: &Path) -> bool {
    // Files under the user's profile are private by the default ACL.
    false
}

/// What `doctor` and `status` say about exposed files: which they are and
/// the command that fixes them.
pub fn notice(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    format!(
        "{} can be read by other users of this machine; make {} private with: {}",
        names.join(", "),
        if files.len() == 1 { "it" } else { "them" },
        fix_command(files)
    )
}

/// The shell command that makes `files` private, ready to paste.
pub fn fix_command(files: &[PathBuf]) -> String {
    let mut command = String::from("chmod 600");
    for file in files {
        command.push(' ');
        command.push_str(&shell_quoted(&file.display().to_string()));
    }
    command
}

/// `text` as one shell word: bare when it is plain, else in single quotes.
fn shell_quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests;
