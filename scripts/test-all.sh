#!/usr/bin/env bash
# Runs every test of the ryz014 workspace, installing what it needs first.
#
#   scripts/test-all.sh
#
# Works on a fresh Debian machine with a Rust toolchain (rustup) and nothing else installed by
# hand: run it as root (or with sudo available) the first time, non-interactively. Idempotent:
# every install step is skipped when the tool is already present at the right version.
#
# Steps (each prints its duration; the summary lists them all):
#   1. installs: rustfmt/clippy, the wasm32 target, the MSRV toolchain (the workspace's
#      rust-version, with its wasm32 target), wasm-bindgen-cli at the Cargo.lock version,
#      cargo-deny 0.20.2, Debian's chromium + chromium-driver, ser2net (the network bridge of the
#      serial crate's tests), PostgreSQL 15's server binaries (the shared inventory's tests), and, for the web page, trunk 0.21.14, binaryen's wasm-opt (npm
#      binaryen@132, in target/tools) and playwright-core (npm ci in tests/browser)
#   2. cargo fmt --check; cargo clippy -D warnings (native workspace; core and web on wasm32);
#      cargo +<MSRV> check --locked (native workspace; core and web on wasm32); cargo deny
#      (licenses and duplicate versions, deny.toml; offline: no advisory database here)
#   3. cargo test --workspace (native; includes the CLI end-to-end tests against ryz014-sim on
#      pseudo-terminals, crates/ryz014-serial/tests), with a throw-away PostgreSQL
#      (scripts/pg-throwaway.sh: initdb + pg_ctl in a temporary folder, 127.0.0.1 on a free port,
#      stopped at exit) whose URL the inventory tests get in RYZ014_TEST_POSTGRES
#   4. the core's (and the web crate's) tests compiled to wasm32, in headless Chromium
#   5. trunk build --release of the web page, with its gzipped wasm+JS size checked against the
#      350 KB budget
#   6. the browser end-to-end tests (tests/browser: playwright-core + /usr/bin/chromium) on the built
#      page served from localhost
# A stage whose crate or folder does not exist yet is skipped with a "not present yet" line.
#
# Exit status: 0 when everything ran and passed; non-zero at the first failure (fail fast).
# Environment: CARGO_TARGET_DIR is honoured; CHROMEDRIVER overrides the driver's path;
# WASM_BINDGEN_TEST_TIMEOUT (seconds per browser test binary, default 120 here).
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
export PATH="$HOME/.cargo/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

TRUNK_VERSION=0.21.14 # Trunk 0.22 needs a newer rustc than ours.
CARGO_DENY_VERSION=0.20.2 # needs rustc 1.88 or newer to build
BINARYEN_VERSION=132  # npm `binaryen@132`: wasm-opt for `trunk build --release` (Trunk.toml pins version_132).
TOOLS_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/tools" # npm-installed tools (git-ignored)
LOG_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/test-all"
TEST_LOG="$LOG_DIR/tests.log" # every cargo test output of this run, for the pass/fail count
mkdir -p "$LOG_DIR"
: >"$TEST_LOG"

# ---------------------------------------------------------------------------------------------
# Output helpers: section headers, per-step timings, a clear message on failure.

RUN_START=$(date +%s)
STEP_NAME=""
STEP_START=0
STEP_REPORT=()
SKIPPED=()   # stages skipped because their crate or folder does not exist yet
WEB_SIZE="" # the gzipped wasm+JS size of the release page, for the summary

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

end_step() {
  if [ -n "$STEP_NAME" ]; then
    local took=$(($(date +%s) - STEP_START))
    STEP_REPORT+=("$(printf '  %-62s %s' "$STEP_NAME" "$(fmt_secs "$took")")")
    echo "--- done: $STEP_NAME ($(fmt_secs "$took"))"
    STEP_NAME=""
  fi
}

step() {
  end_step
  STEP_NAME="$1"
  STEP_START=$(date +%s)
  echo
  echo "=============================================================================================="
  echo "=== $STEP_NAME"
  echo "=============================================================================================="
}

die() {
  echo "test-all: ERROR: $*" >&2
  exit 1
}

