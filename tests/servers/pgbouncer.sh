#!/usr/bin/env bash
# Start a PgBouncer of our own in transaction pooling mode in front of a PostgreSQL server,
# for the tests (tests/tests/pgbouncer.rs) and CI (.ci/run). Never touches the server's own
# configuration: trust authentication between PgBouncer and the server is whatever the
# server already allows for the user.
#
#   tests/servers/pgbouncer.sh start DIR PORT [SERVER_HOST] [SERVER_PORT] [USER]
#       writes DIR/pgbouncer.ini, starts PgBouncer in the background (DIR/pgbouncer.pid,
#       DIR/pgbouncer.log), waits until it accepts connections and prints its URL.
#   tests/servers/pgbouncer.sh stop DIR
set -euo pipefail

usage() { echo "usage: $0 start DIR PORT [SERVER_HOST] [SERVER_PORT] [USER] | stop DIR" >&2; exit 2; }

case "${1:-}" in
start)
  [ $# -ge 3 ] || usage
  dir=$2 port=$3 server_host=${4:-127.0.0.1} server_port=${5:-5432} user=${6:-postgres}
  bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  [ -x "$bin" ] || { echo "pgbouncer is not installed (apt-get install -y pgbouncer)" >&2; exit 1; }
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=$server_host port=$server_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  printf '"%s" ""\n' "$user" >"$dir/users.txt"
  # PgBouncer refuses to run as root: then it drops to the postgres user, which must be
  # able to read its files and write its log.
  as_user=()
  if [ "$(id -u)" = 0 ]; then
    as_user=(-u postgres)
    chown -R postgres "$dir"
    chmod 755 "$dir"
  fi
  "$bin" -d "${as_user[@]}" "$dir/pgbouncer.ini"
  url="postgres://$user@127.0.0.1:$port/postgres"
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$url"
      exit 0
    fi
    sleep 0.1
  done
  echo "PgBouncer did not start on port $port; its log:" >&2
  cat "$dir/pgbouncer.log" >&2 || true
  exit 1
  ;;
stop)
  [ $# -ge 2 ] || usage
  if [ -f "$2/pgbouncer.pid" ]; then
    kill "$(cat "$2/pgbouncer.pid")" 2>/dev/null || true
  fi
  ;;
*) usage ;;
esac
