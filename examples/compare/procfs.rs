//! What the comparison reads from `/proc` (Linux): the CPU time and the
//! resident memory of the server processes, and the machine's load. Off
//! Linux every reading is `None` and the report says n/a.

use std::time::Duration;

/// User plus system CPU time of a process, all its threads (live and
/// exited) included, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// utime + stime of a `stat` line.
fn ticks(stat: &str) -> Option<Duration> {
    // The command name may hold spaces and parentheses: fields start after
    // the last `)`.
    let after_name = stat.rsplit_once(')')?.1;
    let tokens: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = tokens.get(11)?.parse().ok()?;
    let stime: u64 = tokens.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture we run on.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time of each live thread of a process, by thread name (threads of
/// one name summed), from `/proc/<pid>/task/*/stat`.
pub fn thread_times(pid: u32) -> Vec<(String, Duration)> {
    let mut out: Vec<(String, Duration)> = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        let Some(time) = ticks(&stat) else { continue };
        let name = std::fs::read_to_string(path.join("comm"))
            .map(|n| n.trim().to_string())
            .unwrap_or_default();
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 += time,
            None => out.push((name, time)),
        }
    }
    out
}

/// `VmRSS` (resident now) and `VmHWM` (resident at its peak) of a process,
/// in KiB.
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The 1, 5 and 15 minute load averages, to judge how quiet the machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "n/a".to_string())
}

/// The CPU model and the memory size, for the report's header.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                Some(
                    line.split_once("model name")?
                        .1
                        .split_once(':')?
                        .1
                        .trim()
                        .to_string(),
                )
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let ram = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let kib: u64 = text
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(format!("{:.1} GiB RAM", kib as f64 / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "RAM n/a".to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} cores, {ram}")
}