# Sums libtest's (and wasm-bindgen-test-runner's, and tests/browser/run.mjs's) "test result: ... N
# passed; M failed" lines.
count_tests() {
  awk '/^test result: / {
         for (i = 1; i <= NF; i++) {
           if ($(i + 1) ~ /^passed;?$/) p += $i
           if ($(i + 1) ~ /^failed;?$/) f += $i
         }
       }
       END { printf "%d passed, %d failed\n", p, f }' "$TEST_LOG"
}

on_exit() {
  local status=$?
  if [ -n "${PG_DIR:-}" ]; then scripts/pg-throwaway.sh stop "$PG_DIR" || true; fi
  local failed_step="$STEP_NAME"
  if [ "$status" -eq 0 ]; then
    end_step
  elif [ -n "$STEP_NAME" ]; then
    STEP_REPORT+=("$(printf '  %-62s %s  FAILED' "$STEP_NAME" "$(fmt_secs $(($(date +%s) - STEP_START)))")")
  fi
  echo
  echo "=============================================================================================="
  echo "Timings:"
  if [ "${#STEP_REPORT[@]}" -gt 0 ]; then printf '%s\n' "${STEP_REPORT[@]}"; fi
  printf '  %-62s %s\n' "total" "$(fmt_secs $(($(date +%s) - RUN_START)))"
  if [ "${#SKIPPED[@]}" -gt 0 ]; then
    echo "Skipped (not present yet):"
    printf '  %s\n' "${SKIPPED[@]}"
  fi
  if [ -n "$WEB_SIZE" ]; then echo "Web page size: $WEB_SIZE"; fi
  echo "Per test run (passed/failed):"
  awk '/^test-all: suite / { name = $0; sub(/^test-all: suite /, "", name) }
       /^test result: / {
         for (i = 1; i <= NF; i++) {
           if ($(i + 1) ~ /^passed;?$/) p[name] += $i
           if ($(i + 1) ~ /^failed;?$/) f[name] += $i
         }
         if (!(name in seen)) { seen[name] = 1; order[++n] = name }
       }
       END { for (k = 1; k <= n; k++) printf "  %-62s %d passed, %d failed\n", order[k], p[order[k]], f[order[k]] }' "$TEST_LOG"
  if [ "$status" -ne 0 ]; then
    echo "test-all: FAILED in step: ${failed_step:-setup} (exit status $status)" >&2
    echo "test-all: tests counted before the failure: $(count_tests)" >&2
  else
    echo "test-all: all steps passed"
    count_tests
  fi
  exit "$status"
}
trap on_exit EXIT

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -E "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# The version of a package in Cargo.lock (the first one, if several).
lock_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/^version = "|"$/, ""); print; exit }' Cargo.lock
}

# Whether the workspace has a package of that name.
has_package() {
  grep -q "\"name\":\"$1\"" <<<"$WORKSPACE_PACKAGES"
}

# Runs a test command, keeping its output (labelled with the suite's name) for the final count.
run_tests() {
  local suite=$1
  shift
  echo "+ $*"
  echo "test-all: suite $suite" >>"$TEST_LOG"
  "$@" 2>&1 | tee -a "$TEST_LOG"
}

run() {
  echo "+ $*"
  "$@"
}

# The web page: a crate in web/ (built by Trunk) with its end-to-end tests in tests/browser.
WEB_CRATE=0
[ -f web/Cargo.toml ] && [ -f web/index.html ] && WEB_CRATE=1
E2E=0
[ -f tests/browser/package.json ] && E2E=1

# ---------------------------------------------------------------------------------------------
step "1  install what the tests need"

