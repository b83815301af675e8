//! The comparison's output: one Markdown table with each server's figure
//! per workload and the ratio memgraphd ÷ peer, the details behind the
//! figures, and the server CPU spent in each workload.

use std::time::Duration;

use crate::dataset::Dataset;
use crate::servers::Kind;
use crate::workloads::{Plan, Row, ServerReport};

/// One measured figure.
#[derive(Clone, Copy, Debug)]
pub enum Figure {
    Time(Duration),
    /// Calls per second.
    Rate(f64),
    Bytes(u64),
    /// Resident memory, KiB.
    Memory(u64),
    Count(u64),
}

impl Figure {
    fn value(self) -> f64 {
        match self {
            Figure::Time(d) => d.as_secs_f64(),
            Figure::Rate(r) => r,
            Figure::Bytes(b) => b as f64,
            Figure::Memory(k) => k as f64,
            Figure::Count(n) => n as f64,
        }
    }

    fn show(self) -> String {
        match self {
            Figure::Time(d) => duration(d),
            Figure::Rate(r) => format!("{}/s", thousands(r.round() as u64)),
            Figure::Bytes(b) => bytes(b),
            Figure::Memory(k) => mib(k),
            Figure::Count(n) => thousands(n),
        }
    }
}

/// A duration with three significant digits, in µs, ms or s.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.01 {
        format!("{:.1} ms", s * 1e3)
    } else if s >= 0.001 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

pub fn bytes(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", b as f64 / 1024.0)
    }
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prints the table, the details and the CPU lines.
pub fn print(results: &[(Kind, ServerReport)], data: &Dataset, plan: &Plan) {
    let peers: Vec<&(Kind, ServerReport)> = results
        .iter()
        .filter(|(k, _)| *k != Kind::Memgraphd)
        .collect();
    let ours = results
        .iter()
        .find(|(k, _)| *k == Kind::Memgraphd)
        .map(|(_, r)| r);

    let mut header = vec!["workload".to_string()];
    header.extend(results.iter().map(|(k, _)| k.label().to_string()));
    if ours.is_some() {
        header.extend(
            peers
                .iter()
                .map(|(k, _)| format!("memgraphd ÷ {}", k.label())),
        );
    }
    let mut rows = vec![header];
    let mut footnotes: Vec<String> = Vec::new();
    for row in Row::ALL {
        let mut line = vec![row.label(data, plan)];
        for (kind, report) in results {
            line.push(match report.cells.get(&row) {
                Some(cell) => match &cell.figure {
                    Ok(figure) => figure.show(),
                    Err(why) if why == "-" => "-".to_string(),
                    Err(why) => {
                        let note = format!("{}: {why}", kind.label());
                        let n = match footnotes.iter().position(|f| *f == note) {
                            Some(at) => at + 1,
                            None => {
                                footnotes.push(note);
                                footnotes.len()
                            }
                        };
                        format!("failed [{n}]")
                    }
                },
                None => "-".to_string(),
            });
        }
        if let Some(ours) = ours {
            for (_, peer) in &peers {
                line.push(ratio(row, ours, peer));
            }
        }
        rows.push(line);
    }
    print_table(&rows, 1);
    println!();
    if !footnotes.is_empty() {
        for (n, note) in footnotes.iter().enumerate() {
            println!("[{}] {note}", n + 1);
        }
        println!();
    }
    println!(
        "Ratios: a time, size or memory ratio under 1 and a calls/s ratio over 1 favour memgraphd."
    );
    println!();

    println!("Details:");
    for row in Row::ALL {
        let details: Vec<String> = results
            .iter()
            .filter_map(|(kind, report)| {
                let detail = report.cells.get(&row)?.detail.as_ref()?;
                Some(format!("{}: {detail}", kind.label()))
            })
            .collect();
        if !details.is_empty() {
            println!("- {}: {}", row.label(data, plan), details.join("; "));
        }
    }
    println!();

    println!("Server CPU per workload (user + system, from /proc; wall time includes the client):");
    let mut cpu_rows = vec![vec![
        "server".to_string(),
        "workload".to_string(),
        "wall".to_string(),
        "server CPU".to_string(),
        "daemon threads".to_string(),
    ]];
    for (kind, report) in results {
        for line in &report.cpu {
            let cpu: Vec<String> = line
                .cpu
                .iter()
                .map(|(role, spent)| format!("{role} {:.2} s", spent.as_secs_f64()))
                .collect();
            let threads: Vec<String> = line
                .daemon_threads
                .iter()
                .map(|(name, spent)| format!("{name} {:.2} s", spent.as_secs_f64()))
                .collect();
            cpu_rows.push(vec![
                kind.label().to_string(),
                line.workload.to_string(),
                duration(line.wall),
                cpu.join(", "),
                threads.join(", "),
            ]);
        }
    }
    print_table(&cpu_rows, 2);
    println!();
    print_cpu_ratios(results);
}

