use std::sync::{Arc, Mutex};

use super::*;

#[test]
fn counts_read_well() {
    assert_eq!(count(0, 0), "0/0 (100%)");
    assert_eq!(count(12_345, 100_000), "12,345/100,000 (12%)");
    assert_eq!(count(999, 1_000), "999/1,000 (99%)");
    assert_eq!(count(1_000_000, 1_000_000), "1,000,000/1,000,000 (100%)");
}

#[test]
fn a_line_nobody_sees_is_never_formatted() {
    let mut progress = Progress::to(None);
    progress.show(|| unreachable!("a hidden line never formats its text"));
    progress.clear();
}

/// A sink the test can read back.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<u8>>>);

impl Write for Screen {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("screen").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Screen {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("screen").clone()).expect("utf-8")
    }
}

#[test]
fn the_line_is_redrawn_in_place_and_cleared() {
    let screen = Screen::default();
    let mut progress = Progress::to(Some(Box::new(screen.clone())));
    progress.show(|| "long line".into());
    // Too soon after the first: skipped.
    progress.show(|| unreachable!("redrawn within {EVERY:?}"));
    progress.clear();
    // After a clear the next line draws at once, and a shorter line blanks
    // what is left of the longer one.
    progress.show(|| "a longer line".into());
    progress.last = None;
    progress.show(|| "short".into());
    drop(progress);
    assert_eq!(
        screen.text(),
        "\rlong line\r         \r\ra longer line\rshort        \r     \r"
    );
}
