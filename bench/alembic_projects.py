#!/usr/bin/env python3
"""What share of public Alembic projects' revisions `migrate` runs, and whether it runs them as
Alembic does (issue 19; the results are in BENCHMARKS.md, "Public Alembic projects").

    python3 bench/alembic_projects.py [--migrate BIN] [--mirror /work/.mirror]
        [--work /tmp/alembic-projects] [--projects warehouse,ctfd] [--dialects sqlite,mysql]
        [--jobs 2] [--json OUT.json] [--list]
    python3 bench/alembic_projects.py --from-json OUT.json   # the report again

For every versions folder in PROJECTS (taken from a bare git mirror, `fetch`ed as
MIRROR/owner+name/repo, at its HEAD) and every dialect, each revision R with exactly one parent D
is rendered offline twice:

- by Alembic 1.20.1 through /work/shared/alembic-oracle/oracle.py (`upgrade D:R --sql`; a run of
  revisions each the only child of the one before is rendered by one `upgrade D:Rk --sql`, which
  prints the same statements for each revision as one run per revision would: offline, a
  revision's upgrade() sees nothing but its own operations; Alembic's copy of each file wraps
  upgrade() so that a failure is reported on stderr and the run goes on);
- by `migrate -c TOML --url URL upgrade D:R --sql` (`upgrade R --sql` from the base).

The revision's own statements (between its `-- Running upgrade` comment and its version-table
statement, leading and trailing BEGIN/COMMIT left out, and on SQLite every BEGIN/COMMIT, which
Alembic never writes there) are compared as text. Each (revision, dialect) is one of:

- alembic-fails: Alembic cannot render it offline (the file does not import without the
  application, its upgrade() needs a connection, a batch operation needs reflection, ...). Not
  in the denominator. A file that does not import is replaced, for Alembic only, by a stub
  with the same header so that the rest of the folder loads;
- runs-equal: migrate prints exactly Alembic's statements;
- same-sql: the same statements laid out otherwise (one op.execute text cut into several, no
  doubled `;`, CREATE INDEXes of index=True columns in another order);
- refused: migrate refuses the revision by name (the first line of its message is kept);
- differs: migrate prints something else. Every one is printed in full: each is a bug.

Merge revisions and revisions with depends_on are counted apart and not compared. The share
reported is (runs-equal + same-sql) / (revisions Alembic renders). `--json` writes every record.
Python 3.11, standard library only; Alembic costs about 0.4 s a process, so `--jobs` (2)
folders-and-dialects run at once.
"""
import argparse
import ast
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ORACLE = "/work/shared/alembic-oracle/oracle.py"

