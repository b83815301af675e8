//! The single-instance lock: an exclusive lock on `<db>.lock`, held for the
//! daemon's whole life. The OS releases it when the process dies, however it
//! dies, so a crashed daemon never blocks the next one.
//!
//! # Invariant
//! The lock file is never deleted: deleting it would let a second daemon lock
//! a new file while the first still holds the old one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another daemon holds it: this one is not needed.
    #[error("another memgraphd daemon already serves this database")]
    Held,
    #[error("opening lock file {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("locking {path}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl InstanceLock {
    /// Takes the lock without waiting.
    pub fn acquire(path: &Path) -> Result<InstanceLock, LockError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            // A lock file that exists but cannot be written (a read-only
            // directory or file) still takes a lock through a read handle.
            .or_else(|e| OpenOptions::new().read(true).open(path).map_err(|_| e))
            .map_err(|source| LockError::Open {
                path: path.to_owned(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(InstanceLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Held),
            Err(TryLockError::Error(source)) => Err(LockError::Lock {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Whether some process holds the lock right now.
    pub fn is_held(path: &Path) -> bool {
        let Ok(file) = OpenOptions::new().read(true).open(path) else {
            return false;
        };
        matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
    }
}
