//! The doctor's trial open: each way a database can be found, and that the
//! directory is byte for byte as it was afterwards.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

/// Every file in `dir` with its size and a hash of its contents.
fn snapshot(dir: &Path) -> BTreeMap<String, (usize, u64)> {
    std::fs::read_dir(dir)
        .expect("listing")
        .map(|entry| {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&bytes, &mut hasher);
            (name, (bytes.len(), std::hash::Hasher::finish(&hasher)))
        })
        .collect()
}

/// Runs the preflight and checks it left `dir` exactly as it was.
fn preflight_leaving_nothing(dir: &Path, db: &Path) -> Result<Preflight, PreflightError> {
    let before = snapshot(dir);
    let found = preflight(db);
    assert_eq!(snapshot(dir), before, "the directory changed");
    found
}

#[test]
fn a_missing_database_is_created_later_and_nothing_is_made_now() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("memory.db");
    let found = preflight_leaving_nothing(dir.path(), &db).expect("fine");
    assert_eq!(found, Preflight::Missing);
}

#[test]
fn a_current_database_is_ready() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("memory.db");
    Store::open(&db, Durability::Full)
        .expect("create")
        .close()
        .expect("close");
    let found = preflight_leaving_nothing(dir.path(), &db).expect("fine");
    assert_eq!(
        found,
        Preflight::Ready {
            version: schema::supported_version()
        }
    );
}

#[test]
fn an_old_database_is_migrated_on_a_copy_and_left_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("memory.db");
    {
        let conn = Connection::open(&db).expect("a plain connection");
        conn.execute_batch(schema::MIGRATIONS[0]).expect("v1");
        conn.pragma_update(None, "user_version", 1).expect("v1");
    }
    let found = preflight_leaving_nothing(dir.path(), &db).expect("fine");
    assert_eq!(
        found,
        Preflight::Upgrade {
            from: 1,
            to: schema::supported_version()
        }
    );
}

#[test]
fn a_database_from_a_newer_build_fails_and_is_left_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("memory.db");
    {
        let conn = Connection::open(&db).expect("a plain connection");
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 999;")
            .expect("future");
    }
    let err = preflight_leaving_nothing(dir.path(), &db).expect_err("refused");
    assert!(
        matches!(
            err,
            PreflightError::Store(StoreError::SchemaTooNew { found: 999, .. })
        ),
        "{err:?}"
    );
}

#[test]
fn a_file_that_is_not_a_database_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("memory.db");
    std::fs::write(&db, vec![0x5a; 8192]).expect("garbage");
    let err = preflight_leaving_nothing(dir.path(), &db).expect_err("refused");
    let message = crate::error_chain(&err);
    assert!(message.contains("not an SQLite database"), "{message}");
}

#[test]
fn another_programs_database_fails_naming_the_file_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("memory.db");
    {
        let conn = Connection::open(&db).expect("a plain connection");
        conn.execute_batch("CREATE TABLE notes (x);")
            .expect("foreign");
    }
    let err = preflight_leaving_nothing(dir.path(), &db).expect_err("refused");
    match err {
        PreflightError::Store(StoreError::NotOurs { path, .. }) => assert_eq!(path, db),
        other => panic!("expected NotOurs, got {other:?}"),
    }
}