# (label, GitHub owner/name, versions folder in the repository). Folders holding release
# subfolders (OpenStack's expand/contract layout) are flattened: Alembic finds a revision by its
# id, not by where its file is.
PROJECTS = [
    ("warehouse", "pypi/warehouse", "warehouse/migrations/versions"),
    ("redash", "getredash/redash", "migrations/versions"),
    ("ctfd", "CTFd/CTFd", "migrations/versions"),
    ("dispatch-core", "Netflix/dispatch", "src/dispatch/database/revisions/core/versions"),
    ("dispatch-tenant", "Netflix/dispatch", "src/dispatch/database/revisions/tenant/versions"),
    ("lemur", "Netflix/lemur", "lemur/migrations/versions"),
    ("jupyterhub", "jupyterhub/jupyterhub", "jupyterhub/alembic/versions"),
    ("securedrop", "freedomofpress/securedrop", "securedrop/alembic/versions"),
    ("indico", "indico/indico", "indico/migrations/versions"),
    ("quay", "quay/quay", "data/migrations/versions"),
    ("mealie", "mealie-recipes/mealie", "alembic/versions"),
    ("prefect-postgresql", "PrefectHQ/prefect",
     "src/prefect/server/database/_migrations/versions/postgresql"),
    ("prefect-sqlite", "PrefectHQ/prefect",
     "src/prefect/server/database/_migrations/versions/sqlite"),
    ("pgadmin4", "pgadmin-org/pgadmin4", "web/migrations/versions"),
    ("full-stack-fastapi", "fastapi/full-stack-fastapi-template", "backend/app/alembic/versions"),
    ("ihatemoney", "spiral-project/ihatemoney", "ihatemoney/migrations/versions"),
    ("neutron", "openstack/neutron", "neutron/db/migration/alembic_migrations/versions"),
    ("ironic", "openstack/ironic", "ironic/db/sqlalchemy/alembic/versions"),
    ("octavia", "openstack/octavia", "octavia/db/migration/alembic_migrations/versions"),
    ("keystone", "openstack/keystone", "keystone/common/sql/migrations/versions"),
    ("nova-main", "openstack/nova", "nova/db/main/migrations/versions"),
    ("nova-api", "openstack/nova", "nova/db/api/migrations/versions"),
    ("glance", "openstack/glance", "glance/db/sqlalchemy/alembic_migrations/versions"),
    ("cinder", "openstack/cinder", "cinder/db/migrations/versions"),
    ("manila", "openstack/manila", "manila/db/migrations/alembic/versions"),
    ("magnum", "openstack/magnum", "magnum/db/sqlalchemy/alembic/versions"),
    ("designate", "openstack/designate", "designate/storage/sqlalchemy/alembic/versions"),
    ("placement", "openstack/placement", "placement/db/sqlalchemy/alembic/versions"),
    ("heat", "openstack/heat", "heat/db/migrations/versions"),
    ("barbican", "openstack/barbican", "barbican/model/migration/alembic_migrations/versions"),
    ("ckan", "ckan/ckan", "ckan/migration/versions"),
    ("privacyidea", "privacyidea/privacyidea", "privacyidea/migrations/versions"),
    ("tasking-manager", "hotosm/tasking-manager", "migrations/versions"),
    ("keylime", "keylime/keylime", "keylime/migrations/versions"),
    ("augur", "chaoss/augur", "augur/application/schema/alembic/versions"),
    ("fittrackee", "SamR1/FitTrackee", "fittrackee/migrations/versions"),
    ("funnel", "hasgeek/funnel", "migrations/versions"),
    ("conda-store", "conda-incubator/conda-store",
     "conda-store-server/conda_store_server/_internal/alembic/versions"),
    ("nbgrader", "jupyter/nbgrader", "nbgrader/alembic/versions"),
    ("aim-storage", "aimhubio/aim", "aim/storage/migrations/versions"),
    ("aim-web", "aimhubio/aim", "aim/web/migrations/versions"),
]

DIALECTS = {
    "sqlite": "sqlite:///x.db",
    "postgresql": "postgresql://u@h/db",
    "mysql": "mysql://u@h/db",
}

STATUSES = ("alembic-fails", "runs-equal", "same-sql", "refused", "differs")


# ---------------------------------------------------------------- reading a versions folder

HEADER_NAMES = ("revision", "down_revision", "depends_on", "branch_labels")


def read_header(text):
    """The four header values of a revision file, read (not run) as Alembic would see them;
    None where the file has no such literal assignment."""
    values = {}
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None:
        for node in tree.body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for t in targets:
                names = t.elts if isinstance(t, ast.Tuple) else [t]
                for i, name in enumerate(names):
                    if isinstance(name, ast.Name) and name.id in HEADER_NAMES:
                        v = value.elts[i] if isinstance(t, ast.Tuple) else value
                        try:
                            values[name.id] = ast.literal_eval(v)
                        except ValueError:
                            pass
    else:  # Python 2 files: the header is plain enough for a pattern
        for name in HEADER_NAMES:
            m = re.search(rf"^{name}\s*=\s*(.+)$", text, re.M)
            if m:
                try:
                    values[name] = ast.literal_eval(m.group(1).strip())
                except (SyntaxError, ValueError):
                    pass
    return values


def as_tuple(v):
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    return tuple(v)


