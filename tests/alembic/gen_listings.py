#!/usr/bin/env python3
"""Ask real Alembic 1.20.1 what it prints for the projects the end-to-end tests run.

Run with the venv the tests use (`$VENV`, default /opt/alembic-venv):

    PYTHONHASHSEED=0 /opt/alembic-venv/bin/python gen_listings.py > listings.txt

For each project below it builds a scratch Alembic project (alembic.ini with
`script_location = migrations`, an env.py taking the URL from `-x url=...`, Alembic's own
script.py.mako), runs command sessions through `alembic.config.main` against one SQLite
database per session, and writes, per command, what it printed on stdout, the `FAILED:`
message when it failed, and the version table's rows after commands that change it:

    ### PROJECT session N
    === PROJECT | COMMAND
    <stdout, verbatim>
    --- log: Running upgrade A -> B, MESSAGE   (Alembic's log line for each migration run)
    --- failed: MESSAGE              (when the command failed)
    --- rows ID ID                   (after upgrade, downgrade, stamp: sorted, or `(no table)`)

The projects:

- `example`: the repository's own `migrations/versions/*.sql`, as `.py` files with the same
  ids, parents and header text as their docstrings (Alembic cannot read `.sql` files; only
  the `Path:` lines, which name the files, differ from what `migrate` prints);
- `alembic_project`: `tests/fixtures/alembic_project/versions`;
- `seed`: `tests/fixtures/seed_project/infrastructure/migrations/versions`;
- `ambiguous`: `tests/fixtures/ambiguous/versions` (two roots sharing the prefix `abcd`).

The scratch folder's path is written as `{dir}`. `current` and `branches` print in Python's
set order, which here follows object addresses and changes from run to run: their lines (a
branch point's children, for `branches`) are written sorted, and the tests compare them in any
order. (No session runs `current -v` with several heads, whose blocks come in set order too.)
"""
import contextlib
import io
import logging
import os
import re
import shlex
import shutil
import sqlite3
import sys
import tempfile

import alembic
from alembic.config import CommandLine, Config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

ENV_PY = '''from alembic import context
from sqlalchemy import create_engine, pool

URL = context.get_x_argument(as_dictionary=True)["url"]
with create_engine(URL, poolclass=pool.NullPool).connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
'''

INI = """[alembic]
script_location = migrations
path_separator = os
"""

# (project, command sessions); each session runs on a fresh database, in order.
SESSIONS = {
    "example": [
        [
            "heads",
            "branches",
            "history",
            "history -v",
            "show 8c2b",
            "show head",
            "show 19",
            "history -r 1975:",
            "current",
            "upgrade head",
            "current",
            "current -v",
            "history -r current:",
            "history -i",
            "upgrade head",
            "downgrade -1",
            "current",
            "downgrade base",
            "current",
            "stamp head",
            "current",
            "stamp --purge 1975ea83b712",
            "current",
            "stamp base",
            "upgrade head",
        ],
        [
            "revision -m 'add plans' --rev-id aaaaaaaaaaa1",
            "revision -m 'add billing' --rev-id bbbbbbbbbbb2 --head 8c2b4e6f1a90 --splice",
            "heads",
            "branches",
            "history",
            "upgrade head",
            "upgrade heads",
            "current",
            "merge heads -m 'merge plans and billing' --rev-id ccccccccccc3",
            "heads",
            "history",
            "upgrade head",
            "current",
            "downgrade 8c2b4e6f1a90",
            "current",
        ],
        ["upgrade abcdef123456", "show abcdef123456"],
    ],
    "alembic_project": [
        [
            "heads",
            "branches",
            "history",
            "upgrade head",
            "upgrade heads",
            "current",
            "history -r current:",
            "downgrade 3f2a1b0c9d8e",
            "current",
            "downgrade base",
            "upgrade reporting@head",
            "current",
            "downgrade -1",
        ],
    ],
    "seed": [["heads", "history"]],
    "ambiguous": [["upgrade abcd", "show abcd", "upgrade head", "upgrade heads"]],
}

VERSIONS = {
    "alembic_project": os.path.join(ROOT, "tests/fixtures/alembic_project/versions"),
    "seed": os.path.join(ROOT, "tests/fixtures/seed_project/infrastructure/migrations/versions"),
    "ambiguous": os.path.join(ROOT, "tests/fixtures/ambiguous/versions"),
}


def sql_header(path):
    """The leading `--` lines of a native revision, without their `-- ` prefix."""
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("--"):
                break
            lines.append(line[3:].rstrip("\n") if line.startswith("-- ") else line[2:].rstrip("\n"))
    return lines


def field(header, name):
    for line in header:
        if line.startswith(name + ":"):
            value = line[len(name) + 1:].strip()
            return [v.strip() for v in value.split(",") if v.strip() and v.strip() != "None"]
    return []


