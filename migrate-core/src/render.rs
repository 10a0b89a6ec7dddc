//! Writing new revision files, for `migrate revision` and `migrate merge`: Alembic's default
//! `script.py.mako` output for `.py`, the native format for `.sql`, file names from the id and
//! message, random 12-hex ids and Alembic's create dates.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::revision::ScriptFormat;

/// What a new revision file declares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewRevision {
    /// The new revision id.
    pub id: String,
    /// The message (first docstring / header line).
    pub message: String,
    /// Parents (empty for a new base, several for a merge).
    pub down_revisions: Vec<String>,
    /// Branch labels of the new revision.
    pub branch_labels: Vec<String>,
    /// Revisions or labels it depends on.
    pub depends_on: Vec<String>,
    /// `Create Date` as Alembic writes it.
    pub create_date: String,
}

/// Python's `repr()` of a plain string (ids, labels, messages are single-line).
fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr()` of Alembic's scalar-or-tuple values: `None`, `'a'`, `('a', 'b')`.
fn py_scalar_or_tuple(values: &[String]) -> String {
    match values {
        [] => "None".to_string(),
        [one] => py_str(one),
        many => format!(
            "({})",
            many.iter()
                .map(|v| py_str(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `repr()` of a tuple that stays a tuple (`branch_labels`): `None`, `('a',)`.
fn py_tuple(values: &[String]) -> String {
    match values {
        [] => "None".to_string(),
        [one] => format!("({},)", py_str(one)),
        many => py_scalar_or_tuple(many),
    }
}

/// The `.py` file Alembic 1.20's default template writes for this revision.
pub fn render_python(rev: &NewRevision) -> String {
    format!(
        "\"\"\"{message}\n\nRevision ID: {id}\nRevises: {revises}\nCreate Date: {date}\n\n\"\"\"\nfrom typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n\n# revision identifiers, used by Alembic.\nrevision: str = {rid}\ndown_revision: Union[str, Sequence[str], None] = {down}\nbranch_labels: Union[str, Sequence[str], None] = {labels}\ndepends_on: Union[str, Sequence[str], None] = {deps}\n\n\ndef upgrade() -> None:\n    \"\"\"Upgrade schema.\"\"\"\n    pass\n\n\ndef downgrade() -> None:\n    \"\"\"Downgrade schema.\"\"\"\n    pass\n",
        message = rev.message,
        id = rev.id,
        revises = rev.down_revisions.join(", "),
        date = rev.create_date,
        rid = py_str(&rev.id),
        down = py_scalar_or_tuple(&rev.down_revisions),
        labels = py_tuple(&rev.branch_labels),
        deps = py_scalar_or_tuple(&rev.depends_on),
    )
}

/// A native `.sql` revision with empty `upgrade` and `downgrade` sections.
pub fn render_sql(rev: &NewRevision) -> String {
    let message = rev.message.replace('\n', " ");
    format!(
        "-- {message}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n-- Branch Labels: {labels}\n-- Depends On: {deps}\n-- Create Date: {date}\n--\n-- Purpose and impact: say what this changes, why, and what it does to existing data.\n\n-- migrate:upgrade\n-- Write the upgrade's SQL here; statements end with `;`. For a database that needs\n-- other SQL, add a section such as `-- migrate:upgrade dialect=mysql`.\n\n-- migrate:downgrade\n-- Write the SQL that undoes the upgrade here.\n",
        id = rev.id,
        revises = rev.down_revisions.join(", "),
        labels = rev.branch_labels.join(", "),
        deps = rev.depends_on.join(", "),
        date = rev.create_date,
    )
}

/// Alembic's default file name, `%(rev)s_%(slug)s` plus the extension: the message's words,
/// joined by `_`, lowercased, cut at a word boundary past 40 characters.
pub fn file_name(id: &str, message: &str, format: ScriptFormat) -> String {
    let words: Vec<String> = message
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let mut slug = words.join("_").to_lowercase();
    if slug.chars().count() > 40 {
        let cut: String = slug.chars().take(40).collect();
        slug = match cut.rsplit_once('_') {
            Some((head, _)) => format!("{head}_"),
            None => "_".to_string(),
        };
    }
    let ext = match format {
        ScriptFormat::Python => "py",
        ScriptFormat::Sql => "sql",
    };
    format!("{id}_{slug}.{ext}")
}

/// A random 12-hex-digit revision id, as Alembic's `uuid4().hex[-12:]`.
pub fn generate_revision_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// The current UTC time as Python's `str(datetime)`: `2026-11-25 07:30:00.123456`.
pub fn now_create_date() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_timestamp(now.as_secs() as i64, now.subsec_micros())
}

/// Format seconds since the epoch (UTC) and microseconds as `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn format_timestamp(secs: i64, micros: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{micros:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_names() {
        assert_eq!(format_timestamp(0, 0), "1970-01-01 00:00:00.000000");
        assert_eq!(
            format_timestamp(1_795_591_800, 42),
            "2026-11-25 07:30:00.000042"
        );
        assert_eq!(
            format_timestamp(951_782_400, 1),
            "2000-02-29 00:00:00.000001"
        );
        assert_eq!(
            file_name("ae1027a6acf", "Add a column!", ScriptFormat::Python),
            "ae1027a6acf_add_a_column.py"
        );
        assert_eq!(
            file_name(
                "1",
                "create the tenants table with every column we need",
                ScriptFormat::Sql
            ),
            "1_create_the_tenants_table_with_every_.sql"
        );
        let a = generate_revision_id();
        assert_eq!(a.len(), 12);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, generate_revision_id());
    }
}