class Folder:
    """A versions folder: its revisions, their parents, and the runs Alembic renders at once."""

    def __init__(self, path):
        self.path = path
        self.revs = {}  # revision -> {"file", "parents", "depends"}
        for f in sorted(path.glob("*.py")):
            h = read_header(f.read_text(errors="replace"))
            if not isinstance(h.get("revision"), str):
                continue
            self.revs[h["revision"]] = {
                "file": f.name,
                "parents": as_tuple(h.get("down_revision")),
                "depends": as_tuple(h.get("depends_on")),
            }

    def measured(self, rev):
        """Whether `rev` is compared: one parent (or none), no depends_on."""
        r = self.revs[rev]
        return len(r["parents"]) <= 1 and not r["depends"]

    def order(self):
        """The revisions, parents first (unknown parents count as the base)."""
        done, out = set(), []

        def visit(rev):
            stack = [(rev, False)]
            while stack:
                r, expanded = stack.pop()
                if r in done:
                    continue
                if expanded:
                    done.add(r)
                    out.append(r)
                    continue
                stack.append((r, True))
                for p in self.revs[r]["parents"] + self.revs[r]["depends"]:
                    if p in self.revs and p not in done:
                        stack.append((p, False))

        for rev in sorted(self.revs):
            visit(rev)
        return out

    def chains(self):
        """[(start, [R1..Rk])]: R1's only parent is start (None: the base), each next one's
        only parent the one before, so `upgrade start:Rk` runs exactly R1..Rk."""
        chains, tail = [], {}  # tail: last revision of an open chain -> its index
        for rev in self.order():
            if not self.measured(rev):
                continue
            parents = self.revs[rev]["parents"]
            parent = parents[0] if parents else None
            if parent is not None and parent in tail:
                i = tail.pop(parent)
                chains[i][1].append(rev)
            else:
                chains.append((parent, [rev]))
                i = len(chains) - 1
            tail[rev] = i
        return chains


# ---------------------------------------------------------------- running both tools

def oracle(folder, url, args):
    """(exit code, stdout, stderr) of Alembic through the oracle."""
    run = subprocess.run([sys.executable, ORACLE, str(folder), url] + args,
                         capture_output=True, text=True)
    out = run.stdout
    m = re.match(r"exit: (-?\d+)\nstdout:\n", out)
    if not m:
        return 1, "", run.stderr + out
    body = out[m.end():]
    i = 0 if body.startswith("stderr:\n") else body.find("\nstderr:\n") + 1
    if i == 0 and not body.startswith("stderr:\n"):
        return int(m.group(1)), body, ""
    return int(m.group(1)), body[:i], body[i + len("stderr:\n"):]


def is_version_statement(s):
    return "version_num" in s and s.startswith(("INSERT ", "UPDATE ", "DELETE ", "CREATE TABLE "))


RUNNING = re.compile(r"^-- Running upgrade (.*) -> (\S+)$")


def segments(script):
    """{revision: ([statements], finished)} of an offline script: what follows each
    `-- Running upgrade ... -> R` comment; finished once R's version statement was printed."""
    out, current = {}, None
    for s in script.split("\n\n"):
        s = s.strip("\n")
        if not s:
            continue
        m = RUNNING.match(s)
        if m:
            current = m.group(2)
            out[current] = ([], False)
            continue
        if current is None:
            continue
        if is_version_statement(s) and "alembic_version" in s:
            out[current] = (out[current][0], True)
            continue
        out[current][0].append(s)
    return out


def own_statements(statements, dialect):
    """The statements compared: leading and trailing BEGIN/COMMIT left out (they belong to the
    run's transaction), and on SQLite all of them (Alembic writes none there)."""
    tx = ("BEGIN;", "COMMIT;")
    st = list(statements)
    if dialect == "sqlite":
        return [s for s in st if s not in tx]
    while st and st[0] in tx:
        st.pop(0)
    while st and st[-1] in tx:
        st.pop()
    return st


def canonical(statements):
    """The SQL of `statements` as a list of statements with layout taken out: split at every `;`
    outside quotes, dollar quotes and comments, runs of whitespace outside quotes made one space,
    empty statements dropped."""
    text = "\n".join(statements)
    out, cur, i, n = [], [], 0, len(text)
    def flush():
        s = "".join(cur).strip()
        if s:
            out.append(s)
        cur.clear()
    while i < n:
        c = text[i]
        if c in "'\"`":
            j = i + 1
            while j < n:
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            cur.append(text[i:j + 1]); i = j + 1; continue
        if c == "$":
            m = re.match(r"\$[A-Za-z_]*\$", text[i:])
            if m:
                tag = m.group(0); j = text.find(tag, i + len(tag))
                j = n if j < 0 else j + len(tag)
                cur.append(text[i:j]); i = j; continue
        if text.startswith("--", i):
            j = text.find("\n", i); j = n if j < 0 else j
            cur.append(text[i:j]); cur.append(" "); i = j; continue
        if c == ";":
            flush(); i += 1; continue
        if c.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            cur.append(" "); i = j; continue
        cur.append(c); i += 1
    flush()
    return out


