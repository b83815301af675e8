//! What resolving a session's project costs, three ways, on a real linked
//! worktree made in a temp dir: reading git's files ourselves (what the shim
//! does, `project::resolve_dir_uncached`), the same through the per-directory
//! cache (`project::Resolver`), and asking `git` itself
//! (`git rev-parse --git-common-dir` plus `git config remote.origin.url`).
//!
//!   cargo run --release --example project_resolution

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use memgraphd::project::{self, Resolver};

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .context("running git")?;
    ensure!(out.status.success(), "git {args:?} failed");
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn time(label: &str, runs: u32, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<()> {
    let mut samples: Vec<Duration> = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        samples.push(start.elapsed());
    }
    samples.sort();
    let p50 = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    println!("{label:<34} runs {runs:>6}  p50 {p50:>10.1?}  p99 {p99:>10.1?}");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let main = dir.path().join("main");
    std::fs::create_dir(&main)?;
    git(&main, &["init", "-q"])?;
    git(&main, &["commit", "-q", "--allow-empty", "-m", "first"])?;
    git(
        &main,
        &["remote", "add", "origin", "git@github.com:acme/widgets.git"],
    )?;
    git(
        &main,
        &["worktree", "add", "-q", "-b", "feature", "../feature"],
    )?;
    let deep = dir.path().join("feature").join("src").join("deep");
    std::fs::create_dir_all(&deep)?;

    let expected = "github.com/acme/widgets";
    let project = project::resolve_dir_uncached(&deep);
    ensure!(project.key == expected, "resolved {}", project.key);
    println!(
        "a linked worktree, 2 levels down, resolves to {}\n",
        project.key
    );

    time("read git's files (uncached)", 10_000, || {
        ensure!(project::resolve_dir_uncached(&deep).key == expected);
        Ok(())
    })?;
    let resolver = Resolver::new();
    time("read git's files (cached)", 100_000, || {
        ensure!(resolver.resolve_dir(&deep).key == expected);
        Ok(())
    })?;
    time("spawn git twice", 200, || {
        git(&deep, &["rev-parse", "--git-common-dir"])?;
        git(&deep, &["config", "--get", "remote.origin.url"])?;
        Ok(())
    })?;
    Ok(())
}
