//! `verify`: every revision proven reversible on a scratch database before rollout.
//!
//! For each revision in upgrade order, [`verify`] takes a [`Snapshot`], upgrades that one
//! revision, takes a snapshot, downgrades it, takes a snapshot (which must equal the first),
//! upgrades it again and takes a snapshot (which must equal the second). Before anything
//! runs it checks that the folder has a single head (unless branches are allowed) and that
//! every revision on the way has an upgrade and a downgrade `migrate` can run. It stops at the
//! first revision that fails and reports the exact differences as [`Finding`]s.
//!
//! The migrations run through the [`Migrator`]'s public verbs with revision ids as targets.
//! Downgrading exactly one revision needs a target whose applied descendants are that
//! revision alone (a parent, or `base` for a lone root); on a branchy history, where a parent
//! also has another applied branch, the scratch database is first brought back to just the
//! revision's ancestors ([`isolating_target`] says when).

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Result;
use crate::executor::Executor;
use crate::graph::RevisionMap;
use crate::migrator::{MigrateOptions, Migrator};
use crate::revision::{Migration, Revision, ScriptFormat};
use crate::snapshot::{diff, Change, Difference, Snapshot};

/// What `verify` checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The revision to verify up to (`head`, `heads`, an id, `label@head`).
    pub target: String,
    /// Accept a folder with several heads.
    pub allow_branches: bool,
}

/// Which run of a revision a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Phase {
    /// The first upgrade.
    Upgrade,
    /// The downgrade after it.
    Downgrade,
    /// The upgrade after the downgrade.
    SecondUpgrade,
}

impl Phase {
    fn noun(self) -> &'static str {
        match self {
            Phase::Upgrade => "upgrade",
            Phase::Downgrade => "downgrade",
            Phase::SecondUpgrade => "second upgrade (after the downgrade)",
        }
    }
}

/// One problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// The folder has several heads and branches were not allowed.
    MultipleHeads {
        /// The heads, in file order.
        heads: Vec<String>,
    },
    /// A direction of a revision cannot be run: it is missing, or not SQL `migrate` can
    /// compute.
    CannotRun {
        /// The revision id.
        revision: String,
        /// Its file.
        path: String,
        /// `upgrade` or `downgrade`.
        direction: String,
        /// Why, and what to do.
        reason: String,
    },
    /// Running the revision failed.
    Failed {
        /// The revision id.
        revision: String,
        /// Which run failed.
        phase: Phase,
        /// The error, as the migrator words it.
        message: String,
    },
    /// The database after the downgrade differs from the database before the upgrade.
    DowngradeLeaves {
        /// The revision id.
        revision: String,
        /// Before the upgrade (first) against after the downgrade (second).
        differences: Vec<Difference>,
    },
    /// Upgrading again after the downgrade gives another database than the first upgrade.
    SecondUpgradeDiffers {
        /// The revision id.
        revision: String,
        /// After the first upgrade (first) against after the second (second).
        differences: Vec<Difference>,
    },
    /// No target downgrades this revision alone from where the scratch database started.
    CannotIsolate {
        /// The revision id.
        revision: String,
    },
}

impl Finding {
    /// The finding as lines of text, one per difference.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Finding::MultipleHeads { heads } => vec![format!(
                "the folder has {} heads ({}): merge them (`migrate merge heads`) or verify with --allow-branches",
                heads.len(),
                heads.join(", ")
            )],
            Finding::CannotRun {
                revision,
                path,
                direction,
                reason,
            } => vec![format!("{path}: {direction} of {revision} cannot be run: {reason}")],
            Finding::Failed {
                revision,
                phase,
                message,
            } => vec![format!("{} of {revision} failed: {message}", phase.noun())],
            Finding::DowngradeLeaves {
                revision,
                differences,
            } => differences
                .iter()
                .map(|d| downgrade_sentence(revision, d))
                .collect(),
            Finding::SecondUpgradeDiffers {
                revision,
                differences,
            } => differences
                .iter()
                .map(|d| second_upgrade_sentence(revision, d))
                .collect(),
            Finding::CannotIsolate { revision } => vec![format!(
                "downgrade of {revision} cannot be run on its own from the scratch database's starting revisions (another applied branch shares its parent); verify on an empty scratch database"
            )],
        }
    }
}

