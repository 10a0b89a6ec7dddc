//! Running a plan against a database through an [`crate::Executor`].

/// What a run did before it ended: the steps committed, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Revision ids whose step was committed, in the order they ran, with their direction.
    pub applied: Vec<AppliedStep>,
    /// The version table's rows when the run ended.
    pub heads: Vec<String>,
}

/// One committed step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedStep {
    /// The revision id.
    pub revision: String,
    /// True for an upgrade, false for a downgrade.
    pub upgrade: bool,
    /// How long the step took.
    pub elapsed: std::time::Duration,
}
