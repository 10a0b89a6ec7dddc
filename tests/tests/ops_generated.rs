//! Generated histories of Alembic operations, rendered by real Alembic (1.20.1, offline,
//! `upgrade base:head --sql`) and by `migrate upgrade base:head --sql`: the scripts must be
//! equal statement for statement, per dialect.
//!
//! A deterministic generator writes, for each dialect, a history of revisions that each make a
//! few random operations (tables, columns, indexes, column changes, foreign keys, unique
//! and check constraints, renames, `batch_alter_table` blocks, drops) with random names (some
//! needing quotes), types, defaults, comments, flags and dialect options, staying within what
//! Alembic renders on that dialect (so that one Alembic run covers the whole history). `OPS_GENERATED_ROUNDS=N` renders N histories per
//! dialect instead of one. Needs Alembic in `/opt/alembic-venv`
//! (`bash ../shared/alembic-oracle/setup.sh`); fails without it under
//! `MIGRATE_TEST_REQUIRE_ALL=1`, else skips.

mod common;

use std::fmt::Write;

use common::{alembic, alembic_stdouts, require_all, Project};

/// xorshift, so that a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum D {
    Sqlite,
    Postgres,
    Mysql,
}

#[derive(Clone)]
struct Col {
    name: String,
    ty: String,
}

#[derive(Clone)]
struct Table {
    name: String,
    schema: Option<String>,
    cols: Vec<Col>,
    indexes: Vec<String>,
    constraints: Vec<(String, &'static str)>,
}

struct Gen {
    r: Rng,
    d: D,
    tables: Vec<Table>,
    serial: usize,
}

const TABLES: &[&str] = &[
    "users",
    "User",
    "order",
    "account_items",
    "My Table",
    "t_x",
    "select",
    "MixedCase",
    "audit",
];
const COLUMNS: &[&str] = &[
    "name",
    "email",
    "created_at",
    "Amount",
    "value",
    "data",
    "flag",
    "count",
    "My Col",
    "kind",
    "group",
    "note",
    "Title",
    "x2",
];

/// `repr()` of a Python string (no quotes or backslashes in generated names).
fn py(s: &str) -> String {
    format!("{s:?}")
}

impl Gen {
    fn fresh(&mut self, base: &str) -> String {
        self.serial += 1;
        format!("{base}_{}", self.serial)
    }

    fn ty(&mut self) -> String {
        let n = [10, 20, 50, 255][self.r.below(4)];
        let mut pool: Vec<String> = vec![
            "sa.Integer()".into(),
            "sa.BigInteger()".into(),
            "sa.SmallInteger()".into(),
            format!("sa.String(length={n})"),
            format!("sa.String({n})"),
            "sa.Text()".into(),
            "sa.Boolean()".into(),
            "sa.DateTime()".into(),
            "sa.DateTime(timezone=True)".into(),
            "sa.Date()".into(),
            "sa.Time()".into(),
            "sa.Numeric(10, 2)".into(),
            "sa.Numeric(precision=12)".into(),
            "sa.Float()".into(),
            "sa.JSON()".into(),
            "sa.LargeBinary()".into(),
            if self.d == D::Mysql {
                "sa.Uuid(native_uuid=False)".into()
            } else {
                "sa.Uuid()".into()
            },
            format!("sa.VARCHAR({n})"),
            "sa.TEXT()".into(),
            "sa.INTEGER()".into(),
            "sa.BIGINT()".into(),
            "sa.TIMESTAMP(timezone=True)".into(),
            "sa.TIMESTAMP()".into(),
            format!("sa.CHAR({})", n / 10),
            format!("sa.Unicode({n})"),
            "sa.UnicodeText()".into(),
            "sa.Interval()".into(),
            "sa.Integer".into(),
            format!("sa.Enum('a', 'b c', name={})", py(&self.fresh("e"))),
            "sa.Enum('x', 'yy', native_enum=False)".into(),
        ];
        match self.d {
            D::Postgres => pool.extend(
                [
                    "postgresql.JSONB(astext_type=sa.Text())",
                    "postgresql.UUID(as_uuid=True)",
                    "postgresql.ARRAY(sa.String())",
                    "postgresql.ARRAY(sa.Integer(), dimensions=2)",
                    "postgresql.INET()",
                    "postgresql.TIMESTAMP(timezone=True, precision=3)",
                    "postgresql.BYTEA()",
                    "postgresql.DOUBLE_PRECISION()",
                    "postgresql.CITEXT()",
                    "postgresql.TSVECTOR()",
                    "sa.String()",
                ]
                .map(String::from),
            ),
            D::Mysql => pool.extend(
                [
                    "mysql.TINYINT(1)",
                    "mysql.INTEGER(unsigned=True)",
                    "mysql.VARCHAR(40, charset='utf8mb4', collation='utf8mb4_bin')",
                    "mysql.LONGTEXT()",
                    "mysql.DATETIME(fsp=6)",
                    "mysql.MEDIUMTEXT()",
                    "mysql.JSON()",
                    "mysql.ENUM('p', 'q')",
                ]
                .map(String::from),
            ),
            D::Sqlite => pool.extend(
                ["sa.String()", "postgresql.JSONB()", "postgresql.UUID()"].map(String::from),
            ),
        }
        pool.swap_remove(self.r.below(pool.len()))
    }

