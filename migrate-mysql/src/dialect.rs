//! The SQL flavour of MySQL and MariaDB: quoting, splitting rules and the version table.

use migrate_core::dialect::{ReservedWords, TimeoutScope, Timeouts};
use migrate_core::ops::{Operation, RenderError};
use migrate_core::{split, Dialect, SplitRules, VersionTable};

/// MySQL's and MariaDB's [`Dialect`]: backtick quoting where SQLAlchemy quotes, no
/// transactional DDL (every DDL statement commits implicitly), and the splitting rules of
/// MySQL's lexer (backslash escapes, `#` comments, backtick identifiers, `BEGIN ... END`
/// bodies of procedures and triggers).
///
/// The version table's `CREATE TABLE` is the default one: Alembic emits the same text on
/// MySQL (checked with `oracle.py ... mysql://... upgrade head --sql`), and MariaDB stores it
/// as `` `version_num` varchar(32) NOT NULL, PRIMARY KEY (`version_num`) `` either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MysqlDialect;

/// The words SQLAlchemy's MySQL dialect quotes even when they are plain lowercase
/// identifiers, so that names render as in Alembic's output. Sorted, for binary search.
const RESERVED_WORDS: &[&str] = &[
    "accessible",
    "add",
    "admin",
    "all",
    "alter",
    "analyze",
    "and",
    "array",
    "as",
    "asc",
    "asensitive",
    "before",
    "between",
    "bigint",
    "binary",
    "blob",
    "both",
    "by",
    "call",
    "cascade",
    "case",
    "change",
    "char",
    "character",
    "check",
    "collate",
    "column",
    "condition",
    "constraint",
    "continue",
    "convert",
    "create",
    "cross",
    "cube",
    "cume_dist",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "cursor",
    "database",
    "databases",
    "day_hour",
    "day_microsecond",
    "day_minute",
    "day_second",
    "dec",
    "decimal",
    "declare",
    "default",
    "delayed",
    "delete",
    "dense_rank",
    "desc",
    "describe",
    "deterministic",
    "distinct",
    "distinctrow",
    "div",
    "double",
    "drop",
    "dual",
    "each",
    "else",
    "elseif",
    "empty",
    "enclosed",
    "escaped",
    "except",
    "exists",
    "exit",
    "explain",
    "false",
    "fetch",
    "first_value",
    "float",
    "float4",
    "float8",
    "for",
    "force",
    "foreign",
    "from",
    "fulltext",
    "function",
    "general",
    "generated",
    "get",
    "get_master_public_key",
    "grant",
    "group",
    "grouping",
    "groups",
    "having",
    "high_priority",
    "hour_microsecond",
    "hour_minute",
    "hour_second",
    "if",
    "ignore",
    "ignore_server_ids",
    "in",
    "index",
    "infile",
    "inner",
    "inout",
    "insensitive",
    "insert",
    "int",
    "int1",
    "int2",
    "int3",
    "int4",
    "int8",
    "integer",
    "intersect",
    "interval",
    "into",
    "io_after_gtids",
    "io_before_gtids",
    "is",
    "iterate",
    "join",
    "json_table",
    "key",
    "keys",
    "kill",
    "lag",
    "last_value",
    "lateral",
    "lead",
    "leading",
    "leave",
    "left",
    "like",
    "limit",
    "linear",
    "lines",
    "load",
    "localtime",
    "localtimestamp",
    "lock",
    "long",
    "longblob",
    "longtext",
    "loop",
    "low_priority",
    "master_bind",
    "master_heartbeat_period",
    "master_ssl_verify_server_cert",
    "match",
    "maxvalue",
    "mediumblob",
    "mediumint",
    "mediumtext",
    "member",
    "middleint",
    "minute_microsecond",
    "minute_second",
    "mod",
    "modifies",
    "natural",
    "no_write_to_binlog",
    "not",
    "nth_value",
    "ntile",
    "null",
    "numeric",
    "of",
    "on",
    "optimize",
    "optimizer_costs",
    "option",
    "optionally",
    "or",
    "order",
    "out",
    "outer",
    "outfile",
    "over",
    "parallel",
    "parse_gcol_expr",
    "partition",
    "percent_rank",
    "persist",
    "persist_only",
    "precision",
    "primary",
    "procedure",
    "purge",
    "qualify",
    "range",
    "rank",
    "read",
    "read_write",
    "reads",
    "real",
    "recursive",
    "references",
    "regexp",
    "release",
    "rename",
    "repeat",
    "replace",
    "require",
    "resignal",
    "restrict",
    "return",
    "revoke",
    "right",
    "rlike",
    "role",
    "row",
    "row_number",
    "rows",
    "schema",
    "schemas",
    "second_microsecond",
    "select",
    "sensitive",
    "separator",
    "set",
    "show",
    "signal",
    "slow",
    "smallint",
    "spatial",
    "specific",
    "sql",
    "sql_after_gtids",
    "sql_before_gtids",
    "sql_big_result",
    "sql_calc_found_rows",
    "sql_small_result",
    "sqlexception",
    "sqlstate",
    "sqlwarning",
    "ssl",
    "starting",
    "stored",
    "straight_join",
    "system",
    "table",
    "terminated",
    "then",
    "tinyblob",
    "tinyint",
    "tinytext",
    "to",
    "trailing",
    "trigger",
    "true",
    "undo",
    "union",
    "unique",
    "unlock",
    "unsigned",
    "update",
    "usage",
    "use",
    "using",
    "utc_date",
    "utc_time",
    "utc_timestamp",
    "values",
    "varbinary",
    "varchar",
    "varcharacter",
    "varying",
    "virtual",
    "when",
    "where",
    "while",
    "window",
    "with",
    "write",
    "xor",
    "year_month",
    "zerofill",
];

