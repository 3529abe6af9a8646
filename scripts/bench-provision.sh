#!/usr/bin/env bash
# The provisioning figures, against `ryz014-sim` on pseudo-terminals at real time (--time-scale 1):
#
#  (a) overhead: `ryz014 provision` wall time for one modem over the simulator's own mandatory
#      delays, i.e. what a perfect tool would still wait for: the plan's reboots × the boot time
#      (reset → +SYSSTART) + the network search and attach after the last reboot (the plan waits
#      for +CEREG: 1 there). Target: at most 1.10.
#  (b) parallel: 8 ports provisioned at once (one `ryz014 provision -p … ×8`) over 1 port.
#      Target: at most 1.25.
#  (c) overhead through a serial-to-network bridge: (a) with the simulator's pseudo-terminal
#      behind `ser2net` on 127.0.0.1, reached as socket://127.0.0.1:PORT (raw TCP) and as
#      rfc2217://127.0.0.1:PORT (Telnet COM port control). Skipped when ser2net is not installed.
#
# Each figure takes the median of RUNS runs; every run uses fresh simulators and a fresh inventory.
#
# Usage: scripts/bench-provision.sh
# Env:   RYZ014=<path> RYZ014_SIM=<path>   use these binaries instead of building them (release)
#        RUNS=<n>        runs per figure (default 3)
#        BOOT_MS, ATTACH_MS   the simulator's boot and attach times (defaults 3000, 2000: its own)
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
BOOT_MS="${BOOT_MS:-3000}"
ATTACH_MS="${ATTACH_MS:-2000}"
SEARCH_MS=100   # the simulator's fixed delay from +SYSSTART to +CEREG: 2 (Timings::search)
REBOOTS=2       # AT^RESET and AT+CFUN=1,1 in the default profile's plan
PROFILE=profiles/coiote-standard.toml

if [[ -z "${RYZ014:-}" || -z "${RYZ014_SIM:-}" ]]; then
    cargo build --release -q -p ryz014-serial --bin ryz014 -p ryz014-sim --bin ryz014-sim
    RYZ014="${RYZ014:-target/release/ryz014}"
    RYZ014_SIM="${RYZ014_SIM:-target/release/ryz014-sim}"
fi

WORK="$(mktemp -d)"
SIM_PIDS=()
stop_sims() {
    for pid in "${SIM_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${SIM_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    SIM_PIDS=()
}
BRIDGE_PID=
stop_bridge() {
    if [[ -n "$BRIDGE_PID" ]]; then
        kill "$BRIDGE_PID" 2>/dev/null || true
        wait "$BRIDGE_PID" 2>/dev/null || true
        BRIDGE_PID=
    fi
}
trap 'stop_bridge; stop_sims; rm -rf "$WORK"' EXIT

SER2NET=$(command -v ser2net || { [[ -x /usr/sbin/ser2net ]] && echo /usr/sbin/ser2net; } || true)

# start_bridge MODE DEVICE -> URL: ser2net exposing DEVICE on a free loopback port, in MODE
# (raw or rfc2217)
start_bridge() {
    local mode=$1 device=$2 port accepter scheme
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    if [[ $mode == rfc2217 ]]; then
        accepter="telnet(rfc2217),tcp,127.0.0.1,$port" scheme=rfc2217
    else
        accepter="tcp,127.0.0.1,$port" scheme=socket
    fi
    printf 'connection: &modem\n  accepter: %s\n  connector: serialdev,%s,115200n81,local\n  options:\n    kickolduser: true\n    mdns: false\n' \
        "$accepter" "$device" >"$WORK/ser2net.yaml"
    "$SER2NET" -n -u -P "$WORK/ser2net.pid" -c "$WORK/ser2net.yaml" >"$WORK/ser2net.log" 2>&1 &
    BRIDGE_PID=$!
    for _ in $(seq 500); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.02
    done
    URL="$scheme://127.0.0.1:$port"
}

# luhn BODY14 -> the 15-digit IMEI
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