    fn default(&mut self) -> Option<String> {
        Some(
            match self.r.below(9) {
                0 => "'x'",
                1 => "\"it's\"",
                2 => "sa.text('0')",
                3 => "sa.text('now()')",
                4 => "sa.func.now()",
                5 => "sa.false()",
                6 => "sa.text(\"'{}'\")",
                7 => "sa.func.current_timestamp()",
                _ => return None,
            }
            .to_string(),
        )
    }

    /// `sa.Column(...)` with random flags; `index`/`unique`/`fk` say what is allowed.
    fn column(
        &mut self,
        name: &str,
        ty: &str,
        allow_unique: bool,
        allow_index: bool,
    ) -> (String, bool) {
        let mut kw = Vec::new();
        let mut indexed = false;
        let mut args = vec![py(name), ty.to_string()];
        if let Some(t) = self
            .tables
            .get(self.r.below(self.tables.len().max(1)))
            .filter(|_| self.r.chance(15))
        {
            if allow_unique || self.d != D::Sqlite {
                let target = match &t.schema {
                    Some(s) => format!("{s}.{}.id", t.name),
                    None => format!("{}.id", t.name),
                };
                let mut fk = vec![py(&target)];
                if self.r.chance(50) {
                    fk.push(format!(
                        "ondelete={}",
                        py(self.r.pick(&["CASCADE", "SET NULL", "cascade", "RESTRICT"]))
                    ));
                }
                if self.r.chance(30) {
                    fk.push(format!("name={}", py(&self.fresh("fk"))));
                }
                args.push(format!("sa.ForeignKey({})", fk.join(", ")));
            }
        }
        match self.r.below(4) {
            0 => kw.push("nullable=False".to_string()),
            1 => kw.push("nullable=True".to_string()),
            _ => {}
        }
        if self.r.chance(25) {
            if let Some(d) = self.default() {
                kw.push(format!("server_default={d}"));
            }
        }
        if self.r.chance(15) {
            kw.push(format!(
                "comment={}",
                py(self.r.pick(&["a comment", "it's", "Ünïcode"]))
            ));
        }
        if allow_index && self.r.chance(15) {
            kw.push("index=True".into());
            indexed = true;
            if self.r.chance(30) {
                kw.push("unique=True".into());
            }
        } else if allow_unique
            && self.r.chance(15)
            && !args.iter().any(|a| a.starts_with("sa.ForeignKey"))
        {
            kw.push("unique=True".into());
        }
        args.extend(kw);
        (format!("sa.Column({})", args.join(", ")), indexed)
    }

