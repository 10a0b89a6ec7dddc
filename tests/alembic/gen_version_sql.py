#!/usr/bin/env python3
"""Ask real Alembic 1.20.1 for the version-table statements of each dialect.

Run with the venv the tests use (`$VENV`, default /opt/alembic-venv):

    PYTHONHASHSEED=0 /opt/alembic-venv/bin/python gen_version_sql.py > version_sql.txt

For every dialect and version-table name and schema below, an offline (`as_sql`)
MigrationContext, configured as an env.py's `context.configure(url=URL, literal_binds=True)`
configures it, writes through Alembic's own code the statements `upgrade --sql`,
`downgrade --sql` and `stamp --purge` use: the table's CREATE (as `run_migrations` does
before the first step), the INSERT, UPDATE and DELETE of `HeadMaintainer`, and the DELETE of
every row (`_ensure_version_table(purge=True)`). Each is written as Alembic prints it:

    === DIALECT | TABLE | SCHEMA (or -) | WHAT
    <the statement, with its `;`>
"""
import io

from alembic.runtime.migration import HeadMaintainer, MigrationContext

# dialect -> the URL an offline env.py is given (with the drivers the venv has)
DIALECTS = {
    "sqlite": "sqlite:///offline.db",
    "postgresql": "postgresql+psycopg2://app@db.example/app",
    "mysql": "mysql+pymysql://app@db.example/app",
}

TABLES = [
    ("alembic_version", None),
    ("tenant_versions", None),
    ("Version Table", None),
    ("order", None),
    ("alembic_version", "app"),
    ("alembic_version", "Tenant"),
]


def statements(dialect, table, schema):
    out = io.StringIO()
    ctx = MigrationContext.configure(
        url=DIALECTS[dialect],
        opts={
            "as_sql": True,
            "literal_binds": True,
            "output_buffer": out,
            "version_table": table,
            "version_table_schema": schema,
        },
    )
    found = []

    def take(what):
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        # Alembic ends each statement with ";" and a blank line.
        assert text.endswith(";\n\n"), (what, text)
        found.append((what, text[:-1]))

    ctx._version.create(ctx.connection)
    take("create")
    heads = HeadMaintainer(ctx, ())
    heads._insert_version("a1a1a1a1a1a1")
    take("insert a1a1a1a1a1a1")
    heads._update_version("a1a1a1a1a1a1", "b2b2b2b2b2b2")
    take("update a1a1a1a1a1a1 b2b2b2b2b2b2")
    heads._delete_version("b2b2b2b2b2b2")
    take("delete b2b2b2b2b2b2")
    ctx.impl._exec(ctx._version.delete())
    take("purge")
    return found


def main():
    for dialect in DIALECTS:
        for table, schema in TABLES:
            for what, sql in statements(dialect, table, schema):
                print(f"=== {dialect} | {table} | {schema or '-'} | {what}")
                print(sql, end="")


if __name__ == "__main__":
    main()
