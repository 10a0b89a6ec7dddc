//! `migrate check`: for every revision, whether `migrate` can run its upgrade and downgrade;
//! several heads; and, when a database was read, what its history says (edited, missing and
//! failed revisions, see [`crate::history::verify`]). A plain value: the CLI prints its
//! [`CheckReport::lines`] or its JSON.

use serde::Serialize;

use crate::error::Result;
use crate::graph::RevisionMap;
use crate::history::{Finding, Level};
use crate::migrator::unrunnable_reason;
use crate::plan::Direction;

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Every revision, newest first.
    pub revisions: Vec<RevisionCheck>,
    /// The heads, when there are several (a warning, or an error with `single_head`).
    pub multiple_heads: Option<Vec<String>>,
    /// Whether several heads are an error.
    pub single_head: bool,
    /// What the database's history says, each with its level.
    pub findings: Vec<LeveledFinding>,
}

/// One revision's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionCheck {
    /// The revision.
    pub id: String,
    /// Why its upgrade cannot run, or `None` when it can.
    pub upgrade: Option<String>,
    /// Why its downgrade cannot run, or `None` when it can.
    pub downgrade: Option<String>,
}

/// A history finding with its level, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct LeveledFinding {
    /// How serious.
    pub level: Level,
    /// What, in one sentence.
    pub message: String,
    /// The finding as data.
    #[serde(flatten)]
    pub finding: Finding,
}

/// Checks the files of `map`, with the `findings` of a database's history (none offline).
pub fn check(map: &RevisionMap, findings: &[Finding], single_head: bool) -> Result<CheckReport> {
    let revisions = map
        .walk_all()?
        .into_iter()
        .map(|rev| RevisionCheck {
            id: rev.id.clone(),
            upgrade: unrunnable_reason(rev, Direction::Up).map(|e| e.to_string()),
            downgrade: unrunnable_reason(rev, Direction::Down).map(|e| e.to_string()),
        })
        .collect();
    let heads = map.heads();
    Ok(CheckReport {
        revisions,
        multiple_heads: (heads.len() > 1).then(|| heads.iter().map(|r| r.id.clone()).collect()),
        single_head,
        findings: findings
            .iter()
            .map(|f| LeveledFinding {
                level: f.level(),
                message: f.to_string(),
                finding: f.clone(),
            })
            .collect(),
    })
}

impl CheckReport {
    /// How many revisions cannot be run in one direction or both.
    pub fn refused(&self) -> usize {
        self.revisions
            .iter()
            .filter(|r| r.upgrade.is_some() || r.downgrade.is_some())
            .count()
    }

    /// The text `check` prints: `id: ok`, or what cannot run, per revision; then the heads
    /// and the history's findings.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.revisions.len() + self.findings.len() + 1);
        for r in &self.revisions {
            if r.upgrade.is_none() && r.downgrade.is_none() {
                out.push(format!("{}: ok", r.id));
                continue;
            }
            let parts: Vec<String> = [("upgrade", &r.upgrade), ("downgrade", &r.downgrade)]
                .into_iter()
                .map(|(name, why)| match why {
                    None => format!("{name} ok"),
                    Some(why) => format!("{name} cannot run: {why}"),
                })
                .collect();
            out.push(format!("{}: {}", r.id, parts.join("; ")));
        }
        if let Some(heads) = &self.multiple_heads {
            out.push(format!(
                "{}: the folder has {} heads ({}); merge them (`migrate merge heads`) or name one (`label@head`)",
                if self.single_head { "error" } else { "warning" },
                heads.len(),
                heads.join(", ")
            ));
        }
        for f in &self.findings {
            let level = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Info => "note",
            };
            out.push(format!("{level}: {}", f.message));
        }
        out
    }

    /// Why the check fails (exit code 1), or `None` when it passes.
    pub fn failure(&self) -> Option<String> {
        let mut parts = Vec::new();
        let refused = self.refused();
        if refused > 0 {
            parts.push(format!(
                "{refused} of {} revisions cannot be run by migrate in one direction or both",
                self.revisions.len()
            ));
        }
        if self.single_head && self.multiple_heads.is_some() {
            parts.push("the folder has several heads".to_string());
        }
        let errors = self
            .findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .count();
        if errors > 0 {
            parts.push(format!(
                "the database's history has {errors} error{}",
                if errors == 1 { "" } else { "s" }
            ));
        }
        (!parts.is_empty()).then(|| format!("{} (listed above)", parts.join("; ")))
    }
}
