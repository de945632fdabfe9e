//! Shared by the integration tests that include it (`mod common;`): a scratch directory for
//! the files a test binary writes, removed with everything in it when the binary exits (its
//! tests passed or not), so that running the suite leaves nothing in the temporary directory.

use std::path::PathBuf;
use std::sync::{Mutex, TryLockError};

/// The directories to remove at exit.
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// `$TMPDIR/procsim-{label}-{pid}`, created if need be, and removed when the test binary exits.
pub fn scratch_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("procsim-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut dirs = DIRS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !dirs.contains(&dir) {
        if dirs.is_empty() {
            // SAFETY: `atexit` stores a plain function of no arguments and calls it once, when
            // the process exits normally (the test harness returns from `main` or calls
            // `exit`); registering it cannot fail in a way that matters here (the directory
            // would then stay, as it did before).
            unsafe { libc::atexit(remove_dirs) };
        }
        dirs.push(dir.clone());
    }
    dir
}

/// Removes the scratch directories; never waits (at exit no test holds the list, and if one
/// did, leaving the directories is better than hanging).
extern "C" fn remove_dirs() {
    let dirs = match DIRS.try_lock() {
        Ok(dirs) => dirs,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return,
    };
    for dir in dirs.iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
