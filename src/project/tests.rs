//! Unit tests for project resolution: URL spellings, the precedence of the
//! inputs, and real repositories made with `git` in temp dirs.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::git::ConfigValues;
use super::*;

/// Runs `git` in `dir` with no user or system config, failing the test on
/// an error (a missing `git` fails loudly rather than skipping).
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("running git (the tests need it installed)");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new repository at `dir/name` with one commit, and `origin` if given.
fn repo(dir: &Path, name: &str, origin: Option<&str>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).expect("creating the repository dir");
    git(&path, &["init", "-q"]);
    git(&path, &["commit", "-q", "--allow-empty", "-m", "first"]);
    if let Some(url) = origin {
        git(&path, &["remote", "add", "origin", url]);
    }
    path
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("creating a temp dir")
}

fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path)
        .expect("canonicalizing")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_spelling_of_a_remote_gives_one_key() {
    for url in [
        "git@github.com:a/b.git",
        "git@github.com:a/b",
        "https://github.com/a/b",
        "https://github.com/a/b.git",
        "https://github.com/a/b/",
        "https://GitHub.com/a/b",
        "http://github.com/a/b",
        "ssh://git@github.com/a/b.git",
        "ssh://git@github.com:22/a/b.git",
        "git+ssh://git@github.com/a/b.git",
        "git://github.com/a/b.git",
        "https://user:s3cret@github.com/a/b.git",
        "https://x-access-token:ghp_abc@github.com/a/b",
        "  https://github.com/a/b  ",
    ] {
        assert_eq!(
            remote::normalize(url).as_deref(),
            Some("github.com/a/b"),
            "{url}"
        );
    }
}

#[test]
fn remote_keys_keep_what_tells_repositories_apart() {
    let cases = [
        (
            "https://gitlab.example.com/group/sub/proj.git",
            "gitlab.example.com/group/sub/proj",
        ),
        ("https://github.com/A/B", "github.com/A/B"),
        ("ssh://git@[::1]:2222/a/b.git", "[::1]/a/b"),
        ("file:///srv/git/b.git", "/srv/git/b"),
        ("/srv/git/b.git", "/srv/git/b"),
        ("../shared/b.git", "../shared/b"),
        ("host:~/b.git", "host/~/b"),
        ("https://github.com/a/b.git?ref=x#y", "github.com/a/b"),
    ];
    for (url, key) in cases {
        assert_eq!(remote::normalize(url).as_deref(), Some(key), "{url}");
    }
    assert_eq!(remote::normalize(""), None);
    assert_eq!(remote::normalize("https://"), None);
}

#[test]
fn a_key_never_holds_credentials() {
    let key = remote::normalize("https://me:hunter2@example.com/a/b").expect("a key");
    assert!(!key.contains("hunter2") && !key.contains("me@"), "{key}");
}

#[test]
fn display_names_are_the_last_segment() {
    assert_eq!(display_name("github.com/a/b"), "b");
    assert_eq!(display_name("/home/me/notes"), "notes");
    assert_eq!(display_name("/home/me/notes/"), "notes");
    assert_eq!(display_name("solo"), "solo");
    assert_eq!(display_name("/"), "/");
}

#[test]
fn config_values_follow_gits_ini_rules() {
    let config = r#"
[core]
	bare = false
	worktree = ../../../sub
[remote "upstream"]
	url = https://github.com/up/b.git
[Remote "origin"]
	URL = "git@github.com:a/b.git" ; the fork
	url = https://second.example.com/ignored
[remote "Origin"]
	url = https://wrong-case.example.com/x
"#;
    assert_eq!(
        ConfigValues::parse(config),
        ConfigValues {
            origin: Some("git@github.com:a/b.git".into()),
            worktree: Some("../../../sub".into()),
        }
    );
    assert_eq!(ConfigValues::parse(""), ConfigValues::default());
}

#[test]
fn file_uris_become_paths() {
    assert_eq!(
        file_uri_path("file:///home/me/my%20proj"),
        Some(PathBuf::from("/home/me/my proj"))
    );
    assert_eq!(
        file_uri_path("file://localhost/srv/x"),
        Some(PathBuf::from("/srv/x"))
    );
    assert_eq!(file_uri_path("https://example.com/x"), None);
    assert_eq!(file_uri_path("file://otherhost/x"), None);
    assert_eq!(file_uri_path("file:///bad%zz"), None);
}

#[test]
fn the_first_input_set_wins() {
    let dir = temp();
    let inputs = Inputs {
        explicit: Some("github.com/acme/tools".into()),
        claude_project_dir: Some(dir.path().join("claude")),
        first_root: Some("file:///from/root".into()),
        cwd: Some(dir.path().to_path_buf()),
    };
    assert_eq!(
        inputs.choose(),
        Some(Chosen::Key("github.com/acme/tools".into()))
    );
    let inputs = Inputs {
        explicit: None,
        ..inputs
    };
    assert_eq!(
        inputs.choose(),
        Some(Chosen::Dir(dir.path().join("claude")))
    );
    let inputs = Inputs {
        claude_project_dir: None,
        ..inputs
    };
    assert_eq!(
        inputs.choose(),
        Some(Chosen::Dir(PathBuf::from("/from/root")))
    );
    let non_file_root = Inputs {
        first_root: Some("https://example.com/repo".into()),
        ..inputs.clone()
    };
    assert_eq!(
        non_file_root.choose(),
        Some(Chosen::Dir(dir.path().to_path_buf()))
    );
    let inputs = Inputs {
        first_root: None,
        ..inputs
    };
    assert_eq!(inputs.choose(), Some(Chosen::Dir(dir.path().to_path_buf())));
    assert_eq!(Inputs::default().choose(), None);
}

