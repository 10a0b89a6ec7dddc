//! The Alembic references the core's tests compare with are what real Alembic says now: each
//! committed file under `tests/alembic/` equals a fresh run of its generator (which needs
//! Alembic in `$VENV`; without it these tests skip, or fail under
//! `MIGRATE_TEST_REQUIRE_ALL=1`).

use std::path::PathBuf;

use migrate_tests::alembic::assert_regenerates;

/// Asserts that `tests/alembic/<data>` is what `tests/alembic/<generator>` prints.
fn regenerates(generator: &str, data: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/alembic");
    assert_regenerates(&dir.join(generator), &[], &dir.join(data));
}

#[test]
fn plan_cases_are_what_alembic_plans() {
    regenerates("gen_plan_cases.py", "plan_cases.txt");
}

#[test]
fn graph_errors_are_what_alembic_says() {
    regenerates("gen_graph_errors.py", "graph_errors.txt");
}

#[test]
fn render_cases_are_what_alembic_writes() {
    regenerates("gen_render_cases.py", "render_cases.txt");
}
