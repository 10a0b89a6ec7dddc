//! What a backend says about its SQL: quoting, the version table's statements, splitting rules.
//!
//! A [`Dialect`] only produces text and facts; it never talks to a database. The same dialect
//! serves the online [`crate::Executor`] and the offline `--sql` script.

use std::time::Duration;

use crate::split::SplitRules;

/// Where the version table lives and what it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTable {
    /// Table name; Alembic's default is `alembic_version`.
    pub name: String,
    /// Schema (PostgreSQL schema, MySQL database); `None` for the connection's default.
    pub schema: Option<String>,
}

impl Default for VersionTable {
    fn default() -> Self {
        VersionTable {
            name: "alembic_version".to_string(),
            schema: None,
        }
    }
}

/// The length of `alembic_version.version_num` as Alembic creates it: `VARCHAR(32)`.
pub const VERSION_NUM_LENGTH: usize = 32;

/// The session timeouts a run asks for (see [`crate::MigrateOptions::ddl_lock_timeout`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// How long a statement may wait for a lock.
    pub lock: Option<Duration>,
    /// How long a statement may run.
    pub statement: Option<Duration>,
}

impl Timeouts {
    /// Whether any timeout is asked for.
    pub fn any(&self) -> bool {
        self.lock.is_some() || self.statement.is_some()
    }
}

/// Where in a run timeout settings are sent (see [`Dialect::timeout_statements`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutScope {
    /// Once, before anything else (session settings that survive transactions).
    Start,
    /// Right after each `BEGIN` (settings that end with the transaction).
    Transaction,
    /// Before statements that run outside any transaction.
    Outside,
    /// After them, to undo [`TimeoutScope::Outside`].
    AfterOutside,
}

/// `ident`, bare when it is plain and `reserved` says it is not a reserved word, otherwise
/// quoted.
fn push_quoted_unless(
    out: &mut String,
    ident: &str,
    quote: char,
    reserved: impl FnOnce(&[u8]) -> bool,
) {
    // Bytes, not chars: a non-ASCII byte is never plain, and the test is the same.
    let bytes = ident.as_bytes();
    let plain = bytes
        .first()
        .is_some_and(|&first| !first.is_ascii_digit() && first != b'$')
        && bytes.iter().all(|&c| PLAIN[c as usize])
        && !reserved(bytes);
    if plain {
        out.push_str(ident);
        return;
    }
    out.push(quote);
    for c in ident.chars() {
        out.push(c);
        if c == quote {
            out.push(quote);
        }
    }
    out.push(quote);
}

/// The bytes of a plain identifier: ASCII lowercase letters, digits, `_` and `$`.
static PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'$';
        b += 1;
    }
    table
};

/// A dialect's reserved words (sorted, ASCII), indexed by first byte and length so that
/// telling whether a name is one compares it with the few words of its first letter and
/// length only. Built at compile time ([`ReservedWords::new`] refuses an unsorted list).
#[derive(Debug)]
pub struct ReservedWords {
    /// The words, sorted.
    words: &'static [&'static str],
    /// For each first byte, the range of `words` starting with it.
    ranges: [(u16, u16); 128],
    /// For each first byte, bit `n` set when one of its words is `n` bytes long (bit 31
    /// for 31 bytes and more).
    lengths: [u32; 128],
}

