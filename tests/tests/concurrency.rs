//! Issue 3: eight `migrate upgrade head` processes started at once against one database apply
//! every migration exactly once. Each of the 50 revisions inserts its id into `applied_log`;
//! afterwards every process has exited 0, the log holds every revision exactly once and the
//! version table names the last one.

mod common;
mod concurrent_runs;

use common::TestDb;
use concurrent_runs::{
    assert_all_succeeded, each_revision_once, log_project, revision_id, upgrade_all_at_once,
    APPLIED_COUNTS,
};

const REVISIONS: usize = 50;
const PROCESSES: usize = 8;

fn eight_processes_apply_each_revision_once(db: TestDb) {
    let p = log_project(REVISIONS, &format!("url = \"{}\"\n", db.url));
    let runs = upgrade_all_at_once(&p, &vec![db.url.clone(); PROCESSES]);
    assert_all_succeeded(&runs);

    assert_eq!(
        db.query(APPLIED_COUNTS),
        each_revision_once(REVISIONS),
        "every revision exactly once"
    );
    assert_eq!(db.versions(), Some(vec![revision_id(REVISIONS)]));
}
per_backend!(eight_processes_apply_each_revision_once);
