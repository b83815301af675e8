//! What one sync to disk costs here: the floor under sequential commits
//! that each wait for the disk, as memgraphd's `full` durability does.
//!
//! It appends 4 KiB to a file and syncs it (`fdatasync`), as SQLite does to
//! its WAL at each commit under `synchronous=FULL`, in a scratch directory
//! beside the servers' own, and reports the median.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// The median time of one 4 KiB append and its sync, over `samples`.
pub fn median(samples: usize) -> Result<Duration> {
    let dir = tempfile::Builder::new()
        .prefix("mgsync")
        .tempdir()
        .context("making a scratch directory")?;
    let mut file = std::fs::File::create(dir.path().join("wal")).context("creating a file")?;
    let page = [0x5a_u8; 4096];
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let start = Instant::now();
        file.write_all(&page).context("appending")?;
        file.sync_data().context("syncing")?;
        times.push(start.elapsed());
    }
    times.sort_unstable();
    Ok(times[times.len() / 2])
}
