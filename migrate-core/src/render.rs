//! Writing new revision files: Alembic's default Python template and the native `.sql` format.
//!
//! [`render_python`] produces, byte for byte, what `alembic revision -m ...` writes with the
//! `generic` template of Alembic 1.20 (values rendered with Python's `repr`), so a project can
//! keep using Alembic next to `migrate`. [`render_sql`] writes the native format read by
//! [`crate::sqlfile::parse_sql_revision`]. [`file_name`] follows Alembic's default
//! `%(rev)s_%(slug)s` file template.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::revision::ScriptFormat;

/// What a new revision file declares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewRevision {
    /// The revision id, e.g. from [`generate_revision_id`].
    pub id: String,
    /// The message (`-m`); empty renders as Alembic's `empty message`.
    pub message: String,
    /// The parents: none for a base, one, or several for a merge.
    pub down_revisions: Vec<String>,
    /// Branch labels declared on the new revision.
    pub branch_labels: Vec<String>,
    /// Revisions (or labels) the new revision depends on, as they should be written.
    pub depends_on: Vec<String>,
    /// The `Create Date` line's value, e.g. from [`now_create_date`].
    pub create_date: String,
}

impl NewRevision {
    /// The message as Alembic writes it in the docstring: `empty message` when there is none.
    fn shown_message(&self) -> &str {
        if self.message.is_empty() {
            "empty message"
        } else {
            &self.message
        }
    }
}

/// Alembic's longest slug before it is cut at a word boundary (`truncate_slug_length`).
pub const TRUNCATE_SLUG_LENGTH: usize = 40;

