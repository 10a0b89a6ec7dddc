//! Database URLs, as the CLI's modules name them (`crate::url::DatabaseUrl`). Every rule
//! (forms, `+driver`, decoding, defaults, how a database is described, redaction) is
//! [`migrate_core::url`]'s; this module only brings its names in.

pub use migrate_core::url::{
    describe_url, redact, scrub_passwords, Backend, DatabaseUrl, ServerParts, UrlError,
};