/// [`RESERVED_WORDS`] indexed for the quoting test.
static RESERVED: ReservedWords = ReservedWords::new(RESERVED_WORDS);

impl Dialect for MysqlDialect {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn quote_identifier(&self, ident: &str) -> String {
        RESERVED.quote(ident, '`')
    }

    fn push_quoted(&self, out: &mut String, ident: &str) {
        RESERVED.push_quoted(out, ident, '`')
    }

    /// MySQL reads `\` as an escape inside strings, so it is doubled along with `'`.
    fn string_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    fn split_rules(&self) -> SplitRules {
        SplitRules::mysql()
    }

    fn history_id_column(&self) -> &'static str {
        "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"
    }

    fn timestamp_type(&self) -> &'static str {
        "DATETIME(6)"
    }

    /// `DATETIME` holds no zone: the value is UTC, written without the `T` and `Z`.
    fn timestamp_literal(&self, iso: &str) -> String {
        self.string_literal(iso.trim_end_matches('Z').replacen('T', " ", 1).as_str())
    }

    fn timestamp_text(&self, column: &str) -> String {
        format!("DATE_FORMAT({column}, '%Y-%m-%dT%H:%i:%s.%fZ')")
    }

    fn table_exists_sql(&self, table: &VersionTable) -> String {
        let schema = match &table.schema {
            Some(s) => self.string_literal(s),
            None => "DATABASE()".to_string(),
        };
        format!(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = {schema} AND table_name = {}",
            self.string_literal(&table.name)
        )
    }

    /// Session settings, once: `lock_wait_timeout` (metadata locks, what DDL waits for) and
    /// `innodb_lock_wait_timeout` (row locks) in whole seconds (at least 1), and MariaDB's
    /// `max_statement_time` (MySQL has no such limit for DDL).
    fn timeout_statements(&self, timeouts: &Timeouts, scope: TimeoutScope) -> Vec<String> {
        if scope != TimeoutScope::Start {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(lock) = timeouts.lock {
            let seconds = lock.as_secs() + u64::from(lock.subsec_nanos() > 0);
            let seconds = seconds.max(1);
            out.push(format!(
                "SET SESSION lock_wait_timeout = {seconds}, innodb_lock_wait_timeout = {seconds}"
            ));
        }
        if let Some(statement) = timeouts.statement {
            out.push(format!(
                "SET SESSION max_statement_time = {}",
                statement.as_secs_f64()
            ));
        }
        out
    }

    /// The `mysql`/`mariadb` client ends a statement at every `;` outside quotes and
    /// comments, so a routine or trigger whose `BEGIN ... END` body holds `;` is sent between
    /// `DELIMITER $$` lines, as its authors write it for the client.
    fn script_statement(&self, sql: &str) -> String {
        let client = SplitRules {
            begin_end_blocks: false,
            ..SplitRules::mysql()
        };
        if split(sql, client).len() > 1 {
            format!("DELIMITER $$\n{sql}$$\nDELIMITER ;")
        } else {
            format!("{sql};")
        }
    }

    fn render_operation(&self, op: &Operation) -> Result<Vec<String>, RenderError> {
        crate::ops::render(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::VersionTable;

    #[test]
    fn script_statements_with_a_body_go_between_delimiter_lines() {
        let d = MysqlDialect;
        assert_eq!(
            d.script_statement("INSERT INTO t VALUES ('a;b')"),
            "INSERT INTO t VALUES ('a;b');"
        );
        assert_eq!(
            d.script_statement("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"),
            "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\nDELIMITER ;"
        );
    }

    #[test]
    fn reserved_words_are_sorted_for_binary_search() {
        assert!(RESERVED_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn quotes_only_names_sqlalchemy_quotes() {
        let d = MysqlDialect;
        assert_eq!(d.quote_identifier("alembic_version"), "alembic_version");
        assert_eq!(d.quote_identifier("Versions"), "`Versions`");
        assert_eq!(d.quote_identifier("order"), "`order`");
        assert_eq!(d.quote_identifier("schema"), "`schema`");
        assert_eq!(d.quote_identifier("1st"), "`1st`");
        assert_eq!(d.quote_identifier("a`b"), "`a``b`");
        assert_eq!(d.quote_identifier("my-db"), "`my-db`");
    }

    #[test]
    fn string_literals_escape_quotes_and_backslashes() {
        assert_eq!(MysqlDialect.string_literal(r"it's a\b"), r"'it''s a\\b'");
    }

    // Expected text from `oracle.py DIR mysql://root@127.0.0.1/test upgrade head --sql`.
    #[test]
    fn version_table_statements_match_alembic() {
        let (d, t) = (MysqlDialect, VersionTable::default());
        assert_eq!(
            d.create_version_table(&t),
            "CREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    \
             CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)"
        );
        assert_eq!(
            d.insert_version(&t, "aaa111"),
            "INSERT INTO alembic_version (version_num) VALUES ('aaa111')"
        );
        assert_eq!(
            d.update_version(&t, "aaa111", "bbb222"),
            "UPDATE alembic_version SET version_num='bbb222' WHERE \
             alembic_version.version_num = 'aaa111'"
        );
        assert_eq!(
            d.delete_version(&t, "aaa111"),
            "DELETE FROM alembic_version WHERE alembic_version.version_num = 'aaa111'"
        );
    }
}