INDEX = re.compile(r"CREATE (UNIQUE )?INDEX ")


def same_sql(alembic, ours, dialect):
    """Whether two statement lists differ only in layout (whitespace outside quotes, how the
    text of one op.execute is cut into statements, a doubled `;`), or also in the order of
    CREATE INDEX statements, which in Alembic follows a set's order (several index=True
    columns in one create_table).

    On PostgreSQL and MySQL, Alembic's offline script doubles every `%` of an op.execute text
    (the drivers' pyformat escaping), while online it sends the text as written: a revision
    with `DEFAULT 'x%'` stores 'x%' through Alembic online and prints 'x%%' offline (checked
    with oracle.py on PostgreSQL). migrate prints what the database receives, so Alembic's
    `%%` is read back as `%` here."""
    if dialect in ("postgresql", "mysql"):
        alembic = [s.replace("%%", "%") for s in alembic]
    a, m = canonical(alembic), canonical(ours)
    if a == m:
        return True
    if sorted(a) != sorted(m):
        return False
    return all(x == y or (INDEX.match(x) and INDEX.match(y)) for x, y in zip(a, m))


def traceback_file(stderr):
    """The versions file a Python traceback last names, if any."""
    names = re.findall(r'File "[^"]*/versions/([^"/]+\.py)"', stderr)
    return names[-1] if names else None


def error_line(stderr):
    """The message of an error: Alembic's `FAILED:` line or the traceback's last line."""
    lines = [ln for ln in stderr.strip().splitlines()
             if ln.strip() and not ln.startswith("ALEMBIC-PROJECTS-FAILED")]
    for ln in lines:
        if ln.startswith("FAILED:"):
            return ln[len("FAILED:"):].strip()
    return lines[-1].strip() if lines else "(no message)"


STUB = ('"""stub: the original file does not import here"""\n'
        "revision, down_revision, branch_labels, depends_on = {values!r}\n"
        "def upgrade():\n    pass\n"
        "def downgrade():\n    pass\n")


# Imports every file given, in Alembic's venv, as Alembic's script loader does; prints one JSON
# line {file: error} for those that fail.
IMPORT_CHECK = """
import importlib.util, json, sys, traceback
bad = {}
for i, path in enumerate(sys.argv[1:]):
    try:
        spec = importlib.util.spec_from_file_location(f"_rev_{i}", path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    except BaseException as e:
        bad[path.rsplit("/", 1)[-1]] = traceback.format_exception_only(e)[-1].strip()
print(json.dumps(bad))
"""


# Appended to every revision file of Alembic's copy: a failing upgrade() is reported on stderr
# and the run goes on, so one Alembic process renders a whole run of revisions; what the
# others print does not change (offline, a revision sees only its own operations).
GO_ON = """

_alembic_projects_upgrade = upgrade


def upgrade(*args, **kwargs):
    import sys, traceback
    try:
        _alembic_projects_upgrade(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        text = traceback.format_exception_only(e)[-1].strip().replace(chr(10), " ")
        print("ALEMBIC-PROJECTS-FAILED", revision, text, file=sys.stderr, flush=True)
"""
FAILED = re.compile(r"^ALEMBIC-PROJECTS-FAILED (\S+) (.*)$", re.M)


def stub(folder, dest, name, rev):
    header = read_header((folder.path / name).read_text(errors="replace"))
    (dest / name).write_text(STUB.format(values=(
        rev, header.get("down_revision"), header.get("branch_labels"), header.get("depends_on"))))


