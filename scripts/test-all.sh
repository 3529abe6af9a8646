#!/usr/bin/env bash
# Runs every test of the ryz014 workspace, installing what it needs first.
#
#   scripts/test-all.sh
#
# Works on a fresh Debian machine with a Rust toolchain (rustup) and nothing else installed by
# hand: run it as root (or with sudo available) the first time, non-interactively. Idempotent:
# every install step is skipped when the tool is already present at the right version.
#
# Steps:
#   1. installs: rustfmt/clippy, the wasm32 target, wasm-bindgen-cli at the Cargo.lock version,
#      Debian's chromium + chromium-driver (and the C/udev build deps of the serial crate);
#      trunk + binaryen's wasm-opt only when web/ exists
#   2. cargo fmt --check; cargo clippy (native workspace, and the core for wasm32)
#   3. cargo test --workspace (native)
#   4. the core for wasm32-unknown-unknown: build, then its tests in headless Chromium
#   5. later stages (CLI end-to-end, trunk build, browser end-to-end): TODO, not run yet
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
NOT_RUN=()

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

# Sums libtest's (and wasm-bindgen-test-runner's) "test result: ... N passed; M failed" lines.
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
  if [ "${#NOT_RUN[@]}" -gt 0 ]; then
    echo "Not run (TODO, see scripts/test-all.sh step 5):"
    printf '  %s\n' "${NOT_RUN[@]}"
  fi
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

# Runs a cargo test command, keeping its output for the final count.
cargo_test() {
  echo "+ $*"
  "$@" 2>&1 | tee -a "$TEST_LOG"
}

run() {
  echo "+ $*"
  "$@"
}

# ---------------------------------------------------------------------------------------------
step "1  install what the tests need"

command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup first (https://rustup.rs)"
command -v rustup >/dev/null 2>&1 || die "rustup not found: the wasm32 target and components are installed through it"
[ -f Cargo.lock ] || die "Cargo.lock is missing (it pins wasm-bindgen; restore it from git)"
rustc --version
cargo --version

installed_components=$(rustup component list --installed)
for component in rustfmt clippy; do
  if ! grep -q "^$component" <<<"$installed_components"; then
    run rustup component add "$component"
  fi
done

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "wasm32-unknown-unknown target: present"
else
  run rustup target add wasm32-unknown-unknown
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

# Debian packages: headless browser and driver for the wasm tests; a C compiler (bundled SQLite)
# and libudev (serial port details) for ryz014-serial.
apt_packages=()
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_packages+=(chromium-driver)
command -v cc >/dev/null 2>&1 || apt_packages+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || apt_packages+=(pkg-config)
pkg-config --exists libudev 2>/dev/null || apt_packages+=(libudev-dev)
if [ -d web ] && ! command -v npm >/dev/null 2>&1; then apt_packages+=(nodejs npm); fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${apt_packages[*]} and no apt-get to install them"
  run as_root apt-get update -q
  run as_root apt-get install -y -q "${apt_packages[@]}"
else
  echo "Debian packages (chromium, chromium-driver, cc, pkg-config, libudev-dev): present"
fi
CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
export CHROMEDRIVER
# (Debian's chromium wrapper prints a harmless "[: ... unexpected operator" on some machines.)
echo "browser: $(chromium --version 2>/dev/null) / driver: $("$CHROMEDRIVER" --version | cut -d' ' -f1-2)"

if [ -d web ]; then
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" = "$TRUNK_VERSION" ]; then
    echo "trunk $TRUNK_VERSION: present"
  else
    run cargo install --locked --force trunk --version "$TRUNK_VERSION"
  fi
  if "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION\b"; then
    echo "wasm-opt (binaryen $BINARYEN_VERSION): present"
  else
    run npm install --no-audit --no-fund --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION"
  fi
  export PATH="$TOOLS_DIR/node_modules/.bin:$PATH"
  wasm-opt --version
else
  echo "web/ not present: trunk and binaryen not needed yet"
fi

# ---------------------------------------------------------------------------------------------
step "2a cargo fmt --all -- --check"
run cargo fmt --all -- --check

step "2b cargo clippy -D warnings (workspace; core on wasm32)"
run cargo clippy --workspace --all-targets -- -D warnings
# The wasm-only code paths (browser tests, the futures-timer/wasm-bindgen feature) of the core.
run cargo clippy -p ryz014-core --target wasm32-unknown-unknown --lib --tests --all-features -- -D warnings

# ---------------------------------------------------------------------------------------------
step "3  cargo test --workspace (native)"
cargo_test cargo test --workspace

# ---------------------------------------------------------------------------------------------
step "4a cargo build -p ryz014-core --target wasm32-unknown-unknown"
run cargo build -p ryz014-core --target wasm32-unknown-unknown

step "4b core tests on wasm32 in headless Chromium"
# The runner (.cargo/config.toml) uses the first driver it finds in GECKODRIVER, SAFARIDRIVER,
# CHROMEDRIVER: keep only Chromium's. Browser flags: crates/ryz014-core/webdriver.json.
unset GECKODRIVER SAFARIDRIVER WASM_BINDGEN_USE_NO_MODULE WASM_BINDGEN_TEST_ONLY_NODE
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
# --tests: the library's unit tests and every file in tests/ (doc tests are native-only).
cargo_test cargo test -p ryz014-core --target wasm32-unknown-unknown --tests

# ---------------------------------------------------------------------------------------------
# 5. Later stages. Each block runs only once its part exists; until it is wired, it runs nothing
# and is listed as "not run" in the summary (never counted as passed).

if [ -d tests/cli ]; then
  # TODO(cli-e2e): the ryz014 CLI end to end against ryz014-sim on a pseudo-terminal, e.g.
  #   cargo build --release -p ryz014-serial -p ryz014-sim && tests/cli/run.sh
  NOT_RUN+=("CLI end-to-end (tests/cli exists, not wired yet)")
fi

if [ -d web ]; then
  # TODO(web-build): PATH has wasm-bindgen (Cargo.lock version) and binaryen's wasm-opt; Trunk.toml pins both:
  #   (cd web && trunk build --release)
  NOT_RUN+=("trunk build --release (web/ exists, not wired yet)")
fi

if [ -d tests/e2e ]; then
  # TODO(browser-e2e): playwright-core from npm, Chromium at /usr/bin/chromium:
  #   (cd tests/e2e && npm ci --no-audit --no-fund && node run.mjs)
  NOT_RUN+=("browser end-to-end with playwright (tests/e2e exists, not wired yet)")
fi
