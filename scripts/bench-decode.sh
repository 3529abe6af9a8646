#!/usr/bin/env bash
# The `decode` throughput figure: `ryz014 decode` on a 100 MB realistic modem log, beside
# `grep -c SQNFOTA` on the same file (target: decode takes at most 3 times grep's time).
#
# The log is generated deterministically (perl, fixed seed): command echoes and their answers,
# `+SQNFOTA` download progress and whole upgrades, `+SQNDMST`, `+CEREG`, `ATI1`, DM and FOTA
# configuration reads (a PSK command included), note-style transcript lines with `// comments`,
# capture noise (control bytes, bytes that are not UTF-8, unknown lines). About 4 % of the lines
# are unique (changing timers, noise); the rest repeat, as in real captures.
#
# Usage: scripts/bench-decode.sh [SIZE_MB]   (default 100; the log is kept in target/bench-decode/)
# Env:   RYZ014=<path>   use this binary instead of building target/release/ryz014
#        RUNS=<n>        timed runs of each command (best kept; default 3)
set -euo pipefail

cd "$(dirname "$0")/.."
SIZE_MB="${1:-100}"
RUNS="${RUNS:-3}"
DIR=target/bench-decode
LOG="$DIR/capture-${SIZE_MB}MB.log"
mkdir -p "$DIR"

if [[ -z "${RYZ014:-}" ]]; then
    cargo build --release -q -p ryz014-serial --bin ryz014
    RYZ014=target/release/ryz014
fi

if [[ ! -s "$LOG" ]]; then
    echo "generating $LOG (${SIZE_MB} MB)..." >&2
    SIZE_MB="$SIZE_MB" perl -e '
        use strict; use warnings;
        my $limit = $ENV{SIZE_MB} * 1024 * 1024;
        my $seed = 0x2014;
        sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed % $_[0]; }
        binmode STDOUT;
        my $out = "";
        my $total = 0;
        sub r { $out .= "\r\n$_[0]\r\n"; }     # a response line as the modem frames it
        sub e { $out .= "$_[0]\r"; }           # a command echo
        while ($total < $limit) {
            my $k = rnd(100);
            if ($k < 20) {
                r("+SQNFOTA: 5,3,$_") for map { $_ * 10 } 0..10;
            } elsif ($k < 28) {
                r("+SQNFOTA: $_") for (1, 2, 3, 4, 3);
                r("+SQNFOTA: \"available\""); r("+SQNFOTA: 5");
                r("+SQNFOTA: \"downloaded\""); r("+SQNFOTA: 6"); r("+SQNFOTA: 7");
                r("+SQNFOTA: \"install\""); r("+SHUTDOWN"); r("+SYSSTART"); r("+CEREG: 2");
                r("+SQNFOTA: 8"); r("+SQNFOTA: \"installed\",\"5.4.1.1-57830\"");
                r("+CEREG: 1,\"0002\",\"01A2D002\",7");
            } elsif ($k < 32) {
                # The note, section 4.7.1, as printed (with its // comments).
                $out .= "+SQNFOTA: \"downloaded\"\n+SQNFOTA: 6 // The FW is downloaded (software\npackage)\n"
                      . "+SQNFOTA: 7 // Upgrading (software)\n+SQNFOTA: \"install\"\n"
                      . "+SYSSTART // Reboot to install FW\n+SQNFOTA: 3 // Idle\n"
                      . "+SQNFOTA: 3,8 // Idle, installation failure\n";
            } elsif ($k < 45) {
                e("AT+SQNDMST");
                my $up = rnd(90000);
                r("+SQNDMST: \"bs\",100,\"BS_FINISHED\",10,-1");
                r("+SQNDMST: \"dm\",102,\"REGISTERED\",2592000,$up");
                r("+SQNDMST: \"dm\",101,\"REGISTERED\",86400," . ($up % 86400));
                r("OK");
            } elsif ($k < 56) {
                r("+CEREG: 2"); r("+CEREG: 1,\"0002\",\"01A2D002\",7");
                e("AT+CEREG?"); r("+CEREG: 2,1,\"0002\",\"01A2D002\",7"); r("OK");
            } elsif ($k < 65) {
                e("ATI1"); r("UE5.4.1.1"); r("LR5.4.1.1-57857"); r("OK");
                e("AT+CGSN"); r("015770000031766"); r("OK");
                e("AT+SQNCTM?"); r("+SQNCTM: standard"); r("OK");
            } elsif ($k < 74) {
                e("AT+SQNDMCFG=\"standard\",\"psk\",100,\"urn:imei:015770000031766\",\"87493467538357\""); r("OK");
                e("AT+SQNDMCFG=\"standard\",\"server\"");
                r("+SQNDMCFG: \"standard\",\"server\",100,60,\"coaps://eu.iot.avsystem.cloud:5694\",1,\"bs\"");
                r("OK");
                e("AT+SQNDMCFG=\"standard\",\"psk\"");
                r("+SQNDMCFG: \"standard\",\"psk\",100,\"urn:imei:015770000031766\",\"8749\"");
                r("OK");
            } elsif ($k < 82) {
                e("AT+SQNFOTACFG?"); r("+SQNFOTACFG: \"standard\",0,2,10,60,60,,11"); r("OK");
                e("AT+CFUN?"); r("+CFUN: 1"); r("OK");
                e("AT+SQNAUTOCONNECT?"); r("+SQNAUTOCONNECT: 1"); r("OK");
            } elsif ($k < 88) {
                e("AT+NOPE"); r("+CME ERROR: 4");
                e("AT+SQNFACTORYSAVE=\"oem\""); r("ERROR");
            } elsif ($k < 95) {
                # Capture noise: control bytes, bytes that are not UTF-8, OCR-like unknown lines.
                $out .= "\x00\x00\r\n+SQN\xffFOTA: 5\x1b,3,40\r\n";
                r("+SONFOTA: 5,3,70");
                $out .= "\r\nSEQUANS \xc3\xa9\xc3 Communications\r\n";
                $out .= chr(rnd(256)) for 1 .. rnd(24);
                $out .= "\r\n";
            } else {
                r("+SQNSUPGRADE: \"downloading\"," . rnd(100));
                r("some application debug output that is not an AT line at all " . rnd(1000000));
            }
            if (length($out) > 65536) { print $out; $total += length($out); $out = ""; }
        }
        print $out;
    ' > "$LOG.tmp"
    mv "$LOG.tmp" "$LOG"
