//! The offline renderer (`upgrade`/`downgrade`/`stamp --sql`) over a fake dialect: where the
//! transaction statements go with and without transactional DDL, with one transaction per
//! migration and around `transaction=false` blocks (and Alembic's `autocommit_block`, which
//! reads into the same), custom version tables, stamps, and what it refuses.
//!
//! The expected scripts are written out whole. Their layout is Alembic's: the same scripts,
//! for the real dialects, are compared with Alembic's own `--sql` output in
//! `tests/tests/offline_alembic.rs`.

mod support;

use migrate_core::offline::{downgrade_sql, stamp_sql, upgrade_sql};
use migrate_core::{MigrateOptions, Migration, RevisionMap, Unrunnable, VersionTable};
use support::{block, map, rev, FakeDialect, RevisionExt};

const TRANSACTIONAL: FakeDialect = FakeDialect {
    transactional: true,
};
const NON_TRANSACTIONAL: FakeDialect = FakeDialect {
    transactional: false,
};

/// aaaa creates a1 then, outside the transaction, idx; bbbb creates b1 and b2.
fn project() -> RevisionMap {
    map(vec![
        rev("aaaa", &[])
            .message("create a")
            .upgrade(Migration::Sql(vec![
                block("CREATE TABLE a1 (id INT)", 3, true),
                block("CREATE INDEX idx ON a1 (id)", 6, false),
            ]))
            .downgrade_sql("DROP TABLE a1"),
        rev("bbbb", &["aaaa"])
            .message("create b")
            .upgrade_sql("CREATE TABLE b1 (id INT);\nCREATE TABLE b2 (id INT)")
            .downgrade_sql("DROP TABLE b2;\nDROP TABLE b1"),
    ])
}

const CREATE_VERSION_TABLE: &str = "CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

";

fn per_migration() -> MigrateOptions {
    MigrateOptions {
        transaction_per_migration: true,
        ..MigrateOptions::default()
    }
}

#[test]
fn one_transaction_for_the_run_committed_around_a_non_transactional_block() {
    let script = upgrade_sql(
        &project(),
        &TRANSACTIONAL,
        "base:head",
        &MigrateOptions::default(),
    )
    .unwrap();
    assert_eq!(
        script,
        format!(
            "BEGIN;\n\n{CREATE_VERSION_TABLE}\
             -- Running upgrade  -> aaaa\n\n\
             CREATE TABLE a1 (id INT);\n\n\
             COMMIT;\n\n\
             CREATE INDEX idx ON a1 (id);\n\n\
             BEGIN;\n\n\
             INSERT INTO alembic_version (version_num) VALUES ('aaaa');\n\n\
             -- Running upgrade aaaa -> bbbb\n\n\
             CREATE TABLE b1 (id INT);\n\n\
             CREATE TABLE b2 (id INT);\n\n\
             UPDATE alembic_version SET version_num='bbbb' WHERE alembic_version.version_num = 'aaaa';\n\n\
             COMMIT;\n\n"
        )
    );
}

/// The version table is created inside the first migration's transaction, as Alembic does
/// (`BEGIN; CREATE TABLE alembic_version ...; -- Running upgrade ...`; compared with Alembic's
/// own scripts in `tests/tests/offline_alembic.rs`).
#[test]
fn one_transaction_per_migration() {
    let script = upgrade_sql(&project(), &TRANSACTIONAL, "base:head", &per_migration()).unwrap();
    assert_eq!(
        script,
        format!(
            "BEGIN;\n\n\
             {CREATE_VERSION_TABLE}\
             -- Running upgrade  -> aaaa\n\n\
             CREATE TABLE a1 (id INT);\n\n\
             COMMIT;\n\n\
             CREATE INDEX idx ON a1 (id);\n\n\
             BEGIN;\n\n\
             INSERT INTO alembic_version (version_num) VALUES ('aaaa');\n\n\
             COMMIT;\n\n\
             BEGIN;\n\n\
             -- Running upgrade aaaa -> bbbb\n\n\
             CREATE TABLE b1 (id INT);\n\n\
             CREATE TABLE b2 (id INT);\n\n\
             UPDATE alembic_version SET version_num='bbbb' WHERE alembic_version.version_num = 'aaaa';\n\n\
             COMMIT;\n\n"
        )
    );
}

#[test]
fn without_transactional_ddl_there_are_no_transaction_statements() {
    for options in [MigrateOptions::default(), per_migration()] {
        let script = upgrade_sql(&project(), &NON_TRANSACTIONAL, "base:head", &options).unwrap();
        assert_eq!(
            script,
            format!(
                "{CREATE_VERSION_TABLE}\
                 -- Running upgrade  -> aaaa\n\n\
                 CREATE TABLE a1 (id INT);\n\n\
                 CREATE INDEX idx ON a1 (id);\n\n\
                 INSERT INTO alembic_version (version_num) VALUES ('aaaa');\n\n\
                 -- Running upgrade aaaa -> bbbb\n\n\
                 CREATE TABLE b1 (id INT);\n\n\
                 CREATE TABLE b2 (id INT);\n\n\
                 UPDATE alembic_version SET version_num='bbbb' WHERE alembic_version.version_num = 'aaaa';\n\n"
            ),
            "transaction_per_migration: {}",
            options.transaction_per_migration
        );
    }
}

