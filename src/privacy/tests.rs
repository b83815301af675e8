//! Unit tests of the privacy functions on temporary files. The umask is a
//! process-wide setting, so tests here never change it: the end-to-end test
//! `privacy::every_file_is_private_after_a_session_a_backup_and_an_export`
//! runs the binary under an explicit umask instead.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn paths_in(dir: &Path) -> Paths {
    Paths {
        db: dir.join("memory.db"),
        socket: dir.join("d.sock"),
        socket_origin: crate::config::SocketOrigin::Given,
        lock: dir.join("memory.db.lock"),
        log: dir.join("memgraphd.log"),
    }
}

#[test]
fn created_directories_and_files_are_private() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join("a").join("b");
    create_dir_all(&dir).expect("create");
    assert_eq!(mode(&home.path().join("a")), 0o700);
    assert_eq!(mode(&dir), 0o700);
    let file = dir.join("f");
    file_options()
        .write(true)
        .create_new(true)
        .open(&file)
        .expect("create file");
    assert_eq!(mode(&file), 0o600);
}

#[test]
fn an_existing_directory_keeps_its_mode() {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    create_dir_all(home.path()).expect("create");
    assert_eq!(mode(home.path()), 0o755);
}

#[test]
fn exposed_lists_only_files_others_can_reach() {
    let home = tempfile::tempdir().expect("tempdir");
    let paths = paths_in(home.path());
    assert_eq!(exposed(&paths), Vec::<PathBuf>::new(), "nothing exists yet");
    let wal = home.path().join("memory.db-wal");
    for (path, mode) in [
        (&paths.db, 0o644),
        (&wal, 0o600),
        (&paths.log, 0o620),
        (&paths.lock, 0o600),
    ] {
        std::fs::write(path, b"").expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    assert_eq!(exposed(&paths), vec![paths.db.clone(), paths.log.clone()]);
    assert_eq!(mode(&paths.db), 0o644, "a check never changes a mode");
}

#[test]
fn the_fix_is_one_command_with_each_path_quoted_as_needed() {
    let files = [
        PathBuf::from("/home/al/.local/share/memgraphd/memory.db"),
        PathBuf::from("/home/al/My Notes/it's.db"),
    ];
    assert_eq!(
        fix_command(&files),
        r"chmod 600 /home/al/.local/share/memgraphd/memory.db '/home/al/My Notes/it'\''s.db'"
    );
}