/// "downgrade of R leaves index i on t" and its kin: `d` compares the database before the
/// upgrade with the database after the downgrade.
fn downgrade_sentence(revision: &str, d: &Difference) -> String {
    match &d.change {
        Change::Added => format!("downgrade of {revision} leaves {}", d.object),
        Change::Removed => format!(
            "downgrade of {revision} drops {}, which was there before the upgrade",
            d.object
        ),
        Change::Changed {
            property,
            before,
            after,
        } => format!(
            "downgrade of {revision} leaves the {property} of {} at {after} (before the upgrade: {before})",
            d.object
        ),
    }
}

/// `d` compares the database after the first upgrade with the one after the second.
fn second_upgrade_sentence(revision: &str, d: &Difference) -> String {
    let run = format!("upgrade of {revision}, run again after its downgrade,");
    match &d.change {
        Change::Added => format!("{run} gives {}, which its first run did not", d.object),
        Change::Removed => format!("{run} does not give {}, which its first run did", d.object),
        Change::Changed {
            property,
            before,
            after,
        } => format!(
            "{run} gives the {property} of {} as {after} (first run: {before})",
            d.object
        ),
    }
}

/// A revision that passed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verified {
    /// The revision id.
    pub revision: String,
    /// Milliseconds for its four snapshots and three runs.
    pub elapsed_ms: f64,
}

/// What `verify` did and found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// The target verified up to.
    pub target: String,
    /// The version rows the scratch database held at the start (empty for a new database).
    pub start: Vec<String>,
    /// The revisions that passed, in the order they ran.
    pub verified: Vec<Verified>,
    /// What failed; empty when everything passed.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Progress of a run, for the CLI to render.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyEvent {
    /// A revision is about to be checked.
    Checking {
        /// The revision id.
        revision: String,
        /// 1-based position in the run.
        position: usize,
        /// How many revisions the run checks.
        total: usize,
    },
    /// A revision passed.
    Passed {
        /// The revision id.
        revision: String,
        /// How long its checks took.
        elapsed: Duration,
    },
}

/// The folder's heads when there are several and branches are not allowed.
pub fn heads_finding(map: &RevisionMap, allow_branches: bool) -> Option<Finding> {
    let heads = map.heads();
    (heads.len() > 1 && !allow_branches).then(|| Finding::MultipleHeads {
        heads: heads.iter().map(|r| r.id.clone()).collect(),
    })
}

/// That every revision on the way has an upgrade and a downgrade `migrate` can run.
pub fn runnable_findings(order: &[&Revision]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rev in order {
        for (direction, migration) in [("upgrade", &rev.upgrade), ("downgrade", &rev.downgrade)] {
            if let Some(reason) = cannot_run(rev, direction, migration) {
                findings.push(Finding::CannotRun {
                    revision: rev.id.clone(),
                    path: rev.path.display().to_string(),
                    direction: direction.to_string(),
                    reason,
                });
            }
        }
    }
    findings
}

fn cannot_run(rev: &Revision, direction: &str, migration: &Migration) -> Option<String> {
    match migration {
        Migration::Sql(_) => None,
        Migration::Missing => Some(format!(
            "the file has no {direction}; every revision must be reversible: add {} (an empty one means nothing to undo)",
            match rev.format {
                ScriptFormat::Python => format!("`def {direction}():`"),
                ScriptFormat::Sql => format!("a `-- migrate:{direction}` section"),
            }
        )),
        Migration::Unrunnable(u) => Some(format!(
            "line {}: it uses {}, which is not SQL `migrate` can compute",
            u.line, u.construct
        )),
        Migration::NotRead => Some("the file was read for its header only".to_string()),
    }
}

/// Runs `verify` on the scratch database `exec` (see the module documentation). Database
/// failures while taking snapshots are errors; a revision whose SQL fails is a [`Finding`].
pub async fn verify(
    map: &RevisionMap,
    options: &MigrateOptions,
    verify: &VerifyOptions,
    exec: &mut dyn Executor,
    events: &mut (dyn FnMut(&VerifyEvent) + Send),
) -> Result<VerifyReport> {
    // One lock for the whole series of runs: each run would otherwise take and release it
    // (three round trips to a server), three hundred times for a hundred revisions.
    // The scratch database's own history proves nothing (verify runs the files it was given,
    // from the snapshot it starts at), and reading it back before each of the 3N runs made
    // verify quadratic in the number of revisions.
    let options = MigrateOptions {
        history: false,
        ..options.clone()
    };
    let migrator = Migrator::new(map, options.clone())
        .take_lock(exec, &mut |_| {})
        .await?;
    let result = verify_locked(map, &migrator, verify, exec, events).await;
    let unlocked = exec.unlock(&options.version_table).await;
    let report = result?;
    unlocked?;
    Ok(report)
}