    fn create_table(&mut self) -> String {
        let base = self.r.pick(TABLES);
        let name = self.fresh(base);
        let schema = (self.d == D::Postgres && self.r.chance(20)).then(|| "app".to_string());
        let mut lines = vec![format!("op.create_table(\n    {},", py(&name))];
        let mut cols = Vec::new();
        let explicit_pk = self.r.chance(40);
        let id_ty = self
            .r
            .pick(&[
                "sa.Integer()",
                "sa.BigInteger()",
                "sa.Integer",
                "sa.SmallInteger()",
            ])
            .to_string();
        if explicit_pk {
            lines.push(format!("    sa.Column('id', {id_ty}, nullable=False),"));
        } else {
            let extra = match self.r.below(4) {
                0 => ", autoincrement=False",
                1 => ", autoincrement=True",
                _ => "",
            };
            lines.push(format!(
                "    sa.Column('id', {id_ty}, primary_key=True{extra}),"
            ));
        }
        cols.push(Col {
            name: "id".into(),
            ty: id_ty,
        });
        let mut indexed = false;
        for _ in 0..1 + self.r.below(5) {
            let cname = self.r.pick(COLUMNS).to_string();
            if cols.iter().any(|c| c.name == cname) {
                continue;
            }
            let ty = self.ty();
            let (col, ix) = self.column(&cname, &ty, true, !indexed);
            indexed |= ix;
            lines.push(format!("    {col},"));
            cols.push(Col { name: cname, ty });
        }
        if explicit_pk && !self.tables.is_empty() && self.r.chance(20) {
            // A key that is also a foreign key (joined-table inheritance).
            let parent = self.tables[self.r.below(self.tables.len())].clone();
            let target = match &parent.schema {
                Some(s) => format!("{s}.{}.id", parent.name),
                None => format!("{}.id", parent.name),
            };
            lines.push(format!(
                "    sa.ForeignKeyConstraint(['id'], [{}]),",
                py(&target)
            ));
        }
        if explicit_pk {
            let pk_name = if self.r.chance(50) {
                format!(", name={}", py(&self.fresh("pk")))
            } else {
                String::new()
            };
            lines.push(format!("    sa.PrimaryKeyConstraint('id'{pk_name}),"));
        }
        let mut constraints = Vec::new();
        if cols.len() > 2 && self.r.chance(30) {
            let uq = self.fresh("uq");
            let named = self.r.chance(60);
            lines.push(format!(
                "    sa.UniqueConstraint({}, {}{}),",
                py(&cols[1].name),
                py(&cols[2].name),
                if named {
                    format!(", name={}", py(&uq))
                } else {
                    String::new()
                }
            ));
            if named {
                constraints.push((uq, "unique"));
            }
        }
        if let Some(t) = self.tables.last().cloned().filter(|_| self.r.chance(30)) {
            if cols.len() > 1 {
                let fk = self.fresh("fk");
                let target = match &t.schema {
                    Some(s) => format!("{s}.{}.id", t.name),
                    None => format!("{}.id", t.name),
                };
                lines.push(format!(
                    "    sa.ForeignKeyConstraint([{}], [{}], name={}, onupdate='CASCADE'),",
                    py(&cols[1].name),
                    py(&target),
                    py(&fk)
                ));
                constraints.push((fk, "foreignkey"));
            }
        }
        if let Some(s) = &schema {
            lines.push(format!("    schema={},", py(s)));
        }
        if self.r.chance(15) {
            lines.push("    comment='the table',".into());
        }
        match self.d {
            D::Mysql if self.r.chance(40) => lines
                .push("    mysql_engine='InnoDB',\n    mysql_default_charset='utf8mb4',".into()),
            D::Sqlite if self.r.chance(20) && !explicit_pk && cols[0].ty.contains("Integer()") => {
                lines.push("    sqlite_autoincrement=True,".into())
            }
            _ => {}
        }
        lines.push(")".into());
        self.tables.push(Table {
            name,
            schema,
            cols,
            indexes: Vec::new(),
            constraints,
        });
        lines.join("\n")
    }

