#!/usr/bin/env bash
# Whole-process benchmarks of migrate against the native clients (the floor) and Alembic 1.20.
# Needs: python3 (standard library only), sqlite3, psql and mariadb clients, the servers on
# 127.0.0.1 (PostgreSQL 5432 user postgres trust auth, MariaDB 3306 root without password), a
# release build of migrate (target/release/migrate, or --migrate PATH) and Alembic in
# /opt/alembic-venv (installed by /work/shared/alembic-oracle/setup.sh when missing, or ALEMBIC=).
#
#   bench/run.sh --quick                         # N=100,1,000, chain, a couple of minutes
#   bench/run.sh                                  # the full run (~20 minutes on 2 cores)
#   bench/run.sh --backends sqlite --n 100,1000,10000 -v
#   bench/run.sh --help
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get install -y time >/dev/null; fi
    [ -x /usr/bin/time ] || { echo "bench/run.sh: GNU time is missing (apt-get install -y time)" >&2; exit 1; }
fi
for tool in python3 sqlite3; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing (apt-get install -y $tool)" >&2; exit 1; }
done
exec python3 "$here/bench.py" "$@"