/// Total server CPU per workload and memgraphd ÷ peer: what each server
/// computes, which a busy machine distorts far less than wall time (it
/// leaves out waiting, fsync included).
fn print_cpu_ratios(results: &[(Kind, ServerReport)]) {
    let Some(ours) = results.iter().find(|(k, _)| *k == Kind::Memgraphd) else {
        return;
    };
    let peers: Vec<&(Kind, ServerReport)> = results
        .iter()
        .filter(|(k, _)| *k != Kind::Memgraphd)
        .collect();
    let total = |report: &ServerReport, workload: &str| {
        report
            .cpu
            .iter()
            .find(|line| line.workload == workload)
            .map(|line| line.cpu.iter().map(|(_, spent)| *spent).sum::<Duration>())
    };
    println!("Server CPU per workload, all of a server's processes:");
    let mut header = vec!["workload".to_string()];
    header.extend(results.iter().map(|(k, _)| k.label().to_string()));
    header.extend(
        peers
            .iter()
            .map(|(k, _)| format!("memgraphd ÷ {}", k.label())),
    );
    let mut rows = vec![header];
    for line in &ours.1.cpu {
        let mut row = vec![line.workload.to_string()];
        for (_, report) in results {
            row.push(
                total(report, line.workload)
                    .map_or_else(String::new, |d| format!("{:.2} s", d.as_secs_f64())),
            );
        }
        let mine = total(&ours.1, line.workload);
        for (_, peer) in &peers {
            row.push(match (mine, total(peer, line.workload)) {
                (Some(a), Some(b)) if !b.is_zero() => {
                    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
                }
                _ => String::new(),
            });
        }
        rows.push(row);
    }
    print_table(&rows, 1);
}

/// memgraphd's figure over the peer's, when both exist and it means
/// something.
fn ratio(row: Row, ours: &ServerReport, peer: &ServerReport) -> String {
    if row.lower_is_better().is_none() {
        return String::new();
    }
    let figure = |r: &ServerReport, row: Row| {
        r.cells
            .get(&row)
            .and_then(|c| c.figure.as_ref().ok().copied())
    };
    // The peers have no durability setting: memgraphd's `normal` creates
    // are held against their only ones.
    let peer_row = match row {
        Row::CreatesNormal => Row::CreatesFull,
        other => other,
    };
    match (figure(ours, row), figure(peer, peer_row)) {
        (Some(a), Some(b)) if b.value() > 0.0 => {
            let r = a.value() / b.value();
            // Two significant digits, however small the ratio.
            let decimals = if r >= 0.095 || r <= 0.0 {
                2
            } else {
                (1.0 - r.log10().floor()) as usize
            };
            format!("{r:.decimals$}×")
        }
        _ => String::new(),
    }
}

/// Prints a Markdown table; the first `left` columns are labels,
/// left-aligned, the others figures, right-aligned.
fn print_table(rows: &[Vec<String>], left: usize) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(c, &w)| {
                let cell = row.get(c).map_or("", String::as_str);
                let pad = w - cell.chars().count();
                if c < left || i == 0 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        println!("| {} |", cells.join(" | "));
        if i == 0 {
            let rule: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(c, &w)| {
                    if c < left {
                        "-".repeat(w + 2)
                    } else {
                        format!("{}:", "-".repeat(w + 1))
                    }
                })
                .collect();
            println!("|{}|", rule.join("|"));
        }
    }
}
