//! Native `.sql` revision files: header, sections, dialect variants, errors.

use std::path::Path;

use migrate_core::sqlfile::parse_sql_revision;
use migrate_core::{Migration, ScriptFormat};

const TENANTS: &str = "-- Create the tenants table
--
-- Revision ID: 1975ea83b712
-- Revises: aaaa00000001, bbbb00000002
-- Branch Labels: core
-- Depends On: None
-- Create Date: 2026-11-25 07:30:00.123456
--
-- Purpose: every row belongs to a tenant.
-- Impact: new table only.

-- migrate:upgrade dialect=sqlite,mysql
CREATE TABLE tenants (id CHAR(36) PRIMARY KEY);

-- migrate:upgrade dialect=postgres
CREATE TABLE tenants (id UUID PRIMARY KEY);

-- migrate:upgrade dialect=sqlite,mariadb transaction=false
CREATE INDEX tenants_id ON tenants (id);

-- migrate:upgrade dialect=postgresql transaction=false
CREATE INDEX CONCURRENTLY tenants_id ON tenants (id);

-- migrate:downgrade
DROP TABLE tenants;
";

#[test]
fn header_fields_and_sections() {
    let rev = parse_sql_revision(Path::new("v/1975_create.sql"), TENANTS).unwrap();
    assert_eq!(rev.id, "1975ea83b712");
    assert_eq!(rev.down_revisions, ["aaaa00000001", "bbbb00000002"]);
    assert_eq!(rev.branch_labels, ["core"]);
    assert!(rev.depends_on.is_empty());
    assert_eq!(rev.message, "Create the tenants table");
    assert!(rev
        .doc
        .contains("Purpose: every row belongs to a tenant.\nImpact: new table only."));
    assert_eq!(rev.format, ScriptFormat::Sql);

    let sqlite = rev.upgrade.blocks_for("sqlite").unwrap();
    assert_eq!(sqlite.len(), 2);
    assert_eq!(
        sqlite[0].sql,
        "CREATE TABLE tenants (id CHAR(36) PRIMARY KEY);"
    );
    assert_eq!(sqlite[0].line, 13);
    assert!(sqlite[0].transactional && !sqlite[1].transactional);

    let pg = rev.upgrade.blocks_for("postgresql").unwrap();
    assert_eq!(pg.len(), 2);
    assert_eq!(pg[0].sql, "CREATE TABLE tenants (id UUID PRIMARY KEY);");
    assert_eq!(
        pg[1].sql,
        "CREATE INDEX CONCURRENTLY tenants_id ON tenants (id);"
    );
    assert!(!pg[1].transactional);
    assert_eq!(
        rev.downgrade.blocks_for("mysql").unwrap()[0].sql,
        "DROP TABLE tenants;"
    );
}

#[test]
fn no_downgrade_section_is_missing_and_an_empty_one_is_nothing_to_do() {
    let text = "-- m\n-- Revision ID: abc123abc123\n-- Revises:\n\n-- migrate:upgrade\nSELECT 1;\n";
    let rev = parse_sql_revision(Path::new("a.sql"), text).unwrap();
    assert_eq!(rev.downgrade, Migration::Missing);
    assert!(rev.down_revisions.is_empty());
    let text = "-- m\n-- Revision ID: abc123abc123\n\n-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\n-- nothing to undo\n";
    let rev = parse_sql_revision(Path::new("a.sql"), text).unwrap();
    let blocks = rev.downgrade.blocks_for("sqlite").unwrap();
    assert_eq!(blocks.len(), 1);
    assert!(migrate_core::split(&blocks[0].sql, Default::default()).is_empty());
}