impl ReservedWords {
    /// The index of `words`, which must be sorted, non-empty ASCII words (checked: a
    /// `const` built from a list that is not fails to compile).
    pub const fn new(words: &'static [&'static str]) -> ReservedWords {
        assert!(words.len() < u16::MAX as usize, "too many reserved words");
        let mut ranges = [(0u16, 0u16); 128];
        let mut lengths = [0u32; 128];
        let mut i = 0;
        while i < words.len() {
            let w = words[i].as_bytes();
            assert!(
                !w.is_empty() && w[0] < 128,
                "reserved words must be non-empty ASCII"
            );
            if i > 0 {
                assert!(
                    bytes_less(words[i - 1].as_bytes(), w),
                    "reserved words must be sorted"
                );
            }
            let first = w[0] as usize;
            if ranges[first].0 == ranges[first].1 {
                ranges[first].0 = i as u16;
            }
            ranges[first].1 = i as u16 + 1;
            lengths[first] |= 1 << length_bit(w.len());
            i += 1;
        }
        ReservedWords {
            words,
            ranges,
            lengths,
        }
    }

    /// The words, sorted.
    pub fn words(&self) -> &'static [&'static str] {
        self.words
    }

    /// Whether `word` is one of the words.
    pub fn contains(&self, word: &[u8]) -> bool {
        let Some(&first) = word.first() else {
            return false;
        };
        let first = first as usize;
        if first >= 128 || self.lengths[first] & (1 << length_bit(word.len())) == 0 {
            return false;
        }
        let (start, end) = self.ranges[first];
        // Same first byte already: the length and the last byte rule out most before the
        // whole comparison.
        let last = word[word.len() - 1];
        self.words[start as usize..end as usize].iter().any(|r| {
            let r = r.as_bytes();
            r.len() == word.len() && r[r.len() - 1] == last && r == word
        })
    }

    /// `ident` as SQLAlchemy renders it: bare when it is a plain lowercase identifier
    /// (ASCII lowercase letters, digits, `_` and `$`, not starting with a digit or `$`) that
    /// is not one of the words, otherwise between `quote`s, with any `quote` inside doubled.
    /// Each dialect's [`Dialect::quote_identifier`] calls it with its reserved words and quote.
    ///
    /// ```
    /// use migrate_core::dialect::ReservedWords;
    /// static RESERVED: ReservedWords = ReservedWords::new(&["order"]);
    /// assert_eq!(RESERVED.quote("alembic_version", '"'), "alembic_version");
    /// assert_eq!(RESERVED.quote("order", '"'), "\"order\"");
    /// assert_eq!(RESERVED.quote("a`b", '`'), "`a``b`");
    /// ```
    pub fn quote(&self, ident: &str, quote: char) -> String {
        let mut out = String::with_capacity(ident.len() + 2);
        self.push_quoted(&mut out, ident, quote);
        out
    }

    /// [`ReservedWords::quote`], appended to `out`.
    pub fn push_quoted(&self, out: &mut String, ident: &str, quote: char) {
        push_quoted_unless(out, ident, quote, |word| self.contains(word));
    }
}

/// The bit of [`ReservedWords::lengths`] for a word of `len` bytes.
const fn length_bit(len: usize) -> u32 {
    if len < 31 {
        len as u32
    } else {
        31
    }
}

