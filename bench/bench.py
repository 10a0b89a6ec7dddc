#!/usr/bin/env python3
"""Whole-process benchmarks of `migrate`, Alembic and the native clients (the floor).

Standard library only. See bench/README.md for what is measured and how to run it; `run.sh` is
the entry point. Results are written as JSON lines (one line per timed process) and summarised
as Markdown by `report.py`.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ALEMBIC = Path(os.environ.get("ALEMBIC", "/opt/alembic-venv/bin/alembic"))
ALEMBIC_SETUP = Path("/work/shared/alembic-oracle/setup.sh")
GENERATOR_VERSION = "3"  # bump when the generated projects change, to regenerate cached ones
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
MY_HOST, MY_PORT, MY_USER = "127.0.0.1", 3306, "root"
DB_NAME = "bench_run"
PROCESS_TIMEOUT = 900.0

# --------------------------------------------------------------------------------------------
# The revision graph: a linear chain, or diamonds (a branch point, two branches of four
# revisions, a merge) one after another. Every revision creates one table with a primary key and
# inserts two rows; downgrading drops it.
# --------------------------------------------------------------------------------------------


@dataclass
class Rev:
    index: int
    id: str
    downs: list[str]
    table: str

    @property
    def upgrade_sql(self) -> list[str]:
        t = self.table
        return [
            f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)",
            f"INSERT INTO {t} (id, name) VALUES (1, 'one')",
            f"INSERT INTO {t} (id, name) VALUES (2, 'two')",
        ]

    @property
    def downgrade_sql(self) -> list[str]:
        return [f"DROP TABLE {self.table}"]


def last_table(shape: str, n: int) -> str:
    return make_revs(shape, n)[-1].table


@functools.lru_cache(maxsize=None)
def make_revs(shape: str, n: int) -> list[Rev]:
    """Revisions in an order that upgrades in (parents first)."""
    revs: list[Rev] = []

    def add(downs: list[str]) -> str:
        i = len(revs) + 1
        rid = hashlib.sha1(f"{shape}-{i}".encode()).hexdigest()[:12]
        revs.append(Rev(i, rid, downs, f"t{i:05d}"))
        return rid

    prev: list[str] = []
    if shape == "chain":
        for _ in range(n):
            prev = [add(prev)]
    elif shape == "graph":
        while len(revs) + 10 <= n:
            point = add(prev)
            a = add([point])
            for _ in range(3):
                a = add([a])
            b = add([point])
            for _ in range(3):
                b = add([b])
            prev = [add([a, b])]
        while len(revs) < n:
            prev = [add(prev)]
    else:
        raise ValueError(shape)
    return revs


# The version-table statements Alembic issues, replayed on the same graph (HeadMaintainer's
# rules: a revision whose parent is a current head updates that row; one whose parent is not a
# head starts a new row; a merge deletes all but one of its parents' rows and updates the last).

VT_CREATE = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)


def vt_insert(r: str) -> str:
    return f"INSERT INTO alembic_version (version_num) VALUES ('{r}')"


def vt_update(old: str, new: str) -> str:
    return f"UPDATE alembic_version SET version_num='{new}' WHERE alembic_version.version_num = '{old}'"


def vt_delete(r: str) -> str:
    return f"DELETE FROM alembic_version WHERE alembic_version.version_num = '{r}'"


def floor_steps(revs: list[Rev], upgrade: bool) -> list[list[str]]:
    """Per migration: its SQL followed by its version-table statements (exactly as many as
    Alembic issues)."""
    steps: list[list[str]] = []
    heads: list[str] = []
    if upgrade:
        for r in revs:
            parents_at_head = [d for d in r.downs if d in heads]
            vt: list[str]
            if not r.downs or not parents_at_head:
                vt = [vt_insert(r.id)]
                heads.append(r.id)
            else:
                vt = [vt_delete(d) for d in parents_at_head[:-1]]
                vt.append(vt_update(parents_at_head[-1], r.id))
                for d in parents_at_head:
                    heads.remove(d)
                heads.append(r.id)
            steps.append(r.upgrade_sql + vt)
    else:
        children: dict[str, list[str]] = {}
        for r in revs:
            for d in r.downs:
                children.setdefault(d, []).append(r.id)
        remaining = {r.id for r in revs}
        for r in reversed(revs):
            remaining.discard(r.id)
            # A parent gets a row back unless another revision still applied descends from it
            # (its row comes back when that branch is downgraded too).
            restore = [d for d in r.downs if not any(c in remaining for c in children[d])]
            if not restore:
                vt = [vt_delete(r.id)]
            else:
                vt = [vt_update(r.id, restore[0])] + [vt_insert(d) for d in restore[1:]]
            steps.append(r.downgrade_sql + vt)
    return steps


def floor_script(revs: list[Rev], upgrade: bool, per_migration: bool) -> str:
    steps = floor_steps(revs, upgrade)
    out: list[str] = []
    if upgrade:
        steps[0] = [VT_CREATE] + steps[0]
    if per_migration:
        for s in steps:
            out.append("BEGIN;")
            out.extend(x + ";" for x in s)
            out.append("COMMIT;")
    else:
        out.append("BEGIN;")
        for s in steps:
            out.extend(x + ";" for x in s)
        out.append("COMMIT;")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Project files
# --------------------------------------------------------------------------------------------

CREATE_DATE = "2026-11-25 07:30:00.000000"


def py_literal(ids: list[str]) -> str:
    if not ids:
        return "None"
    if len(ids) == 1:
        return repr(ids[0])
    return "(" + ", ".join(repr(x) for x in ids) + ")"


def render_py(r: Rev) -> str:
    revises = ", ".join(r.downs)
    body_up = "\n".join(f'    op.execute("{s}")' for s in r.upgrade_sql)
    body_down = "\n".join(f'    op.execute("{s}")' for s in r.downgrade_sql)
    return f'''"""create {r.table}