/// [`verify`] under the migration lock `migrator` holds.
async fn verify_locked(
    map: &RevisionMap,
    migrator: &Migrator<'_>,
    verify: &VerifyOptions,
    exec: &mut dyn Executor,
    events: &mut (dyn FnMut(&VerifyEvent) + Send),
) -> Result<VerifyReport> {
    let table = &migrator.options().version_table;
    let start = migrator.current(exec).await?;
    let mut report = VerifyReport {
        target: verify.target.clone(),
        start: start.clone(),
        verified: Vec::new(),
        findings: heads_finding(map, verify.allow_branches)
            .into_iter()
            .collect(),
    };
    if !report.passed() {
        return Ok(report);
    }
    let order: Vec<&Revision> = map
        .plan_upgrade(&start, &verify.target)?
        .steps
        .iter()
        .filter_map(|s| s.revision.as_deref().and_then(|id| map.get(id)))
        .collect();
    report.findings = runnable_findings(&order);
    if !report.passed() {
        return Ok(report);
    }

    let mut applied = ancestors(map, &start);
    let mut before: Option<Snapshot> = None;
    let total = order.len();
    for (i, rev) in order.iter().enumerate() {
        events(&VerifyEvent::Checking {
            revision: rev.id.clone(),
            position: i + 1,
            total,
        });
        let started = Instant::now();
        let id = rev.id.as_str();
        // After a reset, a parent on another branch may be missing: apply it first, so that
        // upgrading `id` runs `id` alone.
        for parent in parents(map, id) {
            if !applied.contains(&parent) {
                migrator.upgrade(exec, &parent, &mut |_| {}).await?;
                applied.extend(ancestors(map, std::slice::from_ref(&parent)));
                before = None;
            }
        }
        let mut with_rev = applied.clone();
        with_rev.insert(id.to_string());
        let target = match isolating_target(map, &with_rev, id) {
            Some(target) => target,
            None if start.is_empty() => {
                // Back to this revision's ancestors only: down to base, up to each parent.
                migrator.downgrade(exec, "base", &mut |_| {}).await?;
                for parent in map.normalized_down_revisions(id) {
                    migrator.upgrade(exec, parent, &mut |_| {}).await?;
                }
                applied = ancestors(map, &parents(map, id));
                before = None;
                let mut with_rev = applied.clone();
                with_rev.insert(id.to_string());
                match isolating_target(map, &with_rev, id) {
                    Some(target) => target,
                    None => {
                        report.findings.push(Finding::CannotIsolate {
                            revision: id.to_string(),
                        });
                        break;
                    }
                }
            }
            None => {
                report.findings.push(Finding::CannotIsolate {
                    revision: id.to_string(),
                });
                break;
            }
        };
        let s0 = match before.take() {
            Some(s) => s,
            None => exec.snapshot(table).await?,
        };
        let failed = |phase: Phase, e: crate::Error| Finding::Failed {
            revision: id.to_string(),
            phase,
            message: e.to_string(),
        };
        if let Err(e) = migrator.upgrade(exec, id, &mut |_| {}).await {
            report.findings.push(failed(Phase::Upgrade, e));
            break;
        }
        if target == ONE_BELOW && migrator.current(exec).await? != [id] {
            report.findings.push(Finding::CannotIsolate {
                revision: id.to_string(),
            });
            break;
        }
        let s1 = exec.snapshot(table).await?;
        if let Err(e) = migrator.downgrade(exec, &target, &mut |_| {}).await {
            report.findings.push(failed(Phase::Downgrade, e));
            break;
        }
        let s2 = exec.snapshot(table).await?;
        let differences = differences_between(&s0, &s2);
        if !differences.is_empty() {
            report.findings.push(Finding::DowngradeLeaves {
                revision: id.to_string(),
                differences,
            });
            break;
        }
        if let Err(e) = migrator.upgrade(exec, id, &mut |_| {}).await {
            report.findings.push(failed(Phase::SecondUpgrade, e));
            break;
        }
        let s3 = exec.snapshot(table).await?;
        let differences = differences_between(&s1, &s3);
        if !differences.is_empty() {
            report.findings.push(Finding::SecondUpgradeDiffers {
                revision: id.to_string(),
                differences,
            });
            break;
        }
        applied.insert(id.to_string());
        before = Some(s3);
        let elapsed = started.elapsed();
        events(&VerifyEvent::Passed {
            revision: id.to_string(),
            elapsed,
        });
        report.verified.push(Verified {
            revision: id.to_string(),
            elapsed_ms: (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0,
        });
    }
    Ok(report)
}

/// What differs from `before` to `after`: nothing when they are equal (the usual case, and a
/// comparison much cheaper than working out the differences), else [`diff`]'s list.
fn differences_between(before: &Snapshot, after: &Snapshot) -> Vec<Difference> {
    if before == after {
        Vec::new()
    } else {
        diff(before, after)
    }
}

/// A fresh name for a temporary scratch database a backend creates on its server:
/// `migrate_scratch_` and 16 hex digits from the process id, the clock and a random seed, so
/// concurrent runs never share one.
pub fn scratch_database_name() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("migrate_scratch_{:016x}", h.finish())
}

