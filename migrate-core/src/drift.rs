//! `drift`: does the live database still have the schema its revisions give?
//!
//! [`drift`] reads the live database's version rows and snapshot, replays those revisions
//! on a scratch database (an upgrade to each row), and compares the two snapshots. Whatever
//! differs was changed outside the revisions: a column added by hand, an index dropped.

use serde::Serialize;

use crate::error::Result;
use crate::executor::Executor;
use crate::graph::RevisionMap;
use crate::migrator::{MigrateOptions, Migrator};
use crate::snapshot::{diff, Change, Difference};

/// What `drift` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftReport {
    /// The live database's version rows, replayed on the scratch database (sorted).
    pub versions: Vec<String>,
    /// What differs, the replayed revisions first and the live database second: an object
    /// the revisions do not create is [`Change::Added`].
    pub differences: Vec<Difference>,
}

impl DriftReport {
    /// True when the live database differs from its revisions.
    pub fn drifted(&self) -> bool {
        !self.differences.is_empty()
    }

    /// One sentence per difference.
    pub fn lines(&self) -> Vec<String> {
        self.differences.iter().map(drift_sentence).collect()
    }
}

/// "column notes on tenants is in the live database but no revision creates it", and kin.
fn drift_sentence(d: &Difference) -> String {
    match &d.change {
        Change::Added => format!(
            "{} is in the live database but no revision creates it",
            d.object
        ),
        Change::Removed => format!(
            "{} is missing from the live database (its revisions create it)",
            d.object
        ),
        Change::Changed {
            property,
            before,
            after,
        } => format!(
            "the {property} of {} is {after} in the live database; its revisions give {before}",
            d.object
        ),
    }
}

/// Compares `live` with its revisions replayed on `scratch` (an empty database of the same
/// backend). Changes nothing on `live`.
pub async fn drift(
    map: &RevisionMap,
    options: &MigrateOptions,
    live: &mut dyn Executor,
    scratch: &mut dyn Executor,
) -> Result<DriftReport> {
    let migrator = Migrator::new(map, options.clone());
    let mut versions = migrator.current(live).await?;
    versions.sort();
    let actual = live.snapshot(&options.version_table).await?;
    // The replay's history on the scratch database is thrown away with it.
    let replay = Migrator::new(
        map,
        MigrateOptions {
            history: false,
            ..options.clone()
        },
    );
    for version in &versions {
        replay.upgrade(scratch, version, &mut |_| {}).await?;
    }
    let expected = scratch.snapshot(&options.version_table).await?;
    Ok(DriftReport {
        differences: diff(&expected, &actual),
        versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Column, Snapshot, Table};

    #[test]
    fn each_kind_of_difference_is_worded_from_the_live_database() {
        let with = |default: Option<&str>, extra: bool| {
            let mut name = Column::new("name", "text", true);
            name.default = default.map(str::to_string);
            let mut columns = vec![name];
            if extra {
                columns.push(Column::new("notes", "text", true));
            }
            Snapshot {
                tables: vec![Table::new(None, "tenants", columns)],
                ..Snapshot::default()
            }
        };
        let replayed = with(None, false);
        let live = with(Some("'x'"), true);
        let report = DriftReport {
            versions: vec![],
            differences: diff(&replayed, &live),
        };
        assert_eq!(
            report.lines(),
            [
                "the default of column name on tenants is 'x' in the live database; its revisions give no default",
                "column notes on tenants is in the live database but no revision creates it",
            ]
        );
        let back = DriftReport {
            versions: vec![],
            differences: diff(&live, &replayed),
        };
        assert_eq!(
            back.lines()[1],
            "column notes on tenants is missing from the live database (its revisions create it)"
        );
    }
}
