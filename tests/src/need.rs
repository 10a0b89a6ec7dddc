//! What a test needs from its surroundings, and what happens when it is missing.
//!
//! A test that cannot check what it claims (no server, no Alembic, no client program) calls
//! [`skip`]: under `MIGRATE_TEST_REQUIRE_ALL=1` (set by CI) that is a failure naming what is
//! missing; otherwise one `skipped: TEST: WHAT` line goes to the process's stderr, past the
//! test harness's capture, so that a skip never looks like a pass.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The variable that turns every skip into a failure.
pub const REQUIRE_ALL_VAR: &str = "MIGRATE_TEST_REQUIRE_ALL";

/// Whether every prerequisite must be present (`MIGRATE_TEST_REQUIRE_ALL=1`, set by CI).
pub fn require_all() -> bool {
    std::env::var(REQUIRE_ALL_VAR).is_ok_and(|v| v == "1")
}

/// The running test's name, as the harness names its thread.
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("(unnamed test)")
        .to_string()
}

/// Reports that the running test cannot check what it claims because `missing` is absent:
/// a panic under `MIGRATE_TEST_REQUIRE_ALL=1`, otherwise a `skipped: TEST: MISSING` line on
/// stderr that the harness does not capture. The caller then returns without asserting.
#[track_caller]
pub fn skip(missing: &str) {
    let test = test_name();
    assert!(
        !require_all(),
        "{test}: {missing}, and {REQUIRE_ALL_VAR}=1 requires it"
    );
    // Written to the stream itself: `eprintln!` would be captured with the test's output.
    let _ = writeln!(std::io::stderr().lock(), "skipped: {test}: {missing}");
}

/// `name` as found on `PATH`, or `None` after [`skip`]ping with the reason.
#[track_caller]
pub fn program(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    });
    if found.is_none() {
        skip(&format!("the program `{name}` is not on PATH"));
    }
    found
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