#[test]
fn a_range_that_starts_past_the_base_creates_no_version_table() {
    let script = upgrade_sql(
        &project(),
        &TRANSACTIONAL,
        "aaaa:head",
        &MigrateOptions::default(),
    )
    .unwrap();
    assert_eq!(
        script,
        "BEGIN;\n\n\
         -- Running upgrade aaaa -> bbbb\n\n\
         CREATE TABLE b1 (id INT);\n\n\
         CREATE TABLE b2 (id INT);\n\n\
         UPDATE alembic_version SET version_num='bbbb' WHERE alembic_version.version_num = 'aaaa';\n\n\
         COMMIT;\n\n"
    );
    // Nothing to do: the transaction only.
    let script = upgrade_sql(
        &project(),
        &TRANSACTIONAL,
        "bbbb:head",
        &MigrateOptions::default(),
    )
    .unwrap();
    assert_eq!(script, "BEGIN;\n\nCOMMIT;\n\n");
}

#[test]
fn a_downgrade_needs_its_starting_revision_and_runs_down_to_the_target() {
    let options = MigrateOptions::default();
    let err = downgrade_sql(&project(), &TRANSACTIONAL, "base", &options).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("downgrade with --sql requires <fromrev>:<torev>"),
        "{err}"
    );
    let script = downgrade_sql(&project(), &TRANSACTIONAL, "bbbb:base", &options).unwrap();
    assert_eq!(
        script,
        "BEGIN;\n\n\
         -- Running downgrade bbbb -> aaaa\n\n\
         DROP TABLE b2;\n\n\
         DROP TABLE b1;\n\n\
         UPDATE alembic_version SET version_num='aaaa' WHERE alembic_version.version_num = 'bbbb';\n\n\
         -- Running downgrade aaaa -> \n\n\
         DROP TABLE a1;\n\n\
         DELETE FROM alembic_version WHERE alembic_version.version_num = 'aaaa';\n\n\
         COMMIT;\n\n"
    );
}

#[test]
fn a_custom_version_table_in_a_schema_is_named_everywhere() {
    let options = MigrateOptions {
        version_table: VersionTable {
            name: "Tenant Versions".into(),
            schema: Some("app".into()),
        },
        ..MigrateOptions::default()
    };
    let script = upgrade_sql(&project(), &NON_TRANSACTIONAL, "base:head", &options).unwrap();
    assert!(
        script.starts_with(
            "CREATE TABLE app.\"Tenant Versions\" (\n    version_num VARCHAR(32) NOT NULL, \n    \
             CONSTRAINT \"Tenant Versions_pkc\" PRIMARY KEY (version_num)\n);\n\n"
        ),
        "{script}"
    );
    assert!(
        script.contains("INSERT INTO app.\"Tenant Versions\" (version_num) VALUES ('aaaa');\n\n"),
        "{script}"
    );
    assert!(
        script.contains(
            "UPDATE app.\"Tenant Versions\" SET version_num='bbbb' WHERE app.\"Tenant Versions\".version_num = 'aaaa';\n\n"
        ),
        "{script}"
    );
    assert!(!script.contains("alembic_version"), "{script}");
}

#[test]
fn a_stamp_writes_the_version_table_only_and_refuses_purge() {
    let options = MigrateOptions::default();
    let script = stamp_sql(&project(), &TRANSACTIONAL, "head", false, &options).unwrap();
    assert_eq!(
        script,
        format!(
            "BEGIN;\n\n{CREATE_VERSION_TABLE}\
             -- Running stamp_revision  -> bbbb\n\n\
             INSERT INTO alembic_version (version_num) VALUES ('bbbb');\n\n\
             COMMIT;\n\n"
        )
    );
    let script = stamp_sql(&project(), &TRANSACTIONAL, "bbbb:aaaa", false, &options).unwrap();
    assert_eq!(
        script,
        "BEGIN;\n\n\
         -- Running stamp_revision bbbb -> aaaa\n\n\
         UPDATE alembic_version SET version_num='aaaa' WHERE alembic_version.version_num = 'bbbb';\n\n\
         COMMIT;\n\n"
    );
    // Alembic's words.
    let err = stamp_sql(&project(), &TRANSACTIONAL, "head", true, &options).unwrap_err();
    assert_eq!(err.to_string(), "Can't use --purge with --sql mode");
}

#[test]
fn a_script_through_a_revision_migrate_cannot_run_is_refused() {
    let map = map(vec![
        rev("aaaa", &[]).upgrade_sql("CREATE TABLE a1 (id INT)"),
        rev("bbbb", &["aaaa"]).upgrade(Migration::Unrunnable(Unrunnable {
            line: 12,
            column: 5,
            construct: "op.create_table(...)".into(),
        })),
    ]);
    let err = upgrade_sql(
        &map,
        &TRANSACTIONAL,
        "base:head",
        &MigrateOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("versions/bbbb.sql:12:5: revision bbbb cannot be run by migrate"),
        "{err}"
    );
    // Up to the revision before it is fine.
    upgrade_sql(
        &map,
        &TRANSACTIONAL,
        "base:aaaa",
        &MigrateOptions::default(),
    )
    .unwrap();
}