command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup first (https://rustup.rs)"
command -v rustup >/dev/null 2>&1 || die "rustup not found: the wasm32 target and components are installed through it"
[ -f Cargo.lock ] || die "Cargo.lock is missing (it pins wasm-bindgen; restore it from git)"
rustc --version
cargo --version

installed_components=$(rustup component list --installed)
for component in rustfmt clippy; do
  if grep -q "^$component" <<<"$installed_components"; then
    echo "$component: present"
  else
    run rustup component add "$component"
  fi
done

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "wasm32-unknown-unknown target: present"
else
  run rustup target add wasm32-unknown-unknown
fi

# Debian packages: headless browser and driver for the wasm and end-to-end tests; a C compiler
# (bundled SQLite); ser2net (the serial-to-network bridge that the serial crate's socket:// and
# rfc2217:// tests and scripts/bench-provision.sh run against); node and npm for the web page's
# tools and end-to-end tests. apt-get update only when something is missing. (No libudev: port
# details come from sysfs.)
apt_packages=()
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_packages+=(chromium-driver)
command -v cc >/dev/null 2>&1 || apt_packages+=(gcc libc6-dev)
command -v ser2net >/dev/null 2>&1 || [ -x /usr/sbin/ser2net ] || apt_packages+=(ser2net)
# The shared inventory's tests run against a throw-away PostgreSQL 15 (initdb, pg_ctl, pg_dump).
[ -x /usr/lib/postgresql/15/bin/initdb ] && command -v pg_dump >/dev/null 2>&1 ||
  apt_packages+=(postgresql-15 postgresql-client-15)
if [ "$WEB_CRATE" = 1 ] || [ "$E2E" = 1 ]; then
  command -v node >/dev/null 2>&1 || apt_packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${apt_packages[*]} and no apt-get to install them"
  run as_root apt-get -o DPkg::Lock::Timeout=600 update -q
  run as_root apt-get -o DPkg::Lock::Timeout=600 install -y -q "${apt_packages[@]}"
else
  echo "Debian packages (chromium, chromium-driver, cc, ser2net, PostgreSQL 15, node/npm): present"
fi
CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
export CHROMEDRIVER
# (Debian's chromium wrapper prints a harmless "[: ... unexpected operator" on some machines.)
echo "browser: $(chromium --version 2>/dev/null) / driver: $("$CHROMEDRIVER" --version | cut -d' ' -f1-2)"

# The MSRV: `rust-version` of [workspace.package] in Cargo.toml (every crate inherits it), as a
# rustup toolchain name with its patch number ("1.89" -> "1.89.0", so that a toolchain installed
# as 1.89.0 counts as present). Minimal profile: `cargo check` needs neither clippy nor rustfmt.
MSRV=$(awk '/^\[/ { section = $0 } section == "[workspace.package]" && /^rust-version *=/ { gsub(/^rust-version *= *"|"$/, ""); print; exit }' Cargo.toml)
[ -n "$MSRV" ] || die "no rust-version in [workspace.package] of Cargo.toml"
[[ "$MSRV" =~ ^[0-9]+\.[0-9]+$ ]] && MSRV="$MSRV.0"
if rustup toolchain list | grep -q "^$MSRV-"; then
  echo "Rust $MSRV (MSRV): present"
else
  run rustup toolchain install "$MSRV" --profile minimal
fi
if rustup target list --installed --toolchain "$MSRV" | grep -qx wasm32-unknown-unknown; then
  echo "wasm32-unknown-unknown target for Rust $MSRV: present"
else
  run rustup target add --toolchain "$MSRV" wasm32-unknown-unknown
fi

WASM_BINDGEN_VERSION=$(lock_version wasm-bindgen)
[ -n "$WASM_BINDGEN_VERSION" ] || die "no wasm-bindgen entry in Cargo.lock"
have_wb=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
have_runner=$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_wb" = "$WASM_BINDGEN_VERSION" ] && [ "$have_runner" = "$WASM_BINDGEN_VERSION" ]; then
  echo "wasm-bindgen-cli $WASM_BINDGEN_VERSION: present"
else
  echo "wasm-bindgen-cli: have '${have_wb:-none}', Cargo.lock wants $WASM_BINDGEN_VERSION (takes a few minutes)"
  # Not --locked: the CLI's own lock file needs a newer rustc than ours.
  run cargo install --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" = "$CARGO_DENY_VERSION" ]; then
  echo "cargo-deny $CARGO_DENY_VERSION: present"
else
  echo "cargo-deny: installing $CARGO_DENY_VERSION (takes several minutes)"
  run cargo install --locked --force cargo-deny --version "$CARGO_DENY_VERSION"
fi

if [ "$WEB_CRATE" = 1 ]; then
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" = "$TRUNK_VERSION" ]; then
    echo "trunk $TRUNK_VERSION: present"
  else
    echo "trunk: installing $TRUNK_VERSION (takes several minutes)"
    run cargo install --locked --force trunk --version "$TRUNK_VERSION"
  fi
  if "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION\b"; then
    echo "wasm-opt (binaryen $BINARYEN_VERSION): present"
  else
    run npm install --no-audit --no-fund --no-save --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION"
  fi
  export PATH="$TOOLS_DIR/node_modules/.bin:$PATH"
  echo "wasm-opt: $(wasm-opt --version)"
else
  echo "web crate (web/Cargo.toml + web/index.html) not present yet: trunk and binaryen not needed"
fi

if [ "$E2E" = 1 ]; then
  # playwright-core at the version of tests/browser/package-lock.json (it drives /usr/bin/chromium;
  # no browser download).
  want_pw=$(node -p 'require("./tests/browser/package-lock.json").packages["node_modules/playwright-core"].version')
  have_pw=$(node -p 'require("./tests/browser/node_modules/playwright-core/package.json").version' 2>/dev/null || true)
  if [ "$have_pw" = "$want_pw" ]; then
    echo "playwright-core $want_pw (tests/browser): present"
  else
    (cd tests/browser && run npm ci --no-audit --no-fund)
  fi
fi

WORKSPACE_PACKAGES=$(cargo metadata --no-deps --format-version 1 --offline 2>/dev/null ||
  cargo metadata --no-deps --format-version 1)

# ---------------------------------------------------------------------------------------------
step "2a cargo fmt --all -- --check"
run cargo fmt --all -- --check

step "2b cargo clippy -D warnings (workspace; core and web on wasm32)"
run cargo clippy --workspace --all-targets -- -D warnings
# The wasm-only code paths (browser tests, the futures-timer/wasm-bindgen feature) of the core.
run cargo clippy -p ryz014-core --target wasm32-unknown-unknown --lib --tests --all-features -- -D warnings
if has_package ryz014-web; then
  run cargo clippy -p ryz014-web --target wasm32-unknown-unknown --all-targets -- -D warnings
else
  echo "ryz014-web: not present yet (no wasm32 clippy for it)"
fi

step "2c cargo +$MSRV check --locked (MSRV; native and wasm32)"
# The oldest Rust the workspace builds with: rust-version in Cargo.toml, which must be at least
# the highest rust-version among the locked dependencies (rusqlite 0.43 asks for 1.89).
run cargo "+$MSRV" check --locked --workspace --all-targets
# On wasm32 the flags come from .cargo/config.toml ([target.wasm32-unknown-unknown] rustflags,
# `--cfg=web_sys_unstable_apis`), as for the clippy and test runs of this script.
run cargo "+$MSRV" check --locked -p ryz014-core --target wasm32-unknown-unknown --lib --tests --all-features
if has_package ryz014-web; then
  run cargo "+$MSRV" check --locked -p ryz014-web --target wasm32-unknown-unknown --all-targets
else
  echo "ryz014-web: not present yet (no wasm32 MSRV check for it)"
fi

step "2d cargo deny check licenses bans (deny.toml)"
# Offline: the advisory database cannot be fetched here, so only the licenses and the banned
# (duplicate) versions are checked, against the crates Cargo.lock names. cargo-deny reads every
# locked crate's manifest, including target-only ones no build here downloads (e.g. fiat-crypto
# under curve25519-dalek): fetch them first (a no-op when the registry cache has them).
run cargo fetch --locked
run cargo deny --locked --offline check licenses bans

# ---------------------------------------------------------------------------------------------
step "3  cargo test --workspace (native, with the CLI end-to-end tests)"
# The CLI's end-to-end tests start the simulator binary on a pseudo-terminal: build it first.
run cargo build -p ryz014-sim --bins
# A throw-away PostgreSQL for the shared inventory's tests (stopped and deleted at exit); the
# tests fail rather than skip when RYZ014_REQUIRE_POSTGRES is set.
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ryz014-pg.XXXXXX")
RYZ014_TEST_POSTGRES=$(PG_BIN=/usr/lib/postgresql/15/bin scripts/pg-throwaway.sh start "$PG_DIR")
export RYZ014_TEST_POSTGRES RYZ014_REQUIRE_POSTGRES=1
echo "PostgreSQL for the tests: $RYZ014_TEST_POSTGRES"
run_tests "native: cargo test --workspace" cargo test --workspace
scripts/pg-throwaway.sh stop "$PG_DIR"
PG_DIR=
unset RYZ014_TEST_POSTGRES RYZ014_REQUIRE_POSTGRES

# ---------------------------------------------------------------------------------------------
step "4  wasm32 tests in headless Chromium (core; web)"
# The runner (.cargo/config.toml) uses the first driver it finds in GECKODRIVER, SAFARIDRIVER,
# CHROMEDRIVER: keep only Chromium's. Browser flags: each crate's webdriver.json.
unset GECKODRIVER SAFARIDRIVER WASM_BINDGEN_USE_NO_MODULE WASM_BINDGEN_TEST_ONLY_NODE
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
run cargo build -p ryz014-core --target wasm32-unknown-unknown
# --tests: the library's unit tests and every file in tests/ (doc tests are native-only).
run_tests "wasm32: ryz014-core in Chromium" cargo test -p ryz014-core --target wasm32-unknown-unknown --tests
if has_package ryz014-web; then
  run_tests "wasm32: ryz014-web in Chromium" cargo test -p ryz014-web --target wasm32-unknown-unknown
else
  echo "ryz014-web: not present yet (no wasm32 tests for it)"
  SKIPPED+=("wasm32 tests of ryz014-web (web/Cargo.toml)")
fi

# ---------------------------------------------------------------------------------------------
DIST=""
BUDGET_ERROR=""
if [ "$WEB_CRATE" = 1 ]; then
  step "5  trunk build --release (web page; budget 350 KB gzipped wasm+JS)"
  # The root Trunk.toml points at web/index.html. The page goes to a folder of this run (not
  # Trunk.toml's web/dist), so that a `trunk build`/`trunk serve` running meanwhile in the same
  # tree cannot race with it (Trunk stages its output inside the dist folder).
  DIST="$LOG_DIR/dist"
  run trunk build --release --dist "$DIST"
  shopt -s nullglob
  assets=("$DIST"/*.wasm "$DIST"/*.js)
  shopt -u nullglob
  [ "${#assets[@]}" -gt 0 ] || die "trunk build left no .wasm/.js in $DIST"
  total=0
  for f in "${assets[@]}"; do
    raw=$(stat -c %s "$f")
    gz=$(gzip -9 -c "$f" | wc -c)
    total=$((total + gz))
    printf '  %-50s %9d bytes, %8d gzipped\n' "$f" "$raw" "$gz"
  done
  BUDGET=$((350 * 1024)) # 350 KB (KiB, as web/build.sh counts)
  WEB_SIZE="$(awk -v t="$total" 'BEGIN { printf "%.1f KB", t / 1024 }') gzipped wasm+JS (budget 350 KB)"
  echo "web page: $WEB_SIZE"
  if [ "$total" -gt "$BUDGET" ]; then
    # Reported (and failing the run) after the end-to-end tests, which still tell us something.
    BUDGET_ERROR="the web page is $total bytes gzipped (wasm+JS), over the budget of $BUDGET bytes"
    echo "test-all: ERROR: $BUDGET_ERROR (the run fails after the end-to-end tests)" >&2
  fi
else
  echo
  echo "=== 5  trunk build: web page (web/Cargo.toml + web/index.html) not present yet"
  SKIPPED+=("trunk build --release and its size budget (web/Cargo.toml + web/index.html)")
fi

# ---------------------------------------------------------------------------------------------
if [ "$E2E" = 1 ] && [ -n "$DIST" ]; then
  step "6  browser end-to-end tests (tests/browser, playwright-core + Chromium)"
  export E2E_SCREENSHOTS="${CARGO_TARGET_DIR:-$ROOT/target}/e2e-screenshots"
  run_tests "browser end-to-end (tests/browser)" node tests/browser/run.mjs --dist "$DIST"
  echo "screenshots: $E2E_SCREENSHOTS"
else
  echo
  echo "=== 6  browser end-to-end: not present yet (needs tests/browser and a built web page)"
  SKIPPED+=("browser end-to-end tests (tests/browser on the built page)")
fi

if [ -n "$BUDGET_ERROR" ]; then
  step "5b web page size budget"
  die "$BUDGET_ERROR"
fi
