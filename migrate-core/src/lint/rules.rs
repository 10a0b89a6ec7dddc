//! The catalog of lint rules: each rule's name, the databases it applies to, its default
//! level, and a one-line summary.
//!
//! The PostgreSQL rules that squawk also has carry squawk's names, and with no configuration
//! each is on exactly when squawk 2.x has it on by default, so a team switching from squawk sees
//! the same findings.

use serde::Serialize;

use super::Level;

/// Which databases a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every database.
    All,
    /// PostgreSQL only.
    Postgresql,
    /// MySQL and MariaDB only.
    Mysql,
    /// SQLite only.
    Sqlite,
}

impl Applies {
    /// Whether the rule applies to the dialect named `dialect` (`sqlite`, `postgresql`, `mysql`).
    pub fn covers(self, dialect: &str) -> bool {
        match self {
            Applies::All => true,
            Applies::Postgresql => dialect == "postgresql",
            Applies::Mysql => dialect == "mysql",
            Applies::Sqlite => dialect == "sqlite",
        }
    }
}

macro_rules! rules {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $applies:ident, $default:expr, $squawk:literal;)*) => {
        /// A lint rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $($(#[$doc])* $variant,)*
        }

        impl Rule {
            /// Every rule, in catalog order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The rule's name as configuration, suppressions and output write it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Rule::$variant => $name,)*
                }
            }

            /// The databases the rule looks at.
            pub fn applies(self) -> Applies {
                match self {
                    $(Rule::$variant => Applies::$applies,)*
                }
            }

            /// The rule's level when the configuration does not name it (`None`: off).
            pub fn default_level(self) -> Option<Level> {
                match self {
                    $(Rule::$variant => $default,)*
                }
            }

            /// Whether squawk has a rule of this name (and `migrate` follows its behaviour).
            pub fn is_squawk(self) -> bool {
                match self {
                    $(Rule::$variant => $squawk,)*
                }
            }
        }
    };
}

const ERROR: Option<Level> = Some(Level::Error);
const WARN: Option<Level> = Some(Level::Warn);