/// `a < b`, byte by byte (`str`'s order), for [`ReservedWords::new`].
const fn bytes_less(a: &[u8], b: &[u8]) -> bool {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// The SQL flavour of one backend.
pub trait Dialect: Send + Sync {
    /// The dialect's name as revision files name it: `sqlite`, `postgresql` or `mysql`.
    fn name(&self) -> &'static str;

    /// Quote an identifier when it needs quoting (as SQLAlchemy does: only names that are not
    /// plain lowercase identifiers or that are reserved words).
    fn quote_identifier(&self, ident: &str) -> String;

    /// [`Dialect::quote_identifier`], appended to `out`.
    fn push_quoted(&self, out: &mut String, ident: &str) {
        out.push_str(&self.quote_identifier(ident));
    }

    /// The qualified, quoted name of the version table.
    fn version_table_name(&self, table: &VersionTable) -> String {
        match &table.schema {
            Some(schema) => format!(
                "{}.{}",
                self.quote_identifier(schema),
                self.quote_identifier(&table.name)
            ),
            None => self.quote_identifier(&table.name),
        }
    }

    /// A string literal holding `value`.
    fn string_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// `CREATE TABLE` for the version table exactly as Alembic lays it out:
    /// `version_num VARCHAR(32) NOT NULL`, primary key `<table>_pkc`.
    fn create_version_table(&self, table: &VersionTable) -> String {
        format!(
            "CREATE TABLE {} (\n    version_num VARCHAR({VERSION_NUM_LENGTH}) NOT NULL, \n    CONSTRAINT {} PRIMARY KEY (version_num)\n)",
            self.version_table_name(table),
            self.quote_identifier(&format!("{}_pkc", table.name))
        )
    }

    /// `INSERT` of one head into the version table.
    fn insert_version(&self, table: &VersionTable, id: &str) -> String {
        format!(
            "INSERT INTO {} (version_num) VALUES ({})",
            self.version_table_name(table),
            self.string_literal(id)
        )
    }

    /// `UPDATE` of one head to another.
    fn update_version(&self, table: &VersionTable, from: &str, to: &str) -> String {
        format!(
            "UPDATE {} SET version_num={} WHERE {}.version_num = {}",
            self.version_table_name(table),
            self.string_literal(to),
            self.version_table_name(table),
            self.string_literal(from)
        )
    }

    /// `DELETE` of one head.
    fn delete_version(&self, table: &VersionTable, id: &str) -> String {
        format!(
            "DELETE FROM {} WHERE {}.version_num = {}",
            self.version_table_name(table),
            self.version_table_name(table),
            self.string_literal(id)
        )
    }

    /// `DELETE` of every row (`stamp --purge`).
    fn purge_versions(&self, table: &VersionTable) -> String {
        format!("DELETE FROM {}", self.version_table_name(table))
    }

    /// Whether DDL runs inside transactions (true for SQLite and PostgreSQL, false for MySQL).
    fn transactional_ddl(&self) -> bool;

    /// How statements are separated in this dialect.
    fn split_rules(&self) -> SplitRules;

    /// The statement that opens a transaction in an offline script.
    fn begin_statement(&self) -> &'static str {
        "BEGIN"
    }

    /// The statement that commits a transaction in an offline script.
    fn commit_statement(&self) -> &'static str {
        "COMMIT"
    }

    /// The statements that apply `timeouts` at `scope` (none by default: the dialect has no
    /// such setting there). PostgreSQL sets them per transaction (`SET LOCAL`), which also holds
    /// behind a transaction-pooling PgBouncer; MySQL and SQLite per session, once.
    fn timeout_statements(&self, timeouts: &Timeouts, scope: TimeoutScope) -> Vec<String> {
        let _ = (timeouts, scope);
        Vec::new()
    }

    /// The history table's key column: a number the database assigns in insertion order.
    fn history_id_column(&self) -> &'static str {
        "id INTEGER PRIMARY KEY"
    }

    /// The column type of the history table's times (UTC).
    fn timestamp_type(&self) -> &'static str {
        "TEXT"
    }

    /// A literal of the time `iso` (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) for a
    /// [`Dialect::timestamp_type`] column.
    fn timestamp_literal(&self, iso: &str) -> String {
        self.string_literal(iso)
    }

    /// An expression reading the time `column` back as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    fn timestamp_text(&self, column: &str) -> String {
        column.to_string()
    }

    /// A query that returns one row when `table` exists and none otherwise.
    fn table_exists_sql(&self, table: &VersionTable) -> String {
        let master = match &table.schema {
            Some(schema) => format!("{}.sqlite_master", self.quote_identifier(schema)),
            None => "sqlite_master".to_string(),
        };
        format!(
            "SELECT 1 FROM {master} WHERE type = 'table' AND name = {}",
            self.string_literal(&table.name)
        )
    }

    /// `sql` as one statement of an offline script for this database's own client: by
    /// default followed by `;`. A dialect whose client splits on `;` (the `mysql` client)
    /// wraps a statement holding `;` of its own (a procedure body) in `DELIMITER` lines.
    fn script_statement(&self, sql: &str) -> String {
        format!("{sql};")
    }

    /// The statements an Alembic operation (`op.create_table(...)`, ...) runs on this
    /// dialect, exactly as Alembic's offline mode prints them (without the `;`), or why it
    /// has none here. The default refuses every operation.
    fn render_operation(
        &self,
        op: &crate::ops::Operation,
    ) -> Result<Vec<String>, crate::ops::RenderError> {
        Err(crate::ops::RenderError::new(format!(
            "op.{}() on {} (this dialect renders no Alembic operations)",
            op.name(),
            self.name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: &[&str] = &[
        "a",
        "add",
        "all",
        "current_date",
        "order",
        "table",
        "to",
        "zz",
    ];
    static INDEX: ReservedWords = ReservedWords::new(WORDS);

    #[test]
    fn reserved_words_index_agrees_with_the_list() {
        let mut candidates: Vec<String> = Vec::new();
        for w in WORDS {
            candidates.push(w.to_string());
            candidates.push(format!("{w}x"));
            candidates.push(format!("x{w}"));
            candidates.push(w[..w.len() - 1].to_string());
        }
        candidates
            .extend(["", "b", "tab", "tables", "ordeR", "é", "~", "current_dat"].map(String::from));
        for c in &candidates {
            assert_eq!(
                INDEX.contains(c.as_bytes()),
                WORDS.contains(&c.as_str()),
                "{c:?}"
            );
            let plain = c.starts_with(|f: char| f.is_ascii_lowercase() || f == '_')
                && c.bytes().all(|b| PLAIN[b as usize]);
            let bare = plain && !WORDS.contains(&c.as_str());
            assert_eq!(INDEX.quote(c, '"') == *c, bare, "{c:?}");
        }
    }

    #[test]
    fn long_words_share_the_last_length_bit() {
        const LONG: &[&str] = &["abcdefghijklmnopqrstuvwxyzabcdefghij"];
        static LONG_INDEX: ReservedWords = ReservedWords::new(LONG);
        assert!(LONG_INDEX.contains(LONG[0].as_bytes()));
        assert!(!LONG_INDEX.contains(b"abcdefghijklmnopqrstuvwxyzabcdefghi"));
    }
}
