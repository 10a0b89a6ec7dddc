//! Many `migrate upgrade head` processes at once, for the tests of the migration lock behind
//! PgBouncer and across a Galera cluster: a project of linear revisions that each insert
//! their id into `applied_log`, a way to start the runs together, and the check that every
//! revision was applied exactly once.

#![allow(dead_code)] // each test file uses its own subset

use std::time::Instant;

use super::common::{wait, Project, Run};

/// The id of revision `n` (1-based): twelve hex digits, as Alembic writes them.
pub fn revision_id(n: usize) -> String {
    format!("10c4{n:08x}")
}

/// A project of `revisions` linear Alembic revisions whose `migrate.toml` says `config`
/// (after `script_location`); the first creates `applied_log`, and every one inserts its id.
pub fn log_project(revisions: usize, config: &str) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"migrations\"\n{config}"),
    );
    for n in 1..=revisions {
        let id = revision_id(n);
        let down = if n == 1 {
            "None".to_string()
        } else {
            format!("\"{}\"", revision_id(n - 1))
        };
        let create = if n == 1 {
            "    op.execute(\"CREATE TABLE applied_log (revision VARCHAR(32) NOT NULL, n INT NOT NULL)\")\n"
        } else {
            ""
        };
        p.write(
            &format!("migrations/versions/{id}_step_{n}.py"),
            &format!(
                "\"\"\"step {n}\"\"\"\nfrom alembic import op\n\nrevision = \"{id}\"\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{create}    op.execute(\"INSERT INTO applied_log (revision, n) VALUES ('{id}', {n})\")\n\n\ndef downgrade():\n    op.execute(\"DELETE FROM applied_log WHERE revision = '{id}'\")\n"
            ),
        );
    }
    p
}

/// Starts one `migrate --url URL upgrade head` per URL, all at once, and waits for every one;
/// also says how long the whole took (for the test's log, never asserted).
pub fn upgrade_all_at_once(project: &Project, urls: &[String]) -> Vec<Run> {
    let started = Instant::now();
    let children: Vec<_> = urls
        .iter()
        .map(|url| project.spawn(&["--url", url, "upgrade", "head"]))
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .enumerate()
        .map(|(i, child)| wait(child, &format!("upgrade head (process {i}, {})", urls[i])))
        .collect();
    eprintln!(
        "{} concurrent runs took {:.2} s",
        urls.len(),
        started.elapsed().as_secs_f64()
    );
    runs
}

/// Asserts that every run succeeded, naming each that did not.
#[track_caller]
pub fn assert_all_succeeded(runs: &[Run]) {
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r.code != Some(0))
        .map(|r| format!("`migrate {}` exited {:?}:\n{}", r.args, r.code, r.stderr))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} runs failed:\n{}",
        failed.len(),
        runs.len(),
        failed.join("\n")
    );
}

/// The `(revision, times applied)` rows a `SELECT revision, COUNT(*) ... GROUP BY revision`
/// over `applied_log` must return: each of the `revisions` exactly once.
pub fn each_revision_once(revisions: usize) -> Vec<Vec<Option<String>>> {
    (1..=revisions)
        .map(|n| vec![Some(revision_id(n)), Some("1".to_string())])
        .collect()
}

/// The query whose rows [`each_revision_once`] describes.
pub const APPLIED_COUNTS: &str =
    "SELECT revision, COUNT(*) FROM applied_log GROUP BY revision ORDER BY revision";