def loadable_copy(folder, dest):
    """A copy of the folder for Alembic in which every file that does not import is a stub
    with its header: {file: reason} of the stubbed files, and None, or the reason the folder
    does not load. The files are first imported in one process of Alembic's Python (one
    Alembic process per bad file would take minutes on some folders); Alembic's `heads` then
    confirms the copy loads."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(folder.path, dest)
    stubbed = {}
    by_file = {r["file"]: rev for rev, r in folder.revs.items()}
    venv_python = os.path.join(os.environ.get("VENV", "/opt/alembic-venv"), "bin", "python")
    run = subprocess.run([venv_python, "-I", "-c", IMPORT_CHECK] + [str(dest / f) for f in by_file],
                         capture_output=True, text=True)
    try:
        bad = json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        bad = {}
    for name, err in bad.items():
        stub(folder, dest, name, by_file[name])
        stubbed[name] = "does not import: " + err
    for name in by_file:
        text = (dest / name).read_text(errors="replace")
        if name not in stubbed and re.search(r"^def upgrade\(", text, re.M):
            (dest / name).write_text(text + GO_ON)
    for _ in range(len(folder.revs) + 1):
        code, _, err = oracle(dest, DIALECTS["sqlite"], ["heads"])
        if code == 0:
            return stubbed, None
        name = traceback_file(err)
        if name is None or name in stubbed or name not in by_file:
            return stubbed, error_line(err)
        stub(folder, dest, name, by_file[name])
        stubbed[name] = "does not import: " + error_line(err)
    return stubbed, "too many files do not import"


def alembic_renders(copy, folder, dialect):
    """{revision: (statements, None) | (None, reason)} for every measured revision."""
    url = DIALECTS[dialect]
    out = {}
    for start, chain in folder.chains():
        begin, todo = start, chain
        while todo:
            target = todo[-1]
            args = ["upgrade", f"{begin}:{target}" if begin else target, "--sql"]
            code, stdout, stderr = oracle(copy, url, args)
            segs = segments(stdout)
            failed_here = dict(FAILED.findall(stderr))
            done = 0
            while done < len(todo) and todo[done] in segs and segs[todo[done]][1]:
                rev = todo[done]
                out[rev] = (None, failed_here[rev]) if rev in failed_here else (segs[rev][0], None)
                done += 1
            if done == len(todo):
                break
            failed = todo[done]
            out[failed] = (None, error_line(stderr) if code else "no statements printed for it")
            begin, todo = failed, todo[done + 1:]
    return out


def migrate_renders(migrate, toml, folder, dialect, rev):
    """(statements, None) or (None, first line of the refusal)."""
    parents = folder.revs[rev]["parents"]
    target = f"{parents[0]}:{rev}" if parents else rev
    run = subprocess.run([migrate, "-c", str(toml), "--url", DIALECTS[dialect],
                          "upgrade", target, "--sql"], capture_output=True, text=True)
    if run.returncode != 0:
        return None, error_line(run.stderr)
    segs = segments(run.stdout)
    if rev not in segs:
        return None, "migrate printed no `-- Running upgrade` comment for it"
    return segs[rev][0], None


# ---------------------------------------------------------------- one project, one dialect

def extract(label, repo, path, mirror, work):
    """The folder at the mirror's HEAD, flattened, in WORK/projects/LABEL/versions; its commit."""
    git_dir = Path(mirror) / repo.replace("/", "+") / "repo"
    commit = subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    root = Path(work) / "projects" / label
    versions = root / "versions"
    stamp = root / "commit"
    if not (stamp.exists() and stamp.read_text() == commit):
        if root.exists():
            shutil.rmtree(root)
        raw = root / "raw"
        raw.mkdir(parents=True)
        archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", "HEAD", path],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(raw)], input=archive, check=True)
        versions.mkdir()
        for f in sorted((raw / path).rglob("*.py")):
            if f.name == "__init__.py" or "__pycache__" in f.parts:
                continue
            if (versions / f.name).exists():
                raise SystemExit(f"{label}: two files named {f.name}")
            shutil.copy(f, versions / f.name)
        shutil.rmtree(raw)
        (root / "migrate.toml").write_text(
            f'script_location = "{root}"\nurl = "sqlite:///x.db"\n')
        stamp.write_text(commit)
    return commit, root