Revision ID: {r.id}
Revises: {revises}
Create Date: {CREATE_DATE}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = {r.id!r}
down_revision: Union[str, Sequence[str], None] = {py_literal(r.downs)}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
{body_up}


def downgrade() -> None:
    """Downgrade schema."""
{body_down}
'''


def render_sql(r: Rev) -> str:
    up = "\n".join(s + ";" for s in r.upgrade_sql)
    down = "\n".join(s + ";" for s in r.downgrade_sql)
    return f"""-- create {r.table}
--
-- Revision ID: {r.id}
-- Revises: {", ".join(r.downs)}
-- Branch Labels:
-- Depends On:
-- Create Date: {CREATE_DATE}

-- migrate:upgrade
{up}

-- migrate:downgrade
{down}
"""


def ensure_alembic() -> None:
    if not ALEMBIC.exists():
        if not ALEMBIC_SETUP.exists():
            sys.exit(f"Alembic is not at {ALEMBIC} and {ALEMBIC_SETUP} is missing: install "
                     "alembic==1.20.1 sqlalchemy psycopg2-binary pymysql into a venv and set ALEMBIC=")
        subprocess.run(["bash", str(ALEMBIC_SETUP)], check=True)


def project_dir(work: Path, shape: str, n: int, fmt: str) -> Path:
    return work / "projects" / f"{shape}-{n}-{fmt}"


def generate_project(work: Path, shape: str, n: int, fmt: str) -> Path:
    """`fmt` is "py" (an `alembic init` project whose versions the tool also reads) or "sql"."""
    d = project_dir(work, shape, n, fmt)
    stamp = d / ".generated"
    if stamp.exists() and stamp.read_text() == GENERATOR_VERSION:
        return d
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    revs = make_revs(shape, n)
    if fmt == "py":
        ensure_alembic()
        subprocess.run([str(ALEMBIC), "init", "migrations"], cwd=d, check=True,
                       stdout=subprocess.DEVNULL)
    versions = d / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    for r in revs:
        if fmt == "py":
            (versions / f"{r.id}_create_{r.table}.py").write_text(render_py(r))
        else:
            (versions / f"{r.id}_create_{r.table}.sql").write_text(render_sql(r))
    for name, per in (("migrate.toml", False), ("migrate-per-migration.toml", True)):
        (d / name).write_text(
            'script_location = "migrations"\n'
            f'url = "sqlite:///{d}/unused.db"\n'
            f"transaction_per_migration = {'true' if per else 'false'}\n"
        )
    stamp.write_text(GENERATOR_VERSION)
    return d


def floor_file(work: Path, shape: str, n: int, upgrade: bool, per: bool) -> Path:
    d = work / "floor"
    d.mkdir(parents=True, exist_ok=True)
    f = d / f"{shape}-{n}-{'up' if upgrade else 'down'}-{'per' if per else 'one'}.v{GENERATOR_VERSION}.sql"
    if not f.exists():
        f.write_text(floor_script(make_revs(shape, n), upgrade, per))
    return f


# --------------------------------------------------------------------------------------------
# Backends: a fresh database, URLs, the check after every run
# --------------------------------------------------------------------------------------------


def run_quiet(argv: list[str], stdin: str | None = None) -> str:
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=PROCESS_TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()[-800:]}")
    return p.stdout


class Backend:
    name: str

    def fresh(self) -> None: ...

    def drop(self) -> None: ...

    def migrate_url(self) -> str: ...

    def alembic_url(self) -> str: ...

    def floor_argv(self, file: Path) -> tuple[list[str], Path | None]: ...

    def state(self) -> tuple[int, list[str], int]:
        """(tables named t*, version rows, rows in the last table or -1)"""
        ...


class Sqlite(Backend):
    name = "sqlite"

    def __init__(self, work: Path):
        self.path = work / "db" / "bench.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.last_table = ""

    def fresh(self) -> None:
        self.drop()

    def drop(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm", ".migrate-lock"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                p.unlink()

    def migrate_url(self) -> str:
        return f"sqlite:///{self.path}"

    def alembic_url(self) -> str:
        return f"sqlite:///{self.path}"

    def floor_argv(self, file: Path) -> tuple[list[str], Path | None]:
        return ["sqlite3", "-bail", str(self.path)], file

    def state(self) -> tuple[int, list[str], int]:
        con = sqlite3.connect(self.path)
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 't%'")]
            has_vt = con.execute(
                "SELECT count(*) FROM sqlite_master WHERE name='alembic_version'").fetchone()[0]
            rows = [r[0] for r in con.execute("SELECT version_num FROM alembic_version")] if has_vt else []
            last = -1
            if self.last_table in tables:
                last = con.execute(f"SELECT count(*) FROM {self.last_table}").fetchone()[0]
            return len(tables), sorted(rows), last
        finally:
            con.close()


class Postgres(Backend):
    name = "postgresql"

    def __init__(self):
        self.last_table = ""

    def psql(self, db: str, sql: str) -> str:
        return run_quiet(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST,
                          "-p", str(PG_PORT), "-U", PG_USER, "-d", db, "-c", sql])

    def fresh(self) -> None:
        self.drop()
        self.psql("postgres", f"CREATE DATABASE {DB_NAME}")

    def drop(self) -> None:
        self.psql("postgres", f"DROP DATABASE IF EXISTS {DB_NAME}")

    def migrate_url(self) -> str:
        return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"

    def alembic_url(self) -> str:
        return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"

    def floor_argv(self, file: Path) -> tuple[list[str], Path | None]:
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST, "-p", str(PG_PORT),
                "-U", PG_USER, "-d", DB_NAME, "-f", str(file)], None

    def state(self) -> tuple[int, list[str], int]:
        out = self.psql(DB_NAME, (
            "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tablename LIKE 't%')"
            " || '|' || coalesce((SELECT string_agg(version_num, ',' ORDER BY version_num)"
            " FROM alembic_version), '')"))
        n, rows = out.strip().split("|", 1) if "|" in out else (out.strip(), "")
        return int(n), [x for x in rows.split(",") if x], self._last(int(n))

    def _last(self, n: int) -> int:
        if n == 0 or not self.last_table:
            return -1
        try:
            return int(self.psql(DB_NAME, f"SELECT count(*) FROM {self.last_table}").strip())
        except RuntimeError:
            return -1


class Mariadb(Backend):
    name = "mariadb"

    def __init__(self):
        self.last_table = ""

    def sql(self, db: str | None, sql: str) -> str:
        argv = ["mariadb", "-N", "-B", "-h", MY_HOST, "-P", str(MY_PORT), "-u" + MY_USER]
        if db:
            argv.append(db)
        return run_quiet(argv + ["-e", sql])

    def fresh(self) -> None:
        self.drop()
        self.sql(None, f"CREATE DATABASE {DB_NAME}")

    def drop(self) -> None:
        self.sql(None, f"DROP DATABASE IF EXISTS {DB_NAME}")

    def migrate_url(self) -> str:
        return f"mysql://{MY_USER}@{MY_HOST}:{MY_PORT}/{DB_NAME}"

    def alembic_url(self) -> str:
        return f"mysql+pymysql://{MY_USER}@{MY_HOST}:{MY_PORT}/{DB_NAME}"

    def floor_argv(self, file: Path) -> tuple[list[str], Path | None]:
        return ["mariadb", "-h", MY_HOST, "-P", str(MY_PORT), "-u" + MY_USER, DB_NAME], file

    def state(self) -> tuple[int, list[str], int]:
        n = int(self.sql(DB_NAME, (
            "SELECT count(*) FROM information_schema.tables WHERE table_schema=DATABASE() "
            "AND table_name LIKE 't%'")).strip())
        has_vt = int(self.sql(DB_NAME, (
            "SELECT count(*) FROM information_schema.tables WHERE table_schema=DATABASE() "
            "AND table_name='alembic_version'")).strip())
        rows = self.sql(DB_NAME, "SELECT version_num FROM alembic_version").split() if has_vt else []
        last = -1
        if n and self.last_table:
            try:
                last = int(self.sql(DB_NAME, f"SELECT count(*) FROM {self.last_table}").strip())
            except RuntimeError:
                last = -1
        return n, sorted(rows), last


# --------------------------------------------------------------------------------------------
# Timing one process
# --------------------------------------------------------------------------------------------

CLEAN_ENV_DROP = re.compile(r"^(DATABASE_URL|MIGRATE_.*|PG.*|POSTGRES_.*|TEST_ENV|MYSQL_.*)$")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not CLEAN_ENV_DROP.match(k)}
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


@dataclass
class Sample:
    wall: float
    rss_kib: int
    rc: int
    stdout: str
    stderr: str


TIME = "/usr/bin/time"


def timed(argv: list[str], cwd: Path, stdin_file: Path | None = None) -> Sample:
    """Runs one process under GNU time: wall time from spawn to reap (time.perf_counter, so it
    includes time's own fork and exec, about a millisecond, see `wrapper_overhead`), peak RSS of
    the process (time's %M, KiB). Python's own wait4() rusage cannot be used: a child spawned by
    Python keeps Python's resident-set high-water mark through exec."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as rss:
        stdin = open(stdin_file, "rb") if stdin_file else subprocess.DEVNULL
        try:
            t0 = time.perf_counter()
            p = subprocess.Popen([TIME, "-f", "%M", "-o", rss.name] + argv, cwd=cwd, stdin=stdin,
                                 stdout=out, stderr=err, env=clean_env())
            # A blocking wait: Popen.wait(timeout=...) polls with sleeps that double from
            # 0.5 ms, which would round every measurement up to 7.5 ms, 15.5 ms, 31.5 ms...
            killer = threading.Timer(PROCESS_TIMEOUT, p.kill)
            killer.start()
            p.wait()
            t1 = time.perf_counter()
            killer.cancel()
        finally:
            if stdin_file:
                stdin.close()
        out.seek(0)
        err.seek(0)
        lines = [x for x in rss.read().split() if x.isdigit()]
        return Sample(t1 - t0, int(lines[-1]) if lines else -1, p.returncode,
                      out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def wrapper_overhead() -> dict:
    """What GNU time and Python's spawn add to every measurement: `true` run the same way."""
    xs = sorted(timed(["true"], Path("/")).wall for _ in range(21))
    return dict(true_median_ms=round(statistics.median(xs) * 1000, 3))


# --------------------------------------------------------------------------------------------
# The runs
# --------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    args: argparse.Namespace
    work: Path
    out: object  # results file
    migrate: Path
    failures: list[str] = field(default_factory=list)

    def record(self, rec: dict) -> None:
        self.out.write(json.dumps(rec) + "\n")
        self.out.flush()


def expect(be: Backend, revs: list[Rev], at_head: bool) -> str | None:
    try:
        n, rows, last = be.state()
    except (RuntimeError, sqlite3.Error) as e:
        return f"could not read the database's state: {e}"
    if at_head:
        want_rows = sorted([revs[-1].id])
        if n != len(revs) or rows != want_rows or last != 2:
            return f"expected {len(revs)} tables, version {want_rows}, 2 rows; found {n} tables, version {rows}, {last} rows"
    else:
        if n != 0 or rows != []:
            return f"expected no tables and an empty version table; found {n} tables, version {rows}"
    return None


def measure(ctx: Ctx, base: dict, command: str, argv: list[str], cwd: Path, be: Backend | None,
            revs: list[Rev], check: str | None = None, stdin_file: Path | None = None,
            expect_out: str | None = None) -> Sample | None:
    s = timed(argv, cwd, stdin_file)
    err = None
    if s.rc != 0:
        err = f"exit {s.rc}: {(s.stderr or s.stdout).strip()[-600:]}"
    elif check and be is not None:
        err = expect(be, revs, check == "head")
    if err is None and expect_out is not None and expect_out not in s.stdout:
        err = f"output lacks {expect_out!r}: {s.stdout.strip()[-300:]!r} {s.stderr.strip()[-300:]!r}"
    rec = dict(base, command=command, wall=round(s.wall, 6), rss_kib=s.rss_kib, ok=err is None)
    if err:
        rec["error"] = err
        msg = f"FAILED {base['tool']} {command} {base['backend']} N={base['n']} {base.get('shape')} {base.get('format')} {base.get('mode')}: {err}"
        ctx.failures.append(msg)
        print("  " + msg, flush=True)
    ctx.record(rec)
    if ctx.args.verbose:
        print(f"    {base['tool']:8} {base.get('mode', ''):14} {base.get('format', ''):4} {command:16} "
              f"{s.wall*1000:10.1f} ms {s.rss_kib/1024:7.1f} MiB{'' if err is None else '  FAILED'}", flush=True)
    return s if err is None else None


def seq_floor(ctx: Ctx, be: Backend, shape: str, n: int, rep: int, per: bool) -> None:
    revs = make_revs(shape, n)
    base = dict(tool="floor", backend=be.name, n=n, shape=shape, format="-",
                mode="per-migration" if per else "one-tx", rep=rep)
    up, down = floor_file(ctx.work, shape, n, True, per), floor_file(ctx.work, shape, n, False, per)
    be.fresh()
    try:
        argv, stdin = be.floor_argv(up)
        if measure(ctx, base, "upgrade", argv, ctx.work, be, revs, "head", stdin) is None:
            return
        argv, stdin = be.floor_argv(down)
        measure(ctx, base, "downgrade", argv, ctx.work, be, revs, "base", stdin)
    finally:
        be.drop()


def seed_with_floor(ctx: Ctx, be: Backend, shape: str, n: int, revs: list[Rev]) -> bool:
    """Migrates the fresh database with the floor script (untimed): in one transaction, or, when
    that fails (PostgreSQL runs out of lock slots for 10,000 CREATE TABLEs in one transaction
    with the default max_locks_per_transaction), with one transaction per revision."""
    for per in (False, True):
        argv, stdin = be.floor_argv(floor_file(ctx.work, shape, n, True, per))
        s = timed(argv, ctx.work, stdin)
        if s.rc == 0 and expect(be, revs, True) is None:
            return True
        be.fresh()
    return False


def seq_migrate(ctx: Ctx, be: Backend, shape: str, n: int, fmt: str, rep: int, per: bool,
                listing: bool, updown: bool) -> None:
    revs = make_revs(shape, n)
    d = generate_project(ctx.work, shape, n, fmt)
    cfg = "migrate-per-migration.toml" if per else "migrate.toml"
    base = dict(tool="migrate", backend=be.name, n=n, shape=shape, format=fmt,
                mode="per-migration" if per else "default", rep=rep)
    mig = [str(ctx.migrate), "-c", cfg, "--url", be.migrate_url()]
    head = revs[-1].id
    be.fresh()
    try:
        if updown:
            if measure(ctx, base, "upgrade", mig + ["upgrade", "head"], d, be, revs, "head") is None:
                return
        elif not seed_with_floor(ctx, be, shape, n, revs):
            print("  could not seed the database with the floor script", flush=True)
            return
        measure(ctx, base, "upgrade-at-head", mig + ["upgrade", "head"], d, be, revs, "head")
        if listing:
            measure(ctx, base, "current", mig + ["current"], d, be, revs, expect_out=head)
            if be.name == "sqlite":
                measure(ctx, base, "heads", mig + ["heads"], d, None, revs, expect_out=head)
                measure(ctx, base, "history", mig + ["history"], d, None, revs, expect_out=revs[0].id)
        if updown:
            measure(ctx, base, "downgrade", mig + ["downgrade", "base"], d, be, revs, "base")
    finally:
        be.drop()


def alembic_ini(d: Path, url: str, backend: str) -> Path:
    """alembic.ini with the URL set; one file per backend and process, so that runs on
    different backends can share the generated projects."""
    text = (d / "alembic.ini").read_text()
    text = re.sub(r"(?m)^sqlalchemy\.url = .*$", "sqlalchemy.url = " + url.replace("%", "%%"), text)
    f = d / f"alembic.{backend}.{os.getpid()}.ini"
    f.write_text(text)
    return f


def seq_alembic(ctx: Ctx, be: Backend, shape: str, n: int, rep: int, listing: bool,
                updown: bool) -> None:
    revs = make_revs(shape, n)
    d = generate_project(ctx.work, shape, n, "py")
    ini = alembic_ini(d, be.alembic_url(), be.name)
    base = dict(tool="alembic", backend=be.name, n=n, shape=shape, format="py", mode="default", rep=rep)
    al = [str(ALEMBIC), "-c", str(ini)]
    head = revs[-1].id
    be.fresh()
    try:
        if updown:
            if measure(ctx, base, "upgrade", al + ["upgrade", "head"], d, be, revs, "head") is None:
                return
        elif not seed_with_floor(ctx, be, shape, n, revs):
            print("  could not seed the database with the floor script", flush=True)
            return
        measure(ctx, base, "upgrade-at-head", al + ["upgrade", "head"], d, be, revs, "head")
        if listing:
            measure(ctx, base, "current", al + ["current"], d, be, revs, expect_out=head)
            if be.name == "sqlite":
                measure(ctx, base, "heads", al + ["heads"], d, None, revs, expect_out=head)
                measure(ctx, base, "history", al + ["history"], d, None, revs, expect_out=revs[0].id)
        if updown:
            measure(ctx, base, "downgrade", al + ["downgrade", "base"], d, be, revs, "base")
    finally:
        be.drop()


def seq_grep(ctx: Ctx, shape: str, n: int, rep: int) -> None:
    """What merely reading every revision file costs: the floor of `heads`/`history`."""
    revs = make_revs(shape, n)
    d = generate_project(ctx.work, shape, n, "sql")
    base = dict(tool="grep", backend="-", n=n, shape=shape, format="sql", mode="-", rep=rep)
    measure(ctx, base, "read-all-files", ["grep", "-rh", "^-- Revision ID:", "migrations/versions"],
            d, None, revs, expect_out=revs[0].id)


def reps_for(args: argparse.Namespace, backend: str, n: int, shape: str) -> int:
    if n >= 10000:
        return args.reps_10k_server if backend != "sqlite" else args.reps_10k
    reps = args.reps_server if backend != "sqlite" else args.reps
    return min(reps, args.reps_graph) if shape == "graph" else reps


def plan(args: argparse.Namespace) -> list[list[tuple]]:
    """Everything to run, one batch per (backend, N, shape, repetition); inside a batch every
    tool runs once, so slow drifts of the machine's load spread over all tools alike.

    What is left out, to keep a full run near 20 minutes on 2 cores: the transaction-per-
    migration mode above --per-migration-max-n; Alembic's own upgrade/downgrade above
    --alembic-upgrade-max-n (it then runs the listings on a database the floor script
    migrated); on PostgreSQL and MariaDB the .py format outside the default mode (reading a
    format costs the same on every backend), the graph outside the .sql format, and at
    N=10,000 the graph and the .py format."""
    jobs = []
    for be in args.backends:
        server = be != "sqlite"
        for n in args.n:
            big = n >= 10000
            per_modes = [False, True] if n <= args.per_migration_max_n else [False]
            for shape in args.shapes:
                if server and big and shape != "chain":
                    continue
                for rep in range(reps_for(args, be, n, shape)):
                    batch = []
                    modes_now = per_modes if rep < args.reps_per_migration else [False]
                    if not args.no_floor:
                        batch += [("floor", be, shape, n, rep, per) for per in modes_now]
                    formats = list(args.formats)
                    if (server and (big or shape != "chain")) or (big and shape != "chain"):
                        formats = [f for f in formats if f == "sql"]
                    for fmt in formats:
                        modes = [False] if (fmt == "py" and not args.py_per_migration) else modes_now
                        for per in modes:
                            batch.append(("migrate", be, shape, n, rep, fmt, per, not per, True))
                    if (not args.no_alembic and rep < args.reps_alembic
                            and (shape == "chain" or not server) and not (big and shape != "chain")):
                        batch.append(("alembic", be, shape, n, rep, n <= args.alembic_upgrade_max_n))
                    if be == "sqlite" and shape == "chain" and not args.no_floor:
                        batch.append(("grep", shape, n, rep))
                    jobs.append(batch)
    return jobs


def machine_info() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass

    def ver(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except Exception:
            return "?"

    return dict(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        nproc=os.cpu_count(), cpu=cpu, memory=mem, kernel=platform.release(),
        loadavg=os.getloadavg(),
        sqlite3=ver(["sqlite3", "--version"]), psql=ver(["psql", "--version"]),
        mariadb=ver(["mariadb", "--version"]),
        server_pg=ver(["psql", "-X", "-tA", "-h", PG_HOST, "-U", PG_USER, "-d", "postgres", "-c", "SHOW server_version"]),
        server_mariadb=ver(["mariadb", "-N", "-B", "-h", MY_HOST, "-u" + MY_USER, "-e", "SELECT VERSION()"]),
        alembic=ver([str(ALEMBIC), "--version"]),
    )


def backend_obj(name: str, work: Path) -> Backend:
    return {"sqlite": lambda: Sqlite(work), "postgresql": Postgres, "mariadb": Mariadb}[name]()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="N=100,1000, chain only, one repetition on servers, two on SQLite")
    ap.add_argument("--backends", default="sqlite,postgresql,mariadb")
    ap.add_argument("--n", default="100,1000,10000", help="comma-separated revision counts")
    ap.add_argument("--shapes", default="chain,graph")
    ap.add_argument("--formats", default="sql,py")
    ap.add_argument("--reps", type=int, default=5, help="repetitions on SQLite, N < 10,000")
    ap.add_argument("--reps-10k", type=int, default=1, help="repetitions on SQLite, N = 10,000")
    ap.add_argument("--reps-server", type=int, default=3, help="repetitions on PostgreSQL/MariaDB, N < 10,000")
    ap.add_argument("--reps-10k-server", type=int, default=1, help="repetitions on PostgreSQL/MariaDB, N = 10,000")
    ap.add_argument("--no-alembic", action="store_true")
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--no-migrate", action="store_true")
    ap.add_argument("--reps-per-migration", type=int, default=3,
                    help="at most this many repetitions of the transaction-per-migration mode "
                         "(on SQLite it is one fsync per revision: seconds per run)")
    ap.add_argument("--reps-alembic", type=int, default=3, help="at most this many repetitions of Alembic")
    ap.add_argument("--py-per-migration", action="store_true",
                    help="also run the .py format in the transaction-per-migration mode")
    ap.add_argument("--reps-graph", type=int, default=3, help="at most this many repetitions of the graph shape")
    ap.add_argument("--per-migration-max-n", type=int, default=1000,
                    help="largest N run in the transaction-per-migration mode (10,000 takes minutes per run on SQLite)")
    ap.add_argument("--alembic-upgrade-max-n", type=int, default=1000,
                    help="largest N at which Alembic runs upgrade/downgrade itself (above it, only "
                         "upgrade-at-head, current, heads and history, on a database the floor migrated; "
                         "Alembic took 292 s to upgrade 10,000 revisions on SQLite)")
    ap.add_argument("--migrate", default=str(ROOT / "target" / "release" / "migrate"),
                    help="the migrate binary (default: target/release/migrate)")
    ap.add_argument("--work", default=os.environ.get("BENCH_WORK", "/tmp/migrate-bench"),
                    help="where projects, floor scripts and SQLite files go")
    ap.add_argument("--out", default=None, help="results file (JSON lines)")
    ap.add_argument("--dry-run", action="store_true", help="print what would run, run nothing")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per timed process")
    args = ap.parse_args()
    if args.quick:
        args.n = "100,1000" if args.n == "100,1000,10000" else args.n
        args.shapes = "chain"
        args.reps, args.reps_server = 2, 1
        args.per_migration_max_n = min(args.per_migration_max_n, 1000)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.backends = ["postgresql" if b in ("pg", "postgres") else "mariadb" if b == "mysql" else b
                     for b in args.backends]
    args.n = [int(x.replace("_", "")) for x in args.n.split(",")]
    args.shapes = args.shapes.split(",")
    args.formats = args.formats.split(",")
    if args.dry_run:
        for batch in plan(args):
            print(" | ".join(" ".join(str(x) for x in job) for job in batch))
        return 0
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    migrate = Path(args.migrate).resolve()
    if not args.no_migrate and not migrate.exists():
        sys.exit(f"no migrate binary at {migrate}: build it with `cargo build --release -p migrate-cli` "
                 "or pass --migrate PATH (or --no-migrate)")
    if not args.no_alembic:
        ensure_alembic()
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    out_path = Path(args.out) if args.out else results_dir / (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + ".jsonl")
    info = machine_info()
    info["argv"] = sys.argv[1:]
    info["spawn_overhead"] = wrapper_overhead()
    info["migrate"] = str(migrate)
    if not args.no_migrate:
        info["migrate_version"] = subprocess.run([str(migrate), "--version"], capture_output=True,
                                                 text=True).stdout.strip()
        try:
            info["migrate_commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                                    capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
    t_start = time.perf_counter()
    print(f"results -> {out_path}", flush=True)
    print(json.dumps(info), flush=True)
    with open(out_path, "w") as f:
        f.write(json.dumps(dict(machine=info)) + "\n")
        ctx = Ctx(args, work, f, migrate)
        # Generate everything first, so generation never lands inside a timed stretch.
        for be in args.backends:
            for n in args.n:
                for shape in args.shapes:
                    for fmt in args.formats:
                        generate_project(work, shape, n, fmt)
                    for up in (True, False):
                        for per in (True, False):
                            floor_file(work, shape, n, up, per)
        backends = {b: backend_obj(b, work) for b in args.backends}
        for batch in plan(args):
            head = batch[0]
            be = backends[head[1]] if head[0] != "grep" else None
            print(f"[{time.perf_counter() - t_start:7.1f} s] {head[1]} N={head[3]} {head[2]} rep {head[4] + 1}",
                  flush=True)
            for job in batch:
                kind = job[0]
                if kind == "grep":
                    seq_grep(ctx, job[1], job[2], job[3])
                    continue
                b = backends[job[1]]
                b.last_table = last_table(job[2], job[3])
                if kind == "floor":
                    seq_floor(ctx, b, job[2], job[3], job[4], job[5])
                elif kind == "migrate" and not args.no_migrate:
                    seq_migrate(ctx, b, job[2], job[3], job[5], job[4], job[6], job[7], job[8])
                elif kind == "alembic":
                    seq_alembic(ctx, b, job[2], job[3], job[4], True, job[5])
            del be
        f.write(json.dumps(dict(elapsed=round(time.perf_counter() - t_start, 1),
                                loadavg_end=os.getloadavg())) + "\n")
    print(f"done in {time.perf_counter() - t_start:.0f} s; results in {out_path}", flush=True)
    subprocess.run([sys.executable, str(HERE / "report.py"), str(out_path)])
    if ctx.failures:
        print(f"{len(ctx.failures)} run(s) failed:", file=sys.stderr)
        for m in ctx.failures:
            print("  " + m, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