/// The revisions `id` revises or depends on.
fn parents(map: &RevisionMap, id: &str) -> Vec<String> {
    map.normalized_down_revisions(id)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// `rows` and every revision below them (through parents and dependencies): what a database
/// whose version table holds `rows` has applied.
pub fn ancestors(map: &RevisionMap, rows: &[String]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = rows.to_vec();
    while let Some(id) = todo.pop() {
        if seen.insert(id.clone()) {
            todo.extend(parents(map, &id));
        }
    }
    seen
}

/// The relative target [`isolating_target`] gives for a root that depends on other
/// revisions: one step down from its single version row.
const ONE_BELOW: &str = "-1";

/// The downgrade target that removes exactly `id` from a database that has applied
/// `applied` (which holds `id`). Alembic's `downgrade X` removes every applied descendant of
/// `X` (through children and dependents), and accepts only an ancestor through
/// `down_revision` as `X`, so the target is:
///
/// - a parent of `id` whose applied descendants are `id` alone;
/// - for a root: `base` when it is the only applied revision; `-1` when what is applied is
///   the root and what it depends on (the version table then holds the root's row alone, and
///   one step down removes just it);
/// - `None` otherwise: a parent also has another applied branch, or a root sits beside other
///   applied revisions.
pub fn isolating_target(map: &RevisionMap, applied: &BTreeSet<String>, id: &str) -> Option<String> {
    let parents: &[String] = map.get(id).map_or(&[], |r| &r.down_revisions);
    if parents.is_empty() {
        if applied.len() == 1 && applied.contains(id) {
            return Some("base".to_string());
        }
        let mut expected = ancestors(map, &self::parents(map, id));
        expected.insert(id.to_string());
        return (expected == *applied).then(|| ONE_BELOW.to_string());
    }
    parents.iter().find_map(|candidate| {
        let below: Vec<String> = descendants(map, candidate)
            .into_iter()
            .filter(|d| applied.contains(d))
            .collect();
        (below.len() == 1 && below[0] == id).then(|| candidate.clone())
    })
}

/// Every revision above `id`, through children and dependents.
fn descendants(map: &RevisionMap, id: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: VecDeque<&str> = VecDeque::from([id]);
    while let Some(current) = todo.pop_front() {
        for next in map
            .children(current)
            .into_iter()
            .chain(map.dependents(current))
        {
            if seen.insert(next.id.clone()) {
                todo.push_back(&next.id);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revision::Migration;

    fn rev(id: &str, down: &[&str], deps: &[&str]) -> Revision {
        Revision {
            id: id.into(),
            down_revisions: down.iter().map(|s| s.to_string()).collect(),
            branch_labels: vec![],
            computed_branch_labels: vec![],
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
            message: String::new(),
            doc: String::new(),
            path: format!("versions/{id}.sql").into(),
            format: ScriptFormat::Sql,
            upgrade: Migration::Sql(vec![]),
            downgrade: Migration::Sql(vec![]),
        }
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    /// The alembic_project fixture's shape: a1 branches into b2 and c3, d4 merges them, e5
    /// follows; f6 is a second root depending on b2.
    fn fixture() -> RevisionMap {
        RevisionMap::new(vec![
            rev("a1", &[], &[]),
            rev("b2", &["a1"], &[]),
            rev("c3", &["a1"], &[]),
            rev("d4", &["b2", "c3"], &[]),
            rev("e5", &["d4"], &[]),
            rev("f6", &[], &["b2"]),
        ])
        .unwrap()
    }

    #[test]
    fn a_chain_downgrades_each_revision_to_its_parent() {
        let map = fixture();
        assert_eq!(
            isolating_target(&map, &set(&["a1"]), "a1").as_deref(),
            Some("base")
        );
        assert_eq!(
            isolating_target(&map, &set(&["a1", "b2"]), "b2").as_deref(),
            Some("a1")
        );
    }

    #[test]
    fn a_sibling_branch_already_applied_leaves_no_target() {
        let map = fixture();
        // a1 -> b2 applied; c3 then shares the parent a1: `downgrade a1` would remove b2 too.
        assert_eq!(
            isolating_target(&map, &set(&["a1", "b2", "c3"]), "c3"),
            None
        );
        // With only its ancestors applied, a1 works.
        assert_eq!(
            isolating_target(&map, &set(&["a1", "c3"]), "c3").as_deref(),
            Some("a1")
        );
    }

    #[test]
    fn a_merge_downgrades_to_a_parent_with_no_other_descendant() {
        let map = fixture();
        let applied = set(&["a1", "b2", "c3", "d4"]);
        assert_eq!(
            isolating_target(&map, &applied, "d4").as_deref(),
            Some("b2")
        );
    }

    #[test]
    fn a_root_with_a_dependency_goes_one_step_down_from_its_own_row() {
        let map = fixture();
        // Oracle (oracle.py on tests/fixtures/alembic_project, the same shape: after `upgrade
        // c7d8e9f0a1b2` the rows are ['c7d8e9f0a1b2']): `downgrade 5d4c3b2a1f0e` is refused
        // ("Destination 5d4c3b2a1f0e is not a valid downgrade target from current head(s)"),
        // `downgrade -1` runs the view's downgrade alone and leaves ['5d4c3b2a1f0e'].
        assert_eq!(
            isolating_target(&map, &set(&["a1", "b2", "f6"]), "f6").as_deref(),
            Some("-1")
        );
        // Once c3 is applied too, the version table holds two rows.
        assert_eq!(
            isolating_target(&map, &set(&["a1", "b2", "c3", "f6"]), "f6"),
            None
        );
    }

    #[test]
    fn a_root_beside_other_applied_revisions_has_no_target() {
        let map = fixture();
        let map2 = RevisionMap::new(vec![rev("a1", &[], &[]), rev("z9", &[], &[])]).unwrap();
        assert_eq!(isolating_target(&map2, &set(&["a1", "z9"]), "z9"), None);
        assert_eq!(
            ancestors(&map, &["e5".to_string()]),
            set(&["a1", "b2", "c3", "d4", "e5"])
        );
    }

    #[test]
    fn findings_word_each_difference_for_the_run_it_comes_from() {
        use crate::snapshot::{Column, Snapshot, Table};
        let table = |columns: Vec<Column>| Snapshot {
            tables: vec![Table::new(None, "t", columns)],
            ..Snapshot::default()
        };
        let mut with_default = Column::new("a", "int", true);
        with_default.default = Some("1".into());
        let before = table(vec![with_default, Column::new("b", "int", true)]);
        let after = table(vec![
            Column::new("a", "int", true),
            Column::new("c", "int", true),
        ]);
        let differences = diff(&before, &after);
        let down = Finding::DowngradeLeaves {
            revision: "r1".into(),
            differences: differences.clone(),
        };
        assert_eq!(
            down.lines(),
            [
                "downgrade of r1 leaves the default of column a on t at no default (before the upgrade: 1)",
                "downgrade of r1 drops column b on t, which was there before the upgrade",
                "downgrade of r1 leaves column c on t",
            ]
        );
        let again = Finding::SecondUpgradeDiffers {
            revision: "r1".into(),
            differences,
        };
        assert_eq!(
            again.lines(),
            [
                "upgrade of r1, run again after its downgrade, gives the default of column a on t as no default (first run: 1)",
                "upgrade of r1, run again after its downgrade, does not give column b on t, which its first run did",
                "upgrade of r1, run again after its downgrade, gives column c on t, which its first run did not",
            ]
        );
    }

    #[test]
    fn checks_before_running_name_heads_and_missing_downgrades() {
        let mut missing = rev("b2", &["a1"], &[]);
        missing.downgrade = Migration::Missing;
        let map =
            RevisionMap::new(vec![rev("a1", &[], &[]), missing, rev("c3", &["a1"], &[])]).unwrap();
        let order: Vec<&Revision> = map.revisions().iter().collect();
        let lines: Vec<String> = heads_finding(&map, false)
            .into_iter()
            .chain(runnable_findings(&order))
            .flat_map(|f| f.lines())
            .collect();
        assert_eq!(
            lines,
            [
                "the folder has 2 heads (b2, c3): merge them (`migrate merge heads`) or verify with --allow-branches",
                "versions/b2.sql: downgrade of b2 cannot be run: the file has no downgrade; every revision must be reversible: add a `-- migrate:downgrade` section (an empty one means nothing to undo)",
            ]
        );
        assert_eq!(heads_finding(&map, true), None);
    }
}