def measure(job):
    """Every record of one folder on one dialect."""
    label, repo, path, commit, root, dialect, migrate, stubbed, load_error = job
    folder = Folder(root / "versions")
    records = []
    base = {"project": label, "repo": repo, "commit": commit, "folder": path,
            "dialect": dialect}
    for rev in folder.order():
        r = folder.revs[rev]
        if not folder.measured(rev):
            records.append(dict(base, file=r["file"], revision=rev, status="not-compared",
                                reason="merge" if len(r["parents"]) > 1 else "depends_on"))
    if load_error is not None:
        theirs = {rev: (None, "the folder does not load: " + load_error)
                  for rev in folder.revs if folder.measured(rev)}
    else:
        theirs = alembic_renders(root / "alembic", folder, dialect)
    for rev in folder.order():
        if not folder.measured(rev):
            continue
        r = folder.revs[rev]
        rec = dict(base, file=r["file"], revision=rev)
        if r["file"] in stubbed:
            theirs[rev] = (None, stubbed[r["file"]])
        alembic_st, alembic_err = theirs.get(rev, (None, "not rendered"))
        ours_st, ours_err = migrate_renders(migrate, root / "migrate.toml", folder, dialect, rev)
        rec["migrate_reason"] = ours_err
        if alembic_st is None:
            rec.update(status="alembic-fails", reason=alembic_err,
                       migrate_runs=ours_err is None)
        elif ours_st is None:
            rec.update(status="refused", reason=ours_err)
        else:
            a, m = own_statements(alembic_st, dialect), own_statements(ours_st, dialect)
            if a == m:
                rec.update(status="runs-equal", statements=len(a))
            elif same_sql(a, m, dialect):
                rec.update(status="same-sql", alembic=a, migrate=m)
            else:
                rec.update(status="differs", alembic=a, migrate=m)
        records.append(rec)
    tally = collections.Counter(r["status"] for r in records)
    print(f"{label} {dialect}: " + ", ".join(f"{n} {k}" for k, n in sorted(tally.items())),
          file=sys.stderr, flush=True)
    return records


# ---------------------------------------------------------------- the report

def reason_kind(reason):
    """A refusal's reason without what names the place (file, line, quoted names) and without
    migrate's advice on what to do instead."""
    r = re.sub(r"^.*? cannot be run by migrate( on \w+)?: ", "", reason)
    r = re.sub(r"\. Apply this step with Alembic.*$", "", r)
    r = re.sub(r"[\w./-]*\.py(:\d+)?(:\d+)?", "FILE", r)
    r = re.sub(r"\bat 0x[0-9a-f]+", "at 0x…", r)
    r = re.sub(r"\bline \d+(, column \d+)?", "line N", r)
    r = re.sub(r"'[^']*'", "'…'", r)
    r = re.sub(r"\b[0-9a-f]{12}\b", "REV", r)
    return r