/// The file Alembic 1.20's default `script.py.mako` (the `generic` template) renders for `rev`,
/// with empty `upgrade()` and `downgrade()` bodies.
pub fn render_python(rev: &NewRevision) -> String {
    // down_revision and depends_on go through Alembic's `tuple_rev_as_scalar` (one value is
    // written as a string; depends_on stays a list), branch_labels through `to_tuple`.
    let down_revision = match rev.down_revisions.as_slice() {
        [] => "None".to_string(),
        [one] => py_repr(one),
        many => py_tuple(many),
    };
    let branch_labels = if rev.branch_labels.is_empty() {
        "None".to_string()
    } else {
        py_tuple(&rev.branch_labels)
    };
    let depends_on = match rev.depends_on.as_slice() {
        [] => "None".to_string(),
        [one] => py_repr(one),
        many => format!(
            "[{}]",
            many.iter()
                .map(|s| py_repr(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "\"\"\"{message}\n\
         \n\
         Revision ID: {id}\n\
         Revises: {revises}\n\
         Create Date: {date}\n\
         \n\
         \"\"\"\n\
         from typing import Sequence, Union\n\
         \n\
         from alembic import op\n\
         import sqlalchemy as sa\n\
         \n\
         \n\
         # revision identifiers, used by Alembic.\n\
         revision: str = {id_repr}\n\
         down_revision: Union[str, Sequence[str], None] = {down_revision}\n\
         branch_labels: Union[str, Sequence[str], None] = {branch_labels}\n\
         depends_on: Union[str, Sequence[str], None] = {depends_on}\n\
         \n\
         \n\
         def upgrade() -> None:\n\
         \x20   \"\"\"Upgrade schema.\"\"\"\n\
         \x20   pass\n\
         \n\
         \n\
         def downgrade() -> None:\n\
         \x20   \"\"\"Downgrade schema.\"\"\"\n\
         \x20   pass\n",
        message = rev.shown_message(),
        id = rev.id,
        revises = rev.down_revisions.join(", "),
        date = rev.create_date,
        id_repr = py_repr(&rev.id),
    )
}

/// A native `.sql` revision for `rev`: the comment header (with a line inviting the author to
/// describe purpose and impact), and empty `upgrade` and `downgrade` sections holding a
/// commented example.
pub fn render_sql(rev: &NewRevision) -> String {
    let mut out = String::new();
    for line in rev.shown_message().lines() {
        push_comment(&mut out, line);
    }
    out.push_str("--\n");
    push_comment(&mut out, &format!("Revision ID: {}", rev.id));
    push_comment(
        &mut out,
        &format!("Revises: {}", rev.down_revisions.join(", ")),
    );
    push_comment(
        &mut out,
        &format!("Branch Labels: {}", rev.branch_labels.join(", ")),
    );
    push_comment(
        &mut out,
        &format!("Depends On: {}", rev.depends_on.join(", ")),
    );
    push_comment(&mut out, &format!("Create Date: {}", rev.create_date));
    out.push_str(
        "--\n\
         -- Purpose and impact: why this change, what it touches (tables, data, locks), how to undo it.\n\
         \n\
         -- migrate:upgrade\n\
         -- CREATE TABLE example (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
         \n\
         -- migrate:downgrade\n\
         -- DROP TABLE example;\n",
    );
    out
}

/// `-- text`, without trailing blanks when `text` is empty.
fn push_comment(out: &mut String, text: &str) {
    let text = text.trim_end();
    if text.is_empty() {
        out.push_str("--\n");
    } else {
        out.push_str("-- ");
        out.push_str(text);
        out.push('\n');
    }
}

/// The file name Alembic's default `file_template` (`%(rev)s_%(slug)s`) gives a revision,
/// with `.py` or `.sql`.
///
/// The slug is the message's words (runs of letters, digits and `_`) joined by `_` and
/// lowercased; past 40 characters it is cut at the last `_` within them and ends with `_`.
///
/// ```
/// use migrate_core::render::file_name;
/// use migrate_core::ScriptFormat;
/// assert_eq!(file_name("1975ea83b712", "Create the tenants table", ScriptFormat::Sql),
///            "1975ea83b712_create_the_tenants_table.sql");
/// ```
pub fn file_name(id: &str, message: &str, format: ScriptFormat) -> String {
    format!(
        "{id}_{}.{}",
        crate::authoring::slug(message, TRUNCATE_SLUG_LENGTH),
        extension(format)
    )
}

/// The file extension of a format, without the dot.
pub fn extension(format: ScriptFormat) -> &'static str {
    match format {
        ScriptFormat::Python => "py",
        ScriptFormat::Sql => "sql",
    }
}

/// A new random revision id: 12 lowercase hex characters, as Alembic's `uuid4().hex[-12:]`.
pub fn generate_revision_id() -> String {
    let mut bytes = [0u8; 6];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_os {
        bytes.copy_from_slice(&fallback_random().to_le_bytes()[..6]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 unpredictable-enough bits without an OS source: a randomly keyed hash of the time, the
/// process id and a counter.
fn fallback_random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hasher.write_u128(now);
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// The current time as Alembic writes `Create Date` (Python's `str(datetime)`):
/// `YYYY-MM-DD HH:MM:SS.ffffff`, the fraction omitted when it is zero.
///
/// Alembic uses local time; without a time-zone database this is UTC.
pub fn now_create_date() -> String {
    CreateDate::now().to_string()
}

/// When a revision is created, as Alembic's `script.py.mako` (`create_date`, a Python
/// `datetime`) and `file_template` (`%(year)d`, `%(epoch)s`, ...) see it. UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateDate {
    /// The year, e.g. 2026.
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 0 to 59.
    pub minute: u32,
    /// 0 to 59.
    pub second: u32,
    /// 0 to 999,999.
    pub microsecond: u32,
    /// Seconds since 1970-01-01 UTC (`%(epoch)s`).
    pub epoch: u64,
}

impl CreateDate {
    /// The UTC date of a Unix time.
    pub fn from_unix(secs: u64, micros: u32) -> CreateDate {
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let (year, month, day) = crate::clock::civil_from_days(days);
        CreateDate {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
            microsecond: micros.min(999_999),
            epoch: secs,
        }
    }

    /// Now.
    pub fn now() -> CreateDate {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        CreateDate::from_unix(since.as_secs(), since.subsec_micros())
    }

    /// Python's `repr(datetime)`: `datetime.datetime(2026, 11, 5, 7, 3, 9, 120034)`, a zero
    /// microsecond and then a zero second left out.
    pub fn python_repr(&self) -> String {
        let mut fields = vec![
            self.year.to_string(),
            self.month.to_string(),
            self.day.to_string(),
            self.hour.to_string(),
            self.minute.to_string(),
            self.second.to_string(),
            self.microsecond.to_string(),
        ];
        for _ in 0..2 {
            if fields.last().is_some_and(|f| f == "0") {
                fields.pop();
            }
        }
        format!("datetime.datetime({})", fields.join(", "))
    }
}

/// Python's `str(datetime)`: `2026-11-05 07:03:09.120034`, the fraction left out when zero.
impl std::fmt::Display for CreateDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.microsecond != 0 {
            write!(f, ".{:06}", self.microsecond)?;
        }
        Ok(())
    }
}

/// `str(datetime)` for a UTC Unix time.
#[cfg(test)]
fn format_create_date(secs: u64, micros: u32) -> String {
    CreateDate::from_unix(secs, micros).to_string()
}

/// Python's `repr` of a tuple of strings: `('a',)`, `('a', 'b')`.
fn py_tuple(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| py_repr(s)).collect();
    if inner.len() == 1 {
        format!("({},)", inner[0])
    } else {
        format!("({})", inner.join(", "))
    }
}

/// Python's `repr` of a `str`: single quotes unless the text holds `'` and no `"`, with
/// backslash escapes for the quote, `\`, control characters and the common non-printable
/// characters (Python's `str.isprintable`).
pub(crate) fn py_repr(s: &str) -> String {
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
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{a0}').contains(&c) || c == '\u{ad}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !py_printable(c) => {
                let code = c as u32;
                if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Whether Python prints `c` as itself in a `repr` (the separators, format characters and
/// private-use and unassigned code points Python escapes, for the ranges that occur in text).
fn py_printable(c: char) -> bool {
    !matches!(c,
        '\u{1680}' | '\u{2000}'..='\u{200f}' | '\u{2028}'..='\u{202f}' | '\u{205f}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}' | '\u{3000}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
        | '\u{e000}'..='\u{f8ff}' | '\u{fffe}' | '\u{ffff}'
        | '\u{f0000}'..='\u{10ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_date_formats_like_python_str_datetime() {
        // 2026-11-25 07:30:00.123456 UTC, from python3:
        // datetime.datetime(2026,11,25,7,30,0,123456,tzinfo=datetime.timezone.utc).timestamp()
        assert_eq!(
            format_create_date(1_795_591_800, 123_456),
            "2026-11-25 07:30:00.123456"
        );
        assert_eq!(format_create_date(951_782_400, 0), "2000-02-29 00:00:00");
        assert_eq!(format_create_date(0, 5), "1970-01-01 00:00:00.000005");
    }

    #[test]
    fn create_date_repr_matches_python() {
        // python3: repr(datetime.datetime(2026, 11, 5, 7, 3, 9, 120034)), and with zero parts.
        assert_eq!(
            CreateDate::from_unix(1_793_862_189, 120_034).python_repr(),
            "datetime.datetime(2026, 11, 5, 7, 3, 9, 120034)"
        );
        assert_eq!(
            CreateDate::from_unix(1_793_862_180, 0).python_repr(),
            "datetime.datetime(2026, 11, 5, 7, 3)"
        );
        assert_eq!(
            CreateDate::from_unix(1_793_836_800, 7).python_repr(),
            "datetime.datetime(2026, 11, 5, 0, 0, 0, 7)"
        );
    }

    #[test]
    fn repr_matches_python() {
        // Expected values from python3: repr(...)
        assert_eq!(py_repr("abc"), "'abc'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(py_repr("a\\b\nc\td\x01"), "'a\\\\b\\nc\\td\\x01'");
        assert_eq!(py_repr("ünï — ok"), "'ünï — ok'");
        assert_eq!(py_repr("nb\u{a0}sp\u{200b}"), "'nb\\xa0sp\\u200b'");
    }
}
