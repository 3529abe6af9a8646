#!/usr/bin/env bash
# A throw-away PostgreSQL for the tests and the benchmark: Debian's server binaries (initdb,
# pg_ctl), a data directory in a temporary folder, listening on 127.0.0.1 only, on a free port.
#
#   scripts/pg-throwaway.sh start DIR   # prints the URL (postgres://ryz014@127.0.0.1:PORT/postgres)
#   scripts/pg-throwaway.sh stop DIR
#
# PostgreSQL refuses to run as root: as root, the server runs as the user `nobody`, who owns DIR.
set -euo pipefail

cmd=${1:?usage: pg-throwaway.sh start|stop DIR}
dir=${2:?usage: pg-throwaway.sh start|stop DIR}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$bin/initdb" ] || { echo "pg-throwaway: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown nobody: "$dir"
      runuser -u nobody -- test -w "$dir" ||
        { echo "pg-throwaway: the user nobody cannot write to $dir (a parent folder is private)" >&2; exit 1; }
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U ryz014 --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    for _ in $(seq 1 20); do
      port=$(( 20000 + RANDOM % 40000 ))
      # A port that something already listens on is skipped; a race is caught by pg_ctl failing.
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
          -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" \
          start >/dev/null 2>&1; then
        echo "postgres://ryz014@127.0.0.1:$port/postgres" | tee "$dir/url"
        exit 0
      fi
    done
    echo "pg-throwaway: the server did not start; see $dir/server.log" >&2
    tail -n 20 "$dir/server.log" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg-throwaway.sh start|stop DIR" >&2
    exit 2
    ;;
esac
