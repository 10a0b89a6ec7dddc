//! The core of `migrate`, an Alembic-compatible, SQL-first migration tool.
//!
//! Data flows one way: revision files -> [`ScriptDirectory`] (parsed [`Revision`]s) ->
//! [`RevisionMap`] (the graph and identifier resolution) -> a [`Plan`] (ordered steps, each with
//! its version-table change) -> the [`Migrator`], which runs the plan through an [`Executor`]
//! and its [`Dialect`]. This crate names no backend: `migrate-sqlite`, `migrate-postgres` and
//! `migrate-mysql` implement the two traits.
//!
//! Beside the migrator, each backend reads its catalog into a [`Snapshot`] (see [`snapshot`],
//! whose [`snapshot::diff`] compares two); [`verify`] proves every revision with upgrade,
//! downgrade and upgrade again on a scratch database, and [`drift`] compares a live database
//! with its revisions replayed, both through the [`Migrator`]'s public verbs.

#![warn(missing_docs)]

pub mod authoring;
pub mod check;
pub mod checksum;
pub mod clock;
pub mod dialect;
pub mod drift;
pub mod error;
pub mod execution;
pub mod executor;
pub mod graph;
pub mod held_locks;
pub mod history;
pub mod interrupt;
pub mod lint;
pub mod migrator;
pub mod offline;
pub mod ops;
pub mod plan;
pub mod python;
pub mod render;
pub mod report;
mod resolve;
pub mod revision;
pub mod script;
pub mod snapshot;
pub mod split;
pub mod sqlfile;
mod suggest;
pub mod url;
pub mod verify;

pub use dialect::{Dialect, VersionTable};
pub use error::{Error, ErrorClass, GraphError, Left, Result, StatementFailure};
pub use execution::ExecutionPlan;
pub use executor::{
    Canceller, DatabaseError, DatabaseErrorKind, Executor, Preflight, VersionColumn,
};
pub use graph::RevisionMap;
pub use interrupt::Interrupt;
pub use migrator::{Event, EventSink, MigrateOptions, Migrator};
pub use plan::{Direction, Plan, Step, VersionChange};
pub use report::{AppliedStep, Report, StepKind};
pub use revision::{Contents, Migration, Revision, ScriptFormat, SqlBlock, Unrunnable};
pub use script::ScriptDirectory;
pub use snapshot::Snapshot;
pub use split::{split, SplitRules, Statement};
