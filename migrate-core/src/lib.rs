//! The core of `migrate`, an Alembic-compatible, SQL-first migration tool.
//!
//! Data flows one way: revision files -> [`ScriptDirectory`] (parsed [`Revision`]s) ->
//! [`RevisionMap`] (the graph and identifier resolution) -> a [`Plan`] (ordered steps, each with
//! its version-table change) -> the [`Migrator`], which runs the plan through an [`Executor`]
//! and its [`Dialect`]. This crate names no backend: `migrate-sqlite`, `migrate-postgres` and
//! `migrate-mysql` implement the two traits.

#![warn(missing_docs)]

pub mod dialect;
pub mod error;
pub mod executor;
pub mod graph;
pub mod migrator;
pub mod offline;
pub mod ops;
pub mod plan;
pub mod python;
pub mod render;
mod resolve;
pub mod revision;
pub mod script;
pub mod split;
pub mod sqlfile;

pub use dialect::{Dialect, VersionTable};
pub use error::{Error, Result};
pub use executor::{DatabaseError, DatabaseErrorKind, Executor};
pub use graph::RevisionMap;
pub use migrator::{AppliedStep, Event, EventSink, MigrateOptions, Migrator, Report};
pub use plan::{Direction, Plan, Step, VersionChange};
pub use revision::{Contents, Migration, Revision, ScriptFormat, SqlBlock, Unrunnable};
pub use script::ScriptDirectory;
pub use split::{split, SplitRules, Statement};
