#!/usr/bin/env bash
# Work-order intake benchmark of issue 4 on both stores: 100 000 customers, 50 concurrent
# keep-alive clients over loopback posting POST /api/v1/work-orders for 20 s, then as many plain
# single-row INSERTs (one transaction each) into a scratch table of the same store as baseline.
# Each run builds a fresh store and removes it.
#
#   bench/intake.sh                 # both stores
#   STORES=sqlite bench/intake.sh   # one store
#   CUSTOMERS=10000 DURATION=5s bench/intake.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS=${CUSTOMERS:-100000}
CONCURRENCY=${CONCURRENCY:-50}
DURATION=${DURATION:-20s}
STORES=${STORES:-"sqlite postgres"}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}

cargo build --release -p kefu
KEFU=${CARGO_TARGET_DIR:-target}/release/kefu

for store in $STORES; do
  args=(bench intake --customers "$CUSTOMERS" --concurrency "$CONCURRENCY" --duration "$DURATION")
  # The URL may hold a password: it is passed on, never echoed.
  echo "## $store: kefu ${args[*]}$([ "$store" = postgres ] && echo ' --database-url $PG_URL')" >&2
  if [ "$store" = postgres ]; then
    args+=(--database-url "$PG_URL")
  fi
  KEFU_LOG=${KEFU_LOG:-warn} "$KEFU" "${args[@]}"
done
