//! Stopping a run from outside it (Ctrl-C): an [`Interrupt`] is shared between the run and
//! whoever stops it. The migrator looks at it before every action that talks to the database,
//! and once it is triggered ends the run as a failed statement does: the open transaction is
//! rolled back, the migration lock released, and the error says what had been committed.
//! Together with the executor's [`crate::Canceller`], which stops the statement already
//! running, a run stops within one round trip.
//!
//! ```
//! use migrate_core::Interrupt;
//!
//! let interrupt = Interrupt::new();
//! let seen_by_the_run = interrupt.clone();
//! assert!(!seen_by_the_run.is_triggered());
//! interrupt.trigger();
//! assert!(seen_by_the_run.is_triggered());
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag shared by a run and whoever may stop it; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A flag not triggered yet.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Ask the run to stop before its next action.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Interrupt::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
