//! A progress line on stderr for long imports and exports: redrawn in place
//! a few times a second when stderr is a terminal, silent otherwise (a log
//! file or a pipe should not fill with carriage returns).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn at most.
const EVERY: Duration = Duration::from_millis(100);

/// One progress line; cleared when dropped.
pub struct Progress {
    /// Where the line is drawn; `None` when nobody would see it.
    sink: Option<Box<dyn Write + Send>>,
    last: Option<Instant>,
    /// Characters of the line on screen, to blank them out.
    width: usize,
}

impl Progress {
    /// A progress line on stderr, shown only if stderr is a terminal.
    pub fn stderr() -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress::to(terminal.then(|| Box::new(std::io::stderr()) as Box<dyn Write + Send>))
    }

    /// A progress line drawn on `sink`, or nowhere.
    pub fn to(sink: Option<Box<dyn Write + Send>>) -> Progress {
        Progress {
            sink,
            last: None,
            width: 0,
        }
    }

    /// Redraws the line with `text`, unless it was redrawn very recently.
    pub fn show(&mut self, text: impl FnOnce() -> String) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        if self.last.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        let text = text();
        let width = text.chars().count();
        let pad = self.width.saturating_sub(width);
        self.width = width;
        // Progress is a courtesy: a failed write to stderr is not an error.
        let _ = write!(sink, "\r{text}{:pad$}", "");
        let _ = sink.flush();
    }

    /// Removes the line, so that what is printed next starts clean.
    pub fn clear(&mut self) {
        if let Some(sink) = self.sink.as_mut().filter(|_| self.width > 0) {
            let _ = write!(sink, "\r{:width$}\r", "", width = self.width);
            let _ = sink.flush();
            self.width = 0;
        }
        self.last = None;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `done` of `total` as `12,345/100,000 (12%)`.
pub fn count(done: u64, total: u64) -> String {
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    format!("{}/{} ({percent}%)", thousands(done), thousands(total))
}

fn thousands(n: u64) -> String {
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

#[cfg(test)]
mod tests;