    fn some_table(&mut self) -> Option<usize> {
        (!self.tables.is_empty()).then(|| self.r.below(self.tables.len()))
    }

    fn op(&mut self) -> String {
        let Some(ti) = self.some_table().filter(|_| self.r.chance(80)) else {
            return self.create_table();
        };
        let t = self.tables[ti].clone();
        let sqlite = self.d == D::Sqlite;
        match self.r.below(15) {
            0 | 1 => {
                let base = self.r.pick(COLUMNS);
                let cname = self.fresh(base);
                let ty = self.ty();
                let (col, _) = self.column(&cname, &ty, !sqlite, true);
                self.tables[ti].cols.push(Col { name: cname, ty });
                let extra = if self.r.chance(10) && self.d != D::Mysql {
                    ", if_not_exists=True"
                } else {
                    ""
                };
                match &t.schema {
                    Some(s) => format!(
                        "op.add_column({}, {col}, schema={}{extra})",
                        py(&t.name),
                        py(s)
                    ),
                    None => format!("op.add_column({}, {col}{extra})", py(&t.name)),
                }
            }
            2 if t.cols.len() > 1 => {
                let c = self.tables[ti]
                    .cols
                    .remove(1 + self.r.below(t.cols.len() - 1));
                match &t.schema {
                    Some(s) => format!(
                        "op.drop_column({}, {}, schema={})",
                        py(&t.name),
                        py(&c.name),
                        py(s)
                    ),
                    None => format!("op.drop_column({}, {})", py(&t.name), py(&c.name)),
                }
            }
            3 | 4 => {
                let name = self.fresh("ix");
                let c = &t.cols[self.r.below(t.cols.len())];
                let mut args = vec![
                    if self.r.chance(50) {
                        format!("op.f({})", py(&name))
                    } else {
                        py(&name)
                    },
                    py(&t.name),
                ];
                let cols = if self.r.chance(20) {
                    format!("[sa.text('lower(x)'), {}]", py(&c.name))
                } else {
                    format!("[{}]", py(&c.name))
                };
                args.push(cols);
                if let Some(s) = &t.schema {
                    args.push(format!("schema={}", py(s)));
                }
                if self.r.chance(30) {
                    args.push("unique=True".into());
                }
                match self.d {
                    D::Postgres => {
                        if self.r.chance(20) {
                            args.push("postgresql_where=sa.text('deleted IS NULL')".into());
                        }
                        if self.r.chance(20) {
                            args.push(format!(
                                "postgresql_using={}",
                                py(self.r.pick(&["gin", "btree", "BRIN"]))
                            ));
                        }
                        if self.r.chance(15) {
                            args.push("postgresql_concurrently=True".into());
                        }
                        if self.r.chance(10) {
                            args.push("postgresql_include=['id']".into());
                        }
                    }
                    D::Mysql if self.r.chance(30) => args.push("mysql_length=10".into()),
                    D::Sqlite if self.r.chance(20) => {
                        args.push("sqlite_where=sa.text('x > 0')".into())
                    }
                    _ => {}
                }
                if self.r.chance(10) {
                    args.push("if_not_exists=True".into());
                }
                self.tables[ti].indexes.push(name);
                format!("op.create_index({})", args.join(", "))
            }
            5 if !t.indexes.is_empty() => {
                let name = self.tables[ti]
                    .indexes
                    .remove(self.r.below(t.indexes.len()));
                let mut args = vec![py(&name), format!("table_name={}", py(&t.name))];
                if let Some(s) = &t.schema {
                    args.push(format!("schema={}", py(s)));
                }
                if self.d == D::Postgres && self.r.chance(20) {
                    args.push("postgresql_concurrently=True".into());
                }
                if self.d != D::Mysql && self.r.chance(15) {
                    args.push("if_exists=True".into());
                }
                format!("op.drop_index({})", args.join(", "))
            }
            6 | 7 if t.cols.len() > 1 => {
                let ci = 1 + self.r.below(t.cols.len() - 1);
                let c = t.cols[ci].clone();
                let mut args = vec![py(&t.name), py(&c.name)];
                let mut changed = false;
                if self.r.chance(40) {
                    args.push(format!(
                        "nullable={}",
                        if self.r.chance(50) { "True" } else { "False" }
                    ));
                    changed = true;
                }
                let mut new_ty = None;
                if self.r.chance(30) {
                    let ty = self.ty();
                    args.push(format!("type_={ty}"));
                    if self.d == D::Postgres && self.r.chance(40) {
                        args.push(format!(
                            "postgresql_using={}",
                            py(&format!(
                                "{}::text",
                                c.name.to_lowercase().replace(' ', "_")
                            ))
                        ));
                    }
                    new_ty = Some(ty);
                    changed = true;
                }
                if self.r.chance(25) {
                    match self.default() {
                        Some(d) => args.push(format!("server_default={d}")),
                        None => args.push("server_default=None".into()),
                    }
                    changed = true;
                }
                if !sqlite && self.r.chance(20) {
                    args.push(format!(
                        "comment={}",
                        if self.r.chance(70) {
                            "'new comment'"
                        } else {
                            "None"
                        }
                    ));
                    changed = true;
                }
                if self.r.chance(15) || !changed {
                    let new = self.fresh("renamed");
                    args.push(format!("new_column_name={}", py(&new)));
                    self.tables[ti].cols[ci].name = new;
                }
                if self.d == D::Mysql || self.r.chance(50) {
                    args.push(format!("existing_type={}", c.ty));
                }
                if self.r.chance(40) {
                    args.push(format!(
                        "existing_nullable={}",
                        if self.r.chance(50) { "True" } else { "False" }
                    ));
                }
                if self.r.chance(20) {
                    args.push("existing_server_default=sa.text('1')".into());
                }
                if self.r.chance(15) {
                    args.push("existing_comment='old'".into());
                }
                if let Some(s) = &t.schema {
                    args.push(format!("schema={}", py(s)));
                }
                if let Some(ty) = new_ty {
                    self.tables[ti].cols[ci].ty = ty;
                }
                format!("op.alter_column({})", args.join(", "))
            }
            8 if !sqlite && self.tables.len() > 1 && t.cols.len() > 1 => {
                let other = self.tables[self.r.below(self.tables.len())].clone();
                let name = self.fresh("fk");
                let c = &t.cols[1 + self.r.below(t.cols.len() - 1)];
                let mut args = vec![
                    match self.r.below(3) {
                        0 => "None".to_string(),
                        1 => format!("op.f({})", py(&name)),
                        _ => py(&name),
                    },
                    py(&t.name),
                    py(&other.name),
                    format!("[{}]", py(&c.name)),
                    "['id']".into(),
                ];
                if self.r.chance(40) {
                    args.push(format!(
                        "ondelete={}",
                        py(self.r.pick(&["CASCADE", "SET NULL", "NO ACTION"]))
                    ));
                }
                if self.r.chance(20) {
                    args.push("onupdate='CASCADE'".into());
                }
                if self.d == D::Postgres && self.r.chance(15) {
                    args.push("deferrable=True, initially='DEFERRED'".into());
                }
                if let Some(s) = &t.schema {
                    args.push(format!("source_schema={}", py(s)));
                }
                if let Some(s) = &other.schema {
                    args.push(format!("referent_schema={}", py(s)));
                }
                if !args[0].starts_with("None") {
                    self.tables[ti].constraints.push((name, "foreignkey"));
                }
                format!("op.create_foreign_key({})", args.join(", "))
            }
            9 if !sqlite && t.cols.len() > 1 => {
                let name = self.fresh("uq");
                let c = &t.cols[1 + self.r.below(t.cols.len() - 1)];
                let named = self.r.chance(70);
                let mut args = vec![
                    if named { py(&name) } else { "None".into() },
                    py(&t.name),
                    format!("[{}]", py(&c.name)),
                ];
                if let Some(s) = &t.schema {
                    args.push(format!("schema={}", py(s)));
                }
                if self.d == D::Postgres && self.r.chance(15) {
                    args.push("postgresql_nulls_not_distinct=True".into());
                }
                if named {
                    self.tables[ti].constraints.push((name, "unique"));
                }
                format!("op.create_unique_constraint({})", args.join(", "))
            }
            // Not a check constraint on MySQL, where `migrate` refuses its drop on purpose (MySQL
            // and MariaDB need different statements, and Alembic renders MySQL's).
            10 if !sqlite
                && t.constraints
                    .iter()
                    .any(|c| self.d != D::Mysql || c.1 != "check") =>
            {
                let candidates: Vec<usize> = (0..t.constraints.len())
                    .filter(|&i| self.d != D::Mysql || t.constraints[i].1 != "check")
                    .collect();
                let (name, kind) = self.tables[ti]
                    .constraints
                    .remove(candidates[self.r.below(candidates.len())]);
                let mut args = vec![py(&name), py(&t.name)];
                if self.d == D::Mysql || self.r.chance(70) {
                    args.push(format!("type_={}", py(kind)));
                }
                if let Some(s) = &t.schema {
                    args.push(format!("schema={}", py(s)));
                }
                if self.d == D::Postgres && self.r.chance(15) {
                    args.push("if_exists=True".into());
                }
                format!("op.drop_constraint({})", args.join(", "))
            }
            11 if self.tables.len() > 2 => {
                let t = self.tables.remove(ti);
                let extra = if self.r.chance(15) {
                    ", if_exists=True"
                } else {
                    ""
                };
                match &t.schema {
                    Some(s) => format!("op.drop_table({}, schema={}{extra})", py(&t.name), py(s)),
                    None => format!("op.drop_table({}{extra})", py(&t.name)),
                }
            }
            12 => {
                let base = self.r.pick(TABLES);
                let new = self.fresh(base);
                self.tables[ti].name = new.clone();
                match &t.schema {
                    Some(s) => format!(
                        "op.rename_table({}, {}, schema={})",
                        py(&t.name),
                        py(&new),
                        py(s)
                    ),
                    None => format!("op.rename_table({}, {})", py(&t.name), py(&new)),
                }
            }
            13 if !sqlite => {
                let name = self.fresh("ck");
                let condition = match self.r.below(3) {
                    0 => "'id > 0'".to_string(),
                    1 => "sa.text('id >= 0')".to_string(),
                    _ => py("id <> 7 AND id < 1000000"),
                };
                let mut args = vec![py(&name), py(&t.name), condition];
                if let Some(s) = &t.schema {
                    args.push(format!("schema={}", py(s)));
                }
                self.tables[ti].constraints.push((name, "check"));
                format!("op.create_check_constraint({})", args.join(", "))
            }
            14 => self.batch(ti),
            _ => self.create_table(),
        }
    }