def python_copy(sql_path):
    """An Alembic file with the ids, parents and header text of the native revision."""
    header = sql_header(sql_path)
    rev = field(header, "Revision ID")[0]
    down = field(header, "Revises")
    labels = field(header, "Branch Labels")
    deps = field(header, "Depends On")
    tup = lambda xs: None if not xs else (xs[0] if len(xs) == 1 else tuple(xs))  # noqa: E731
    doc = "\n".join(header) + "\n"
    return (
        f'"""{doc}"""\n'
        f"revision = {rev!r}\n"
        f"down_revision = {tup(down)!r}\n"
        f"branch_labels = {tup(labels)!r}\n"
        f"depends_on = {tup(deps)!r}\n\n\n"
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    )


def build(project, scratch):
    versions = os.path.join(scratch, "migrations", "versions")
    if project == "example":
        os.makedirs(versions)
        folder = os.path.join(ROOT, "migrations", "versions")
        for name in sorted(os.listdir(folder)):
            if name.endswith(".sql"):
                with open(os.path.join(versions, name[:-4] + ".py"), "w", encoding="utf-8") as f:
                    f.write(python_copy(os.path.join(folder, name)))
    else:
        shutil.copytree(VERSIONS[project], versions, ignore=shutil.ignore_patterns("__pycache__"))
    template = os.path.join(os.path.dirname(alembic.__file__), "templates", "generic")
    shutil.copy(os.path.join(template, "script.py.mako"), os.path.join(scratch, "migrations"))
    with open(os.path.join(scratch, "migrations", "env.py"), "w") as f:
        f.write(ENV_PY)
    with open(os.path.join(scratch, "alembic.ini"), "w") as f:
        f.write(INI)


def rows(db):
    if not os.path.exists(db):
        return None
    con = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in con.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


def run(scratch, db, command):
    argv = ["-c", "alembic.ini", "-x", "url=sqlite:///" + db]
    argv += shlex.split(command)
    out, err = io.StringIO(), io.StringIO()
    failed = None
    # Alembic's "Running upgrade a -> b, message" lines (INFO on alembic.runtime.migration).
    log = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: log.append(record.getMessage())
    logger = logging.getLogger("alembic.runtime.migration")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    cwd = os.getcwd()
    os.chdir(scratch)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            # As `alembic.config.main` does, but with the Config printing into `out` (its
            # default stdout is the one Python had when alembic was imported).
            cli = CommandLine(prog="alembic")
            options = cli.parser.parse_args(argv)
            toml, ini = cli._inis_from_config(options)
            config = Config(file_=ini, toml_file=toml, ini_section=options.name,
                            cmd_opts=options, stdout=out)
            try:
                cli.run_cmd(config, options)
            except SystemExit as e:
                failed = e.code
    finally:
        os.chdir(cwd)
        logger.removeHandler(handler)
    stdout = out.getvalue()
    message = None
    if failed:
        # Alembic prints `FAILED: <message>` last on stdout and exits.
        lines = stdout.splitlines(keepends=True)
        assert lines and lines[-1].startswith("FAILED: "), (command, stdout, err.getvalue())
        message = lines[-1][len("FAILED: "):].rstrip("\n")
        stdout = "".join(lines[:-1])
    return stdout, message, [line for line in log if line.startswith("Running ")]


def stable(command, stdout):
    """`stdout` with the lines Alembic prints in set order sorted."""
    lines = stdout.splitlines(keepends=True)
    if command == "current":
        return "".join(sorted(lines))
    if command == "branches":
        out, children = [], []
        for line in lines + [""]:
            if line.lstrip().startswith("-> "):
                children.append(line)
                continue
            out.extend(sorted(children))
            children = []
            out.append(line)
        return "".join(out)
    return stdout


def main():
    for project, sessions in SESSIONS.items():
        for number, session in enumerate(sessions, 1):
            print(f"### {project} session {number}")
            with tempfile.TemporaryDirectory() as scratch:
                scratch = os.path.realpath(scratch)
                build(project, scratch)
                db = os.path.join(scratch, "test.db")
                for command in session:
                    stdout, failed, log = run(scratch, db, command)
                    stdout = stable(command, stdout.replace(scratch, "{dir}"))
                    assert stdout == "" or stdout.endswith("\n"), (command, stdout)
                    assert not re.search(r"^(===|---)", stdout, re.M), (command, stdout)
                    print(f"=== {project} | {command}")
                    sys.stdout.write(stdout)
                    for line in log:
                        print(f"--- log: {line}")
                    if failed is not None:
                        print(f"--- failed: {failed}")
                    verb = shlex.split(command)[0]
                    if verb in ("upgrade", "downgrade", "stamp"):
                        found = rows(db)
                        if found is None:
                            print("--- rows (no table)")
                        else:
                            print("--- rows" + "".join(" " + r for r in found))


if __name__ == "__main__":
    main()
