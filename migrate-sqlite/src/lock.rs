//! The migration lock of a SQLite database: an OS file lock on a sidecar file.
//!
//! Why a sidecar file and not SQLite's own locking: the migrator may commit once per
//! migration, and SQLite releases its write lock at every commit, so a second `migrate
//! upgrade` could slip in between two migrations and apply the next one again. The lock must
//! outlive commits, from the migrator's `lock` to its `unlock`.
//!
//! Why not lock the database file itself: SQLite uses POSIX advisory locks on it, and POSIX
//! drops every lock a process holds on a file as soon as the process closes *any* descriptor
//! of that file. Opening and closing the database file behind SQLite's back would silently
//! release SQLite's own locks. So the lock lives on `<database file>.migrate-lock`, which
//! SQLite never touches.
//!
//! The lock is an OS lock (`flock`/`LockFileEx`), owned by the open file: it dies with the
//! process, so a crashed migration never leaves a stale lock behind. The sidecar file itself
//! is never deleted: removing it while another process waits on it would let two processes
//! lock two different files of the same name.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use migrate_core::DatabaseError;

/// How often a waiting process tries the lock again.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// An exclusive lock held on a sidecar file until dropped or released.
#[derive(Debug)]
pub struct SidecarLock {
    file: File,
    path: PathBuf,
}

impl SidecarLock {
    /// The sidecar lock file of the database file `database`.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".migrate-lock");
        PathBuf::from(name)
    }

    /// Take the exclusive lock on `path`, trying again until `wait` has elapsed.
    pub async fn acquire(path: PathBuf, wait: Duration) -> Result<SidecarLock, DatabaseError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                DatabaseError::other(format!(
                    "cannot open the migration lock file {}: {e}",
                    path.display()
                ))
            })?;
        // `None`: a wait too long to represent, i.e. wait for as long as it takes.
        let deadline = Instant::now().checked_add(wait);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(SidecarLock { file, path }),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(DatabaseError::other(format!(
                        "cannot lock the migration lock file {}: {e}",
                        path.display()
                    )))
                }
            }
            let now = Instant::now();
            let remaining = deadline.map_or(POLL_INTERVAL, |d| d.saturating_duration_since(now));
            if remaining.is_zero() {
                return Err(DatabaseError::lock_timeout(format!(
                    "another migration is running on this database: the lock file {} was \
                     still locked after {:.1} s; wait for it to finish and retry (a stale lock \
                     cannot exist: the OS releases it when its process ends)",
                    path.display(),
                    wait.as_secs_f64()
                )));
            }
            tokio::time::sleep(POLL_INTERVAL.min(remaining)).await;
        }
    }

    /// Release the lock (closing the file releases it too).
    pub fn release(self) -> Result<(), DatabaseError> {
        self.file.unlock().map_err(|e| {
            DatabaseError::other(format!(
                "cannot unlock the migration lock file {}: {e}",
                self.path.display()
            ))
        })
    }
}
