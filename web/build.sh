#!/usr/bin/env bash
# Builds the web page for release: web/dist/ (index.html, boot.js, style.css, the .wasm and its
# JS glue), then prints the gzipped size of the wasm + JS against the 350 KB budget.
#
#   web/build.sh [DIR]      # output to DIR (default web/dist, as Trunk.toml says); needs
#                           # trunk 0.21.14, wasm-bindgen-cli at the
#                           # Cargo.lock version, and binaryen's wasm-opt 132 (npm binaryen@132,
#                           # looked up in target/tools/node_modules/.bin first)
#
# Size: web/index.html builds with the workspace's `web-release` profile (opt-level z, fat LTO,
# one codegen unit): about 300 KB gzipped, against 430 KB with the default release profile.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOOLS_DIR="${CARGO_TARGET_DIR:-$PWD/target}/tools"
export PATH="$TOOLS_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"
DIST="${1:-web/dist}"
trunk build --release --dist "$DIST"
budget=$((350 * 1024))
total=0
for f in "$DIST"/*.wasm "$DIST"/*.js; do
  n=$(gzip -9 -c "$f" | wc -c)
  total=$((total + n))
  printf '  %-28s %8d bytes, %7d gzipped\n' "$(basename "$f")" "$(wc -c <"$f")" "$n"
done
printf 'web: wasm + JS gzipped: %d bytes (%d KB; budget %d KB)\n' "$total" $((total / 1024)) $((budget / 1024))
if [ "$total" -gt "$budget" ]; then
  echo "web: over the size budget" >&2
  exit 1
fi