    /// `with op.batch_alter_table(...) as batch_op:` and one to three operations in it: on
    /// SQLite only those Alembic runs without recreating the table (a column without a SQL
    /// expression default, indexes), elsewhere also column, unique and check changes.
    fn batch(&mut self, ti: usize) -> String {
        let sqlite = self.d == D::Sqlite;
        let t = self.tables[ti].clone();
        let mut lines = vec![match &t.schema {
            Some(s) => format!(
                "with op.batch_alter_table({}, schema={}) as batch_op:",
                py(&t.name),
                py(s)
            ),
            None if self.r.chance(30) => format!(
                "with op.batch_alter_table({}, schema=None) as batch_op:",
                py(&t.name)
            ),
            None => format!("with op.batch_alter_table({}) as batch_op:", py(&t.name)),
        }];
        for _ in 0..1 + self.r.below(3) {
            let cols = self.tables[ti].cols.clone();
            let mut kind = self.r.below(if sqlite { 3 } else { 7 });
            if kind == 2 && self.tables[ti].indexes.is_empty() {
                kind = 1;
            }
            let line = match kind {
                0 => {
                    let base = self.r.pick(COLUMNS);
                    let cname = self.fresh(base);
                    let ty = self.ty();
                    let mut col = self.column(&cname, &ty, !sqlite, false).0;
                    if sqlite
                        && ["sa.text", "sa.func", "sa.false", "ForeignKey"]
                            .iter()
                            .any(|e| col.contains(e))
                    {
                        col = format!("sa.Column({}, {ty}, nullable=True)", py(&cname));
                    }
                    self.tables[ti].cols.push(Col { name: cname, ty });
                    format!("batch_op.add_column({col})")
                }
                1 => {
                    let name = self.fresh("ix");
                    let c = &cols[self.r.below(cols.len())];
                    let unique = if self.r.chance(30) {
                        ", unique=True"
                    } else {
                        ""
                    };
                    let shown = if self.r.chance(50) {
                        format!("batch_op.f({})", py(&name))
                    } else {
                        py(&name)
                    };
                    self.tables[ti].indexes.push(name);
                    format!("batch_op.create_index({shown}, [{}]{unique})", py(&c.name))
                }
                2 => {
                    let n = self.tables[ti].indexes.len();
                    let name = self.tables[ti].indexes.remove(self.r.below(n));
                    format!("batch_op.drop_index({})", py(&name))
                }
                3 if cols.len() > 1 => {
                    let c = self.tables[ti]
                        .cols
                        .remove(1 + self.r.below(cols.len() - 1));
                    format!("batch_op.drop_column({})", py(&c.name))
                }
                4 if cols.len() > 1 => {
                    let c = &cols[1 + self.r.below(cols.len() - 1)];
                    let nullable = if self.r.chance(50) { "True" } else { "False" };
                    format!(
                        "batch_op.alter_column({}, existing_type={}, nullable={nullable})",
                        py(&c.name),
                        c.ty
                    )
                }
                5 if cols.len() > 1 => {
                    let name = self.fresh("uq");
                    let c = &cols[1 + self.r.below(cols.len() - 1)];
                    self.tables[ti].constraints.push((name.clone(), "unique"));
                    format!(
                        "batch_op.create_unique_constraint({}, [{}])",
                        py(&name),
                        py(&c.name)
                    )
                }
                _ => {
                    let name = self.fresh("ck");
                    self.tables[ti].constraints.push((name.clone(), "check"));
                    format!("batch_op.create_check_constraint({}, 'id > 0')", py(&name))
                }
            };
            lines.push(format!("    {line}"));
        }
        lines.join("\n")
    }
}

const ENV_PY: &str = r#"
from alembic import context
URL = context.get_x_argument(as_dictionary=True)["url"]
context.configure(url=URL, literal_binds=True)
with context.begin_transaction():
    context.run_migrations()
"#;

const INI: &str = "[alembic]\nscript_location = %(here)s\npath_separator = os\n";

/// The history for `d`: revision files `g001.py`, ...
fn history(d: D, seed: u64, revisions: usize) -> Vec<(String, String)> {
    let mut g = Gen {
        r: Rng(seed),
        d,
        tables: Vec::new(),
        serial: 0,
    };
    (1..=revisions)
        .map(|n| {
            let id = format!("g{n:03}");
            let down = if n == 1 { "None".to_string() } else { format!("'g{:03}'", n - 1) };
            let mut body = String::new();
            for _ in 0..1 + g.r.below(3) {
                for line in g.op().lines() {
                    writeln!(body, "    {line}").unwrap();
                }
            }
            let text = format!(
                "\"\"\"generated {n}\n\nRevision ID: {id}\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy.dialects import mysql, postgresql\n\nrevision = '{id}'\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{body}\n\ndef downgrade():\n    pass\n"
            );
            (format!("versions/{id}.py"), text)
        })
        .collect()
}

/// The sections of an offline script, each `(header, statements)`, without `BEGIN`/`COMMIT`
/// (Alembic runs SQLite without a transaction in offline mode, `migrate` within one).
fn sections(script: &str) -> Vec<(String, Vec<String>)> {
    let mut out = vec![(String::from("(before)"), Vec::new())];
    for chunk in script.split(";\n\n") {
        let mut chunk = chunk;
        while let Some(rest) = chunk.strip_prefix("-- Running ") {
            let (header, tail) = rest.split_once("\n\n").unwrap_or((rest, ""));
            out.push((header.to_string(), Vec::new()));
            chunk = tail;
        }
        let stmt = chunk.trim();
        if stmt.is_empty() || stmt == "BEGIN" || stmt == "COMMIT" {
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.1.push(stmt.to_string());
        }
    }
    out
}

/// How many histories each test renders: 1, or `OPS_GENERATED_ROUNDS` for a deeper search.
fn rounds() -> u64 {
    std::env::var("OPS_GENERATED_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn compare(d: D, url: &str, seed: u64) {
    for round in 0..rounds() {
        compare_one(
            d,
            url,
            seed.wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        );
    }
}

fn compare_one(d: D, url: &str, seed: u64) {
    let Some(alembic) = alembic() else {
        assert!(!require_all(), "real Alembic is required under MIGRATE_TEST_REQUIRE_ALL=1 (bash ../shared/alembic-oracle/setup.sh)");
        return;
    };
    let project = Project::empty();
    project
        .write("alembic.ini", INI)
        .write("env.py", ENV_PY)
        .write("script.py.mako", "")
        .write("migrate.toml", "script_location = \".\"\n");
    let files = history(d, seed, 80);
    for (path, text) in &files {
        project.write(path, text);
    }
    let theirs = alembic_stdouts(
        &alembic,
        project.path(),
        "alembic.ini",
        url,
        &[&["upgrade", "base:head", "--sql"]],
    )
    .pop()
    .unwrap_or_default();
    let ours = project.migrate(&["--url", url, "upgrade", "base:head", "--sql"]);
    let ours = ours.ok();
    let (a, b) = (sections(&theirs), sections(ours));
    let mut diffs = Vec::new();
    for ((ha, sa), (hb, sb)) in a.iter().zip(&b) {
        if ha != hb || sa != sb {
            let file = hb.rsplit(' ').next().unwrap_or("");
            let source = files
                .iter()
                .find(|(p, _)| p.contains(file))
                .map(|(_, t)| {
                    t.split("def upgrade():\n")
                        .nth(1)
                        .unwrap_or("")
                        .split("\n\ndef downgrade")
                        .next()
                        .unwrap_or("")
                })
                .unwrap_or("");
            diffs.push(format!(
                "{ha} / {hb}\n{source}\n  Alembic: {sa:#?}\n  migrate: {sb:#?}"
            ));
        }
    }
    assert_eq!(
        a.len(),
        b.len(),
        "the scripts have different numbers of migrations"
    );
    assert!(
        diffs.is_empty(),
        "{} of {} migrations differ:\n{}",
        diffs.len(),
        a.len(),
        diffs.join("\n\n")
    );
}

#[test]
fn generated_histories_render_on_sqlite_as_alembic_prints_them() {
    compare(D::Sqlite, "sqlite://", 0x5eed_0001);
}

#[test]
fn generated_histories_render_on_postgresql_as_alembic_prints_them() {
    compare(
        D::Postgres,
        "postgresql://postgres@127.0.0.1:5432/test",
        0x5eed_0002,
    );
}

#[test]
fn generated_histories_render_on_mysql_as_alembic_prints_them() {
    compare(D::Mysql, "mysql://root@127.0.0.1:3306/test", 0x5eed_0003);
}
