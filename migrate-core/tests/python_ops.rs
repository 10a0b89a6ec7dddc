//! Alembic operations read from `upgrade()` bodies into the operation model: each supported
//! `op.*` call becomes a block holding its [`Operation`] (line, transaction flag as for SQL
//! text), and whatever the model does not hold is refused by line, column and construct.

mod python_common;

use migrate_core::ops::{
    Autoincrement, IndexExpr, Operation, ServerDefault, TableElement, TypeClass,
};
use migrate_core::{Migration, SqlBlock, Unrunnable};
use python_common::parse_text;

const PRELUDE: &str = "from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from myapp.types import GUID
revision = \"r1\"
def upgrade():
";

fn upgrade(body: &str) -> Migration {
    let text = format!("{PRELUDE}{body}\n");
    parse_text("ops.py", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .upgrade
}

fn blocks(body: &str) -> Vec<SqlBlock> {
    match upgrade(body) {
        Migration::Sql(b) => b,
        other => panic!("expected blocks, got {other:?}"),
    }
}

fn refused(body: &str) -> (usize, usize, String) {
    match upgrade(body) {
        Migration::Unrunnable(Unrunnable {
            line,
            column,
            construct,
        }) => (line, column, construct),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn operations_become_blocks_in_order_with_their_lines() {
    let b = blocks(
        "    op.execute('SELECT 1')\n    op.create_table(\n        'account',\n        sa.Column('id', sa.Integer, primary_key=True),\n        sa.Column('name', sa.String(50), nullable=False, server_default=sa.text(\"'x'\")),\n    )\n    op.drop_table('old')",
    );
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].sql, "SELECT 1");
    assert!(b[0].operation.is_none());
    assert_eq!(b[1].line, 8);
    assert_eq!(b[2].line, 13);
    let Some(Operation::CreateTable(t)) = b[1].operation.as_deref() else {
        panic!("{:?}", b[1]);
    };
    assert_eq!(t.table.name, "account");
    let TableElement::Column(id) = &t.elements[0] else {
        panic!()
    };
    assert!(id.primary_key);
    assert_eq!(id.autoincrement, Autoincrement::Auto);
    assert_eq!(id.type_.as_ref().map(|t| t.class), Some(TypeClass::Integer));
    let TableElement::Column(name) = &t.elements[1] else {
        panic!()
    };
    assert_eq!(name.nullable, Some(false));
    assert_eq!(name.type_.as_ref().and_then(|t| t.length), Some(50));
    assert_eq!(name.server_default, Some(ServerDefault::Text("'x'".into())));
    assert!(matches!(
        b[2].operation.as_deref(),
        Some(Operation::DropTable(_))
    ));
}

#[test]
fn operations_in_an_autocommit_block_run_outside_the_transaction() {
    let b = blocks(
        "    with op.get_context().autocommit_block():\n        op.create_index('ix', 't', ['a'], postgresql_concurrently=True)\n    op.drop_index('ix2')",
    );
    assert!(!b[0].transactional);
    assert!(b[1].transactional);
    let Some(Operation::CreateIndex(ix)) = b[0].operation.as_deref() else {
        panic!()
    };
    assert_eq!(ix.expressions, vec![IndexExpr::Column("a".into())]);
    assert_eq!(
        ix.options.get("postgresql", "concurrently"),
        Some(&migrate_core::ops::Arg::Bool(true))
    );
}

#[test]
fn arguments_come_from_constants_loops_and_op_f() {
    let b = blocks(
        "    for name in ['a', 'b']:\n        op.add_column(f'tbl_{name}', sa.Column(name + '_id', postgresql.UUID(as_uuid=True), index=True))\n    op.create_index(op.f('ix_t_x'), 't', ['x'])",
    );
    assert_eq!(b.len(), 3);
    let Some(Operation::AddColumn(a)) = b[1].operation.as_deref() else {
        panic!()
    };
    assert_eq!(a.table.name, "tbl_b");
    assert_eq!(a.column.name, "b_id");
    assert_eq!(
        a.column.type_.as_ref().map(|t| t.class),
        Some(TypeClass::UuidUpper)
    );
    let Some(Operation::CreateIndex(ix)) = b[2].operation.as_deref() else {
        panic!()
    };
    assert_eq!(ix.name, "ix_t_x");
}

#[test]
fn what_the_model_does_not_hold_is_refused_by_name() {
    // An application type.
    assert_eq!(
        refused("    op.add_column('t', sa.Column('id', GUID()))"),
        (7, 40, "GUID(...)".into())
    );
    // A keyword argument SQLAlchemy does not know (or migrate does not render).
    assert_eq!(
        refused("    op.add_column('t', sa.Column('x', sa.Integer, colour='red'))"),
        (
            7,
            24,
            "Column('x', ...) with the keyword argument 'colour'".into()
        )
    );
    assert_eq!(
        refused("    op.create_index('ix', 't', ['a'], postgresql_colour='red')"),
        (
            7,
            5,
            "op.create_index(...) with postgresql_colour= (not an argument SQLAlchemy knows there, or not rendered by migrate yet)".into()
        )
    );
    // SQLAlchemy itself refuses an index without a name.
    assert_eq!(
        refused("    op.create_index(None, 't', ['a'])"),
        (
            7,
            5,
            "op.create_index(...) without a name (SQLAlchemy: CREATE INDEX requires that the index have a name)".into()
        )
    );
    // A SQL expression other than text() as a default.
    assert_eq!(
        refused("    op.add_column('t', sa.Column('x', sa.Integer, server_default=sa.literal(1)))"),
        (7, 66, "sa.literal(...)".into())
    );
    // Operations of the next issue.
    assert_eq!(
        refused("    op.create_primary_key('pk', 't', ['id'])"),
        (7, 5, "op.create_primary_key(...)".into())
    );
    // A constraint type Alembic does not know.
    assert_eq!(
        refused("    op.drop_constraint('x', 't', type_='exclude')"),
        (
            7,
            5,
            "op.drop_constraint(...) with type_='exclude' (Alembic raises TypeError)".into()
        )
    );
}

#[test]
fn a_columns_keywords_are_refused_in_the_order_they_are_read() {
    // Read in SQLAlchemy's parameter order (type_, nullable, primary_key, ..., dialect
    // keywords), then what is left is refused by the first one written. The messages are
    // those `migrate check` printed for the same columns before `sa.Column`'s keywords were
    // matched in one pass (2026-12-02, main 7680507).
    let column = |kw: &str| {
        refused(&format!(
            "    op.add_column('t', sa.Column('x', sa.Integer, {kw}))"
        ))
        .2
    };
    let unrendered = |k: &str| format!("Column('x', ...) with {k}= (not rendered by migrate yet)");
    assert_eq!(
        column("sort_order=1, quote=True, info={}"),
        unrendered("sort_order")
    );
    assert_eq!(column("quote=True, sort_order=1"), unrendered("quote"));
    // `insert_default=` is read only without `default=`.
    assert_eq!(
        column("default=1, insert_default=2, system=True"),
        unrendered("insert_default")
    );
    assert_eq!(column("insert_default=2, quote=True"), unrendered("quote"));
    assert_eq!(
        column("default=None, insert_default=None, onupdate=1, sort_order=2"),
        unrendered("sort_order")
    );
    // A wrong value is refused before what is left, in parameter order.
    assert_eq!(
        column("system=True, unique='yes'"),
        "Column('x', ...) with unique= a str (expected True, False or None)"
    );
    assert_eq!(
        column("comment=5, primary_key='no'"),
        "Column('x', ...) with primary_key= a str (expected True, False or None)"
    );
    assert_eq!(
        column("postgresql_foo=1, nullable=3"),
        "Column('x', ...) with nullable= a int"
    );
    assert_eq!(
        column("postgresql_foo=1, doc='d'"),
        "Column('x', ...) with postgresql_foo= (not an argument SQLAlchemy knows there, or not rendered by migrate yet)"
    );
    assert_eq!(
        column("key='y'"),
        "Column('x', ...) with a key= other than its name"
    );
}
