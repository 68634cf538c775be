#!/usr/bin/env bash
# Browser tests: Debian's Chromium driven by playwright-core against a real `kefu serve --demo`.
# Installs Chromium and a CJK font when missing (root on Debian), then runs node's test runner.
set -euo pipefail
cd "$(dirname "$0")"

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kefu-target}"
cargo build -p kefu --locked
export KEFU_BIN="$CARGO_TARGET_DIR/debug/kefu"
export KEFU_SCREENSHOTS="${KEFU_SCREENSHOTS:-$PWD/test-results}"
mkdir -p "$KEFU_SCREENSHOTS"
node --test --test-concurrency=1 tests/