# start_sims N -> fills PORTS with N pseudo-terminals, each a simulator with its own IMEI
start_sims() {
    local n=$1 i out
    PORTS=()
    for ((i = 0; i < n; i++)); do
        out="$WORK/sim-$i.out"
        "$RYZ014_SIM" --time-scale 1 --boot-ms "$BOOT_MS" --attach-ms "$ATTACH_MS" \
            --imei "$(luhn "$(printf '%014d' $((35000000000000 + i)))")" >"$out" 2>"$WORK/sim-$i.err" &
        SIM_PIDS+=($!)
        for _ in $(seq 1500); do
            grep -q '^PTY ' "$out" 2>/dev/null && break
            sleep 0.02
        done
        if ! grep -q '^PTY ' "$out"; then
            echo "ryz014-sim did not start:" >&2
            cat "$WORK/sim-$i.err" >&2
            exit 1
        fi
        PORTS+=("$(awk '/^PTY /{print $2; exit}' "$out")")
    done
}

# provision_time N [MODE] -> T: seconds for one `ryz014 provision` over N fresh simulators
# (MODE raw or rfc2217: the one simulator behind a ser2net bridge)
provision_time() {
    local n=$1 mode=${2:-} args=() p t0 t1
    start_sims "$n"
    if [[ -n "$mode" ]]; then
        start_bridge "$mode" "${PORTS[0]}"
        PORTS=("$URL")
    fi
    for p in "${PORTS[@]}"; do args+=(-p "$p"); done
    rm -f "$WORK"/inv.sqlite*
    t0=$(date +%s.%N)
    if ! "$RYZ014" provision --json --profile "$PROFILE" --inventory "$WORK/inv.sqlite" "${args[@]}" \
        >"$WORK/provision.out" 2>&1; then
        echo "provisioning $n port(s) failed:" >&2
        tail -5 "$WORK/provision.out" >&2
        exit 1
    fi
    t1=$(date +%s.%N)
    stop_bridge
    stop_sims
    T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

MANDATORY=$(awk -v r=$REBOOTS -v b="$BOOT_MS" -v s=$SEARCH_MS -v a="$ATTACH_MS" \
    'BEGIN { printf "%.3f", (r * b + s + a) / 1000 }')

echo "binaries: $RYZ014, $RYZ014_SIM; $RUNS run(s) per figure, median kept" >&2
one=()
eight=()
raw=()
telnet=()
for ((run = 1; run <= RUNS; run++)); do
    provision_time 1
    one+=("$T")
    provision_time 8
    eight+=("$T")
    line="run $run: 1 port ${one[-1]} s, 8 ports ${eight[-1]} s"
    if [[ -n "$SER2NET" ]]; then
        provision_time 1 raw
        raw+=("$T")
        provision_time 1 rfc2217
        telnet+=("$T")
        line+=", socket:// ${raw[-1]} s, rfc2217:// ${telnet[-1]} s"
    fi
    echo "$line" >&2
done
ONE=$(printf '%s\n' "${one[@]}" | median)
EIGHT=$(printf '%s\n' "${eight[@]}" | median)

awk -v one="$ONE" -v eight="$EIGHT" -v m="$MANDATORY" -v r=$REBOOTS -v b="$BOOT_MS" \
    -v s=$SEARCH_MS -v a="$ATTACH_MS" 'BEGIN {
    printf "(a) provisioning overhead: %.2f s wall / %.2f s of simulator delays (%d reboots x %d ms boot + %d ms search + %d ms attach) = %.3f  (target <= 1.10)\n", one, m, r, b, s, a, one / m
    printf "(b) parallel provisioning: 8 ports %.2f s / 1 port %.2f s = %.3f  (target <= 1.25)\n", eight, one, eight / one
}'
if [[ -n "$SER2NET" ]]; then
    RAW=$(printf '%s\n' "${raw[@]}" | median)
    TELNET=$(printf '%s\n' "${telnet[@]}" | median)
    awk -v raw="$RAW" -v tel="$TELNET" -v m="$MANDATORY" 'BEGIN {
    printf "(c) provisioning overhead through ser2net on 127.0.0.1: socket:// %.2f s / %.2f s = %.3f; rfc2217:// %.2f s / %.2f s = %.3f\n", raw, m, raw / m, tel, m, tel / m
}'
else
    echo "(c) provisioning through a bridge: skipped (ser2net is not installed)"
fi
