//! The socket path checks: the length limit, and what a fallback directory
//! must be before it is used.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::*;

/// Paths whose socket is `name` in `dir`, chosen as `origin`.
fn paths(dir: &Path, origin: SocketOrigin) -> Paths {
    Paths {
        db: PathBuf::from("/d/memory.db"),
        socket: dir.join("memgraphd-0123456789abcdef.sock"),
        socket_origin: origin,
        lock: PathBuf::from("/d/memory.db.lock"),
        log: PathBuf::from("/d/memgraphd.log"),
    }
}

fn fallback(dir: &Path) -> Paths {
    paths(
        dir,
        SocketOrigin::Fallback {
            derived: PathBuf::from("/a/very/long/usual/place.sock"),
        },
    )
}

fn problem(result: Result<(), SocketPathError>) -> DirProblem {
    match result {
        Err(SocketPathError::Unsafe { problem, .. }) => problem,
        other => panic!("expected a refused directory, got {other:?}"),
    }
}

#[test]
fn a_missing_fallback_dir_is_fine_to_clients_and_created_private_by_the_daemon() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("memgraphd-0");
    let paths = fallback(&dir);
    check_path(&paths).expect("a client does not need it yet");
    assert!(!dir.exists(), "a client creates nothing");
    prepare_path(&paths).expect("the daemon creates it");
    let mode = std::fs::metadata(&dir).expect("created").mode() & 0o777;
    assert_eq!(mode, 0o700);
    check_path(&paths).expect("and then it is fine");
    prepare_path(&paths).expect("twice too");
}

#[test]
fn a_symlink_as_the_fallback_dir_is_refused_even_to_a_private_dir() {
    let root = tempfile::tempdir().expect("tempdir");
    let target = root.path().join("elsewhere");
    std::fs::create_dir(&target).expect("target");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let dir = root.path().join("memgraphd-0");
    std::os::unix::fs::symlink(&target, &dir).expect("symlink");
    assert_eq!(problem(check_path(&fallback(&dir))), DirProblem::Symlink);
    assert_eq!(problem(prepare_path(&fallback(&dir))), DirProblem::Symlink);
}

#[test]
fn a_file_as_the_fallback_dir_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("memgraphd-0");
    std::fs::write(&dir, b"").expect("a file");
    assert_eq!(
        problem(prepare_path(&fallback(&dir))),
        DirProblem::NotADirectory
    );
}

#[test]
fn a_fallback_dir_open_to_others_is_refused_and_left_as_it_was() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("memgraphd-0");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(
        problem(prepare_path(&fallback(&dir))),
        DirProblem::Open { mode: 0o755 }
    );
    let mode = std::fs::metadata(&dir).expect("still there").mode() & 0o777;
    assert_eq!(mode, 0o755, "never changed silently");
    let message = prepare_path(&fallback(&dir))
        .expect_err("refused")
        .to_string();
    assert!(message.contains("chmod 700"), "{message}");
}

#[test]
fn a_fallback_dir_of_another_user_is_refused_as_root() {
    if this_uid() != 0 {
        eprintln!("SKIPPED a_fallback_dir_of_another_user_is_refused_as_root: chown needs root");
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("memgraphd-0");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown to nobody");
    assert_eq!(
        problem(check_path(&fallback(&dir))),
        DirProblem::OtherOwner {
            owner: 65534,
            you: 0
        }
    );
}

#[test]
fn only_the_fallback_dir_is_held_to_those_rules() {
    // A directory of the user's choice (or the usual one) may be shared, as
    // /tmp is; `doctor` warns about it, nothing refuses it.
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    check_path(&paths(root.path(), SocketOrigin::Given)).expect("given");
    prepare_path(&paths(root.path(), SocketOrigin::Derived)).expect("derived");
}

#[test]
fn a_given_path_too_long_is_an_error_saying_so() {
    let long = PathBuf::from(format!("/{}", "s".repeat(SOCKET_PATH_MAX)));
    let paths = Paths {
        socket: long.clone(),
        ..paths(Path::new("/x"), SocketOrigin::Given)
    };
    let err = check_path(&paths).expect_err("too long");
    assert!(
        matches!(&err, SocketPathError::TooLong { len, .. } if *len == SOCKET_PATH_MAX + 1),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("MEMGRAPHD_SOCKET"), "{message}");
    assert!(
        message.contains(&format!("{} bytes", SOCKET_PATH_MAX - 1)),
        "{message}"
    );
}