#[test]
fn an_explicit_directory_is_resolved_like_any_directory() {
    let dir = temp();
    let repo = repo(dir.path(), "tools", Some("git@github.com:acme/tools.git"));
    let inputs = Inputs {
        explicit: Some("tools".into()),
        cwd: Some(dir.path().to_path_buf()),
        ..Inputs::default()
    };
    assert_eq!(inputs.choose(), Some(Chosen::Dir(repo.clone())));
    let project = Resolver::new().resolve(&inputs).expect("a project");
    assert_eq!(project.key, "github.com/acme/tools");
    assert_eq!(project.name, "tools");
}

#[test]
fn an_explicit_url_is_normalized_and_a_plain_key_kept() {
    let resolver = Resolver::new();
    let with = |explicit: &str| {
        resolver
            .resolve(&Inputs {
                explicit: Some(explicit.into()),
                ..Inputs::default()
            })
            .expect("a project")
    };
    assert_eq!(
        with("git@github.com:acme/tools.git").key,
        "github.com/acme/tools"
    );
    let plain = with("client-work");
    assert_eq!(
        (plain.key.as_str(), plain.name.as_str()),
        ("client-work", "client-work")
    );
}

#[test]
fn a_repository_is_keyed_by_its_origin_from_any_subdirectory() {
    let dir = temp();
    let repo = repo(
        dir.path(),
        "widgets",
        Some("https://github.com/acme/widgets.git"),
    );
    let deep = repo.join("src").join("deep");
    std::fs::create_dir_all(&deep).expect("creating a subdirectory");
    for at in [&repo, &deep] {
        let project = resolve_dir_uncached(at);
        assert_eq!(project.key, "github.com/acme/widgets", "{}", at.display());
        assert_eq!(project.name, "widgets");
    }
}

#[test]
fn origins_in_several_forms_give_one_project() {
    let dir = temp();
    let keys: Vec<String> = [
        "git@github.com:acme/widgets.git",
        "https://github.com/acme/widgets",
        "ssh://git@github.com/acme/widgets.git",
    ]
    .iter()
    .enumerate()
    .map(|(i, url)| resolve_dir_uncached(&repo(dir.path(), &format!("clone{i}"), Some(url))).key)
    .collect();
    assert_eq!(keys, ["github.com/acme/widgets"; 3]);
}

#[test]
fn worktrees_of_one_repository_are_one_project() {
    let dir = temp();
    let main = repo(dir.path(), "main", Some("git@github.com:acme/widgets.git"));
    git(
        &main,
        &["worktree", "add", "-q", "-b", "feature", "../feature"],
    );
    let feature = dir.path().join("feature");
    assert!(
        feature.join(".git").is_file(),
        "a linked worktree has a .git file"
    );
    assert_eq!(resolve_dir_uncached(&feature), resolve_dir_uncached(&main));

    // Without an origin the key is the main worktree's path, from both.
    let bare = repo(dir.path(), "local", None);
    git(&bare, &["worktree", "add", "-q", "-b", "wt", "../local-wt"]);
    let from_worktree = resolve_dir_uncached(&dir.path().join("local-wt").join("."));
    assert_eq!(from_worktree.key, canonical(&bare));
    assert_eq!(from_worktree.name, "local");
}

#[test]
fn a_repository_without_origin_is_keyed_by_its_canonical_path() {
    let dir = temp();
    let repo = repo(
        dir.path(),
        "scratch",
        Some("https://example.com/not-origin"),
    );
    // A remote under another name is not the origin.
    git(&repo, &["remote", "rename", "origin", "upstream"]);
    let sub = repo.join("sub");
    std::fs::create_dir(&sub).expect("creating a subdirectory");
    let project = resolve_dir_uncached(&sub);
    assert_eq!(project.key, canonical(&repo));
    assert_eq!(project.name, "scratch");
}

#[test]
fn a_directory_outside_git_is_keyed_by_its_canonical_path() {
    let dir = temp();
    let plain = dir.path().join("notes");
    std::fs::create_dir(&plain).expect("creating a dir");
    let spelled = dir.path().join("notes").join("..").join("notes");
    let project = resolve_dir_uncached(&spelled);
    assert_eq!(project.key, canonical(&plain));
    assert_eq!(project.name, "notes");
    assert!(project.key.starts_with('/'), "never a bare folder name");
}

#[test]
fn a_missing_directory_still_gets_one_spelling() {
    let project = resolve_dir_uncached(Path::new("/no/such/dir/../place"));
    assert_eq!(project.key, "/no/such/place");
    assert_eq!(project.name, "place");
}

#[test]
fn the_cache_answers_until_the_entry_is_stale() {
    let dir = temp();
    let repo = repo(dir.path(), "app", Some("https://github.com/acme/app"));
    let resolver = Resolver::new();
    assert_eq!(resolver.resolve_dir(&repo).key, "github.com/acme/app");
    git(
        &repo,
        &[
            "remote",
            "set-url",
            "origin",
            "https://github.com/acme/renamed",
        ],
    );
    // Within FRESH_FOR the cached answer stands; read afresh, the new one.
    assert_eq!(resolver.resolve_dir(&repo).key, "github.com/acme/app");
    assert_eq!(resolve_dir_uncached(&repo).key, "github.com/acme/renamed");
}
