//! The Alembic references the end-to-end tests compare with are what real Alembic prints now:
//! each committed file under `tests/alembic/` equals a fresh run of its generator (which needs
//! Alembic in `$VENV`; without it these tests skip, or fail under
//! `MIGRATE_TEST_REQUIRE_ALL=1`).

use std::path::PathBuf;

use migrate_tests::alembic::assert_regenerates;

fn alembic_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("alembic")
}

#[test]
fn listings_are_what_alembic_prints() {
    let dir = alembic_dir();
    assert_regenerates(&dir.join("gen_listings.py"), &[], &dir.join("listings.txt"));
}

#[test]
fn version_table_statements_are_what_alembic_writes() {
    let dir = alembic_dir();
    assert_regenerates(
        &dir.join("gen_version_sql.py"),
        &[],
        &dir.join("version_sql.txt"),
    );
}
