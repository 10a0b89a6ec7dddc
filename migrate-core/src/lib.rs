//! The core of `migrate`, an Alembic-compatible, SQL-first migration tool.
//!
//! Data flows one way: revision files -> [`ScriptDirectory`] (parsed [`Revision`]s) ->
//! [`RevisionMap`] (the graph and identifier resolution) -> a [`Plan`] (ordered steps, each with
//! its version-table change) -> the [`Migrator`], which runs the plan through an [`Executor`]
//! and its [`Dialect`]. This crate names no backend: `migrate-sqlite`, `migrate-postgres` and
//! `migrate-mysql` implement the two traits.

#![warn(missing_docs)]

pub mod authoring;
pub mod dialect;
pub mod error;
pub mod execution;
pub mod executor;
pub mod graph;
pub mod held_locks;
pub mod lint;
pub mod migrator;
pub mod offline;
pub mod plan;
pub mod python;
pub mod render;
pub mod report;
mod resolve;
pub mod revision;
pub mod script;
pub mod split;
pub mod sqlfile;
mod suggest;
pub mod url;

pub use dialect::{Dialect, VersionTable};
pub use error::{Error, ErrorClass, GraphError, Left, Result, StatementFailure};
pub use execution::ExecutionPlan;
pub use executor::{DatabaseError, DatabaseErrorKind, Executor, Preflight, VersionColumn};
pub use graph::RevisionMap;
pub use migrator::{Event, EventSink, MigrateOptions, Migrator};
pub use plan::{Direction, Plan, Step, VersionChange};
pub use report::{AppliedStep, Report, StepKind};
pub use revision::{Contents, Migration, Revision, ScriptFormat, SqlBlock, Unrunnable};
pub use script::ScriptDirectory;
pub use split::{split, SplitRules, Statement};
