#!/usr/bin/env bash
# The production-line figure: 4 stations (4 `ryz014 provision` processes) × 16 simulated modems
# each against one shared PostgreSQL inventory, over 1 station × 16 modems against a SQLite file;
# `ryz014-sim` on pseudo-terminals at real time (--time-scale 1). Target: at most 1.10.
#
# The PostgreSQL is a throw-away one (scripts/pg-throwaway.sh: initdb + pg_ctl in a temporary
# folder on 127.0.0.1), deleted at the end. Each figure is the median of RUNS runs; every run uses
# fresh simulators and a fresh inventory (a new database).
#
# Usage: scripts/bench-stations.sh
# Env:   RYZ014=<path> RYZ014_SIM=<path>   use these binaries instead of building them (release)
#        RUNS=<n>   runs per figure (default 3)
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
STATIONS=4
PER_STATION=16
PROFILE=profiles/coiote-standard.toml

if [[ -z "${RYZ014:-}" || -z "${RYZ014_SIM:-}" ]]; then
    cargo build --release -q -p ryz014-serial --bin ryz014 -p ryz014-sim --bin ryz014-sim
    TARGET="${CARGO_TARGET_DIR:-target}"
    RYZ014="${RYZ014:-$TARGET/release/ryz014}"
    RYZ014_SIM="${RYZ014_SIM:-$TARGET/release/ryz014-sim}"
fi

WORK="$(mktemp -d)"
# Its own temporary folder: as root the server runs as `nobody`, who cannot enter $WORK.
PG_DIR="$(mktemp -d)"
SIM_PIDS=()
stop_sims() {
    for pid in "${SIM_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${SIM_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    SIM_PIDS=()
}
trap 'stop_sims; scripts/pg-throwaway.sh stop "$PG_DIR" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

ADMIN_URL=$(scripts/pg-throwaway.sh start "$PG_DIR")
PSQL=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql

luhn() {
    local body=$1 sum=0 i d
    for ((i = 0; i < 14; i++)); do
        d=${body:13-i:1}
        if ((i % 2 == 0)); then
            d=$((d * 2))
            ((d > 9)) && d=$((d - 9))
        fi
        sum=$((sum + d))
    done
    echo "${body}$(((10 - sum % 10) % 10))"
}

# start_sims N FIRST -> PORTS: N simulators with IMEIs FIRST, FIRST+1, …
start_sims() {
    local n=$1 first=$2 i out
    PORTS=()
    for ((i = 0; i < n; i++)); do
        out="$WORK/sim-$run-$first-$i.out"
        "$RYZ014_SIM" --time-scale 1 \
            --imei "$(luhn "$(printf '%014d' $((35000000000000 + first + i)))")" >"$out" 2>/dev/null &
        SIM_PIDS+=($!)
        for _ in $(seq 1500); do
            grep -q '^PTY ' "$out" 2>/dev/null && break
            sleep 0.02
        done
        PORTS+=("$(awk '/^PTY /{print $2; exit}' "$out")")
    done
}

provision() { # INVENTORY STATION PORTS...
    local inv=$1 station=$2 args=() p
    shift 2
    for p in "$@"; do args+=(-p "$p"); done
    "$RYZ014" provision --json --profile "$PROFILE" --inventory "$inv" --station "$station" \
        "${args[@]}" >"$WORK/provision-$station.out" 2>&1 ||
        { echo "station $station failed:" >&2; tail -5 "$WORK/provision-$station.out" >&2; return 1; }
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "binaries: $RYZ014, $RYZ014_SIM; PostgreSQL $ADMIN_URL; $RUNS run(s) per figure" >&2
sqlite=()
pg=()
for ((run = 1; run <= RUNS; run++)); do
    start_sims "$PER_STATION" 0
    rm -f "$WORK"/inv.sqlite*
    t0=$(now)
    provision "$WORK/inv.sqlite" one "${PORTS[@]}"
    sqlite+=("$(elapsed "$t0" "$(now)")")
    stop_sims

    db="bench_$run"
    "$PSQL" -q "$ADMIN_URL" -c "CREATE DATABASE $db"
    url="${ADMIN_URL%/*}/$db"
    # The schema first, as a line's first station would create it.
    "$RYZ014" inventory list --inventory "$url" >/dev/null 2>&1 || true
    all=()
    for ((s = 0; s < STATIONS; s++)); do
        start_sims "$PER_STATION" $((1000 + s * PER_STATION))
        all+=("${PORTS[*]}")
    done
    pids=()
    t0=$(now)
    for ((s = 0; s < STATIONS; s++)); do
        # shellcheck disable=SC2086
        provision "$url" "station-$s" ${all[s]} &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    pg+=("$(elapsed "$t0" "$(now)")")
    stop_sims
    verified=$("$PSQL" -tA "$url" -c "SELECT count(*) FROM devices WHERE state = 'verified'")
    [[ "$verified" == $((STATIONS * PER_STATION)) ]] ||
        { echo "expected $((STATIONS * PER_STATION)) verified records, found $verified" >&2; exit 1; }
    echo "run $run: 1 station x $PER_STATION on SQLite ${sqlite[-1]} s, $STATIONS stations x $PER_STATION on PostgreSQL ${pg[-1]} s" >&2
done
ONE=$(printf '%s\n' "${sqlite[@]}" | median)
LINE=$(printf '%s\n' "${pg[@]}" | median)
awk -v one="$ONE" -v line="$LINE" -v s=$STATIONS -v n=$PER_STATION 'BEGIN {
    printf "production line: %d stations x %d modems on PostgreSQL %.2f s / 1 station x %d on SQLite %.2f s = %.3f  (target <= 1.10)\n", s, n, line, n, one, line / one
}'
