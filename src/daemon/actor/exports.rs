//! The read snapshots of the exports in progress, kept by the writer actor
//! between the pages it serves.
//!
//! An export whose client went away leaves its snapshot behind; a snapshot
//! unused for [`IDLE`] is closed, so that it cannot keep the WAL from being
//! checkpointed for long. Snapshot ids start from the clock, so a page asked
//! of a restarted daemon names no snapshot of the new one and is refused
//! instead of answered from another export.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::model::{ExportCursor, ExportPage, OpError};
use crate::store::{Snapshot, Store, StoreError};

/// How long a snapshot stays open without a page being asked of it.
const IDLE: Duration = Duration::from_secs(60);
/// Exports served at once; each holds a connection and a read transaction.
const MAX_OPEN: usize = 8;
/// About how much text one page carries: well inside one frame, and a few
/// milliseconds of the writer thread's time.
const PAGE_BYTES: usize = 4 * 1024 * 1024;

pub(super) struct Exports {
    open: HashMap<u64, Open>,
    next: u64,
}

struct Open {
    snapshot: Snapshot,
    used: Instant,
}

/// Why a page could not be served.
pub(super) enum PageError {
    Store(StoreError),
    Refused(OpError),
}

impl Exports {
    pub(super) fn new() -> Exports {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Exports {
            open: HashMap::new(),
            next: nanos,
        }
    }

    /// Serves the page after `after` of `snapshot`, or the first page of a
    /// new snapshot when `snapshot` is `None`. The last page closes it.
    pub(super) fn page(
        &mut self,
        store: &Store,
        snapshot: Option<u64>,
        after: ExportCursor,
    ) -> Result<ExportPage, PageError> {
        self.expire();
        let id = match snapshot {
            Some(id) => id,
            None => {
                if self.open.len() >= MAX_OPEN {
                    return Err(PageError::Refused(OpError::Invalid(format!(
                        "{MAX_OPEN} exports are already running; try again when one is done"
                    ))));
                }
                let snapshot = store.snapshot().map_err(PageError::Store)?;
                self.next += 1;
                let used = Instant::now();
                self.open.insert(self.next, Open { snapshot, used });
                self.next
            }
        };
        let Some(open) = self.open.get_mut(&id) else {
            return Err(PageError::Refused(OpError::Invalid(format!(
                "export snapshot {id} is not open (unused for {}s, or the daemon restarted); start the export again",
                IDLE.as_secs()
            ))));
        };
        open.used = Instant::now();
        let page = open.snapshot.page(after, PAGE_BYTES);
        let page = match page {
            Ok(mut page) => {
                page.snapshot = id;
                page
            }
            Err(e) => {
                self.open.remove(&id);
                return Err(PageError::Store(e));
            }
        };
        if page.next.is_none() {
            self.open.remove(&id);
        }
        Ok(page)
    }

    /// Closes the snapshots nobody has asked a page of for [`IDLE`].
    pub(super) fn expire(&mut self) {
        self.open.retain(|_, open| open.used.elapsed() < IDLE);
    }

    /// Closes every snapshot, e.g. before the last checkpoint.
    pub(super) fn clear(&mut self) {
        self.open.clear();
    }
}
