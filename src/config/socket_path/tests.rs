//! The socket path rule at the length limit, and the fallback it picks.

use std::path::{Path, PathBuf};

use super::*;

const NAME: &str = "memgraphd-0123456789abcdef.sock";

/// A directory whose path is `len` bytes: `/` followed by `x`s.
fn dir_of_len(len: usize) -> PathBuf {
    PathBuf::from(format!("/{}", "x".repeat(len - 1)))
}

/// The length of `NAME` in a directory of `dir_len` bytes.
fn socket_len(dir_len: usize) -> usize {
    dir_len + 1 + NAME.len()
}

#[test]
fn a_path_fits_up_to_one_byte_short_of_sun_path() {
    let longest = SOCKET_PATH_MAX - 1;
    let dir_len = longest - 1 - NAME.len();
    let just_fits = dir_of_len(dir_len).join(NAME);
    assert_eq!(just_fits.as_os_str().len(), longest);
    assert!(socket_path_fits(&just_fits));
    let one_over = dir_of_len(dir_len + 1).join(NAME);
    assert!(!socket_path_fits(&one_over));
}

#[test]
fn the_usual_place_is_kept_while_it_fits() {
    let dir_len = SOCKET_PATH_MAX - 2 - NAME.len();
    let usual = dir_of_len(dir_len);
    assert_eq!(socket_len(dir_len), SOCKET_PATH_MAX - 1);
    let (path, origin) = choose(NAME, &usual, &[PathBuf::from("/tmp")], 1000);
    assert_eq!(path, usual.join(NAME));
    assert_eq!(origin, SocketOrigin::Derived);
}

#[test]
fn a_usual_place_one_byte_too_long_falls_back_with_the_same_name() {
    let usual = dir_of_len(SOCKET_PATH_MAX - 1 - NAME.len());
    let (path, origin) = choose(NAME, &usual, &[PathBuf::from("/tmp")], 1000);
    assert_eq!(path, Path::new("/tmp/memgraphd-1000").join(NAME));
    assert_eq!(
        origin,
        SocketOrigin::Fallback {
            derived: usual.join(NAME)
        }
    );
}

#[test]
fn a_long_xdg_runtime_dir_of_67_bytes_is_enough_to_fall_back() {
    // `$XDG_RUNTIME_DIR/memgraphd/<name>`: 67 + 10 + 1 + 31 = 109 bytes.
    let usual = dir_of_len(67).join("memgraphd");
    let (path, origin) = choose(NAME, &usual, &[PathBuf::from("/tmp")], 0);
    assert!(matches!(origin, SocketOrigin::Fallback { .. }), "{path:?}");
    assert!(socket_path_fits(&path));
}

#[test]
fn a_temp_dir_too_long_itself_gives_way_to_tmp() {
    let usual = dir_of_len(200);
    let roots = [dir_of_len(100), PathBuf::from("/tmp")];
    let (path, _) = choose(NAME, &usual, &roots, 501);
    assert_eq!(path, Path::new("/tmp/memgraphd-501").join(NAME));
}

#[test]
fn when_nothing_fits_the_last_fallback_is_named_so_checking_can_say_why() {
    let usual = dir_of_len(200);
    let roots = [dir_of_len(150)];
    let (path, origin) = choose(NAME, &usual, &roots, 7);
    assert_eq!(path, roots[0].join("memgraphd-7").join(NAME));
    assert!(!socket_path_fits(&path));
    assert!(matches!(origin, SocketOrigin::Fallback { .. }));
}

#[test]
fn the_fallback_note_names_the_usual_path_and_its_length() {
    let derived = dir_of_len(120).join(NAME);
    let paths = Paths {
        db: PathBuf::from("/d/memory.db"),
        socket: Path::new("/tmp/memgraphd-0").join(NAME),
        socket_origin: SocketOrigin::Fallback {
            derived: derived.clone(),
        },
        lock: PathBuf::from("/d/memory.db.lock"),
        log: PathBuf::from("/d/memgraphd.log"),
    };
    let note = paths.socket_fallback_note().expect("a note");
    assert!(note.contains(&derived.display().to_string()), "{note}");
    assert!(
        note.contains(&format!("{} bytes", 120 + 1 + NAME.len())),
        "{note}"
    );
    assert!(note.contains("/tmp/memgraphd-0"), "{note}");
    let usual = Paths {
        socket_origin: SocketOrigin::Derived,
        ..paths
    };
    assert_eq!(usual.socket_fallback_note(), None);
}