def report(records, dialects, out):
    """The tables, the top reasons and every differing revision, as Markdown."""
    def w(line=""):
        print(line, file=out)

    counts = collections.defaultdict(collections.Counter)
    projects, revisions = [], collections.Counter()
    for rec in records:
        if rec["project"] not in projects:
            projects.append(rec["project"])
        counts[(rec["project"], rec["dialect"])][rec["status"]] += 1
        counts[("", rec["dialect"])][rec["status"]] += 1
        if rec["dialect"] == dialects[0]:
            revisions[rec["project"]] += 1

    def renderable(c):
        return c["runs-equal"] + c["same-sql"] + c["refused"] + c["differs"]

    w("Per folder and dialect: revisions Alembic renders offline / migrate runs (exactly "
      "Alembic's text + the same SQL laid out otherwise) / refused / differs.")
    w()
    w("| project | revisions | " + " | ".join(dialects) + " |")
    w("|---|---|" + "---|" * len(dialects))
    for p in projects:
        cells = []
        for d in dialects:
            c = counts[(p, d)]
            runs = f"{c['runs-equal']}+{c['same-sql']}" if c["same-sql"] else f"{c['runs-equal']}"
            cells.append(f"{renderable(c)} / {runs} / {c['refused']} / {c['differs']}")
        w(f"| {p} | {revisions[p]} | " + " | ".join(cells) + " |")
    w()
    w("| dialect | revisions | merges etc. | Alembic fails | renderable | runs exactly | "
      "same SQL, other layout | refused | differs | share run |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for d in dialects:
        c = counts[("", d)]
        n = renderable(c)
        share = 100 * (c["runs-equal"] + c["same-sql"]) / n if n else 0
        w(f"| {d} | {sum(c.values())} | {c['not-compared']} | {c['alembic-fails']} | {n} | "
          f"{c['runs-equal']} | {c['same-sql']} | {c['refused']} | {c['differs']} | "
          f"{share:.1f}% |")
    w()
    w("Top refusal reasons (revision x dialect):")
    w()
    reasons = collections.Counter(reason_kind(r["reason"]) for r in records
                                  if r["status"] == "refused")
    for reason, n in reasons.most_common(12):
        w(f"- {n}: {reason}")
    w()
    w("Top reasons Alembic cannot render a revision offline (revision x dialect):")
    w()
    fails = collections.Counter(reason_kind(r["reason"])[:150] for r in records
                                if r["status"] == "alembic-fails")
    for reason, n in fails.most_common(8):
        w(f"- {n}: {reason}")
    layout = [r for r in records if r["status"] == "same-sql"]
    w()
    w(f"Same SQL as Alembic's, other layout: {len(layout)}")
    for r in layout:
        w(f"- {r['project']} {r['file']} ({r['dialect']})")
    differs = [r for r in records if r["status"] == "differs"]
    w()
    w(f"Differing statements: {len(differs)}")
    for r in differs:
        w()
        w(f"### {r['project']} {r['file']} ({r['dialect']})")
        w()
        w("Alembic:")
        w("```sql\n" + "\n\n".join(r["alembic"]) + "\n```")
        w("migrate:")
        w("```sql\n" + "\n\n".join(r["migrate"]) + "\n```")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--migrate", default="/tmp/public-share/migrate")
    ap.add_argument("--mirror", default="/work/.mirror")
    ap.add_argument("--work", default="/tmp/alembic-projects")
    ap.add_argument("--projects", help="comma-separated labels (default: all)")
    ap.add_argument("--dialects", default=",".join(DIALECTS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write every record here")
    ap.add_argument("--list", action="store_true", help="print the projects and commits")
    ap.add_argument("--from-json", help="print the report of an earlier --json file again")
    args = ap.parse_args()
    dialects = args.dialects.split(",")
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        report(saved["records"], saved["meta"]["dialects"], sys.stdout)
        return
    chosen = [p for p in PROJECTS if not args.projects or p[0] in args.projects.split(",")]
    started = time.monotonic()

    prepared = []
    for label, repo, path in chosen:
        commit, root = extract(label, repo, path, args.mirror, args.work)
        prepared.append((label, repo, path, commit, root))
        if args.list:
            print(f"{label}\t{repo}\t{commit}\t{path}\t{len(Folder(root / 'versions').revs)}")
    if args.list:
        return

    def prepare_alembic(p):
        label, repo, path, commit, root = p
        folder = Folder(root / "versions")
        return loadable_copy(folder, root / "alembic")

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        loads = list(pool.map(prepare_alembic, prepared))
        jobs = [(label, repo, path, commit, root, d, args.migrate, stubbed, err)
                for (label, repo, path, commit, root), (stubbed, err) in zip(prepared, loads)
                for d in dialects]
        results = list(pool.map(measure, jobs))
    records = [r for rs in results for r in rs]
    elapsed = time.monotonic() - started
    if args.json:
        meta = {"projects": [{"label": p[0], "repo": p[1], "folder": p[2], "commit": p[3]}
                             for p in prepared],
                "dialects": dialects, "urls": DIALECTS, "seconds": round(elapsed, 1),
                "jobs": args.jobs, "migrate": args.migrate}
        Path(args.json).write_text(json.dumps({"meta": meta, "records": records}, indent=1))
    report(records, dialects, sys.stdout)
    print(f"\n{len(prepared)} folders, {len(dialects)} dialects, {elapsed:.0f} s "
          f"with {args.jobs} workers")

if __name__ == "__main__":
    main()