rules! {
    // The project's practices.
    /// DDL and seed rows that survive a rerun after a partial failure (`IF NOT EXISTS`,
    /// `IF EXISTS`, `ON CONFLICT DO NOTHING`) where no transaction protects them.
    PreferRobustStmts = "prefer-robust-stmts", All, ERROR, true;
    /// A revision without a downgrade.
    MissingDowngrade = "missing-downgrade", All, ERROR, false;
    /// A revision whose header says nothing beyond its message.
    UndocumentedRevision = "undocumented-revision", All, WARN, false;
    /// A revision id longer than the version table's column.
    RevisionIdTooLong = "revision-id-too-long", All, ERROR, false;
    /// More than one head.
    MultipleHeads = "multiple-heads", All, WARN, false;
    /// A statement the SQL parser cannot read, so no rule could check it.
    UnparsedStatement = "unparsed-statement", All, WARN, false;

    // PostgreSQL, as squawk names them.
    /// `CREATE INDEX` without `CONCURRENTLY` blocks writes.
    RequireConcurrentIndexCreation = "require-concurrent-index-creation", Postgresql, ERROR, true;
    /// `DROP INDEX` without `CONCURRENTLY` blocks reads and writes.
    RequireConcurrentIndexDeletion = "require-concurrent-index-deletion", Postgresql, ERROR, true;
    /// `CREATE INDEX CONCURRENTLY` inside a transaction fails.
    BanConcurrentIndexCreationInTransaction = "ban-concurrent-index-creation-in-transaction", Postgresql, ERROR, true;
    /// `SET NOT NULL` scans the table under an `ACCESS EXCLUSIVE` lock.
    AddingNotNullableField = "adding-not-nullable-field", Postgresql, ERROR, true;
    /// A new `NOT NULL` column without a default.
    AddingRequiredField = "adding-required-field", Postgresql, ERROR, true;
    /// A new column with a volatile default or a generated column rewrites the table.
    AddingFieldWithDefault = "adding-field-with-default", Postgresql, ERROR, true;
    /// A foreign key without `NOT VALID` scans under a lock on both tables.
    AddingForeignKeyConstraint = "adding-foreign-key-constraint", Postgresql, ERROR, true;
    /// A constraint without `NOT VALID`, or validated in the transaction that added it.
    ConstraintMissingNotValid = "constraint-missing-not-valid", Postgresql, ERROR, true;
    /// `ALTER COLUMN ... TYPE` rewrites the table.
    ChangingColumnType = "changing-column-type", Postgresql, ERROR, true;
    /// Renaming a column breaks running clients.
    RenamingColumn = "renaming-column", Postgresql, ERROR, true;
    /// Renaming a table breaks running clients.
    RenamingTable = "renaming-table", Postgresql, ERROR, true;
    /// Dropping a column breaks running clients.
    BanDropColumn = "ban-drop-column", Postgresql, ERROR, true;
    /// Dropping a table breaks running clients.
    BanDropTable = "ban-drop-table", Postgresql, ERROR, true;
    /// Dropping a database.
    BanDropDatabase = "ban-drop-database", Postgresql, ERROR, true;
    /// Dropping `NOT NULL` breaks clients that rely on it.
    BanDropNotNull = "ban-drop-not-null", Postgresql, ERROR, true;
    /// A `UNIQUE` constraint built under an `ACCESS EXCLUSIVE` lock.
    DisallowedUniqueConstraint = "disallowed-unique-constraint", Postgresql, ERROR, true;
    /// A primary key built under an `ACCESS EXCLUSIVE` lock.
    AddingSerialPrimaryKeyField = "adding-serial-primary-key-field", Postgresql, ERROR, true;
    /// Locking DDL with no `lock_timeout` set first.
    RequireLockTimeout = "require-lock-timeout", Postgresql, ERROR, true;
    /// Slow DDL with no `statement_timeout` set first.
    RequireStatementTimeout = "require-statement-timeout", Postgresql, ERROR, true;
    /// `timestamp` without time zone.
    PreferTimestampTz = "prefer-timestamp-tz", Postgresql, ERROR, true;
    /// 32-bit integer columns.
    PreferBigintOverInt = "prefer-bigint-over-int", Postgresql, ERROR, true;
    /// 16-bit integer columns.
    PreferBigintOverSmallint = "prefer-bigint-over-smallint", Postgresql, ERROR, true;
    /// `serial` columns instead of identity columns.
    PreferIdentity = "prefer-identity", Postgresql, ERROR, true;
    /// `varchar(n)` instead of `text`.
    PreferTextField = "prefer-text-field", Postgresql, ERROR, true;
    /// `char(n)` columns.
    BanCharField = "ban-char-field", Postgresql, ERROR, true;
    /// Names longer than PostgreSQL's 63 bytes (silently truncated).
    IdentifierTooLong = "identifier-too-long", Postgresql, ERROR, true;
    /// `BEGIN`/`COMMIT` inside a transaction, or ending one that is not there.
    TransactionNesting = "transaction-nesting", Postgresql, ERROR, true;
    /// `TRUNCATE ... CASCADE`.
    BanTruncateCascade = "ban-truncate-cascade", Postgresql, ERROR, true;

    // MySQL and MariaDB.
    /// `ALTER TABLE` that copies the table on the configured server version.
    MysqlTableCopy = "mysql-table-copy", Mysql, WARN, false;
    /// DDL and data changes in one revision (not atomic on MySQL).
    MysqlMixedDdlDml = "mysql-mixed-ddl-dml", Mysql, WARN, false;
    /// Locking DDL with no `lock_wait_timeout` set first.
    MysqlLockWaitTimeout = "mysql-lock-wait-timeout", Mysql, WARN, false;

    // SQLite.
    /// `ALTER TABLE` forms SQLite refuses, or that need a table rebuild.
    SqliteAlterTable = "sqlite-alter-table", Sqlite, ERROR, false;
}

impl Rule {
    /// The rule named `name`; squawk's alternative spelling `prefer-timestamptz` is accepted.
    pub fn from_name(name: &str) -> Option<Rule> {
        let name = name.trim();
        if name == "prefer-timestamptz" {
            return Some(Rule::PreferTimestampTz);
        }
        Rule::ALL.iter().copied().find(|r| r.name() == name)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
