//! `render_sql` writes the native format, which parses back to the same revision; ids and
//! create dates have the documented shape.

use std::path::Path;

use migrate_core::render::{generate_revision_id, now_create_date, render_sql, NewRevision};
use migrate_core::split::{split, SplitRules};
use migrate_core::sqlfile::parse_sql_revision;
use migrate_core::{Migration, ScriptFormat};

fn rev(down: &[&str], labels: &[&str], depends: &[&str], message: &str) -> NewRevision {
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    NewRevision {
        id: "1975ea83b712".into(),
        message: message.into(),
        down_revisions: v(down),
        branch_labels: v(labels),
        depends_on: v(depends),
        create_date: "2026-11-25 07:30:00.123456".into(),
    }
}

#[test]
fn a_base_revision_renders_the_documented_header() {
    let text = render_sql(&rev(&[], &[], &[], "Create the tenants table"));
    assert_eq!(
        text,
        "-- Create the tenants table
--
-- Revision ID: 1975ea83b712
-- Revises:
-- Branch Labels:
-- Depends On:
-- Create Date: 2026-11-25 07:30:00.123456
--
-- Purpose and impact: why this change, what it touches (tables, data, locks), how to undo it.

-- migrate:upgrade
-- CREATE TABLE example (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);

-- migrate:downgrade
-- DROP TABLE example;
"
    );
}

#[test]
fn rendered_files_parse_back() {
    let cases = [
        rev(&[], &[], &[], "first"),
        rev(&["ae1027a6acf"], &[], &[], "second"),
        rev(
            &["a1", "b2"],
            &["release"],
            &["c3", "d4"],
            "merge the heads",
        ),
        rev(&["a1"], &["x", "y"], &["feature@head"], ""),
    ];
    for new in cases {
        let text = render_sql(&new);
        let parsed =
            parse_sql_revision(Path::new("versions/1975ea83b712_x.sql"), &text).expect("parses");
        assert_eq!(parsed.id, new.id);
        assert_eq!(parsed.down_revisions, new.down_revisions);
        assert_eq!(parsed.branch_labels, new.branch_labels);
        assert_eq!(parsed.depends_on, new.depends_on);
        let message = if new.message.is_empty() {
            "empty message"
        } else {
            new.message.as_str()
        };
        assert_eq!(parsed.message, message);
        assert_eq!(parsed.format, ScriptFormat::Sql);
        assert!(parsed.doc.contains("Purpose and impact:"));
        // Both sections exist (so downgrade is not Missing) and run no statement.
        for dir in [&parsed.upgrade, &parsed.downgrade] {
            let Migration::Sql(blocks) = dir else {
                panic!("expected sections, got {dir:?}")
            };
            assert_eq!(blocks.len(), 1);
            for rules in [
                SplitRules::sqlite(),
                SplitRules::postgresql(),
                SplitRules::mysql(),
            ] {
                assert!(split(&blocks[0].sql, rules).is_empty());
            }
        }
    }
}

#[test]
fn multi_line_messages_stay_in_the_header() {
    let text = render_sql(&rev(&[], &[], &[], "first line\nsecond line"));
    let parsed = parse_sql_revision(Path::new("x.sql"), &text).expect("parses");
    assert_eq!(parsed.message, "first line");
    assert!(parsed.doc.starts_with("first line\nsecond line\n"));
}

#[test]
fn revision_ids_are_twelve_lowercase_hex_and_differ() {
    let ids: Vec<String> = (0..50).map(|_| generate_revision_id()).collect();
    for id in &ids {
        assert_eq!(id.len(), 12, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{id}"
        );
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
}

#[test]
fn create_date_has_pythons_datetime_shape() {
    let date = now_create_date();
    let b = date.as_bytes();
    // "YYYY-MM-DD HH:MM:SS" then ".ffffff" unless the microseconds are zero.
    assert!(date.len() == 26 || date.len() == 19, "{date}");
    for (i, c) in b.iter().enumerate() {
        let expected_sep = match i {
            4 | 7 => Some(b'-'),
            10 => Some(b' '),
            13 | 16 => Some(b':'),
            19 => Some(b'.'),
            _ => None,
        };
        match expected_sep {
            Some(sep) => assert_eq!(*c, sep, "{date}"),
            None => assert!(c.is_ascii_digit(), "{date}"),
        }
    }
    assert!(date.as_str() > "2026-01-01", "{date}");
}
