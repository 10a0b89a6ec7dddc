//! What a run did: the steps it committed and the version table it left, as data.
//!
//! A [`Report`] is returned by every successful run and carried by every failure that happens
//! after something may have been committed, so the caller always knows the state the
//! database was left in.

use std::time::Duration;

use serde::Serialize;

use crate::plan::Direction;

/// What a run did before it ended: the steps committed, in order, and the version table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Steps whose SQL and version change were committed, in the order they ran.
    pub applied: Vec<AppliedStep>,
    /// The version table's rows before the run.
    pub start: Vec<String>,
    /// The version table's rows when the run ended (as committed).
    pub heads: Vec<String>,
}

/// What kind of step ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepKind {
    /// A revision's upgrade or downgrade SQL ran.
    Migration,
    /// The version table moved without running SQL (`stamp`).
    Stamp,
}

/// One committed step of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedStep {
    /// The revision whose SQL ran; for a stamp, the rows it moved to, comma-separated.
    pub revision: String,
    /// Migration or stamp.
    pub kind: StepKind,
    /// Up or down.
    pub direction: Direction,
    /// The version rows the step moved from (a merge has several).
    pub from: Vec<String>,
    /// The version rows the step moved to.
    pub to: Vec<String>,
    /// How long the step took.
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

impl AppliedStep {
    /// True for an upgrade step.
    pub fn is_upgrade(&self) -> bool {
        self.direction == Direction::Up
    }
}

/// A duration as fractional milliseconds, the unit JSON readers expect.
pub(crate) fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0)
}