fi

bytes=$(stat -c %s "$LOG")
# Warm the page cache so that both commands read from memory.
cat "$LOG" > /dev/null

best() { # best wall time (seconds) of RUNS runs of "$@" with stdout to file $OUT
    local best=""
    for _ in $(seq "$RUNS"); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" > "$OUT" || true
        t1=$(date +%s.%N)
        best=$(echo "$t0 $t1 ${best:-1e9}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
    done
    echo "$best"
}

# GNU grep stops at the first match when its output is /dev/null: give it a real file. decode's
# output (several times the log's size) goes to /dev/null, so that the figure is decode's own work.
g=$(OUT="$DIR/grep.out" best grep -c SQNFOTA "$LOG")
d=$(OUT=/dev/null best "$RYZ014" decode "$LOG")
j=$(OUT=/dev/null best "$RYZ014" decode --json "$LOG")
awk -v cores="$(nproc)" -v b="$bytes" -v g="$g" -v d="$d" -v j="$j" 'BEGIN {
    mb = b / 1e6
    printf "log:                    %.1f MB (%d cores; decode uses them all)\n", mb, cores
    printf "grep -c SQNFOTA:        %.3f s  (%.0f MB/s)\n", g, mb / g
    printf "ryz014 decode:          %.3f s  (%.0f MB/s)  ratio %.2f (target <= 3)\n", d, mb / d, d / g
    printf "ryz014 decode --json:   %.3f s  (%.0f MB/s)  ratio %.2f\n", j, mb / j, j / g
}'
